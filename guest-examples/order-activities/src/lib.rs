//! `CreateOrder` and `ChargePayment`: an example weft activity component.
//!
//! Orders are JSON files in `/orders`, a directory the host preopens for this
//! component when its config grants it (read-write). Without that grant the
//! component can reach no file at all.

wit_bindgen::generate!({
    world: "activity",
    path: "../../wit",
});

use std::io::ErrorKind;

use exports::weft::plugin::activity_guest::Guest;
use serde_json::{Value, json};
use weft::plugin::activity_host as host;
use weft::plugin::types::{Failure, LogLevel, Payload};

/// The directory orders are stored in (a preopen granted by the host).
const ORDERS_DIR: &str = "/orders";

/// The component: implements the exported `activity-guest` interface.
struct OrderActivities;

impl Guest for OrderActivities {
    fn activity_types() -> Vec<String> {
        vec!["CreateOrder".to_string(), "ChargePayment".to_string()]
    }

    fn execute(activity_type: String, args: Vec<Payload>) -> Result<Payload, Failure> {
        install_panic_hook();
        let order_id = order_id_arg(&args)?;
        let output = match activity_type.as_str() {
            "CreateOrder" => create_order(&order_id)?,
            "ChargePayment" => charge_payment(&order_id)?,
            other => {
                return Err(failure(
                    "UnknownActivityType",
                    format!("this component does not offer activity type {other:?}"),
                    true,
                ));
            }
        };
        Ok(encode_json(&output))
    }
}

export!(OrderActivities);

/// Writes `/orders/<order_id>.json` and returns the created order's summary.
fn create_order(order_id: &str) -> Result<Value, Failure> {
    heartbeat()?;
    let amount_cents = amount_cents(order_id);
    // Granted in config (`env = { ORDER_CURRENCY = ... }`); without the
    // grant the variable does not exist in the sandbox.
    let currency = std::env::var("ORDER_CURRENCY").unwrap_or_else(|_| "USD".to_string());
    let order = json!({
        "order_id": order_id,
        "items": [
            { "sku": "WIDGET-1", "quantity": 1 + amount_cents % 3 },
            { "sku": "GADGET-7", "quantity": 1 },
        ],
        "amount_cents": amount_cents,
        "currency": currency,
    });
    let path = order_path(order_id);
    std::fs::write(&path, order.to_string())
        .map_err(|err| failure("IoError", format!("cannot write {path}: {err}"), false))?;
    host::log(
        LogLevel::Info,
        &format!("created order {order_id} ({amount_cents} cents) in {path}"),
    );
    Ok(json!({
        "order_id": order_id,
        "status": "created",
        "amount_cents": amount_cents,
        "currency": currency,
    }))
}

/// Reads the order back and "charges" the amount stored in it.
fn charge_payment(order_id: &str) -> Result<Value, Failure> {
    heartbeat()?;
    let path = order_path(order_id);
    let text = std::fs::read_to_string(&path).map_err(|err| match err.kind() {
        ErrorKind::NotFound => failure(
            "OrderNotFound",
            format!("order {order_id} does not exist ({path} not found); run CreateOrder first"),
            true,
        ),
        _ => failure("IoError", format!("cannot read {path}: {err}"), false),
    })?;
    let order: Value = serde_json::from_str(&text).map_err(|err| {
        failure(
            "CorruptOrder",
            format!("{path} is not valid JSON: {err}"),
            true,
        )
    })?;
    let Some(amount_cents) = order.get("amount_cents").and_then(Value::as_u64) else {
        return Err(failure(
            "CorruptOrder",
            format!("{path} has no numeric amount_cents"),
            true,
        ));
    };
    let currency = order.get("currency").cloned().unwrap_or(Value::Null);
    host::log(
        LogLevel::Info,
        &format!("charged {amount_cents} cents ({currency}) for order {order_id}"),
    );
    Ok(json!({
        "order_id": order_id,
        "status": "charged",
        "amount_cents": amount_cents,
        "currency": currency,
    }))
}

/// A made-up but deterministic price: the same order id always costs the same.
fn amount_cents(order_id: &str) -> u64 {
    let sum: u64 = order_id.bytes().map(u64::from).sum();
    sum % 9_000 + 1_000
}

/// Path of an order's file. Only call with an id `order_id_arg` validated.
fn order_path(order_id: &str) -> String {
    format!("{ORDERS_DIR}/{order_id}.json")
}

/// Reports progress once; fails the attempt if cancellation was requested.
fn heartbeat() -> Result<(), Failure> {
    if host::heartbeat(&[]) {
        return Err(failure(
            "Cancelled",
            "activity was cancelled".to_string(),
            true,
        ));
    }
    Ok(())
}

/// The one argument both activities take: an order id, as a JSON string, made
/// only of `[A-Za-z0-9_-]` so that it cannot name a path outside `/orders`.
fn order_id_arg(args: &[Payload]) -> Result<String, Failure> {
    let invalid = |message: String| failure("InvalidOrderId", message, true);
    let [payload] = args else {
        return Err(invalid(format!(
            "expected one argument (the order id), got {}",
            args.len()
        )));
    };
    let Value::String(order_id) = decode_json(payload)? else {
        return Err(invalid("the order id must be a JSON string".to_string()));
    };
    let valid_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if order_id.is_empty() || !order_id.chars().all(valid_char) {
        return Err(invalid(format!(
            "order id {order_id:?} must be non-empty and use only A-Z, a-z, 0-9, '_' and '-'"
        )));
    }
    Ok(order_id)
}

/// Encodes a value with Temporal's JSON converter (`json/plain`).
fn encode_json(value: &Value) -> Payload {
    Payload {
        metadata: vec![("encoding".to_string(), b"json/plain".to_vec())],
        data: value.to_string().into_bytes(),
    }
}

/// Decodes a `json/plain` payload.
fn decode_json(payload: &Payload) -> Result<Value, Failure> {
    let encoding = payload
        .metadata
        .iter()
        .find(|(key, _)| key == "encoding")
        .map(|(_, value)| value.as_slice());
    if encoding != Some(b"json/plain".as_slice()) {
        return Err(failure(
            "InvalidPayload",
            format!(
                "expected a json/plain payload, got encoding {:?}",
                encoding.map(String::from_utf8_lossy)
            ),
            true,
        ));
    }
    serde_json::from_slice(&payload.data).map_err(|err| {
        failure(
            "InvalidPayload",
            format!("payload is not valid JSON: {err}"),
            true,
        )
    })
}

/// A failure with no details.
fn failure(error_type: &str, message: String, non_retryable: bool) -> Failure {
    Failure {
        message,
        error_type: error_type.to_string(),
        non_retryable,
        details: Vec::new(),
    }
}

/// Sends panic messages through the host's `log` import, so a trapping
/// activity says why it failed.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            host::log(LogLevel::Error, &format!("activity panicked: {info}"));
        }));
    });
}
