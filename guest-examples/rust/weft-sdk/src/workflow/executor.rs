//! The run's executor: each run is a set of coroutines (the workflow
//! function and the tasks it spawns) that the host's activations advance.
//!
//! Scheduling is deterministic: an activation applies its jobs in order,
//! then polls every woken task in the order the tasks were spawned, round
//! after round, until none is woken; so a run makes the same calls in the
//! same order on every replay.

use super::bindings::exports::weft::plugin::activation_guest::{Job, RunStatus};
use crate::{Failure, Payload, non_retryable};
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
type Task = Pin<Box<dyn Future<Output = ()>>>;
type QueryHandler = Box<dyn Fn(Vec<Payload>) -> Result<Payload, Failure>>;

/// A task's wake flag (wasm guests are single-threaded; `Waker` needs
/// `Send + Sync`, hence the atomic).
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
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
    /// Signals no one took yet, per name, in arrival order.
    signals: RefCell<BTreeMap<String, VecDeque<Vec<Payload>>>>,
    signal_wakers: RefCell<BTreeMap<String, Vec<Waker>>>,
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
}

/// The run being activated. Workflow code only runs inside an activation.
pub(crate) fn current() -> Rc<RunCtx> {
    CURRENT.with(|c| c.borrow().clone()).expect("workflow code runs only inside an activation")
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
    pub(crate) fn poll_outcome(&self, handle: u32, cx: &Context<'_>) -> Poll<Result<Payload, Failure>> {
        match self.outcomes.borrow_mut().remove(&handle) {
            Some(outcome) => Poll::Ready(outcome),
            None => {
                self.wakers.borrow_mut().insert(handle, cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// Whether child `handle` started, once history says.
    pub(crate) fn poll_child_start(&self, handle: u32, cx: &Context<'_>) -> Poll<Result<(), Failure>> {
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
        if let Some(args) = self.signals.borrow_mut().get_mut(name).and_then(VecDeque::pop_front) {
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

    pub(crate) fn publish(&self, name: &str, value: Payload) {
        self.published.borrow_mut().insert(name.to_owned(), value);
    }

    pub(crate) fn set_query_handler(&self, name: &str, handler: QueryHandler) {
        self.queries.borrow_mut().insert(name.to_owned(), handler);
    }

    pub(crate) fn spawn(&self, task: Task) {
        // Spawned tasks join the run at the end of the current round.
        self.spawned
            .borrow_mut()
            .push((task, Arc::new(Flag(AtomicBool::new(true)))));
    }

    pub(crate) fn continue_as_new(&self, args: Vec<Payload>) {
        *self.continue_as_new.borrow_mut() = Some(args);
    }

    fn wake(&self, handle: u32) {
        if let Some(w) = self.wakers.borrow_mut().remove(&handle) {
            w.wake();
        }
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
            Job::Signal(s) => {
                self.signals.borrow_mut().entry(s.name.clone()).or_default().push_back(s.args);
                for w in self.signal_wakers.borrow_mut().remove(&s.name).unwrap_or_default() {
                    w.wake();
                }
            }
            Job::Update(u) => {
                // No update handlers in this SDK yet: refuse it.
                super::host::reject_update(
                    &u.id,
                    &non_retryable("UpdateNotRegistered", format!("this workflow handles no update named `{}`", u.name)),
                );
            }
            Job::CancelRequested => {
                self.cancel_requested.set(true);
                for w in self.cancel_wakers.borrow_mut().drain(..) {
                    w.wake();
                }
            }
        }
    }

    /// Poll woken tasks, in spawn order, round after round, until none
    /// is woken (or the run ended).
    fn run_until_stalled(&self) {
        loop {
            let mut tasks = std::mem::take(&mut *self.tasks.borrow_mut());
            let mut polled = false;
            tasks.retain_mut(|(task, flag)| {
                if !flag.0.swap(false, Ordering::Relaxed) {
                    return true;
                }
                polled = true;
                let waker = Waker::from(flag.clone());
                task.as_mut().poll(&mut Context::from_waker(&waker)).is_pending()
            });
            tasks.append(&mut self.spawned.borrow_mut());
            *self.tasks.borrow_mut() = tasks;
            if self.result.borrow().is_some() || self.continue_as_new.borrow().is_some() {
                return;
            }
            let woken = self.tasks.borrow().iter().any(|(_, f)| f.0.load(Ordering::Relaxed));
            if !polled && !woken {
                return;
            }
        }
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
        let done = ctx.clone();
        ctx.spawn(Box::pin(async move {
            let result = main.await;
            *done.result.borrow_mut() = Some(result);
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
                return RunStatus::ContinueAsNew(args);
            }
            if let Some(result) = self.ctx.result.borrow_mut().take() {
                return RunStatus::Completed(result);
            }
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
            if let Some(handler) = self.ctx.queries.borrow().get(name) {
                return handler(args);
            }
            let published = self.ctx.published.borrow();
            published.get(name).cloned().ok_or_else(|| {
                let known: Vec<&str> = published.keys().map(String::as_str).collect();
                non_retryable(
                    "QueryNotRegistered",
                    format!("query `{name}` has no answer: this run answers {}", if known.is_empty() { "none".to_owned() } else { known.join(", ") }),
                )
            })
        })
    }
}
