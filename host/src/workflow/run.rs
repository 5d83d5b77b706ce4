//! One workflow run. A blocking guest's run is a component instance whose
//! `run` call suspends at every blocking import and resumes when an
//! activation resolves what it waits on; an activation-based guest's run
//! lives in [`super::activation`].

use super::activation::ActivationRun;
use super::convert::{activity_outcome, child_outcome, child_start, delivered};
use super::state::{HandleKind, MAX_COMMAND_BYTES, RunHost, RunState};
use super::temporal_runtime::TemporalRun;
use super::{Guest, WorkflowModule};
use crate::bindings::types::{Failure, Payload};
use crate::bindings::workflow::Workflow;
use crate::bindings::workflow::weft::plugin::workflow_host::WorkflowInfo;
use crate::payload;
use crate::store::Digest;
use crate::temporal::proto::activity_result::activity_resolution;
use crate::temporal::proto::workflow_activation::{
    InitializeWorkflow, WorkflowActivation, workflow_activation_job::Variant as Job,
};
use crate::temporal::proto::workflow_commands::{
    CancelWorkflowExecution, CompleteWorkflowExecution, FailWorkflowExecution, QueryResult,
    QuerySuccess, WorkflowCommand, query_result, workflow_command::Variant as Command,
};
use crate::temporal::{std_duration, timestamp_millis};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use wasmtime::Store;

/// The guest's `run` call, owning its store while it is suspended.
type RunFuture = Pin<Box<dyn Future<Output = wasmtime::Result<Result<Payload, Failure>>> + Send>>;

pub(super) use crate::payload::CANCELLED_ERROR;

/// Why a workflow task must fail (Temporal retries it; the workflow goes on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TaskFailure(pub String);

/// A live workflow run, of either guest world.
pub enum Run {
    /// A blocking guest: its own instance, suspended on a fiber.
    Fiber(FiberRun),
    /// An activation-based guest: a `run` object in a shared instance.
    Activation(ActivationRun),
    /// A Temporal workflow component: a `workflow-instance` in a shared
    /// instance.
    Temporal(TemporalRun),
}

impl Run {
    /// Start a run on `module` (or a replay from the start).
    pub fn start(
        module: Arc<WorkflowModule>,
        init: InitializeWorkflow,
        run_id: &str,
        namespace: &str,
        task_queue: &str,
        pin: Option<Digest>,
    ) -> Run {
        match module.guest {
            Guest::Fiber(_) => Run::Fiber(FiberRun::start(
                module, init, run_id, namespace, task_queue, pin,
            )),
            Guest::Activation(_) => Run::Activation(ActivationRun::start(
                module, init, run_id, namespace, task_queue, pin,
            )),
            Guest::Temporal(_) => Run::Temporal(TemporalRun::start(
                module, init, run_id, namespace, task_queue, pin,
            )),
        }
    }

    /// The module this run executes on.
    pub fn module(&self) -> &Arc<WorkflowModule> {
        match self {
            Run::Fiber(r) => &r.module,
            Run::Activation(r) => r.module(),
            Run::Temporal(r) => r.module(),
        }
    }

    /// Fuel the guest spent in the last activation.
    pub fn fuel_spent(&self) -> u64 {
        match self {
            Run::Fiber(r) => r.lock().fuel_spent(),
            Run::Activation(r) => r.fuel_spent(),
            Run::Temporal(r) => r.fuel_spent(),
        }
    }

    /// Apply an activation's jobs, let the guest run until it waits or
    /// returns, and answer with the commands it issued.
    pub fn activate(
        &mut self,
        act: &WorkflowActivation,
    ) -> Result<Vec<WorkflowCommand>, TaskFailure> {
        match self {
            Run::Fiber(r) => r.activate(act),
            Run::Activation(r) => r.activate(act),
            Run::Temporal(r) => r.activate(act),
        }
    }

    /// Other runs that lost their guest state with this one's (they shared
    /// an instance that trapped): core must evict them so they replay.
    pub fn take_orphans(&mut self) -> Vec<String> {
        match self {
            Run::Fiber(_) => Vec::new(),
            Run::Activation(r) => r.take_orphans(),
            Run::Temporal(r) => r.take_orphans(),
        }
    }
}

/// The run's identity, as guests read it.
pub(super) fn run_info(
    init: &InitializeWorkflow,
    run_id: &str,
    namespace: &str,
    task_queue: &str,
) -> WorkflowInfo {
    WorkflowInfo {
        workflow_type: init.workflow_type.clone(),
        workflow_id: init.workflow_id.clone(),
        run_id: run_id.to_owned(),
        namespace: namespace.to_owned(),
        task_queue: task_queue.to_owned(),
        attempt: init.attempt.max(1) as u32,
    }
}

/// The state a run starts from: `new` is [`RunState::new`] for a blocking
/// guest, [`RunState::for_activations`] for the many-runs worlds (the
/// activation world, Temporal's world).
pub(super) fn starting_state(
    init: &InitializeWorkflow,
    run_id: &str,
    namespace: &str,
    task_queue: &str,
    new: fn(WorkflowInfo, u64) -> RunState,
) -> RunState {
    let info = run_info(init, run_id, namespace, task_queue);
    let mut state = new(info, init.randomness_seed);
    state.set_task_timeout(std_duration(init.workflow_task_timeout.as_ref()));
    state
}

/// A run of a blocking guest.
pub struct FiberRun {
    state: Arc<Mutex<RunState>>,
    task: Option<RunFuture>,
    /// Held so that a version stays loaded while a run uses it.
    module: Arc<WorkflowModule>,
    /// The module pin to record (or confirm, in replay) at the first activation.
    pin: Option<Digest>,
}

impl FiberRun {
    /// Instantiate the module for a new run (or a replay from the start).
    fn start(
        module: Arc<WorkflowModule>,
        init: InitializeWorkflow,
        run_id: &str,
        namespace: &str,
        task_queue: &str,
        pin: Option<Digest>,
    ) -> FiberRun {
        let state = starting_state(&init, run_id, namespace, task_queue, RunState::new);
        let state = Arc::new(Mutex::new(state));
        let store = module.store(state.clone());
        let Guest::Fiber(pre) = &module.guest else {
            unreachable!("a fiber run starts only on a blocking guest")
        };
        let pre = pre.clone();
        let args: Vec<Payload> = init.arguments.into_iter().map(payload::to_wit).collect();
        let workflow_type = init.workflow_type;
        let task = Box::pin(async move {
            let mut store: Store<RunHost> = store;
            let bindings: Workflow = pre.instantiate_async(&mut store).await?;
            bindings
                .weft_plugin_workflow_guest()
                .call_run(&mut store, &workflow_type, &args)
                .await
        });
        FiberRun {
            state,
            task: Some(task),
            module,
            pin,
        }
    }

    /// Apply an activation's jobs, let the guest run until it blocks or
    /// returns, and answer with the commands it issued.
    fn activate(&mut self, act: &WorkflowActivation) -> Result<Vec<WorkflowCommand>, TaskFailure> {
        // The activation deadline counts only while guest code runs.
        let _running = self.module.epochs.running();
        let mut queries = Vec::new();
        let pin = self.pin.take();
        {
            let mut state = self.lock();
            state.begin_activation(timestamp_millis(act.timestamp.as_ref()), act.is_replaying);
            for job in act.jobs.iter().filter_map(|j| j.variant.as_ref()) {
                if apply_resolution(&mut state, job)? {
                    continue;
                }
                match job {
                    Job::InitializeWorkflow(_) | Job::RemoveFromCache(_) => {}
                    Job::SignalWorkflow(s) => {
                        let value = s.input.first().cloned().unwrap_or_else(payload::null);
                        state.signal(&s.signal_name, payload::to_wit(value));
                    }
                    Job::CancelWorkflow(_) => state.request_cancellation(),
                    Job::DoUpdate(u) => {
                        let input = u.input.first().cloned().unwrap_or_else(payload::null);
                        state.deliver_update(
                            &u.name,
                            &u.protocol_instance_id,
                            payload::to_wit(input),
                        );
                    }
                    // Answered after the guest ran, from what it published.
                    Job::QueryWorkflow(q) => queries.push(q.clone()),
                    other => {
                        return Err(TaskFailure(format!(
                            "weft does not support this activation job yet: {other:?}"
                        )));
                    }
                }
            }
            // The pin marker comes first, before anything the guest issues.
            if let Some(digest) = pin {
                state.pin_module(&digest);
            }
        }
        // The guest runs first, even when cancellation was requested: one
        // whose request arrives with its start (or with what it waited on)
        // still gets to ask for its cancellation handle and clean up. One
        // still running without having asked is cancelled now.
        let mut commands = self.poll()?;
        if self.task.is_some() && self.lock().ignores_cancellation() {
            self.task = None;
            commands.push(command(Command::CancelWorkflowExecution(
                CancelWorkflowExecution::default(),
            )));
        }
        let state = self.lock();
        commands.extend(queries.into_iter().map(|q| {
            let variant = match state.query(&q.query_type) {
                Ok(answer) => query_result::Variant::Succeeded(QuerySuccess {
                    response: Some(payload::from_wit(answer)),
                }),
                Err(known) => query_result::Variant::Failed(payload::failure_from_wit(
                    payload::non_retryable_failure(
                        format!(
                            "query `{}` has no answer: this run publishes {}",
                            q.query_type,
                            if known.is_empty() {
                                "none".to_owned()
                            } else {
                                known.join(", ")
                            }
                        ),
                        "QueryNotRegistered",
                    ),
                )),
            };
            command(Command::RespondToQuery(QueryResult {
                query_id: q.query_id,
                variant: Some(variant),
            }))
        }));
        Ok(commands)
    }

    /// Run the guest until it blocks (`Pending`) or returns, and check
    /// what it asks for against the limits.
    fn poll(&mut self) -> Result<Vec<WorkflowCommand>, TaskFailure> {
        let commands = self.poll_guest()?;
        let checked = within_limits(&mut self.lock(), &commands);
        if let Err(e) = checked {
            self.task = None;
            return Err(e);
        }
        Ok(commands)
    }

    /// Run the guest until it blocks (`Pending`) or returns.
    fn poll_guest(&mut self) -> Result<Vec<WorkflowCommand>, TaskFailure> {
        let Some(task) = self.task.as_mut() else {
            return Ok(self.lock().take_commands());
        };
        // Nothing the guest waits on can make progress outside an
        // activation, so one poll with a no-op waker runs it as far as
        // history allows.
        let polled = task.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        let mut commands = self.lock().take_commands();
        let close = match polled {
            Poll::Pending => return Ok(commands),
            Poll::Ready(Ok(Ok(result))) => {
                Command::CompleteWorkflowExecution(CompleteWorkflowExecution {
                    result: Some(payload::from_wit(result)),
                })
            }
            Poll::Ready(Ok(Err(failure)))
                if failure.error_type == CANCELLED_ERROR && self.lock().cancel_requested() =>
            {
                Command::CancelWorkflowExecution(CancelWorkflowExecution::default())
            }
            Poll::Ready(Ok(Err(failure))) => {
                Command::FailWorkflowExecution(FailWorkflowExecution {
                    failure: Some(payload::failure_from_wit(failure)),
                })
            }
            Poll::Ready(Err(trap)) => {
                self.task = None;
                return Err(trap_failure(&trap, &self.lock()));
            }
        };
        self.task = None;
        commands.push(command(close));
        Ok(commands)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RunState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}
/// A limit broken outside the guest's own calls (answering updates),
/// or a command Temporal would refuse for its size, fails the task
/// with a message naming the limit instead of a refusal by the server
/// that retries the task forever.
pub(super) fn within_limits(
    state: &mut RunState,
    commands: &[WorkflowCommand],
) -> Result<(), TaskFailure> {
    if let Some(violation) = state.take_violation() {
        return Err(TaskFailure(format!("workflow guest trapped: {violation}")));
    }
    for c in commands {
        let size = prost::Message::encoded_len(c);
        if size > MAX_COMMAND_BYTES {
            let what = match &c.variant {
                Some(Command::CompleteWorkflowExecution(_)) => "its result",
                Some(Command::FailWorkflowExecution(_)) => "its failure",
                Some(Command::ScheduleActivity(_)) => "an activity's arguments",
                Some(Command::ScheduleLocalActivity(_)) => "a local activity's arguments",
                Some(Command::StartChildWorkflowExecution(_)) => "a child's arguments",
                Some(Command::ContinueAsNewWorkflowExecution(_)) => "its continue-as-new arguments",
                Some(Command::SignalExternalWorkflowExecution(_)) => "a signal's arguments",
                _ => "a command",
            };
            return Err(TaskFailure(format!(
                "workflow guest issued a command of {size} bytes ({what}), more than \
                 {MAX_COMMAND_BYTES}: Temporal's payload size limit (blob size limit, \
                 2 MiB by default) refuses it"
            )));
        }
    }
    Ok(())
}

/// Why a trap fails the workflow task, in words a guest author can act on.
pub(super) fn trap_failure(trap: &wasmtime::Error, state: &RunState) -> TaskFailure {
    match trap.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => {
            return TaskFailure(format!(
                "workflow guest ran out of fuel: it spent all {} units of one \
                 activation without waiting on the host (an endless loop?)",
                super::FUEL_PER_ACTIVATION
            ));
        }
        Some(wasmtime::Trap::Interrupt) => {
            let limit = super::epoch::TICK * state.deadline_ticks() as u32;
            return TaskFailure(format!(
                "workflow guest ran past its activation deadline of {limit:?} \
                 (wall-clock, half the workflow task timeout) without \
                 waiting on the host (an endless loop over host calls?)"
            ));
        }
        _ => {}
    }
    let said = state
        .last_error_log()
        .map(|m| format!(" (guest said: {m})"))
        .unwrap_or_default();
    TaskFailure(format!("workflow guest trapped{said}: {trap:#}"))
}

/// Apply a job both worlds treat alike to the run state: what resolves
/// something the run started, a patch notice, a new seed. False for the
/// jobs each world handles its own way (start, eviction, signals,
/// cancellation, updates, queries).
pub(super) fn apply_resolution(state: &mut RunState, job: &Job) -> Result<bool, TaskFailure> {
    let (kind, seq, outcome) = match job {
        Job::NotifyHasPatch(p) => {
            state.notify_patch(&p.patch_id);
            return Ok(true);
        }
        Job::UpdateRandomSeed(s) => {
            state.reseed(s.randomness_seed);
            return Ok(true);
        }
        // A local activity's backoff timer is the host's own.
        Job::FireTimer(t) if state.fire_local_backoff(t.seq) => return Ok(true),
        Job::FireTimer(t) => (
            HandleKind::Timer,
            t.seq,
            Ok(payload::to_wit(payload::null())),
        ),
        Job::ResolveActivity(r) if r.is_local => {
            let status = r.result.clone().and_then(|r| r.status);
            match status {
                Some(activity_resolution::Status::Backoff(b)) => state.back_off_local(r.seq, b),
                _ => state.resolve_local(r.seq, activity_outcome(r.result.clone())),
            }
            .map_err(TaskFailure)?;
            return Ok(true);
        }
        Job::ResolveChildWorkflowExecutionStart(r) => {
            state
                .resolve_child_start(r.seq, child_start(&r.status))
                .map_err(TaskFailure)?;
            return Ok(true);
        }
        Job::ResolveActivity(r) => (
            HandleKind::Activity,
            r.seq,
            activity_outcome(r.result.clone()),
        ),
        Job::ResolveChildWorkflowExecution(r) => {
            (HandleKind::Child, r.seq, child_outcome(r.result.clone()))
        }
        Job::ResolveSignalExternalWorkflow(r) => (
            HandleKind::ExternalSignal,
            r.seq,
            delivered(r.failure.clone()),
        ),
        Job::ResolveRequestCancelExternalWorkflow(r) => (
            HandleKind::ExternalCancel,
            r.seq,
            delivered(r.failure.clone()),
        ),
        _ => return Ok(false),
    };
    state.resolve(kind, seq, outcome).map_err(TaskFailure)?;
    Ok(true)
}

pub(super) fn command(variant: Command) -> WorkflowCommand {
    WorkflowCommand {
        variant: Some(variant),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    //! The jobs both worlds share, applied to a run's state from synthetic
    //! activations: no server, no guest.
    use super::*;
    use crate::bindings::workflow::weft::plugin::workflow_host::{Host, LocalActivityOptions};
    use crate::temporal::proto::activity_result::{ActivityResolution, DoBackoff, Success};
    use crate::temporal::proto::workflow_activation::{
        FireTimer, NotifyHasPatch, ResolveActivity, UpdateRandomSeed,
    };

    fn host(replaying: bool) -> RunHost {
        let init = InitializeWorkflow {
            workflow_type: "T".into(),
            workflow_id: "w".into(),
            randomness_seed: 1,
            ..Default::default()
        };
        let mut state = starting_state(&init, "r", "default", "Q", RunState::new);
        state.begin_activation(0, replaying);
        RunHost {
            state: Arc::new(Mutex::new(state)),
            limits: crate::workflow::GuestLimits::new(1 << 20),
        }
    }

    fn apply(host: &RunHost, job: Job) -> bool {
        apply_resolution(&mut host.lock_state(), &job).expect("in step with history")
    }

    fn variants(host: &RunHost) -> Vec<Command> {
        host.lock_state()
            .take_commands()
            .into_iter()
            .filter_map(|c| c.variant)
            .collect()
    }

    fn local_resolution(seq: u32, status: activity_resolution::Status) -> Job {
        Job::ResolveActivity(ResolveActivity {
            seq,
            result: Some(ActivityResolution {
                status: Some(status),
            }),
            is_local: true,
        })
    }

    #[test]
    fn a_local_activity_backs_off_on_a_timer_and_resolves_its_first_handle() {
        let mut host = host(false);
        let options = LocalActivityOptions {
            start_to_close_timeout_ms: Some(1_000),
            schedule_to_close_timeout_ms: None,
            retry_policy: None,
            local_retry_threshold_ms: None,
        };
        let h = host
            .start_local_activity("A".into(), vec![], options)
            .expect("started");
        assert!(matches!(&variants(&host)[..], [Command::ScheduleLocalActivity(s)] if s.seq == h));
        let backoff = DoBackoff {
            attempt: 2,
            backoff_duration: Some(crate::temporal::proto_duration(
                std::time::Duration::from_secs(90),
            )),
            original_schedule_time: None,
        };
        assert!(apply(
            &host,
            local_resolution(h, activity_resolution::Status::Backoff(backoff))
        ));
        let timer = match &variants(&host)[..] {
            [Command::StartTimer(t)] => t.seq,
            other => panic!("expected a backoff timer, got {other:?}"),
        };
        assert!(apply(&host, Job::FireTimer(FireTimer { seq: timer })));
        let attempt = match &variants(&host)[..] {
            [Command::ScheduleLocalActivity(s)] => {
                assert_eq!((s.attempt, s.activity_type.as_str()), (2, "A"));
                s.seq
            }
            other => panic!("expected the next attempt, got {other:?}"),
        };
        let done = activity_resolution::Status::Completed(Success {
            result: Some(payload::json(&serde_json::json!(5))),
        });
        assert!(apply(&host, local_resolution(attempt, done)));
        let mut result = std::pin::pin!(host.result(h));
        let Poll::Ready(outcome) = result
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        else {
            panic!("the handle is resolved");
        };
        assert_eq!(outcome.expect("live").expect("completed").data, b"5");
    }

    #[test]
    fn a_timer_history_fires_twice_or_that_was_never_started_fails_the_task() {
        let mut host = host(false);
        let t = host.start_timer(10).expect("started");
        assert!(apply(&host, Job::FireTimer(FireTimer { seq: t })));
        let twice = apply_resolution(
            &mut host.lock_state(),
            &Job::FireTimer(FireTimer { seq: t }),
        );
        assert!(twice.is_err());
        let unknown = apply_resolution(
            &mut host.lock_state(),
            &Job::FireTimer(FireTimer { seq: 9 }),
        );
        assert_eq!(
            unknown,
            Err(TaskFailure(
                "history resolves Timer 9, which this run has not started".into()
            ))
        );
    }

    #[test]
    fn replay_takes_a_patch_only_where_history_has_its_marker() {
        let mut host = host(true);
        assert!(apply(
            &host,
            Job::NotifyHasPatch(NotifyHasPatch {
                patch_id: "fix".into()
            })
        ));
        assert!(host.patched("fix".into()).expect("within limits"));
        assert!(!host.patched("other".into()).expect("within limits"));
        let markers: Vec<String> = variants(&host)
            .into_iter()
            .filter_map(|v| match v {
                Command::SetPatchMarker(m) => Some(m.patch_id),
                _ => None,
            })
            .collect();
        assert_eq!(markers, ["fix"], "only the patch taken is marked");
    }

    #[test]
    fn a_new_seed_changes_what_random_returns() {
        let (mut a, mut b) = (host(false), host(false));
        assert!(apply(
            &b,
            Job::UpdateRandomSeed(UpdateRandomSeed { randomness_seed: 2 })
        ));
        assert_ne!(a.random().expect("random"), b.random().expect("random"));
        assert!(
            !apply(&a, Job::CancelWorkflow(Default::default())),
            "each world's own"
        );
    }
}
