//! Runs of Temporal's own workflow components, world
//! `temporal:workflow-runtime@0.1.0` (`wit/temporal-workflow-runtime/`, as
//! `temporalio-workflow` 1.1.1 ships it).
//!
//! The world is close to weft's activation world: the guest gets each
//! activation (core's `WorkflowActivation`, encoded) on a
//! `workflow-instance` resource, answers per job, and the host polls its
//! routines (main, signal and update handlers) with `poll-routine` until
//! none makes progress; the guest pushes core's own commands. What this
//! module does with the answers is what Temporal's host
//! (`temporalio-sdk`'s `workflow_wasm.rs` and `workflow_future.rs`) does.
//! Many runs share an instance, one `workflow-instance` per run, as in
//! [`super::pool`]; fuel, the activation deadline, memory limits, the pin
//! marker and trap handling are the activation world's.

mod imports;
mod load;
mod results;

use super::WorkflowModule;
use super::pool::{self, Instantiated, lock, once};
use super::pooled::PooledRun;
use super::run::{TaskFailure, within_limits};
use super::state::RunHost;
use crate::bindings::temporal_runtime::WorkflowModule as Bindings;
use crate::bindings::temporal_runtime::WorkflowModulePre;
use crate::bindings::temporal_runtime::temporal::workflow_runtime::types as wit;
use crate::store::Digest;
use crate::temporal::proto::workflow_activation::{
    InitializeWorkflow, WorkflowActivation, workflow_activation_job::Variant as CoreJob,
};
use crate::temporal::proto::workflow_commands::WorkflowCommand;
use crate::temporal::timestamp_millis;
use prost::Message;
use std::sync::Arc;
use wasmtime::component::ResourceAny;

pub(super) use results::MAIN_ROUTINE_ID;

/// The world weft serves, as components export it.
pub(super) const GUEST_EXPORT: &str = "temporal:workflow-runtime/workflow-guest@0.1.0";
/// What such a component may import: the host interface and the
/// function-less types interface.
pub(super) const ALLOWED_IMPORTS: &[&str] = &[
    "temporal:workflow-runtime/workflow-host@0.1.0",
    "temporal:workflow-runtime/types@0.1.0",
];
/// Prefix of every interface of Temporal's world, whatever its version.
pub(super) const PACKAGE_PREFIX: &str = "temporal:workflow-runtime/";

/// Routine polls one activation may take: a guest whose routines keep
/// reporting progress forever fails its task instead of holding the host.
const MAX_POLL_ROUNDS: u32 = 10_000;

/// The instances of a Temporal workflow module.
pub(super) type Pool = pool::Pool<WorkflowModulePre<RunHost>, Bindings>;

type Guest = Instantiated<Bindings>;

/// A run of a Temporal workflow component.
pub struct TemporalRun {
    core: PooledRun<Bindings>,
    /// What `instantiate-workflow` gets, until it is called.
    init: Option<wit::WorkflowInit>,
    /// Signal and update routines still running.
    routines: Vec<u64>,
    /// The main routine ended: later activations only answer queries.
    closed: bool,
}

impl TemporalRun {
    /// Place a new run (or a replay from the start) on an instance.
    pub fn start(
        module: Arc<WorkflowModule>,
        init: InitializeWorkflow,
        run_id: &str,
        namespace: &str,
        task_queue: &str,
        pin: Option<Digest>,
    ) -> TemporalRun {
        let core = PooledRun::start(module, &init, run_id, namespace, task_queue, pin);
        TemporalRun {
            core,
            init: Some(wit::WorkflowInit {
                namespace: namespace.to_owned(),
                task_queue: task_queue.to_owned(),
                run_id: run_id.to_owned(),
                initialize_workflow: init.encode_to_vec(),
            }),
            routines: Vec::new(),
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
        // The pin marker comes first, before anything the guest issues.
        let mut commands = {
            let state = self.core.state.clone();
            let mut state = lock(&state);
            state.begin_activation(timestamp_millis(act.timestamp.as_ref()), act.is_replaying);
            for job in act.jobs.iter().filter_map(|j| j.variant.as_ref()) {
                if let CoreJob::NotifyHasPatch(p) = job {
                    state.notify_patch(&p.patch_id);
                }
            }
            self.core.record_pin(&mut state);
            state.take_commands()
        };
        let object = self.object(guest)?;
        let (contexts, poll) = results::contexts(act);
        let activated = once(
            guest
                .bindings
                .temporal_workflow_runtime_workflow_guest()
                .workflow_instance()
                .call_activate(&mut guest.store, object, &act.encode_to_vec()),
        );
        let result = activated
            .map_err(|trap| self.core.lost(trap))?
            .map_err(|f| results::failed_task("the workflow failed its activation", f))?;
        results::job_results(contexts, result, &mut commands, &mut self.routines)?;
        if poll && !self.closed {
            self.drive(guest, object, &mut commands)?;
        }
        let mut state = lock(&self.core.state);
        commands.extend(state.take_commands());
        within_limits(&mut state, &commands)?;
        Ok(commands)
    }

    /// The run's `workflow-instance`, made by its first activation.
    fn object(&mut self, guest: &mut Guest) -> Result<ResourceAny, TaskFailure> {
        if let Some(object) = self.core.object {
            return Ok(object);
        }
        let init = self.init.take().ok_or_else(|| {
            TaskFailure("the run's workflow instance was not made and cannot be".into())
        })?;
        let exports = guest.bindings.temporal_workflow_runtime_workflow_guest();
        let made = once(exports.call_instantiate_workflow(&mut guest.store, &init));
        let object = made
            .map_err(|trap| self.core.lost(trap))?
            .map_err(|f| results::failed_task("the workflow could not start", f))?;
        self.core.object = Some(object);
        Ok(object)
    }

    /// Poll the signal and update routines, then the main routine, round
    /// after round until none makes progress or the run ends (what
    /// Temporal's host does after each activation).
    fn drive(
        &mut self,
        guest: &mut Guest,
        object: ResourceAny,
        commands: &mut Vec<WorkflowCommand>,
    ) -> Result<(), TaskFailure> {
        for _ in 0..MAX_POLL_ROUNDS {
            let mut progress = false;
            let mut waiting_on_interceptor = false;
            for routine in std::mem::take(&mut self.routines) {
                let polled = self.poll(guest, object, routine)?;
                progress |= polled.made_progress;
                waiting_on_interceptor |= interceptor_pending(&polled);
                match polled.completion {
                    None => self.routines.push(routine),
                    Some(done) => commands.extend(results::handler_completion(done)?),
                }
            }
            let polled = self.poll(guest, object, MAIN_ROUTINE_ID)?;
            progress |= polled.made_progress;
            waiting_on_interceptor |= interceptor_pending(&polled);
            match polled.completion {
                Some(wit::RoutineCompletion::Main(wit::MainRoutineCompletion::Blocked)) => {}
                Some(wit::RoutineCompletion::Main(wit::MainRoutineCompletion::TaskFailed(f))) => {
                    let what = match f.force_cause {
                        Some(cause) => format!("the workflow failed its task (cause {cause})"),
                        None => "the workflow failed its task".to_owned(),
                    };
                    return Err(results::failed_task(&what, f.failure));
                }
                Some(wit::RoutineCompletion::Main(wit::MainRoutineCompletion::Terminal(end))) => {
                    self.closed = true;
                    let close = results::terminal(end)?;
                    lock(&self.core.state).push_command(close);
                    return Ok(());
                }
                other => {
                    return Err(TaskFailure(format!(
                        "the main routine answered {other:?} instead of its completion"
                    )));
                }
            }
            if !progress {
                // Temporal's host would wait for a wake no activation
                // brings; with nondeterminism detection on (its default)
                // it fails the task, as here.
                if waiting_on_interceptor {
                    return Err(TaskFailure(
                        "a workflow interceptor waits without polling its handler or an SDK \
                         operation that a later activation resolves"
                            .into(),
                    ));
                }
                return Ok(());
            }
        }
        Err(TaskFailure(format!(
            "the workflow's routines kept making progress for {MAX_POLL_ROUNDS} rounds of \
             one activation (an endless loop?)"
        )))
    }

    fn poll(
        &mut self,
        guest: &mut Guest,
        object: ResourceAny,
        routine: u64,
    ) -> Result<wit::RoutinePollResult, TaskFailure> {
        let exports = guest.bindings.temporal_workflow_runtime_workflow_guest();
        let polled = once(exports.workflow_instance().call_poll_routine(
            &mut guest.store,
            object,
            routine,
        ));
        polled
            .map_err(|trap| self.core.lost(trap))?
            .map_err(|f| results::failed_task("a workflow routine failed", f))
    }
}

fn interceptor_pending(polled: &wit::RoutinePollResult) -> bool {
    matches!(
        polled.pending_state,
        Some(wit::RoutinePendingState::Interceptor)
    )
}
