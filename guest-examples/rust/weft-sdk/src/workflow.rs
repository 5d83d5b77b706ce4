//! Workflows as async Rust: activities, timers, signals and children are
//! futures; `select` races them, `join_all` awaits them all; signals,
//! queries and updates have handlers (updates with validators), as in
//! Temporal's SDKs.
//!
//! Everything here is deterministic: time is the activation's, randomness
//! comes from the run's seed, and futures resolve when history says so.
//! Each run keeps its own state, so one instance hosts many runs.

use crate::json::{decode, encode};
use crate::{Args, Failure, LogLevel, Payload};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

/// The raw bindings of the `weft:plugin/activation-workflow` world.
pub mod bindings {
    wit_bindgen::generate!({
        world: "activation-workflow",
        path: "../../../wit",
        pub_export_macro: true,
        export_macro_name: "export_workflow_guest",
        default_bindings_module: "weft_sdk::workflow::bindings",
    });
}

mod executor;

use bindings::weft::plugin::activation_host as host;
pub use bindings::weft::plugin::workflow_options::{
    ActivityCancellation, ActivityOptions, ChildCancellation, ChildOptions, LocalActivityOptions,
    ParentClosePolicy, RetryPolicy, WorkflowInfo,
};
pub use executor::{MainFuture, Run};

/// Something history resolves: an activity, a timer, a child, ... Await
/// it for its outcome (once).
#[derive(Debug, PartialEq, Eq)]
pub struct Handle(pub u32);

impl Handle {
    /// Ask for it to stop: a timer resolves with a `CancelledError`, an
    /// activity or child as its cancellation option says.
    pub fn cancel(&self) {
        host::cancel(self.0)
    }

    /// Await it and decode its value.
    pub async fn result<T: DeserializeOwned>(self) -> Result<T, Failure> {
        decode(&self.await?)
    }
}

impl Future for Handle {
    type Output = Result<Payload, Failure>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        executor::current().poll_outcome(self.0, cx)
    }
}

/// An activity to schedule. Defaults: the workflow's task queue, a 60 s
/// start-to-close timeout, Temporal's default retry policy.
pub struct Activity {
    activity_type: String,
    options: ActivityOptions,
}

impl Activity {
    /// An activity of type `activity_type`.
    pub fn new(activity_type: &str) -> Activity {
        Activity {
            activity_type: activity_type.to_owned(),
            options: ActivityOptions {
                task_queue: None,
                start_to_close_timeout_ms: Some(60_000),
                schedule_to_close_timeout_ms: None,
                schedule_to_start_timeout_ms: None,
                heartbeat_timeout_ms: None,
                retry_policy: None,
                cancellation: ActivityCancellation::TryCancel,
                activity_id: None,
            },
        }
    }

    /// Schedule it on this task queue.
    pub fn task_queue(mut self, queue: &str) -> Activity {
        self.options.task_queue = Some(queue.to_owned());
        self
    }

    /// Maximum time of one attempt.
    pub fn start_to_close(mut self, timeout: Duration) -> Activity {
        self.options.start_to_close_timeout_ms = Some(millis(timeout));
        self
    }

    /// Maximum time between heartbeats.
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Activity {
        self.options.heartbeat_timeout_ms = Some(millis(timeout));
        self
    }

    /// Retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Activity {
        self.options.retry_policy = Some(policy);
        self
    }

    /// Maximum time of all attempts together.
    pub fn schedule_to_close(mut self, timeout: Duration) -> Activity {
        self.options.schedule_to_close_timeout_ms = Some(millis(timeout));
        self
    }

    /// Maximum time a task may wait in the queue.
    pub fn schedule_to_start(mut self, timeout: Duration) -> Activity {
        self.options.schedule_to_start_timeout_ms = Some(millis(timeout));
        self
    }

    /// What cancelling its handle does (default: try-cancel).
    pub fn cancellation(mut self, cancellation: ActivityCancellation) -> Activity {
        self.options.cancellation = cancellation;
        self
    }

    /// Its activity id (default: the command's sequence number).
    pub fn activity_id(mut self, id: &str) -> Activity {
        self.options.activity_id = Some(id.to_owned());
        self
    }

    /// Replace all its options at once.
    pub fn options(mut self, options: ActivityOptions) -> Activity {
        self.options = options;
        self
    }

    /// Schedule it with `args`; await the handle for its outcome.
    pub fn start<A: Serialize + ?Sized>(self, args: &[&A]) -> Handle {
        let args: Vec<Payload> = args.iter().map(|a| encode(a)).collect();
        Handle(host::start_activity(
            &self.activity_type,
            &args,
            &self.options,
        ))
    }

    /// Schedule it with `args` and await its typed result.
    pub async fn run<A: Serialize + ?Sized, T: DeserializeOwned>(
        self,
        args: &[&A],
    ) -> Result<T, Failure> {
        self.start(args).result().await
    }
}

/// A local activity: run by this worker (which must serve its type), its
/// result recorded as a marker. Defaults: a 60 s start-to-close timeout,
/// Temporal's default retry policy.
pub struct LocalActivity {
    activity_type: String,
    options: LocalActivityOptions,
}

impl LocalActivity {
    /// A local activity of type `activity_type`.
    pub fn new(activity_type: &str) -> LocalActivity {
        LocalActivity {
            activity_type: activity_type.to_owned(),
            options: LocalActivityOptions {
                start_to_close_timeout_ms: Some(60_000),
                schedule_to_close_timeout_ms: None,
                retry_policy: None,
                local_retry_threshold_ms: None,
            },
        }
    }

    /// Maximum time of one attempt.
    pub fn start_to_close(mut self, timeout: Duration) -> LocalActivity {
        self.options.start_to_close_timeout_ms = Some(millis(timeout));
        self
    }

    /// Maximum time of all attempts together.
    pub fn schedule_to_close(mut self, timeout: Duration) -> LocalActivity {
        self.options.schedule_to_close_timeout_ms = Some(millis(timeout));
        self
    }

    /// Retry policy (retries run in the host, no round trip to Temporal).
    pub fn retry(mut self, policy: RetryPolicy) -> LocalActivity {
        self.options.retry_policy = Some(policy);
        self
    }

    /// A retry backing off longer than this waits on a durable timer.
    pub fn local_retry_threshold(mut self, threshold: Duration) -> LocalActivity {
        self.options.local_retry_threshold_ms = Some(millis(threshold));
        self
    }

    /// Start it with `args`; await the handle for its outcome.
    pub fn start<A: Serialize + ?Sized>(self, args: &[&A]) -> Handle {
        let args: Vec<Payload> = args.iter().map(|a| encode(a)).collect();
        Handle(host::start_local_activity(
            &self.activity_type,
            &args,
            &self.options,
        ))
    }

    /// Start it with `args` and await its typed result.
    pub async fn run<A: Serialize + ?Sized, T: DeserializeOwned>(
        self,
        args: &[&A],
    ) -> Result<T, Failure> {
        self.start(args).result().await
    }
}

/// A child workflow to start. Defaults: the parent's task queue, id
/// `<parent id>-child-<n>`, terminated with its parent.
pub struct Child {
    workflow_type: String,
    options: ChildOptions,
}

impl Child {
    /// A child of type `workflow_type`.
    pub fn new(workflow_type: &str) -> Child {
        Child {
            workflow_type: workflow_type.to_owned(),
            options: ChildOptions {
                workflow_id: None,
                task_queue: None,
                execution_timeout_ms: None,
                parent_close_policy: ParentClosePolicy::Terminate,
                cancellation: ChildCancellation::TryCancel,
            },
        }
    }

    /// Its workflow id.
    pub fn workflow_id(mut self, id: &str) -> Child {
        self.options.workflow_id = Some(id.to_owned());
        self
    }

    /// Start it on this task queue.
    pub fn task_queue(mut self, queue: &str) -> Child {
        self.options.task_queue = Some(queue.to_owned());
        self
    }

    /// Maximum time of the child, retries and continue-as-new included.
    pub fn execution_timeout(mut self, timeout: Duration) -> Child {
        self.options.execution_timeout_ms = Some(millis(timeout));
        self
    }

    /// What happens to it when this workflow closes (default: terminate).
    pub fn parent_close_policy(mut self, policy: ParentClosePolicy) -> Child {
        self.options.parent_close_policy = policy;
        self
    }

    /// What cancelling its handle does (default: try-cancel).
    pub fn cancellation(mut self, cancellation: ChildCancellation) -> Child {
        self.options.cancellation = cancellation;
        self
    }

    /// Start it with `args` and await its typed result.
    pub async fn run<A: Serialize + ?Sized, T: DeserializeOwned>(
        self,
        args: &[&A],
    ) -> Result<T, Failure> {
        self.start(args).await?.result().await
    }

    /// Start it with `args` and await its start, as the Temporal SDKs do
    /// (so signalling it by id cannot race its start); await the handle
    /// for its result.
    pub async fn start<A: Serialize + ?Sized>(self, args: &[&A]) -> Result<Handle, Failure> {
        let args: Vec<Payload> = args.iter().map(|a| encode(a)).collect();
        let h = host::start_child(&self.workflow_type, &args, &self.options);
        std::future::poll_fn(|cx| executor::current().poll_child_start(h, cx)).await?;
        Ok(Handle(h))
    }
}

/// Another workflow of this namespace, by id: signal it or ask it to
/// cancel (the Temporal SDKs' external workflow handle).
pub struct ExternalWorkflow {
    workflow_id: String,
}

/// A handle on workflow `workflow_id` of this namespace.
pub fn external_workflow(workflow_id: &str) -> ExternalWorkflow {
    ExternalWorkflow {
        workflow_id: workflow_id.to_owned(),
    }
}

impl ExternalWorkflow {
    /// Send it signal `name` with `args`; the handle resolves once the
    /// signal is delivered (or with why not).
    pub fn signal<A: Serialize + ?Sized>(&self, name: &str, args: &[&A]) -> Handle {
        let args: Vec<Payload> = args.iter().map(|a| encode(a)).collect();
        Handle(host::signal_workflow(&self.workflow_id, name, &args))
    }

    /// Ask it to cancel; the handle resolves once the request is delivered
    /// (or with why not).
    pub fn cancel(&self) -> Handle {
        Handle(host::cancel_workflow(&self.workflow_id))
    }
}

/// A durable timer: resolves when it fires (or with a `CancelledError`).
pub fn timer(duration: Duration) -> Handle {
    Handle(host::start_timer(millis(duration)))
}

/// Sleep on a durable timer.
pub async fn sleep(duration: Duration) {
    // A timer only fails when cancelled, and no one else holds this one.
    let _ = timer(duration).await;
}

/// The next signal named `name` (buffered: none is lost), with its
/// arguments.
pub fn signal(name: &str) -> Signal {
    Signal(name.to_owned())
}

/// The next signal of a name; see [`signal`].
pub struct Signal(String);

impl Future for Signal {
    type Output = Args;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Args> {
        executor::current().poll_signal(&self.0, cx).map(Args)
    }
}

/// Resolves once cancellation of this run is requested. A run that never
/// awaits it is cancelled when asked; one that does cleans up itself and
/// ends with a `CancelledError` failure ([`cancelled`]) to end as cancelled.
pub fn cancellation() -> Cancellation {
    Cancellation
}

/// See [`cancellation`].
pub struct Cancellation;

impl Future for Cancellation {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        executor::current().poll_cancelled(cx)
    }
}

/// One of two outcomes.
#[derive(Debug, PartialEq, Eq)]
pub enum Either<A, B> {
    /// The first future finished first.
    Left(A),
    /// The second future finished first.
    Right(B),
}

/// Await whichever of `a` and `b` finishes first (`a` when both are
/// ready); the other stays usable (cancel it, or await it later).
pub async fn select<A, B>(a: &mut A, b: &mut B) -> Either<A::Output, B::Output>
where
    A: Future + Unpin,
    B: Future + Unpin,
{
    std::future::poll_fn(|cx| {
        if let Poll::Ready(x) = Pin::new(&mut *a).poll(cx) {
            return Poll::Ready(Either::Left(x));
        }
        Pin::new(&mut *b).poll(cx).map(Either::Right)
    })
    .await
}

/// Await every future, polled in order; their outputs in the same order.
pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(x) => *output = Some(x),
                    Poll::Pending => all = false,
                }
            }
        }
        if all { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

/// Await the first of `futures` to finish (the earliest in order when
/// several are ready): its index and output. The others stay usable.
pub async fn select_any<F: Future + Unpin>(futures: &mut [F]) -> (usize, F::Output) {
    std::future::poll_fn(|cx| {
        for (i, future) in futures.iter_mut().enumerate() {
            if let Poll::Ready(x) = Pin::new(future).poll(cx) {
                return Poll::Ready((i, x));
            }
        }
        Poll::Pending
    })
    .await
}

/// Wait until `condition` holds (it is re-checked after every step of the
/// run, so it must only read state). As the Temporal SDKs' `condition` /
/// `wait_condition`.
pub fn wait_condition(condition: impl Fn() -> bool + 'static) -> WaitCondition {
    WaitCondition {
        id: executor::next_id(),
        condition: Rc::new(condition),
    }
}

/// See [`wait_condition`].
pub struct WaitCondition {
    id: u64,
    condition: Rc<dyn Fn() -> bool>,
}

impl Future for WaitCondition {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        executor::current().poll_condition(self.id, &self.condition, cx)
    }
}

impl Drop for WaitCondition {
    fn drop(&mut self) {
        executor::forget_condition(self.id);
    }
}

/// True when no signal or update handler of this run is still running.
/// Await `wait_condition(all_handlers_finished)` before returning, so
/// that no update's caller is left without an answer: handlers still
/// running when the run ends are dropped (never polled again), their
/// updates left uncompleted (Temporal fails their callers), and the run
/// logs a warning naming them.
pub fn all_handlers_finished() -> bool {
    executor::current().all_handlers_finished()
}

/// Handle signal `name` with `handler`: one coroutine per signal, started
/// in delivery order (signals that came before the handler was set are
/// handed to it at once, in order). While a handler is set, `signal(name)`
/// futures of that name get nothing.
pub fn signal_handler<F, Fut>(name: &str, handler: F)
where
    F: Fn(Args) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    executor::current().set_signal_handler(name, Rc::new(move |args| Box::pin(handler(Args(args)))))
}

/// Handle update `name` with `handler`, an async function whose result
/// (or failure) completes the update. Each update is accepted, then runs
/// as its own coroutine beside the workflow, so it may await activities
/// and timers while the workflow goes on. An update of a name with no
/// handler by the end of its activation is rejected.
pub fn update_handler<T, F, Fut>(name: &str, handler: F)
where
    T: Serialize,
    F: Fn(Args) -> Fut + 'static,
    Fut: Future<Output = Result<T, Failure>> + 'static,
{
    set_update_handler(name, None, handler)
}

/// [`update_handler`] with a validator, run before the update is accepted
/// (not on replay). A validator failure rejects the update: its caller
/// gets the failure and history records nothing. Validators must only
/// read state.
pub fn update_handler_validated<T, V, F, Fut>(name: &str, validator: V, handler: F)
where
    T: Serialize,
    V: Fn(&Args) -> Result<(), Failure> + 'static,
    F: Fn(Args) -> Fut + 'static,
    Fut: Future<Output = Result<T, Failure>> + 'static,
{
    let validator: executor::Validator = Box::new(move |args| validator(&Args(args.to_vec())));
    set_update_handler(name, Some(validator), handler)
}

fn set_update_handler<T, F, Fut>(name: &str, validator: Option<executor::Validator>, handler: F)
where
    T: Serialize,
    F: Fn(Args) -> Fut + 'static,
    Fut: Future<Output = Result<T, Failure>> + 'static,
{
    let handler: executor::UpdateFn = Box::new(move |args| {
        let run = handler(Args(args));
        Box::pin(async move { run.await.map(|v| encode(&v)) })
    });
    executor::current().set_update_handler(name, executor::UpdateHandler { validator, handler })
}

/// Run `task` beside the workflow function, as a coroutine of this run.
pub fn spawn(task: impl Future<Output = ()> + 'static) {
    executor::current().spawn(Box::pin(task));
}

/// Publish the answer to query `name`.
pub fn set_query<T: Serialize + ?Sized>(name: &str, value: &T) {
    executor::current().publish(name, encode(value))
}

/// Answer query `name` with `handler` (read-only: it must not start
/// anything, or the query fails).
pub fn query_handler(name: &str, handler: impl Fn(Args) -> Result<Payload, Failure> + 'static) {
    executor::current().set_query_handler(name, Box::new(move |args| handler(Args(args))))
}

/// End this run and start a new one of the same type with `args`.
pub async fn continue_as_new<A: Serialize + ?Sized>(args: &[&A]) -> ! {
    executor::current().continue_as_new(args.iter().map(|a| encode(a)).collect());
    std::future::pending().await
}

/// Versioning inside code: true when this run takes the code introduced
/// under patch `id`.
pub fn patched(id: &str) -> bool {
    host::patched(id)
}

/// Mark patch `id` deprecated: every run takes its new code path, and
/// histories recorded with or without its marker replay.
pub fn deprecate_patch(id: &str) {
    host::deprecate_patch(id)
}

/// Set or replace search attributes of this run.
pub fn upsert_search_attributes<T: Serialize>(attributes: &[(&str, T)]) {
    let attributes: Vec<(String, Payload)> = attributes
        .iter()
        .map(|(k, v)| ((*k).to_owned(), encode(v)))
        .collect();
    host::upsert_search_attributes(&attributes)
}

/// Set or replace memo fields of this run.
pub fn upsert_memo<T: Serialize>(fields: &[(&str, T)]) {
    let fields: Vec<(String, Payload)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), encode(v)))
        .collect();
    host::upsert_memo(&fields)
}

/// True while the host replays history (side effects already happened).
pub fn is_replaying() -> bool {
    host::is_replaying()
}

/// Workflow time: the activation's timestamp, in ms since the Unix epoch.
pub fn now_ms() -> u64 {
    host::now()
}

/// A random number from the run's seed.
pub fn random() -> u64 {
    host::random()
}

/// Facts about this run.
pub fn info() -> WorkflowInfo {
    host::info()
}

/// Log through the host (silent while replaying).
pub fn log(level: LogLevel, message: &str) {
    host::log(level, message)
}

/// The failure with which a cancelled run (or operation) ends.
pub fn cancelled(what: &str) -> Failure {
    crate::non_retryable("CancelledError", format!("{what} cancelled"))
}

fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

/// The main coroutine of a run of `f` with `args`; encodes its result.
#[doc(hidden)]
pub fn main<T, F, Fut>(f: F, args: Vec<Payload>) -> MainFuture
where
    T: Serialize,
    F: FnOnce(Args) -> Fut,
    Fut: Future<Output = Result<T, Failure>> + 'static,
{
    crate::install_panic_hook(log);
    let run = f(Args(args));
    Box::pin(async move { run.await.map(|v| encode(&v)) })
}

/// The main coroutine of a run of a type this component does not offer.
#[doc(hidden)]
pub fn unknown(workflow_type: &str) -> MainFuture {
    let failure = crate::non_retryable(
        "UnknownWorkflowType",
        format!("this component does not offer workflow type {workflow_type:?}"),
    );
    Box::pin(async move { Err(failure) })
}

/// Export async workflow functions under their workflow type names:
/// `weft_sdk::workflows!("OrderWorkflow" => order_workflow);`, where each
/// function is `async fn(Args) -> Result<impl Serialize, Failure>`.
#[macro_export]
macro_rules! workflows {
    ($($name:literal => $func:path),+ $(,)?) => {
        struct WeftWorkflows;
        struct WeftRun($crate::workflow::Run);
        use $crate::workflow::bindings::exports::weft::plugin::activation_guest as __weft;
        impl __weft::Guest for WeftWorkflows {
            type Run = WeftRun;
            fn describe() -> __weft::Definition {
                __weft::Definition {
                    workflow_types: ::std::vec![$($name.to_string()),+],
                    // Each run's state is its own: any number per instance.
                    max_runs_per_instance: 0,
                }
            }
        }
        impl __weft::GuestRun for WeftRun {
            fn new(
                workflow_type: ::std::string::String,
                args: ::std::vec::Vec<$crate::Payload>,
            ) -> Self {
                WeftRun($crate::workflow::Run::new(move || match workflow_type.as_str() {
                    $($name => $crate::workflow::main($func, args),)+
                    other => $crate::workflow::unknown(other),
                }))
            }
            fn activate(&self, jobs: ::std::vec::Vec<__weft::Job>) -> __weft::RunStatus {
                self.0.activate(jobs)
            }
            fn query(
                &self,
                name: ::std::string::String,
                args: ::std::vec::Vec<$crate::Payload>,
            ) -> ::std::result::Result<$crate::Payload, $crate::Failure> {
                self.0.query(&name, args)
            }
        }
        $crate::workflow::bindings::export_workflow_guest!(WeftWorkflows);
    };
}
