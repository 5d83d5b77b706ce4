//! What every end-to-end test needs: one real Temporal dev server per test
//! binary (each test in its own namespace, created the first time a test
//! names it), `weft` host processes and CLI runs, guest components built
//! from source, a Temporal client, and one way to wait: a condition polled
//! until a deadline ([`poll`]).

use serde_json::Value;
use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};
use temporalio_client::{Connection, ConnectionOptions};
use temporalio_common::protos::temporal::api::common::v1::{
    Payload, Payloads, WorkflowExecution, WorkflowType,
};
use temporalio_common::protos::temporal::api::enums::v1::{
    EventType, HistoryEventFilterType, IndexedValueType, PendingActivityState, TaskQueueKind,
};
use temporalio_common::protos::temporal::api::failure::v1::{Failure, failure::FailureInfo};
use temporalio_common::protos::temporal::api::history::v1::{
    HistoryEvent, history_event::Attributes,
};
use temporalio_common::protos::temporal::api::operatorservice::v1::AddSearchAttributesRequest;
use temporalio_common::protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_common::protos::temporal::api::workflowservice::v1::{
    DescribeWorkflowExecutionRequest, GetWorkflowExecutionHistoryRequest,
    ListWorkflowExecutionsRequest, RegisterNamespaceRequest, StartWorkflowExecutionRequest,
    TerminateWorkflowExecutionRequest,
};

/// How long a test waits for a condition before failing.
pub(crate) const DEADLINE: Duration = Duration::from_secs(90);
/// How long a host may take to load its modules and start polling.
const STARTUP_DEADLINE: Duration = Duration::from_secs(600);
/// How often [`poll`] asks its condition.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

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
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// weft's binary: `WEFT_BIN`, else the one `cargo build --workspace` leaves in
/// this test binary's target dir (cargo gives `CARGO_BIN_EXE_*` only to a
/// package's own tests, and this suite is a package of its own).
pub(crate) fn weft_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("WEFT_BIN") {
            return PathBuf::from(bin);
        }
        // This binary is <target>/<profile>/deps/e2e-<hash>.
        let exe = std::env::current_exe().expect("the test binary's path");
        let bin = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>/deps")
            .join(format!("weft{}", std::env::consts::EXE_SUFFIX));
        let built = std::fs::metadata(&bin)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e}: build it with `cargo build --workspace` (or set WEFT_BIN)",
                    bin.display()
                )
            });
        // Not a stale binary: cargo rebuilds it only when asked to.
        let source = repo().join("host/src");
        assert!(
            newest(&source) <= built,
            "{} is older than {}: rebuild it with `cargo build --workspace`",
            bin.display(),
            source.display()
        );
        bin
    })
    .clone()
}

/// When the newest file under `dir` was modified.
fn newest(dir: &Path) -> std::time::SystemTime {
    let mut latest = std::time::SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        let modified = if path.is_dir() {
            newest(&path)
        } else {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(latest)
        };
        latest = latest.max(modified);
    }
    latest
}

/// A `weft` command: the binary under test, with the suite's shared
/// compiled-component cache and no admin address from the environment.
pub(crate) fn weft_command() -> Command {
    let mut command = Command::new(weft_bin());
    command
        .env("WEFT_CACHE_DIR", compile_cache())
        .env_remove("WEFT_ADMIN");
    command
}

/// Run `weft args...` to its end; (success, stdout, stderr).
pub(crate) fn weft_cli(args: &[&str]) -> (bool, String, String) {
    let mut command = weft_command();
    command.args(args).env("NO_COLOR", "1");
    run(command)
}

/// Run a command to its end; (success, stdout, stderr).
pub(crate) fn run(mut command: Command) -> (bool, String, String) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("run {command:?}: {e}"));
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (out.status.success(), text(out.stdout), text(out.stderr))
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

/// Ask `check` every [`POLL_INTERVAL`] until it gives a value or `within`
/// has passed (`None`): the one waiting loop of the suite.
pub(crate) fn poll<T>(within: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Wait until `check` returns `Some`, or fail after [`DEADLINE`].
pub(crate) fn wait_for<T>(what: &str, check: impl FnMut() -> Option<T>) -> T {
    poll(DEADLINE, check).unwrap_or_else(|| panic!("timed out waiting for {what}"))
}

/// [`wait_for`] from an async test: the same loop, awaiting `check` and
/// sleeping without blocking, so the branches of a `join!` wait together.
pub(crate) async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// The dev server shared by this test binary, started on first use.
pub(crate) fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let port = free_port();
        let args = format!(
            "{} server start-dev --headless --ip 127.0.0.1 --port {port} --log-level error \
             --search-attribute CustomerId=Keyword",
            temporal_bin()
        );
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

/// Namespace `name` on the shared server, created (with the `CustomerId`
/// search attribute the default namespace has) the first time a test asks
/// for it, once usable; so each test names its own namespace and no list
/// has to be kept. Every entry to the shared server calls it.
pub(crate) fn namespace(name: &str) -> &str {
    static CREATED: OnceLock<Mutex<HashMap<String, Arc<OnceLock<()>>>>> = OnceLock::new();
    let once = CREATED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(name.to_owned())
        .or_default()
        .clone();
    // Only this namespace's creation is waited for, not the others'. On a
    // thread and runtime of its own: callers are sync code and async tests.
    once.get_or_init(|| {
        let name = name.to_owned();
        std::thread::spawn(move || create_namespace(&name))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    name
}

/// Register namespace `name` and its search attribute through the gRPC API
/// (a `temporal` CLI call costs a third of a second each), then wait until
/// the frontend serves it.
fn create_namespace(name: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let client = runtime.block_on(Client::connect(&server().address, name));
    let done = |what: &str, result: Result<(), tonic::Status>| {
        if let Err(status) = result {
            assert!(
                status.code() == tonic::Code::AlreadyExists,
                "{what} of namespace {name}: {status}"
            );
        }
    };
    let register = RegisterNamespaceRequest {
        namespace: name.to_owned(),
        workflow_execution_retention_period: Some(prost_wkt_types::Duration {
            seconds: 24 * 3600,
            nanos: 0,
        }),
        ..Default::default()
    };
    let registered = runtime.block_on(
        client
            .connection
            .workflow_service()
            .register_namespace(tonic::Request::new(register)),
    );
    done("registration", registered.map(drop));
    let attributes = AddSearchAttributesRequest {
        search_attributes: [("CustomerId".to_owned(), IndexedValueType::Keyword as i32)].into(),
        namespace: name.to_owned(),
    };
    let added = runtime.block_on(
        client
            .connection
            .operator_service()
            .add_search_attributes(tonic::Request::new(attributes)),
    );
    done("the search attribute", added.map(drop));
    wait_for(&format!("namespace {name} to be usable"), || {
        let list = ListWorkflowExecutionsRequest {
            namespace: name.to_owned(),
            page_size: 1,
            ..Default::default()
        };
        runtime
            .block_on(
                client
                    .connection
                    .workflow_service()
                    .list_workflow_executions(tonic::Request::new(list)),
            )
            .ok()
    });
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
        let child = weft_command()
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .env("TEMPORAL_ADDRESS", &server().address)
            .env("TEMPORAL_NAMESPACE", self::namespace(namespace))
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
        let serving = poll(STARTUP_DEADLINE, || {
            let log = self.log_text();
            assert!(self.is_running(), "weft exited before serving:\n{log}");
            log.contains("weft is serving").then_some(())
        });
        assert!(
            serving.is_some(),
            "weft did not start serving within {STARTUP_DEADLINE:?}:\n{}",
            self.log_text()
        );
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
        poll(within, || self.child.try_wait().expect("wait for weft"))
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
    let status = poll(deadline, || child.try_wait().expect("wait for the script"));
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
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
        Client::connect(&server().address, self::namespace(namespace)).await
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
        eventually(&format!("{id} to close"), async || {
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
                    Some(Outcome::Completed(
                        serde_json::from_slice(&payload.data).expect("JSON result"),
                    ))
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
                    Some(Outcome::Failed {
                        message: f.message,
                        error_type,
                    })
                }
                Some(Attributes::WorkflowExecutionCanceledEventAttributes(_)) => {
                    Some(Outcome::Cancelled)
                }
                // The next run of the chain is now the latest: wait for it.
                Some(Attributes::WorkflowExecutionContinuedAsNewEventAttributes(_)) | None => None,
                Some(other) => panic!("workflow {id} closed unexpectedly: {other:?}"),
            }
        })
        .await
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

/// Run the `temporal` CLI against namespace `namespace` of the shared
/// server; (success, stdout, stderr).
pub(crate) fn temporal(namespace: &str, args: &[&str]) -> (bool, String, String) {
    let mut command = Command::new(temporal_bin());
    command.args(args).args([
        "--address",
        &server().address,
        "--namespace",
        self::namespace(namespace),
    ]);
    run(command)
}

/// Run the `temporal` CLI against the shared server; its stdout, or its
/// stderr when it fails.
pub(crate) fn try_temporal_cli(namespace: &str, args: &[&str]) -> Result<String, String> {
    match temporal(namespace, args) {
        (true, stdout, _) => Ok(stdout),
        (false, _, stderr) => Err(stderr),
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
