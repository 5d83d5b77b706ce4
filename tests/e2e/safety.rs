//! Misbehaving guests fail their own task, never the host.

use crate::harness::{Client, Outcome, Weft, event_type, scratch, wasm};
use serde_json::json;
use temporalio_common::protos::temporal::api::enums::v1::EventType;
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;

#[tokio::test(flavor = "multi_thread")]
async fn activity_cannot_read_outside_its_granted_dir() {
    let dir = scratch("sandbox");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    std::fs::write(data.join("ok.txt"), "granted").expect("granted file");
    std::fs::write(dir.join("secret.txt"), "not granted").expect("secret file");
    // One mixed worker: the test workflow schedules the activity on its own
    // task queue, and this worker polls both kinds of task.
    let config = format!(
        "[[worker]]\ntask_queue = \"SANDBOX_Q\"\nworkflows = [{:?}]\n\
         [[worker.activities]]\nmodule = {:?}\ndirs = [{{ host = {:?}, guest = \"/data\" }}]\n",
        wasm("test_workflows"),
        wasm("sandbox_activities"),
        data
    );
    let mut weft = Weft::serve(&dir, "weft", "e2e-sandbox", &config);
    let client = Client::new("e2e-sandbox").await;
    let read = |path: &str| json!({"activity_type": "ReadFile", "task_queue": "SANDBOX_Q", "args": [path]});

    client
        .start(
            "read-granted",
            "RunActivity",
            "SANDBOX_Q",
            &[read("/data/ok.txt")],
        )
        .await;
    assert_eq!(
        client.outcome("read-granted").await,
        Outcome::Completed(json!("granted"))
    );

    let host_path = dir.join("secret.txt").display().to_string();
    let escapes = [
        ("read-dotdot", "/data/../secret.txt"),
        ("read-host-path", host_path.as_str()),
        ("read-etc", "/etc/hostname"),
    ];
    for (id, path) in escapes {
        client
            .start(id, "RunActivity", "SANDBOX_Q", &[read(path)])
            .await;
        match client.outcome(id).await {
            Outcome::Failed {
                message,
                error_type,
            } => {
                assert_eq!(error_type, "IoError", "{id}: {message}");
                assert!(
                    message.contains(&format!("cannot read {path}")),
                    "{id}: {message}"
                );
                assert!(
                    !message.contains("not granted"),
                    "{id} leaked the file: {message}"
                );
            }
            other => panic!("{id}: reading {path} must fail, got {other:?}"),
        }
    }
    assert!(weft.is_running(), "the host goes on");
    client
        .start(
            "read-after",
            "RunActivity",
            "SANDBOX_Q",
            &[read("/data/ok.txt")],
        )
        .await;
    assert_eq!(
        client.outcome("read-after").await,
        Outcome::Completed(json!("granted"))
    );
}

/// The message of the first failed workflow task of `id`, once there is one.
pub(crate) async fn failed_task_message(client: &Client, id: &str) -> String {
    let failed = client
        .wait_event(id, "a failed workflow task", |e| {
            event_type(e) == EventType::WorkflowTaskFailed
        })
        .await;
    let Some(Attributes::WorkflowTaskFailedEventAttributes(attrs)) = failed.attributes else {
        panic!("WorkflowTaskFailed without attributes");
    };
    attrs.failure.map(|f| f.message).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn trapping_or_runaway_workflow_fails_its_task_not_the_host() {
    let dir = scratch("trap");
    let config = format!(
        "[[worker]]\ntask_queue = \"TRAP_Q\"\nworkflows = [{:?}]\n",
        wasm("test_workflows")
    );
    let mut weft = Weft::serve(&dir, "weft", "e2e-trap", &config);
    let client = Client::new("e2e-trap").await;
    client.start("trap", "Trap", "TRAP_Q", &[]).await;
    let message = failed_task_message(&client, "trap").await;
    assert!(message.contains("workflow guest trapped"), "{message}");
    assert!(
        message.contains("deliberate trap for tests"),
        "the guest's panic message is kept: {message}"
    );

    // A guest that never yields runs out of fuel: only its task fails.
    client.start_with_long_tasks("spin", "Spin", "TRAP_Q").await;
    let message = failed_task_message(&client, "spin").await;
    assert!(
        message.contains("workflow guest ran out of fuel"),
        "{message}"
    );

    // The workflows themselves are still open (Temporal retries the task)
    // and the host serves other runs.
    assert!(weft.is_running(), "the host goes on");
    client
        .start("after-trap", "Sleep", "TRAP_Q", &[json!(10)])
        .await;
    assert_eq!(
        client.outcome("after-trap").await,
        Outcome::Completed(json!({"slept_ms": 10}))
    );
    let closed = client.history("trap").await.iter().any(|e| {
        matches!(
            event_type(e),
            EventType::WorkflowExecutionCompleted | EventType::WorkflowExecutionFailed
        )
    });
    assert!(!closed, "a trap must not close the workflow");
    client.terminate("trap").await;
    client.terminate("spin").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn runaway_activity_is_stopped_at_its_timeout() {
    let dir = scratch("timeout");
    let config = format!(
        "[[worker]]\ntask_queue = \"SPIN_Q\"\nworkflows = [{:?}]\n\
         [[worker.activities]]\nmodule = {:?}\n",
        wasm("test_workflows"),
        wasm("sandbox_activities"),
    );
    let mut weft = Weft::serve(&dir, "weft", "e2e-timeout", &config);
    let client = Client::new("e2e-timeout").await;
    // A busy loop that never calls the host: only the epoch deadline can
    // take the CPU back from it.
    let spin = json!({
        "activity_type": "Spin", "task_queue": "SPIN_Q", "args": [],
        "start_to_close_ms": 1000, "schedule_to_close_ms": 2500,
    });
    client.start("spin", "RunActivity", "SPIN_Q", &[spin]).await;
    match client.outcome("spin").await {
        Outcome::Failed {
            message,
            error_type,
        } => {
            // The last attempt ends at schedule-to-close, where Temporal's
            // timeout and the host's own deadline fall together.
            assert!(
                ["TimeoutError", "ActivityTimeout"].contains(&error_type.as_str()),
                "{error_type}: {message}"
            );
        }
        other => panic!("a runaway activity must time out, got {other:?}"),
    }
    crate::harness::wait_for("the host to report the stopped attempt", || {
        weft.log_text()
            .lines()
            .any(|l| l.contains("activity ran past its") && l.contains("timeout and was stopped"))
            .then_some(())
    });
    assert!(weft.is_running(), "the host goes on");
    client
        .start("after-spin", "Sleep", "SPIN_Q", &[json!(5)])
        .await;
    assert_eq!(
        client.outcome("after-spin").await,
        Outcome::Completed(json!({"slept_ms": 5}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nondeterminism_is_detected_and_fails_the_task_or_the_workflow_as_configured() {
    let dir = scratch("nondeterminism");
    // No sticky cache: every task replays, so the divergence shows at once.
    let worker = |queue: &str, mode: &str| {
        format!(
            "[[worker]]\ntask_queue = \"{queue}\"\nworkflows = [{:?}]\n\
             max_cached_workflows = 0\nnondeterminism = \"{mode}\"\n",
            wasm("test_workflows")
        )
    };
    let config = format!(
        "{}{}",
        worker("ND_TASK_Q", "fail-task"),
        worker("ND_WORKFLOW_Q", "fail-workflow")
    );
    let _weft = Weft::serve(&dir, "weft", "e2e-nondeterminism", &config);
    let client = Client::new("e2e-nondeterminism").await;

    client
        .start("fails-task", "Diverge", "ND_TASK_Q", &[])
        .await;
    let message = failed_task_message(&client, "fails-task").await;
    assert!(
        message.to_lowercase().contains("nondeterminism"),
        "{message}"
    );
    // Core names the command the guest issued and the event history holds.
    assert!(
        message.contains("Activity") && message.contains("TimerStarted"),
        "the divergence is named: {message}"
    );
    client.terminate("fails-task").await;

    client
        .start("fails-workflow", "Diverge", "ND_WORKFLOW_Q", &[])
        .await;
    match client.outcome("fails-workflow").await {
        Outcome::Failed { message, .. } => {
            assert!(
                message.to_lowercase().contains("nondeterminism"),
                "{message}"
            )
        }
        other => panic!("nondeterminism must fail the workflow, got {other:?}"),
    }
}
