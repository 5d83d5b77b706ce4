//! The recorded histories (tests/histories/) replayed in process through
//! `weft::replay`, on guests this tier builds from source
//! (`weft-test-guests`): no server, no `cargo xtask guests`. One test runs
//! the `weft replay` CLI too, for what it prints.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use weft::module::CompileCache;
use weft::replay::{Report, Verdict};
use weft::temporal::Recorded;
use weft::workflow::{WorkflowRegistry, WorkflowRuntime};
use weft_test_guests::{ORDER_WORKFLOW, ORDER_WORKFLOW_TEMPORAL, TEST_WORKFLOWS};

/// A file of the repository.
fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// Where compiled components are cached between runs of this tier (the
/// user's own cache stays untouched).
fn compile_cache() -> PathBuf {
    repo("target/unit/cache")
}

/// The `*.json` files of `dir`, sorted.
fn histories_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("history dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Replays `histories` against `modules`, as `weft replay` does.
fn replay(modules: &[&str], histories: &[PathBuf]) -> Vec<Report> {
    let tokio = tokio::runtime::Runtime::new().expect("tokio");
    tokio.block_on(async {
        let runtime = WorkflowRuntime::new()
            .expect("engine")
            .with_cache(Some(CompileCache::new(compile_cache())));
        let mut registry = WorkflowRegistry::default();
        for module in modules {
            let loaded = runtime
                .load(Path::new(module))
                .await
                .unwrap_or_else(|e| panic!("load {module}: {e}"));
            registry.add(Arc::new(loaded)).expect("distinct types");
        }
        let recorded = histories
            .iter()
            .map(|path| {
                let json = std::fs::read(path).expect("read history");
                let history = Recorded::from_json(&json, "replay")
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                (path.clone(), history)
            })
            .collect();
        weft::replay::replay(Arc::new(registry), recorded)
            .await
            .expect("replay runs")
    })
}

/// Asserts every report says reproduced.
fn assert_reproduced(reports: &[Report], histories: &[PathBuf]) {
    assert_eq!(reports.len(), histories.len());
    for report in reports {
        assert_eq!(
            report.verdict,
            Verdict::Reproduced,
            "{}",
            report.path.display()
        );
    }
}

#[test]
fn checked_in_histories_are_reproduced_and_a_divergence_is_named() {
    let (good, diverging): (Vec<_>, Vec<_>) = histories_in(&repo("tests/histories"))
        .into_iter()
        .partition(|p| !p.ends_with("diverge.json"));
    assert!(good.len() >= 5, "recorded histories missing: {good:?}");
    let modules = [TEST_WORKFLOWS, ORDER_WORKFLOW];
    assert_reproduced(&replay(&modules, &good), &good);

    // `Diverge` schedules an activity on replay where it started a timer.
    let reports = replay(&modules, &diverging);
    let [report] = reports.as_slice() else {
        panic!("one diverging history: {reports:?}")
    };
    let Verdict::Diverged(why) = &report.verdict else {
        panic!("a diverging history must fail replay: {report:?}")
    };
    assert!(why.contains("TimerStarted"), "the event is named: {why}");
    assert!(
        why.contains("the module issued: ScheduleActivity(Wait)"),
        "so is the command the module issued instead: {why}"
    );
}

/// The histories of the OrderWorkflow written with Temporal's SDK
/// (tests/histories/temporal/) replay on that component as built now.
#[test]
fn recorded_temporal_histories_are_reproduced() {
    let files = histories_in(&repo("tests/histories/temporal"));
    assert!(files.len() >= 2, "recorded histories missing: {files:?}");
    assert_reproduced(&replay(&[ORDER_WORKFLOW_TEMPORAL], &files), &files);
}

#[test]
fn replay_refuses_unusable_input_with_the_reason() {
    let dir = repo("target/unit/replay-input");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let not_json = dir.join("not-a-history.json");
    std::fs::write(&not_json, "events: none").expect("write");
    let tokio = tokio::runtime::Runtime::new().expect("tokio");
    let refused = tokio
        .block_on(weft::replay::replay_files(&[], &[not_json]))
        .expect_err("not a history");
    assert!(
        refused
            .to_string()
            .contains("not-a-history.json: not a Temporal history in JSON form"),
        "{refused}"
    );

    // A history of a type neither module offers: the type is named.
    let text = std::fs::read_to_string(repo("tests/histories/order-workflow.json"))
        .expect("recorded history");
    let renamed = dir.join("renamed.json");
    std::fs::write(
        &renamed,
        text.replacen("\"OrderWorkflow\"", "\"NoSuchWorkflow\"", 1),
    )
    .expect("write");
    let reports = replay(&[TEST_WORKFLOWS, ORDER_WORKFLOW], &[renamed]);
    assert!(
        matches!(&reports[0].verdict, Verdict::Failed(why) if why.contains("`NoSuchWorkflow` is not offered")),
        "{reports:?}"
    );
}

/// What `weft replay` prints: a line per history, the exit status saying
/// whether all reproduced, a refused file named on stderr.
#[test]
fn the_replay_cli_prints_a_verdict_per_history() {
    let weft_replay = |histories: &[PathBuf]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
        cmd.args([
            "replay",
            "--module",
            ORDER_WORKFLOW,
            "--module",
            TEST_WORKFLOWS,
        ])
        .env("RUST_LOG", "warn")
        .env("WEFT_CACHE_DIR", compile_cache());
        for history in histories {
            cmd.arg("--history").arg(history);
        }
        let out = cmd.output().expect("run weft replay");
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        (out.status.success(), text(out.stdout), text(out.stderr))
    };
    let good = repo("tests/histories/order-workflow.json");
    let (ok, stdout, stderr) = weft_replay(std::slice::from_ref(&good));
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with(&format!("reproduced {}", good.display())),
        "{stdout}"
    );

    let (ok, stdout, _) = weft_replay(&[repo("tests/histories/diverge.json")]);
    assert!(!ok, "a diverging history must fail replay:\n{stdout}");
    assert!(stdout.starts_with("DIVERGED "), "{stdout}");
    assert!(
        stdout.contains("the module issued: ScheduleActivity(Wait)"),
        "{stdout}"
    );

    let missing = repo("target/unit/no-such-history.json");
    let (ok, _, stderr) = weft_replay(&[missing]);
    assert!(!ok);
    assert!(stderr.contains("no-such-history.json"), "{stderr}");
}
