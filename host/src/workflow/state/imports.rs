//! The `workflow-host` imports: what a guest's calls do to its run state.
//! Non-blocking calls record commands or handles; `wait-any`, `result`,
//! `start-child` and `continue-as-new` return `Pending` until an activation
//! resolves what they wait on.

use super::*;
use crate::workflow::convert::{
    activity_cancellation, child_cancellation, millis, parent_close_policy, retry_policy, timestamp,
};

impl RunState {
    /// Issue the command starting a child; its handle.
    pub(super) fn start_child(
        &mut self,
        workflow_type: String,
        args: Vec<Payload>,
        options: ChildOptions,
    ) -> u32 {
        let seq = self.new_handle(HandleKind::Child, None);
        let info = self.info.clone();
        self.child_starts.starting(seq);
        self.push(Variant::StartChildWorkflowExecution(
            StartChildWorkflowExecution {
                seq,
                namespace: info.namespace,
                workflow_id: options
                    .workflow_id
                    .unwrap_or_else(|| format!("{}-child-{seq}", info.workflow_id)),
                workflow_type,
                task_queue: options.task_queue.unwrap_or(info.task_queue),
                input: args.into_iter().map(payload::from_wit).collect(),
                workflow_execution_timeout: millis(options.execution_timeout_ms),
                parent_close_policy: parent_close_policy(options.parent_close_policy),
                cancellation_type: child_cancellation(options.cancellation),
                ..Default::default()
            },
        ));
        seq
    }
}

impl workflow_host::Host for RunHost {
    fn info(&mut self) -> wasmtime::Result<WorkflowInfo> {
        Ok(self.lock_state().info.clone())
    }

    fn now(&mut self) -> wasmtime::Result<u64> {
        Ok(self.lock_state().now_ms)
    }

    fn random(&mut self) -> wasmtime::Result<u64> {
        Ok(self.lock_state().rng.next())
    }

    fn is_replaying(&mut self) -> wasmtime::Result<bool> {
        Ok(self.lock_state().replaying)
    }

    fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        let mut state = self.lock_state();
        // A guest must not make the host hold or write more than a line's
        // worth per call, nor forge log lines: cut it, escape it.
        let message = crate::activity::printable(&message, MAX_LOG_LINE_BYTES);
        if matches!(level, LogLevel::Error) {
            state.last_error_log = Some(message.clone());
        }
        if state.replaying {
            return Ok(());
        }
        match state.budget.log_line() {
            LogLine::Write => {}
            LogLine::WarnDropped => {
                let (wf, run) = (&state.info.workflow_id, &state.info.run_id);
                tracing::warn!(
                    target: "weft::guest", workflow_id = %wf, run_id = %run,
                    "guest log limit: more than {MAX_LOG_LINES_PER_ACTIVATION} lines in one \
                     activation, the rest of this activation's lines are dropped"
                );
                return Ok(());
            }
            LogLine::Drop => return Ok(()),
        }
        let (wf, run) = (&state.info.workflow_id, &state.info.run_id);
        match level {
            LogLevel::Trace => {
                tracing::trace!(target: "weft::guest", workflow_id = %wf, run_id = %run, "{message}")
            }
            LogLevel::Debug => {
                tracing::debug!(target: "weft::guest", workflow_id = %wf, run_id = %run, "{message}")
            }
            LogLevel::Info => {
                tracing::info!(target: "weft::guest", workflow_id = %wf, run_id = %run, "{message}")
            }
            LogLevel::Warn => {
                tracing::warn!(target: "weft::guest", workflow_id = %wf, run_id = %run, "{message}")
            }
            LogLevel::Error => {
                tracing::error!(target: "weft::guest", workflow_id = %wf, run_id = %run, "{message}")
            }
        }
        Ok(())
    }

    fn start_activity(
        &mut self,
        activity_type: String,
        args: Vec<Payload>,
        options: ActivityOptions,
    ) -> wasmtime::Result<u32> {
        let mut state = self.lock_state();
        let task_queue = options
            .task_queue
            .unwrap_or_else(|| state.info.task_queue.clone());
        Ok(state.start(HandleKind::Activity, |seq| {
            Variant::ScheduleActivity(ScheduleActivity {
                seq,
                activity_id: options.activity_id.unwrap_or_else(|| seq.to_string()),
                activity_type,
                task_queue,
                arguments: args.into_iter().map(payload::from_wit).collect(),
                start_to_close_timeout: millis(options.start_to_close_timeout_ms),
                schedule_to_close_timeout: millis(options.schedule_to_close_timeout_ms),
                schedule_to_start_timeout: millis(options.schedule_to_start_timeout_ms),
                heartbeat_timeout: millis(options.heartbeat_timeout_ms),
                retry_policy: options.retry_policy.map(retry_policy),
                cancellation_type: activity_cancellation(options.cancellation),
                ..Default::default()
            })
        }))
    }

    fn start_local_activity(
        &mut self,
        activity_type: String,
        args: Vec<Payload>,
        options: LocalActivityOptions,
    ) -> wasmtime::Result<u32> {
        let mut state = self.lock_state();
        let now = state.now_ms;
        let h = state.new_handle(HandleKind::LocalActivity, None);
        let command = ScheduleLocalActivity {
            seq: h,
            activity_id: h.to_string(),
            activity_type,
            attempt: 1,
            original_schedule_time: Some(timestamp(now)),
            arguments: args.into_iter().map(payload::from_wit).collect(),
            start_to_close_timeout: millis(options.start_to_close_timeout_ms),
            schedule_to_close_timeout: millis(options.schedule_to_close_timeout_ms),
            retry_policy: options.retry_policy.map(retry_policy),
            local_retry_threshold: millis(options.local_retry_threshold_ms),
            ..Default::default()
        };
        state.push(Variant::ScheduleLocalActivity(command.clone()));
        state.locals.scheduled(h, command);
        Ok(h)
    }

    fn start_timer(&mut self, duration_ms: u64) -> wasmtime::Result<u32> {
        Ok(self.lock_state().start(HandleKind::Timer, |seq| {
            Variant::StartTimer(StartTimer {
                seq,
                start_to_fire_timeout: millis(Some(duration_ms)),
            })
        }))
    }

    fn cancel(&mut self, h: u32) -> wasmtime::Result<()> {
        let mut state = self.lock_state();
        // A consumed or resolved handle is done: cancelling it has no effect.
        let Some(kind) = state.handles.cancellable(h).map_err(wasmtime::Error::msg)? else {
            return Ok(());
        };
        let resolved = match kind {
            HandleKind::Timer => {
                state.push(Variant::CancelTimer(CancelTimer { seq: h }));
                state.resolve(HandleKind::Timer, h, Err(payload::cancelled("timer")))
            }
            // Core resolves the handle as the cancellation type says.
            HandleKind::Activity => {
                state.push(Variant::RequestCancelActivity(RequestCancelActivity {
                    seq: h,
                }));
                Ok(())
            }
            HandleKind::LocalActivity => state.cancel_local(h),
            HandleKind::Signal => {
                state.signals.forget(h);
                let cancelled = payload::cancelled("signal wait");
                state.resolve(HandleKind::Signal, h, Err(cancelled))
            }
            // Core resolves the handle as the child's cancellation type says.
            HandleKind::Child => {
                state.push(Variant::CancelChildWorkflowExecution(
                    CancelChildWorkflowExecution {
                        child_workflow_seq: h,
                        reason: "cancelled by its parent".into(),
                    },
                ));
                Ok(())
            }
            HandleKind::Update => {
                state.updates.forget(h);
                let cancelled = payload::cancelled("update wait");
                state.resolve(HandleKind::Update, h, Err(cancelled))
            }
            HandleKind::Cancellation | HandleKind::ExternalSignal | HandleKind::ExternalCancel => {
                Ok(())
            }
        };
        resolved.map_err(wasmtime::Error::msg)
    }

    async fn start_child(
        &mut self,
        workflow_type: String,
        args: Vec<Payload>,
        options: ChildOptions,
    ) -> wasmtime::Result<Result<u32, Failure>> {
        let seq = self.lock_state().start_child(workflow_type, args, options);
        // Like the Temporal SDKs, return once the child has started, so that
        // signalling or cancelling it by id cannot race its start.
        poll_fn(|_| {
            let mut state = self.lock_state();
            let Some(started) = state.child_starts.started(seq) else {
                return Poll::Pending;
            };
            if let Err(f) = started.clone() {
                // The guest never sees the handle of a child that did not
                // start: free it here.
                state.child_starts.forget(seq);
                state.handles.forget(seq);
                return Poll::Ready(Ok(Err(f)));
            }
            Poll::Ready(Ok(Ok(seq)))
        })
        .await
    }

    fn signal_workflow(
        &mut self,
        workflow_id: String,
        signal_name: String,
        args: Vec<Payload>,
    ) -> wasmtime::Result<u32> {
        let mut state = self.lock_state();
        let namespace = state.info.namespace.clone();
        Ok(state.start(HandleKind::ExternalSignal, |seq| {
            Variant::SignalExternalWorkflowExecution(SignalExternalWorkflowExecution {
                seq,
                target: Some(
                    signal_external_workflow_execution::Target::WorkflowExecution(
                        proto::NamespacedWorkflowExecution {
                            namespace,
                            workflow_id,
                            run_id: String::new(),
                        },
                    ),
                ),
                signal_name,
                args: args.into_iter().map(payload::from_wit).collect(),
                ..Default::default()
            })
        }))
    }

    fn cancel_workflow(&mut self, workflow_id: String) -> wasmtime::Result<u32> {
        let mut state = self.lock_state();
        let namespace = state.info.namespace.clone();
        Ok(state.start(HandleKind::ExternalCancel, |seq| {
            Variant::RequestCancelExternalWorkflowExecution(
                RequestCancelExternalWorkflowExecution {
                    seq,
                    workflow_execution: Some(proto::NamespacedWorkflowExecution {
                        namespace,
                        workflow_id,
                        run_id: String::new(),
                    }),
                    reason: "cancelled by another workflow".into(),
                },
            )
        }))
    }

    fn next_signal(&mut self, name: String) -> wasmtime::Result<u32> {
        let mut state = self.lock_state();
        let buffered = state.signals.next_buffered(&name);
        Ok(match buffered {
            Some(value) => state.new_handle(HandleKind::Signal, Some(Ok(value))),
            None => {
                let h = state.new_handle(HandleKind::Signal, None);
                state.signals.wait(name, h);
                h
            }
        })
    }

    fn cancellation(&mut self) -> wasmtime::Result<u32> {
        let mut state = self.lock_state();
        let outcome = state
            .cancellation
            .handle()
            .then(|| Ok(payload::to_wit(payload::null())));
        Ok(state.new_handle(HandleKind::Cancellation, outcome))
    }

    fn next_update(&mut self, name: String) -> wasmtime::Result<u32> {
        let mut state = self.lock_state();
        let h = state.new_handle(HandleKind::Update, None);
        if let Some(input) = state.updates.next(name, h) {
            // Just made: the handle is live.
            let _ = state.handles.fulfil(h, Ok(input));
        }
        Ok(h)
    }

    fn complete_update(
        &mut self,
        h: u32,
        outcome: Result<Payload, Failure>,
    ) -> wasmtime::Result<()> {
        let mut state = self.lock_state();
        let answers = state
            .updates
            .complete(h, outcome)
            .map_err(wasmtime::Error::msg)?;
        state.answer_updates(answers);
        Ok(())
    }

    fn set_query_result(&mut self, name: String, value: Payload) -> wasmtime::Result<()> {
        self.lock_state()
            .answers
            .publish(name, value)
            .map_err(wasmtime::Error::msg)
    }

    async fn continue_as_new(&mut self, args: Vec<Payload>) -> wasmtime::Result<()> {
        {
            let mut state = self.lock_state();
            let (workflow_type, task_queue) = (
                state.info.workflow_type.clone(),
                state.info.task_queue.clone(),
            );
            state.push(Variant::ContinueAsNewWorkflowExecution(
                ContinueAsNewWorkflowExecution {
                    workflow_type,
                    task_queue,
                    arguments: args.into_iter().map(payload::from_wit).collect(),
                    ..Default::default()
                },
            ));
        }
        // This run is over: the guest stays suspended until it is evicted.
        std::future::pending().await
    }

    fn patched(&mut self, id: String) -> wasmtime::Result<bool> {
        let mut state = self.lock_state();
        state.patches.check(&id).map_err(wasmtime::Error::msg)?;
        Ok(state.patch(id, false))
    }

    fn deprecate_patch(&mut self, id: String) -> wasmtime::Result<()> {
        let mut state = self.lock_state();
        state.patches.check(&id).map_err(wasmtime::Error::msg)?;
        state.patch(id, true);
        Ok(())
    }

    fn upsert_search_attributes(
        &mut self,
        attributes: Vec<(String, Payload)>,
    ) -> wasmtime::Result<()> {
        let indexed_fields = attributes
            .into_iter()
            .map(|(k, v)| (k, payload::from_wit(v)))
            .collect();
        self.lock_state()
            .push(Variant::UpsertWorkflowSearchAttributes(
                UpsertWorkflowSearchAttributes {
                    search_attributes: Some(proto::SearchAttributes { indexed_fields }),
                },
            ));
        Ok(())
    }

    fn upsert_memo(&mut self, fields: Vec<(String, Payload)>) -> wasmtime::Result<()> {
        let fields = fields
            .into_iter()
            .map(|(k, v)| (k, payload::from_wit(v)))
            .collect();
        self.lock_state().push(Variant::ModifyWorkflowProperties(
            ModifyWorkflowProperties {
                upserted_memo: Some(proto::Memo { fields }),
            },
        ));
        Ok(())
    }

    async fn wait_any(&mut self, handles: Vec<u32>) -> wasmtime::Result<u32> {
        if handles.is_empty() {
            wasmtime::bail!("wait-any called with no handles");
        }
        // Resolutions only arrive between activations: until then the guest
        // stays suspended and the run future reports `Pending`.
        poll_fn(|_| {
            let state = self.lock_state();
            for &h in &handles {
                match state.handles.ready(h) {
                    Err(e) => return Poll::Ready(Err(wasmtime::Error::msg(e))),
                    Ok(true) => return Poll::Ready(Ok(h)),
                    Ok(false) => {}
                }
            }
            Poll::Pending
        })
        .await
    }

    /// Takes the outcome: the handle is consumed and its slot freed, so a
    /// run that keeps creating and consuming handles holds only the live
    /// ones.
    async fn result(&mut self, h: u32) -> wasmtime::Result<Result<Payload, Failure>> {
        poll_fn(|_| match self.lock_state().consume(h) {
            Err(e) => Poll::Ready(Err(wasmtime::Error::msg(e))),
            Ok(Some(outcome)) => Poll::Ready(Ok(outcome)),
            Ok(None) => Poll::Pending,
        })
        .await
    }
}

impl crate::bindings::types::Host for RunHost {}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> WorkflowInfo {
        WorkflowInfo {
            workflow_type: "T".into(),
            workflow_id: "w".into(),
            run_id: "r".into(),
            namespace: "default".into(),
            task_queue: "Q".into(),
            attempt: 1,
        }
    }

    #[test]
    fn randomness_is_a_function_of_the_seed() {
        let (mut a, mut b) = (SplitMix64(7), SplitMix64(7));
        let xs: Vec<u64> = (0..4).map(|_| a.next()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
        assert_ne!(SplitMix64(8).next(), xs[0]);
    }

    fn host() -> RunHost {
        RunHost {
            state: Arc::new(Mutex::new(RunState::new(info(), 1))),
            limits: crate::workflow::GuestLimits::new(1 << 20),
        }
    }

    fn json(bytes: usize) -> Payload {
        payload::to_wit(payload::json(&serde_json::json!("x".repeat(bytes))))
    }

    #[test]
    fn commands_per_activation_are_bounded() {
        use workflow_host::Host;
        let mut host = host();
        for _ in 0..MAX_COMMANDS_PER_ACTIVATION {
            host.start_timer(1000).expect("timer");
        }
        assert_eq!(host.lock_state().take_violation(), None);
        host.start_timer(1000)
            .expect("the call returns; the hook traps");
        let violation = host.lock_state().take_violation().expect("a violation");
        assert!(violation.contains("10000 commands"), "{violation}");
        let mut state = host.lock_state();
        assert_eq!(state.take_commands().len(), MAX_COMMANDS_PER_ACTIVATION);
    }

    /// `f`'s output, which must be ready at once (an outcome already there).
    fn ready<F: Future>(f: F) -> F::Output {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(f).poll(&mut cx) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("the outcome is not there yet"),
        }
    }

    #[test]
    fn live_handles_per_run_are_bounded() {
        use workflow_host::Host;
        let mut host = host();
        for _ in 0..MAX_HANDLES_PER_RUN {
            host.next_signal("s".into()).expect("within the limit");
        }
        assert_eq!(host.lock_state().take_violation(), None);
        host.next_signal("s".into())
            .expect("the call returns; the hook traps");
        let violation = host.lock_state().take_violation().expect("a violation");
        assert!(
            violation.contains("100000 live handles in one run (weft's handle limit)"),
            "{violation}"
        );
        // Consuming a handle frees room for one more.
        let mut host = self::host();
        for _ in 0..MAX_HANDLES_PER_RUN {
            host.next_signal("s".into()).expect("within the limit");
        }
        host.lock_state().signal("s", json(1));
        ready(host.result(1))
            .expect("a live handle")
            .expect("the oldest waiter got the signal");
        host.next_signal("s".into()).expect("room for one more");
        assert_eq!(host.lock_state().take_violation(), None);
    }

    #[test]
    fn consumed_handles_free_their_slots() {
        use workflow_host::Host;
        let mut host = host();
        // Over its life the run creates more handles than it may hold live.
        let runs = MAX_HANDLES_PER_RUN as u32 + 10;
        for i in 1..=runs {
            host.lock_state().signal("s", json(1));
            let h = host.next_signal("s".into()).expect("a handle");
            assert_eq!(h, i, "handle numbers stay sequence numbers, never reused");
            ready(host.result(h))
                .expect("a live handle")
                .expect("the signal");
        }
        {
            let mut state = host.lock_state();
            assert_eq!(state.take_violation(), None);
            assert_eq!(state.handles.len(), 0, "slots held");
        }
        // A consumed handle is done: cancelling it does nothing, asking for
        // its result again or waiting on it traps, saying why.
        host.cancel(runs).expect("no effect");
        let e = ready(host.result(runs)).expect_err("consumed");
        assert!(e.to_string().contains("after taking its result"), "{e}");
        let e = ready(host.wait_any(vec![runs])).expect_err("consumed");
        assert!(e.to_string().contains("after taking its result"), "{e}");
        let e = ready(host.result(runs + 1)).expect_err("never created");
        assert!(e.to_string().contains("unknown handle"), "{e}");
        // Timers and activities are freed the same way once resolved and
        // taken; history resolving a consumed one again is out of step.
        let t = host.start_timer(1000).expect("timer");
        let null = payload::to_wit(payload::null());
        host.lock_state()
            .resolve(HandleKind::Timer, t, Ok(null.clone()))
            .expect("fired");
        ready(host.result(t)).expect("live").expect("fired");
        assert_eq!(host.lock_state().handles.len(), 0);
        assert!(
            host.lock_state()
                .resolve(HandleKind::Timer, t, Ok(null))
                .is_err()
        );
    }

    #[test]
    fn query_answers_are_bounded_in_names_and_bytes() {
        use workflow_host::Host;
        let mut host = host();
        for i in 0..MAX_QUERY_NAMES {
            host.set_query_result(format!("q{i}"), json(10))
                .expect("within the limit");
        }
        let e = host
            .set_query_result("one-more".into(), json(10))
            .expect_err("over the limit");
        assert!(e.to_string().contains("query name limit"), "{e}");
        // Replacing an answer is no new name, and frees the old one's bytes.
        for _ in 0..10 {
            host.set_query_result("q0".into(), json(MAX_QUERY_BYTES / 2))
                .expect("replacing stays within the limit");
        }
        let e = host
            .set_query_result("q1".into(), json(MAX_QUERY_BYTES / 2))
            .expect_err("over the limit");
        assert!(e.to_string().contains("query size limit"), "{e}");
    }

    #[test]
    fn patch_ids_are_bounded_in_number_and_length() {
        use workflow_host::Host;
        let mut host = host();
        for i in 0..MAX_PATCHES {
            host.patched(format!("p{i}")).expect("within the limit");
        }
        assert!(host.patched("p0".into()).expect("a known id"));
        let e = host.patched("one-more".into()).expect_err("over the limit");
        assert!(e.to_string().contains("patch limit"), "{e}");
        let e = host
            .deprecate_patch("x".repeat(MAX_PATCH_ID_BYTES + 1))
            .expect_err("over the limit");
        assert!(e.to_string().contains("patch id limit"), "{e}");
    }

    #[test]
    fn log_lines_are_cut_escaped_and_counted() {
        use workflow_host::Host;
        let mut host = host();
        host.log(
            LogLevel::Error,
            format!("a\nforged\n{}", "x".repeat(1 << 20)),
        )
        .expect("log");
        let state = host.lock_state();
        let kept = state.last_error_log().expect("kept");
        assert!(kept.len() < MAX_LOG_LINE_BYTES + 64, "{}", kept.len());
        assert!(kept.starts_with("a\\nforged\\n"), "{kept:.40}");
        assert!(
            kept.ends_with("more bytes cut]"),
            "{}",
            &kept[kept.len() - 40..]
        );
    }

    #[test]
    fn handles_are_sequence_numbers_and_resolve_once() {
        let mut host = RunHost {
            state: Arc::new(Mutex::new(RunState::new(info(), 1))),
            limits: crate::workflow::GuestLimits::new(1 << 20),
        };
        use workflow_host::Host;
        let t = host.start_timer(1000).expect("timer");
        let a = host
            .start_activity(
                "A".into(),
                vec![],
                ActivityOptions {
                    task_queue: None,
                    start_to_close_timeout_ms: Some(60_000),
                    schedule_to_close_timeout_ms: None,
                    schedule_to_start_timeout_ms: None,
                    heartbeat_timeout_ms: None,
                    retry_policy: None,
                    cancellation: workflow_host::ActivityCancellation::TryCancel,
                    activity_id: None,
                },
            )
            .expect("activity");
        assert_eq!((t, a), (1, 2));
        let mut state = host.lock_state();
        let cmds = state.take_commands();
        match &cmds[1].variant {
            Some(Variant::ScheduleActivity(s)) => {
                assert_eq!(s.task_queue, "Q", "defaults to the workflow's queue");
                assert_eq!(s.activity_id, "2");
                assert_eq!(s.start_to_close_timeout.map(|d| d.seconds), Some(60));
            }
            other => panic!("expected ScheduleActivity, got {other:?}"),
        }
        let null = payload::to_wit(payload::null());
        assert!(
            state
                .resolve(HandleKind::Timer, t, Ok(null.clone()))
                .is_ok()
        );
        assert!(
            state
                .resolve(HandleKind::Timer, t, Ok(null.clone()))
                .is_err()
        );
        assert!(
            state
                .resolve(HandleKind::Timer, a, Ok(null.clone()))
                .is_err()
        );
        assert!(state.resolve(HandleKind::Activity, 9, Ok(null)).is_err());
    }
}
