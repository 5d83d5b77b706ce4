//! Interop with the official Temporal Python SDK (temporalio 1.20.0):
//! `tests/interop/sdk_interop.py` drives a weft host serving the Rust
//! OrderWorkflow and order activities (guest-examples/ORDER.md) from a
//! Python SDK client, a sandboxed Python SDK workflow (which also reads the
//! failure details of weft's test activity `Fail`), and Python SDK
//! activities that weft's workflow calls.

use crate::harness::{Weft, repo, scratch, server, wasm};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    let python = std::env::var("WEFT_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import temporalio; print(temporalio.__version__)"])
        .output()
        .unwrap_or_else(|e| panic!("run {python}: {e}"));
    assert!(
        probe.status.success(),
        "the Temporal Python SDK is not installed for {python} (scripts/setup.sh installs it): {}",
        String::from_utf8_lossy(&probe.stderr)
    );

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

    let stdout_path = dir.join("sdk_interop.stdout");
    let stderr_path = dir.join("sdk_interop.stderr");
    let mut child = Command::new(&python)
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
        ])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("start {python} tests/interop/sdk_interop.py: {e}"));

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
            "\n--- sdk_interop.py stdout\n{stdout}\n--- sdk_interop.py stderr\n{stderr}\n\
             --- weft log ({})\n{}",
            weft.log.display(),
            weft.log_text()
        )
    };
    match status {
        None => panic!(
            "sdk_interop.py did not finish within {SCRIPT_DEADLINE:?}{}",
            report()
        ),
        Some(status) => assert!(
            status.success(),
            "sdk_interop.py failed ({status}){}",
            report()
        ),
    }
    for check in CHECKS {
        assert!(
            stdout.lines().any(|l| l.starts_with(check)),
            "sdk_interop.py did not print {check:?}{}",
            report()
        );
    }
    eprint!("{stdout}");
}
