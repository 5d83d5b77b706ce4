//! The OrderWorkflow of the Temporal notes, in every deployment shape.

use crate::harness::{Client, Outcome, Weft, event_type, scratch, temporal_cli, wasm};
use serde_json::{Value, json};
use std::path::Path;
use temporalio_common::protos::temporal::api::enums::v1::EventType;
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;

pub(crate) const WORKFLOW_Q: &str = "ORDER_WORKFLOW_Q";
pub(crate) const ACTIVITY_Q: &str = "ORDER_ACTIVITY_Q";

pub(crate) fn workflow_worker() -> String {
    format!(
        "[[worker]]\ntask_queue = \"{WORKFLOW_Q}\"\nworkflows = [{:?}]\n",
        wasm("order_workflow")
    )
}

pub(crate) fn activity_worker(orders: &Path) -> String {
    format!(
        "[[worker]]\ntask_queue = \"{ACTIVITY_Q}\"\n\
         [[worker.activities]]\nmodule = {:?}\n\
         dirs = [{{ host = {:?}, guest = \"/orders\", writable = true, create = true }}]\n\
         env = {{ ORDER_CURRENCY = \"EUR\" }}\n",
        wasm("order_activities"),
        orders
    )
}

/// Check an OrderWorkflow result and the order file its activities wrote.
pub(crate) fn assert_order_done(result: &Value, order_id: &str, orders: &Path) {
    assert_eq!(result["order_id"], order_id, "{result}");
    assert_eq!(result["create_order"]["status"], "created", "{result}");
    assert_eq!(result["charge_payment"]["status"], "charged", "{result}");
    let amount = &result["create_order"]["amount_cents"];
    assert!(amount.as_u64().is_some_and(|a| a > 0), "{result}");
    assert_eq!(
        &result["charge_payment"]["amount_cents"], amount,
        "{result}"
    );
    // The granted environment variable reached the activity.
    assert_eq!(result["charge_payment"]["currency"], "EUR", "{result}");
    let file = orders.join(format!("{order_id}.json"));
    let order: Value = serde_json::from_slice(&std::fs::read(&file).expect("order file written"))
        .expect("order file is JSON");
    assert_eq!(order["order_id"], order_id);
}

/// Both activities ran on ORDER_ACTIVITY_Q, as the workflow asked.
async fn assert_activities_on_activity_queue(client: &Client, id: &str) {
    let scheduled: Vec<(String, String)> = client
        .history(id)
        .await
        .into_iter()
        .filter_map(|e| match e.attributes {
            Some(Attributes::ActivityTaskScheduledEventAttributes(a)) => Some((
                a.activity_type.map(|t| t.name).unwrap_or_default(),
                a.task_queue.map(|q| q.name).unwrap_or_default(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        scheduled,
        [
            ("CreateOrder".to_owned(), ACTIVITY_Q.to_owned()),
            ("ChargePayment".to_owned(), ACTIVITY_Q.to_owned())
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn order_workflow_completes_in_one_process() {
    let dir = scratch("mixed");
    let orders = dir.join("orders");
    let config = format!("{}\n{}", workflow_worker(), activity_worker(&orders));
    let _weft = Weft::serve(&dir, "weft", "e2e-mixed", &config);
    let client = Client::new("e2e-mixed").await;
    client
        .start("order-1", "OrderWorkflow", WORKFLOW_Q, &[json!("order-1")])
        .await;
    let Outcome::Completed(result) = client.outcome("order-1").await else {
        panic!("OrderWorkflow did not complete");
    };
    assert_order_done(&result, "order-1", &orders);
    assert_activities_on_activity_queue(&client, "order-1").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn order_workflow_completes_on_workflow_only_and_activity_only_hosts() {
    let dir = scratch("split");
    let orders = dir.join("orders");
    let _workflows = Weft::serve(&dir, "workflow-host", "e2e-split", &workflow_worker());
    let _activities = Weft::serve(
        &dir,
        "activity-host",
        "e2e-split",
        &activity_worker(&orders),
    );
    let client = Client::new("e2e-split").await;
    client
        .start("order-2", "OrderWorkflow", WORKFLOW_Q, &[json!("order-2")])
        .await;
    let Outcome::Completed(result) = client.outcome("order-2").await else {
        panic!("OrderWorkflow did not complete");
    };
    assert_order_done(&result, "order-2", &orders);
    assert_activities_on_activity_queue(&client, "order-2").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_host_loses_nothing() {
    let dir = scratch("kill");
    let orders = dir.join("orders");
    let client = Client::new("e2e-kill").await;

    // Phase 1: only a workflow host. The run schedules CreateOrder, then
    // waits for an activity worker that does not exist yet.
    let mut first = Weft::serve(&dir, "first", "e2e-kill", &workflow_worker());
    client
        .start("order-3", "OrderWorkflow", WORKFLOW_Q, &[json!("order-3")])
        .await;
    client
        .wait_event("order-3", "CreateOrder to be scheduled", |e| {
            event_type(e) == EventType::ActivityTaskScheduled
        })
        .await;
    first.kill9();

    // Phase 2: fresh processes. The new workflow host has no cached state:
    // it replays the history to carry on.
    let _second = Weft::serve(&dir, "second", "e2e-kill", &workflow_worker());
    let _activities = Weft::serve(&dir, "activities", "e2e-kill", &activity_worker(&orders));
    let Outcome::Completed(after_kill) = client.outcome("order-3").await else {
        panic!("OrderWorkflow did not complete after kill -9");
    };
    assert_order_done(&after_kill, "order-3", &orders);

    // The same order without a kill gives the same result.
    client
        .start(
            "order-3-again",
            "OrderWorkflow",
            WORKFLOW_Q,
            &[json!("order-3")],
        )
        .await;
    let uninterrupted = client.outcome("order-3-again").await;
    assert_eq!(uninterrupted, Outcome::Completed(after_kill));
}

#[tokio::test(flavor = "multi_thread")]
async fn workflow_started_with_the_temporal_cli_returns_json() {
    let dir = scratch("cli");
    let orders = dir.join("orders");
    let config = format!("{}\n{}", workflow_worker(), activity_worker(&orders));
    let _weft = Weft::serve(&dir, "weft", "e2e-cli", &config);
    let ns = "e2e-cli";
    temporal_cli(
        ns,
        &[
            "workflow",
            "start",
            "--type",
            "OrderWorkflow",
            "--task-queue",
            WORKFLOW_Q,
            "--workflow-id",
            "order-42",
            "--input",
            "\"order-42\"",
        ],
    );
    let result: Value = serde_json::from_str(&temporal_cli(
        ns,
        &[
            "workflow",
            "result",
            "--workflow-id",
            "order-42",
            "--output",
            "json",
        ],
    ))
    .expect("`temporal workflow result` prints JSON");
    assert_eq!(result["status"], "COMPLETED", "{result}");
    assert_order_done(&result["result"], "order-42", &orders);

    // `temporal workflow show` prints the result as readable JSON.
    let shown = temporal_cli(ns, &["workflow", "show", "--workflow-id", "order-42"]);
    assert!(shown.contains("ResultEncoding  json/plain"), "{shown}");
    let line = shown
        .lines()
        .find_map(|l| l.trim().strip_prefix("Result "))
        .unwrap_or_else(|| panic!("no Result line in:\n{shown}"));
    let shown_result: Value = serde_json::from_str(line.trim()).expect("the shown result is JSON");
    assert_eq!(shown_result, result["result"]);
}
