//! Write weft guests in ordinary Rust.
//!
//! The raw bindings of the `weft:plugin` worlds deal in payloads (metadata +
//! bytes) and numeric handles. This crate puts typed, serde-based helpers on
//! top: arguments and results are any `Serialize`/`Deserialize` type, encoded
//! with Temporal's JSON converter (`json/plain`), so Go, Python, TypeScript
//! and Java clients and workers read them as they would their own.
//!
//! Enable exactly one feature: `workflow` for a workflow component (built for
//! `wasm32-unknown-unknown`), `activity` for an activity component (built for
//! `wasm32-wasip2`). A workflow:
//!
//! ```ignore
//! use std::time::Duration;
//! use weft_sdk::workflow::{self, Activity};
//! use weft_sdk::{Args, Failure};
//!
//! async fn greet(args: Args) -> Result<String, Failure> {
//!     let name: String = args.get(0)?;
//!     workflow::sleep(Duration::from_secs(1)).await;
//!     Activity::new("Greet").task_queue("GREET_Q").run(&[&name]).await
//! }
//!
//! weft_sdk::workflows!("Greet" => greet);
//! ```

#[cfg(all(feature = "workflow", feature = "activity"))]
compile_error!("enable one of the features `workflow` and `activity`, not both");

mod json;

#[cfg(feature = "activity")]
pub mod activity;
#[cfg(feature = "workflow")]
pub mod workflow;

/// The failure type of the world the crate is built for.
#[cfg(feature = "activity")]
use activity::bindings::weft::plugin::types as wit;
#[cfg(feature = "workflow")]
use workflow::bindings::weft::plugin::types as wit;

pub use json::{Args, decode, encode};
pub use wit::{Failure, LogLevel, Payload};

/// A retryable application failure of type `error_type`.
pub fn failure(error_type: &str, message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        error_type: error_type.to_owned(),
        non_retryable: false,
        details: Vec::new(),
    }
}

/// A failure Temporal must not retry.
pub fn non_retryable(error_type: &str, message: impl Into<String>) -> Failure {
    Failure {
        non_retryable: true,
        ..failure(error_type, message)
    }
}

/// Route panics to the host's log before the guest traps, so a failed task
/// says why. The export macros install it.
#[doc(hidden)]
pub fn install_panic_hook(log: fn(LogLevel, &str)) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(move |info| {
            log(LogLevel::Error, &info.to_string())
        }));
    });
}
