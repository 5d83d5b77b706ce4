//! Workflows written for the official Temporal Python SDK (temporalio
//! 1.20.0) run on weft unchanged: `tests/sdk-compat/python/compare.py` runs
//! each sample of that directory on a `temporalio` worker and on a weft host
//! serving `sdk_compat_python.wasm` (the same files, built with the
//! `temporalio` alias package of guest-examples/python/compat), with the
//! same Python SDK activities behind both, and compares what the client saw
//! (results, query and update answers) and the commands in both histories.

use crate::harness::{Weft, repo, scratch, server, wasm};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

    // weft serves only the workflows; the script's temporalio worker serves
    // the activities on the same queue (weft's worker polls no activity
    // tasks there), so both arms call the same activity code.
    let dir = scratch("sdk-compat-python");
    let config = format!(
        "[[worker]]\ntask_queue = \"COMPAT_PY_WEFT\"\nworkflows = [{:?}]\n",
        wasm("sdk_compat_python"),
    );
    let weft = Weft::serve(&dir, "weft", ns, &config);

    let stdout_path = dir.join("compare.stdout");
    let stderr_path = dir.join("compare.stderr");
    let started = Instant::now();
    let mut child = Command::new(&python)
        .arg(repo().join("tests/sdk-compat/python/compare.py"))
        .args(["--address", &server().address, "--namespace", ns])
        .args([
            "--sdk-queue",
            "COMPAT_PY_SDK",
            "--weft-queue",
            "COMPAT_PY_WEFT",
        ])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("start {python} tests/sdk-compat/python/compare.py: {e}"));

    let deadline = started + SCRIPT_DEADLINE;
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
            "\n--- compare.py stdout\n{stdout}\n--- compare.py stderr\n{stderr}\n\
             --- weft log ({})\n{}",
            weft.log.display(),
            weft.log_text()
        )
    };
    match status {
        None => panic!(
            "compare.py did not finish within {SCRIPT_DEADLINE:?}{}",
            report()
        ),
        Some(status) => assert!(status.success(), "compare.py failed ({status}){}", report()),
    }
    for scenario in SCENARIOS {
        let pass = format!("PASS {scenario}:");
        assert!(
            stdout.lines().any(|l| l.starts_with(&pass)),
            "compare.py did not print {pass:?}{}",
            report()
        );
    }
    assert!(stdout.lines().any(|l| l == "ALL PASSED"), "{}", report());
    eprintln!("{stdout}compare.py took {:?}", started.elapsed());
}
