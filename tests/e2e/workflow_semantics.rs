//! What a workflow's code can count on: a returned failure fails the run
//! with its fields, waiting for all of several concurrent operations,
//! parent close policies, workflow time, and queries that neither move
//! the run nor need it in cache.

use crate::harness::{
    AppFailure, Client, Outcome, Weft, event_millis, event_type, has_event, signal, temporal_cli,
    wait_for,
};
use crate::workflow_api::{QUEUE, answer, query, serve};
use serde_json::json;
use temporalio_common::protos::temporal::api::enums::v1::EventType;
use temporalio_common::protos::temporal::api::history::v1::HistoryEvent;
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;

#[tokio::test(flavor = "multi_thread")]
async fn a_returned_failure_fails_the_workflow_with_its_fields() {
    let (_dir, _weft) = serve("fail");
    let client = Client::new("e2e-fail").await;
    let failure = json!({
        "error_type": "OrderRejected", "message": "no stock for sku-7",
        "non_retryable": true, "details": [{"sku": "sku-7", "left": 0}],
    });
    client.start("rejected", "Fail", QUEUE, &[failure]).await;
    assert!(matches!(
        client.outcome("rejected").await,
        Outcome::Failed { .. }
    ));
    assert_eq!(
        client.failure("rejected").await,
        AppFailure {
            message: "no stock for sku-7".into(),
            error_type: "OrderRejected".into(),
            non_retryable: true,
            details: vec![json!({"sku": "sku-7", "left": 0})],
        }
    );
}

/// The id of the workflow task whose commands recorded `e`.
fn recorded_by(e: &HistoryEvent) -> Option<i64> {
    match e.attributes.as_ref()? {
        Attributes::ActivityTaskScheduledEventAttributes(a) => {
            Some(a.workflow_task_completed_event_id)
        }
        Attributes::TimerStartedEventAttributes(a) => Some(a.workflow_task_completed_event_id),
        Attributes::StartChildWorkflowExecutionInitiatedEventAttributes(a) => {
            Some(a.workflow_task_completed_event_id)
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn several_operations_run_at_once_and_the_guest_waits_for_all() {
    let (_dir, _weft) = serve("fanout");
    let client = Client::new("e2e-fanout").await;
    client.start("fanout", "Fanout", QUEUE, &[]).await;
    // Results in start order, whatever order they finished in.
    assert_eq!(
        client.outcome("fanout").await,
        Outcome::Completed(json!([
            {"waited_ms": 300}, {"waited_ms": 100}, {"waited_ms": 200},
            null, {"slept_ms": 150},
        ]))
    );
    // All five were started by the same workflow task: they ran together.
    let history = client.history("fanout").await;
    let tasks: Vec<i64> = history.iter().filter_map(recorded_by).collect();
    assert_eq!(tasks.len(), 5, "three activities, a timer, a child");
    assert!(tasks.iter().all(|t| *t == tasks[0]), "{tasks:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parent_close_policy_applies_when_the_parent_closes() {
    let (_dir, _weft) = serve("parent-close");
    let client = Client::new("e2e-parent-close").await;
    for policy in ["terminate", "request-cancel", "abandon"] {
        client
            .start(policy, "Parent", QUEUE, &[json!({"policy": policy})])
            .await;
    }
    for policy in ["terminate", "request-cancel", "abandon"] {
        assert_eq!(
            client.outcome(policy).await,
            Outcome::Completed(json!("child started"))
        );
    }
    client
        .wait_event("terminate-child", "the child's termination", |e| {
            event_type(e) == EventType::WorkflowExecutionTerminated
        })
        .await;
    // The child sees the cancellation request and cleans up: it cancels its
    // timer and closes as cancelled. The request may reach the child before
    // its first task ran, in which case the timer never reached history, so
    // the guest's own record of the timer (query `state`) is what is checked.
    assert_eq!(
        client.outcome("request-cancel-child").await,
        Outcome::Cancelled
    );
    let history = client.history("request-cancel-child").await;
    assert!(has_event(
        &history,
        EventType::WorkflowExecutionCancelRequested
    ));
    assert_eq!(
        answer("e2e-parent-close", "request-cancel-child", "state"),
        json!({"timer": "CancelledError"})
    );
    // An abandoned child outlives its parent.
    let history = client.history("abandon-child").await;
    assert!(
        !history.iter().any(|e| matches!(
            event_type(e),
            EventType::WorkflowExecutionTerminated
                | EventType::WorkflowExecutionCancelRequested
                | EventType::WorkflowExecutionCanceled
        )),
        "the abandoned child was left alone"
    );
    client.terminate("abandon-child").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn now_is_workflow_time_and_moves_only_with_history() {
    let (_dir, _weft) = serve("clock");
    let client = Client::new("e2e-clock").await;
    client.start("clock", "Clock", QUEUE, &[]).await;
    let Outcome::Completed(result) = client.outcome("clock").await else {
        panic!("Clock completes");
    };
    // `now()` is the start time of the workflow task that runs the code:
    // the first one to complete, then the first to complete after the
    // timer fired (a task that timed out and was retried does not count),
    // whether the code ran live or replayed.
    let history = client.history("clock").await;
    let completed: Vec<(usize, u64)> = history
        .iter()
        .enumerate()
        .filter_map(|(at, e)| match &e.attributes {
            Some(Attributes::WorkflowTaskCompletedEventAttributes(a)) => history
                .iter()
                .find(|s| s.event_id == a.started_event_id)
                .map(|started| (at, event_millis(started))),
            _ => None,
        })
        .collect();
    let fired = history
        .iter()
        .position(|e| event_type(e) == EventType::TimerFired)
        .expect("timer fired");
    let before = completed[0].1;
    let after = completed
        .iter()
        .find(|(at, _)| *at > fired)
        .map(|(_, millis)| *millis)
        .expect("a task after the timer");
    assert_eq!(result["before"], json!(before), "{result}");
    assert_eq!(result["after"], json!(after), "{result}");
    assert!(after - before >= 1000, "{result}");
    assert!(result["random"].is_u64(), "{result}");
}

#[tokio::test(flavor = "multi_thread")]
async fn queries_leave_history_alone_and_work_after_a_restart() {
    let (dir, weft) = serve("query-restart");
    let ns = "e2e-query-restart";
    let client = Client::new(ns).await;
    // Signal-with-start, with the CLI: the first signal arrives with the start.
    temporal_cli(
        ns,
        &[
            "workflow",
            "signal-with-start",
            "--workflow-id",
            "sum",
            "--type",
            "Signals",
            "--task-queue",
            QUEUE,
            "--input",
            "2",
            "--signal-name",
            "add",
            "--signal-input",
            "5",
        ],
    );
    wait_for("query `total` to read 5", || {
        (query(ns, "sum", "total")? == json!(5)).then_some(())
    });
    let before = client.history("sum").await.len();
    for _ in 0..3 {
        assert_eq!(answer(ns, "sum", "total"), json!(5));
    }
    assert_eq!(
        client.history("sum").await.len(),
        before,
        "queries add nothing to history"
    );

    // A new host has no cached run: it replays history to answer.
    drop(weft);
    let config = std::fs::read_to_string(dir.join("weft.toml")).expect("config");
    let _weft = Weft::serve(&dir, "weft-again", ns, &config);
    wait_for("the new host to answer `total` with 5", || {
        (query(ns, "sum", "total")? == json!(5)).then_some(())
    });
    signal(ns, "sum", "add", Some("10"));
    assert_eq!(
        client.outcome("sum").await,
        Outcome::Completed(json!({"total": 15}))
    );
}
