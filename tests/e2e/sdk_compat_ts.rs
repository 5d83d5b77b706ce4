//! TypeScript SDK compatibility (issue 14): the workflows of
//! tests/sdk-compat/ts/src/workflows, written for the official
//! `@temporalio/workflow`, run unchanged on the official TypeScript SDK
//! worker (`@temporalio/worker` 1.24.0 from npm) and on weft (the component
//! guest-examples/js/build.sh builds from the same files, with
//! `@temporalio/workflow` resolved to `@weft/workflow`).
//! `tests/sdk-compat/ts/compat.js` runs the official workers, drives each
//! workflow the same way on both arms and compares the results, the answers
//! to queries and updates, and the command sequence of every run's history.

use crate::harness::{Weft, repo, scratch, server, wasm};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NS: &str = "e2e-sdk-compat-ts";

/// The whole script's deadline (its own waits are 90 s each; the
/// scenarios run at once).
const SCRIPT_DEADLINE: Duration = Duration::from_secs(300);

/// The scenarios of compat.js, one per workflow.
const SCENARIOS: &[&str] = &[
    "activities",
    "signals-and-queries",
    "update-with-validator",
    "child-workflows",
    "timer-race",
    "continue-as-new",
    "patched",
    "cancellation-scopes",
    "failures",
    "external-signal",
];

#[test]
fn typescript_sdk_workflows_run_alike_on_the_official_worker_and_weft() {
    let dir_ts = repo().join("tests/sdk-compat/ts");
    assert!(
        dir_ts.join("node_modules/@temporalio/worker").exists(),
        "the official TypeScript SDK is not installed in {} (scripts/setup.sh runs npm ci there)",
        dir_ts.display()
    );

    let queue = "sdk-compat-ts-weft";
    let dir = scratch("sdk-compat-ts");
    let config = format!(
        "[[worker]]\ntask_queue = \"{queue}\"\nworkflows = [{:?}]\n",
        wasm("sdk_compat_ts")
    );
    let weft = Weft::serve(&dir, "weft", NS, &config);

    let stdout_path = dir.join("compat.stdout");
    let stderr_path = dir.join("compat.stderr");
    let mut child = Command::new("node")
        .arg(dir_ts.join("compat.js"))
        .args(["--address", &server().address, "--namespace", NS])
        .args(["--weft-queue", queue])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("start node tests/sdk-compat/ts/compat.js: {e}"));

    let deadline = Instant::now() + SCRIPT_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the script") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };

    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let report = || {
        format!(
            "\n--- compat.js stdout\n{stdout}\n--- compat.js stderr\n{stderr}\n\
             --- weft log ({})\n{}",
            weft.log.display(),
            weft.log_text()
        )
    };
    match status {
        None => panic!(
            "compat.js did not finish within {SCRIPT_DEADLINE:?}{}",
            report()
        ),
        Some(status) => assert!(status.success(), "compat.js failed ({status}){}", report()),
    }
    for scenario in SCENARIOS {
        let pass = format!("PASS {scenario}:");
        assert!(
            stdout.lines().any(|l| l.starts_with(&pass)),
            "compat.js did not print {pass:?}{}",
            report()
        );
    }
    eprint!("{stdout}");
}
