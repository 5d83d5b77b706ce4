//! Activity options as a workflow guest uses them: the cancellation types,
//! the timeouts Temporal enforces, and failures reaching the guest field by
//! field.

use crate::harness::{Client, Outcome, event_millis, event_type, signal};
use crate::workflow_api::{QUEUE, serve};
use serde_json::{Value, json};
use temporalio_common::protos::temporal::api::enums::v1::EventType;

/// A task queue no worker polls: activities there never start.
const NOBODY: &str = "NOBODY_Q";

/// The `Race` input: a heartbeating `Wait` activity of a minute against
/// signal `stop`, cancelled the `cancellation` way when the signal wins.
/// One attempt: a missed heartbeat fails the test instead of retrying.
fn race(cancellation: &str) -> Value {
    json!({
        "activity_type": "Wait", "task_queue": QUEUE, "args": [60_000],
        "signal": "stop", "heartbeat_timeout_ms": 5000, "cancellation": cancellation,
        "retry": {"maximum_attempts": 1},
    })
}

/// The event types of a workflow's history up to its close.
async fn events(client: &Client, id: &str) -> Vec<EventType> {
    client.history(id).await.iter().map(event_type).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_cancellation_type_decides_when_the_guest_hears_of_it() {
    let (_dir, _weft) = serve("cancel-types");
    let client = Client::new("e2e-cancel-types").await;
    let cancelled = json!({"winner": "signal", "activity": {"error_type": "CancelledError"}});
    for kind in ["try-cancel", "wait", "abandon"] {
        client.start(kind, "Race", QUEUE, &[race(kind)]).await;
    }
    // Cancelled once running: one cancelled before it starts closes at once
    // whatever its cancellation type.
    for kind in ["try-cancel", "wait", "abandon"] {
        client.wait_activity_started(kind).await;
        signal("e2e-cancel-types", kind, "stop", None);
    }
    for kind in ["try-cancel", "wait", "abandon"] {
        assert_eq!(
            client.outcome(kind).await,
            Outcome::Completed(cancelled.clone()),
            "{kind}"
        );
    }

    // try-cancel: the request goes to the activity, but the guest is told
    // at once and the run closes before the activity has stopped.
    let history = events(&client, "try-cancel").await;
    assert!(history.contains(&EventType::ActivityTaskCancelRequested));
    assert!(
        !history.contains(&EventType::ActivityTaskCanceled),
        "the run did not wait for the activity: {history:?}"
    );
    // wait: the guest hears of it once the activity has acknowledged it at a
    // heartbeat.
    let history = events(&client, "wait").await;
    let acknowledged = position(&history, EventType::ActivityTaskCanceled);
    let closed = position(&history, EventType::WorkflowExecutionCompleted);
    assert!(acknowledged < closed, "{history:?}");
    // abandon: no request at all; the activity is left to run.
    let history = events(&client, "abandon").await;
    assert!(
        !history.contains(&EventType::ActivityTaskCancelRequested),
        "{history:?}"
    );
}

fn position(history: &[EventType], ty: EventType) -> usize {
    history
        .iter()
        .position(|e| *e == ty)
        .unwrap_or_else(|| panic!("no {ty:?} in {history:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn timeouts_reach_the_guest_as_timeout_failures() {
    let (_dir, _weft) = serve("activity-timeouts");
    let client = Client::new("e2e-activity-timeouts").await;
    let once = json!({"maximum_attempts": 1});
    let cases = [
        // Never picked up.
        (
            "schedule-to-start",
            json!({"activity_type": "Wait", "task_queue": NOBODY, "args": [1],
                   "schedule_to_start_ms": 500, "retry": once}),
            &[("TimeoutError", "ScheduleToStart")][..],
        ),
        // Picked up, but the whole budget is shorter than the work. Temporal
        // times it out, unless the host, which stops the guest at the same
        // deadline, reports first.
        (
            "schedule-to-close",
            json!({"activity_type": "Wait", "task_queue": QUEUE, "args": [20_000],
                   "schedule_to_close_ms": 800, "retry": once}),
            &[
                ("TimeoutError", "ScheduleToClose"),
                ("ActivityTimeout", "ran past its"),
            ][..],
        ),
        // Started, but never heartbeats.
        (
            "heartbeat",
            json!({"activity_type": "Spin", "task_queue": QUEUE, "args": [],
                   "start_to_close_ms": 3000, "heartbeat_timeout_ms": 500, "retry": once}),
            &[("TimeoutError", "Heartbeat")][..],
        ),
    ];
    for (id, input, _) in &cases {
        client
            .start(id, "Catch", QUEUE, std::slice::from_ref(input))
            .await;
    }
    for (id, _, expected) in cases {
        let Outcome::Completed(caught) = client.outcome(id).await else {
            panic!("{id} must complete with the caught failure");
        };
        let message = caught["message"].as_str().unwrap_or_default();
        assert!(
            expected
                .iter()
                .any(|(ty, says)| caught["error_type"] == *ty && message.contains(says)),
            "{id}: expected one of {expected:?}, caught {caught}"
        );
        // Well before the 20 s of work: the margin is for a loaded machine.
        let history = client.history(id).await;
        let at = |ty| {
            history
                .iter()
                .find(|e| event_type(e) == ty)
                .map(event_millis)
        };
        let scheduled = at(EventType::ActivityTaskScheduled);
        let ended =
            at(EventType::ActivityTaskTimedOut).or_else(|| at(EventType::ActivityTaskFailed));
        let took = ended.expect("the activity ended") - scheduled.expect("scheduled");
        assert!(took < 15_000, "{id}: timed out after {took} ms");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn activity_failures_reach_the_guest_field_by_field() {
    let (_dir, _weft) = serve("activity-failures");
    let client = Client::new("e2e-activity-failures").await;
    let fail = |error_type: &str, non_retryable: bool| {
        json!({"activity_type": "Fail", "task_queue": QUEUE,
               "args": [{"error_type": error_type, "non_retryable": non_retryable}],
               "retry": {"maximum_attempts": 2}})
    };
    client
        .start("final", "Catch", QUEUE, &[fail("Declined", true)])
        .await;
    client
        .start("retried", "Catch", QUEUE, &[fail("Flaky", false)])
        .await;
    // Non-retryable: one attempt, and the flag says so.
    assert_eq!(
        client.outcome("final").await,
        Outcome::Completed(json!({
            "error_type": "Declined",
            "message": "failed on attempt 1",
            "non_retryable": true,
            "details": [{"attempt": 1}],
        }))
    );
    // Retryable: the last attempt's failure, with its details.
    assert_eq!(
        client.outcome("retried").await,
        Outcome::Completed(json!({
            "error_type": "Flaky",
            "message": "failed on attempt 2",
            "non_retryable": false,
            "details": [{"attempt": 2}],
        }))
    );
}
