//! Workflows written for the official Temporal Python SDK (temporalio
//! 1.20.0) run on weft unchanged: `tests/sdk-compat/python/compare.py` runs
//! each sample of that directory on a `temporalio` worker and on a weft host
//! serving `sdk_compat_python.wasm` (the same files, built with the
//! `temporalio` alias package of guest-examples/python/compat), with the
//! same Python SDK activities behind both, and compares what the client saw
//! (results, query and update answers) and the commands in both histories.

use crate::harness::{Weft, python_with_temporalio, repo, run_script, scratch, server, wasm};
use std::process::Command;
use std::time::Duration;

/// The whole script's deadline (each scenario has its own, 90 s).
const SCRIPT_DEADLINE: Duration = Duration::from_secs(300);

/// The samples compare.py runs; one `PASS` line each when both arms agree.
const SCENARIOS: &[&str] = &[
    "hello_activity",
    "hello_parallel_activity",
    "hello_signal_query",
    "hello_update",
    "hello_child_workflow",
    "timer_race",
    "hello_continue_as_new",
    "hello_patch",
    "hello_search_attributes",
    "hello_dynamic_handlers",
    "hello_exception",
    "hello_activity_method",
];

#[test]
fn python_sdk_samples_run_unchanged_on_weft() {
    let ns = "e2e-compat-python";
    let python = python_with_temporalio();

    // weft serves only the workflows; the script's temporalio worker serves
    // the activities on the same queue (weft's worker polls no activity
    // tasks there), so both arms call the same activity code.
    let dir = scratch("sdk-compat-python");
    let config = format!(
        "[[worker]]\ntask_queue = \"COMPAT_PY_WEFT\"\nworkflows = [{:?}]\n",
        wasm("sdk_compat_python"),
    );
    let weft = Weft::serve(&dir, "weft", ns, &config);

    let mut compare = Command::new(&python);
    compare
        .arg(repo().join("tests/sdk-compat/python/compare.py"))
        .args(["--address", &server().address, "--namespace", ns])
        .args([
            "--sdk-queue",
            "COMPAT_PY_SDK",
            "--weft-queue",
            "COMPAT_PY_WEFT",
        ]);
    let mut expected: Vec<String> = SCENARIOS.iter().map(|s| format!("PASS {s}:")).collect();
    expected.push("ALL PASSED".into());
    run_script(
        "compare.py",
        compare,
        &dir,
        &weft,
        SCRIPT_DEADLINE,
        &expected,
    );
}
