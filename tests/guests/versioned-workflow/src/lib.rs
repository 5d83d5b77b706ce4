// Test-only workflow guest for weft's deploy tests, on the async Rust SDK.

//! Workflow type `Versioned`, built in four versions (cargo features):
//! publishes query `version`, waits for signal `finish`, then
//! - v1 (default): waits on a 10 ms timer;
//! - v2: a compatible change made with `patched("second-timer")`: new runs
//!   wait on a second, 20 ms timer; runs recorded by v1 (no marker) take
//!   v1's path on replay;
//! - v3: schedules activity `Noop` instead of the timer (incompatible: it
//!   does not replay v1's histories);
//! - v4: v2 once no v1 run is left: `deprecate_patch("second-timer")` and
//!   only the new path. It replays v2's histories, not v1's.
//!
//! It returns `{"version": N, "signal": <the signal's argument>}`.

use serde_json::{Value, json};
use std::time::Duration;
use weft_sdk::workflow::{self, Activity};
use weft_sdk::{Args, Failure};

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

async fn versioned(_: Args) -> Result<Value, Failure> {
    workflow::set_query("version", &VERSION);
    let signal: Value = workflow::signal("finish")
        .await
        .opt(0)?
        .unwrap_or(Value::Null);
    if cfg!(feature = "v3") {
        let none: &[&Value] = &[];
        Activity::new("Noop")
            .start_to_close(Duration::from_secs(10))
            .start(none)
            .await?;
    } else {
        workflow::timer(Duration::from_millis(10)).await?;
    }
    let second_timer = if cfg!(feature = "v4") {
        workflow::deprecate_patch(PATCH);
        true
    } else {
        cfg!(feature = "v2") && workflow::patched(PATCH)
    };
    if second_timer {
        workflow::timer(Duration::from_millis(20)).await?;
    }
    Ok(json!({ "version": VERSION, "signal": signal }))
}

weft_sdk::workflows!("Versioned" => versioned);
