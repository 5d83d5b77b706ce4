//! What every end-to-end test needs: one real Temporal dev server per test
//! binary (each test in its own namespace), `weft` host processes, guest
//! components built from source, and a Temporal client.

use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use temporalio_client::{Connection, ConnectionOptions};
use temporalio_common::protos::temporal::api::common::v1::{
    Payload, Payloads, WorkflowExecution, WorkflowType,
};
use temporalio_common::protos::temporal::api::enums::v1::{
    EventType, HistoryEventFilterType, PendingActivityState, TaskQueueKind,
};
use temporalio_common::protos::temporal::api::failure::v1::{Failure, failure::FailureInfo};
use temporalio_common::protos::temporal::api::history::v1::{
    HistoryEvent, history_event::Attributes,
};
use temporalio_common::protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_common::protos::temporal::api::workflowservice::v1::{
    DescribeWorkflowExecutionRequest, GetWorkflowExecutionHistoryRequest,
    StartWorkflowExecutionRequest, TerminateWorkflowExecutionRequest,
};

/// How long a test waits for a condition before failing.
pub(crate) const DEADLINE: Duration = Duration::from_secs(90);
/// How long a host may take to load its modules and start polling.
const STARTUP_DEADLINE: Duration = Duration::from_secs(600);

/// The namespaces the shared dev server creates: one per test, so tests that
/// use the same task queue names (the OrderWorkflow's) never see each other's
/// tasks.
pub(crate) const NAMESPACES: &[&str] = &[
    "e2e-mixed",
    "e2e-split",
    "e2e-kill",
    "e2e-cli",
    "e2e-activation",
    "e2e-blocking",
    "e2e-sandbox",
    "e2e-trap",
    "e2e-timeout",
    "e2e-signals",
    "e2e-cancel",
    "e2e-race",
    "e2e-retry",
    "e2e-continue",
    "e2e-replay",
    "e2e-resume",
    "e2e-caps-instances",
    "e2e-poly-rust",
    "e2e-poly-c",
    "e2e-poly-zig",
    "e2e-poly-python",
    "e2e-python-sdk",
    "e2e-python-tour",
    "e2e-poly-js",
    "e2e-poly-temporal",
    "e2e-temporal-deploy",
    "e2e-temporal-sdk",
    "e2e-temporal-trap",
    "e2e-js-sdk",
    "e2e-interop",
    "e2e-compat-python",
    "e2e-compile-cache",
    "e2e-patch",
    "e2e-upsert",
    "e2e-nondeterminism",
    "e2e-children",
    "e2e-updates",
    "e2e-handlers",
    "e2e-local",
    "e2e-caps-denied",
    "e2e-caps-http",
    "e2e-caps-secret",
    "e2e-caps-socket",
    "e2e-caps-quota",
    "e2e-caps-output",
    "e2e-sdk-interop",
    "e2e-sdk-compat-ts",
    "e2e-deploy-pin",
    "e2e-deploy-gate",
    "e2e-deploy-bad",
    "e2e-deploy-token",
    "e2e-deploy-fleet",
    "e2e-deploy-mtls",
    "e2e-deploy-config",
    "e2e-cancel-types",
    "e2e-activity-timeouts",
    "e2e-activity-failures",
    "e2e-fail",
    "e2e-fanout",
    "e2e-parent-close",
    "e2e-clock",
    "e2e-query-restart",
    "e2e-patch-replay",
    "e2e-tls",
    "e2e-mtls",
    "e2e-api-key",
    "e2e-metrics",
    "e2e-shutdown",
    "e2e-hostile-threads",
    "e2e-hostile-imports",
    "e2e-hostile-limits",
    "e2e-hostile-types",
];

/// The shared dev server.
pub(crate) struct Server {
    /// `127.0.0.1:port` of its frontend.
    pub address: String,
    /// Keeps the watchdog's stdin open: when this process exits, however it
    /// exits, the pipe closes and the watchdog stops the server.
    _lifeline: ChildStdin,
    /// The watchdog shell; it outlives the tests by design.
    _watchdog: Child,
}

/// The repository root.
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `temporal` CLI binary.
pub(crate) fn temporal_bin() -> String {
    std::env::var("WEFT_TEMPORAL_BIN").unwrap_or_else(|_| "temporal".into())
}

/// A guest component built by `cargo xtask guests`.
pub(crate) fn wasm(name: &str) -> PathBuf {
    let path = repo().join("target/wasm").join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: build the guests with `cargo xtask guests`",
        path.display()
    );
    path
}

/// A TCP port nothing listens on now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Wait until `check` returns `Some`, or fail after [`DEADLINE`].
pub(crate) fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The dev server shared by this test binary, started on first use.
pub(crate) fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let port = free_port();
        let mut args = format!(
            "{} server start-dev --headless --ip 127.0.0.1 --port {port} --log-level error \
             --search-attribute CustomerId=Keyword",
            temporal_bin()
        );
        for ns in NAMESPACES {
            args.push_str(&format!(" --namespace {ns}"));
        }
        // The watchdog shell starts the server, then blocks reading stdin;
        // EOF means this test binary is gone, so it stops the server.
        let script = format!("{args} & pid=$!; read _ ; kill $pid; wait $pid");
        let log = std::fs::File::create(repo().join("target/e2e-temporal.log"))
            .expect("dev server log file");
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start the Temporal dev server (is `temporal` installed?)");
        let lifeline = child.stdin.take().expect("watchdog stdin");
        let address = format!("127.0.0.1:{port}");
        wait_healthy(&address);
        Server {
            address,
            _lifeline: lifeline,
            _watchdog: child,
        }
    })
}

/// Wait until the dev server at `address` answers its health check (its
/// port opens before the frontend is ready).
pub(crate) fn wait_healthy(address: &str) {
    wait_for("the Temporal dev server to be healthy", || {
        TcpStream::connect(address).ok()?;
        let health = Command::new(temporal_bin())
            .args(["operator", "cluster", "health", "--address", address])
            .output()
            .ok()?;
        String::from_utf8_lossy(&health.stdout)
            .contains("SERVING")
            .then_some(())
    });
}

/// A `weft` process serving a config; killed when dropped.
pub(crate) struct Weft {
    child: Child,
    /// Its log file.
    pub log: PathBuf,
}

impl Weft {
    /// Write `config` into `dir` and start `weft serve` on it.
    ///
    /// With `WEFT_E2E_MAX_CACHED=N` in the environment every worker gets
    /// `max_cached_workflows = N`: `0` makes every workflow task replay the
    /// whole history, and the suite must pass that way too.
    pub(crate) fn serve(dir: &Path, name: &str, namespace: &str, config: &str) -> Weft {
        Weft::serve_with_env(dir, name, namespace, config, &[])
    }

    /// [`Weft::serve`] with extra variables in the process's environment
    /// (secrets read `from_env`, `WEFT_LOG_FORMAT`, ...).
    pub(crate) fn serve_with_env(
        dir: &Path,
        name: &str,
        namespace: &str,
        config: &str,
        env: &[(&str, &str)],
    ) -> Weft {
        let mut weft = Weft::start_with_env(dir, name, namespace, config, env);
        weft.wait_serving();
        weft
    }

    /// [`Weft::serve_with_env`] without waiting for the host to serve: for
    /// a host that must fail at start.
    pub(crate) fn start_with_env(
        dir: &Path,
        name: &str,
        namespace: &str,
        config: &str,
        env: &[(&str, &str)],
    ) -> Weft {
        let config = match std::env::var("WEFT_E2E_MAX_CACHED") {
            Ok(n) if !n.is_empty() && !config.contains("max_cached_workflows") => config.replace(
                "[[worker]]\n",
                &format!("[[worker]]\nmax_cached_workflows = {n}\n"),
            ),
            _ => config.to_owned(),
        };
        let config_path = dir.join(format!("{name}.toml"));
        std::fs::write(&config_path, config).expect("write config");
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_weft"))
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .env("TEMPORAL_ADDRESS", &server().address)
            .env("TEMPORAL_NAMESPACE", namespace)
            .env("WEFT_CACHE_DIR", compile_cache())
            .env("RUST_LOG", "info,temporalio_sdk_core=warn")
            .envs(env.iter().copied())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("start weft");
        Weft { child, log }
    }

    /// Wait until the host has loaded its modules and polls. Python and
    /// JavaScript components take tens of seconds to compile on a busy
    /// machine when the compiled-component cache is cold, so startup has
    /// its own, longer deadline; the tests' deadlines start after it.
    fn wait_serving(&mut self) {
        let deadline = Instant::now() + STARTUP_DEADLINE;
        while !self.log_text().contains("weft is serving") {
            assert!(
                self.is_running(),
                "weft exited before serving:\n{}",
                self.log_text()
            );
            assert!(
                Instant::now() < deadline,
                "weft did not start serving within {STARTUP_DEADLINE:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The process id (to read its memory in /proc).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kill the process with SIGKILL: no shutdown, no goodbye to Temporal.
    pub(crate) fn kill9(&mut self) {
        self.child.kill().expect("kill -9 weft");
        let _ = self.child.wait();
    }

    /// Ask the process to stop, as an orchestrator does: SIGTERM.
    pub(crate) fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {} failed", self.child.id());
    }

    /// Wait up to `within` for the process to exit; its exit status, or
    /// `None` if it still runs.
    pub(crate) fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for weft") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// True while the process runs.
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The log so far.
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Weft {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python that has the official Temporal SDK (`WEFT_PYTHON`, else
/// `python3`); fails the test with the fix if the SDK is missing.
pub(crate) fn python_with_temporalio() -> String {
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
    python
}

/// Runs a test script that talks to `weft` (`script` names it in messages)
/// until it exits or `deadline` passes, its output in files under `dir`.
/// Asserts that it succeeded and printed a line starting with each of
/// `expected`; on failure the message carries its output and weft's log.
/// Returns its stdout.
pub(crate) fn run_script(
    script: &str,
    mut command: Command,
    dir: &Path,
    weft: &Weft,
    deadline: Duration,
    expected: &[String],
) -> String {
    let stdout_path = dir.join(format!("{script}.stdout"));
    let stderr_path = dir.join(format!("{script}.stderr"));
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("start {script}: {e}"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the script") {
            break Some(status);
        }
        if started.elapsed() > deadline {
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
            "\n--- {script} stdout\n{stdout}\n--- {script} stderr\n{stderr}\n\
             --- weft log ({})\n{}",
            weft.log.display(),
            weft.log_text()
        )
    };
    match status {
        None => panic!("{script} did not finish within {deadline:?}{}", report()),
        Some(status) => assert!(status.success(), "{script} failed ({status}){}", report()),
    }
    for line in expected {
        assert!(
            stdout.lines().any(|l| l.starts_with(line.as_str())),
            "{script} did not print {line:?}{}",
            report()
        );
    }
    eprintln!("{stdout}{script} took {:?}", started.elapsed());
    stdout
}

/// The compiled-component cache the test processes share (the big Python
/// and JavaScript components compile once per suite run, not per test).
pub(crate) fn compile_cache() -> PathBuf {
    repo().join("target/e2e/cache")
}

/// A scratch directory for one test, under target/.
pub(crate) fn scratch(test: &str) -> PathBuf {
    let dir = repo().join("target/e2e").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A JSON payload in the cross-SDK converter format.
pub(crate) fn json_payload(v: &Value) -> Payload {
    Payload {
        metadata: [("encoding".to_owned(), b"json/plain".to_vec())].into(),
        data: v.to_string().into_bytes(),
        ..Default::default()
    }
}

/// A Temporal client for one namespace.
pub(crate) struct Client {
    connection: Connection,
    namespace: String,
}

/// How a workflow ended.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    /// Completed with this JSON result.
    Completed(Value),
    /// Failed with this message and application error type.
    Failed { message: String, error_type: String },
    /// Ended as cancelled.
    Cancelled,
}

impl Client {
    /// Connect to the shared server.
    pub(crate) async fn new(namespace: &str) -> Client {
        Client::connect(&server().address, namespace).await
    }

    /// Connect to the server at `address` (`host:port`), for a test that
    /// runs a server of its own.
    pub(crate) async fn connect(address: &str, namespace: &str) -> Client {
        let url = format!("http://{address}");
        let options = ConnectionOptions::new(url.parse::<temporalio_client::Url>().expect("url"))
            .identity("weft-e2e".to_owned())
            .build();
        let connection = Connection::connect(options)
            .await
            .expect("connect to Temporal");
        Client {
            connection,
            namespace: namespace.to_owned(),
        }
    }

    /// Start a workflow with JSON arguments.
    pub(crate) async fn start(
        &self,
        id: &str,
        workflow_type: &str,
        task_queue: &str,
        args: &[Value],
    ) {
        self.send_start(self.start_request(id, workflow_type, task_queue, args))
            .await;
    }

    /// Start a workflow whose tasks may each take a minute (Temporal's
    /// default is 10 s): for a guest that burns a whole activation's fuel,
    /// which a loaded machine may take longer than 10 s to do.
    pub(crate) async fn start_with_long_tasks(
        &self,
        id: &str,
        workflow_type: &str,
        task_queue: &str,
    ) {
        let request = StartWorkflowExecutionRequest {
            workflow_task_timeout: Some(prost_wkt_types::Duration {
                seconds: 60,
                nanos: 0,
            }),
            ..self.start_request(id, workflow_type, task_queue, &[])
        };
        self.send_start(request).await;
    }

    /// The request that starts workflow `id` with JSON arguments.
    fn start_request(
        &self,
        id: &str,
        workflow_type: &str,
        task_queue: &str,
        args: &[Value],
    ) -> StartWorkflowExecutionRequest {
        StartWorkflowExecutionRequest {
            namespace: self.namespace.clone(),
            workflow_id: id.to_owned(),
            workflow_type: Some(WorkflowType {
                name: workflow_type.to_owned(),
            }),
            task_queue: Some(TaskQueue {
                name: task_queue.to_owned(),
                kind: TaskQueueKind::Normal as i32,
                ..Default::default()
            }),
            input: Some(Payloads {
                payloads: args.iter().map(json_payload).collect(),
            }),
            // A bound for runs a failed test leaves open, well past any
            // test's own waits (host restarts may be slow on a loaded box).
            workflow_execution_timeout: Some(prost_wkt_types::Duration {
                seconds: 600,
                nanos: 0,
            }),
            request_id: format!("{id}-{}", std::process::id()),
            identity: "weft-e2e".to_owned(),
            ..Default::default()
        }
    }

    /// Send a start request.
    async fn send_start(&self, request: StartWorkflowExecutionRequest) {
        self.connection
            .workflow_service()
            .start_workflow_execution(tonic::Request::new(request))
            .await
            .expect("start workflow");
    }

    /// Wait until a worker has picked up an activity of the workflow.
    pub(crate) async fn wait_activity_started(&self, id: &str) {
        eventually(&format!("an activity of {id} to start"), async || {
            let request = DescribeWorkflowExecutionRequest {
                namespace: self.namespace.clone(),
                execution: latest(id),
            };
            let described = self
                .connection
                .workflow_service()
                .describe_workflow_execution(tonic::Request::new(request))
                .await
                .expect("describe workflow")
                .into_inner();
            described
                .pending_activities
                .iter()
                .any(|a| a.state() == PendingActivityState::Started)
                .then_some(())
        })
        .await
    }

    /// The workflow's history so far.
    pub(crate) async fn history(&self, id: &str) -> Vec<HistoryEvent> {
        let mut events = Vec::new();
        let mut next_page_token = Vec::new();
        loop {
            let request = GetWorkflowExecutionHistoryRequest {
                namespace: self.namespace.clone(),
                execution: latest(id),
                next_page_token: next_page_token.clone(),
                ..Default::default()
            };
            let page = self
                .connection
                .workflow_service()
                .get_workflow_execution_history(tonic::Request::new(request))
                .await
                .expect("get history")
                .into_inner();
            events.extend(page.history.map(|h| h.events).unwrap_or_default());
            if page.next_page_token.is_empty() {
                return events;
            }
            next_page_token = page.next_page_token;
        }
    }

    /// Wait until the history holds an event matching `pred`; return it.
    pub(crate) async fn wait_event(
        &self,
        id: &str,
        what: &str,
        pred: impl Fn(&HistoryEvent) -> bool,
    ) -> HistoryEvent {
        eventually(&format!("{what} in {id}"), async || {
            self.history(id).await.into_iter().find(|e| pred(e))
        })
        .await
    }

    /// Wait for the workflow to close and return how it ended.
    pub(crate) async fn outcome(&self, id: &str) -> Outcome {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let request = GetWorkflowExecutionHistoryRequest {
                namespace: self.namespace.clone(),
                execution: latest(id),
                wait_new_event: true,
                history_event_filter_type: HistoryEventFilterType::CloseEvent as i32,
                ..Default::default()
            };
            let response = tokio::time::timeout(
                Duration::from_secs(10),
                self.connection
                    .workflow_service()
                    .get_workflow_execution_history(tonic::Request::new(request)),
            )
            .await;
            let event = response
                .ok()
                .and_then(|r| r.ok())
                .and_then(|r| r.into_inner().history)
                .and_then(|h| h.events.into_iter().next());
            match event.and_then(|e| e.attributes) {
                Some(Attributes::WorkflowExecutionCompletedEventAttributes(a)) => {
                    let payload = a
                        .result
                        .and_then(|p| p.payloads.into_iter().next())
                        .expect("a result");
                    assert_eq!(
                        payload.metadata["encoding"], b"json/plain",
                        "result is JSON"
                    );
                    return Outcome::Completed(
                        serde_json::from_slice(&payload.data).expect("JSON result"),
                    );
                }
                Some(Attributes::WorkflowExecutionFailedEventAttributes(a)) => {
                    let mut f = a.failure.expect("a failure");
                    while let Some(cause) = f.cause.take() {
                        f = *cause;
                    }
                    let error_type = match f.failure_info {
                        Some(FailureInfo::ApplicationFailureInfo(i)) => i.r#type,
                        _ => String::new(),
                    };
                    return Outcome::Failed {
                        message: f.message,
                        error_type,
                    };
                }
                Some(Attributes::WorkflowExecutionCanceledEventAttributes(_)) => {
                    return Outcome::Cancelled;
                }
                // The next run of the chain is now the latest: wait for it.
                Some(Attributes::WorkflowExecutionContinuedAsNewEventAttributes(_)) => {}
                Some(other) => panic!("workflow {id} closed unexpectedly: {other:?}"),
                None => {}
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {id} to close"
            );
        }
    }

    /// The failure a failed workflow closed with, unwrapped to its innermost
    /// cause (an activity's or child's failure, or the guest's own).
    pub(crate) async fn failure(&self, id: &str) -> AppFailure {
        let failure = self
            .history(id)
            .await
            .into_iter()
            .find_map(|e| match e.attributes {
                Some(Attributes::WorkflowExecutionFailedEventAttributes(a)) => a.failure,
                _ => None,
            })
            .unwrap_or_else(|| panic!("workflow {id} has not failed"));
        AppFailure::innermost(failure)
    }

    /// Terminate a workflow (cleanup of tests whose workflow never ends).
    pub(crate) async fn terminate(&self, id: &str) {
        let request = TerminateWorkflowExecutionRequest {
            namespace: self.namespace.clone(),
            workflow_execution: latest(id),
            reason: "test over".into(),
            ..Default::default()
        };
        let _ = self
            .connection
            .workflow_service()
            .terminate_workflow_execution(tonic::Request::new(request))
            .await;
    }
}

/// Ask `check` until it gives a value; fail after [`DEADLINE`].
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The latest run of workflow `id`.
fn latest(id: &str) -> Option<WorkflowExecution> {
    Some(WorkflowExecution {
        workflow_id: id.to_owned(),
        run_id: String::new(),
    })
}

/// A Temporal failure as an SDK reads it: the fields of its
/// `ApplicationFailureInfo`, with JSON details decoded.
#[derive(Debug, PartialEq)]
pub(crate) struct AppFailure {
    /// The failure's message.
    pub message: String,
    /// The application error type (empty for timeouts and cancellations).
    pub error_type: String,
    /// Whether Temporal may retry it.
    pub non_retryable: bool,
    /// Its details, each a JSON value.
    pub details: Vec<Value>,
}

impl AppFailure {
    /// The innermost cause of `failure`.
    pub(crate) fn innermost(mut failure: Failure) -> AppFailure {
        while let Some(cause) = failure.cause.take() {
            failure = *cause;
        }
        let (error_type, non_retryable, details) = match failure.failure_info {
            Some(FailureInfo::ApplicationFailureInfo(i)) => (
                i.r#type,
                i.non_retryable,
                i.details.map(|d| d.payloads).unwrap_or_default(),
            ),
            _ => (String::new(), false, Vec::new()),
        };
        let details = details
            .iter()
            .map(|p| serde_json::from_slice(&p.data).expect("JSON details"))
            .collect();
        AppFailure {
            message: failure.message,
            error_type,
            non_retryable,
            details,
        }
    }
}

/// Run the `temporal` CLI against the shared server; its stdout, or its
/// stderr when it fails.
pub(crate) fn try_temporal_cli(namespace: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(temporal_bin())
        .args(args)
        .args(["--address", &server().address, "--namespace", namespace])
        .output()
        .expect("run the temporal CLI");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    if out.status.success() {
        Ok(text(out.stdout))
    } else {
        Err(text(out.stderr))
    }
}

/// Run the `temporal` CLI against the shared server; returns its stdout.
pub(crate) fn temporal_cli(namespace: &str, args: &[&str]) -> String {
    try_temporal_cli(namespace, args).unwrap_or_else(|e| panic!("temporal {args:?} failed: {e}"))
}

/// Send signal `name` (with JSON `input`, if any) to workflow `id`, with the
/// `temporal` CLI as any client would.
pub(crate) fn signal(namespace: &str, id: &str, name: &str, input: Option<&str>) {
    let mut args = vec!["workflow", "signal", "--workflow-id", id, "--name", name];
    if let Some(input) = input {
        args.extend(["--input", input]);
    }
    temporal_cli(namespace, &args);
}

/// Execute update `name` of workflow `id` with JSON `input`, with the
/// `temporal` CLI as any client would; waits for the update's outcome.
pub(crate) fn update(namespace: &str, id: &str, name: &str, input: &str) -> Result<String, String> {
    let args = [
        "workflow",
        "update",
        "execute",
        "--workflow-id",
        id,
        "--name",
        name,
        "--input",
        input,
    ];
    try_temporal_cli(namespace, &args)
}

/// True when `history` holds an event of type `ty`.
pub(crate) fn has_event(history: &[HistoryEvent], ty: EventType) -> bool {
    history.iter().any(|e| event_type(e) == ty)
}

/// How many events of type `ty` `history` holds.
pub(crate) fn count_events(history: &[HistoryEvent], ty: EventType) -> usize {
    history.iter().filter(|e| event_type(e) == ty).count()
}

/// When an event happened, in ms since the epoch (as workflow time counts).
pub(crate) fn event_millis(e: &HistoryEvent) -> u64 {
    let t = e.event_time.as_ref().expect("event time");
    t.seconds as u64 * 1000 + t.nanos as u64 / 1_000_000
}

/// The event type of a history event.
pub(crate) fn event_type(e: &HistoryEvent) -> EventType {
    EventType::try_from(e.event_type).unwrap_or(EventType::Unspecified)
}

/// Run openssl; fail the test with its stderr if it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// In `dir`: a CA (`{ca}.pem`, `{ca}.key`), and for each leaf a key
/// (`{leaf}.key`) and a certificate (`{leaf}.pem`) the CA signed with the
/// leaf's `extensions` (an openssl extfile, e.g. its subjectAltName).
pub(crate) fn certificates(dir: &Path, ca: &str, leaves: &[(&str, &str)]) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut args = vec!["req", "-x509", "-days", "1", "-subj"];
    let subject = format!("/CN={ca}");
    let (key, pem) = (format!("{ca}.key"), format!("{ca}.pem"));
    args.extend([subject.as_str(), "-keyout", &key, "-out", &pem]);
    args.extend(ec);
    openssl(dir, &args);
    for (leaf, extensions) in leaves {
        let ext = format!("{leaf}.ext");
        std::fs::write(dir.join(&ext), extensions).expect("write");
        let (leaf_key, csr, leaf_pem) = (
            format!("{leaf}.key"),
            format!("{leaf}.csr"),
            format!("{leaf}.pem"),
        );
        let subject = format!("/CN={leaf}");
        let mut args = vec!["req", "-subj", &subject, "-keyout", &leaf_key, "-out", &csr];
        args.extend(ec);
        openssl(dir, &args);
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-days",
                "1",
                "-in",
                &csr,
                "-CA",
                &pem,
                "-CAkey",
                &key,
                "-CAcreateserial",
                "-out",
                &leaf_pem,
                "-extfile",
                &ext,
            ],
        );
    }
}
