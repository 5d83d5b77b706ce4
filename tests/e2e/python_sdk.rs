//! The Python SDK (guest-examples/python/weft_sdk, shaped like
//! `temporalio.workflow`) beyond what the OrderWorkflow exercises: a query
//! handler that takes an argument, an update whose validator rejects one
//! request before it is accepted and lets another through; asyncio tasks
//! around activities, a retry policy and a failure's cause, a child
//! workflow, and cancellation.

use crate::harness::{Client, Outcome, Weft, event_type, scratch, signal, temporal_cli, wasm};
use crate::workflow_api::query_with;
use serde_json::json;
use temporalio_common::protos::temporal::api::enums::v1::EventType;

const QUEUE: &str = "PY_SDK_Q";
const NS: &str = "e2e-python-sdk";
const NS_TOUR: &str = "e2e-python-tour";

#[tokio::test(flavor = "multi_thread")]
async fn python_queries_take_arguments_and_updates_are_validated() {
    let config = format!(
        "[[worker]]\ntask_queue = \"{QUEUE}\"\nworkflows = [{:?}]\n",
        wasm("sdk_features_python"),
    );
    let _weft = Weft::serve(&scratch("python-sdk"), "weft", NS, &config);
    let client = Client::new(NS).await;
    client.start("py-counter", "Counter", QUEUE, &[]).await;
    let update = |input: &str| crate::harness::update(NS, "py-counter", "add", input);
    let accepted = update("5").expect("an update of 5 passes its validator and completes");
    assert!(accepted.contains('5'), "{accepted}");
    let rejected = update("-1").expect_err("the validator rejects a negative update");
    assert!(rejected.contains("cannot add -1"), "{rejected}");
    let accepted = update("2").expect("an update of 2 completes");
    assert!(accepted.contains('7'), "{accepted}");
    // A query handler with an argument, answered by the run's own code.
    assert_eq!(
        query_with(NS, "py-counter", "plus", Some("10")),
        Ok(json!(17))
    );
    signal(NS, "py-counter", "done", None);
    assert_eq!(
        client.outcome("py-counter").await,
        Outcome::Completed(json!({"total": 7})),
        "the rejected update left no trace"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn python_asyncio_tasks_children_failures_and_cancellation() {
    let config = format!(
        "[[worker]]\ntask_queue = \"{QUEUE}\"\nworkflows = [{:?}]\n\
         [[worker.activities]]\nmodule = {:?}\n",
        wasm("sdk_features_python"),
        wasm("sandbox_activities"),
    );
    let _weft = Weft::serve(&scratch("python-sdk-tour"), "weft", NS_TOUR, &config);
    let client = Client::new(NS_TOUR).await;
    client.start("py-tour", "Tour", QUEUE, &[json!(3)]).await;
    let Outcome::Completed(result) = client.outcome("py-tour").await else {
        panic!("the tour completes: {:?}", client.outcome("py-tour").await)
    };
    assert_eq!(
        result["waited"],
        json!([10, 20, 30]),
        "gather keeps the order of its activities: {result}"
    );
    assert_eq!(result["timer_cancelled"], json!(true), "{result}");
    assert_eq!(
        result["failed"],
        json!({"type": "Nope", "message": "failed on attempt 2", "details": [{"attempt": 2}]}),
        "the retry policy allowed two attempts; ActivityError.cause is the last failure"
    );
    assert_eq!(result["child"], json!(42), "{result}");
    assert_eq!(result["uuid"].as_str().map(str::len), Some(36), "{result}");
    assert!(result["year"].as_i64() >= Some(2024), "{result}");

    // Cancelling a run cancels its main task (asyncio.CancelledError): it
    // ends as cancelled.
    client.start("py-sleeper", "Sleeper", QUEUE, &[]).await;
    client
        .wait_event("py-sleeper", "its timer", |e| {
            event_type(e) == EventType::TimerStarted
        })
        .await;
    temporal_cli(
        NS_TOUR,
        &["workflow", "cancel", "--workflow-id", "py-sleeper"],
    );
    assert_eq!(client.outcome("py-sleeper").await, Outcome::Cancelled);
}
