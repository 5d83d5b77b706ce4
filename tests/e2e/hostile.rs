//! Hostile guests (the `Hostile` type of tests/guests/test-workflows, one
//! act per input; the WAT guests of tests/guests/hostile-limits, which grow
//! a table; the `Grow` activity of tests/guests/sandbox-activities): each
//! fails only its own workflow task or activity, with a message naming the
//! limit it hit, while the host's health endpoint answers within a second,
//! its memory stays bounded, and an OrderWorkflow on the same host
//! completes. Hostile deploy-time code (tests/hostile/*.wat, whose
//! `*-types` export never returns) is refused at its deadline, uploaded or
//! in the config, and stalls nothing meanwhile.

use crate::harness::{Client, Outcome, Weft, event_type, free_port, repo, scratch, wasm};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use temporalio_common::protos::temporal::api::enums::v1::EventType;
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HOSTILE_Q: &str = "HOSTILE_Q";
/// The hostile activities' task queue.
const HOSTILE_ACTIVITY_Q: &str = "HOSTILE_ACTIVITY_Q";
/// Linear memory the hostile activities are granted.
const ACTIVITY_MEMORY_MIB: usize = 32;

/// How long `/healthz` may take to answer while hostile guests run.
const HEALTH_DEADLINE: Duration = Duration::from_secs(1);

/// The host's resident memory may not grow past this while hostile guests
/// run (an idle host holds well under 100 MiB).
const MAX_RSS_KIB: u64 = 512 * 1024;

/// A host serving the hostile guests on two workflow slots, the hostile
/// activities (with [`ACTIVITY_MEMORY_MIB`] of memory), and the
/// OrderWorkflow and its activities beside them, with `/healthz` on `port`.
fn config(port: u16, orders: &Path) -> String {
    let workflows = [wasm("test_workflows"), wasm("hostile_limits_workflow")];
    format!(
        "[metrics]\nlisten = \"127.0.0.1:{port}\"\n\
         [[worker]]\ntask_queue = \"{HOSTILE_Q}\"\nmax_concurrent_workflow_tasks = 2\n\
         workflows = {workflows:?}\n\
         [[worker]]\ntask_queue = \"{HOSTILE_ACTIVITY_Q}\"\n\
         [[worker.activities]]\nmodule = {:?}\nmemory_mib = {ACTIVITY_MEMORY_MIB}\n\
         [[worker.activities]]\nmodule = {:?}\nmemory_mib = {ACTIVITY_MEMORY_MIB}\n\
         [[worker]]\ntask_queue = \"ORDER_WORKFLOW_Q\"\nworkflows = [{:?}]\n\
         [[worker]]\ntask_queue = \"ORDER_ACTIVITY_Q\"\n\
         [[worker.activities]]\nmodule = {:?}\n\
         dirs = [{{ host = {:?}, guest = \"/orders\", writable = true, create = true }}]\n\
         env = {{ ORDER_CURRENCY = \"EUR\" }}\n",
        wasm("sandbox_activities"),
        wasm("hostile_limits_activity"),
        wasm("order_workflow"),
        wasm("order_activities"),
        orders
    )
}

/// `GET /healthz` on `port`: true if it answered 200 within the deadline.
async fn healthy(port: u16) -> bool {
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: weft\r\nConnection: close\r\n\r\n")
            .await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer.starts_with(b"HTTP/1.1 200"))
    };
    matches!(
        tokio::time::timeout(HEALTH_DEADLINE, probe).await,
        Ok(Ok(true))
    )
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Probes `/healthz` and the host's memory until stopped: every probe must
/// answer within [`HEALTH_DEADLINE`]; returns the slowest answer, the
/// number of unanswered probes and the largest RSS seen.
struct Watch {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(Duration, usize, u64)>,
}

impl Watch {
    fn start(port: u16, pid: u32) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let (mut slowest, mut missed, mut rss) = (Duration::ZERO, 0, 0);
            while !flag.load(Ordering::Relaxed) {
                let asked = Instant::now();
                if !healthy(port).await {
                    missed += 1;
                }
                slowest = slowest.max(asked.elapsed());
                rss = rss.max(rss_kib(pid));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            (slowest, missed, rss)
        });
        Watch { stop, task }
    }

    async fn finish(self) -> (Duration, usize, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("watch task")
    }
}

/// Start an OrderWorkflow beside the hostile runs and check it completes.
async fn order_completes(client: &Client, id: &str) {
    client
        .start(id, "OrderWorkflow", "ORDER_WORKFLOW_Q", &[json!(id)])
        .await;
    match client.outcome(id).await {
        Outcome::Completed(result) => {
            assert_eq!(result["charge_payment"]["status"], "charged", "{result}")
        }
        other => panic!("the OrderWorkflow beside hostile guests must complete: {other:?}"),
    }
}

/// A host for hostile act `name` in namespace `e2e-hostile-{name}`, its
/// client, and the watch on its health and memory.
async fn hostile_host(name: &str) -> (Weft, Client, Watch) {
    let dir = scratch(&format!("hostile-{name}"));
    let port = free_port();
    let namespace = format!("e2e-hostile-{name}");
    let weft = Weft::serve(&dir, "weft", &namespace, &config(port, &dir.join("orders")));
    let client = Client::new(&namespace).await;
    let watch = Watch::start(port, weft.pid());
    (weft, client, watch)
}

/// Why the first workflow task of `id` failed. Without the sticky cache,
/// core hands this host one run's activation at a time, so a second
/// hostile run's task can wait past its 10 s timeout on the server while
/// the first runs to its deadline: history then shows a bare
/// `WorkflowTaskTimedOut`, and the host's log says why it gave up.
async fn task_failure(client: &Client, weft: &Weft, id: &str) -> String {
    let event = client
        .wait_event(id, "a failed or timed-out workflow task", |e| {
            matches!(
                event_type(e),
                EventType::WorkflowTaskFailed | EventType::WorkflowTaskTimedOut
            )
        })
        .await;
    match event.attributes {
        Some(Attributes::WorkflowTaskFailedEventAttributes(attrs)) => {
            attrs.failure.map(|f| f.message).unwrap_or_default()
        }
        _ => weft.log_text(),
    }
}

/// Start each hostile act (id, workflow type, input, limit) on its own run;
/// wait for the first failed task of each and check that its message names
/// `limit`.
async fn each_fails_its_task(client: &Client, weft: &Weft, acts: &[(&str, &str, Value, &str)]) {
    for (id, workflow_type, input, _) in acts {
        client
            .start(id, workflow_type, HOSTILE_Q, std::slice::from_ref(input))
            .await;
    }
    for (id, _, _, limit) in acts {
        let message = task_failure(client, weft, id).await;
        assert!(
            message.contains(limit),
            "{id}: the task failure names `{limit}`: {message}"
        );
    }
    for (id, _, _, _) in acts {
        client.terminate(id).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn guests_looping_over_cheap_imports_cannot_stall_the_host() {
    let (weft, client, watch) = hostile_host("threads").await;
    // Both workflow slots of the hostile queue busy with guests that spend
    // their time inside host imports (the reproduced hole: 8 MiB `log`
    // lines), while an unrelated OrderWorkflow runs on the same host.
    let acts = [
        (
            "log-flood",
            "Hostile",
            json!({"do": "log-flood"}),
            "activation deadline",
        ),
        (
            "busy-imports",
            "Hostile",
            json!({"do": "busy-imports"}),
            "activation deadline",
        ),
    ];
    let hostile = each_fails_its_task(&client, &weft, &acts);
    let (_, ()) = tokio::join!(hostile, order_completes(&client, "order-beside-hostile"));
    let (slowest, missed, rss) = watch.finish().await;
    assert_eq!(
        missed, 0,
        "/healthz answers within {HEALTH_DEADLINE:?} (slowest {slowest:?})"
    );
    assert!(
        rss < MAX_RSS_KIB,
        "host RSS stays bounded: {rss} KiB (limit {MAX_RSS_KIB} KiB)"
    );
    // The 8 MiB lines were cut, and their number bounded, in the log.
    let log = weft.log_text();
    assert!(log.len() < 64 << 20, "log is {} bytes", log.len());
    assert!(log.contains("more bytes cut]"), "log lines are cut");
    assert!(
        log.contains("guest log limit"),
        "log lines are rate-limited"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn guests_cannot_make_the_host_hold_unbounded_state() {
    let (weft, client, watch) = hostile_host("imports").await;
    let acts = [
        (
            "timers",
            "Hostile",
            json!({"do": "timers"}),
            "command limit",
        ),
        // Published query answers live in the guest's own memory on the
        // activation world, not the host's: the guest's own limits stop
        // it (encoding 16 MiB answers spends its fuel before its memory
        // reaches the limit).
        (
            "queries",
            "Hostile",
            json!({"do": "queries", "bytes": 16 << 20}),
            "ran out of fuel",
        ),
        (
            "patches",
            "Hostile",
            json!({"do": "patches", "bytes": 1}),
            "patch limit",
        ),
        (
            "big-result",
            "Hostile",
            json!({"do": "big-result", "bytes": 3 << 20}),
            "blob size limit",
        ),
    ];
    let hostile = each_fails_its_task(&client, &weft, &acts);
    let (_, ()) = tokio::join!(hostile, order_completes(&client, "order-beside-floods"));
    let (slowest, missed, rss) = watch.finish().await;
    assert_eq!(
        missed, 0,
        "/healthz answers within {HEALTH_DEADLINE:?} (slowest {slowest:?})"
    );
    assert!(
        rss < MAX_RSS_KIB,
        "host RSS stays bounded: {rss} KiB (limit {MAX_RSS_KIB} KiB)"
    );
}

/// Run each hostile activity act (id, activity type, input, limit) once,
/// through a `RunActivity` workflow without retries, and check that the
/// attempt fails as trapped with a message naming `limit`.
async fn each_activity_fails(client: &Client, acts: &[(&str, &str, Value, &str)]) {
    for (id, activity_type, input, _) in acts {
        let run = json!({
            "activity_type": activity_type,
            "task_queue": HOSTILE_ACTIVITY_Q,
            "args": [input],
            "retry": {"maximum_attempts": 1},
        });
        client.start(id, "RunActivity", HOSTILE_Q, &[run]).await;
    }
    for (id, _, _, limit) in acts {
        match client.outcome(id).await {
            Outcome::Failed {
                message,
                error_type,
            } => {
                assert_eq!(error_type, "ActivityTrapped", "{id}: {message}");
                assert!(
                    message.contains(limit),
                    "{id}: the activity failure names `{limit}`: {message}"
                );
            }
            other => panic!("{id}: the hostile activity must fail its run: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn guests_cannot_grow_tables_or_memory_past_the_store_limits() {
    let (weft, client, watch) = hostile_host("limits").await;
    // The WAT guests' table starts at 1 element and grows 2^16 at a time:
    // the 16th step is the first past 2^20.
    let table = "growing a table to 1048577 elements, more than the table element limit of 1048576";
    let workflow_memory = format!(
        "more than the memory limit of {} bytes",
        weft::workflow::MAX_MEMORY_BYTES
    );
    let activity_memory = format!(
        "more than the memory limit of {} bytes",
        ACTIVITY_MEMORY_MIB << 20
    );
    // Workflows: a table grown 2^16 elements at a time toward 2^31 (WAT),
    // and linear memory grown 1 MiB at a time (Rust, `memory.grow`).
    let workflows = [
        ("grow-table", "HostileTable", json!(null), table),
        (
            "grow-memory",
            "Hostile",
            json!({"do": "grow-memory", "bytes": 1}),
            workflow_memory.as_str(),
        ),
    ];
    // Activities: the same table (WAT), and memory allocated and touched
    // 1 MiB at a time past the grant (`Grow`).
    let activities = [
        ("activity-grow-table", "HostileTable", json!({}), table),
        (
            "activity-grow-memory",
            "Grow",
            json!({"mib": 4 * ACTIVITY_MEMORY_MIB}),
            activity_memory.as_str(),
        ),
    ];
    let (_, _, ()) = tokio::join!(
        each_fails_its_task(&client, &weft, &workflows),
        each_activity_fails(&client, &activities),
        order_completes(&client, "order-beside-growth")
    );
    let (slowest, missed, rss) = watch.finish().await;
    assert_eq!(
        missed, 0,
        "/healthz answers within {HEALTH_DEADLINE:?} (slowest {slowest:?})"
    );
    assert!(
        rss < MAX_RSS_KIB,
        "host RSS stays bounded: {rss} KiB (limit {MAX_RSS_KIB} KiB)"
    );
}

/// How long a `*-types` export may run (the host's `TYPES_DEADLINE`), as
/// its refusals say.
const TYPES_DEADLINE: Duration = Duration::from_secs(5);

/// How long past that deadline a refusal may come: a loaded test machine
/// is slow to start the guest and to answer.
const REFUSAL_MARGIN: Duration = Duration::from_secs(5);

/// tests/hostile/`name`.wat compiled, in `dir`.
fn hostile_component(dir: &Path, name: &str) -> std::path::PathBuf {
    let wat = repo().join(format!("tests/hostile/{name}.wat"));
    let bytes = wat::parse_file(&wat).expect("valid WAT");
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).expect("write component");
    path
}

/// `weft modules` through the admin API answers within [`HEALTH_DEADLINE`]
/// and lists nothing (no upload was accepted).
async fn modules_answer(socket: &Path) {
    let list = async {
        let mut admin = weft::admin::AdminClient::connect(weft::admin::ClientOptions {
            address: format!("unix:{}", socket.display()),
            ..Default::default()
        })
        .await?;
        admin.list().await
    };
    match tokio::time::timeout(HEALTH_DEADLINE, list).await {
        Ok(Ok(names)) => assert!(names.is_empty(), "nothing was stored: {names:?}"),
        Ok(Err(e)) => panic!("the admin API fails while deploy-time code loops: {e}"),
        Err(_) => panic!("the admin API does not answer within {HEALTH_DEADLINE:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_whose_types_export_loops_are_refused_at_the_deadline_and_stall_nothing() {
    let dir = scratch("hostile-types");
    let port = free_port();
    let socket = dir.join("admin.sock");
    let config = format!(
        "[store]\ndir = {:?}\n[admin]\nlisten = \"unix:{}\"\n{}",
        dir.join("store"),
        socket.display(),
        config(port, &dir.join("orders"))
    );
    let weft = Weft::serve(&dir, "weft", "e2e-hostile-types", &config);
    let client = Client::new("e2e-hostile-types").await;
    let watch = Watch::start(port, weft.pid());
    let uploads = [
        ("activity-types-loop", "ORDER_ACTIVITY_Q", "activity"),
        ("workflow-types-loop", HOSTILE_Q, "workflow"),
    ];
    for (name, queue, kind) in uploads {
        let file = hostile_component(&dir, name);
        let started = Instant::now();
        let upload = {
            let (dir, file) = (dir.clone(), file.to_string_lossy().into_owned());
            std::thread::spawn(move || {
                crate::deploy::weft(
                    &dir,
                    "weft",
                    &["deploy", &file, "--name", name, "--task-queue", queue],
                )
            })
        };
        // While the guest loops, the admin API answers (and `/healthz`:
        // the watch).
        let mut probes = 0;
        while !upload.is_finished() {
            modules_answer(&socket).await;
            probes += 1;
            assert!(
                started.elapsed() < TYPES_DEADLINE + REFUSAL_MARGIN,
                "{name}: no refusal after {:?}",
                started.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (ok, out, err) = upload.join().expect("deploy thread");
        let took = started.elapsed();
        assert!(!ok, "{name} is refused:\n{out}");
        assert!(
            err.contains(&format!("{kind}-types did not return within 5s")),
            "{name}: the refusal names the deadline: {err}"
        );
        assert!(
            took < TYPES_DEADLINE + REFUSAL_MARGIN,
            "{name}: refused within the deadline and a margin, not after {took:?}"
        );
        assert!(
            probes > 0,
            "{name}: the admin API was asked while it looped"
        );
        modules_answer(&socket).await;
    }
    order_completes(&client, "order-after-looping-types").await;
    let (slowest, missed, _) = watch.finish().await;
    assert_eq!(
        missed, 0,
        "/healthz answers within {HEALTH_DEADLINE:?} (slowest {slowest:?})"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_whose_config_has_a_looping_types_export_fails_to_start_and_says_why() {
    let dir = scratch("hostile-types-config");
    let activity = hostile_component(&dir, "activity-types-loop");
    let workflow = hostile_component(&dir, "workflow-types-loop");
    let configs = [
        (
            "activity",
            format!(
                "[[worker]]\ntask_queue = \"LOOP_Q\"\n[[worker.activities]]\nmodule = {activity:?}\n"
            ),
        ),
        (
            "workflow",
            format!("[[worker]]\ntask_queue = \"LOOP_Q\"\nworkflows = [{workflow:?}]\n"),
        ),
    ];
    let mut hosts: Vec<_> = configs
        .iter()
        .map(|(kind, config)| {
            let host = Weft::start_with_env(&dir, kind, "e2e-hostile-types", config, &[]);
            (*kind, host)
        })
        .collect();
    for (kind, host) in &mut hosts {
        // Startup compiles the module first: a cold compile cache is slow
        // on a loaded machine, so the margin is wider than an upload's.
        let status = host.wait_exit(TYPES_DEADLINE + Duration::from_secs(60));
        let log = host.log_text();
        let status = status.unwrap_or_else(|| panic!("the {kind} host still runs:\n{log}"));
        assert!(!status.success(), "the {kind} host must not start:\n{log}");
        assert!(
            log.contains(&format!("{kind}-types did not return within 5s")),
            "the {kind} host says why: {log}"
        );
        assert!(!log.contains("weft is serving"), "{log}");
    }
}
