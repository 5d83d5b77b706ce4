// Test-only activity guest for weft's sandbox tests: file access under grants, and a timeout.

//! Activity types:
//! - `ReadFile`: input a path (JSON string); returns the file's text, or a
//!   non-retryable `IoError` failure saying why it cannot be read.
//! - `Spin`: loops forever, so the host's timeout must stop it.
//! - `Fail`: input `{"error_type", "non_retryable"}`; always fails with that
//!   type, saying which attempt it was.
//! - `Wait`: input a number of milliseconds; heartbeats until they have
//!   passed or cancellation is requested (then fails with `CancelledError`).

wit_bindgen::generate!({
    world: "activity",
    path: "../../../wit",
});

use exports::weft::plugin::activity_guest::Guest;
use serde_json::Value;
use weft::plugin::activity_host as host;
use weft::plugin::types::{Failure, LogLevel, Payload};

/// The component: implements the exported `activity-guest` interface.
struct SandboxActivities;

impl Guest for SandboxActivities {
    fn activity_types() -> Vec<String> {
        ["ReadFile", "Spin", "Fail", "Wait"]
            .map(String::from)
            .to_vec()
    }

    fn execute(activity_type: String, args: Vec<Payload>) -> Result<Payload, Failure> {
        install_panic_hook();
        match activity_type.as_str() {
            "ReadFile" => read_file(&args),
            "Spin" => spin(),
            "Fail" => fail(&args),
            "Wait" => wait(&args),
            other => Err(failure(
                "UnknownActivityType",
                format!("this component does not offer activity type {other:?}"),
            )),
        }
    }
}

export!(SandboxActivities);

/// Reads a file through WASI: succeeds only inside a granted preopen.
fn read_file(args: &[Payload]) -> Result<Payload, Failure> {
    let path = match args {
        [payload] => match decode_json(payload)? {
            Value::String(path) => path,
            other => {
                return Err(failure(
                    "InvalidInput",
                    format!("expected a path as a JSON string, got {other}"),
                ));
            }
        },
        _ => {
            return Err(failure(
                "InvalidInput",
                format!("expected one argument (a path), got {}", args.len()),
            ));
        }
    };
    host::log(LogLevel::Info, &format!("reading {path}"));
    match std::fs::read_to_string(&path) {
        Ok(content) => Ok(encode_json(&Value::String(content))),
        Err(err) => Err(failure("IoError", format!("cannot read {path}: {err}"))),
    }
}

/// Never returns: the host must interrupt it (activity timeout).
fn spin() -> Result<Payload, Failure> {
    host::log(LogLevel::Info, "spinning until stopped");
    let mut counter: u64 = 0;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

/// Always fails, as the input says; the message names the attempt.
fn fail(args: &[Payload]) -> Result<Payload, Failure> {
    let input = match args {
        [payload] => decode_json(payload)?,
        _ => Value::Null,
    };
    let attempt = host::info().attempt;
    Err(Failure {
        message: format!("failed on attempt {attempt}"),
        error_type: input["error_type"].as_str().unwrap_or("Failed").to_string(),
        non_retryable: input["non_retryable"].as_bool().unwrap_or(false),
        details: vec![encode_json(&serde_json::json!({ "attempt": attempt }))],
    })
}

/// Heartbeats every 20 ms until the time is up or cancellation arrives.
fn wait(args: &[Payload]) -> Result<Payload, Failure> {
    let ms = match args {
        [payload] => decode_json(payload)?.as_u64().unwrap_or(0),
        _ => 0,
    };
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_millis(ms) {
        if host::heartbeat(&[]) {
            host::log(LogLevel::Info, "cancellation requested: stopping");
            return Err(failure("CancelledError", "cancelled while waiting".into()));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Ok(encode_json(&serde_json::json!({ "waited_ms": ms })))
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

/// A non-retryable failure.
fn failure(error_type: &str, message: String) -> Failure {
    Failure {
        message,
        error_type: error_type.to_string(),
        non_retryable: true,
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
