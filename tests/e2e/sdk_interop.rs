//! Interop with the official Temporal Python SDK (temporalio 1.20.0):
//! `tests/interop/sdk_interop.py` drives a weft host serving the Rust
//! OrderWorkflow and order activities (guest-examples/ORDER.md) from a
//! Python SDK client, a sandboxed Python SDK workflow (which also reads the
//! failure details of weft's test activity `Fail`), and Python SDK
//! activities that weft's workflow calls.

use crate::harness::{Weft, python_with_temporalio, repo, run_script, scratch, server, wasm};
use std::process::Command;
use std::time::Duration;

/// The whole script's deadline (each of its checks has its own, 90 s).
const SCRIPT_DEADLINE: Duration = Duration::from_secs(600);

/// The lines the script prints, one per check, when everything passes.
const CHECKS: &[&str] = &[
    "PASS a.client-execute-and-query:",
    "PASS a.client-declined:",
    "PASS a.client-signal-with-start:",
    "PASS b.py-workflow-weft-activities:",
    "PASS b.py-workflow-weft-activity-declined:",
    "PASS b.py-workflow-weft-activity-failure-details:",
    "PASS c.weft-workflow-py-activities:",
    "PASS c.weft-workflow-py-activity-declined:",
    "ALL PASSED",
];

#[test]
fn python_sdk_interoperates_with_weft_guests() {
    let ns = "e2e-sdk-interop";
    let python = python_with_temporalio();

    // A workflow-only worker for the Rust OrderWorkflow and an activity-only
    // worker for the Rust order activities, granted the order directory and
    // the currency as in polyglot.rs, and the sandbox test activities (for
    // `Fail`, whose failure carries JSON details; it needs no grant).
    let dir = scratch("sdk-interop");
    let orders = dir.join("orders");
    let config = format!(
        "[[worker]]\ntask_queue = \"WF_rust\"\nworkflows = [{:?}]\n\n\
         [[worker]]\ntask_queue = \"ACT_rust\"\n[[worker.activities]]\nmodule = {:?}\n\
         dirs = [{{ host = {orders:?}, guest = \"/orders\", writable = true, create = true }}]\n\
         env = {{ ORDER_CURRENCY = \"EUR\" }}\n\
         [[worker.activities]]\nmodule = {:?}\n",
        wasm("order_workflow"),
        wasm("order_activities"),
        wasm("sandbox_activities"),
    );
    let weft = Weft::serve(&dir, "weft", ns, &config);

    let mut script = Command::new(&python);
    script
        .arg(repo().join("tests/interop/sdk_interop.py"))
        .args(["--address", &server().address, "--namespace", ns])
        .args([
            "--workflow-queue",
            "WF_rust",
            "--activity-queue",
            "ACT_rust",
        ])
        .args([
            "--py-workflow-queue",
            "PY_WF_Q",
            "--py-activity-queue",
            "PY_ACT_Q",
        ]);
    let expected: Vec<String> = CHECKS.iter().map(|c| c.to_string()).collect();
    run_script(
        "sdk_interop.py",
        script,
        &dir,
        &weft,
        SCRIPT_DEADLINE,
        &expected,
    );
}
