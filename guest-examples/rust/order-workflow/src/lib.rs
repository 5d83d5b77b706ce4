//! `OrderWorkflow` in Rust, on the weft Rust SDK (see ../../ORDER.md).
//!
//! Creates the order, gives the customer a one-second grace period to cancel
//! it (signal `cancel-order`), charges the payment, and returns both activity
//! results. Query `status` tells where it stands. It is plain straight-line
//! code: each blocking call resumes when Temporal's history says so.

use serde_json::{Value, json};
use std::time::Duration;
use weft_sdk::workflow::{self, Activity};
use weft_sdk::{Args, Failure, LogLevel, non_retryable};

/// Where the activities run unless the second argument names a queue.
const DEFAULT_ACTIVITY_QUEUE: &str = "ORDER_ACTIVITY_Q";
/// How long the customer may cancel after the order is created.
const GRACE: Duration = Duration::from_millis(1_000);

fn order_workflow(args: Args) -> Result<Value, Failure> {
    let order_id: String = args.get(0)?;
    let queue: String = args
        .opt(1)?
        .unwrap_or_else(|| DEFAULT_ACTIVITY_QUEUE.to_owned());
    let step = |status: &str| workflow::set_query("status", status);
    let activity = |activity_type: &str| -> Result<Value, Failure> {
        Activity::new(activity_type)
            .task_queue(&queue)
            .start_to_close(Duration::from_secs(60))
            .run(&[&order_id])
            .inspect_err(|_| step("failed"))
    };

    step("creating");
    workflow::log(LogLevel::Info, &format!("order {order_id}: creating order"));
    let created = activity("CreateOrder")?;

    step("grace");
    let timer = workflow::timer(GRACE);
    let cancel = workflow::signal("cancel-order");
    if workflow::wait_any(&[timer, cancel]) == 1 {
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
    let charged = activity("ChargePayment")?;

    step("completed");
    Ok(json!({
        "order_id": order_id,
        "create_order": created,
        "charge_payment": charged,
    }))
}

weft_sdk::workflows!("OrderWorkflow" => order_workflow);
