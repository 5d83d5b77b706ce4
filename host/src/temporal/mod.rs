//! The one adapter over Temporal's Rust core (`temporalio-sdk-core`).
//!
//! Everything else in weft names core's types through this module, so a core
//! upgrade (its API is marked unstable) touches this file and little else.

mod connection;
mod history;
mod metrics;
pub mod runs;

use crate::config::{Nondeterminism, WorkerConfig, WorkerKind};
pub use connection::{Settings, watch};
pub use history::{History, HistoryError};
pub use metrics::CoreMetrics;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
pub use temporalio_client::Connection;
use temporalio_common::worker::WorkerTaskTypes;
pub use temporalio_sdk_core::{CoreRuntime, PollError, Worker};
use temporalio_sdk_core::{
    RuntimeOptions, Url, WorkerConfig as CoreWorkerConfig, WorkflowErrorType,
};

/// The protobuf messages exchanged with core and the server.
pub mod proto {
    pub use temporalio_common::protos::coresdk::{
        ActivityHeartbeat, ActivityTaskCompletion, activity_result, activity_task, child_workflow,
        common::NamespacedWorkflowExecution, workflow_activation, workflow_commands,
        workflow_completion,
    };
    pub use temporalio_common::protos::temporal::api::{
        common::v1::{Memo, Payload, Payloads, RetryPolicy, SearchAttributes, WorkflowExecution},
        failure::v1::{ApplicationFailureInfo, Failure, failure::FailureInfo},
    };
}

/// Why talking to Temporal failed.
#[derive(Debug, thiserror::Error)]
pub enum TemporalError {
    /// The address is not a valid `host:port` or URL.
    #[error("invalid Temporal address `{address}`: {reason}")]
    Address {
        /// As configured.
        address: String,
        /// Parser message.
        reason: String,
    },
    /// The frontend did not answer, or refused the credentials.
    #[error("cannot connect to Temporal at {address}: {reason} ({hint})")]
    Connect {
        /// As resolved.
        address: String,
        /// Client message.
        reason: String,
        /// What to check.
        hint: &'static str,
    },
    /// Temporal's client configuration (`TEMPORAL_*`, temporal.toml) is
    /// unusable.
    #[error("invalid Temporal client configuration: {0}")]
    Settings(String),
    /// A credential file named in the config cannot be read.
    #[error("cannot read `{key}` {path}: {source}")]
    ReadFile {
        /// The config key naming it.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// Core's runtime could not start.
    #[error("cannot start Temporal core: {0}")]
    Runtime(String),
    /// A call to the server failed.
    #[error("cannot {what}: {}", status.message())]
    Call {
        /// What weft was doing.
        what: String,
        /// The server's answer, code and message (boxed: a status is
        /// large). Not the source: its text would repeat the message.
        status: Box<tonic::Status>,
    },
    /// Core refused the worker (bad options, namespace missing, ...).
    #[error("cannot start worker for task queue `{task_queue}`: {reason}")]
    Worker {
        /// The worker's task queue.
        task_queue: String,
        /// Core's message.
        reason: String,
    },
}

/// Turn `host:port` (as `TEMPORAL_ADDRESS` holds it) or a URL into a URL.
pub fn address_url(address: &str) -> Result<Url, TemporalError> {
    let with_scheme = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    Url::parse(&with_scheme).map_err(|e| TemporalError::Address {
        address: address.to_owned(),
        reason: e.to_string(),
    })
}

/// The identity shown in Temporal for this process's workers.
pub fn default_identity() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("weft@{host}:{}", std::process::id())
}

/// Core's runtime (telemetry, worker heartbeats), on the current tokio
/// runtime; with `metrics`, core records its worker metrics there.
pub fn runtime(metrics: Option<&CoreMetrics>) -> Result<CoreRuntime, TemporalError> {
    let telemetry = temporalio_common::telemetry::TelemetryOptions::builder()
        .maybe_metrics(metrics.map(CoreMetrics::meter))
        .build();
    let options = RuntimeOptions::builder()
        .telemetry_options(telemetry)
        .build()
        .map_err(|e| TemporalError::Runtime(e.to_string()))?;
    CoreRuntime::new_assume_tokio(options).map_err(|e| TemporalError::Runtime(format!("{e:#}")))
}

/// Start one core worker for a configured worker: workflow-only,
/// activity-only or mixed, as its modules say.
pub fn start_worker(
    runtime: &CoreRuntime,
    connection: &Connection,
    namespace: &str,
    worker: &WorkerConfig,
    shutdown_grace: Duration,
) -> Result<Arc<Worker>, TemporalError> {
    let kind = worker.kind();
    let task_types = WorkerTaskTypes {
        enable_workflows: kind.polls_workflows(),
        // Local activities run in the worker that runs the workflow, so only
        // a mixed worker (it has the activity modules) can serve them.
        enable_local_activities: kind == WorkerKind::Mixed,
        enable_remote_activities: kind.polls_activities(),
        enable_nexus: false,
    };
    let fail = |reason: String| TemporalError::Worker {
        task_queue: worker.task_queue.clone(),
        reason,
    };
    let config = CoreWorkerConfig::builder()
        .namespace(namespace)
        .task_queue(worker.task_queue.as_str())
        .task_types(task_types)
        .versioning_strategy(Default::default())
        .max_cached_workflows(worker.max_cached_workflows)
        .max_outstanding_workflow_tasks(worker.max_concurrent_workflow_tasks)
        .max_outstanding_activities(worker.max_concurrent_activities)
        .max_outstanding_local_activities(worker.max_concurrent_activities)
        .max_outstanding_nexus_tasks(1usize)
        .graceful_shutdown_period(shutdown_grace)
        .workflow_failure_errors(match worker.nondeterminism {
            Nondeterminism::FailTask => Default::default(),
            Nondeterminism::FailWorkflow => [WorkflowErrorType::Nondeterminism].into(),
        })
        .build()
        .map_err(fail)?;
    temporalio_sdk_core::init_worker(runtime, config, connection.clone())
        .map(Arc::new)
        .map_err(|e| fail(format!("{e:#}")))
}

/// A recorded history to replay, and the workflow id to replay it as.
pub struct Recorded {
    /// The events.
    pub history: History,
    /// The workflow id: the one recorded in the history when there is one.
    pub workflow_id: String,
    /// The workflow type the run started as.
    pub workflow_type: String,
    /// The run id recorded at start (core replays the history as this run).
    pub run_id: String,
}

impl Recorded {
    /// Read a history from the JSON `temporal workflow show --output json`
    /// prints; `fallback_id` names the run when the history does not.
    pub fn from_json(json: &[u8], fallback_id: &str) -> Result<Recorded, HistoryError> {
        let history = history::from_json(json)?;
        let workflow_type = history::workflow_type(&history)
            .ok_or_else(|| {
                HistoryError::Content(
                    "its first event is not WorkflowExecutionStarted with a workflow type"
                        .to_owned(),
                )
            })?
            .to_owned();
        let workflow_id = history::workflow_id(&history)
            .unwrap_or(fallback_id)
            .to_owned();
        let run_id = history
            .extract_run_id_from_start()
            .map_err(|e| HistoryError::Content(format!("{e:#}")))?
            .to_owned();
        Ok(Recorded {
            history,
            workflow_id,
            workflow_type,
            run_id,
        })
    }
}

/// The task queue name replay workers report (nothing is polled).
pub const REPLAY_TASK_QUEUE: &str = "weft-replay";

/// A workflow worker that is fed `histories` instead of polling a server:
/// core hands out each history as workflow tasks, checks the commands the
/// guest issues against the recorded events, and shuts the worker down when
/// every history has been replayed.
pub async fn replay_worker(histories: Vec<Recorded>) -> Result<Arc<Worker>, TemporalError> {
    use temporalio_sdk_core::replay::{HistoryFeeder, HistoryForReplay, ReplayWorkerInput};
    let fail = |reason: String| TemporalError::Worker {
        task_queue: REPLAY_TASK_QUEUE.to_owned(),
        reason,
    };
    let config = CoreWorkerConfig::builder()
        .namespace("weft-replay")
        .task_queue(REPLAY_TASK_QUEUE)
        .task_types(WorkerTaskTypes::workflow_only())
        .versioning_strategy(Default::default())
        .build()
        .map_err(fail)?;
    let (feeder, stream) = HistoryFeeder::new(histories.len().max(1));
    for r in histories {
        feeder
            .feed(HistoryForReplay::new(r.history, r.workflow_id))
            .await
            .map_err(|e| fail(format!("{e:#}")))?;
    }
    // Dropping the feeder tells core there is nothing more to replay.
    drop(feeder);
    temporalio_sdk_core::init_replay_worker(ReplayWorkerInput::new(config, stream))
        .map(Arc::new)
        .map_err(|e| fail(format!("{e:#}")))
}

/// Encode a `std::time::Duration` as a protobuf duration.
pub fn proto_duration(d: Duration) -> prost_wkt_types::Duration {
    prost_wkt_types::Duration {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

/// Milliseconds since the Unix epoch of a protobuf timestamp (0 if unset or
/// before the epoch).
pub fn timestamp_millis(t: Option<&prost_wkt_types::Timestamp>) -> u64 {
    t.map(|t| (t.seconds.max(0) as u64) * 1000 + (t.nanos.max(0) as u64) / 1_000_000)
        .unwrap_or(0)
}

/// A `std::time::Duration` from a protobuf duration (zero if unset/negative).
pub fn std_duration(d: Option<&prost_wkt_types::Duration>) -> Option<Duration> {
    d.filter(|d| d.seconds > 0 || d.nanos > 0)
        .map(|d| Duration::new(d.seconds.max(0) as u64, d.nanos.max(0) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_take_an_http_scheme_when_bare() {
        assert_eq!(
            address_url("localhost:7233").map(|u| u.to_string()).ok(),
            Some("http://localhost:7233/".to_owned())
        );
        assert_eq!(
            address_url("https://ns.tmprl.cloud:7233")
                .map(|u| u.scheme().to_owned())
                .ok(),
            Some("https".to_owned())
        );
        assert!(address_url("http://[bad").is_err());
    }

    #[test]
    fn durations_round_trip() {
        let d = Duration::from_millis(61_500);
        assert_eq!(std_duration(Some(&proto_duration(d))), Some(d));
        assert_eq!(std_duration(None), None);
        let ts = prost_wkt_types::Timestamp {
            seconds: 2,
            nanos: 5_000_000,
        };
        assert_eq!(timestamp_millis(Some(&ts)), 2005);
    }
}
