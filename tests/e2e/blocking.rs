//! The blocking world (`wit/workflow.wit`), which weft still serves for
//! guests written against it (every guest in the repository moved to the
//! activation world): a run suspends on its host fiber, answers a published
//! query, takes a signal, waits on a timer and completes.

use crate::harness::{Client, Outcome, Weft, scratch, signal, wait_for, wasm};
use crate::workflow_api::query_with;
use serde_json::json;

const QUEUE: &str = "BLOCKING_Q";
const NS: &str = "e2e-blocking";

#[tokio::test(flavor = "multi_thread")]
async fn a_blocking_world_guest_still_runs() {
    let config = format!(
        "[[worker]]\ntask_queue = \"{QUEUE}\"\nworkflows = [{:?}]\n",
        wasm("blocking_workflow")
    );
    let _weft = Weft::serve(&scratch("blocking"), "weft", NS, &config);
    let client = Client::new(NS).await;
    client.start("blocking", "Blocking", QUEUE, &[]).await;
    wait_for("the run to publish its stage", || {
        (query_with(NS, "blocking", "stage", None).ok()? == json!("waiting for finish"))
            .then_some(())
    });
    signal(NS, "blocking", "finish", Some(r#"{"by":"test"}"#));
    assert_eq!(
        client.outcome("blocking").await,
        Outcome::Completed(json!({"signal": {"by": "test"}}))
    );
}
