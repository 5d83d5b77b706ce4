//! `OrderWorkflow` in Rust, on the weft Rust SDK (see ../../ORDER.md).
//!
//! Creates the order, gives the customer a grace period (one second unless
//! the third argument says) to cancel it (signal `cancel-order`), charges the
//! payment, and returns both activity results. Query `status` tells where it
//! stands. It is async code: each `.await` resumes when Temporal's history
//! says so, and one instance hosts many runs.

use serde_json::{Value, json};
use std::time::Duration;
use weft_sdk::workflow::{self, Activity, Either};
use weft_sdk::{Args, Failure, LogLevel, non_retryable};

/// Where the activities run unless the second argument names a queue.
const DEFAULT_ACTIVITY_QUEUE: &str = "ORDER_ACTIVITY_Q";
/// How long the customer may cancel after the order is created, in ms,
/// unless the third argument says.
const DEFAULT_GRACE_MS: u64 = 1_000;
/// The longest grace period the third argument may ask for (a day).
const MAX_GRACE_MS: u64 = 86_400_000;

async fn order_workflow(args: Args) -> Result<Value, Failure> {
    let order_id: String = args.get(0)?;
    let queue: String = args
        .opt(1)?
        .unwrap_or_else(|| DEFAULT_ACTIVITY_QUEUE.to_owned());
    let grace_ms: u64 = args.opt(2)?.unwrap_or(DEFAULT_GRACE_MS);
    if !(1..=MAX_GRACE_MS).contains(&grace_ms) {
        return Err(non_retryable(
            "InvalidInput",
            format!("argument 3 (grace_ms) must be a JSON integer from 1 to {MAX_GRACE_MS}"),
        ));
    }
    let step = |status: &str| workflow::set_query("status", status);
    let activity = async |activity_type: &str| -> Result<Value, Failure> {
        Activity::new(activity_type)
            .task_queue(&queue)
            .start_to_close(Duration::from_secs(60))
            .run(&[&order_id])
            .await
            .inspect_err(|_| step("failed"))
    };

    step("creating");
    workflow::log(LogLevel::Info, &format!("order {order_id}: creating order"));
    let created = activity("CreateOrder").await?;

    step("grace");
    let mut timer = workflow::timer(Duration::from_millis(grace_ms));
    let mut cancel = workflow::signal("cancel-order");
    if let Either::Right(_) = workflow::select(&mut timer, &mut cancel).await {
        timer.cancel();
        step("cancelled");
        return Err(non_retryable(
            "OrderCancelled",
            format!("order {order_id} cancelled"),
        ));
    }

    step("charging");
    workflow::log(
        LogLevel::Info,
        &format!("order {order_id}: charging payment"),
    );
    let charged = activity("ChargePayment").await?;

    step("completed");
    Ok(json!({
        "order_id": order_id,
        "create_order": created,
        "charge_payment": charged,
    }))
}

weft_sdk::workflows!("OrderWorkflow" => order_workflow);
