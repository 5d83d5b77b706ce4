//! The handles of one run: what the guest started or waits on, each known
//! by its command seq, and its outcome once history resolved it.
//!
//! Seqs are never reused (core and history know commands by them), and a
//! handle is freed when the guest takes its outcome, so what a run holds
//! depends only on the guest's calls, never on timing.

use super::{MAX_HANDLES_PER_RUN, Outcome};
use std::collections::BTreeMap;

/// What a handle stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleKind {
    /// A scheduled activity.
    Activity,
    /// A local activity.
    LocalActivity,
    /// A started timer.
    Timer,
    /// The next signal of a name.
    Signal,
    /// The run's cancellation.
    Cancellation,
    /// A child workflow's result.
    Child,
    /// A signal sent to another workflow.
    ExternalSignal,
    /// A cancellation request sent to another workflow.
    ExternalCancel,
    /// An update received.
    Update,
}

#[derive(Debug)]
struct Slot {
    kind: HandleKind,
    outcome: Option<Outcome>,
}

/// The live handles of a run and the next seq.
#[derive(Debug)]
pub(super) struct Handles {
    /// The next handle (and command seq).
    next_seq: u32,
    /// Live handles: created and not yet consumed.
    slots: BTreeMap<u32, Slot>,
}

impl Default for Handles {
    fn default() -> Handles {
        Handles {
            next_seq: 1,
            slots: BTreeMap::new(),
        }
    }
}

impl Handles {
    /// The next seq, and the limit taking it broke: a run that has used all
    /// four billion breaks the handle limit instead of wrapping.
    pub(super) fn take_seq(&mut self) -> (u32, Option<String>) {
        let seq = self.next_seq;
        match seq.checked_add(1) {
            Some(next) => {
                self.next_seq = next;
                (seq, None)
            }
            None => (
                seq,
                Some(format!(
                    "all {} handle numbers of one run used (weft's handle limit)",
                    u32::MAX - 1
                )),
            ),
        }
    }

    /// A new handle of `kind` (already resolved when `outcome` is given),
    /// and the limit making it broke, if any. It is made either way: the
    /// guest traps when its call returns.
    pub(super) fn open(
        &mut self,
        kind: HandleKind,
        outcome: Option<Outcome>,
    ) -> (u32, Option<String>) {
        let full = (self.slots.len() >= MAX_HANDLES_PER_RUN).then(|| {
            format!("more than {MAX_HANDLES_PER_RUN} live handles in one run (weft's handle limit)")
        });
        let (seq, exhausted) = self.take_seq();
        self.slots.insert(seq, Slot { kind, outcome });
        (seq, full.or(exhausted))
    }

    /// History resolved handle `seq` of `kind`. With `hand_over` (an
    /// activation-based guest takes outcomes in `resolved` jobs) the slot
    /// is freed and the outcome returned for delivery; otherwise it waits
    /// in the slot for `result`. A handle this run never created, of
    /// another kind, or resolved already means the guest is out of step
    /// with history.
    pub(super) fn resolve(
        &mut self,
        kind: HandleKind,
        seq: u32,
        outcome: Outcome,
        hand_over: bool,
    ) -> Result<Option<Outcome>, String> {
        match self.slots.get_mut(&seq) {
            Some(slot) if slot.kind == kind && hand_over => {
                self.slots.remove(&seq);
                Ok(Some(outcome))
            }
            Some(slot) if slot.kind == kind && slot.outcome.is_none() => {
                slot.outcome = Some(outcome);
                Ok(None)
            }
            _ => Err(format!(
                "history resolves {kind:?} {seq}, which this run has not started"
            )),
        }
    }

    /// Give live handle `h` its outcome; the outcome back if `h` is gone.
    pub(super) fn fulfil(&mut self, h: u32, outcome: Outcome) -> Result<(), Outcome> {
        match self.slots.get_mut(&h) {
            Some(slot) => {
                slot.outcome = Some(outcome);
                Ok(())
            }
            None => Err(outcome),
        }
    }

    /// Resolve every unresolved handle of `kind` with `outcome()`.
    pub(super) fn fulfil_all(&mut self, kind: HandleKind, outcome: impl Fn() -> Outcome) {
        for slot in self.slots.values_mut() {
            if slot.kind == kind && slot.outcome.is_none() {
                slot.outcome = Some(outcome());
            }
        }
    }

    /// True for a handle this run created and has since consumed.
    pub(super) fn consumed(&self, h: u32) -> bool {
        h != 0 && h < self.next_seq && !self.slots.contains_key(&h)
    }

    /// `h` is live, or why the guest may not use it.
    pub(super) fn check(&self, h: u32) -> Result<(), String> {
        if self.slots.contains_key(&h) {
            Ok(())
        } else if self.consumed(h) {
            Err(format!(
                "guest used handle {h} after taking its result (`result` consumes a handle)"
            ))
        } else {
            Err(format!("guest used unknown handle {h}"))
        }
    }

    /// Whether live handle `h` has its outcome.
    pub(super) fn ready(&self, h: u32) -> Result<bool, String> {
        self.check(h)?;
        Ok(self.slots[&h].outcome.is_some())
    }

    /// The kind of `h` if cancelling it can still change something; `None`
    /// for a handle that is done (consumed, or resolved and not taken).
    pub(super) fn cancellable(&self, h: u32) -> Result<Option<HandleKind>, String> {
        if self.consumed(h) {
            return Ok(None);
        }
        self.check(h)?;
        let slot = &self.slots[&h];
        Ok(slot.outcome.is_none().then_some(slot.kind))
    }

    /// Take the outcome of `h`, freeing its slot; `None` while it has none.
    pub(super) fn take(&mut self, h: u32) -> Result<Option<Outcome>, String> {
        if !self.ready(h)? {
            return Ok(None);
        }
        Ok(self.slots.remove(&h).and_then(|slot| slot.outcome))
    }

    /// Free `h` without taking its outcome (a child that did not start).
    pub(super) fn forget(&mut self, h: u32) {
        self.slots.remove(&h);
    }

    /// Live handles.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload;

    fn null() -> Outcome {
        Ok(payload::to_wit(payload::null()))
    }

    #[test]
    fn seqs_count_from_one_and_are_never_reused() {
        let mut h = Handles::default();
        let (a, _) = h.open(HandleKind::Timer, None);
        let (b, _) = h.open(HandleKind::Timer, Some(null()));
        assert_eq!((a, b), (1, 2));
        assert_eq!(h.take(b), Ok(Some(null())));
        let (c, broken) = h.open(HandleKind::Timer, None);
        assert_eq!(
            (c, broken),
            (3, None),
            "a freed seq is not handed out again"
        );
        assert_eq!(
            h.take_seq(),
            (4, None),
            "a bare seq (a backoff timer) counts too"
        );
    }

    #[test]
    fn the_last_seq_breaks_the_handle_limit_instead_of_wrapping() {
        let mut h = Handles {
            next_seq: u32::MAX,
            slots: BTreeMap::new(),
        };
        let (seq, broken) = h.take_seq();
        assert_eq!(seq, u32::MAX);
        assert!(broken.expect("broken").contains("handle numbers"));
    }

    #[test]
    fn a_handle_resolves_once_and_only_as_its_kind() {
        let mut h = Handles::default();
        let (t, _) = h.open(HandleKind::Timer, None);
        let e = h.resolve(HandleKind::Activity, t, null(), false);
        assert_eq!(
            e,
            Err("history resolves Activity 1, which this run has not started".into())
        );
        assert_eq!(h.resolve(HandleKind::Timer, t, null(), false), Ok(None));
        assert!(h.resolve(HandleKind::Timer, t, null(), false).is_err());
        assert!(h.resolve(HandleKind::Timer, 9, null(), false).is_err());
    }

    #[test]
    fn handed_over_outcomes_free_their_slot_at_once() {
        let mut h = Handles::default();
        let (t, _) = h.open(HandleKind::Timer, None);
        assert_eq!(
            h.resolve(HandleKind::Timer, t, null(), true),
            Ok(Some(null()))
        );
        assert_eq!(h.len(), 0);
        assert!(h.consumed(t));
        assert_eq!(h.cancellable(t), Ok(None), "cancelling it does nothing");
    }

    #[test]
    fn taking_an_outcome_consumes_the_handle() {
        let mut h = Handles::default();
        let (t, _) = h.open(HandleKind::Signal, None);
        assert_eq!(h.take(t), Ok(None), "pending");
        assert_eq!(h.cancellable(t), Ok(Some(HandleKind::Signal)));
        h.fulfil(t, null()).expect("live");
        assert_eq!(h.cancellable(t), Ok(None), "resolved already");
        assert_eq!(h.take(t), Ok(Some(null())));
        let e = h.take(t).expect_err("consumed");
        assert!(e.contains("after taking its result"), "{e}");
        let e = h.ready(t + 1).expect_err("never made");
        assert!(e.contains("unknown handle"), "{e}");
        assert!(!h.consumed(0), "0 is no handle");
        assert_eq!(
            h.fulfil(t, null()),
            Err(null()),
            "a gone handle hands it back"
        );
    }

    #[test]
    fn live_handles_are_bounded() {
        let mut h = Handles::default();
        for _ in 0..MAX_HANDLES_PER_RUN {
            assert_eq!(h.open(HandleKind::Signal, None).1, None);
        }
        let (_, broken) = h.open(HandleKind::Signal, None);
        assert!(broken.expect("broken").contains("live handles"));
    }

    #[test]
    fn fulfilling_all_of_a_kind_leaves_the_others() {
        let mut h = Handles::default();
        let (c, _) = h.open(HandleKind::Cancellation, None);
        let (t, _) = h.open(HandleKind::Timer, None);
        h.fulfil_all(HandleKind::Cancellation, null);
        assert_eq!(h.ready(c), Ok(true));
        assert_eq!(h.ready(t), Ok(false));
    }
}
