//! The Python SDK (guest-examples/python/weft_sdk, shaped like
//! `temporalio.workflow`) beyond what the OrderWorkflow exercises: a query
//! handler that takes an argument, an update whose validator rejects one
//! request before it is accepted and lets another through.

use crate::harness::{Client, Outcome, Weft, scratch, signal, try_temporal_cli, wasm};
use crate::workflow_api::query_with;
use serde_json::json;

const QUEUE: &str = "PY_SDK_Q";
const NS: &str = "e2e-python-sdk";

#[tokio::test(flavor = "multi_thread")]
async fn python_queries_take_arguments_and_updates_are_validated() {
    let config = format!(
        "[[worker]]\ntask_queue = \"{QUEUE}\"\nworkflows = [{:?}]\n",
        wasm("sdk_features_python"),
    );
    let _weft = Weft::serve(&scratch("python-sdk"), "weft", NS, &config);
    let client = Client::new(NS).await;
    client.start("py-counter", "Counter", QUEUE, &[]).await;
    let update = |input: &str| {
        try_temporal_cli(
            NS,
            &[
                "workflow",
                "update",
                "execute",
                "--workflow-id",
                "py-counter",
                "--name",
                "add",
                "--input",
                input,
            ],
        )
    };
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
