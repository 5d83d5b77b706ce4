//! `weft replay` on histories exported from the dev server with the
//! `temporal` CLI. The checked-in histories (tests/histories/) replay in
//! the unit tier (host/tests/histories.rs).

use crate::harness::{
    Client, Outcome, Weft, run, scratch, signal, temporal_cli, try_temporal_cli, wasm, weft_command,
};
use crate::workflow_api::{QUEUE, serve};
use serde_json::json;
use std::path::PathBuf;
use temporalio_common::protos::temporal::api::enums::v1::EventType;

/// `weft replay` with both example workflow modules; (exit ok, stdout, stderr).
fn weft_replay(histories: &[PathBuf]) -> (bool, String, String) {
    replay_on(&["test_workflows", "order_workflow"], histories)
}

/// `weft replay` with the given modules (names in target/wasm).
pub(crate) fn replay_on(modules: &[&str], histories: &[PathBuf]) -> (bool, String, String) {
    let mut command = weft_command();
    command.arg("replay").env("RUST_LOG", "warn");
    for module in modules {
        command.arg("--module").arg(wasm(module));
    }
    for h in histories {
        command.arg("--history").arg(h);
    }
    run(command)
}

#[tokio::test(flavor = "multi_thread")]
async fn histories_exported_with_the_cli_are_reproduced() {
    let (dir, _weft) = serve("replay");
    let ns = "e2e-replay";
    let client = Client::new(ns).await;
    let wait =
        json!({"activity_type": "Wait", "task_queue": QUEUE, "args": [10], "timer_ms": 60_000});
    client.start("race", "Race", QUEUE, &[wait]).await;
    client.start("patched", "Patched", QUEUE, &[]).await;
    // Long enough that, with the sticky cache off, core evicts the run while
    // the local activity is in flight (see the profile note in Cargo.toml).
    let local = json!({"activity_type": "Wait", "args": [2000]});
    client.start("local", "RunLocal", QUEUE, &[local]).await;
    client.start("signals", "Signals", QUEUE, &[json!(2)]).await;
    for n in ["4", "3"] {
        signal(ns, "signals", "add", Some(n));
    }
    client.start("counter", "Counter", QUEUE, &[]).await;
    let update = [
        "workflow",
        "update",
        "execute",
        "--workflow-id",
        "counter",
        "--name",
        "increment",
        "--input",
        "5",
    ];
    temporal_cli(ns, &update);
    signal(ns, "counter", "stop", None);
    let ids = ["race", "patched", "local", "signals", "counter"];
    for id in ids {
        assert!(
            matches!(client.outcome(id).await, Outcome::Completed(_)),
            "{id} completes"
        );
    }

    let exported = dir.join("histories");
    std::fs::create_dir_all(&exported).expect("dir");
    let mut files = Vec::new();
    for id in ids {
        let json = try_temporal_cli(
            ns,
            &["workflow", "show", "--workflow-id", id, "--output", "json"],
        )
        .unwrap_or_else(|e| panic!("export {id}: {e}"));
        let file = exported.join(format!("{id}.json"));
        std::fs::write(&file, json).expect("write history");
        files.push(file);
    }
    let (ok, stdout, stderr) = weft_replay(&files);
    assert!(
        ok,
        "replay of exported histories failed:\n{stdout}\n{stderr}"
    );
    for id in ids {
        assert!(
            stdout.contains(&format!(
                "reproduced {}",
                exported.join(format!("{id}.json")).display()
            )),
            "{stdout}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn patched_code_replays_old_histories_and_a_deprecated_patch_new_ones() {
    // v1 on one queue; v2, which adds a timer behind `patched`, on another.
    let dir = scratch("patch-replay");
    let ns = "e2e-patch-replay";
    let config = format!(
        "[[worker]]\ntask_queue = \"V1_Q\"\nworkflows = [{:?}]\n\
         [[worker]]\ntask_queue = \"V2_Q\"\nworkflows = [{:?}]\n",
        wasm("versioned_v1"),
        wasm("versioned_v2"),
    );
    let _weft = Weft::serve(&dir, "weft", ns, &config);
    let client = Client::new(ns).await;
    client.start("old", "Versioned", "V1_Q", &[]).await;
    client.start("new", "Versioned", "V2_Q", &[]).await;
    for id in ["old", "new"] {
        signal(ns, id, "finish", Some("1"));
    }
    let finished = |version: u32| Outcome::Completed(json!({"version": version, "signal": 1}));
    assert_eq!(client.outcome("old").await, finished(1));
    assert_eq!(client.outcome("new").await, finished(2));
    let timers = |history: &[_]| crate::harness::count_events(history, EventType::TimerStarted);
    assert_eq!(timers(&client.history("old").await), 1);
    assert_eq!(timers(&client.history("new").await), 2, "v2 took the patch");

    let export = |id: &str| {
        let file = dir.join(format!("{id}.json"));
        let json = temporal_cli(
            ns,
            &["workflow", "show", "--workflow-id", id, "--output", "json"],
        );
        std::fs::write(&file, json).expect("write history");
        file
    };
    let (old, new) = (export("old"), export("new"));
    let verdict = |module: &str, history: &PathBuf| {
        let (ok, stdout, stderr) = replay_on(&[module], std::slice::from_ref(history));
        assert_eq!(
            ok,
            stdout.starts_with("reproduced "),
            "{module}: {stdout}\n{stderr}"
        );
        ok
    };
    // `patched` is false when a history without the marker replays, so v2
    // reproduces v1's run, and its own.
    assert!(verdict("versioned_v2", &old));
    assert!(verdict("versioned_v2", &new));
    // v1 does not know the second timer.
    assert!(!verdict("versioned_v1", &new));
    // With the patch deprecated only the new path is left: v2's runs replay,
    // v1's do not.
    assert!(verdict("versioned_v4", &new));
    assert!(!verdict("versioned_v4", &old));
}
