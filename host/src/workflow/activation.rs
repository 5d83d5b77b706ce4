//! Runs of activation-based guests (`activation-workflow` world): each run
//! is a `run` object inside an instance that hosts many runs of the same
//! module, one activation at a time.
//!
//! Between activations no host stack is live: a parked run costs its guest
//! state and its [`RunState`]. Instances are shared and recycled as
//! [`super::pool`] says.

use super::WorkflowModule;
use super::convert::child_start;
use super::pool::{self, Instantiated, lock, once};
use super::pooled::PooledRun;
use super::run::{TaskFailure, apply_resolution, command, within_limits};
use super::state::{HandleKind, Outcome, RunHost};
use crate::bindings::activation::exports::weft::plugin::activation_guest::{
    ChildStart, Job, Resolution, RunStatus, Signal, Update,
};
use crate::bindings::activation::{ActivationWorkflow, ActivationWorkflowPre};
use crate::bindings::types::Payload;
use crate::payload;
use crate::store::Digest;
use crate::temporal::proto::workflow_activation::{
    InitializeWorkflow, QueryWorkflow, WorkflowActivation,
    workflow_activation_job::Variant as CoreJob,
};
use crate::temporal::proto::workflow_commands::{
    CancelWorkflowExecution, CompleteWorkflowExecution, ContinueAsNewWorkflowExecution,
    FailWorkflowExecution, QueryResult, QuerySuccess, WorkflowCommand, query_result,
    workflow_command::Variant as Command,
};
use crate::temporal::timestamp_millis;
use std::sync::Arc;

/// The instances of an activation-based module.
pub(super) type Pool = pool::Pool<ActivationWorkflowPre<RunHost>, ActivationWorkflow>;

type Guest = Instantiated<ActivationWorkflow>;

/// A run of an activation-based guest.
pub struct ActivationRun {
    core: PooledRun<ActivationWorkflow>,
    /// Workflow type and arguments, until the object is constructed.
    start: Option<(String, Vec<Payload>)>,
    /// The run returned: later activations only answer queries.
    closed: bool,
}

impl ActivationRun {
    /// Place a new run (or a replay from the start) on an instance.
    pub fn start(
        module: Arc<WorkflowModule>,
        init: InitializeWorkflow,
        run_id: &str,
        namespace: &str,
        task_queue: &str,
        pin: Option<Digest>,
    ) -> ActivationRun {
        let core = PooledRun::start(module, &init, run_id, namespace, task_queue, pin);
        let args = init.arguments.into_iter().map(payload::to_wit).collect();
        ActivationRun {
            core,
            start: Some((init.workflow_type, args)),
            closed: false,
        }
    }

    /// The module this run executes on.
    pub fn module(&self) -> &Arc<WorkflowModule> {
        self.core.module()
    }

    /// Fuel the guest spent in the last activation.
    pub fn fuel_spent(&self) -> u64 {
        self.core.fuel_spent()
    }

    /// Runs to evict from core's cache (they replay on a fresh instance).
    pub fn take_orphans(&mut self) -> Vec<String> {
        self.core.take_orphans()
    }

    /// Deliver an activation; answer with the commands the run issued.
    pub fn activate(
        &mut self,
        act: &WorkflowActivation,
    ) -> Result<Vec<WorkflowCommand>, TaskFailure> {
        // The activation deadline counts only while guest code runs.
        let _running = self.core.module().epochs.running();
        let instance = self.core.instance();
        let mut slot = lock(&instance.guest);
        let guest = self.core.enter(&mut *slot)?;
        let (jobs, queries) = self.jobs(act)?;
        let mut commands = Vec::new();
        if !self.closed {
            commands = self.advance(guest, jobs)?;
        }
        let mut state = lock(&self.core.state);
        state.reject_unanswered_updates();
        commands.extend(state.take_commands());
        within_limits(&mut state, &commands)?;
        drop(state);
        for q in queries {
            commands.push(self.query(guest, q)?);
        }
        Ok(commands)
    }

    /// The activation's jobs as the guest reads them, in history order,
    /// after applying them to the run state; and its queries.
    fn jobs(
        &mut self,
        act: &WorkflowActivation,
    ) -> Result<(Vec<Job>, Vec<QueryWorkflow>), TaskFailure> {
        let state = self.core.state.clone();
        let mut state = lock(&state);
        state.begin_activation(timestamp_millis(act.timestamp.as_ref()), act.is_replaying);
        let (mut jobs, mut queries) = (Vec::new(), Vec::new());
        for job in act.jobs.iter().filter_map(|j| j.variant.as_ref()) {
            match job {
                CoreJob::InitializeWorkflow(_) | CoreJob::RemoveFromCache(_) => {}
                // The guest hears whether a child started, and a child that
                // did not start has no result to wait for.
                CoreJob::ResolveChildWorkflowExecutionStart(r) => {
                    apply_resolution(&mut state, job)?;
                    let started = child_start(&r.status);
                    jobs.push(Job::ChildStarted(ChildStart {
                        handle: r.seq,
                        outcome: started.clone(),
                    }));
                    if let Err(failure) = started {
                        state
                            .resolve(HandleKind::Child, r.seq, Err(failure))
                            .map_err(TaskFailure)?;
                    }
                }
                job if apply_resolution(&mut state, job)? => {}
                CoreJob::SignalWorkflow(s) => jobs.push(Job::Signal(Signal {
                    name: s.signal_name.clone(),
                    args: s.input.iter().cloned().map(payload::to_wit).collect(),
                })),
                CoreJob::CancelWorkflow(_) => {
                    state.request_cancellation();
                    jobs.push(Job::CancelRequested);
                }
                CoreJob::DoUpdate(u) => {
                    state.open_update(&u.protocol_instance_id, &u.name);
                    jobs.push(Job::Update(Update {
                        id: u.protocol_instance_id.clone(),
                        name: u.name.clone(),
                        args: u.input.iter().cloned().map(payload::to_wit).collect(),
                        run_validator: u.run_validator,
                    }));
                }
                CoreJob::QueryWorkflow(q) => queries.push(q.clone()),
                other => {
                    return Err(TaskFailure(format!(
                        "weft does not support this activation job yet: {other:?}"
                    )));
                }
            }
            jobs.extend(resolved(state.take_resolutions()));
        }
        // The pin marker comes first, before anything the guest issues,
        // with the patch semantics: recorded by a new run, confirmed by a
        // replay whose history has it.
        self.core.record_pin(&mut state);
        Ok((jobs, queries))
    }

    /// Run the guest on `jobs`, and again on what the host resolved
    /// meanwhile (a cancelled timer), until it waits or returns.
    fn advance(
        &mut self,
        guest: &mut Guest,
        mut jobs: Vec<Job>,
    ) -> Result<Vec<WorkflowCommand>, TaskFailure> {
        let runs = guest.bindings.weft_plugin_activation_guest().run();
        let object = match self.core.object {
            Some(object) => object,
            None => {
                let (workflow_type, args) = self.start.take().unwrap_or_default();
                let made = once(runs.call_constructor(&mut guest.store, &workflow_type, &args));
                let object = made.map_err(|trap| self.core.lost(trap))?;
                self.core.object = Some(object);
                object
            }
        };
        let mut commands = Vec::new();
        loop {
            let status = once(runs.call_activate(&mut guest.store, object, &jobs));
            let status = status.map_err(|trap| self.core.lost(trap))?;
            let mut state = lock(&self.core.state);
            commands.extend(state.take_commands());
            let close = match status {
                RunStatus::Waiting => {
                    jobs = resolved(state.take_resolutions()).collect();
                    if jobs.is_empty() {
                        return Ok(commands);
                    }
                    continue;
                }
                RunStatus::Completed(Ok(result)) => {
                    Command::CompleteWorkflowExecution(CompleteWorkflowExecution {
                        result: Some(payload::from_wit(result)),
                    })
                }
                RunStatus::Completed(Err(failure))
                    if failure.error_type == super::run::CANCELLED_ERROR
                        && state.cancel_requested() =>
                {
                    Command::CancelWorkflowExecution(CancelWorkflowExecution::default())
                }
                RunStatus::Completed(Err(failure)) => {
                    Command::FailWorkflowExecution(FailWorkflowExecution {
                        failure: Some(payload::failure_from_wit(failure)),
                    })
                }
                RunStatus::ContinueAsNew(args) => {
                    let info = state.info();
                    Command::ContinueAsNewWorkflowExecution(ContinueAsNewWorkflowExecution {
                        workflow_type: info.workflow_type.clone(),
                        task_queue: info.task_queue.clone(),
                        arguments: args.into_iter().map(payload::from_wit).collect(),
                        ..Default::default()
                    })
                }
            };
            self.closed = true;
            commands.push(command(close));
            return Ok(commands);
        }
    }

    /// Answer a query from the guest's handler, read-only.
    fn query(
        &mut self,
        guest: &mut Guest,
        q: QueryWorkflow,
    ) -> Result<WorkflowCommand, TaskFailure> {
        let args: Vec<Payload> = q.arguments.into_iter().map(payload::to_wit).collect();
        let answer = match self.core.object {
            Some(object) => {
                lock(&self.core.state).set_in_query(true);
                let runs = guest.bindings.weft_plugin_activation_guest().run();
                let answer = once(runs.call_query(&mut guest.store, object, &q.query_type, &args));
                lock(&self.core.state).set_in_query(false);
                let answer = answer.map_err(|trap| self.core.lost(trap))?;
                let violation = lock(&self.core.state).take_query_violation();
                match violation {
                    // The handler may have changed the run's guest state:
                    // the run replays before its next activation.
                    Some(violation) => {
                        self.core.evict_self();
                        Err(payload::non_retryable_failure(
                            format!(
                                "query `{}` failed: {violation}; query handlers are read-only",
                                q.query_type
                            ),
                            "QueryHandlerNotReadOnly",
                        ))
                    }
                    None => answer,
                }
            }
            None => Err(payload::non_retryable_failure(
                format!("query `{}`: the run has not started", q.query_type),
                "QueryFailed",
            )),
        };
        let variant = match answer {
            Ok(value) => query_result::Variant::Succeeded(QuerySuccess {
                response: Some(payload::from_wit(value)),
            }),
            Err(failure) => query_result::Variant::Failed(payload::failure_from_wit(failure)),
        };
        Ok(command(Command::RespondToQuery(QueryResult {
            query_id: q.query_id,
            variant: Some(variant),
        })))
    }
}

fn resolved(outcomes: Vec<(u32, Outcome)>) -> impl Iterator<Item = Job> {
    outcomes
        .into_iter()
        .map(|(handle, outcome)| Job::Resolved(Resolution { handle, outcome }))
}
