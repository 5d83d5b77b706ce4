//! The state one workflow run shares with its guest's imports: the commands
//! gathered in the current activation and the outcome of each handle.
//!
//! [`RunState`] composes one small part per concern, each with its own
//! invariants and unit tests: [`handles`], [`budget`] (fuel, deadline, log
//! lines, commands, broken limits), [`signals`], [`updates`], [`patches`],
//! [`queries`], [`children`], [`local`] activities and [`cancel`]lation.
//! [`imports`] and [`activation`] are the two worlds' host functions on it.
//!
//! Everything here is a function of the run's history: time is the
//! activation's timestamp, randomness comes from the history's seed, and the
//! handles are resolved by activation jobs in history order.

use crate::bindings::types::{Failure, LogLevel, Payload};
use crate::bindings::workflow::weft::plugin::workflow_host::{
    self, ActivityOptions, ChildOptions, LocalActivityOptions, WorkflowInfo,
};
use crate::payload;
use crate::temporal::proto;
use crate::temporal::proto::workflow_commands::{
    CancelChildWorkflowExecution, CancelTimer, ContinueAsNewWorkflowExecution,
    ModifyWorkflowProperties, RequestCancelActivity, RequestCancelExternalWorkflowExecution,
    RequestCancelLocalActivity, ScheduleActivity, ScheduleLocalActivity, SetPatchMarker,
    SignalExternalWorkflowExecution, StartChildWorkflowExecution, StartTimer, UpdateResponse,
    UpsertWorkflowSearchAttributes, WorkflowCommand, signal_external_workflow_execution,
    update_response, workflow_command::Variant,
};
use budget::LogLine;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::Duration;

/// The longest guest log line kept, in bytes; longer ones are cut with a
/// marker saying how much was dropped.
pub(super) const MAX_LOG_LINE_BYTES: usize = 8 * 1024;
/// Guest log lines written per activation; the rest are dropped (with one
/// warning saying so).
pub(super) const MAX_LOG_LINES_PER_ACTIVATION: u32 = 200;

/// Commands one activation may issue: far more than any workflow needs, few
/// enough that a guest looping over `start-timer` cannot make the host hold
/// an unbounded list.
pub(super) const MAX_COMMANDS_PER_ACTIVATION: usize = 10_000;
/// Handles one run may hold live at once: created and not yet consumed
/// (`result` takes a handle's outcome and frees its slot). Each activity,
/// timer or child costs history events, and Temporal ends a run past 51,200
/// events, so only a guest piling up handles without history (signal or
/// update waiters, cancellation handles) in a loop reaches this.
pub(super) const MAX_HANDLES_PER_RUN: usize = 100_000;
/// Query names one run may publish.
pub(super) const MAX_QUERY_NAMES: usize = 256;
/// Bytes of all published query answers of one run (names and payloads).
pub(super) const MAX_QUERY_BYTES: usize = 4 << 20;
/// Distinct patch ids one run may ask about.
pub(super) const MAX_PATCHES: usize = 1_000;
/// The longest patch id, in bytes.
pub(super) const MAX_PATCH_ID_BYTES: usize = 1_024;
/// The largest command weft sends: Temporal's default blob size limit
/// (`limit.blobSize.error`, 2 MiB), past which the server refuses the
/// command and the task would only be retried.
pub(super) const MAX_COMMAND_BYTES: usize = 2 << 20;

pub use handles::HandleKind;

/// A handle's outcome once history resolved it.
pub(super) type Outcome = Result<Payload, Failure>;

/// Per-run state, shared between the activation driver and the guest's
/// imports: one part per concern, as sdk-core has one state machine per
/// command kind.
#[derive(Debug)]
pub struct RunState {
    info: WorkflowInfo,
    now_ms: u64,
    replaying: bool,
    rng: SplitMix64,
    handles: Handles,
    budget: Budget,
    last_error_log: Option<String>,
    signals: Signals,
    cancellation: Cancellation,
    answers: queries::Answers,
    patches: Patches,
    child_starts: ChildStarts,
    updates: Updates,
    locals: Locals,
    /// The activation-based world's part (`None` for a blocking guest).
    activation: Option<activation::ActivationState>,
}

impl RunState {
    /// State for a new run.
    pub fn new(info: WorkflowInfo, seed: u64) -> RunState {
        RunState {
            info,
            now_ms: 0,
            replaying: false,
            rng: SplitMix64(seed),
            handles: Handles::default(),
            budget: Budget::default(),
            last_error_log: None,
            signals: Signals::default(),
            cancellation: Cancellation::default(),
            answers: queries::Answers::default(),
            patches: Patches::default(),
            child_starts: ChildStarts::default(),
            updates: Updates::default(),
            locals: Locals::default(),
            activation: None,
        }
    }

    /// The run's identity.
    pub fn info(&self) -> &WorkflowInfo {
        &self.info
    }

    /// Set workflow time and replay flag from the activation.
    pub fn begin_activation(&mut self, now_ms: u64, replaying: bool) {
        self.now_ms = now_ms;
        self.replaying = replaying;
        self.budget.begin();
    }

    /// Each activation of this run may take as long as one workflow task
    /// (see [`super::epoch::deadline_ticks`]).
    pub fn set_task_timeout(&mut self, task_timeout: Option<Duration>) {
        self.budget.set_task_timeout(task_timeout);
    }

    /// Give each activation `ticks` epoch ticks, whatever the task timeout
    /// (deploy-time calls, which belong to no task).
    pub fn set_deadline_ticks(&mut self, ticks: u64) {
        self.budget.set_deadline_ticks(ticks);
    }

    /// The wall-clock deadline of an activation, in epoch ticks.
    pub fn deadline_ticks(&self) -> u64 {
        self.budget.deadline_ticks()
    }

    /// The guest entered the host with `left` fuel.
    pub fn record_fuel_left(&mut self, left: u64) {
        self.budget.record_fuel_left(left);
    }

    /// Fuel the guest spent in this activation so far.
    pub fn fuel_spent(&self) -> u64 {
        self.budget.fuel_spent()
    }

    /// True once per activation: the guest's next entry gets a full fuel
    /// budget (see [`super::WorkflowModule`]'s call hook).
    pub fn take_refuel(&mut self) -> bool {
        self.budget.take_refuel()
    }

    /// History gave a new seed (e.g. after a reset).
    pub fn reseed(&mut self, seed: u64) {
        self.rng = SplitMix64(seed);
    }

    /// History resolved the handle `seq` of the given kind. A resolution
    /// for a handle this run never created means the guest is out of step
    /// with history.
    pub fn resolve(&mut self, kind: HandleKind, seq: u32, outcome: Outcome) -> Result<(), String> {
        // An activation-based guest takes the outcome in a `resolved` job:
        // the slot is done with.
        let hand_over = self.activation.is_some();
        if let Some(outcome) = self.handles.resolve(kind, seq, outcome, hand_over)? {
            self.deliver(seq, outcome);
        }
        Ok(())
    }

    /// Core says local activity attempt `seq` failed and the next one must
    /// wait `backoff` on a timer (see [`local`]).
    pub fn back_off_local(
        &mut self,
        seq: u32,
        backoff: proto::activity_result::DoBackoff,
    ) -> Result<(), String> {
        let (handles, budget) = (&mut self.handles, &mut self.budget);
        let timer = self.locals.back_off(seq, backoff, || {
            let (seq, broken) = handles.take_seq();
            if let Some(limit) = broken {
                budget.violate(limit);
            }
            seq
        })?;
        self.push(Variant::StartTimer(timer));
        Ok(())
    }

    /// Timer `timer` fired. If it is a local activity's backoff, schedule
    /// the next attempt and return true; false for the guest's own timers.
    pub fn fire_local_backoff(&mut self, timer: u32) -> bool {
        let (handles, budget) = (&mut self.handles, &mut self.budget);
        let next = self.locals.fire(timer, || {
            let (seq, broken) = handles.take_seq();
            if let Some(limit) = broken {
                budget.violate(limit);
            }
            seq
        });
        match next {
            Some(command) => {
                self.push(Variant::ScheduleLocalActivity(command));
                true
            }
            None => false,
        }
    }

    /// Local activity attempt `seq` resolved for good: resolve the guest's
    /// handle.
    pub fn resolve_local(&mut self, seq: u32, outcome: Outcome) -> Result<(), String> {
        let h = self.locals.resolved(seq);
        self.resolve(HandleKind::LocalActivity, h, outcome)
    }

    /// The guest cancels local activity `h`: cancel the running attempt
    /// (core resolves the handle), or the backoff timer (resolved here).
    fn cancel_local(&mut self, h: u32) -> Result<(), String> {
        match self.locals.cancel(h) {
            None => Ok(()),
            Some(local::Cancel::Attempt(seq)) => {
                self.push(Variant::RequestCancelLocalActivity(
                    RequestCancelLocalActivity { seq },
                ));
                Ok(())
            }
            Some(local::Cancel::Backoff(seq)) => {
                self.push(Variant::CancelTimer(CancelTimer { seq }));
                let cancelled = payload::cancelled("local activity");
                self.resolve(HandleKind::LocalActivity, h, Err(cancelled))
            }
        }
    }

    /// History delivered a signal: resolve the oldest waiter of its name,
    /// or buffer it.
    pub fn signal(&mut self, name: &str, value: Payload) {
        if let Some((h, value)) = self.signals.deliver(name, value)
            && let Err(Ok(value)) = self.handles.fulfil(h, Ok(value))
        {
            self.signals.buffer(name, value);
        }
    }

    /// History resolved the start of child `seq`: started, or not.
    pub fn resolve_child_start(
        &mut self,
        seq: u32,
        started: Result<(), Failure>,
    ) -> Result<(), String> {
        self.child_starts.resolve(seq, started)
    }

    /// History holds the marker of patch `id`.
    pub fn notify_patch(&mut self, id: &str) {
        self.patches.notify(id);
    }

    /// The patch decision, made once per run as the Temporal SDKs make it
    /// (see [`patches`]): a decision taken for the first time records a
    /// marker.
    pub(crate) fn patch(&mut self, id: String, deprecated: bool) -> bool {
        let decision = self.patches.decide(&id, self.replaying);
        if decision.record {
            self.push(Variant::SetPatchMarker(SetPatchMarker {
                patch_id: id,
                deprecated,
            }));
        }
        decision.taken
    }

    /// Record (or, in replay, confirm) the pin of the module the run
    /// started on: a marker with the patch semantics, recorded by a new run
    /// and confirmed by a replay whose history has it.
    pub(crate) fn pin_module(&mut self, digest: &crate::store::Digest) {
        self.patch(format!("{}{digest}", super::PIN_PREFIX), false);
    }

    /// Temporal asked the run to stop: resolve its cancellation handles.
    pub fn request_cancellation(&mut self) {
        self.cancellation.request();
        self.handles.fulfil_all(HandleKind::Cancellation, || {
            Ok(payload::to_wit(payload::null()))
        });
    }

    /// True when cancellation was requested and the guest has not asked for
    /// its cancellation handle, so nothing in it will clean up.
    pub fn ignores_cancellation(&self) -> bool {
        self.cancellation.ignored()
    }

    /// True once Temporal asked the run to stop.
    pub fn cancel_requested(&self) -> bool {
        self.cancellation.requested()
    }

    /// The published answer to a query, or the names that have one.
    pub fn query(&self, name: &str) -> Result<Payload, Vec<String>> {
        self.answers.answer(name)
    }

    /// History delivered an update: hand it to the oldest waiter of its
    /// name, or queue it.
    pub fn deliver_update(&mut self, name: &str, protocol_instance_id: &str, input: Payload) {
        if let Some((h, input)) = self.updates.deliver(name, protocol_instance_id, input) {
            // A waiter's handle is live until it is resolved.
            let _ = self.handles.fulfil(h, Ok(input));
        }
    }

    fn answer_updates(&mut self, answers: Vec<updates::Answer>) {
        for (protocol_instance_id, response) in answers {
            self.push(Variant::UpdateResponse(UpdateResponse {
                protocol_instance_id,
                response: Some(response),
            }));
        }
    }

    /// Commands gathered since the last call, with an answer to every
    /// update delivered since.
    pub fn take_commands(&mut self) -> Vec<WorkflowCommand> {
        let answers = self.updates.settle();
        self.answer_updates(answers);
        self.budget.take_commands()
    }

    /// The last error-level line the guest logged (its panic hook's message).
    pub fn last_error_log(&self) -> Option<&str> {
        self.last_error_log.as_deref()
    }

    fn start(&mut self, kind: HandleKind, command: impl FnOnce(u32) -> Variant) -> u32 {
        let seq = self.new_handle(kind, None);
        self.push(command(seq));
        seq
    }

    /// The limit the guest broke, if any (taken: reported once).
    pub fn take_violation(&mut self) -> Option<String> {
        self.budget.take_violation()
    }

    fn note(&mut self, broken: Option<String>) {
        if let Some(limit) = broken {
            self.budget.violate(limit);
        }
    }

    fn new_handle(&mut self, kind: HandleKind, outcome: Option<Outcome>) -> u32 {
        if self.refuse_in_query("start something") {
            return 0;
        }
        let (seq, broken) = self.handles.open(kind, outcome);
        self.note(broken);
        seq
    }

    /// The guest took the outcome of `h`: free its slot.
    fn consume(&mut self, h: u32) -> Result<Option<Outcome>, String> {
        let outcome = self.handles.take(h)?;
        if outcome.is_some() {
            self.child_starts.forget(h);
        }
        Ok(outcome)
    }

    fn push(&mut self, variant: Variant) {
        if self.refuse_in_query("issue a command") {
            return;
        }
        self.budget.push(WorkflowCommand {
            variant: Some(variant),
            ..Default::default()
        });
    }

    /// A command the guest built whole (Temporal's world pushes core's
    /// commands as they are), under the same per-activation limit.
    pub(crate) fn push_command(&mut self, command: WorkflowCommand) {
        self.budget.push(command);
    }
}

/// A small, fast, well-mixed PRNG whose sequence is fixed by its seed.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The store data of a workflow instance.
pub struct RunHost {
    /// Shared with the activation driver.
    pub state: Arc<Mutex<RunState>>,
    /// Memory, table and instance limits.
    pub limits: super::GuestLimits,
}

impl RunHost {
    /// The shared run state.
    pub fn lock_state(&self) -> MutexGuard<'_, RunState> {
        // A poisoned lock means a host bug panicked mid-update; nothing the
        // guest did can cause it, so propagate the panic.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

mod activation;
mod budget;
mod cancel;
mod children;
mod handles;
mod imports;
mod local;
mod patches;
mod queries;
mod signals;
mod updates;

use budget::Budget;
use cancel::Cancellation;
use children::ChildStarts;
use handles::Handles;
use local::Locals;
use patches::Patches;
use signals::Signals;
use updates::Updates;

/// A payload of raw `data` with no metadata, for the parts' tests.
#[cfg(test)]
fn raw_payload(data: &str) -> Payload {
    Payload {
        metadata: vec![],
        data: data.as_bytes().to_vec(),
    }
}
