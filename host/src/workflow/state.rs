//! The state one workflow run shares with its guest's imports: the commands
//! gathered in the current activation and the outcome of each handle.
//!
//! Everything here is a function of the run's history: time is the
//! activation's timestamp, randomness comes from the history's seed, and the
//! handles are resolved by activation jobs in history order.

use crate::bindings::types::{Failure, LogLevel, Payload};
use crate::bindings::workflow::weft::plugin::workflow_host::{
    self, ActivityCancellation, ActivityOptions, ChildCancellation, ChildOptions,
    LocalActivityOptions, ParentClosePolicy, RetryPolicy, WorkflowInfo,
};
use crate::payload;
use crate::temporal::proto;
use crate::temporal::proto::child_workflow::{
    ChildWorkflowCancellationType, ParentClosePolicy as ProtoParentClosePolicy,
};
use crate::temporal::proto::workflow_commands::{
    ActivityCancellationType, CancelChildWorkflowExecution, CancelTimer,
    ContinueAsNewWorkflowExecution, ModifyWorkflowProperties, RequestCancelActivity,
    RequestCancelExternalWorkflowExecution, RequestCancelLocalActivity, ScheduleActivity,
    ScheduleLocalActivity, SetPatchMarker, SignalExternalWorkflowExecution,
    StartChildWorkflowExecution, StartTimer, UpdateResponse, UpsertWorkflowSearchAttributes,
    WorkflowCommand, signal_external_workflow_execution, update_response,
    workflow_command::Variant,
};
use crate::temporal::proto_duration;
use std::collections::BTreeSet;
use std::collections::{BTreeMap, VecDeque};
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::Duration;

/// The longest guest log line kept, in bytes; longer ones are cut with a
/// marker saying how much was dropped.
pub const MAX_LOG_LINE_BYTES: usize = 8 * 1024;
/// Guest log lines written per activation; the rest are dropped (with one
/// warning saying so).
pub const MAX_LOG_LINES_PER_ACTIVATION: u32 = 200;

/// Commands one activation may issue: far more than any workflow needs, few
/// enough that a guest looping over `start-timer` cannot make the host hold
/// an unbounded list.
pub const MAX_COMMANDS_PER_ACTIVATION: usize = 10_000;
/// Handles one run may hold live at once: created and not yet consumed
/// (`result` takes a handle's outcome and frees its slot). Each activity,
/// timer or child costs history events, and Temporal ends a run past 51,200
/// events, so only a guest piling up handles without history (signal or
/// update waiters, cancellation handles) in a loop reaches this.
pub const MAX_HANDLES_PER_RUN: usize = 100_000;
/// Query names one run may publish.
pub const MAX_QUERY_NAMES: usize = 256;
/// Bytes of all published query answers of one run (names and payloads).
pub const MAX_QUERY_BYTES: usize = 4 << 20;
/// Distinct patch ids one run may ask about.
pub const MAX_PATCHES: usize = 1_000;
/// The longest patch id, in bytes.
pub const MAX_PATCH_ID_BYTES: usize = 1_024;
/// The largest command weft sends: Temporal's default blob size limit
/// (`limit.blobSize.error`, 2 MiB), past which the server refuses the
/// command and the task would only be retried.
pub const MAX_COMMAND_BYTES: usize = 2 << 20;

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

/// An update this run received, and how far its answer got.
#[derive(Debug)]
struct Update {
    name: String,
    protocol_instance_id: String,
    input: Payload,
    /// Accepted (or rejected) already: only completion is left.
    settled: bool,
}

/// A handle's outcome once history resolved it.
pub type Outcome = Result<Payload, Failure>;

#[derive(Debug)]
struct Slot {
    kind: HandleKind,
    outcome: Option<Outcome>,
}

/// Per-run state, shared between the activation driver and the guest's
/// imports.
#[derive(Debug)]
pub struct RunState {
    info: WorkflowInfo,
    now_ms: u64,
    replaying: bool,
    rng: SplitMix64,
    /// The next handle (and command seq). Never reused, even once a
    /// handle is freed: core and history know commands by their seq.
    next_seq: u32,
    commands: Vec<WorkflowCommand>,
    /// Live handles. A handle is freed when `result` takes its outcome, so
    /// what a run holds depends only on the guest's calls, never on timing.
    slots: BTreeMap<u32, Slot>,
    last_error_log: Option<String>,
    /// Lines the guest logged in this activation.
    log_lines: u32,
    /// A limit the guest broke: its next return from the host traps.
    violation: Option<String>,
    refuel: bool,
    /// The wall-clock deadline of each activation, in epoch ticks.
    deadline_ticks: u64,
    /// Fuel left when the guest last entered the host (its last call, or
    /// its return): what this activation spent, for metrics.
    fuel_left: u64,
    /// Signals no one waited for yet, per name, in arrival order.
    signals: BTreeMap<String, VecDeque<Payload>>,
    /// Handles waiting for a signal, per name, in the order they asked.
    signal_waiters: BTreeMap<String, VecDeque<u32>>,
    /// Set when Temporal asked this run to stop.
    cancel_requested: bool,
    /// True once the guest asked for its cancellation handle.
    handles_cancellation: bool,
    /// Published query answers.
    queries: BTreeMap<String, Payload>,
    /// Their size: names, data and metadata.
    query_bytes: usize,
    /// Patches whose marker is in history (from `NotifyHasPatch`).
    known_patches: BTreeSet<String>,
    /// Patches this run decided on, and the decision.
    patches: BTreeMap<String, bool>,
    /// Children whose start is not yet resolved (`None`) or failed.
    child_starts: BTreeMap<u32, Option<Result<(), Failure>>>,
    /// Update names the guest asked for: it has a handler for them.
    update_names: BTreeSet<String>,
    /// Updates not picked up yet, in arrival order.
    updates: VecDeque<Update>,
    /// Updates picked up, by handle.
    updates_picked: BTreeMap<u32, Update>,
    /// Handles waiting for an update, per name.
    update_waiters: BTreeMap<String, VecDeque<u32>>,
    /// Local activities not resolved yet, by handle.
    locals: BTreeMap<u32, local::LocalActivity>,
    /// Seqs of later local activity attempts and backoff timers -> handle.
    local_seqs: BTreeMap<u32, u32>,
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
            next_seq: 1,
            commands: Vec::new(),
            slots: BTreeMap::new(),
            last_error_log: None,
            log_lines: 0,
            violation: None,
            refuel: true,
            deadline_ticks: super::epoch::deadline_ticks(None),
            fuel_left: super::FUEL_PER_ACTIVATION,
            signals: BTreeMap::new(),
            signal_waiters: BTreeMap::new(),
            cancel_requested: false,
            handles_cancellation: false,
            queries: BTreeMap::new(),
            query_bytes: 0,
            known_patches: BTreeSet::new(),
            patches: BTreeMap::new(),
            child_starts: BTreeMap::new(),
            update_names: BTreeSet::new(),
            updates: VecDeque::new(),
            updates_picked: BTreeMap::new(),
            update_waiters: BTreeMap::new(),
            locals: BTreeMap::new(),
            local_seqs: BTreeMap::new(),
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
        self.refuel = true;
        self.log_lines = 0;
        self.fuel_left = super::FUEL_PER_ACTIVATION;
    }

    /// Each activation of this run may take as long as one workflow task
    /// (see [`super::epoch::deadline_ticks`]).
    pub fn set_task_timeout(&mut self, task_timeout: Option<Duration>) {
        self.deadline_ticks = super::epoch::deadline_ticks(task_timeout);
    }

    /// Give each activation `ticks` epoch ticks, whatever the task timeout
    /// (deploy-time calls, which belong to no task).
    pub fn set_deadline_ticks(&mut self, ticks: u64) {
        self.deadline_ticks = ticks;
    }

    /// The wall-clock deadline of an activation, in epoch ticks.
    pub fn deadline_ticks(&self) -> u64 {
        self.deadline_ticks
    }

    /// The guest entered the host with `left` fuel.
    pub fn record_fuel_left(&mut self, left: u64) {
        self.fuel_left = left;
    }

    /// Fuel the guest spent in this activation so far.
    pub fn fuel_spent(&self) -> u64 {
        super::FUEL_PER_ACTIVATION.saturating_sub(self.fuel_left)
    }

    /// True once per activation: the guest's next entry gets a full fuel
    /// budget (see [`super::WorkflowModule`]'s call hook).
    pub fn take_refuel(&mut self) -> bool {
        std::mem::take(&mut self.refuel)
    }

    /// History gave a new seed (e.g. after a reset).
    pub fn reseed(&mut self, seed: u64) {
        self.rng = SplitMix64(seed);
    }

    /// History resolved the handle `seq` of the given kind. A resolution
    /// for a handle this run never created means the guest is out of step
    /// with history.
    pub fn resolve(&mut self, kind: HandleKind, seq: u32, outcome: Outcome) -> Result<(), String> {
        match self.slots.get_mut(&seq) {
            // An activation-based guest takes the outcome in a `resolved`
            // job: the slot is done with.
            Some(slot) if slot.kind == kind && self.activation.is_some() => {
                self.slots.remove(&seq);
                self.deliver(seq, outcome);
                Ok(())
            }
            Some(slot) if slot.kind == kind && slot.outcome.is_none() => {
                slot.outcome = Some(outcome);
                Ok(())
            }
            _ => Err(format!(
                "history resolves {kind:?} {seq}, which this run has not started"
            )),
        }
    }

    /// History delivered a signal: resolve the oldest waiter of its name,
    /// or buffer it.
    pub fn signal(&mut self, name: &str, value: Payload) {
        let waiter = self
            .signal_waiters
            .get_mut(name)
            .and_then(VecDeque::pop_front);
        match waiter.and_then(|h| self.slots.get_mut(&h)) {
            Some(slot) => slot.outcome = Some(Ok(value)),
            None => self
                .signals
                .entry(name.to_owned())
                .or_default()
                .push_back(value),
        }
    }

    /// History resolved the start of child `seq`: started, or not.
    pub fn resolve_child_start(
        &mut self,
        seq: u32,
        started: Result<(), Failure>,
    ) -> Result<(), String> {
        match self.child_starts.get_mut(&seq) {
            Some(slot @ None) => {
                *slot = Some(started);
                Ok(())
            }
            _ => Err(format!(
                "history resolves the start of child {seq}, which this run has not started"
            )),
        }
    }

    /// History holds the marker of patch `id`.
    pub fn notify_patch(&mut self, id: &str) {
        self.known_patches.insert(id.to_owned());
    }

    /// The patch decision, made once per run as the Temporal SDKs make it:
    /// new code always takes the patch (and records a marker); replay takes
    /// it only where history has the marker.
    pub(crate) fn patch(&mut self, id: String, deprecated: bool) -> bool {
        if let Some(&decision) = self.patches.get(&id) {
            return decision;
        }
        let decision = !self.replaying || self.known_patches.contains(&id);
        if decision {
            self.push(Variant::SetPatchMarker(SetPatchMarker {
                patch_id: id.clone(),
                deprecated,
            }));
        }
        self.patches.insert(id, decision);
        decision
    }

    /// Temporal asked the run to stop: resolve its cancellation handles.
    pub fn request_cancellation(&mut self) {
        self.cancel_requested = true;
        for slot in self.slots.values_mut() {
            if slot.kind == HandleKind::Cancellation && slot.outcome.is_none() {
                slot.outcome = Some(Ok(payload::to_wit(payload::null())));
            }
        }
    }

    /// True when cancellation was requested and the guest has not asked for
    /// its cancellation handle, so nothing in it will clean up.
    pub fn ignores_cancellation(&self) -> bool {
        self.cancel_requested && !self.handles_cancellation
    }

    /// True once Temporal asked the run to stop.
    pub fn cancel_requested(&self) -> bool {
        self.cancel_requested
    }

    /// The published answer to a query, or the names that have one.
    pub fn query(&self, name: &str) -> Result<Payload, Vec<String>> {
        self.queries
            .get(name)
            .cloned()
            .ok_or_else(|| self.queries.keys().cloned().collect())
    }

    /// History delivered an update: hand it to the oldest waiter of its
    /// name, or queue it.
    pub fn deliver_update(&mut self, name: &str, protocol_instance_id: &str, input: Payload) {
        let update = Update {
            name: name.to_owned(),
            protocol_instance_id: protocol_instance_id.to_owned(),
            input,
            settled: false,
        };
        let waiter = self
            .update_waiters
            .get_mut(name)
            .and_then(VecDeque::pop_front);
        match waiter {
            Some(h) => self.pick_update(h, update),
            None => self.updates.push_back(update),
        }
    }

    fn pick_update(&mut self, h: u32, update: Update) {
        if let Some(slot) = self.slots.get_mut(&h) {
            slot.outcome = Some(Ok(update.input.clone()));
        }
        self.updates_picked.insert(h, update);
    }

    fn respond_update(
        &mut self,
        protocol_instance_id: String,
        response: update_response::Response,
    ) {
        self.push(Variant::UpdateResponse(UpdateResponse {
            protocol_instance_id,
            response: Some(response),
        }));
    }

    /// Every update must be accepted or rejected in the activation that
    /// delivered it: accept those of a name the guest handles, reject the rest.
    fn settle_updates(&mut self) {
        let mut unsettled: Vec<(String, String)> = Vec::new();
        for u in self
            .updates
            .iter_mut()
            .chain(self.updates_picked.values_mut())
        {
            if !u.settled {
                u.settled = true;
                unsettled.push((u.name.clone(), u.protocol_instance_id.clone()));
            }
        }
        for (name, id) in unsettled {
            let response = if self.update_names.contains(&name) {
                update_response::Response::Accepted(())
            } else {
                self.updates.retain(|u| u.protocol_instance_id != id);
                update_response::Response::Rejected(payload::failure_from_wit(Failure {
                    message: format!("this workflow handles no update named `{name}`"),
                    error_type: "UpdateNotRegistered".into(),
                    non_retryable: true,
                    details: vec![],
                }))
            };
            self.respond_update(id, response);
        }
    }

    /// Commands gathered since the last call, with an answer to every
    /// update delivered since.
    pub fn take_commands(&mut self) -> Vec<WorkflowCommand> {
        self.settle_updates();
        std::mem::take(&mut self.commands)
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
        self.violation.take()
    }

    fn violate(&mut self, limit: String) {
        self.violation
            .get_or_insert_with(|| format!("policy violation: {limit}"));
    }

    fn new_handle(&mut self, kind: HandleKind, outcome: Option<Outcome>) -> u32 {
        if self.refuse_in_query("start something") {
            return 0;
        }
        if self.slots.len() >= MAX_HANDLES_PER_RUN {
            self.violate(format!(
                "more than {MAX_HANDLES_PER_RUN} live handles in one run (weft's handle limit)"
            ));
        }
        let seq = self.take_seq();
        self.slots.insert(seq, Slot { kind, outcome });
        seq
    }

    /// The next seq. Seqs are never reused, so a run that has used them
    /// all (four billion) breaks the handle limit instead of wrapping.
    fn take_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        match seq.checked_add(1) {
            Some(next) => self.next_seq = next,
            None => self.violate(format!(
                "all {} handle numbers of one run used (weft's handle limit)",
                u32::MAX - 1
            )),
        }
        seq
    }

    /// The guest took the outcome of `h`: free its slot.
    fn consume(&mut self, h: u32) -> Option<Outcome> {
        let outcome = self.slots.remove(&h)?.outcome;
        self.child_starts.remove(&h);
        outcome
    }

    fn push(&mut self, variant: Variant) {
        if self.refuse_in_query("issue a command") {
            return;
        }
        if self.commands.len() >= MAX_COMMANDS_PER_ACTIVATION {
            // Dropped: the guest traps when the call returns.
            self.violate(format!(
                "more than {MAX_COMMANDS_PER_ACTIVATION} commands in one activation \
                 (weft's command limit)"
            ));
            return;
        }
        self.commands.push(WorkflowCommand {
            variant: Some(variant),
            ..Default::default()
        });
    }

    /// A command the guest built whole (Temporal's world pushes core's
    /// commands as they are), under the same per-activation limit.
    pub(crate) fn push_command(&mut self, command: WorkflowCommand) {
        if self.commands.len() >= MAX_COMMANDS_PER_ACTIVATION {
            // Dropped: the guest traps when the call returns.
            self.violate(format!(
                "more than {MAX_COMMANDS_PER_ACTIVATION} commands in one activation \
                 (weft's command limit)"
            ));
            return;
        }
        self.commands.push(command);
    }

    /// True for a handle this run created and has since consumed.
    fn consumed(&self, h: u32) -> bool {
        h != 0 && h < self.next_seq && !self.slots.contains_key(&h)
    }

    fn check_handle(&self, h: u32) -> wasmtime::Result<()> {
        if self.slots.contains_key(&h) {
            Ok(())
        } else if self.consumed(h) {
            wasmtime::bail!(
                "guest used handle {h} after taking its result (`result` consumes a handle)"
            )
        } else {
            wasmtime::bail!("guest used unknown handle {h}")
        }
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
mod imports;
mod local;
