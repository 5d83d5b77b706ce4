//! `weft replay`: recorded histories against workflow modules. The checked-in
//! histories (tests/histories/) replay offline; fresh ones are exported from
//! the dev server with the `temporal` CLI and replayed the same way.

use crate::harness::{
    Client, Outcome, compile_cache, repo, scratch, temporal_cli, try_temporal_cli, wasm,
};
use crate::workflow_api::{QUEUE, serve};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `weft replay` with both example workflow modules; (exit ok, stdout, stderr).
fn weft_replay(histories: &[PathBuf]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.arg("replay")
        .args(["--module".as_ref(), wasm("test_workflows").as_os_str()])
        .args(["--module".as_ref(), wasm("order_workflow").as_os_str()])
        .env("RUST_LOG", "warn")
        .env("WEFT_CACHE_DIR", compile_cache());
    for h in histories {
        cmd.arg("--history").arg(h);
    }
    let out = cmd.output().expect("run weft replay");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (out.status.success(), text(out.stdout), text(out.stderr))
}

fn histories_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("history dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn checked_in_histories_are_reproduced_and_a_divergence_is_named() {
    let dir = repo().join("tests/histories");
    let (good, diverging): (Vec<_>, Vec<_>) = histories_in(&dir)
        .into_iter()
        .partition(|p| !p.ends_with("diverge.json"));
    assert!(
        good.len() >= 5,
        "recorded histories missing in {}",
        dir.display()
    );

    let (ok, stdout, stderr) = weft_replay(&good);
    assert!(ok, "replay failed:\n{stdout}\n{stderr}");
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("reproduced "))
            .count(),
        good.len(),
        "{stdout}"
    );

    // `Diverge` schedules an activity on replay where it started a timer.
    let (ok, stdout, _) = weft_replay(&diverging);
    assert!(!ok, "a diverging history must fail replay:\n{stdout}");
    assert!(stdout.starts_with("DIVERGED "), "{stdout}");
    assert!(
        stdout.contains("TimerStarted"),
        "the diverging event is named: {stdout}"
    );
}

#[test]
fn replay_refuses_unusable_input_with_the_reason() {
    let dir = scratch("replay-input");
    let not_json = dir.join("not-a-history.json");
    std::fs::write(&not_json, "events: none").expect("write");
    let (ok, _, stderr) = weft_replay(&[not_json]);
    assert!(!ok);
    assert!(
        stderr.contains("not-a-history.json: not a Temporal history in JSON form"),
        "{stderr}"
    );

    // A history of a type neither module offers: the type is named.
    let recorded = repo().join("tests/histories/order-workflow.json");
    let text = std::fs::read_to_string(recorded).expect("recorded history");
    let renamed = dir.join("renamed.json");
    std::fs::write(
        &renamed,
        text.replacen("\"OrderWorkflow\"", "\"NoSuchWorkflow\"", 1),
    )
    .expect("write");
    let (ok, stdout, _) = weft_replay(&[renamed]);
    assert!(!ok);
    assert!(
        stdout.contains("FAILED") && stdout.contains("`NoSuchWorkflow` is not offered"),
        "{stdout}"
    );
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
        temporal_cli(
            ns,
            &[
                "workflow",
                "signal",
                "--workflow-id",
                "signals",
                "--name",
                "add",
                "--input",
                n,
            ],
        );
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
    temporal_cli(
        ns,
        &[
            "workflow",
            "signal",
            "--workflow-id",
            "counter",
            "--name",
            "stop",
        ],
    );
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
