//! CreateOrder and ChargePayment of guest-examples/ORDER.md on the Rust SDK:
//! the order file lives in a real directory (weft's guests see it as /orders).

use std::{path::PathBuf, sync::Arc};

use serde_json::{Value, json};
use temporalio_macros::activities;
use temporalio_sdk::{
    ApplicationFailure,
    activities::{ActivityContext, ActivityError},
};

/// The two order activities, writing and reading files under `dir`.
pub(crate) struct OrderActivities {
    dir: PathBuf,
    currency: String,
}

impl OrderActivities {
    pub(crate) fn new(dir: PathBuf) -> Self {
        let currency = std::env::var("ORDER_CURRENCY").unwrap_or_else(|_| "USD".to_owned());
        Self { dir, currency }
    }
}

#[activities]
impl OrderActivities {
    /// Writes `<dir>/<id>.json` and returns the created order.
    #[activity(name = "CreateOrder")]
    pub(crate) async fn create_order(
        self: Arc<Self>,
        ctx: ActivityContext,
        order_id: String,
    ) -> Result<Value, ActivityError> {
        start(&ctx, &order_id).await?;
        let order = json!({
            "order_id": order_id,
            "amount_cents": amount_cents(&order_id),
            "currency": self.currency,
        });
        let path = self.dir.join(format!("{order_id}.json"));
        tokio::fs::write(&path, order.to_string())
            .await
            .map_err(|e| {
                failure(
                    "IoError",
                    format!("cannot write {}: {e}", path.display()),
                    false,
                )
            })?;
        Ok(json!({
            "order_id": order_id,
            "status": "created",
            "amount_cents": order["amount_cents"],
            "currency": order["currency"],
        }))
    }

    /// Reads `<dir>/<id>.json` and returns the charge.
    #[activity(name = "ChargePayment")]
    pub(crate) async fn charge_payment(
        self: Arc<Self>,
        ctx: ActivityContext,
        order_id: String,
    ) -> Result<Value, ActivityError> {
        start(&ctx, &order_id).await?;
        if order_id.contains("decline") {
            let message = format!("payment for order {order_id} declined");
            return Err(failure("PaymentDeclined", message, true));
        }
        let path = self.dir.join(format!("{order_id}.json"));
        let order: Value = match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| failure("IoError", format!("bad order file: {e}"), false))?,
            Err(_) => {
                return Err(failure(
                    "OrderNotFound",
                    format!("no order {order_id}"),
                    true,
                ));
            }
        };
        Ok(json!({
            "order_id": order_id,
            "status": "charged",
            "amount_cents": order["amount_cents"],
            "currency": order["currency"],
        }))
    }
}

/// The contract's first steps: check the id, heartbeat once, honour a cancel.
async fn start(ctx: &ActivityContext, order_id: &str) -> Result<(), ActivityError> {
    let valid = !order_id.is_empty()
        && order_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        return Err(failure(
            "InvalidOrderId",
            format!("bad order id {order_id:?}"),
            true,
        ));
    }
    ctx.record_heartbeat(())
        .await
        .map_err(|e| failure("IoError", e.to_string(), false))?;
    if ctx.is_cancelled() {
        return Err(failure("Cancelled", "activity cancelled".to_owned(), true));
    }
    Ok(())
}

/// (sum of the id's bytes) mod 9000 + 1000.
fn amount_cents(order_id: &str) -> u64 {
    order_id.bytes().map(u64::from).sum::<u64>() % 9000 + 1000
}

fn failure(kind: &str, message: String, non_retryable: bool) -> ActivityError {
    ActivityError::Application(Box::new(
        ApplicationFailure::builder(message)
            .type_name(kind.to_owned())
            .non_retryable(non_retryable)
            .build(),
    ))
}
