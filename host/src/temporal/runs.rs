//! Reading runs back from the server: the recent runs of some workflow
//! types, their histories, and the module each run is pinned to. The
//! replay gate and `weft modules` use these.

use super::{Connection, History, Recorded, TemporalError};
use temporalio_common::protos::VERSION_SEARCH_ATTR_KEY;
use temporalio_common::protos::coresdk::common::decode_change_marker_details;
use temporalio_common::protos::temporal::api::common::v1::{SearchAttributes, WorkflowExecution};
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_common::protos::temporal::api::workflowservice::v1::{
    GetWorkflowExecutionHistoryRequest, ListWorkflowExecutionsRequest,
};
use tonic::IntoRequest;

/// The patch marker name core records `patched` markers under.
const PATCH_MARKER: &str = "core_patch";

/// The patch id prefix of the marker that pins a run to its module: the
/// first workflow task of every run records `weft.module/sha256:<hex>`, so
/// every host replays the run on the module it started on. Here, beside
/// [`pin_of`] that reads it back, because both the workflow runtime (which
/// writes it) and this module depend on `temporal`.
pub const PIN_PREFIX: &str = "weft.module/";

/// One run, as visibility lists it.
#[derive(Debug, Clone)]
pub struct RunRef {
    /// Workflow id.
    pub workflow_id: String,
    /// Run id.
    pub run_id: String,
    /// Workflow type.
    pub workflow_type: String,
    /// The module digest the run is pinned to, when visibility already
    /// says (see [`pin_in`]); `None`: only its history can tell.
    pub pin: Option<String>,
}

/// Which runs to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    /// Open and closed, most recent first.
    Recent,
    /// Still running.
    Open,
}

/// Up to `limit` runs of `types` in `namespace`, most recent first.
pub async fn list(
    connection: &Connection,
    namespace: &str,
    types: &[String],
    which: Runs,
    limit: usize,
) -> Result<Vec<RunRef>, TemporalError> {
    if types.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let by_type: Vec<String> = types
        .iter()
        .map(|t| format!("WorkflowType = '{}'", t.replace('\'', "\\'")))
        .collect();
    let mut query = format!("({})", by_type.join(" OR "));
    if which == Runs::Open {
        query.push_str(" AND ExecutionStatus = 'Running'");
    }
    let mut service = connection.workflow_service();
    let mut runs = Vec::new();
    let mut next_page_token = Vec::new();
    loop {
        let request = ListWorkflowExecutionsRequest {
            namespace: namespace.to_owned(),
            page_size: limit.min(1000) as i32,
            next_page_token,
            query: query.clone(),
        };
        let response = service
            .list_workflow_executions(request.into_request())
            .await
            .map_err(|e| call("list workflow runs", e))?
            .into_inner();
        for info in response.executions {
            let execution = info.execution.unwrap_or_default();
            runs.push(RunRef {
                workflow_id: execution.workflow_id,
                run_id: execution.run_id,
                workflow_type: info.r#type.map(|t| t.name).unwrap_or_default(),
                pin: pin_in(info.search_attributes.as_ref()),
            });
            if runs.len() == limit {
                return Ok(runs);
            }
        }
        if response.next_page_token.is_empty() {
            return Ok(runs);
        }
        next_page_token = response.next_page_token;
    }
}

/// A run's history: all of it, or only its first page (enough to find the
/// pin, which the first workflow task records).
pub async fn history(
    connection: &Connection,
    namespace: &str,
    run: &RunRef,
    whole: bool,
) -> Result<History, TemporalError> {
    let mut service = connection.workflow_service();
    let mut events = Vec::new();
    let mut next_page_token = Vec::new();
    loop {
        let request = GetWorkflowExecutionHistoryRequest {
            namespace: namespace.to_owned(),
            execution: Some(WorkflowExecution {
                workflow_id: run.workflow_id.clone(),
                run_id: run.run_id.clone(),
            }),
            maximum_page_size: if whole { 0 } else { 20 },
            next_page_token,
            ..Default::default()
        };
        let response = service
            .get_workflow_execution_history(request.into_request())
            .await
            .map_err(|e| call("read a workflow history", e))?
            .into_inner();
        events.extend(response.history.map(|h| h.events).unwrap_or_default());
        if !whole || response.next_page_token.is_empty() {
            return Ok(History { events });
        }
        next_page_token = response.next_page_token;
    }
}

/// The module digest a history's pin marker names, if it has one.
pub fn pin_of(history: &History) -> Option<String> {
    history.events.iter().find_map(|e| match &e.attributes {
        Some(Attributes::MarkerRecordedEventAttributes(m)) if m.marker_name == PATCH_MARKER => {
            decode_change_marker_details(&m.details)
                .and_then(|(id, _)| id.strip_prefix(PIN_PREFIX).map(str::to_owned))
        }
        _ => None,
    })
}

/// The module digest a run's search attributes name, if they do. Core
/// upserts every patch id a run has into `TemporalChangeVersion` in the
/// task that records the patch's marker, so the pin found there is the
/// pin marker's. It may be missing (a run whose history predates the
/// upsert, visibility not caught up yet, an oversized list): then only the
/// history can say.
pub fn pin_in(attributes: Option<&SearchAttributes>) -> Option<String> {
    let payload = attributes?.indexed_fields.get(VERSION_SEARCH_ATTR_KEY)?;
    let ids: Vec<String> = serde_json::from_slice(&payload.data).ok()?;
    ids.iter()
        .find_map(|id| id.strip_prefix(PIN_PREFIX))
        .map(str::to_owned)
}

/// A fetched history, ready to replay.
pub fn recorded(run: &RunRef, history: History) -> Recorded {
    // Core replays a history as the run its start event names.
    let run_id = history
        .extract_run_id_from_start()
        .map(str::to_owned)
        .unwrap_or_else(|_| run.run_id.clone());
    Recorded {
        history,
        workflow_id: run.workflow_id.clone(),
        workflow_type: run.workflow_type.clone(),
        run_id,
    }
}

fn call(what: &str, status: tonic::Status) -> TemporalError {
    TemporalError::Call {
        what: what.to_owned(),
        status: Box::new(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use temporalio_common::protos::temporal::api::common::v1::Payload;

    fn change_versions(json: &str) -> SearchAttributes {
        SearchAttributes {
            indexed_fields: [(
                VERSION_SEARCH_ATTR_KEY.to_owned(),
                Payload {
                    data: json.as_bytes().to_vec(),
                    ..Default::default()
                },
            )]
            .into(),
        }
    }

    #[test]
    fn the_pin_is_read_from_the_change_version_search_attribute() {
        let sa = change_versions(r#"["my-patch","weft.module/sha256:ab"]"#);
        assert_eq!(pin_in(Some(&sa)).as_deref(), Some("sha256:ab"));
        let unpinned = change_versions(r#"["my-patch"]"#);
        assert_eq!(pin_in(Some(&unpinned)), None);
        assert_eq!(pin_in(Some(&change_versions("not json"))), None);
        assert_eq!(pin_in(Some(&SearchAttributes::default())), None);
        assert_eq!(pin_in(None), None);
    }
}
