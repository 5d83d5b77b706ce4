//! One workflow run. A blocking guest's run is a component instance whose
//! `run` call suspends at every blocking import and resumes when an
//! activation resolves what it waits on; an activation-based guest's run
//! lives in [`super::activation`].

use super::activation::ActivationRun;
use super::state::{HandleKind, MAX_COMMAND_BYTES, Outcome, RunHost, RunState};
use super::temporal_runtime::TemporalRun;
use super::{Guest, PIN_PREFIX, WorkflowModule};
use crate::bindings::types::{Failure, Payload};
use crate::bindings::workflow::Workflow;
use crate::bindings::workflow::weft::plugin::workflow_host::WorkflowInfo;
use crate::payload;
use crate::store::Digest;
use crate::temporal::proto::activity_result::{self, activity_resolution};
use crate::temporal::proto::child_workflow::{ChildWorkflowResult, child_workflow_result};
use crate::temporal::proto::workflow_activation::resolve_child_workflow_execution_start;
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

pub use crate::payload::CANCELLED_ERROR;

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

/// The state a run of a many-runs world (the activation world, Temporal's
/// world) starts from.
pub(super) fn pooled_run_state(
    init: &InitializeWorkflow,
    run_id: &str,
    namespace: &str,
    task_queue: &str,
) -> RunState {
    let info = run_info(init, run_id, namespace, task_queue);
    let mut state = RunState::for_activations(info, init.randomness_seed);
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
        let info = run_info(&init, run_id, namespace, task_queue);
        let mut state = RunState::new(info, init.randomness_seed);
        state.set_task_timeout(std_duration(init.workflow_task_timeout.as_ref()));
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
            // The pin marker comes first, before anything the guest issues,
            // with the patch semantics: recorded by a new run, confirmed by
            // a replay whose history has it.
            if let Some(digest) = pin {
                state.patch(format!("{PIN_PREFIX}{digest}"), false);
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
                Err(known) => query_result::Variant::Failed(payload::failure_from_wit(Failure {
                    message: format!(
                        "query `{}` has no answer: this run publishes {}",
                        q.query_type,
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                    error_type: "QueryNotRegistered".into(),
                    non_retryable: true,
                    details: vec![],
                })),
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
    match job {
        Job::NotifyHasPatch(p) => state.notify_patch(&p.patch_id),
        // A local activity's backoff timer is the host's own.
        Job::FireTimer(t) => {
            if !state.fire_local_backoff(t.seq) {
                let fired = Ok(payload::to_wit(payload::null()));
                state
                    .resolve(HandleKind::Timer, t.seq, fired)
                    .map_err(TaskFailure)?
            }
        }
        Job::ResolveActivity(r) if r.is_local => {
            let status = r.result.clone().and_then(|r| r.status);
            match status {
                Some(activity_resolution::Status::Backoff(b)) => state.back_off_local(r.seq, b),
                _ => state.resolve_local(r.seq, activity_outcome(r.result.clone())),
            }
            .map_err(TaskFailure)?
        }
        Job::ResolveActivity(r) => state
            .resolve(
                HandleKind::Activity,
                r.seq,
                activity_outcome(r.result.clone()),
            )
            .map_err(TaskFailure)?,
        Job::ResolveChildWorkflowExecutionStart(r) => state
            .resolve_child_start(r.seq, child_start(&r.status))
            .map_err(TaskFailure)?,
        Job::ResolveChildWorkflowExecution(r) => state
            .resolve(HandleKind::Child, r.seq, child_outcome(r.result.clone()))
            .map_err(TaskFailure)?,
        Job::ResolveSignalExternalWorkflow(r) => state
            .resolve(
                HandleKind::ExternalSignal,
                r.seq,
                delivered(r.failure.clone()),
            )
            .map_err(TaskFailure)?,
        Job::ResolveRequestCancelExternalWorkflow(r) => state
            .resolve(
                HandleKind::ExternalCancel,
                r.seq,
                delivered(r.failure.clone()),
            )
            .map_err(TaskFailure)?,
        Job::UpdateRandomSeed(s) => state.reseed(s.randomness_seed),
        _ => return Ok(false),
    }
    Ok(true)
}

/// Whether a child started, as a guest reads it.
pub(super) fn child_start(
    status: &Option<resolve_child_workflow_execution_start::Status>,
) -> Result<(), Failure> {
    use resolve_child_workflow_execution_start::Status;
    match status {
        Some(Status::Succeeded(_)) => Ok(()),
        Some(Status::Failed(f)) => Err(Failure {
            message: format!(
                "child workflow {} ({}) did not start: {:?}",
                f.workflow_id,
                f.workflow_type,
                f.cause()
            ),
            error_type: "ChildWorkflowStartFailed".into(),
            non_retryable: true,
            details: vec![],
        }),
        Some(Status::Cancelled(c)) => Err(payload::failure_to_wit(
            c.failure.clone().unwrap_or_default(),
        )),
        None => Err(Failure {
            message: "child workflow start resolved without a status".into(),
            error_type: "ChildWorkflowStartFailed".into(),
            non_retryable: true,
            details: vec![],
        }),
    }
}

pub(super) fn command(variant: Command) -> WorkflowCommand {
    WorkflowCommand {
        variant: Some(variant),
        ..Default::default()
    }
}

pub(super) fn child_outcome(result: Option<ChildWorkflowResult>) -> Outcome {
    use child_workflow_result::Status;
    match result.and_then(|r| r.status) {
        Some(Status::Completed(s)) => Ok(payload::to_wit(s.result.unwrap_or_else(payload::null))),
        Some(Status::Failed(f)) => Err(payload::failure_to_wit(f.failure.unwrap_or_default())),
        Some(Status::Cancelled(c)) => Err(payload::failure_to_wit(c.failure.unwrap_or_default())),
        None => Err(Failure {
            message: "child workflow resolved without a result".into(),
            error_type: "ChildWorkflowResolutionMissing".into(),
            non_retryable: true,
            details: vec![],
        }),
    }
}

/// A signal or cancellation request to another workflow: delivered, or why not.
pub(super) fn delivered(failure: Option<crate::temporal::proto::Failure>) -> Outcome {
    match failure {
        None => Ok(payload::to_wit(payload::null())),
        Some(f) => Err(payload::failure_to_wit(f)),
    }
}

pub(super) fn activity_outcome(resolution: Option<activity_result::ActivityResolution>) -> Outcome {
    use activity_resolution::Status;
    match resolution.and_then(|r| r.status) {
        Some(Status::Completed(s)) => Ok(payload::to_wit(s.result.unwrap_or_else(payload::null))),
        Some(Status::Failed(f)) => Err(payload::failure_to_wit(f.failure.unwrap_or_default())),
        Some(Status::Cancelled(c)) => Err(payload::failure_to_wit(c.failure.unwrap_or_default())),
        // Handled before: only local activities back off.
        Some(Status::Backoff(_)) | None => Err(Failure {
            message: "activity resolved without a result".into(),
            error_type: "ActivityResolutionMissing".into(),
            non_retryable: true,
            details: vec![],
        }),
    }
}
