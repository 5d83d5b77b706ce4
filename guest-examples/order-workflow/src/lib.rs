//! `OrderWorkflow`: an example weft workflow component.
//!
//! Given an order id, it schedules the `CreateOrder` activity and then the
//! `ChargePayment` activity on the `ORDER_ACTIVITY_Q` task queue, and returns
//! both results. It is plain straight-line code: `result` blocks until the
//! host resumes the workflow with the activity's outcome.

wit_bindgen::generate!({
    world: "workflow",
    path: "../../wit",
});

use exports::weft::plugin::workflow_guest::Guest;
use serde_json::{Value, json};
use weft::plugin::types::{Failure, LogLevel, Payload};
use weft::plugin::workflow_host::{self as host, ActivityCancellation, ActivityOptions};

/// The workflow type this component offers.
const ORDER_WORKFLOW: &str = "OrderWorkflow";
/// Task queue the order activities are scheduled on.
const ACTIVITY_TASK_QUEUE: &str = "ORDER_ACTIVITY_Q";
/// Start-to-close timeout of each activity attempt.
const ACTIVITY_TIMEOUT_MS: u64 = 60_000;

/// The component: implements the exported `workflow-guest` interface.
struct OrderWorkflow;

impl Guest for OrderWorkflow {
    fn workflow_types() -> Vec<String> {
        vec![ORDER_WORKFLOW.to_string()]
    }

    fn run(workflow_type: String, args: Vec<Payload>) -> Result<Payload, Failure> {
        install_panic_hook();
        match workflow_type.as_str() {
            ORDER_WORKFLOW => order_workflow(&args),
            other => Err(failure(
                "UnknownWorkflowType",
                format!("this component does not offer workflow type {other:?}"),
            )),
        }
    }
}

export!(OrderWorkflow);

/// Creates the order, then charges it; both results go into the output.
fn order_workflow(args: &[Payload]) -> Result<Payload, Failure> {
    let order_id = match args {
        [payload] => match decode_json(payload)? {
            Value::String(id) => id,
            other => {
                return Err(failure(
                    "InvalidInput",
                    format!("expected the order id as a JSON string, got {other}"),
                ));
            }
        },
        _ => {
            return Err(failure(
                "InvalidInput",
                format!("expected one argument (the order id), got {}", args.len()),
            ));
        }
    };

    host::log(LogLevel::Info, &format!("order {order_id}: creating order"));
    let created = run_activity("CreateOrder", &order_id)?;

    host::log(
        LogLevel::Info,
        &format!("order {order_id}: charging payment"),
    );
    let charged = run_activity("ChargePayment", &order_id)?;

    host::log(LogLevel::Info, &format!("order {order_id}: done"));
    Ok(encode_json(&json!({
        "order_id": order_id,
        "create_order": created,
        "charge_payment": charged,
    })))
}

/// Schedules one order activity with the order id as its only argument and
/// blocks until it is done. A failed activity fails the workflow with the
/// failure as received.
fn run_activity(activity_type: &str, order_id: &str) -> Result<Value, Failure> {
    let options = ActivityOptions {
        task_queue: Some(ACTIVITY_TASK_QUEUE.to_string()),
        start_to_close_timeout_ms: Some(ACTIVITY_TIMEOUT_MS),
        schedule_to_close_timeout_ms: None,
        schedule_to_start_timeout_ms: None,
        heartbeat_timeout_ms: None,
        retry_policy: None,
        cancellation: ActivityCancellation::TryCancel,
        activity_id: None,
    };
    let handle = host::start_activity(activity_type, &[encode_json(&json!(order_id))], &options);
    let payload = host::result(handle)?;
    decode_json(&payload)
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
        ));
    }
    serde_json::from_slice(&payload.data).map_err(|err| {
        failure(
            "InvalidPayload",
            format!("payload is not valid JSON: {err}"),
        )
    })
}

/// A non-retryable failure: bad input does not get better on retry.
fn failure(error_type: &str, message: String) -> Failure {
    Failure {
        message,
        error_type: error_type.to_string(),
        non_retryable: true,
        details: Vec::new(),
    }
}

/// Sends panic messages through the host's `log` import, so a trapping
/// workflow task says why it failed.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            host::log(LogLevel::Error, &format!("workflow panicked: {info}"));
        }));
    });
}
