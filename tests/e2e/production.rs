//! Production set-ups: TLS, mTLS and API keys through a TLS-terminating
//! gRPC proxy in front of the dev server (also set through Temporal's
//! standard `TEMPORAL_*` environment), a Temporal server restarted under a
//! running host, the Prometheus and health endpoints, graceful shutdown on
//! SIGTERM, and `weft --version`.

use crate::exposition::Scrape;
use crate::harness::{
    AppFailure, Client, DEADLINE, Outcome, Weft, certificates, count_events, event_type, free_port,
    repo, scratch, server, temporal_bin, wait_for, wait_healthy, wasm,
};
use crate::order::{ACTIVITY_Q, WORKFLOW_Q, activity_worker, assert_order_done, workflow_worker};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use temporalio_common::protos::temporal::api::enums::v1::EventType;
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;

/// What the proxy asks of a client besides speaking TLS.
#[derive(Clone, Copy)]
enum Gate {
    /// Nothing: server-side TLS only.
    Tls,
    /// A certificate signed by the test's CA (mTLS).
    ClientCertificate,
    /// `authorization: Bearer KEY`, else HTTP 401.
    ApiKey(&'static str),
}

/// nginx terminating TLS in front of the shared dev server and forwarding
/// gRPC to it, as a load balancer in front of a Temporal cluster does.
/// Killed when dropped.
struct Proxy {
    child: Child,
    /// `127.0.0.1:port` it listens on.
    address: String,
    /// Its own directory: config, pid, logs.
    dir: PathBuf,
}

impl Proxy {
    /// Start nginx with the certificates `pki` made in `certs`.
    fn start(certs: &Path, gate: Gate) -> Proxy {
        let dir = certs.join("nginx");
        std::fs::create_dir_all(&dir).expect("nginx dir");
        let port = free_port();
        let file = |name: &str| certs.join(name).display().to_string();
        let verify_client = match gate {
            Gate::ClientCertificate => format!(
                "ssl_verify_client on;\n    ssl_client_certificate {};\n",
                file("ca.pem")
            ),
            _ => String::new(),
        };
        let check_key = match gate {
            Gate::ApiKey(key) => {
                format!("if ($http_authorization != \"Bearer {key}\") {{ return 401; }}\n")
            }
            _ => String::new(),
        };
        // nginx 1.22 (Debian 12) spells HTTP/2 `listen ... http2`; 1.25.1
        // and later also take `http2 on;`.
        let config = format!(
            "master_process off;\n\
             error_log {dir}/error.log info;\n\
             pid {dir}/nginx.pid;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
               access_log {dir}/access.log;\n\
               client_body_temp_path {dir}/body;\n\
               server {{\n\
                 listen 127.0.0.1:{port} ssl http2;\n\
                 ssl_certificate {cert};\n\
                 ssl_certificate_key {key};\n\
                 {verify_client}\
                 client_max_body_size 0;\n\
                 location / {{\n\
                   {check_key}\
                   grpc_pass grpc://{upstream};\n\
                   grpc_read_timeout 300s;\n\
                   grpc_send_timeout 300s;\n\
                 }}\n\
               }}\n\
             }}\n",
            dir = dir.display(),
            cert = file("server.pem"),
            key = file("server.key"),
            upstream = server().address,
        );
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config).expect("write nginx.conf");
        let out = std::fs::File::create(dir.join("nginx.out")).expect("nginx log");
        let child = Command::new("nginx")
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("start nginx (scripts/setup.sh installs nginx-light)");
        let mut proxy = Proxy {
            child,
            address: format!("127.0.0.1:{port}"),
            dir,
        };
        wait_for("nginx to listen", || {
            if let Ok(Some(status)) = proxy.child.try_wait() {
                panic!("nginx exited with {status}:\n{}", proxy.logs());
            }
            TcpStream::connect(&proxy.address).ok().map(drop)
        });
        proxy
    }

    /// Its output and error log.
    fn logs(&self) -> String {
        ["nginx.out", "error.log"]
            .map(|f| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default())
            .join("\n")
    }

    /// Fail unless the proxy forwarded a call of gRPC method `method` with
    /// HTTP status 200: weft's traffic went through it.
    fn assert_forwarded(&self, method: &str) {
        let log = std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default();
        assert!(
            log.lines()
                .any(|l| l.contains(&format!("/{method} HTTP/2.0\" 200"))),
            "the proxy forwarded no {method}:\n{log}"
        );
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// In `dir`: CA `ca` with a server certificate (`server.pem`, for
/// `localhost` and `127.0.0.1`) and a client certificate (`client.pem`),
/// and an unrelated CA `other-ca` that signed neither.
fn pki(dir: &Path) {
    certificates(
        dir,
        "ca",
        &[
            (
                "server",
                "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
            ),
            ("client", "extendedKeyUsage=clientAuth\n"),
        ],
    );
    certificates(dir, "other-ca", &[]);
}

/// The OrderWorkflow application in one host, after a `[temporal]` part.
fn order_config(temporal: &str, orders: &Path) -> String {
    format!(
        "{temporal}\n{}\n{}",
        workflow_worker(),
        activity_worker(orders)
    )
}

/// Run OrderWorkflow `id` to completion and check its result.
async fn run_order(client: &Client, id: &str, orders: &Path) {
    client
        .start(id, "OrderWorkflow", WORKFLOW_Q, &[json!(id)])
        .await;
    let Outcome::Completed(result) = client.outcome(id).await else {
        panic!("OrderWorkflow {id} did not complete");
    };
    assert_order_done(&result, id, orders);
}

/// Start a host that must fail at start; the error line it printed.
fn refused(dir: &Path, name: &str, namespace: &str, config: &str, env: &[(&str, &str)]) -> String {
    let mut weft = Weft::start_with_env(dir, name, namespace, config, env);
    let status = weft
        .wait_exit(DEADLINE)
        .unwrap_or_else(|| panic!("{name} did not exit:\n{}", weft.log_text()));
    let log = weft.log_text();
    assert!(!status.success(), "{name} exited with {status}:\n{log}");
    assert!(!log.contains("weft is serving"), "{name} served:\n{log}");
    log.lines()
        .rfind(|l| l.starts_with("Error"))
        .unwrap_or_else(|| panic!("{name} printed no error line:\n{log}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_connects_through_tls_and_refuses_a_server_its_ca_did_not_sign() {
    let ns = "e2e-tls";
    let dir = scratch("tls");
    pki(&dir);
    let proxy = Proxy::start(&dir, Gate::Tls);
    let orders = dir.join("orders");
    // The server is named `localhost`, not the address's IP.
    let tls = |ca: &str| {
        format!(
            "[temporal]\naddress = \"{}\"\n[temporal.tls]\nserver_ca_file = \"{ca}\"\n\
             server_name = \"localhost\"\n",
            proxy.address
        )
    };
    // The harness sets TEMPORAL_ADDRESS, which overrides weft.toml: the proxy.
    let env = [("TEMPORAL_ADDRESS", proxy.address.as_str())];
    let config = order_config(&tls("ca.pem"), &orders);
    let _weft = Weft::serve_with_env(&dir, "weft", ns, &config, &env);
    let client = Client::new(ns).await;
    run_order(&client, "tls-order", &orders).await;
    proxy.assert_forwarded("RespondActivityTaskCompleted");

    let config = order_config(&tls("other-ca.pem"), &orders);
    let error = refused(&dir, "wrong-ca", ns, &config, &env);
    assert!(
        error.contains("certificate") && error.contains("server_ca_file"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_connects_with_a_client_certificate_and_says_when_one_is_missing() {
    let ns = "e2e-mtls";
    let dir = scratch("mtls");
    pki(&dir);
    let proxy = Proxy::start(&dir, Gate::ClientCertificate);
    let orders = dir.join("orders");
    let tls = format!(
        "[temporal]\naddress = \"{}\"\n[temporal.tls]\nserver_ca_file = \"ca.pem\"\n",
        proxy.address
    );
    let env = [("TEMPORAL_ADDRESS", proxy.address.as_str())];
    let mtls =
        format!("{tls}client_cert_file = \"client.pem\"\nclient_key_file = \"client.key\"\n");
    let _weft = Weft::serve_with_env(&dir, "weft", ns, &order_config(&mtls, &orders), &env);
    let client = Client::new(ns).await;
    run_order(&client, "mtls-order", &orders).await;
    proxy.assert_forwarded("RespondActivityTaskCompleted");

    let error = refused(&dir, "no-cert", ns, &order_config(&tls, &orders), &env);
    assert!(error.contains("client certificate"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_configured_by_temporal_environment_variables_sends_its_api_key() {
    let ns = "e2e-api-key";
    let dir = scratch("api-key");
    pki(&dir);
    let key = "e2e-key-4f1c";
    let proxy = Proxy::start(&dir, Gate::ApiKey(key));
    let orders = dir.join("orders");
    // No [temporal] section: Temporal's envconfig variables alone. An API
    // key turns TLS on; the CA comes from TEMPORAL_TLS_SERVER_CA_CERT_PATH.
    let ca = dir.join("ca.pem").display().to_string();
    let env = [
        ("TEMPORAL_ADDRESS", proxy.address.as_str()),
        ("TEMPORAL_API_KEY", key),
        ("TEMPORAL_TLS_SERVER_CA_CERT_PATH", ca.as_str()),
    ];
    let _weft = Weft::serve_with_env(&dir, "weft", ns, &order_config("", &orders), &env);
    let client = Client::new(ns).await;
    run_order(&client, "api-key-order", &orders).await;
    proxy.assert_forwarded("RespondActivityTaskCompleted");

    // A wrong key, from weft.toml's api_key_file this time.
    std::fs::write(dir.join("api-key"), "not-the-key\n").expect("write");
    let temporal = format!(
        "[temporal]\naddress = \"{}\"\napi_key_file = \"api-key\"\n\
         [temporal.tls]\nserver_ca_file = \"ca.pem\"\n",
        proxy.address
    );
    let env = [("TEMPORAL_ADDRESS", proxy.address.as_str())];
    let error = refused(
        &dir,
        "wrong-key",
        ns,
        &order_config(&temporal, &orders),
        &env,
    );
    assert!(error.contains("API key"), "{error}");
}

/// A dev server of one test's own, on a database file so that it remembers
/// its workflows across a restart; killed when dropped.
struct OwnServer {
    child: Child,
    /// `127.0.0.1:port` of its frontend.
    address: String,
    /// `temporal server start-dev` and its arguments.
    args: Vec<String>,
    /// Its log (both runs).
    log: PathBuf,
}

impl OwnServer {
    fn start(dir: &Path, namespace: &str) -> OwnServer {
        let [port, http, metrics, ui] = [(); 4].map(|_| free_port().to_string());
        let db = dir.join("temporal.db").display().to_string();
        let args: Vec<String> = [
            "server",
            "start-dev",
            "--headless",
            "--ip",
            "127.0.0.1",
            "--port",
            &port,
            "--http-port",
            &http,
            "--metrics-port",
            &metrics,
            "--ui-port",
            &ui,
            "--db-filename",
            &db,
            "--log-level",
            "error",
            "--namespace",
            namespace,
        ]
        .map(str::to_owned)
        .to_vec();
        let log = dir.join("temporal.log");
        let child = OwnServer::spawn(&args, &log);
        let server = OwnServer {
            child,
            address: format!("127.0.0.1:{port}"),
            args,
            log,
        };
        wait_healthy(&server.address);
        server
    }

    fn spawn(args: &[String], log: &Path) -> Child {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("server log");
        Command::new(temporal_bin())
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("start the Temporal dev server")
    }

    /// Kill it (SIGKILL: no goodbye to its clients).
    fn kill(&mut self) {
        self.child.kill().expect("kill the dev server");
        self.child.wait().expect("wait for the dev server");
    }

    /// Start it again on the same ports and database.
    fn start_again(&mut self) {
        self.child = OwnServer::spawn(&self.args, &self.log);
        wait_healthy(&self.address);
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn workflows_started_before_a_temporal_server_restart_complete_after_it() {
    let ns = "e2e-restart";
    let dir = scratch("server-restart");
    let mut temporal = OwnServer::start(&dir, ns);
    let orders = dir.join("orders");
    let config = order_config("", &orders);
    let env = [("TEMPORAL_ADDRESS", temporal.address.as_str())];
    let weft = Weft::serve_with_env(&dir, "weft", ns, &config, &env);
    let client = Client::connect(&temporal.address, ns).await;

    // Each run creates its order, then waits out a 10 s grace timer.
    let ids = ["restart-1", "restart-2", "restart-3"];
    for id in ids {
        client
            .start(
                id,
                "OrderWorkflow",
                WORKFLOW_Q,
                &[json!(id), json!(ACTIVITY_Q), json!(10_000)],
            )
            .await;
    }
    for id in ids {
        client
            .wait_event(id, "the grace timer to start", |e| {
                event_type(e) == EventType::TimerStarted
            })
            .await;
        let history = client.history(id).await;
        assert_eq!(
            count_events(&history, EventType::ActivityTaskScheduled),
            1,
            "{id} is still in its grace period when the server goes"
        );
    }

    // The host notices the server is gone (and says so) before it comes
    // back, and notices when it is back.
    let before = weft.log_text().len();
    let logged = |what: &str| {
        let log = weft.log_text();
        log[before..].contains(what).then_some(())
    };
    temporal.kill();
    wait_for("weft to log the lost connection", || {
        logged("lost the connection to Temporal")
    });
    temporal.start_again();
    wait_for("weft to log the reconnection", || {
        logged("reconnected to Temporal")
    });
    let client = Client::connect(&temporal.address, ns).await;
    for id in ids {
        let Outcome::Completed(result) = client.outcome(id).await else {
            panic!("{id} did not complete after the server restart");
        };
        assert_order_done(&result, id, &orders);
    }
}

/// GET `path` from the HTTP server at `address` (HTTP/1.0: one response,
/// then the server closes); its status and body.
fn http_get(address: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, response.clone());
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    Ok((status, body.to_owned()))
}

/// The HTTP status of GET `path`, or `None` when nothing answers.
fn status(address: &str, path: &str) -> Option<u16> {
    http_get(address, path).ok().map(|(status, _)| status)
}

/// Scrape `/metrics` and parse it as Prometheus text; the text is kept in
/// `keep` (the last scrape, for a failed test's reader).
fn scrape(address: &str, keep: &Path) -> Scrape {
    let (status, body) = http_get(address, "/metrics").expect("GET /metrics");
    assert_eq!(status, 200, "{body}");
    std::fs::write(keep, &body).expect("write the scrape");
    Scrape::parse(&body).unwrap_or_else(|line| panic!("not Prometheus text: {line}"))
}

/// The sum of counter `family` over the samples with these labels. A
/// counter's samples may carry a `_total` suffix.
fn counter(scrape: &Scrape, family: &str, labels: &[(&str, &str)]) -> f64 {
    let total = format!("{family}_total");
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == family || s.metric == total)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| match scrape.kind(&s.metric) {
            Some("counter") | None => s.value,
            Some(other) => panic!("{} is a {other}, not a counter", s.metric),
        })
        .sum()
}

/// True when the exposition has a sample of `family` (a counter's may end
/// in `_total`, a histogram's in `_bucket`, `_sum` and `_count`).
fn has_family(scrape: &Scrape, family: &str) -> bool {
    scrape.samples.iter().any(|s| {
        s.metric
            .strip_prefix(family)
            .is_some_and(|rest| ["", "_total", "_bucket", "_sum", "_count"].contains(&rest))
    })
}

/// Fail if a host's log has ANSI colour escapes (its stderr is a file).
fn assert_no_colours(weft: &Weft) {
    let log = weft.log_text();
    assert!(!log.is_empty());
    assert!(
        !log.contains("\x1b["),
        "colour escapes in a log file:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_what_the_host_ran_and_the_probes_answer() {
    let ns = "e2e-metrics";
    let dir = scratch("metrics");
    let orders = dir.join("orders");
    let address = format!("127.0.0.1:{}", free_port());
    let metrics = format!("[metrics]\nlisten = \"{address}\"\n");
    let weft = Weft::serve(&dir, "weft", ns, &order_config(&metrics, &orders));
    assert_eq!(status(&address, "/healthz"), Some(200));
    wait_for("/readyz to answer 200", || {
        (status(&address, "/readyz") == Some(200)).then_some(())
    });

    let keep = dir.join("metrics.txt");
    let before = scrape(&address, &keep);
    let client = Client::new(ns).await;
    run_order(&client, "metrics-order", &orders).await;

    let activations = |s: &Scrape| counter(s, "weft_activations", &[("task_queue", WORKFLOW_Q)]);
    let charged = |s: &Scrape| {
        counter(
            s,
            "weft_activity_tasks",
            &[
                ("task_queue", ACTIVITY_Q),
                ("activity_type", "ChargePayment"),
                ("outcome", "completed"),
            ],
        )
    };
    let completed = |s: &Scrape| counter(s, "temporal_workflow_completed", &[]);
    let instantiations = |s: &Scrape| counter(s, "weft_instantiations", &[]);
    // Core counts a completion once the server took it, which may be just
    // after the client saw the run close.
    let after = wait_for("the counters to count the run (see metrics.txt)", || {
        let after = scrape(&address, &keep);
        (activations(&after) > activations(&before)
            && charged(&after) >= charged(&before) + 1.0
            && completed(&after) >= completed(&before) + 1.0
            && instantiations(&after) > instantiations(&before))
        .then_some(after)
    });
    // Each activation is labelled with the module that ran it.
    let sample = after
        .samples
        .iter()
        .find(|s| s.metric.starts_with("weft_activations"))
        .expect("a weft_activations sample");
    for label in ["module", "digest"] {
        assert!(
            sample.labels.get(label).is_some_and(|v| !v.is_empty()),
            "no {label} label: {sample:?}"
        );
    }
    assert!(counter(&after, "weft_module_loads", &[]) >= 2.0);
    assert!(
        after.samples.iter().any(|s| s.metric == "weft_cached_runs"),
        "no weft_cached_runs sample"
    );
    assert_eq!(after.kind("weft_cached_runs"), Some("gauge"));
    assert!(has_family(&after, "temporal_activity_execution_latency"));
    // The client's own calls are counted too (it records into core's meter).
    assert!(has_family(&after, "temporal_request"));
    assert_no_colours(&weft);
}

const SHUTDOWN_WF_Q: &str = "shutdown-wf";
const SHUTDOWN_ACT_Q: &str = "shutdown-act";
/// The grace period of the activity hosts.
const GRACE: Duration = Duration::from_millis(2000);
/// How long the activity runs: well past the grace period.
const WAIT_MS: u64 = 12_000;

/// An activity-only host for the sandbox activities, named `identity`.
fn activity_host(identity: &str, metrics: &str) -> String {
    format!(
        "[temporal]\nidentity = \"{identity}\"\n[metrics]\nlisten = \"{metrics}\"\n\
         [shutdown]\ngrace_ms = {}\n\n\
         [[worker]]\ntask_queue = \"{SHUTDOWN_ACT_Q}\"\n\
         [[worker.activities]]\nmodule = {:?}\n",
        GRACE.as_millis(),
        wasm("sandbox_activities")
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_activities_finish_within_the_grace_then_temporal_retries_them() {
    let ns = "e2e-shutdown";
    let dir = scratch("shutdown");
    let workflows = format!(
        "[[worker]]\ntask_queue = \"{SHUTDOWN_WF_Q}\"\nworkflows = [{:?}]\n",
        wasm("test_workflows")
    );
    let _workflows = Weft::serve(&dir, "workflows", ns, &workflows);
    let metrics_a = format!("127.0.0.1:{}", free_port());
    let mut host_a = Weft::serve(&dir, "host-a", ns, &activity_host("host-a", &metrics_a));
    wait_for("host A to be ready", || {
        (status(&metrics_a, "/readyz") == Some(200)).then_some(())
    });

    let client = Client::new(ns).await;
    let input = json!({
        "activity_type": "Wait", "task_queue": SHUTDOWN_ACT_Q, "args": [WAIT_MS],
        "start_to_close_ms": 300_000, "retry": {"maximum_attempts": 3},
    });
    client
        .start("slow", "RunActivity", SHUTDOWN_WF_Q, &[input])
        .await;
    client.wait_activity_started("slow").await;

    let stopping = Instant::now();
    host_a.terminate();
    wait_for("host A to stop answering ready", || {
        (status(&metrics_a, "/readyz") != Some(200)).then_some(())
    });
    let exit = host_a
        .wait_exit(GRACE + Duration::from_secs(15))
        .unwrap_or_else(|| panic!("host A still runs:\n{}", host_a.log_text()));
    let took = stopping.elapsed();
    assert!(exit.success(), "host A: {exit}\n{}", host_a.log_text());
    // The activity could not finish: A held it for the whole grace period.
    assert!(took >= GRACE, "A exited after {took:?}");
    assert_no_colours(&host_a);

    let metrics_b = format!("127.0.0.1:{}", free_port());
    let _host_b = Weft::serve(&dir, "host-b", ns, &activity_host("host-b", &metrics_b));
    assert_eq!(
        client.outcome("slow").await,
        Outcome::Completed(json!({ "waited_ms": WAIT_MS }))
    );
    // The second attempt ran on B, after A failed the first one as a
    // retryable WorkerShutdown.
    let started = client
        .history("slow")
        .await
        .into_iter()
        .find_map(|e| match e.attributes {
            Some(Attributes::ActivityTaskStartedEventAttributes(a)) => Some(a),
            _ => None,
        })
        .expect("an ActivityTaskStarted event");
    assert_eq!(started.attempt, 2, "{started:?}");
    assert_eq!(started.identity, "host-b", "{started:?}");
    let failure = AppFailure::innermost(started.last_failure.expect("the first attempt's failure"));
    assert_eq!(failure.error_type, "WorkerShutdown", "{failure:?}");
    assert!(!failure.non_retryable, "{failure:?}");
}

#[test]
fn version_names_weft_wasmtime_and_temporal_core() {
    let out = crate::harness::weft_command()
        .arg("--version")
        .output()
        .expect("run weft --version");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    // The versions the workspace pins.
    let manifest: toml::Table = std::fs::read_to_string(repo().join("Cargo.toml"))
        .expect("read Cargo.toml")
        .parse()
        .expect("Cargo.toml");
    let pinned = |name: &str| {
        let dep = &manifest["workspace"]["dependencies"][name];
        let version = dep.get("version").unwrap_or(dep);
        version
            .as_str()
            .expect("a version")
            .trim_start_matches('=')
            .to_owned()
    };
    let expected = format!(
        "weft {} (wasmtime {}, temporal core {})",
        env!("CARGO_PKG_VERSION"),
        pinned("wasmtime"),
        pinned("temporalio-sdk-core")
    );
    assert_eq!(stdout.trim_end(), expected);
}
