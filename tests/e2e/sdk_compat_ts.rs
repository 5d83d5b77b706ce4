//! TypeScript SDK compatibility (issue 14): the workflows of
//! tests/sdk-compat/ts/src/workflows, written for the official
//! `@temporalio/workflow`, run unchanged on the official TypeScript SDK
//! worker (`@temporalio/worker` 1.24.0 from npm) and on weft (the component
//! guest-examples/js/build.sh builds from the same files, with
//! `@temporalio/workflow` resolved to `@weft/workflow`).
//! `tests/sdk-compat/ts/compat.js` runs the official workers, drives each
//! workflow the same way on both arms and compares the results, the answers
//! to queries and updates, and the command sequence of every run's history.

use crate::harness::{Weft, repo, run_script, scratch, server, wasm};
use std::process::Command;
use std::time::Duration;

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

    let mut compat = Command::new("node");
    compat
        .arg(dir_ts.join("compat.js"))
        .args(["--address", &server().address, "--namespace", NS])
        .args(["--weft-queue", queue]);
    let expected: Vec<String> = SCENARIOS.iter().map(|s| format!("PASS {s}:")).collect();
    run_script("compat.js", compat, &dir, &weft, SCRIPT_DEADLINE, &expected);
}
