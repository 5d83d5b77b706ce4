//! Temporal payloads and failures, and their WIT twins.
//!
//! Payloads follow Temporal's default data converter, so Go, Python, Java and
//! TypeScript clients and workers read what weft guests write: JSON values are
//! `encoding: json/plain`, "no value" is `encoding: binary/null`.

use crate::bindings::types;
use crate::temporal::proto::{ApplicationFailureInfo, Failure, FailureInfo, Payload, Payloads};

/// Metadata key naming a payload's encoding.
pub const ENCODING: &str = "encoding";
/// Temporal's JSON encoding.
pub const JSON_PLAIN: &str = "json/plain";
/// Temporal's "no value" encoding.
pub const BINARY_NULL: &str = "binary/null";
/// The `source` weft writes on failures it creates.
pub const FAILURE_SOURCE: &str = "weft";

/// The `error-type` of a cancellation, as guests see it (a cancelled
/// activity, timer or wait) and as a run ends when it is cancelled.
pub const CANCELLED_ERROR: &str = "CancelledError";

/// A failure with no details that Temporal may retry (an activity's
/// failure is retried by its retry policy).
pub fn failure(message: impl Into<String>, error_type: &str) -> types::Failure {
    types::Failure {
        message: message.into(),
        error_type: error_type.to_owned(),
        non_retryable: false,
        details: vec![],
    }
}

/// A failure with no details that no retry can cure.
pub fn non_retryable_failure(message: impl Into<String>, error_type: &str) -> types::Failure {
    types::Failure {
        non_retryable: true,
        ..failure(message, error_type)
    }
}

/// The failure a guest sees for a cancelled `what` (the SDKs raise it as
/// their cancellation error).
pub fn cancelled(what: &str) -> types::Failure {
    non_retryable_failure(format!("{what} cancelled"), CANCELLED_ERROR)
}

/// A JSON payload.
pub fn json(value: &serde_json::Value) -> Payload {
    Payload {
        metadata: [(ENCODING.to_owned(), JSON_PLAIN.as_bytes().to_vec())].into(),
        data: value.to_string().into_bytes(),
        ..Default::default()
    }
}

/// The "no value" payload (`binary/null`).
pub fn null() -> Payload {
    Payload {
        metadata: [(ENCODING.to_owned(), BINARY_NULL.as_bytes().to_vec())].into(),
        ..Default::default()
    }
}

/// A payload as the guest sees it. Metadata is sorted by key so that the
/// guest sees the same bytes on every replay.
pub fn to_wit(p: Payload) -> types::Payload {
    let mut metadata: Vec<(String, Vec<u8>)> = p.metadata.into_iter().collect();
    metadata.sort();
    types::Payload {
        metadata,
        data: p.data,
    }
}

/// A guest's payload as Temporal stores it.
pub fn from_wit(p: types::Payload) -> Payload {
    Payload {
        metadata: p.metadata.into_iter().collect(),
        data: p.data,
        ..Default::default()
    }
}

/// A guest failure as a Temporal `ApplicationFailure`.
pub fn failure_from_wit(f: types::Failure) -> Failure {
    Failure {
        message: f.message,
        source: FAILURE_SOURCE.to_owned(),
        failure_info: Some(FailureInfo::ApplicationFailureInfo(
            ApplicationFailureInfo {
                r#type: f.error_type,
                non_retryable: f.non_retryable,
                details: (!f.details.is_empty()).then(|| Payloads {
                    payloads: f.details.into_iter().map(from_wit).collect(),
                }),
                ..Default::default()
            },
        )),
        ..Default::default()
    }
}

/// A failure as a guest sees it.
///
/// Temporal wraps what went wrong in the operation that failed (an
/// `ActivityFailure` whose cause is the activity's `ApplicationFailure`, or
/// a `TimeoutFailure`); the guest gets the first failure below those
/// wrappers: the type, message and details the activity raised, or the kind
/// of failure (`TimeoutError`, `CancelledError`, ...) when no application
/// code raised it.
pub fn failure_to_wit(f: Failure) -> types::Failure {
    let mut f = f;
    while matches!(
        f.failure_info,
        Some(
            FailureInfo::ActivityFailureInfo(_) | FailureInfo::ChildWorkflowExecutionFailureInfo(_)
        ) | None
    ) {
        match f.cause.take() {
            Some(cause) => f = *cause,
            None => break,
        }
    }
    let (error_type, non_retryable, details) = match f.failure_info {
        Some(FailureInfo::ApplicationFailureInfo(info)) => (
            info.r#type,
            info.non_retryable,
            info.details.map(|d| d.payloads).unwrap_or_default(),
        ),
        Some(FailureInfo::TimeoutFailureInfo(_)) => ("TimeoutError".into(), false, vec![]),
        Some(FailureInfo::CanceledFailureInfo(_)) => (CANCELLED_ERROR.into(), true, vec![]),
        Some(FailureInfo::TerminatedFailureInfo(_)) => ("TerminatedError".into(), true, vec![]),
        Some(FailureInfo::ServerFailureInfo(info)) => {
            ("ServerError".into(), info.non_retryable, vec![])
        }
        _ => (String::new(), false, vec![]),
    };
    types::Failure {
        message: f.message,
        error_type,
        non_retryable,
        details: details.into_iter().map(to_wit).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_payloads_use_the_json_converter_format() {
        let p = json(&serde_json::json!({"order_id": "order-42"}));
        assert_eq!(p.metadata[ENCODING], b"json/plain");
        assert_eq!(p.data, br#"{"order_id":"order-42"}"#);
        assert_eq!(from_wit(to_wit(p.clone())), p);
        assert_eq!(null().metadata[ENCODING], b"binary/null");
        assert!(null().data.is_empty());
    }

    #[test]
    fn guest_sees_metadata_in_key_order() {
        let mut p = json(&serde_json::json!(1));
        p.metadata.insert("a".into(), b"x".to_vec());
        p.metadata.insert("z".into(), b"y".to_vec());
        let keys: Vec<_> = to_wit(p).metadata.into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "encoding", "z"]);
    }

    #[test]
    fn application_failures_round_trip() {
        let wit = types::Failure {
            message: "card declined".into(),
            error_type: "PaymentDeclined".into(),
            non_retryable: true,
            details: vec![to_wit(json(&serde_json::json!({"code": 51})))],
        };
        let proto = failure_from_wit(wit.clone());
        assert_eq!(proto.source, FAILURE_SOURCE);
        // Temporal wraps it, as it does for an activity's failure.
        let wrapped = Failure {
            message: "activity error".into(),
            cause: Some(Box::new(proto)),
            ..Default::default()
        };
        assert_eq!(failure_to_wit(wrapped), wit);
    }

    #[test]
    fn non_application_failures_name_their_kind() {
        let last_attempt = failure_from_wit(failure("attempt 2 ran too long", "ActivityTimeout"));
        let timeout = Failure {
            message: "activity StartToClose timeout".into(),
            failure_info: Some(FailureInfo::TimeoutFailureInfo(Default::default())),
            cause: Some(Box::new(last_attempt)),
            ..Default::default()
        };
        let wrapped = Failure {
            message: "activity error".into(),
            failure_info: Some(FailureInfo::ActivityFailureInfo(Default::default())),
            cause: Some(Box::new(timeout)),
            ..Default::default()
        };
        let f = failure_to_wit(wrapped);
        assert_eq!(f.error_type, "TimeoutError");
        assert_eq!(f.message, "activity StartToClose timeout");
    }
}
