//! Conversions between what guests speak (WIT records) and what core
//! speaks (protobuf commands and resolutions), for both of weft's worlds.
//!
//! The activation world's `workflow-options` records are the blocking
//! world's `workflow-host` records under another interface, so they are
//! first mapped onto those; from there one set of functions builds core's
//! commands, and one reads core's resolutions back as handle outcomes.

use super::state::Outcome;
use crate::bindings::activation::weft::plugin::workflow_options as options;
use crate::bindings::types::Failure;
use crate::bindings::workflow::weft::plugin::workflow_host::{
    ActivityCancellation, ActivityOptions, ChildCancellation, ChildOptions, LocalActivityOptions,
    ParentClosePolicy, RetryPolicy, WorkflowInfo,
};
use crate::payload;
use crate::temporal::proto;
use crate::temporal::proto::activity_result::{ActivityResolution, activity_resolution};
use crate::temporal::proto::child_workflow::{
    ChildWorkflowCancellationType, ChildWorkflowResult,
    ParentClosePolicy as ProtoParentClosePolicy, child_workflow_result,
};
use crate::temporal::proto::workflow_activation::resolve_child_workflow_execution_start;
use crate::temporal::proto::workflow_commands::ActivityCancellationType;
use crate::temporal::proto_duration;
use std::time::Duration;

// ---- WIT -> protobuf (commands) ----

/// A timeout in milliseconds as core's duration; 0 (or none) means unset.
pub(super) fn millis(ms: Option<u64>) -> Option<prost_wkt_types::Duration> {
    ms.filter(|&ms| ms > 0)
        .map(|ms| proto_duration(Duration::from_millis(ms)))
}

/// Workflow time (milliseconds since the epoch) as a protobuf timestamp.
pub(super) fn timestamp(ms: u64) -> prost_wkt_types::Timestamp {
    prost_wkt_types::Timestamp {
        seconds: (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    }
}

/// A retry policy as core takes it; more attempts than an `i32` holds
/// means as many as it holds.
pub(super) fn retry_policy(p: RetryPolicy) -> proto::RetryPolicy {
    proto::RetryPolicy {
        initial_interval: millis(Some(p.initial_interval_ms)),
        backoff_coefficient: p.backoff_coefficient,
        maximum_interval: millis(Some(p.maximum_interval_ms)),
        maximum_attempts: i32::try_from(p.maximum_attempts).unwrap_or(i32::MAX),
        non_retryable_error_types: p.non_retryable_error_types,
    }
}

/// An activity's cancellation type, as core's enum value.
pub(super) fn activity_cancellation(c: ActivityCancellation) -> i32 {
    (match c {
        ActivityCancellation::TryCancel => ActivityCancellationType::TryCancel,
        ActivityCancellation::WaitCancellationCompleted => {
            ActivityCancellationType::WaitCancellationCompleted
        }
        ActivityCancellation::Abandon => ActivityCancellationType::Abandon,
    }) as i32
}

/// A child's parent-close policy, as core's enum value.
pub(super) fn parent_close_policy(p: ParentClosePolicy) -> i32 {
    (match p {
        ParentClosePolicy::Terminate => ProtoParentClosePolicy::Terminate,
        ParentClosePolicy::Abandon => ProtoParentClosePolicy::Abandon,
        ParentClosePolicy::RequestCancel => ProtoParentClosePolicy::RequestCancel,
    }) as i32
}

/// A child's cancellation type, as core's enum value.
pub(super) fn child_cancellation(c: ChildCancellation) -> i32 {
    (match c {
        ChildCancellation::Abandon => ChildWorkflowCancellationType::Abandon,
        ChildCancellation::TryCancel => ChildWorkflowCancellationType::TryCancel,
        ChildCancellation::WaitCancellationCompleted => {
            ChildWorkflowCancellationType::WaitCancellationCompleted
        }
        ChildCancellation::WaitCancellationRequested => {
            ChildWorkflowCancellationType::WaitCancellationRequested
        }
    }) as i32
}

// ---- activation world's records -> blocking world's records ----

/// The run's identity as the activation world's record.
pub(super) fn info_for_activations(i: WorkflowInfo) -> options::WorkflowInfo {
    options::WorkflowInfo {
        workflow_type: i.workflow_type,
        workflow_id: i.workflow_id,
        run_id: i.run_id,
        namespace: i.namespace,
        task_queue: i.task_queue,
        attempt: i.attempt,
    }
}

fn options_retry_policy(p: options::RetryPolicy) -> RetryPolicy {
    RetryPolicy {
        initial_interval_ms: p.initial_interval_ms,
        backoff_coefficient: p.backoff_coefficient,
        maximum_interval_ms: p.maximum_interval_ms,
        maximum_attempts: p.maximum_attempts,
        non_retryable_error_types: p.non_retryable_error_types,
    }
}

/// Activity options of the activation world.
pub(super) fn activity_options(o: options::ActivityOptions) -> ActivityOptions {
    ActivityOptions {
        task_queue: o.task_queue,
        start_to_close_timeout_ms: o.start_to_close_timeout_ms,
        schedule_to_close_timeout_ms: o.schedule_to_close_timeout_ms,
        schedule_to_start_timeout_ms: o.schedule_to_start_timeout_ms,
        heartbeat_timeout_ms: o.heartbeat_timeout_ms,
        retry_policy: o.retry_policy.map(options_retry_policy),
        cancellation: match o.cancellation {
            options::ActivityCancellation::TryCancel => ActivityCancellation::TryCancel,
            options::ActivityCancellation::WaitCancellationCompleted => {
                ActivityCancellation::WaitCancellationCompleted
            }
            options::ActivityCancellation::Abandon => ActivityCancellation::Abandon,
        },
        activity_id: o.activity_id,
    }
}

/// Local activity options of the activation world.
pub(super) fn local_activity_options(o: options::LocalActivityOptions) -> LocalActivityOptions {
    LocalActivityOptions {
        start_to_close_timeout_ms: o.start_to_close_timeout_ms,
        schedule_to_close_timeout_ms: o.schedule_to_close_timeout_ms,
        retry_policy: o.retry_policy.map(options_retry_policy),
        local_retry_threshold_ms: o.local_retry_threshold_ms,
    }
}

/// Child options of the activation world.
pub(super) fn child_options(o: options::ChildOptions) -> ChildOptions {
    ChildOptions {
        workflow_id: o.workflow_id,
        task_queue: o.task_queue,
        execution_timeout_ms: o.execution_timeout_ms,
        parent_close_policy: match o.parent_close_policy {
            options::ParentClosePolicy::Terminate => ParentClosePolicy::Terminate,
            options::ParentClosePolicy::Abandon => ParentClosePolicy::Abandon,
            options::ParentClosePolicy::RequestCancel => ParentClosePolicy::RequestCancel,
        },
        cancellation: match o.cancellation {
            options::ChildCancellation::Abandon => ChildCancellation::Abandon,
            options::ChildCancellation::TryCancel => ChildCancellation::TryCancel,
            options::ChildCancellation::WaitCancellationCompleted => {
                ChildCancellation::WaitCancellationCompleted
            }
            options::ChildCancellation::WaitCancellationRequested => {
                ChildCancellation::WaitCancellationRequested
            }
        },
    }
}

// ---- protobuf (resolutions) -> WIT outcomes ----

/// Whether a child started, as a guest reads it.
pub(super) fn child_start(
    status: &Option<resolve_child_workflow_execution_start::Status>,
) -> Result<(), Failure> {
    use resolve_child_workflow_execution_start::Status;
    match status {
        Some(Status::Succeeded(_)) => Ok(()),
        Some(Status::Failed(f)) => Err(payload::non_retryable_failure(
            format!(
                "child workflow {} ({}) did not start: {:?}",
                f.workflow_id,
                f.workflow_type,
                f.cause()
            ),
            "ChildWorkflowStartFailed",
        )),
        Some(Status::Cancelled(c)) => Err(payload::failure_to_wit(
            c.failure.clone().unwrap_or_default(),
        )),
        None => Err(payload::non_retryable_failure(
            "child workflow start resolved without a status",
            "ChildWorkflowStartFailed",
        )),
    }
}

/// A child's result as its handle's outcome.
pub(super) fn child_outcome(result: Option<ChildWorkflowResult>) -> Outcome {
    use child_workflow_result::Status;
    match result.and_then(|r| r.status) {
        Some(Status::Completed(s)) => Ok(payload::to_wit(s.result.unwrap_or_else(payload::null))),
        Some(Status::Failed(f)) => Err(payload::failure_to_wit(f.failure.unwrap_or_default())),
        Some(Status::Cancelled(c)) => Err(payload::failure_to_wit(c.failure.unwrap_or_default())),
        None => Err(payload::non_retryable_failure(
            "child workflow resolved without a result",
            "ChildWorkflowResolutionMissing",
        )),
    }
}

/// A signal or cancellation request to another workflow: delivered, or why not.
pub(super) fn delivered(failure: Option<proto::Failure>) -> Outcome {
    match failure {
        None => Ok(payload::to_wit(payload::null())),
        Some(f) => Err(payload::failure_to_wit(f)),
    }
}

/// An activity's resolution as its handle's outcome.
pub(super) fn activity_outcome(resolution: Option<ActivityResolution>) -> Outcome {
    use activity_resolution::Status;
    match resolution.and_then(|r| r.status) {
        Some(Status::Completed(s)) => Ok(payload::to_wit(s.result.unwrap_or_else(payload::null))),
        Some(Status::Failed(f)) => Err(payload::failure_to_wit(f.failure.unwrap_or_default())),
        Some(Status::Cancelled(c)) => Err(payload::failure_to_wit(c.failure.unwrap_or_default())),
        // Handled before: only local activities back off.
        Some(Status::Backoff(_)) | None => Err(payload::non_retryable_failure(
            "activity resolved without a result",
            "ActivityResolutionMissing",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temporal::proto::activity_result::{self, Success};
    use crate::temporal::proto::child_workflow;
    use crate::temporal::proto::workflow_activation::ResolveChildWorkflowExecutionStartFailure;

    #[test]
    fn unset_and_zero_timeouts_are_left_unset() {
        assert_eq!(millis(None), None);
        assert_eq!(millis(Some(0)), None);
        let d = millis(Some(1_500)).expect("set");
        assert_eq!((d.seconds, d.nanos), (1, 500_000_000));
    }

    #[test]
    fn workflow_time_becomes_a_timestamp() {
        let t = timestamp(1_700_000_000_123);
        assert_eq!((t.seconds, t.nanos), (1_700_000_000, 123_000_000));
    }

    #[test]
    fn a_retry_policy_keeps_its_fields_and_caps_its_attempts() {
        let p = retry_policy(RetryPolicy {
            initial_interval_ms: 1_000,
            backoff_coefficient: 2.0,
            maximum_interval_ms: 0,
            maximum_attempts: u32::MAX,
            non_retryable_error_types: vec!["Fatal".into()],
        });
        assert_eq!(p.initial_interval.map(|d| d.seconds), Some(1));
        assert_eq!(p.maximum_interval, None, "0 means the server's default");
        assert_eq!(p.backoff_coefficient, 2.0);
        assert_eq!(p.maximum_attempts, i32::MAX);
        assert_eq!(p.non_retryable_error_types, ["Fatal"]);
    }

    #[test]
    fn enums_map_onto_cores_values() {
        assert_eq!(
            activity_cancellation(ActivityCancellation::Abandon),
            ActivityCancellationType::Abandon as i32
        );
        assert_eq!(
            parent_close_policy(ParentClosePolicy::RequestCancel),
            ProtoParentClosePolicy::RequestCancel as i32
        );
        assert_eq!(
            child_cancellation(ChildCancellation::WaitCancellationRequested),
            ChildWorkflowCancellationType::WaitCancellationRequested as i32
        );
    }

    #[test]
    fn the_activation_worlds_options_are_the_blocking_worlds() {
        let retry = options::RetryPolicy {
            initial_interval_ms: 5,
            backoff_coefficient: 1.5,
            maximum_interval_ms: 50,
            maximum_attempts: 3,
            non_retryable_error_types: vec!["X".into()],
        };
        let a = activity_options(options::ActivityOptions {
            task_queue: Some("q".into()),
            start_to_close_timeout_ms: Some(1),
            schedule_to_close_timeout_ms: Some(2),
            schedule_to_start_timeout_ms: Some(3),
            heartbeat_timeout_ms: Some(4),
            retry_policy: Some(retry.clone()),
            cancellation: options::ActivityCancellation::WaitCancellationCompleted,
            activity_id: Some("id".into()),
        });
        assert_eq!(
            a,
            ActivityOptions {
                task_queue: Some("q".into()),
                start_to_close_timeout_ms: Some(1),
                schedule_to_close_timeout_ms: Some(2),
                schedule_to_start_timeout_ms: Some(3),
                heartbeat_timeout_ms: Some(4),
                retry_policy: Some(RetryPolicy {
                    initial_interval_ms: 5,
                    backoff_coefficient: 1.5,
                    maximum_interval_ms: 50,
                    maximum_attempts: 3,
                    non_retryable_error_types: vec!["X".into()],
                }),
                cancellation: ActivityCancellation::WaitCancellationCompleted,
                activity_id: Some("id".into()),
            }
        );
        let l = local_activity_options(options::LocalActivityOptions {
            start_to_close_timeout_ms: Some(1),
            schedule_to_close_timeout_ms: None,
            retry_policy: Some(retry),
            local_retry_threshold_ms: Some(9),
        });
        assert_eq!(l.local_retry_threshold_ms, Some(9));
        assert_eq!(l.retry_policy.map(|r| r.maximum_attempts), Some(3));
        let c = child_options(options::ChildOptions {
            workflow_id: None,
            task_queue: None,
            execution_timeout_ms: Some(7),
            parent_close_policy: options::ParentClosePolicy::Abandon,
            cancellation: options::ChildCancellation::TryCancel,
        });
        assert_eq!(c.parent_close_policy, ParentClosePolicy::Abandon);
        assert_eq!(c.cancellation, ChildCancellation::TryCancel);
        assert_eq!(c.execution_timeout_ms, Some(7));
    }

    #[test]
    fn resolutions_become_outcomes() {
        let done = |v: serde_json::Value| ActivityResolution {
            status: Some(activity_resolution::Status::Completed(Success {
                result: Some(payload::json(&v)),
            })),
        };
        let value = activity_outcome(Some(done(serde_json::json!(7)))).expect("completed");
        assert_eq!(value.data, b"7");
        let missing = activity_outcome(None).expect_err("no status");
        assert_eq!(missing.error_type, "ActivityResolutionMissing");
        let backoff = activity_outcome(Some(ActivityResolution {
            status: Some(activity_resolution::Status::Backoff(
                activity_result::DoBackoff::default(),
            )),
        }));
        assert!(backoff.is_err(), "a backoff is no result");
        assert!(delivered(None).is_ok());
        let refused = delivered(Some(proto::Failure {
            message: "no such workflow".into(),
            ..Default::default()
        }))
        .expect_err("not delivered");
        assert_eq!(refused.message, "no such workflow");
        let child = child_outcome(Some(ChildWorkflowResult {
            status: Some(child_workflow_result::Status::Completed(
                child_workflow::Success { result: None },
            )),
        }))
        .expect("completed");
        assert_eq!(
            child,
            payload::to_wit(payload::null()),
            "no result reads as null"
        );
        assert_eq!(
            child_outcome(None).expect_err("none").error_type,
            "ChildWorkflowResolutionMissing"
        );
    }

    #[test]
    fn a_child_that_did_not_start_says_which_and_why() {
        use resolve_child_workflow_execution_start::Status;
        let failed = child_start(&Some(Status::Failed(
            ResolveChildWorkflowExecutionStartFailure {
                workflow_id: "c-1".into(),
                workflow_type: "Child".into(),
                cause: 1,
            },
        )))
        .expect_err("did not start");
        assert_eq!(failed.error_type, "ChildWorkflowStartFailed");
        assert!(failed.message.contains("c-1 (Child)"), "{}", failed.message);
        assert!(child_start(&None).is_err());
    }
}
