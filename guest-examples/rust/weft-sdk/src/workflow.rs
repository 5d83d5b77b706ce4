//! Workflows as async Rust: activities, timers, signals and children are
//! futures; `select` races them; queries are answered from published
//! values or handlers.
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
    ActivityCancellation, ActivityOptions, ChildCancellation, ChildOptions, ParentClosePolicy,
    RetryPolicy, WorkflowInfo,
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
pub fn query_handler(
    name: &str,
    handler: impl Fn(Args) -> Result<Payload, Failure> + 'static,
) {
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
