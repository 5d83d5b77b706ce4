//! Temporal's own Wasm workflow components (world
//! `temporal:workflow-runtime@0.1.0`): the OrderWorkflow written with
//! Temporal's Rust SDK (`guest-examples/temporal-rust`) runs the contract of
//! guest-examples/ORDER.md with weft's Rust activity components, uploaded
//! with `weft deploy`, and its recorded histories replay.

use crate::deploy::{deploy, pins, started, wait_listed};
use crate::harness::{
    Client, Outcome, Weft, scratch, signal, temporal_cli, update, wait_for, wasm, weft_cli,
};
use crate::polyglot::expected;
use crate::replay::replay_on;
use crate::safety::failed_task_message;
use crate::workflow_api::{answer, query};
use serde_json::json;
use std::path::{Path, PathBuf};
use temporalio_common::protos::temporal::api::enums::v1::EventType;

/// The same assertions as every other language's OrderWorkflow: happy
/// path with the `status` query, a declined payment, a `cancel-order`
/// signal with start and while waiting, invalid input.
#[tokio::test(flavor = "multi_thread")]
async fn temporal_sdk_order_example() {
    crate::polyglot::language("temporal").await;
}

/// The workflow-only worker the upload goes to, and the activity worker.
const WF_QUEUE: &str = "temporal-deploy-wf";
const ACT_QUEUE: &str = "temporal-deploy-act";

/// A host with a store and an admin socket, an empty workflow worker and
/// the Rust order activities (the order directory and currency granted).
fn upload_host_config(dir: &Path) -> String {
    let orders = dir.join("orders");
    format!(
        "[store]\ndir = {:?}\n\n[admin]\nlisten = \"unix:{}\"\n\n\
         [[worker]]\ntask_queue = \"{WF_QUEUE}\"\n\n\
         [[worker]]\ntask_queue = \"{ACT_QUEUE}\"\n[[worker.activities]]\nmodule = {:?}\n\
         dirs = [{{ host = {orders:?}, guest = \"/orders\", writable = true, create = true }}]\n\
         env = {{ ORDER_CURRENCY = \"EUR\" }}\n",
        dir.join("store"),
        dir.join("admin.sock").display(),
        wasm("order_activities"),
    )
}

/// `bytes` with a custom section appended: the same code under another
/// digest, i.e. a new version that issues the same commands.
fn with_custom_section(mut bytes: Vec<u8>) -> Vec<u8> {
    let (name, payload) = (b"weft-e2e", b"v2");
    let size = 1 + name.len() + payload.len();
    bytes.extend([0, size as u8, name.len() as u8]);
    bytes.extend(name);
    bytes.extend(payload);
    bytes
}

/// Uploaded with `weft deploy`, a Temporal workflow component serves its
/// type at once; its runs are pinned to its digest; a signal and a query
/// reach it; a second version passes the replay gate on those runs; their
/// histories, exported with the CLI, replay with `weft replay`.
#[tokio::test(flavor = "multi_thread")]
async fn a_temporal_workflow_uploaded_with_weft_deploy_is_pinned_gated_and_replayed() {
    let ns = "e2e-temporal-deploy";
    let dir = scratch("temporal-deploy");
    let _host = Weft::serve(&dir, "host", ns, &upload_host_config(&dir));
    let file = wasm("order_workflow_temporal");
    let (v1, out) = deploy(
        &dir,
        "host",
        &file,
        "temporal-order",
        &["--task-queue", WF_QUEUE],
    );
    assert!(out.contains("types:      OrderWorkflow"), "{out}");
    assert!(out.contains("current:    yes"), "{out}");

    let client = Client::new(ns).await;
    let done = "temporal-order";
    client
        .start(
            done,
            "OrderWorkflow",
            WF_QUEUE,
            &[json!(done), json!(ACT_QUEUE)],
        )
        .await;
    assert_eq!(
        client.outcome(done).await,
        Outcome::Completed(expected(done))
    );
    assert_eq!(pins(&client, done).await, vec![v1.clone()], "pinned to v1");

    // A long grace period: the query reads "grace" while the run waits,
    // then the signal cancels it.
    let cancelled = "temporal-cancelled";
    let args = [json!(cancelled), json!(ACT_QUEUE), json!(60_000)];
    client
        .start(cancelled, "OrderWorkflow", WF_QUEUE, &args)
        .await;
    wait_for(
        &format!("{cancelled}: the status query to read \"grace\""),
        || (query(ns, cancelled, "status")? == json!("grace")).then_some(()),
    );
    signal(ns, cancelled, "cancel-order", None);
    assert_eq!(
        client.outcome(cancelled).await,
        Outcome::Failed {
            message: format!("order {cancelled} cancelled"),
            error_type: "OrderCancelled".into()
        }
    );
    assert_eq!(answer(ns, cancelled, "status"), json!("cancelled"));

    // The same code under a new digest: the gate replays both runs on it.
    for id in [done, cancelled] {
        wait_listed(ns, "WorkflowType='OrderWorkflow'", id, true);
    }
    let v2_file = dir.join("order_workflow_temporal_v2.wasm");
    let bytes = std::fs::read(&file).expect("the built guest");
    std::fs::write(&v2_file, with_custom_section(bytes)).expect("write v2");
    let (v2, out) = deploy(&dir, "host", &v2_file, "temporal-order", &[]);
    assert_ne!(v1, v2);
    assert!(out.contains("current:    yes"), "{out}");
    assert!(
        out.contains(&format!("{done} run")) && out.contains("reproduced"),
        "the gate replayed the runs: {out}"
    );

    // `weft replay` on histories exported as any user would.
    let exported = dir.join("histories");
    std::fs::create_dir_all(&exported).expect("dir");
    let files: Vec<PathBuf> = [done, cancelled]
        .into_iter()
        .map(|id| {
            let json = temporal_cli(
                ns,
                &["workflow", "show", "--workflow-id", id, "--output", "json"],
            );
            let file = exported.join(format!("{id}.json"));
            std::fs::write(&file, json).expect("write history");
            file
        })
        .collect();
    let (ok, stdout, stderr) = replay_on(&["order_workflow_temporal"], &files);
    assert!(ok, "replay failed:\n{stdout}\n{stderr}");
    for file in &files {
        assert!(
            stdout.contains(&format!("reproduced {}", file.display())),
            "{stdout}"
        );
    }
}

/// `weft inspect` names Temporal's world and the types `list-workflows`
/// gives; `weft check` loads a config serving the component.
#[test]
fn inspect_and_check_read_a_temporal_workflow_component() {
    let file = wasm("order_workflow_temporal").display().to_string();
    let (ok, out, err) = weft_cli(&["inspect", &file]);
    assert!(ok, "weft inspect {file}: {err}");
    for needle in [
        "world: workflow (exports temporal:workflow-runtime/workflow-guest@0.1.0)",
        "types: OrderWorkflow",
        "temporal:workflow-runtime/workflow-host@0.1.0",
    ] {
        assert!(out.contains(needle), "{needle:?} in:\n{out}");
    }
    assert!(!out.contains("wasi:"), "no WASI:\n{out}");

    let dir = scratch("temporal-check");
    let config = dir.join("weft.toml");
    std::fs::write(
        &config,
        format!("[[worker]]\ntask_queue = \"TEMPORAL_CHECK\"\nworkflows = [{file:?}]\n"),
    )
    .expect("write config");
    let (ok, _, err) = weft_cli(&["check", "--config", &config.display().to_string()]);
    assert!(ok, "weft check: {err}");
    assert!(err.contains("workflow_types=OrderWorkflow"), "{err}");
}

/// Temporal-SDK workflows (tests/guests/temporal-workflows) on a
/// workflow-only worker: signals, queries, validated updates, child
/// workflows, continue-as-new and cancellation from outside, as the
/// world's routines, job results and terminal outcomes carry them.
#[tokio::test(flavor = "multi_thread")]
async fn temporal_sdk_updates_children_continue_as_new_and_cancellation() {
    let ns = "e2e-temporal-sdk";
    let queue = "temporal-sdk-q";
    let dir = scratch("temporal-sdk");
    let config = format!(
        "[[worker]]\ntask_queue = \"{queue}\"\nworkflows = [{:?}]\n",
        wasm("temporal_workflows")
    );
    let _weft = Weft::serve(&dir, "weft", ns, &config);
    let client = Client::new(ns).await;

    // A signal, a query, an update refused by its validator (nothing
    // recorded), one accepted and completed with the handler's answer.
    let id = "t-counter";
    client.start(id, "Counter", queue, &[json!(10)]).await;
    signal(ns, id, "increment", Some("3"));
    wait_for("the counter to read 3", || {
        (query(ns, id, "get_counter")? == json!(3)).then_some(())
    });
    let refused = update(ns, id, "set_counter", "-1").expect_err("a negative value is refused");
    assert!(
        refused.contains("Counter value must be non-negative"),
        "{refused}"
    );
    let old = update(ns, id, "set_counter", "10").expect("set_counter 10 completes");
    assert!(old.contains('3'), "the update answers the old value: {old}");
    assert_eq!(client.outcome(id).await, Outcome::Completed(json!(10)));
    let history = client.history(id).await;
    assert_eq!(
        history
            .iter()
            .filter(|e| e.event_type == EventType::WorkflowExecutionUpdateAccepted as i32)
            .count(),
        1,
        "only the valid update is recorded: {history:?}"
    );

    // Continue-as-new twice, then the last run completes.
    client
        .start("t-chain", "Chain", queue, &[json!([0, 2])])
        .await;
    assert_eq!(
        client.outcome("t-chain").await,
        Outcome::Completed(json!("Completed after 2 iterations"))
    );

    // Two children, one after the other.
    client
        .start("t-parent", "Parent", queue, &[json!(["a", "b"])])
        .await;
    assert_eq!(
        client.outcome("t-parent").await,
        Outcome::Completed(json!(["Hello, a!", "Hello, b!"]))
    );

    // Cancelled from outside while it waits: it ends as cancelled.
    client.start("t-cancel", "Cancellable", queue, &[]).await;
    started(&client, "t-cancel").await;
    temporal_cli(ns, &["workflow", "cancel", "--workflow-id", "t-cancel"]);
    assert_eq!(client.outcome("t-cancel").await, Outcome::Cancelled);
}

/// A Temporal-SDK guest that traps fails its workflow task, not the host,
/// and takes its instance down: a run that shared it replays on a fresh
/// instance and completes.
#[tokio::test(flavor = "multi_thread")]
async fn a_trap_fails_the_task_and_the_runs_sharing_the_instance_replay() {
    let ns = "e2e-temporal-trap";
    let queue = "temporal-trap-q";
    let dir = scratch("temporal-trap");
    // A cache even when the suite runs without one: the survivor must be
    // cached on the instance when the trap takes it down.
    let config = format!(
        "[[worker]]\nmax_cached_workflows = 100\ntask_queue = \"{queue}\"\nworkflows = [{:?}]\n",
        wasm("temporal_workflows")
    );
    let weft = Weft::serve(&dir, "weft", ns, &config);
    let client = Client::new(ns).await;

    let survivor = "t-survivor";
    client.start(survivor, "Counter", queue, &[json!(5)]).await;
    started(&client, survivor).await;
    client.start("t-trapper", "Trapper", queue, &[]).await;
    let message = failed_task_message(&client, "t-trapper").await;
    assert!(message.contains("workflow guest trapped"), "{message}");
    client.terminate("t-trapper").await;
    wait_for("the host to evict the run that shared the instance", || {
        weft.log_text()
            .contains("evicting runs whose guest state is lost")
            .then_some(())
    });

    signal(ns, survivor, "increment", Some("5"));
    assert_eq!(client.outcome(survivor).await, Outcome::Completed(json!(5)));
}
