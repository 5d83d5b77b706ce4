//! The activity task loop of one worker: poll tasks, run each in a fresh
//! sandboxed instance, enforce its timeout, report the outcome.

use super::sandbox::{ActivityHost, TaskContext};
use super::{ActivityModule, ActivityRegistry};
use crate::bindings::activity::weft::plugin::activity_host::ActivityInfo;
use crate::bindings::types::Failure;
use crate::module::Live;
use crate::payload;
use crate::temporal::proto::activity_result::{
    self, ActivityExecutionResult, activity_execution_result::Status,
};
use crate::temporal::proto::activity_task::{
    ActivityCancelReason, ActivityTask, Start, activity_task,
};
use crate::temporal::proto::{ActivityHeartbeat, ActivityTaskCompletion, Payload};
use crate::temporal::{PollError, Worker, std_duration};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Longest an attempt may run when Temporal gives no timeout at all.
const FALLBACK_TIMEOUT: Duration = Duration::from_secs(600);

/// Tasks in flight, by token, so that a cancel can reach them.
type Running = Arc<Mutex<HashMap<Vec<u8>, (TaskContext, CancellationToken)>>>;

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
                tokio::spawn(async move {
                    let result = run(&worker, &registry, &running, token.clone(), start).await;
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
                if let Some((ctx, abort)) = running.get(&token) {
                    // The guest sees the request at its next heartbeat. If
                    // the attempt is over anyway (timed out, gone, host
                    // shutting down), stop it now.
                    ctx.cancelled.store(true, Ordering::SeqCst);
                    if cancel.reason() != ActivityCancelReason::Cancelled {
                        abort.cancel();
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
    token: Vec<u8>,
    start: Start,
) -> ActivityExecutionResult {
    let Some(module) = registry.get(&start.activity_type) else {
        return failed(Failure {
            message: format!(
                "activity type `{}` is not served here (served: {})",
                start.activity_type,
                registry.type_list()
            ),
            error_type: "ActivityNotRegistered".into(),
            non_retryable: false,
            details: vec![],
        });
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
    let abort = CancellationToken::new();
    running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(token, (ctx.clone(), abort.clone()));
    let timeout = [
        &start.start_to_close_timeout,
        &start.schedule_to_close_timeout,
    ]
    .into_iter()
    .filter_map(|d| std_duration(d.as_ref()))
    .min()
    .unwrap_or(FALLBACK_TIMEOUT);
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
        failed(Failure {
            message,
            error_type: error_type.into(),
            non_retryable: false,
            details: vec![],
        })
    };
    tokio::select! {
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
    }
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
    let host = ActivityHost::new(&module.grants, ctx).map_err(wasmtime::Error::msg)?;
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
