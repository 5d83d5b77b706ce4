// Test-only workflow guest for weft's deploy tests.

//! Workflow type `Versioned`, built in four versions (cargo features):
//! publishes query `version`, waits for signal `finish`, then
//! - v1 (default): waits on a 10 ms timer;
//! - v2: a compatible change made with `patched("second-timer")`: new runs
//!   wait on a second, 20 ms timer; runs recorded by v1 (no marker) take
//!   v1's path on replay;
//! - v3: schedules activity `Noop` instead of the timer (incompatible: it
//!   does not replay v1's histories);
//! - v4: v2 once no v1 run is left: `deprecate-patch("second-timer")` and
//!   only the new path. It replays v2's histories, not v1's.
//!
//! It returns `{"version": N, "signal": <the signal's JSON>}`.

wit_bindgen::generate!({
    world: "workflow",
    path: "../../../wit",
});

use exports::weft::plugin::workflow_guest::Guest;
use weft::plugin::types::{Failure, Payload};
use weft::plugin::workflow_host as host;

const VERSION: u32 = if cfg!(feature = "v4") {
    4
} else if cfg!(feature = "v3") {
    3
} else if cfg!(feature = "v2") {
    2
} else {
    1
};

/// The patch v2 introduces and v4 deprecates.
const PATCH: &str = "second-timer";

struct Versioned;

impl Guest for Versioned {
    fn workflow_types() -> Vec<String> {
        vec!["Versioned".to_string()]
    }

    fn run(_workflow_type: String, _args: Vec<Payload>) -> Result<Payload, Failure> {
        host::set_query_result("version", &json(&VERSION.to_string()));
        let signal = host::result(host::next_signal("finish"))?;
        let waited = if cfg!(feature = "v3") {
            let options = host::ActivityOptions {
                task_queue: None,
                start_to_close_timeout_ms: Some(10_000),
                schedule_to_close_timeout_ms: None,
                schedule_to_start_timeout_ms: None,
                heartbeat_timeout_ms: None,
                retry_policy: None,
                cancellation: host::ActivityCancellation::TryCancel,
                activity_id: None,
            };
            host::start_activity("Noop", &[], &options)
        } else {
            host::start_timer(10)
        };
        host::result(waited)?;
        let second_timer = if cfg!(feature = "v4") {
            host::deprecate_patch(PATCH);
            true
        } else {
            cfg!(feature = "v2") && host::patched(PATCH)
        };
        if second_timer {
            host::result(host::start_timer(20))?;
        }
        let signal = String::from_utf8_lossy(&signal.data).into_owned();
        Ok(json(&format!(r#"{{"version":{VERSION},"signal":{signal}}}"#)))
    }
}

/// A `json/plain` payload of already-encoded JSON text.
fn json(text: &str) -> Payload {
    Payload {
        metadata: vec![("encoding".to_string(), b"json/plain".to_vec())],
        data: text.as_bytes().to_vec(),
    }
}

export!(Versioned);
