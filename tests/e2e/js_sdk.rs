//! The JavaScript SDK (guest-examples/js/weft, shaped like
//! `@temporalio/workflow`) on the activation world, for what OrderWorkflow
//! does not exercise (guest-examples/js/sdk_workflows.js): a query with
//! arguments, an update whose validator refuses one call and accepts
//! another, continue-as-new, and the run's cancellation.

use crate::harness::{
    Client, Outcome, Weft, event_type, scratch, signal, temporal_cli, try_temporal_cli, wait_for,
    wasm,
};
use crate::workflow_api::query_with;
use serde_json::json;
use temporalio_common::protos::temporal::api::enums::v1::EventType;

const NS: &str = "e2e-js-sdk";

/// A host for `test`, in its own scratch dir, polling a task queue of the
/// test's own name (the tests of this file share a namespace).
fn serve(test: &str) -> Weft {
    let config = format!(
        "[[worker]]\ntask_queue = \"{test}\"\nworkflows = [{:?}]\n",
        wasm("sdk_workflows_js")
    );
    Weft::serve(&scratch(test), "weft", NS, &config)
}

/// Execute update `name` of `id` in this file's namespace.
fn update(id: &str, name: &str, input: &str) -> Result<String, String> {
    crate::harness::update(NS, id, name, input)
}

#[tokio::test(flavor = "multi_thread")]
async fn js_queries_take_arguments_and_updates_are_validated() {
    let _weft = serve("js-sdk-handlers");
    let client = Client::new(NS).await;
    let id = "js-counter";
    client
        .start(id, "Counter", "js-sdk-handlers", &[json!(1)])
        .await;

    // The validator refuses before the update is accepted: nothing counted.
    let refused = update(id, "add", "-3").expect_err("a negative add is refused");
    assert!(
        refused.contains("add takes a positive integer, got -3"),
        "the refusal says why: {refused}"
    );
    // Accepted, the handler waits on a timer, then answers the new total.
    let added = update(id, "add", "4").expect("add 4 completes");
    assert!(added.contains('5'), "{added}");
    let unknown = update(id, "reset", "0").expect_err("an unknown update is refused");
    assert!(
        unknown.contains("no update handler named \"reset\""),
        "{unknown}"
    );

    // A query with arguments: key and scale.
    assert_eq!(query_with(NS, id, "get", Some("\"total\"")), Ok(json!(5)));
    let scaled = wait_for("the query `get` with two arguments", || {
        query_with_inputs(id, &["\"total\"", "10"]).ok()
    });
    assert_eq!(scaled, json!(50));
    let bad =
        query_with(NS, id, "get", Some("\"nothing\"")).expect_err("an unknown key fails the query");
    assert!(bad.contains("no count named nothing"), "{bad}");

    signal(NS, id, "finish", None);
    assert_eq!(
        client.outcome(id).await,
        Outcome::Completed(json!({"total": 5, "updates": 1}))
    );
    let history = client.history(id).await;
    let accepted = history
        .iter()
        .filter(|e| event_type(e) == EventType::WorkflowExecutionUpdateAccepted)
        .count();
    assert_eq!(accepted, 1, "only the valid update is in history");
}

/// Query `name` of `id` with several JSON inputs.
fn query_with_inputs(id: &str, inputs: &[&str]) -> Result<serde_json::Value, String> {
    let mut args = vec![
        "workflow",
        "query",
        "--workflow-id",
        id,
        "--type",
        "get",
        "--output",
        "json",
    ];
    for input in inputs {
        args.extend(["--input", input]);
    }
    let out = try_temporal_cli(NS, &args)?;
    serde_json::from_str::<serde_json::Value>(&out)
        .ok()
        .and_then(|a| a.get("queryResult").and_then(|r| r.get(0)).cloned())
        .ok_or(out)
}

#[tokio::test(flavor = "multi_thread")]
async fn js_runs_continue_as_new_and_are_cancelled() {
    let _weft = serve("js-sdk-lifecycle");
    let client = Client::new(NS).await;

    client
        .start("js-chain", "Chain", "js-sdk-lifecycle", &[json!(2)])
        .await;
    let Outcome::Completed(result) = client.outcome("js-chain").await else {
        panic!("Chain completes");
    };
    assert_eq!(result["runs"].as_array().map(Vec::len), Some(3), "{result}");
    assert_eq!(
        (
            &result["uuid_v4"],
            &result["workflow_time"],
            &result["patched"],
            &result["workflow_type"]
        ),
        (&json!(true), &json!(true), &json!(true), &json!("Chain")),
        "{result}"
    );

    client
        .start("js-sleeper", "Sleeper", "js-sdk-lifecycle", &[])
        .await;
    client
        .wait_event("js-sleeper", "the timer to start", |e| {
            event_type(e) == EventType::TimerStarted
        })
        .await;
    temporal_cli(NS, &["workflow", "cancel", "--workflow-id", "js-sleeper"]);
    assert_eq!(client.outcome("js-sleeper").await, Outcome::Cancelled);
}
