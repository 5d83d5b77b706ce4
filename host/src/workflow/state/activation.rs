//! The run state's part for activation-based guests: outcomes handed to
//! the guest as `resolved` jobs, updates answered by id, and read-only
//! queries. The `activation-host` imports are the blocking world's
//! non-blocking ones, on the shared records of `workflow-options`.

use super::*;
use crate::bindings::activation::weft::plugin::{activation_host, workflow_options as options};
use crate::workflow::convert;

/// What an activation-based run keeps beside the shared state.
#[derive(Debug, Default)]
pub(super) struct ActivationState {
    /// Outcomes not handed to the guest yet, in the order they came.
    resolutions: Vec<(u32, Outcome)>,
    /// Updates accepted or not yet answered.
    updates: updates::Open,
    /// The query handler, while one runs.
    query: queries::Handler,
}

impl RunState {
    /// State for a run of an activation-based guest.
    pub fn for_activations(info: WorkflowInfo, seed: u64) -> RunState {
        RunState {
            activation: Some(ActivationState::default()),
            ..RunState::new(info, seed)
        }
    }

    fn activation(&mut self) -> &mut ActivationState {
        self.activation
            .as_mut()
            .expect("activation-based state on an activation-based run")
    }

    pub(super) fn deliver(&mut self, handle: u32, outcome: Outcome) {
        self.activation().resolutions.push((handle, outcome));
    }

    /// Outcomes the guest has not seen, in the order history gave them.
    pub fn take_resolutions(&mut self) -> Vec<(u32, Outcome)> {
        std::mem::take(&mut self.activation().resolutions)
    }

    /// History delivered update `id`: the guest must answer it in this
    /// activation.
    pub fn open_update(&mut self, id: &str, name: &str) {
        self.activation().updates.open(id, name);
    }

    /// Reject every update of this activation the guest neither accepted
    /// nor rejected (it has no handler for it), as the SDKs do.
    pub fn reject_unanswered_updates(&mut self) {
        let answers = self.activation().updates.reject_unanswered();
        self.answer_updates(answers);
    }

    /// Enter (or leave) a query handler: a handler that starts anything
    /// fails its query instead of changing the run.
    pub fn set_in_query(&mut self, in_query: bool) {
        self.activation().query.set_running(in_query);
    }

    /// What the last query handler tried to do that a query may not.
    pub fn take_query_violation(&mut self) -> Option<String> {
        self.activation().query.take_violation()
    }

    /// True (and noted) when a query handler tries to `what`.
    pub(super) fn refuse_in_query(&mut self, what: &str) -> bool {
        self.activation
            .as_mut()
            .is_some_and(|a| a.query.refuse(what))
    }

    /// Answer open update `id` as `answer` says.
    fn answer_open_update(
        &mut self,
        id: String,
        answer: impl FnOnce(&mut updates::Open, &str) -> Result<Vec<update_response::Response>, String>,
    ) -> wasmtime::Result<()> {
        let responses =
            answer(&mut self.activation().updates, &id).map_err(wasmtime::Error::msg)?;
        let answers = responses.into_iter().map(|r| (id.clone(), r)).collect();
        self.answer_updates(answers);
        Ok(())
    }
}

impl activation_host::Host for RunHost {
    fn info(&mut self) -> wasmtime::Result<options::WorkflowInfo> {
        Ok(convert::info_for_activations(
            self.lock_state().info.clone(),
        ))
    }

    fn now(&mut self) -> wasmtime::Result<u64> {
        workflow_host::Host::now(self)
    }

    fn random(&mut self) -> wasmtime::Result<u64> {
        workflow_host::Host::random(self)
    }

    fn is_replaying(&mut self) -> wasmtime::Result<bool> {
        workflow_host::Host::is_replaying(self)
    }

    fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        workflow_host::Host::log(self, level, message)
    }

    fn start_activity(
        &mut self,
        activity_type: String,
        args: Vec<Payload>,
        o: options::ActivityOptions,
    ) -> wasmtime::Result<u32> {
        let o = convert::activity_options(o);
        workflow_host::Host::start_activity(self, activity_type, args, o)
    }

    fn start_local_activity(
        &mut self,
        activity_type: String,
        args: Vec<Payload>,
        o: options::LocalActivityOptions,
    ) -> wasmtime::Result<u32> {
        let o = convert::local_activity_options(o);
        workflow_host::Host::start_local_activity(self, activity_type, args, o)
    }

    fn start_timer(&mut self, duration_ms: u64) -> wasmtime::Result<u32> {
        workflow_host::Host::start_timer(self, duration_ms)
    }

    fn start_child(
        &mut self,
        workflow_type: String,
        args: Vec<Payload>,
        o: options::ChildOptions,
    ) -> wasmtime::Result<u32> {
        let o = convert::child_options(o);
        Ok(self.lock_state().start_child(workflow_type, args, o))
    }

    fn signal_workflow(
        &mut self,
        workflow_id: String,
        signal_name: String,
        args: Vec<Payload>,
    ) -> wasmtime::Result<u32> {
        workflow_host::Host::signal_workflow(self, workflow_id, signal_name, args)
    }

    fn cancel_workflow(&mut self, workflow_id: String) -> wasmtime::Result<u32> {
        workflow_host::Host::cancel_workflow(self, workflow_id)
    }

    /// A resolved handle is gone: cancelling it does nothing, as for a
    /// consumed handle of a blocking guest.
    fn cancel(&mut self, h: u32) -> wasmtime::Result<()> {
        workflow_host::Host::cancel(self, h)
    }

    fn patched(&mut self, id: String) -> wasmtime::Result<bool> {
        workflow_host::Host::patched(self, id)
    }

    fn deprecate_patch(&mut self, id: String) -> wasmtime::Result<()> {
        workflow_host::Host::deprecate_patch(self, id)
    }

    fn upsert_search_attributes(
        &mut self,
        attributes: Vec<(String, Payload)>,
    ) -> wasmtime::Result<()> {
        workflow_host::Host::upsert_search_attributes(self, attributes)
    }

    fn upsert_memo(&mut self, fields: Vec<(String, Payload)>) -> wasmtime::Result<()> {
        workflow_host::Host::upsert_memo(self, fields)
    }

    fn accept_update(&mut self, id: String) -> wasmtime::Result<()> {
        self.lock_state()
            .answer_open_update(id, |open, id| Ok(vec![open.accept(id)?]))
    }

    fn reject_update(&mut self, id: String, failure: Failure) -> wasmtime::Result<()> {
        self.lock_state()
            .answer_open_update(id, |open, id| Ok(vec![open.reject(id, failure)?]))
    }

    fn complete_update(
        &mut self,
        id: String,
        outcome: Result<Payload, Failure>,
    ) -> wasmtime::Result<()> {
        self.lock_state()
            .answer_open_update(id, |open, id| open.complete(id, outcome))
    }
}

impl crate::bindings::activation::weft::plugin::workflow_options::Host for RunHost {}

#[cfg(test)]
mod tests {
    use super::*;
    use activation_host::Host;

    fn host() -> RunHost {
        let info = WorkflowInfo {
            workflow_type: "T".into(),
            workflow_id: "w".into(),
            run_id: "r".into(),
            namespace: "default".into(),
            task_queue: "Q".into(),
            attempt: 1,
        };
        RunHost {
            state: Arc::new(Mutex::new(RunState::for_activations(info, 1))),
            limits: crate::workflow::GuestLimits::new(1 << 20),
        }
    }

    fn responses(state: &mut RunState) -> Vec<update_response::Response> {
        state
            .take_commands()
            .into_iter()
            .filter_map(|c| match c.variant {
                Some(Variant::UpdateResponse(r)) => r.response,
                _ => None,
            })
            .collect()
    }

    #[test]
    fn outcomes_are_handed_over_once_in_history_order_and_free_their_handle() {
        let mut host = host();
        let (t, u) = (
            host.start_timer(10).expect("a host call in a test"),
            host.start_timer(20).expect("a host call in a test"),
        );
        let mut state = host.lock_state();
        let null = || payload::to_wit(payload::null());
        state
            .resolve(HandleKind::Timer, u, Ok(null()))
            .expect("a host call in a test");
        state
            .resolve(HandleKind::Timer, t, Ok(null()))
            .expect("a host call in a test");
        let order: Vec<u32> = state
            .take_resolutions()
            .into_iter()
            .map(|(h, _)| h)
            .collect();
        assert_eq!(order, [u, t], "as history gave them, not by number");
        assert!(state.take_resolutions().is_empty());
        assert_eq!(state.handles.len(), 0, "resolved handles hold no slot");
        assert!(
            state.resolve(HandleKind::Timer, t, Ok(null())).is_err(),
            "a handle resolves once"
        );
        drop(state);
        host.cancel(t)
            .expect("cancelling a resolved handle does nothing");
    }

    #[test]
    fn a_cancelled_timer_resolves_in_the_same_activation() {
        let mut host = host();
        let t = host.start_timer(10).expect("a host call in a test");
        host.cancel(t).expect("a host call in a test");
        let mut state = host.lock_state();
        let resolved = state.take_resolutions();
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].0, t);
        let failure = resolved[0].1.clone().expect_err("cancelled");
        assert_eq!(failure.error_type, payload::CANCELLED_ERROR);
    }

    #[test]
    fn updates_are_accepted_rejected_or_completed_and_unanswered_ones_rejected() {
        let mut host = host();
        {
            let mut state = host.lock_state();
            for id in ["a", "b", "c", "d"] {
                state.open_update(id, "inc");
            }
        }
        host.accept_update("a".into())
            .expect("a host call in a test");
        let rejected = payload::non_retryable_failure("negative", "Invalid");
        host.reject_update("b".into(), rejected)
            .expect("a host call in a test");
        host.complete_update("c".into(), Ok(payload::to_wit(payload::null())))
            .expect("a host call in a test");
        assert!(
            host.accept_update("b".into()).is_err(),
            "a rejected update is closed"
        );
        let mut state = host.lock_state();
        state.reject_unanswered_updates();
        use update_response::Response::{Accepted, Completed, Rejected};
        let kinds: Vec<&str> = responses(&mut state)
            .iter()
            .map(|r| match r {
                Accepted(()) => "accepted",
                Rejected(_) => "rejected",
                Completed(_) => "completed",
            })
            .collect();
        // a accepted; b rejected; c accepted then completed; d unanswered.
        assert_eq!(
            kinds,
            ["accepted", "rejected", "accepted", "completed", "rejected"]
        );
        drop(state);
        host.complete_update("a".into(), Ok(payload::to_wit(payload::null())))
            .expect("an accepted update completes in a later activation");
    }

    #[test]
    fn a_query_handler_cannot_start_anything() {
        let mut host = host();
        host.lock_state().set_in_query(true);
        host.start_timer(10).expect("a host call in a test");
        host.upsert_memo(vec![]).expect("a host call in a test");
        let mut state = host.lock_state();
        state.set_in_query(false);
        let violation = state.take_query_violation().expect("noted");
        assert!(
            violation.contains("a query handler tried to"),
            "{violation}"
        );
        assert!(state.take_commands().is_empty(), "nothing was issued");
        assert!(state.take_violation().is_none(), "the run is not trapped");
    }
}
