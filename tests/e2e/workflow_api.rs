//! The workflow surface a guest sees: signals, queries, cancellation,
//! racing an activity against a timer, retry policies.

use crate::harness::{
    Client, Outcome, Weft, count_events, event_type, has_event, scratch, signal, temporal_cli,
    wait_for, wasm,
};
use base64::Engine as _;
use serde_json::{Value, json};
use std::path::PathBuf;
use temporalio_common::protos::temporal::api::enums::v1::EventType;
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;

/// The task queue of the test workflows.
pub(crate) const QUEUE: &str = "API_Q";

/// One mixed worker with the test workflows and activities.
pub(crate) fn serve(test: &str) -> (PathBuf, Weft) {
    let dir = scratch(test);
    let config = format!(
        "[[worker]]\ntask_queue = \"{QUEUE}\"\nworkflows = [{:?}]\n\
         [[worker.activities]]\nmodule = {:?}\n",
        wasm("test_workflows"),
        wasm("sandbox_activities"),
    );
    let weft = Weft::serve(&dir, "weft", &format!("e2e-{test}"), &config);
    (dir, weft)
}

/// The answer to query `name` of workflow `id`, if it has one yet.
pub(crate) fn query(ns: &str, id: &str, name: &str) -> Option<Value> {
    query_with(ns, id, name, None).ok()
}

/// Query `name` of workflow `id` with `input` (JSON), with the Temporal
/// CLI as any client would: the answer, or what the CLI printed instead.
pub(crate) fn query_with(
    ns: &str,
    id: &str,
    name: &str,
    input: Option<&str>,
) -> Result<Value, String> {
    let mut args = vec![
        "workflow",
        "query",
        "--workflow-id",
        id,
        "--type",
        name,
        "--output",
        "json",
    ];
    if let Some(input) = input {
        args.extend(["--input", input]);
    }
    let (_, stdout, stderr) = crate::harness::temporal(ns, &args);
    let answer: Option<Value> = serde_json::from_str::<Value>(&stdout)
        .ok()
        .and_then(|a| a.get("queryResult").and_then(|r| r.get(0)).cloned());
    answer.ok_or_else(|| format!("{stdout}{stderr}"))
}

/// The answer to query `name` of workflow `id`, asked until one comes (a
/// closed run's answer needs a replay, which may take a moment).
pub(crate) fn answer(ns: &str, id: &str, name: &str) -> Value {
    wait_for(&format!("an answer to query `{name}` of {id}"), || {
        query(ns, id, name)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn signals_are_received_and_queries_answered() {
    let (_dir, _weft) = serve("signals");
    let ns = "e2e-signals";
    let client = Client::new(ns).await;
    client.start("sum", "Signals", QUEUE, &[json!(3)]).await;
    // Two signals, sent with the Temporal CLI as any client would.
    for n in ["5", "2"] {
        signal(ns, "sum", "add", Some(n));
    }
    wait_for("query `total` to read 7", || {
        (query(ns, "sum", "total")? == json!(7)).then_some(())
    });
    signal(ns, "sum", "add", Some("10"));
    assert_eq!(
        client.outcome("sum").await,
        Outcome::Completed(json!({"total": 17}))
    );
    // A closed run still answers: the host replays it to the end.
    assert_eq!(answer(ns, "sum", "total"), json!(17));
}

#[tokio::test(flavor = "multi_thread")]
async fn cancellation_is_visible_to_the_guest() {
    let ns = "e2e-cancel";
    let client = Client::new(ns).await;
    // Requested before any worker polls: the run's first task brings its
    // start and the request together, and its code still cleans up.
    client
        .start("cancel-early", "Cancellable", QUEUE, &[])
        .await;
    temporal_cli(ns, &["workflow", "cancel", "--workflow-id", "cancel-early"]);
    let (_dir, _weft) = serve("cancel");
    assert_eq!(client.outcome("cancel-early").await, Outcome::Cancelled);
    assert_eq!(
        answer(ns, "cancel-early", "state"),
        json!({"timer": "CancelledError"})
    );
    // Requested while the run waits on its timer.
    client.start("cancel-me", "Cancellable", QUEUE, &[]).await;
    client
        .wait_event("cancel-me", "the timer to start", |e| {
            event_type(e) == EventType::TimerStarted
        })
        .await;
    temporal_cli(ns, &["workflow", "cancel", "--workflow-id", "cancel-me"]);
    assert_eq!(client.outcome("cancel-me").await, Outcome::Cancelled);
    let history = client.history("cancel-me").await;
    assert!(
        has_event(&history, EventType::TimerCanceled),
        "the guest cancelled its timer while cleaning up"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_activity_races_a_timer_and_the_loser_is_cancelled() {
    let (_dir, weft) = serve("race");
    let client = Client::new("e2e-race").await;
    let race = |wait_ms: u64, timer_ms: u64| {
        json!({
            "activity_type": "Wait", "task_queue": QUEUE, "args": [wait_ms],
            "timer_ms": timer_ms, "heartbeat_timeout_ms": 5000, "cancellation": "wait",
            "retry": {"maximum_attempts": 1},
        })
    };
    // The timer wins: the activity learns of the cancellation at a heartbeat
    // and the workflow waits until it has stopped. The 5 s timer lets the
    // activity start first even on a loaded machine.
    client
        .start("timer-wins", "Race", QUEUE, &[race(60_000, 5000)])
        .await;
    assert_eq!(
        client.outcome("timer-wins").await,
        Outcome::Completed(
            json!({"winner": "timer", "activity": {"error_type": "CancelledError"}})
        )
    );
    let history = client.history("timer-wins").await;
    assert!(has_event(&history, EventType::ActivityTaskCanceled));
    // The guest itself saw the request at a heartbeat: `Wait` logs this.
    wait_for("Wait's own line about the cancellation", || {
        weft.log_text()
            .lines()
            .any(|l| l.contains("cancellation requested: stopping") && l.contains("timer-wins"))
            .then_some(())
    });
    // The activity wins: the timer is cancelled.
    client
        .start("activity-wins", "Race", QUEUE, &[race(10, 60_000)])
        .await;
    assert_eq!(
        client.outcome("activity-wins").await,
        Outcome::Completed(json!({"winner": "activity", "result": {"waited_ms": 10}}))
    );
    let history = client.history("activity-wins").await;
    assert!(has_event(&history, EventType::TimerCanceled));
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_policy_limits_attempts_and_skips_non_retryable_types() {
    let (_dir, _weft) = serve("retry");
    let client = Client::new("e2e-retry").await;
    let fail = |error_type: &str| {
        json!({
            "activity_type": "Fail", "task_queue": QUEUE, "args": [{"error_type": error_type}],
            "retry": {"maximum_attempts": 3, "non_retryable_error_types": ["Declined"]},
        })
    };
    client
        .start("flaky", "RunActivity", QUEUE, &[fail("Flaky")])
        .await;
    assert_eq!(
        client.outcome("flaky").await,
        Outcome::Failed {
            message: "failed on attempt 3".into(),
            error_type: "Flaky".into()
        }
    );
    client
        .start("declined", "RunActivity", QUEUE, &[fail("Declined")])
        .await;
    assert_eq!(
        client.outcome("declined").await,
        Outcome::Failed {
            message: "failed on attempt 1".into(),
            error_type: "Declined".into()
        }
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn continue_as_new_starts_a_fresh_run_with_new_input() {
    let (_dir, _weft) = serve("continue");
    let client = Client::new("e2e-continue").await;
    client
        .start(
            "chain",
            "ContinueAsNew",
            QUEUE,
            &[json!({"left": 2, "runs": 0})],
        )
        .await;
    assert_eq!(
        client.outcome("chain").await,
        Outcome::Completed(json!({"runs": 3}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn patched_takes_the_new_code_and_records_a_marker() {
    let (_dir, _weft) = serve("patch");
    let client = Client::new("e2e-patch").await;
    client.start("patched", "Patched", QUEUE, &[]).await;
    assert_eq!(
        client.outcome("patched").await,
        Outcome::Completed(json!("v2"))
    );
    let history = client.history("patched").await;
    assert!(has_event(&history, EventType::MarkerRecorded));
}

#[tokio::test(flavor = "multi_thread")]
async fn search_attributes_and_memo_are_upserted() {
    let (_dir, _weft) = serve("upsert");
    let ns = "e2e-upsert";
    let client = Client::new(ns).await;
    // Set at start by the client, then upserted by the guest.
    temporal_cli(
        ns,
        &[
            "workflow",
            "start",
            "--type",
            "Upsert",
            "--task-queue",
            QUEUE,
            "--workflow-id",
            "upsert",
            "--memo",
            r#"origin="cli""#,
            "--search-attribute",
            r#"CustomerId="c-1""#,
        ],
    );
    assert_eq!(
        client.outcome("upsert").await,
        Outcome::Completed(json!("upserted"))
    );
    let described: Value = serde_json::from_str(&temporal_cli(
        ns,
        &[
            "workflow",
            "describe",
            "--workflow-id",
            "upsert",
            "--output",
            "json",
        ],
    ))
    .expect("describe prints JSON");
    let info = &described["workflowExecutionInfo"];
    // Search attributes come raw (base64 JSON); the memo is shown decoded.
    let customer = info["searchAttributes"]["indexedFields"]["CustomerId"]["data"]
        .as_str()
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok());
    assert_eq!(customer.as_deref(), Some(br#""c-42""#.as_slice()), "{info}");
    assert_eq!(info["memo"]["fields"]["note"], "hello", "{info}");
    assert_eq!(
        info["memo"]["fields"]["origin"], "cli",
        "start-time memo kept: {info}"
    );
    let started = &client.history("upsert").await[0];
    let Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) = &started.attributes else {
        panic!("first event is not WorkflowExecutionStarted");
    };
    let at_start = &a
        .search_attributes
        .as_ref()
        .expect("search attributes at start")
        .indexed_fields;
    assert_eq!(at_start["CustomerId"].data, br#""c-1""#);
}

#[tokio::test(flavor = "multi_thread")]
async fn child_workflows_and_external_workflows_are_signalled_and_cancelled() {
    let (_dir, _weft) = serve("children");
    let client = Client::new("e2e-children").await;
    client.start("bystander", "Cancellable", QUEUE, &[]).await;
    client
        .wait_event("bystander", "its timer to start", |e| {
            event_type(e) == EventType::TimerStarted
        })
        .await;
    client
        .start("family", "Family", QUEUE, &[json!({"cancel": "bystander"})])
        .await;
    assert_eq!(
        client.outcome("family").await,
        Outcome::Completed(json!({
            "summer": {"total": 7},
            "sleeper": "CancelledError",
            "external_cancel_delivered": true,
        }))
    );
    assert_eq!(
        client.outcome("family-summer").await,
        Outcome::Completed(json!({"total": 7}))
    );
    assert_eq!(client.outcome("family-sleeper").await, Outcome::Cancelled);
    assert_eq!(client.outcome("bystander").await, Outcome::Cancelled);
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_are_validated_accepted_and_completed() {
    let (_dir, _weft) = serve("updates");
    let ns = "e2e-updates";
    let client = Client::new(ns).await;
    client.start("counter", "Counter", QUEUE, &[]).await;
    let update = |name: &str, input: &str| crate::harness::update(ns, "counter", name, input);
    let ok = update("increment", "5").expect("update 5 completes");
    assert!(ok.contains('5'), "{ok}");
    let ok = update("increment", "2").expect("update 2 completes");
    assert!(ok.contains('7'), "{ok}");
    let rejected = update("increment", "-1").expect_err("a negative increment is rejected");
    assert!(rejected.contains("cannot add -1"), "{rejected}");
    let unknown = update("reset", "0").expect_err("an unknown update is rejected");
    assert!(unknown.contains("no update named `reset`"), "{unknown}");
    // Queries are answered by handlers, with arguments; a handler that
    // starts a timer fails its query, and the run goes on.
    assert_eq!(query_with(ns, "counter", "count", None), Ok(json!(7)));
    assert_eq!(query_with(ns, "counter", "plus", Some("5")), Ok(json!(12)));
    let refused =
        query_with(ns, "counter", "bad", None).expect_err("a query may not start a timer");
    assert!(
        refused.contains("query handlers are read-only"),
        "{refused}"
    );
    signal(ns, "counter", "stop", None);
    assert_eq!(
        client.outcome("counter").await,
        Outcome::Completed(json!({"count": 7}))
    );
    // The validator rejected before acceptance: history holds only the two
    // accepted updates, and no timer from the refused query.
    let history = client.history("counter").await;
    assert_eq!(
        count_events(&history, EventType::WorkflowExecutionUpdateAccepted),
        2
    );
    assert_eq!(
        count_events(&history, EventType::WorkflowExecutionUpdateCompleted),
        2
    );
    assert!(!has_event(&history, EventType::TimerStarted));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_update_waits_on_a_timer_while_the_workflow_runs_and_is_waited_for() {
    let (_dir, _weft) = serve("handlers");
    let ns = "e2e-handlers";
    let client = Client::new(ns).await;
    client.start("handlers", "Handlers", QUEUE, &[]).await;
    let update = |input: &'static str| {
        std::thread::spawn(move || crate::harness::update(ns, "handlers", "slow", input))
    };
    let refused = update("600000").join().expect("thread");
    let refused = refused.expect_err("the validator refuses 10 minutes");
    assert!(refused.contains("cannot wait 600000 ms"), "{refused}");
    // Accepted, the update sleeps 1 s on its own timer while the workflow
    // sleeps 100 ms on its own and goes on.
    let slow = update("1000");
    let events = |ns: &str| query(ns, "handlers", "events").unwrap_or(json!([]));
    wait_for("the update's timer to fire", || {
        let events = events(ns);
        events
            .as_array()?
            .iter()
            .any(|e| e == "slow slept")
            .then_some(events)
    });
    assert_eq!(
        events(ns),
        json!(["slow started", "main slept", "slow slept"]),
        "the workflow went on while the update waited"
    );
    signal(ns, "handlers", "note", Some(r#""a""#));
    signal(ns, "handlers", "finish", None);
    // The workflow waits for the update's handler before it completes.
    assert_eq!(
        client.outcome("handlers").await,
        Outcome::Completed(json!([
            "slow started",
            "main slept",
            "slow slept",
            "note a",
            "finish",
            "slow done",
            "all handlers finished",
        ]))
    );
    let answered = slow.join().expect("thread").expect("the update completes");
    assert!(answered.contains("1000"), "{answered}");
    let history = client.history("handlers").await;
    let at = |ty: EventType| history.iter().position(|e| event_type(e) == ty);
    assert_eq!(
        count_events(&history, EventType::WorkflowExecutionUpdateAccepted),
        1,
        "the refused update left no event"
    );
    assert!(
        at(EventType::WorkflowExecutionUpdateCompleted) < at(EventType::WorkflowExecutionCompleted),
        "the update completed before the run"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn local_activities_run_in_the_worker_and_are_recorded_as_markers() {
    let (_dir, _weft) = serve("local");
    let client = Client::new("e2e-local").await;
    let local = |activity_type: &str, args: Value| json!({"activity_type": activity_type, "args": args, "retry": {"maximum_attempts": 2}});
    client
        .start(
            "local-wait",
            "RunLocal",
            QUEUE,
            &[local("Wait", json!([10]))],
        )
        .await;
    assert_eq!(
        client.outcome("local-wait").await,
        Outcome::Completed(json!({"waited_ms": 10}))
    );
    let history = client.history("local-wait").await;
    assert!(has_event(&history, EventType::MarkerRecorded));
    assert!(!has_event(&history, EventType::ActivityTaskScheduled));

    client
        .start(
            "local-fail",
            "RunLocal",
            QUEUE,
            &[local("Fail", json!([{"error_type": "Flaky"}]))],
        )
        .await;
    assert_eq!(
        client.outcome("local-fail").await,
        Outcome::Failed {
            message: "failed on attempt 2".into(),
            error_type: "Flaky".into()
        }
    );

    // A retry that backs off longer than the local retry threshold waits on
    // a durable timer, then runs as a new attempt of the same activity.
    let backoff = json!({
        "activity_type": "Fail", "args": [{"error_type": "Flaky"}],
        "retry": {"maximum_attempts": 3, "initial_interval_ms": 300},
        "local_retry_threshold_ms": 100,
    });
    client
        .start("local-backoff", "RunLocal", QUEUE, &[backoff])
        .await;
    assert_eq!(
        client.outcome("local-backoff").await,
        Outcome::Failed {
            message: "failed on attempt 3".into(),
            error_type: "Flaky".into()
        }
    );
    let history = client.history("local-backoff").await;
    let timers = history
        .iter()
        .filter(|e| event_type(e) == EventType::TimerStarted)
        .count();
    assert_eq!(timers, 2, "one backoff timer before each retry");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_resumes_from_the_last_heartbeat_details() {
    let (_dir, _weft) = serve("resume");
    let client = Client::new("e2e-resume").await;
    let resume = json!({
        "activity_type": "Resume", "task_queue": QUEUE, "args": [],
        "retry": {"maximum_attempts": 2},
    });
    client
        .start("resume", "RunActivity", QUEUE, &[resume])
        .await;
    assert_eq!(
        client.outcome("resume").await,
        Outcome::Completed(json!({"attempt": 2, "resumed_from": {"done": 3}}))
    );
}
