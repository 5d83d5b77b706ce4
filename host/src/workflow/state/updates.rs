//! Workflow updates, in both worlds. Every update must be accepted or
//! rejected in the activation that delivered it, and completed (or failed)
//! after it was accepted; one of a name the guest has no handler for is
//! rejected, as the Temporal SDKs do.
//!
//! A blocking guest waits for updates by name (`next-update`), so the host
//! accepts one whose name it asked for and answers with its result by
//! handle; an activation-based guest gets each update as a job and answers
//! it by protocol id ([`Open`]).

use crate::bindings::types::{Failure, Payload};
use crate::payload;
use crate::temporal::proto::workflow_commands::update_response::Response;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// An update answer: to the update of this protocol id.
pub(super) type Answer = (String, Response);

/// The rejection of an update no handler takes.
pub(super) fn not_registered(name: &str) -> Response {
    Response::Rejected(payload::failure_from_wit(payload::non_retryable_failure(
        format!("this workflow handles no update named `{name}`"),
        "UpdateNotRegistered",
    )))
}

/// The response carrying an update's outcome.
fn completion(outcome: Result<Payload, Failure>) -> Response {
    match outcome {
        Ok(value) => Response::Completed(payload::from_wit(value)),
        Err(failure) => Response::Rejected(payload::failure_from_wit(failure)),
    }
}

/// An update a blocking run received, and how far its answer got.
#[derive(Debug)]
struct Update {
    name: String,
    protocol_instance_id: String,
    input: Payload,
    /// Accepted (or rejected) already: only completion is left.
    settled: bool,
}

/// A blocking run's updates.
#[derive(Debug, Default)]
pub(super) struct Updates {
    /// Update names the guest asked for: it has a handler for them.
    names: BTreeSet<String>,
    /// Updates not picked up yet, in arrival order.
    queued: VecDeque<Update>,
    /// Updates picked up, by handle.
    picked: BTreeMap<u32, Update>,
    /// Handles waiting for an update, per name.
    waiters: BTreeMap<String, VecDeque<u32>>,
}

impl Updates {
    /// History delivered an update: the oldest waiter of its name to
    /// resolve with its input, or `None` (queued).
    pub(super) fn deliver(
        &mut self,
        name: &str,
        id: &str,
        input: Payload,
    ) -> Option<(u32, Payload)> {
        let update = Update {
            name: name.to_owned(),
            protocol_instance_id: id.to_owned(),
            input,
            settled: false,
        };
        match self.waiters.get_mut(name).and_then(VecDeque::pop_front) {
            Some(h) => Some((h, self.pick(h, update))),
            None => {
                self.queued.push_back(update);
                None
            }
        }
    }

    fn pick(&mut self, h: u32, update: Update) -> Payload {
        let input = update.input.clone();
        self.picked.insert(h, update);
        input
    }

    /// The guest waits for the next update of `name` with handle `h`: the
    /// input of the oldest queued one, or `None` (`h` waits).
    pub(super) fn next(&mut self, name: String, h: u32) -> Option<Payload> {
        self.names.insert(name.clone());
        match self.queued.iter().position(|u| u.name == name) {
            Some(i) => {
                let update = self.queued.remove(i).expect("position is in range");
                Some(self.pick(h, update))
            }
            None => {
                self.waiters.entry(name).or_default().push_back(h);
                None
            }
        }
    }

    /// `h` stops waiting (cancelled).
    pub(super) fn forget(&mut self, h: u32) {
        for waiters in self.waiters.values_mut() {
            waiters.retain(|&w| w != h);
        }
    }

    /// Answer every update delivered since the last call: accept those of a
    /// name the guest handles, reject (and drop) the rest.
    pub(super) fn settle(&mut self) -> Vec<Answer> {
        let mut unsettled: Vec<(String, String)> = Vec::new();
        for u in self.queued.iter_mut().chain(self.picked.values_mut()) {
            if !u.settled {
                u.settled = true;
                unsettled.push((u.name.clone(), u.protocol_instance_id.clone()));
            }
        }
        let mut answers = Vec::new();
        for (name, id) in unsettled {
            let response = if self.names.contains(&name) {
                Response::Accepted(())
            } else {
                self.queued.retain(|u| u.protocol_instance_id != id);
                not_registered(&name)
            };
            answers.push((id, response));
        }
        answers
    }

    /// The guest completes the update it picked up with `h`: its answers
    /// (accepted first if that was not said yet; a failure rejects).
    pub(super) fn complete(
        &mut self,
        h: u32,
        outcome: Result<Payload, Failure>,
    ) -> Result<Vec<Answer>, String> {
        let Some(update) = self.picked.remove(&h) else {
            return Err(format!(
                "complete-update: handle {h} is not a received, unanswered update"
            ));
        };
        let id = update.protocol_instance_id;
        Ok(match outcome {
            Ok(value) => {
                let mut answers = Vec::new();
                if !update.settled {
                    answers.push((id.clone(), Response::Accepted(())));
                }
                answers.push((id, completion(Ok(value))));
                answers
            }
            Err(failure) => vec![(id, completion(Err(failure)))],
        })
    }
}

/// An update delivered to an activation-based guest.
#[derive(Debug)]
struct OpenUpdate {
    name: String,
    /// Accepted (it may still complete later).
    accepted: bool,
    /// Delivered in the current activation: it must be accepted or
    /// rejected before the activation completes.
    new: bool,
}

/// An activation-based run's updates accepted or not yet answered, by id.
#[derive(Debug, Default)]
pub(super) struct Open(BTreeMap<String, OpenUpdate>);

impl Open {
    /// History delivered update `id`: the guest must answer it in this
    /// activation.
    pub(super) fn open(&mut self, id: &str, name: &str) {
        self.0.insert(
            id.to_owned(),
            OpenUpdate {
                name: name.to_owned(),
                accepted: false,
                new: true,
            },
        );
    }

    fn get(&mut self, id: &str, what: &str) -> Result<&mut OpenUpdate, String> {
        self.0
            .get_mut(id)
            .ok_or_else(|| format!("{what}: `{id}` is not an update this run has open"))
    }

    /// The guest accepts update `id`, once.
    pub(super) fn accept(&mut self, id: &str) -> Result<Response, String> {
        let update = self.get(id, "accept-update")?;
        if update.accepted {
            return Err(format!("accept-update: update `{id}` is accepted already"));
        }
        update.accepted = true;
        Ok(Response::Accepted(()))
    }

    /// The guest rejects update `id`, which it has not accepted.
    pub(super) fn reject(&mut self, id: &str, failure: Failure) -> Result<Response, String> {
        if self.get(id, "reject-update")?.accepted {
            return Err(format!(
                "reject-update: update `{id}` is accepted already: complete it with a failure"
            ));
        }
        self.0.remove(id);
        Ok(Response::Rejected(payload::failure_from_wit(failure)))
    }

    /// The guest completes update `id`: its responses (accepted first if
    /// it was not).
    pub(super) fn complete(
        &mut self,
        id: &str,
        outcome: Result<Payload, Failure>,
    ) -> Result<Vec<Response>, String> {
        let mut responses = Vec::new();
        if !self.get(id, "complete-update")?.accepted {
            responses.push(Response::Accepted(()));
        }
        self.0.remove(id);
        responses.push(completion(outcome));
        Ok(responses)
    }

    /// Reject every update of this activation the guest neither accepted
    /// nor rejected (it has no handler for it).
    pub(super) fn reject_unanswered(&mut self) -> Vec<Answer> {
        let mut unanswered = Vec::new();
        self.0.retain(|id, u| {
            let answered = !u.new || u.accepted;
            u.new = false;
            if !answered {
                unanswered.push((id.clone(), not_registered(&u.name)));
            }
            answered
        });
        unanswered
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::state::raw_payload as p;

    fn kinds(answers: &[Answer]) -> Vec<(&str, &str)> {
        answers
            .iter()
            .map(|(id, r)| (id.as_str(), kind(r)))
            .collect()
    }

    fn kind(r: &Response) -> &'static str {
        match r {
            Response::Accepted(()) => "accepted",
            Response::Rejected(_) => "rejected",
            Response::Completed(_) => "completed",
        }
    }

    #[test]
    fn an_update_before_its_waiter_is_queued_then_accepted_once_asked_for() {
        let mut u = Updates::default();
        assert_eq!(u.deliver("inc", "u1", p("1")), None);
        assert_eq!(u.next("inc".into(), 7), Some(p("1")));
        assert_eq!(kinds(&u.settle()), [("u1", "accepted")]);
        assert!(u.settle().is_empty(), "answered once");
        let done = u.complete(7, Ok(p("2"))).expect("picked");
        assert_eq!(kinds(&done), [("u1", "completed")], "accepted already");
        assert!(u.complete(7, Ok(p("2"))).is_err(), "completed once");
    }

    #[test]
    fn a_waiting_handle_takes_the_update_and_unhandled_names_are_rejected() {
        let mut u = Updates::default();
        assert_eq!(u.next("inc".into(), 3), None);
        assert_eq!(u.deliver("inc", "u1", p("1")), Some((3, p("1"))));
        assert_eq!(u.deliver("other", "u2", p("2")), None);
        assert_eq!(
            kinds(&u.settle()),
            [("u2", "rejected"), ("u1", "accepted")],
            "queued ones first, then picked ones"
        );
        assert_eq!(u.next("other".into(), 4), None, "the rejected one is gone");
    }

    #[test]
    fn completing_before_settling_accepts_first_and_a_failure_only_rejects() {
        let mut u = Updates::default();
        u.next("a".into(), 1);
        u.next("a".into(), 2);
        u.deliver("a", "x", p(""));
        u.deliver("a", "y", p(""));
        let done = u.complete(1, Ok(p("ok"))).expect("picked");
        assert_eq!(kinds(&done), [("x", "accepted"), ("x", "completed")]);
        let failed = payload::non_retryable_failure("no", "Invalid");
        let done = u.complete(2, Err(failed)).expect("picked");
        assert_eq!(kinds(&done), [("y", "rejected")]);
        assert!(u.settle().is_empty());
    }

    #[test]
    fn a_cancelled_waiter_is_skipped() {
        let mut u = Updates::default();
        u.next("a".into(), 1);
        u.next("a".into(), 2);
        u.forget(1);
        assert_eq!(u.deliver("a", "x", p("")), Some((2, p(""))));
    }

    #[test]
    fn open_updates_are_answered_in_order_and_unanswered_ones_rejected() {
        let mut o = Open::default();
        for id in ["a", "b", "c", "d"] {
            o.open(id, "inc");
        }
        assert_eq!(kind(&o.accept("a").expect("open")), "accepted");
        let e = o.accept("a").expect_err("twice");
        assert_eq!(e, "accept-update: update `a` is accepted already");
        let failure = payload::non_retryable_failure("negative", "Invalid");
        assert_eq!(
            kind(&o.reject("b", failure.clone()).expect("open")),
            "rejected"
        );
        let e = o.accept("b").expect_err("closed");
        assert_eq!(e, "accept-update: `b` is not an update this run has open");
        let c: Vec<_> = o
            .complete("c", Ok(p("")))
            .expect("open")
            .iter()
            .map(kind)
            .collect();
        assert_eq!(c, ["accepted", "completed"]);
        let e = o.reject("a", failure).expect_err("accepted");
        assert!(e.contains("complete it with a failure"), "{e}");
        assert_eq!(kinds(&o.reject_unanswered()), [("d", "rejected")]);
        assert!(o.reject_unanswered().is_empty(), "a stays open, not new");
        let a: Vec<_> = o
            .complete("a", Ok(p("")))
            .expect("open")
            .iter()
            .map(kind)
            .collect();
        assert_eq!(a, ["completed"], "an accepted update completes later");
    }
}
