//! The activity task loop of one worker: poll tasks, run each in a fresh
//! sandboxed instance, enforce its timeout, report the outcome.

use super::sandbox::{ActivityHost, TaskContext};
use super::{ActivityModule, ActivityRegistry};
use crate::bindings::activity::weft::plugin::activity_host::ActivityInfo;
use crate::bindings::types::Failure;
use crate::module::{self, Live};
use crate::payload;
use crate::temporal::proto::activity_result::{
    self, ActivityExecutionResult, activity_execution_result::Status,
};
use crate::temporal::proto::activity_task::{
    ActivityCancelReason, ActivityTask, Start, activity_task,
};
use crate::temporal::proto::{ActivityHeartbeat, ActivityTaskCompletion, Payload};
use crate::temporal::{PollError, Worker, std_duration};
use prost_wkt_types::Timestamp;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Longest an attempt may run when Temporal gives no timeout at all.
const FALLBACK_TIMEOUT: Duration = Duration::from_secs(600);

/// A task in flight, as a cancel reaches it.
struct InFlight {
    ctx: TaskContext,
    /// Stops the attempt as cancelled (timed out, gone, cancel requested).
    abort: CancellationToken,
    /// Stops the attempt as failed and retryable: this host shuts down and
    /// the grace period is over, so another host should run it.
    shutdown: CancellationToken,
}

/// Tasks in flight, by token, so that a cancel can reach them.
type Running = Arc<Mutex<HashMap<Vec<u8>, InFlight>>>;

/// The failure type of an attempt stopped because its host shut down.
pub(super) const WORKER_SHUTDOWN: &str = "WorkerShutdown";

/// Poll and run activity tasks until the worker shuts down.
pub async fn poll_activity_tasks(worker: Arc<Worker>, registry: Arc<Live<ActivityRegistry>>) {
    let running: Running = Arc::default();
    let task_queue = worker.get_config().task_queue.clone();
    loop {
        let task = match worker.poll_activity_task().await {
            Ok(t) => t,
            Err(PollError::ShutDown) => break,
            Err(e) => {
                tracing::error!(%task_queue, "activity poll failed: {e:#}");
                continue;
            }
        };
        let ActivityTask {
            task_token,
            variant,
        } = task;
        let token = task_token;
        match variant {
            Some(activity_task::Variant::Start(start)) => {
                let (worker, registry, running) = (worker.clone(), registry.get(), running.clone());
                let task_queue = task_queue.clone();
                tokio::spawn(async move {
                    let result = run(
                        &worker,
                        &registry,
                        &running,
                        &task_queue,
                        token.clone(),
                        start,
                    )
                    .await;
                    running
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&token);
                    let completion = ActivityTaskCompletion {
                        task_token: token,
                        result: Some(result),
                    };
                    if let Err(e) = worker.complete_activity_task(completion).await {
                        tracing::warn!("completing activity task failed: {e:#}");
                    }
                });
            }
            Some(activity_task::Variant::Cancel(cancel)) => {
                let running = running.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(task) = running.get(&token) {
                    // The guest sees the request at its next heartbeat. If
                    // the attempt is over anyway (timed out, gone, host
                    // shut down), stop it now.
                    task.ctx.cancelled.store(true, Ordering::SeqCst);
                    match cancel.reason() {
                        ActivityCancelReason::Cancelled => {}
                        ActivityCancelReason::WorkerShutdown => task.shutdown.cancel(),
                        _ => task.abort.cancel(),
                    }
                }
            }
            None => {}
        }
    }
}

async fn run(
    worker: &Arc<Worker>,
    registry: &ActivityRegistry,
    running: &Running,
    task_queue: &str,
    token: Vec<u8>,
    start: Start,
) -> ActivityExecutionResult {
    let Some(module) = registry.get(&start.activity_type) else {
        return failed(payload::failure(
            format!(
                "activity type `{}` is not served here (served: {})",
                start.activity_type,
                registry.type_list()
            ),
            "ActivityNotRegistered",
        ));
    };
    let execution = start.workflow_execution.clone().unwrap_or_default();
    let heartbeat_worker = worker.clone();
    let heartbeat_token = token.clone();
    let ctx = TaskContext {
        info: ActivityInfo {
            activity_type: start.activity_type.clone(),
            activity_id: start.activity_id.clone(),
            workflow_type: start.workflow_type.clone(),
            workflow_id: execution.workflow_id,
            run_id: execution.run_id,
            namespace: start.workflow_namespace.clone(),
            attempt: start.attempt,
        },
        heartbeat: Arc::new(move |details| {
            heartbeat_worker.record_activity_heartbeat(ActivityHeartbeat {
                task_token: heartbeat_token.clone(),
                details: details.into_iter().map(payload::from_wit).collect(),
            })
        }),
        cancelled: Arc::default(),
        last_heartbeat: start
            .heartbeat_details
            .iter()
            .cloned()
            .map(payload::to_wit)
            .collect(),
    };
    let (abort, shutdown) = (CancellationToken::new(), CancellationToken::new());
    running.lock().unwrap_or_else(|p| p.into_inner()).insert(
        token,
        InFlight {
            ctx: ctx.clone(),
            abort: abort.clone(),
            shutdown: shutdown.clone(),
        },
    );
    let module_label = crate::metrics::module_label(module::Module::path(module));
    let labels = crate::metrics::module_labels(task_queue, &module_label, module.digest());
    crate::metrics::get()
        .instantiations
        .with_label_values(&["activity", labels[0], labels[1], labels[2]])
        .inc();
    let timeout = attempt_timeout(
        std_duration(start.start_to_close_timeout.as_ref()),
        std_duration(start.schedule_to_close_timeout.as_ref()),
        since_scheduled(start.scheduled_time.as_ref(), start.started_time.as_ref()),
    );
    let cancelled = ctx.cancelled.clone();
    let info = ctx.info.clone();
    let args = start.input.into_iter().map(payload::to_wit).collect();
    let stopped = |message: String, error_type: &str| {
        tracing::warn!(
            activity_type = %info.activity_type,
            activity_id = %info.activity_id,
            workflow_id = %info.workflow_id,
            attempt = info.attempt,
            "{message}"
        );
        failed(payload::failure(message, error_type))
    };
    let result = tokio::select! {
        outcome = tokio::time::timeout(timeout, execute(module, ctx, &start.activity_type, args)) => match outcome {
            Ok(Ok(Ok(result))) => completed(payload::from_wit(result)),
            Ok(Ok(Err(_))) if cancelled.load(Ordering::SeqCst) => cancelled_result(),
            Ok(Ok(Err(failure))) => failed(failure),
            Ok(Err(trap)) => stopped(format!("activity guest trapped: {trap:#}"), "ActivityTrapped"),
            Err(_) => stopped(
                format!("activity ran past its {timeout:?} timeout and was stopped"),
                "ActivityTimeout",
            ),
        },
        _ = abort.cancelled() => cancelled_result(),
        _ = shutdown.cancelled() => stopped(
            "the worker shut down and its grace period ran out: retried on another worker".into(),
            WORKER_SHUTDOWN,
        ),
    };
    let outcome = match &result.status {
        Some(Status::Completed(_)) => "completed",
        Some(Status::Cancelled(_)) => "cancelled",
        _ => "failed",
    };
    crate::metrics::get()
        .activity_tasks
        .with_label_values(&[
            labels[0],
            labels[1],
            labels[2],
            start.activity_type.as_str(),
            outcome,
        ])
        .inc();
    result
}

/// How long this attempt may run: its start-to-close timeout, but no longer
/// than what is left of schedule-to-close, which counts from the activity's
/// first scheduling across all attempts (as the Temporal SDKs do).
/// `since_scheduled` is how long ago that was when this attempt started;
/// unknown, the whole schedule-to-close is left.
fn attempt_timeout(
    start_to_close: Option<Duration>,
    schedule_to_close: Option<Duration>,
    since_scheduled: Option<Duration>,
) -> Duration {
    let left = schedule_to_close.map(|t| t.saturating_sub(since_scheduled.unwrap_or_default()));
    match (start_to_close, left) {
        (Some(a), Some(b)) => a.min(b),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => FALLBACK_TIMEOUT,
    }
}

/// Time from the activity's first scheduling to this attempt's start.
/// Both stamps come from the same clock (the server's, or core's for local
/// activities), so the host's clock skew does not shorten the deadline.
fn since_scheduled(scheduled: Option<&Timestamp>, started: Option<&Timestamp>) -> Option<Duration> {
    let nanos = |t: &Timestamp| i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos);
    let elapsed = nanos(started?) - nanos(scheduled?);
    // Negative (stamps out of order): nothing has elapsed.
    Some(Duration::from_nanos(
        u64::try_from(elapsed.max(0)).unwrap_or(u64::MAX),
    ))
}

/// Instantiate the module for this task and call `execute`.
async fn execute(
    module: &ActivityModule,
    ctx: TaskContext,
    activity_type: &str,
    args: Vec<crate::bindings::types::Payload>,
) -> wasmtime::Result<Result<crate::bindings::types::Payload, Failure>> {
    // Waits (within the attempt's timeout) while `max_instances` run.
    let _slot = match &module.slots {
        Some(slots) => Some(slots.clone().acquire_owned().await?),
        None => None,
    };
    // Waits while the host's pool has no free slot; held until after the
    // store (declared later, dropped earlier) has freed the instance.
    let _instance = module.instances.take().await;
    let host = ActivityHost::new(&module.grants, ctx).map_err(wasmtime::Error::msg)?;
    // The epoch ticks (and the guest yields) while this task runs; dropped
    // with the attempt, at its end, timeout or cancellation.
    let _running = module.epochs.running();
    let (mut store, bindings) = module.instantiate(host).await?;
    bindings
        .weft_plugin_activity_guest()
        .call_execute(&mut store, activity_type, &args)
        .await
}

fn completed(result: Payload) -> ActivityExecutionResult {
    ActivityExecutionResult {
        status: Some(Status::Completed(activity_result::Success {
            result: Some(result),
        })),
    }
}

fn failed(failure: Failure) -> ActivityExecutionResult {
    ActivityExecutionResult {
        status: Some(Status::Failed(activity_result::Failure {
            failure: Some(payload::failure_from_wit(failure)),
            ..Default::default()
        })),
    }
}

fn cancelled_result() -> ActivityExecutionResult {
    use crate::temporal::proto::{Failure as ProtoFailure, FailureInfo};
    ActivityExecutionResult {
        status: Some(Status::Cancelled(activity_result::Cancellation {
            failure: Some(ProtoFailure {
                message: "activity cancelled".into(),
                source: payload::FAILURE_SOURCE.to_owned(),
                failure_info: Some(FailureInfo::CanceledFailureInfo(Default::default())),
                ..Default::default()
            }),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn an_attempt_gets_start_to_close_but_no_more_than_schedule_to_close_leaves() {
        // First attempt, just scheduled: the shorter timeout.
        assert_eq!(attempt_timeout(Some(S(10)), Some(S(60)), Some(S(0))), S(10));
        assert_eq!(attempt_timeout(Some(S(90)), Some(S(60)), Some(S(0))), S(60));
        // A later attempt, 55 s after the first scheduling: 5 s are left.
        assert_eq!(attempt_timeout(Some(S(10)), Some(S(60)), Some(S(55))), S(5));
        assert_eq!(attempt_timeout(None, Some(S(60)), Some(S(55))), S(5));
        // Past schedule-to-close: nothing left.
        assert_eq!(attempt_timeout(Some(S(10)), Some(S(60)), Some(S(70))), S(0));
        // Only start-to-close: every attempt gets all of it.
        assert_eq!(attempt_timeout(Some(S(10)), None, Some(S(500))), S(10));
        // Scheduling time unknown: the whole schedule-to-close.
        assert_eq!(attempt_timeout(Some(S(90)), Some(S(60)), None), S(60));
        assert_eq!(attempt_timeout(None, None, None), FALLBACK_TIMEOUT);
    }

    #[test]
    fn time_since_scheduling_comes_from_the_two_stamps() {
        let at = |seconds, nanos| Timestamp { seconds, nanos };
        assert_eq!(
            since_scheduled(Some(&at(100, 900_000_000)), Some(&at(102, 400_000_000))),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            since_scheduled(Some(&at(102, 0)), Some(&at(100, 0))),
            Some(Duration::ZERO),
            "out of order"
        );
        assert_eq!(since_scheduled(None, Some(&at(100, 0))), None);
        assert_eq!(since_scheduled(Some(&at(100, 0)), None), None);
    }
}
