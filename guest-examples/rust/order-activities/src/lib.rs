//! `CreateOrder` and `ChargePayment` in Rust, on the weft Rust SDK (see
//! ../../ORDER.md).
//!
//! Orders are JSON files in `/orders`, a directory the host preopens for this
//! component when its config grants it (read-write). Without that grant the
//! component can reach no file at all.

use serde_json::{Value, json};
use std::io::ErrorKind;
use weft_sdk::activity;
use weft_sdk::{Args, Failure, LogLevel, failure, non_retryable};

fn create_order(args: Args) -> Result<Value, Failure> {
    let order_id = order_id(&args)?;
    let amount_cents = amount_cents(&order_id);
    // Granted in config (`env = { ORDER_CURRENCY = ... }`); without the
    // grant the variable does not exist in the sandbox.
    let currency = std::env::var("ORDER_CURRENCY").unwrap_or_else(|_| "USD".to_owned());
    let order = json!({ "order_id": order_id, "amount_cents": amount_cents, "currency": currency });
    let path = order_path(&order_id);
    std::fs::write(&path, order.to_string())
        .map_err(|e| failure("IoError", format!("cannot write {path}: {e}")))?;
    activity::log(
        LogLevel::Info,
        &format!("created order {order_id} ({amount_cents} cents) in {path}"),
    );
    Ok(
        json!({ "order_id": order_id, "status": "created", "amount_cents": amount_cents, "currency": currency }),
    )
}

fn charge_payment(args: Args) -> Result<Value, Failure> {
    let order_id = order_id(&args)?;
    if order_id.contains("decline") {
        return Err(non_retryable(
            "PaymentDeclined",
            format!("payment for order {order_id} declined"),
        ));
    }
    let path = order_path(&order_id);
    let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => non_retryable(
            "OrderNotFound",
            format!("order {order_id} does not exist ({path} not found); run CreateOrder first"),
        ),
        _ => failure("IoError", format!("cannot read {path}: {e}")),
    })?;
    let order: Value = serde_json::from_str(&text)
        .map_err(|e| non_retryable("CorruptOrder", format!("{path} is not valid JSON: {e}")))?;
    activity::log(
        LogLevel::Info,
        &format!("charged order {order_id}: {order}"),
    );
    Ok(json!({
        "order_id": order_id,
        "status": "charged",
        "amount_cents": order["amount_cents"],
        "currency": order["currency"],
    }))
}

/// The order id argument, made only of `[A-Za-z0-9_-]` so that it cannot
/// name a path outside `/orders`. Heartbeats once: a cancelled task stops.
fn order_id(args: &Args) -> Result<String, Failure> {
    if activity::heartbeat(&()) {
        return Err(non_retryable("Cancelled", "activity was cancelled"));
    }
    let id: String = args
        .get(0)
        .map_err(|f| non_retryable("InvalidOrderId", f.message))?;
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if id.is_empty() || !id.chars().all(valid) {
        return Err(non_retryable(
            "InvalidOrderId",
            format!("order id {id:?} must be non-empty and use only A-Z, a-z, 0-9, '_' and '-'"),
        ));
    }
    Ok(id)
}

/// A made-up but deterministic price: the same order id always costs the same.
fn amount_cents(order_id: &str) -> u64 {
    order_id.bytes().map(u64::from).sum::<u64>() % 9_000 + 1_000
}

fn order_path(order_id: &str) -> String {
    format!("/orders/{order_id}.json")
}

weft_sdk::activities!("CreateOrder" => create_order, "ChargePayment" => charge_payment);
