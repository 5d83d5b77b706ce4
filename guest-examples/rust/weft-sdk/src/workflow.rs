//! Workflow helpers: activities, timers, signals, queries, waiting.
//!
//! Everything here is deterministic: time is the activation's, randomness
//! comes from the run's seed, and each blocking call resumes when history
//! says so.

use crate::json::{decode, encode};
use crate::{Failure, LogLevel, Payload};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// The raw bindings of the `weft:plugin/workflow` world.
pub mod bindings {
    wit_bindgen::generate!({
        world: "workflow",
        path: "../../../wit",
        pub_export_macro: true,
        export_macro_name: "export_workflow_guest",
        default_bindings_module: "weft_sdk::workflow::bindings",
    });
}

use bindings::weft::plugin::workflow_host as host;
pub use host::{ActivityCancellation, RetryPolicy, WorkflowInfo};

/// Something the workflow can wait on: an activity, a timer, a signal, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handle(pub u32);

impl Handle {
    /// Block until it is done; decode its value.
    pub fn result<T: DeserializeOwned>(self) -> Result<T, Failure> {
        decode(&host::result(self.0)?)
    }

    /// Ask for it to stop (a timer, an activity, a signal wait, ...).
    pub fn cancel(self) {
        host::cancel(self.0)
    }
}

/// Block until one of `handles` is done; its index in `handles`.
pub fn wait_any(handles: &[Handle]) -> usize {
    let raw: Vec<u32> = handles.iter().map(|h| h.0).collect();
    let done = host::wait_any(&raw);
    raw.iter().position(|&h| h == done).unwrap_or(0)
}

/// An activity to schedule. Defaults: the workflow's task queue, a 60 s
/// start-to-close timeout, Temporal's default retry policy.
pub struct Activity {
    activity_type: String,
    options: host::ActivityOptions,
}

impl Activity {
    /// An activity of type `activity_type`.
    pub fn new(activity_type: &str) -> Activity {
        Activity {
            activity_type: activity_type.to_owned(),
            options: host::ActivityOptions {
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

    /// Schedule it with `args`; returns at once.
    pub fn start<A: Serialize + ?Sized>(self, args: &[&A]) -> Handle {
        let args: Vec<Payload> = args.iter().map(|a| encode(a)).collect();
        Handle(host::start_activity(
            &self.activity_type,
            &args,
            &self.options,
        ))
    }

    /// Schedule it with `args` and block until it is done.
    pub fn run<A: Serialize + ?Sized, T: DeserializeOwned>(
        self,
        args: &[&A],
    ) -> Result<T, Failure> {
        self.start(args).result()
    }
}

/// A durable timer.
pub fn timer(duration: Duration) -> Handle {
    Handle(host::start_timer(millis(duration)))
}

/// Sleep on a durable timer.
pub fn sleep(duration: Duration) {
    // A timer only fails when cancelled, and no one else holds this one.
    let _ = host::result(host::start_timer(millis(duration)));
}

/// The next signal named `name` (buffered: none is lost).
pub fn signal(name: &str) -> Handle {
    Handle(host::next_signal(name))
}

/// Publish the answer to query `name`.
pub fn set_query<T: Serialize + ?Sized>(name: &str, value: &T) {
    host::set_query_result(name, &encode(value))
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

fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

/// Call a workflow function with the raw arguments; encode its result.
#[doc(hidden)]
pub fn call<T: Serialize>(
    f: fn(crate::Args) -> Result<T, Failure>,
    args: Vec<Payload>,
) -> Result<Payload, Failure> {
    crate::install_panic_hook(log);
    f(crate::Args(args)).map(|v| encode(&v))
}

/// Export workflow functions under their workflow type names:
/// `weft_sdk::workflows!("OrderWorkflow" => order_workflow);`, where each
/// function is `fn(Args) -> Result<impl Serialize, Failure>`.
#[macro_export]
macro_rules! workflows {
    ($($name:literal => $func:path),+ $(,)?) => {
        struct WeftWorkflows;
        impl $crate::workflow::bindings::exports::weft::plugin::workflow_guest::Guest
            for WeftWorkflows
        {
            fn workflow_types() -> ::std::vec::Vec<::std::string::String> {
                ::std::vec![$($name.to_string()),+]
            }
            fn run(
                workflow_type: ::std::string::String,
                args: ::std::vec::Vec<$crate::Payload>,
            ) -> ::std::result::Result<$crate::Payload, $crate::Failure> {
                match workflow_type.as_str() {
                    $($name => $crate::workflow::call($func, args),)+
                    other => ::std::result::Result::Err($crate::non_retryable(
                        "UnknownWorkflowType",
                        ::std::format!("this component does not offer workflow type {other:?}"),
                    )),
                }
            }
        }
        $crate::workflow::bindings::export_workflow_guest!(WeftWorkflows);
    };
}
