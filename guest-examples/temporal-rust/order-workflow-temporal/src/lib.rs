//! The OrderWorkflow of `guest-examples/ORDER.md`, written with Temporal's
//! own Rust SDK (`temporalio-workflow` from crates.io) and exported as a
//! component of Temporal's world `temporal:workflow-runtime@0.1.0`, which
//! weft serves beside its own worlds.
//!
//! Built for `wasm32-unknown-unknown` (no WASI: a workflow reads no clock,
//! entropy or file) and turned into a component by `cargo xtask guests`.

use std::time::Duration;

use serde_json::{Value, json};
use temporalio_workflow::{
    ActivityOptions, CancellableFuture, SyncWorkflowContext, WorkflowContext, WorkflowContextView,
    WorkflowResult,
    common::{ActivityDefinition, data_converters::RawValue, error::ApplicationFailure},
    workflow, workflow_methods,
    workflows::select,
};

/// The activity task queue when the run names none.
const DEFAULT_ACTIVITY_QUEUE: &str = "ORDER_ACTIVITY_Q";
/// The grace period when the run names none, in milliseconds.
const DEFAULT_GRACE_MS: u64 = 1_000;
/// The longest grace period ORDER.md allows: a day.
const MAX_GRACE_MS: u64 = 86_400_000;

/// An activity called by name: weft's order activities live in other
/// components (any language), so there is no Rust function to name.
struct OrderActivity(&'static str);

impl ActivityDefinition for OrderActivity {
    type Input = String;
    type Output = Value;

    fn name(&self) -> &str {
        self.0
    }
}

/// One order: its `status` query answer and whether `cancel-order` came.
#[workflow]
pub struct OrderWorkflow {
    status: &'static str,
    cancel_requested: bool,
}

#[workflow_methods]
impl OrderWorkflow {
    #[run(name = "OrderWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: RawValue) -> WorkflowResult<Value> {
        let args = decode_args(&input.payloads)?;
        let (order_id, queue, grace_ms) = (args.0, args.1, args.2);
        let options = || {
            ActivityOptions::with_start_to_close_timeout(Duration::from_secs(60))
                .task_queue(queue.clone())
                .build()
        };

        set_status(ctx, "creating");
        // Replay-silent, like weft's own `log`: the SDK's tracing goes nowhere in a guest.
        let create =
            ctx.execute_activity(OrderActivity("CreateOrder"), order_id.clone(), options());
        let created = match create.await {
            Ok(value) => value,
            Err(err) => {
                set_status(ctx, "failed");
                return Err(err.into());
            }
        };

        set_status(ctx, "grace");
        let mut timer = std::pin::pin!(ctx.timer(Duration::from_millis(grace_ms)));
        let mut signalled = std::pin::pin!(ctx.wait_condition(|s| s.cancel_requested));
        let cancelled = select! {
            _ = signalled.as_mut() => true,
            _ = timer.as_mut() => false,
        };
        if cancelled {
            timer.cancel();
            set_status(ctx, "cancelled");
            return Err(
                ApplicationFailure::builder(format!("order {order_id} cancelled"))
                    .type_name("OrderCancelled".to_string())
                    .non_retryable(true)
                    .build()
                    .into(),
            );
        }

        set_status(ctx, "charging");
        let charge =
            ctx.execute_activity(OrderActivity("ChargePayment"), order_id.clone(), options());
        let charged = match charge.await {
            Ok(value) => value,
            Err(err) => {
                set_status(ctx, "failed");
                return Err(err.into());
            }
        };

        set_status(ctx, "completed");
        Ok(json!({"order_id": order_id, "create_order": created, "charge_payment": charged}))
    }

    /// The customer cancels during the grace period; the payload is ignored.
    #[signal(name = "cancel-order")]
    pub fn cancel_order(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _payload: RawValue) {
        self.cancel_requested = true;
    }

    /// Where the order stands.
    #[query(name = "status")]
    pub fn status(&self, _ctx: &WorkflowContextView) -> String {
        self.status.to_string()
    }
}

impl Default for OrderWorkflow {
    fn default() -> Self {
        Self {
            status: "creating",
            cancel_requested: false,
        }
    }
}

fn set_status(ctx: &WorkflowContext<OrderWorkflow>, status: &'static str) {
    ctx.state_mut(|s| s.status = status);
}

/// `[order_id, activity_task_queue?, grace_ms?]` as JSON payloads.
fn decode_args(
    payloads: &[temporalio_workflow::common::protos::temporal::api::common::v1::Payload],
) -> WorkflowResult<(String, String, u64)> {
    let json = |i: usize| -> Option<Value> {
        payloads
            .get(i)
            .and_then(|p| serde_json::from_slice(&p.data).ok())
    };
    let invalid = |message: String| {
        ApplicationFailure::builder(message)
            .type_name("InvalidInput".to_string())
            .non_retryable(true)
            .build()
    };
    let order_id = match json(0) {
        Some(Value::String(id)) => id,
        other => return Err(invalid(format!("order_id must be a string, got {other:?}")).into()),
    };
    let queue = match json(1) {
        None | Some(Value::Null) => DEFAULT_ACTIVITY_QUEUE.to_string(),
        Some(Value::String(q)) => q,
        Some(other) => {
            return Err(
                invalid(format!("activity_task_queue must be a string, got {other}")).into(),
            );
        }
    };
    let grace_ms = match json(2) {
        None | Some(Value::Null) => DEFAULT_GRACE_MS,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(ms) if (1..=MAX_GRACE_MS).contains(&ms) => ms,
            _ => {
                return Err(invalid(format!(
                    "grace_ms must be an integer from 1 to {MAX_GRACE_MS}, got {n}"
                ))
                .into());
            }
        },
        Some(other) => {
            return Err(invalid(format!("grace_ms must be an integer, got {other}")).into());
        }
    };
    Ok((order_id, queue, grace_ms))
}

temporalio_workflow::export_workflow_module!([OrderWorkflow]);
