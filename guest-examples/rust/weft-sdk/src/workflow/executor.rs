//! The run's executor: each run is a set of coroutines (the workflow
//! function, the tasks it spawns, and one per running signal or update
//! handler) that the host's activations advance.
//!
//! Scheduling is deterministic: an activation applies its jobs in order
//! (a signal with a handler starts that handler's coroutine; an update
//! with a handler runs its validator and starts its coroutine), then polls
//! every woken task in the order the tasks were spawned, round after
//! round, re-checking `wait_condition` predicates after each round, until
//! none is woken; so a run makes the same calls in the same order on every
//! replay.

use super::bindings::exports::weft::plugin::activation_guest::{Job, RunStatus, Update};
use crate::{Failure, LogLevel, Payload, non_retryable};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

/// The workflow function's future: its result or failure.
pub type MainFuture = Pin<Box<dyn Future<Output = Result<Payload, Failure>>>>;
pub(crate) type Task = Pin<Box<dyn Future<Output = ()>>>;
pub(crate) type QueryHandler = Box<dyn Fn(Vec<Payload>) -> Result<Payload, Failure>>;
/// Starts a signal handler's coroutine for one signal's arguments.
pub(crate) type SignalHandler = Rc<dyn Fn(Vec<Payload>) -> Task>;
/// An update's validator (read-only; its failure rejects the update).
pub(crate) type Validator = Box<dyn Fn(&[Payload]) -> Result<(), Failure>>;
/// Starts an update handler's coroutine; it ends with the update's outcome.
pub(crate) type UpdateFn = Box<dyn Fn(Vec<Payload>) -> MainFuture>;

/// An update handler and its optional validator.
pub(crate) struct UpdateHandler {
    pub(crate) validator: Option<Validator>,
    pub(crate) handler: UpdateFn,
}

/// A predicate a task waits on, with that task's waker.
type Condition = (Rc<dyn Fn() -> bool>, Waker);

/// A task's wake flag (wasm guests are single-threaded; `Waker` needs
/// `Send + Sync`, hence the atomic).
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The host calls the executor makes for updates and warnings. On wasm
/// they are the imports; native unit tests record them instead.
#[cfg(target_arch = "wasm32")]
mod calls {
    use super::super::host;
    use crate::{Failure, LogLevel, Payload};

    pub(super) fn accept_update(id: &str) {
        host::accept_update(id)
    }
    pub(super) fn reject_update(id: &str, failure: &Failure) {
        host::reject_update(id, failure)
    }
    pub(super) fn complete_update(id: &str, outcome: Result<&Payload, &Failure>) {
        host::complete_update(id, outcome)
    }
    pub(super) fn log(level: LogLevel, message: &str) {
        host::log(level, message)
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod calls {
    use crate::{Failure, LogLevel, Payload};
    use std::cell::RefCell;

    thread_local! {
        /// What the executor told the host, for unit tests.
        pub(crate) static CALLS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    fn record(call: String) {
        CALLS.with(|c| c.borrow_mut().push(call));
    }
    pub(super) fn accept_update(id: &str) {
        record(format!("accept {id}"))
    }
    pub(super) fn reject_update(id: &str, failure: &Failure) {
        record(format!("reject {id}: {}", failure.message))
    }
    pub(super) fn complete_update(id: &str, outcome: Result<&Payload, &Failure>) {
        match outcome {
            Ok(p) => record(format!(
                "complete {id}: {}",
                String::from_utf8_lossy(&p.data)
            )),
            Err(f) => record(format!("fail {id}: {}", f.message)),
        }
    }
    pub(super) fn log(_: LogLevel, message: &str) {
        record(format!("log {message}"))
    }
}

/// One run's state, apart from every other run in the instance.
#[derive(Default)]
pub(crate) struct RunCtx {
    /// Outcomes history gave, not yet taken by the future waiting on them.
    outcomes: RefCell<HashMap<u32, Result<Payload, Failure>>>,
    /// Whether each child started.
    child_starts: RefCell<HashMap<u32, Result<(), Failure>>>,
    /// Who waits on what.
    wakers: RefCell<HashMap<u32, Waker>>,
    /// Signals no one took yet (and no handler), per name, in arrival order.
    signals: RefCell<BTreeMap<String, VecDeque<Vec<Payload>>>>,
    signal_wakers: RefCell<BTreeMap<String, Vec<Waker>>>,
    signal_handlers: RefCell<BTreeMap<String, SignalHandler>>,
    update_handlers: RefCell<BTreeMap<String, Rc<UpdateHandler>>>,
    /// Updates delivered before a handler for them was set, in order. Those
    /// still without one when the activation ends are rejected.
    pending_updates: RefCell<Vec<Update>>,
    /// Signal and update handlers still running: what each one is.
    running_handlers: RefCell<BTreeMap<u64, String>>,
    /// Predicates tasks wait on, by the waiting future's id.
    conditions: RefCell<BTreeMap<u64, Condition>>,
    /// Published query answers, and query handlers.
    published: RefCell<BTreeMap<String, Payload>>,
    queries: RefCell<BTreeMap<String, QueryHandler>>,
    cancel_requested: Cell<bool>,
    /// True once the workflow asked for its cancellation (it handles it).
    handles_cancellation: Cell<bool>,
    cancel_wakers: RefCell<Vec<Waker>>,
    /// Unfinished tasks, in spawn order, with their wake flags.
    tasks: RefCell<Vec<(Task, Arc<Flag>)>>,
    /// Tasks spawned in the current round: they join after it.
    spawned: RefCell<Vec<(Task, Arc<Flag>)>>,
    result: RefCell<Option<Result<Payload, Failure>>>,
    continue_as_new: RefCell<Option<Vec<Payload>>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<RunCtx>>> = const { RefCell::new(None) };
    /// Ids of condition futures and handler coroutines, unique in the
    /// instance (so a future dropped while another run is current cannot
    /// touch that run's entries).
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
}

/// The run being activated. Workflow code only runs inside an activation.
pub(crate) fn current() -> Rc<RunCtx> {
    try_current().expect("workflow code runs only inside an activation")
}

fn try_current() -> Option<Rc<RunCtx>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// A fresh instance-wide id.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    })
}

/// Forget the condition of a dropped `wait_condition` future.
pub(crate) fn forget_condition(id: u64) {
    if let Some(ctx) = try_current()
        && let Ok(mut conditions) = ctx.conditions.try_borrow_mut()
    {
        conditions.remove(&id);
    }
}

/// Make `ctx` current while `f` runs.
fn with<T>(ctx: &Rc<RunCtx>, f: impl FnOnce() -> T) -> T {
    let previous = CURRENT.with(|c| c.replace(Some(ctx.clone())));
    let out = f();
    CURRENT.with(|c| *c.borrow_mut() = previous);
    out
}

impl RunCtx {
    /// The outcome of `handle` if history gave it; else wait for it.
    pub(crate) fn poll_outcome(
        &self,
        handle: u32,
        cx: &Context<'_>,
    ) -> Poll<Result<Payload, Failure>> {
        match self.outcomes.borrow_mut().remove(&handle) {
            Some(outcome) => Poll::Ready(outcome),
            None => {
                self.wakers.borrow_mut().insert(handle, cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// Whether child `handle` started, once history says.
    pub(crate) fn poll_child_start(
        &self,
        handle: u32,
        cx: &Context<'_>,
    ) -> Poll<Result<(), Failure>> {
        match self.child_starts.borrow_mut().remove(&handle) {
            Some(started) => Poll::Ready(started),
            None => {
                self.wakers.borrow_mut().insert(handle, cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// The next signal named `name`.
    pub(crate) fn poll_signal(&self, name: &str, cx: &Context<'_>) -> Poll<Vec<Payload>> {
        if let Some(args) = self
            .signals
            .borrow_mut()
            .get_mut(name)
            .and_then(VecDeque::pop_front)
        {
            return Poll::Ready(args);
        }
        self.signal_wakers
            .borrow_mut()
            .entry(name.to_owned())
            .or_default()
            .push(cx.waker().clone());
        Poll::Pending
    }

    /// Ready once cancellation of the run is requested.
    pub(crate) fn poll_cancelled(&self, cx: &Context<'_>) -> Poll<()> {
        self.handles_cancellation.set(true);
        if self.cancel_requested.get() {
            return Poll::Ready(());
        }
        self.cancel_wakers.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }

    /// Ready once `predicate` holds; until then the executor re-checks it
    /// after every round.
    pub(crate) fn poll_condition(
        &self,
        id: u64,
        predicate: &Rc<dyn Fn() -> bool>,
        cx: &Context<'_>,
    ) -> Poll<()> {
        if predicate() {
            self.conditions.borrow_mut().remove(&id);
            return Poll::Ready(());
        }
        self.conditions
            .borrow_mut()
            .insert(id, (predicate.clone(), cx.waker().clone()));
        Poll::Pending
    }

    /// True when no signal or update handler is running.
    pub(crate) fn all_handlers_finished(&self) -> bool {
        self.running_handlers.borrow().is_empty()
    }

    pub(crate) fn publish(&self, name: &str, value: Payload) {
        self.published.borrow_mut().insert(name.to_owned(), value);
    }

    pub(crate) fn set_query_handler(&self, name: &str, handler: QueryHandler) {
        self.queries.borrow_mut().insert(name.to_owned(), handler);
    }

    /// Handle signals named `name` with `handler`, starting with those
    /// buffered so far (in arrival order).
    pub(crate) fn set_signal_handler(&self, name: &str, handler: SignalHandler) {
        self.signal_handlers
            .borrow_mut()
            .insert(name.to_owned(), handler.clone());
        let buffered = self.signals.borrow_mut().remove(name).unwrap_or_default();
        for args in buffered {
            self.start_handler(format!("signal `{name}`"), handler(args));
        }
    }

    /// Handle updates named `name` with `handler`, starting with those
    /// delivered before it was set.
    pub(crate) fn set_update_handler(&self, name: &str, handler: UpdateHandler) {
        self.update_handlers
            .borrow_mut()
            .insert(name.to_owned(), Rc::new(handler));
        let waiting: Vec<Update> = {
            let mut pending = self.pending_updates.borrow_mut();
            let (mine, others) = std::mem::take(&mut *pending)
                .into_iter()
                .partition(|u| u.name == name);
            *pending = others;
            mine
        };
        for update in waiting {
            self.dispatch_update(update);
        }
    }

    pub(crate) fn spawn(&self, task: Task) {
        // Spawned tasks join the run at the end of the current round.
        self.spawned
            .borrow_mut()
            .push((task, Arc::new(Flag(AtomicBool::new(true)))));
    }

    /// Spawn a handler's coroutine, counted as running until it ends.
    fn start_handler(&self, what: String, task: Task) {
        let id = next_id();
        self.running_handlers.borrow_mut().insert(id, what);
        self.spawn(Box::pin(async move {
            task.await;
            current().running_handlers.borrow_mut().remove(&id);
        }));
    }

    pub(crate) fn continue_as_new(&self, args: Vec<Payload>) {
        *self.continue_as_new.borrow_mut() = Some(args);
    }

    fn wake(&self, handle: u32) {
        if let Some(w) = self.wakers.borrow_mut().remove(&handle) {
            w.wake();
        }
    }

    /// Validate, accept and start update `u`, or keep it until its handler
    /// is set.
    fn dispatch_update(&self, u: Update) {
        let handler = self.update_handlers.borrow().get(&u.name).cloned();
        let Some(handler) = handler else {
            self.pending_updates.borrow_mut().push(u);
            return;
        };
        // On replay of an accepted update the validator does not run again.
        if u.run_validator
            && let Some(validate) = &handler.validator
            && let Err(failure) = validate(&u.args)
        {
            calls::reject_update(&u.id, &failure);
            return;
        }
        calls::accept_update(&u.id);
        let run = (handler.handler)(u.args);
        let id = u.id;
        self.start_handler(
            format!("update `{}` ({id})", u.name),
            Box::pin(async move {
                let outcome = run.await;
                calls::complete_update(&id, outcome.as_ref());
            }),
        );
    }

    fn apply(&self, job: Job) {
        match job {
            Job::Resolved(r) => {
                self.outcomes.borrow_mut().insert(r.handle, r.outcome);
                self.wake(r.handle);
            }
            Job::ChildStarted(c) => {
                self.child_starts.borrow_mut().insert(c.handle, c.outcome);
                self.wake(c.handle);
            }
            Job::Signal(s) => self.deliver_signal(s.name, s.args),
            Job::Update(u) => self.dispatch_update(u),
            Job::CancelRequested => {
                self.cancel_requested.set(true);
                for w in self.cancel_wakers.borrow_mut().drain(..) {
                    w.wake();
                }
            }
        }
    }

    /// Start the signal's handler, or buffer it for `signal(name)` futures.
    fn deliver_signal(&self, name: String, args: Vec<Payload>) {
        let handler = self.signal_handlers.borrow().get(&name).cloned();
        if let Some(handler) = handler {
            self.start_handler(format!("signal `{name}`"), handler(args));
            return;
        }
        self.signals
            .borrow_mut()
            .entry(name.clone())
            .or_default()
            .push_back(args);
        for w in self
            .signal_wakers
            .borrow_mut()
            .remove(&name)
            .unwrap_or_default()
        {
            w.wake();
        }
    }

    /// Reject the updates no handler took by the end of the activation, as
    /// the Temporal SDKs do.
    fn reject_unhandled_updates(&self) {
        let unhandled = std::mem::take(&mut *self.pending_updates.borrow_mut());
        for u in unhandled {
            calls::reject_update(
                &u.id,
                &non_retryable(
                    "UpdateNotRegistered",
                    format!("this workflow handles no update named `{}`", u.name),
                ),
            );
        }
    }

    /// Wake the tasks whose conditions now hold.
    fn check_conditions(&self) {
        // Predicates run with no borrow held: they may read any state.
        let conditions = std::mem::take(&mut *self.conditions.borrow_mut());
        let mut waiting = BTreeMap::new();
        for (id, (predicate, waker)) in conditions {
            if predicate() {
                waker.wake();
            } else {
                waiting.insert(id, (predicate, waker));
            }
        }
        self.conditions.borrow_mut().extend(waiting);
    }

    fn ended(&self) -> bool {
        self.result.borrow().is_some() || self.continue_as_new.borrow().is_some()
    }

    /// Poll woken tasks, in spawn order, round after round, until none
    /// is woken (or the run ended).
    fn run_until_stalled(&self) {
        loop {
            let mut tasks = std::mem::take(&mut *self.tasks.borrow_mut());
            tasks.retain_mut(|(task, flag)| {
                if !flag.0.swap(false, Ordering::Relaxed) {
                    return true;
                }
                let waker = Waker::from(flag.clone());
                task.as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
            });
            tasks.append(&mut self.spawned.borrow_mut());
            *self.tasks.borrow_mut() = tasks;
            if self.ended() {
                return;
            }
            self.check_conditions();
            let woken = self
                .tasks
                .borrow()
                .iter()
                .any(|(_, f)| f.0.load(Ordering::Relaxed));
            if !woken {
                return;
            }
        }
    }

    /// Say which handlers a run that ends leaves unfinished (they never run
    /// again; Temporal fails the callers of unfinished updates).
    fn warn_unfinished_handlers(&self) {
        let running = self.running_handlers.borrow();
        if running.is_empty() {
            return;
        }
        let names: Vec<&str> = running.values().map(String::as_str).collect();
        calls::log(
            LogLevel::Warn,
            &format!(
                "the run ended while handlers still ran: {} (await \
                 wait_condition(all_handlers_finished) before returning)",
                names.join(", ")
            ),
        );
    }
}

/// One workflow run, as the host's `run` object.
pub struct Run {
    ctx: Rc<RunCtx>,
}

impl Run {
    /// A run whose main coroutine is `main` (polled first at the first
    /// activation).
    pub fn new(main: impl FnOnce() -> MainFuture) -> Run {
        let ctx = Rc::new(RunCtx::default());
        let main = with(&ctx, main);
        ctx.spawn(Box::pin(async move {
            let result = main.await;
            *current().result.borrow_mut() = Some(result);
        }));
        Run { ctx }
    }

    /// Apply an activation's jobs and advance the run.
    pub fn activate(&self, jobs: Vec<Job>) -> RunStatus {
        with(&self.ctx, || {
            for job in jobs {
                self.ctx.apply(job);
            }
            self.ctx.run_until_stalled();
            if let Some(args) = self.ctx.continue_as_new.borrow_mut().take() {
                self.ctx.warn_unfinished_handlers();
                return RunStatus::ContinueAsNew(args);
            }
            if let Some(result) = self.ctx.result.borrow_mut().take() {
                self.ctx.warn_unfinished_handlers();
                return RunStatus::Completed(result);
            }
            self.ctx.reject_unhandled_updates();
            // A run that does not handle cancellation is cancelled when
            // asked, as Temporal's SDKs cancel the main coroutine.
            if self.ctx.cancel_requested.get() && !self.ctx.handles_cancellation.get() {
                return RunStatus::Completed(Err(super::cancelled("workflow")));
            }
            RunStatus::Waiting
        })
    }

    /// Answer query `name`: its handler's answer, or the published value.
    pub fn query(&self, name: &str, args: Vec<Payload>) -> Result<Payload, Failure> {
        with(&self.ctx, || {
            let queries = self.ctx.queries.borrow();
            if let Some(handler) = queries.get(name) {
                return handler(args);
            }
            let published = self.ctx.published.borrow();
            published.get(name).cloned().ok_or_else(|| {
                let mut known: Vec<&str> = published.keys().map(String::as_str).collect();
                known.extend(queries.keys().map(String::as_str));
                non_retryable(
                    "QueryNotRegistered",
                    format!(
                        "query `{name}` has no answer: this run answers {}",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                )
            })
        })
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // Tasks hold the run's context (a cycle): drop them, with the run
        // current for futures that deregister themselves.
        with(&self.ctx, || {
            let tasks = std::mem::take(&mut *self.ctx.tasks.borrow_mut());
            let spawned = std::mem::take(&mut *self.ctx.spawned.borrow_mut());
            drop((tasks, spawned));
            self.ctx.conditions.borrow_mut().clear();
        });
    }
}

/// The executor on its own, natively: no host call is made by the paths
/// these tests take (updates are recorded by `calls`).
#[cfg(test)]
mod tests;
