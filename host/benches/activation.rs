//! The cost of one activation through the Wasm boundary, in process, with no
//! Temporal server: the Rust OrderWorkflow (guest-examples/ORDER.md, on the
//! activation world) driven by synthetic activations, as core would send
//! them, through the same `Run::activate` the worker calls.
//!
//! Each run goes through its whole life (start, CreateOrder resolved, grace
//! timer fired, ChargePayment resolved: four activations); then one parked
//! run answers `status` queries. Prints the mean time per activation of
//! each kind. Last, it parks 10,000 runs on their grace timer and prints the
//! process's RSS growth per parked run: weft's own share of a cached run
//! (its run state and the run's slice of the shared guest instance), with
//! no core (whose cached run is the rest of what bench/parked.sh measures). Run by `cargo bench -p weft --bench activation` (release);
//! `scripts/bench.sh` puts the figures in BENCHMARKS.md.
//!
//! The figure is weft's whole activation path short of core: the jobs
//! turned into WIT values, the guest call, the guest's executor and SDK,
//! the commands turned back into protobuf, fuel and epoch bookkeeping.

// A benchmark: the wall clock is what it measures, stdout is its report.
#![allow(clippy::disallowed_methods, clippy::print_stdout)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use weft::payload;
use weft::temporal::proto::activity_result::{self, ActivityResolution};
use weft::temporal::proto::workflow_activation::{
    FireTimer, InitializeWorkflow, QueryWorkflow, ResolveActivity, WorkflowActivation,
    WorkflowActivationJob, workflow_activation_job::Variant as Job,
};
use weft::temporal::proto::workflow_commands::{
    WorkflowCommand, query_result, workflow_command::Variant as Command,
};
use weft::workflow::{Run, WorkflowModule, WorkflowRuntime};

/// Runs taken through their whole life.
const RUNS: usize = 2_000;
/// Queries answered by one parked run.
const QUERIES: usize = 20_000;
/// Runs parked on their grace timer for the memory figure.
const PARKED: usize = 10_000;

fn main() {
    let wasm = std::env::var_os("WEFT_WASM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wasm"))
        .join("order_workflow.wasm");
    let tokio = tokio::runtime::Runtime::new().expect("tokio");
    let module: Arc<WorkflowModule> = Arc::new(
        tokio
            .block_on(WorkflowRuntime::new().expect("engine").load(&wasm))
            .unwrap_or_else(|e| panic!("{}: {e} (build it: cargo xtask guests)", wasm.display())),
    );

    // Warm up: the instance, the guest's allocator, the CPU caches.
    for i in 0..100 {
        whole_life(&module, &format!("warm-{i}"), &mut [Duration::ZERO; 4]);
    }
    let mut spent = [Duration::ZERO; 4];
    for i in 0..RUNS {
        whole_life(&module, &format!("run-{i}"), &mut spent);
    }
    let mut parked = Run::start(module.clone(), init("parked"), "parked", "bench", "Q", None);
    let _ = activate(
        &mut parked,
        "parked",
        Job::InitializeWorkflow(init("parked")),
    );
    let queried = Instant::now();
    for i in 0..QUERIES {
        let commands = activate(
            &mut parked,
            "parked",
            Job::QueryWorkflow(QueryWorkflow {
                query_id: format!("q{i}"),
                query_type: "status".into(),
                ..Default::default()
            }),
        );
        let Some(Command::RespondToQuery(answer)) =
            commands.first().and_then(|c| c.variant.clone())
        else {
            panic!("a query is answered: {commands:?}")
        };
        assert!(matches!(
            answer.variant,
            Some(query_result::Variant::Succeeded(_))
        ));
    }
    let query = queried.elapsed();

    let micros = |d: Duration, n: usize| d.as_secs_f64() * 1e6 / n as f64;
    println!("activation kind | mean µs");
    for (kind, d) in [
        "start (a new run's object, schedule CreateOrder)",
        "activity resolved (start the grace timer)",
        "timer fired (schedule ChargePayment)",
        "activity resolved (complete the run)",
    ]
    .iter()
    .zip(spent)
    {
        println!("{kind} | {:.1}", micros(d, RUNS));
    }
    println!(
        "all four, per activation | {:.1}",
        micros(spent.iter().sum(), RUNS * 4)
    );
    println!("query on a parked run | {:.1}", micros(query, QUERIES));

    drop(parked);
    let before = rss_kib();
    let runs: Vec<Run> = (0..PARKED)
        .map(|i| {
            let run_id = format!("parked-{i}");
            let mut run = Run::start(module.clone(), init(&run_id), &run_id, "bench", "Q", None);
            let create = activate(&mut run, &run_id, Job::InitializeWorkflow(init(&run_id)));
            let _ = activate(&mut run, &run_id, resolved(activity_seq(&create)));
            run
        })
        .collect();
    let per_run = (rss_kib() - before) as f64 / runs.len() as f64;
    println!("parked run, weft's share (KiB of RSS, no core) | {per_run:.1}");
}

/// The process's resident set, from /proc.
fn rss_kib() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// One OrderWorkflow from start to completion; adds each activation's time
/// to `spent`.
fn whole_life(module: &Arc<WorkflowModule>, run_id: &str, spent: &mut [Duration; 4]) {
    let mut run = Run::start(module.clone(), init(run_id), run_id, "bench", "Q", None);
    let mut step = |i: usize, job: Job| {
        let started = Instant::now();
        let commands = activate(&mut run, run_id, job);
        spent[i] += started.elapsed();
        commands
    };
    let create = step(0, Job::InitializeWorkflow(init(run_id)));
    let timer = step(1, resolved(activity_seq(&create)));
    let Some(Command::StartTimer(timer)) = timer.last().and_then(|c| c.variant.clone()) else {
        panic!("the grace timer starts: {timer:?}")
    };
    let charge = step(2, Job::FireTimer(FireTimer { seq: timer.seq }));
    let done = step(3, resolved(activity_seq(&charge)));
    assert!(
        matches!(
            done.last().and_then(|c| c.variant.as_ref()),
            Some(Command::CompleteWorkflowExecution(_))
        ),
        "the run completes: {done:?}"
    );
}

fn init(run_id: &str) -> InitializeWorkflow {
    let arg = |v: serde_json::Value| payload::json(&v);
    InitializeWorkflow {
        workflow_type: "OrderWorkflow".into(),
        workflow_id: run_id.into(),
        arguments: vec![
            arg(run_id.into()),
            arg("ORDER_ACTIVITY_Q".into()),
            arg(1.into()),
        ],
        randomness_seed: 7,
        ..Default::default()
    }
}

fn activate(run: &mut Run, run_id: &str, job: Job) -> Vec<WorkflowCommand> {
    let activation = WorkflowActivation {
        run_id: run_id.into(),
        jobs: vec![WorkflowActivationJob { variant: Some(job) }],
        ..Default::default()
    };
    run.activate(&activation)
        .unwrap_or_else(|e| panic!("activation failed: {}", e.0))
}

fn activity_seq(commands: &[WorkflowCommand]) -> u32 {
    match commands.last().and_then(|c| c.variant.as_ref()) {
        Some(Command::ScheduleActivity(a)) => a.seq,
        _ => panic!("an activity is scheduled: {commands:?}"),
    }
}

fn resolved(seq: u32) -> Job {
    let result = payload::json(&serde_json::json!({"status": "created", "amount_cents": 1234}));
    Job::ResolveActivity(ResolveActivity {
        seq,
        result: Some(ActivityResolution {
            status: Some(activity_result::activity_resolution::Status::Completed(
                activity_result::Success {
                    result: Some(result),
                },
            )),
        }),
        ..Default::default()
    })
}
