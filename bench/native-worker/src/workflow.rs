//! The OrderWorkflow of guest-examples/ORDER.md on the Rust SDK.

use std::time::Duration;

use serde_json::{Value, json};
use temporalio_common::data_converters::MultiArgs3;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, ApplicationFailure, CancellableFuture, SyncWorkflowContext, WorkflowContext,
    WorkflowContextView, WorkflowResult, workflows::select,
};

use crate::activities::OrderActivities;

/// The longest grace period the contract accepts: a day.
const MAX_GRACE_MS: u64 = 86_400_000;

/// One order's run: its published status and whether cancel-order came.
#[workflow]
#[derive(Default)]
pub(crate) struct OrderWorkflow {
    status: String,
    cancel_requested: bool,
}

#[workflow_methods]
impl OrderWorkflow {
    /// Arguments `[order_id, activity_task_queue, grace_ms]` (the driver
    /// always sends all three).
    #[run(name = "OrderWorkflow")]
    pub(crate) async fn run(
        ctx: &mut WorkflowContext<Self>,
        args: MultiArgs3<String, String, Value>,
    ) -> WorkflowResult<Value> {
        let MultiArgs3(order_id, queue, grace) = args;
        let grace_ms = match grace.as_u64() {
            Some(ms) if (1..=MAX_GRACE_MS).contains(&ms) => ms,
            _ => {
                return Err(ApplicationFailure::builder("grace_ms out of range")
                    .type_name("InvalidInput".to_owned())
                    .non_retryable(true)
                    .build()
                    .into());
            }
        };
        let options = || {
            ActivityOptions::with_start_to_close_timeout(Duration::from_secs(60))
                .task_queue(queue.clone())
                .build()
        };
        set_status(ctx, "creating");
        let created = ctx
            .execute_activity(OrderActivities::create_order, order_id.clone(), options())
            .await;
        let created = match created {
            Ok(v) => v,
            Err(e) => {
                set_status(ctx, "failed");
                return Err(e.into());
            }
        };

        set_status(ctx, "grace");
        let timer = ctx.timer(Duration::from_millis(grace_ms));
        let cancelled = ctx.wait_condition(|s| s.cancel_requested);
        let mut timer = std::pin::pin!(timer);
        let mut cancelled = std::pin::pin!(cancelled);
        let cancel = select! {
            _ = timer.as_mut() => false,
            _ = cancelled.as_mut() => true,
        };
        if cancel {
            timer.cancel();
            set_status(ctx, "cancelled");
            return Err(
                ApplicationFailure::builder(format!("order {order_id} cancelled"))
                    .type_name("OrderCancelled".to_owned())
                    .non_retryable(true)
                    .build()
                    .into(),
            );
        }

        set_status(ctx, "charging");
        let charged = ctx
            .execute_activity(OrderActivities::charge_payment, order_id.clone(), options())
            .await;
        let charged = match charged {
            Ok(v) => v,
            Err(e) => {
                set_status(ctx, "failed");
                return Err(e.into());
            }
        };
        set_status(ctx, "completed");
        Ok(json!({"order_id": order_id, "create_order": created, "charge_payment": charged}))
    }

    /// The customer's cancellation during the grace period (any payload).
    #[signal(name = "cancel-order")]
    pub(crate) fn cancel_order(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _any: Value) {
        self.cancel_requested = true;
    }

    /// The run's published status.
    #[query]
    pub(crate) fn status(&self, _ctx: &WorkflowContextView) -> String {
        self.status.clone()
    }
}

/// Publishes `status` (the `status` query reads it).
fn set_status(ctx: &WorkflowContext<OrderWorkflow>, status: &str) {
    ctx.state_mut(|s| s.status = status.to_owned());
}
