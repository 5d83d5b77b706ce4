//! Activity helpers. Activities are ordinary Rust on `wasm32-wasip2`: files,
//! environment variables and sockets work through std, reaching only what
//! the host's config grants.

use crate::json::encode;
use crate::{Failure, LogLevel, Payload};
use serde::Serialize;

/// The raw bindings of the `weft:plugin/activity` world.
pub mod bindings {
    wit_bindgen::generate!({
        world: "activity",
        path: "../../../wit",
        pub_export_macro: true,
        export_macro_name: "export_activity_guest",
        default_bindings_module: "weft_sdk::activity::bindings",
    });
}

use bindings::weft::plugin::activity_host as host;
pub use host::ActivityInfo;

/// Report progress with `details`; true once cancellation is requested.
pub fn heartbeat<T: Serialize + ?Sized>(details: &T) -> bool {
    host::heartbeat(&[encode(details)])
}

/// Facts about this task.
pub fn info() -> ActivityInfo {
    host::info()
}

/// Log through the host, tagged with the task's identity.
pub fn log(level: LogLevel, message: &str) {
    host::log(level, message)
}

/// Call an activity function with the raw arguments; encode its result.
#[doc(hidden)]
pub fn call<T: Serialize>(
    f: fn(crate::Args) -> Result<T, Failure>,
    args: Vec<Payload>,
) -> Result<Payload, Failure> {
    crate::install_panic_hook(log);
    f(crate::Args(args)).map(|v| encode(&v))
}

/// Export activity functions under their activity type names:
/// `weft_sdk::activities!("CreateOrder" => create_order);`, where each
/// function is `fn(Args) -> Result<impl Serialize, Failure>`.
#[macro_export]
macro_rules! activities {
    ($($name:literal => $func:path),+ $(,)?) => {
        struct WeftActivities;
        impl $crate::activity::bindings::exports::weft::plugin::activity_guest::Guest
            for WeftActivities
        {
            fn activity_types() -> ::std::vec::Vec<::std::string::String> {
                ::std::vec![$($name.to_string()),+]
            }
            fn execute(
                activity_type: ::std::string::String,
                args: ::std::vec::Vec<$crate::Payload>,
            ) -> ::std::result::Result<$crate::Payload, $crate::Failure> {
                match activity_type.as_str() {
                    $($name => $crate::activity::call($func, args),)+
                    other => ::std::result::Result::Err($crate::non_retryable(
                        "UnknownActivityType",
                        ::std::format!("this component does not offer activity type {other:?}"),
                    )),
                }
            }
        }
        $crate::activity::bindings::export_activity_guest!(WeftActivities);
    };
}
