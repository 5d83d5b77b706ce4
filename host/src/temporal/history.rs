//! Workflow histories as `temporal workflow show --output json` prints them
//! (protobuf's JSON mapping), read into core's `History` message.

use prost::Message;
use prost_reflect::{DescriptorPool, DeserializeOptions, DynamicMessage};
pub use temporalio_common::protos::temporal::api::history::v1::History;
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;

/// The Temporal API's descriptors, published by `temporalio-protos` (build.rs).
static DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/temporal_descriptors.bin"));

/// Why a history file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Not the JSON form of a `temporal.api.history.v1.History`.
    #[error("not a Temporal history in JSON form: {0}")]
    Json(String),
    /// The history is readable but unusable for replay.
    #[error("unusable history: {0}")]
    Content(String),
}

/// Parse the JSON a `temporal workflow show --output json` wrote. Fields
/// this build does not know (from a newer server) are skipped.
pub(super) fn from_json(json: &[u8]) -> Result<History, HistoryError> {
    let json_err = |e: &dyn std::fmt::Display| HistoryError::Json(e.to_string());
    // Decoded once: decoding the whole Temporal API's descriptors costs more
    // than reading a typical history (the fuzz targets read thousands).
    static POOL: std::sync::LazyLock<Result<DescriptorPool, String>> =
        std::sync::LazyLock::new(|| DescriptorPool::decode(DESCRIPTORS).map_err(|e| e.to_string()));
    let pool = POOL.as_ref().map_err(|e| HistoryError::Json(e.clone()))?;
    let descriptor = pool
        .get_message_by_name("temporal.api.history.v1.History")
        .ok_or_else(|| HistoryError::Json("descriptor of History missing".to_owned()))?;
    let mut de = serde_json::Deserializer::from_slice(json);
    let options = DeserializeOptions::new().deny_unknown_fields(false);
    let message = DynamicMessage::deserialize_with_options(descriptor, &mut de, &options)
        .map_err(|e| json_err(&e))?;
    de.end().map_err(|e| json_err(&e))?;
    let history = History::decode(message.encode_to_vec().as_slice()).map_err(|e| json_err(&e))?;
    if history.events.is_empty() {
        return Err(HistoryError::Content("it has no events".to_owned()));
    }
    Ok(history)
}

/// The workflow id recorded in the history's first event (servers since
/// 1.27 record it), if any.
pub(super) fn workflow_id(history: &History) -> Option<&str> {
    match history.events.first()?.attributes.as_ref()? {
        Attributes::WorkflowExecutionStartedEventAttributes(a) if !a.workflow_id.is_empty() => {
            Some(&a.workflow_id)
        }
        _ => None,
    }
}

/// The workflow type the history's run started as.
pub(super) fn workflow_type(history: &History) -> Option<&str> {
    match history.events.first()?.attributes.as_ref()? {
        Attributes::WorkflowExecutionStartedEventAttributes(a) => {
            a.workflow_type.as_ref().map(|t| t.name.as_str())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STARTED: &str = r#"{"events":[{"eventId":"1","eventTime":"2026-11-25T18:54:25.839553012Z",
        "eventType":"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED","taskId":"1048587",
        "workflowExecutionStartedEventAttributes":{"workflowType":{"name":"OrderWorkflow"},
        "input":{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"Im9yZGVyLTci"}]},
        "workflowTaskTimeout":"10s","originalExecutionRunId":"01a2","attempt":1,
        "workflowId":"h1","aFieldFromTheFuture":true}}]}"#;

    #[test]
    fn reads_the_cli_json_form() {
        let h = from_json(STARTED.as_bytes()).expect("parses");
        assert_eq!(h.events[0].event_id, 1);
        assert_eq!(workflow_id(&h), Some("h1"));
        assert_eq!(workflow_type(&h), Some("OrderWorkflow"));
        let Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) = &h.events[0].attributes
        else {
            panic!("started attributes missing");
        };
        let input = &a.input.as_ref().expect("input").payloads[0];
        assert_eq!(input.data, br#""order-7""#);
        assert_eq!(input.metadata["encoding"], b"json/plain");
    }

    #[test]
    fn refuses_what_is_not_a_history() {
        let e = from_json(b"[1, 2]").expect_err("not an object");
        assert!(
            e.to_string()
                .starts_with("not a Temporal history in JSON form"),
            "{e}"
        );
        let e = from_json(br#"{"events": []}"#).expect_err("empty");
        assert_eq!(e.to_string(), "unusable history: it has no events");
    }
}
