// Test-only workflow guest for weft's host tests: a trap, a generic activity runner and a timer.

//! Workflow types:
//! - `Trap`: panics, so the workflow task fails (and Temporal retries it).
//! - `RunActivity`: input `{"activity_type", "task_queue", "args": [...]}`,
//!   optionally `"start_to_close_ms"` and `"schedule_to_close_ms"`; runs that
//!   activity and returns its result (or failure) as received.
//! - `Sleep`: input a number of milliseconds; waits on a timer and returns
//!   `{"slept_ms": n}`.

wit_bindgen::generate!({
    world: "workflow",
    path: "../../../wit",
});

use exports::weft::plugin::workflow_guest::Guest;
use serde_json::{Value, json};
use weft::plugin::types::{Failure, LogLevel, Payload};
use weft::plugin::workflow_host::{self as host, ActivityOptions};

/// Start-to-close timeout of activities `RunActivity` schedules, unless the
/// input sets one.
const ACTIVITY_TIMEOUT_MS: u64 = 10_000;

/// The component: implements the exported `workflow-guest` interface.
struct TestWorkflows;

impl Guest for TestWorkflows {
    fn workflow_types() -> Vec<String> {
        ["Trap", "RunActivity", "Sleep"].map(String::from).to_vec()
    }

    fn run(workflow_type: String, args: Vec<Payload>) -> Result<Payload, Failure> {
        install_panic_hook();
        match workflow_type.as_str() {
            "Trap" => panic!("deliberate trap for tests"),
            "RunActivity" => run_activity(&single_json_arg(&args)?),
            "Sleep" => sleep(&single_json_arg(&args)?),
            other => Err(failure(
                "UnknownWorkflowType",
                format!("this component does not offer workflow type {other:?}"),
            )),
        }
    }
}

export!(TestWorkflows);

/// Schedules the activity the input describes and returns its outcome as-is.
fn run_activity(input: &Value) -> Result<Payload, Failure> {
    let field = |name: &str| {
        input.get(name).and_then(Value::as_str).ok_or_else(|| {
            failure(
                "InvalidInput",
                format!("RunActivity input needs a string field {name:?}, got {input}"),
            )
        })
    };
    let activity_type = field("activity_type")?;
    let task_queue = field("task_queue")?;
    let Some(args) = input.get("args").and_then(Value::as_array) else {
        return Err(failure(
            "InvalidInput",
            format!("RunActivity input needs an array field \"args\", got {input}"),
        ));
    };
    let args: Vec<Payload> = args.iter().map(encode_json).collect();
    let options = ActivityOptions {
        task_queue: Some(task_queue.to_string()),
        start_to_close_timeout_ms: Some(
            input
                .get("start_to_close_ms")
                .and_then(Value::as_u64)
                .unwrap_or(ACTIVITY_TIMEOUT_MS),
        ),
        schedule_to_close_timeout_ms: input.get("schedule_to_close_ms").and_then(Value::as_u64),
        activity_id: None,
    };
    host::log(
        LogLevel::Info,
        &format!("running activity {activity_type} on {task_queue}"),
    );
    let handle = host::start_activity(activity_type, &args, &options);
    host::result(handle)
}

/// Waits on a timer of the given number of milliseconds.
fn sleep(input: &Value) -> Result<Payload, Failure> {
    let Some(ms) = input.as_u64() else {
        return Err(failure(
            "InvalidInput",
            format!("Sleep input must be a non-negative integer of milliseconds, got {input}"),
        ));
    };
    let timer = host::start_timer(ms);
    host::result(timer)?;
    Ok(encode_json(&json!({ "slept_ms": ms })))
}

/// The single `json/plain` argument of a workflow.
fn single_json_arg(args: &[Payload]) -> Result<Value, Failure> {
    let [payload] = args else {
        return Err(failure(
            "InvalidInput",
            format!("expected one argument, got {}", args.len()),
        ));
    };
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

/// Encodes a value with Temporal's JSON converter (`json/plain`).
fn encode_json(value: &Value) -> Payload {
    Payload {
        metadata: vec![("encoding".to_string(), b"json/plain".to_vec())],
        data: value.to_string().into_bytes(),
    }
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
