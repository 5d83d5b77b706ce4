//! weft's own metrics, and the HTTP endpoint that serves them with core's
//! (`[metrics] listen`): `/metrics` (Prometheus text format), `/healthz`
//! (the process answers) and `/readyz` (every worker polls), for probes and
//! scrapers that do not speak gRPC.
//!
//! The instruments live in one process-wide registry, as with `tracing`:
//! recording is a few atomic adds, and costs nothing to thread through the
//! runtimes.

use crate::store::Digest;
use crate::temporal::CoreMetrics;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

/// Every instrument weft records.
pub(crate) struct Metrics {
    registry: Registry,
    /// Components loaded: `kind`, `module`, `from_cache`.
    pub module_loads: IntCounterVec,
    /// Seconds to compile (or load from the cache) a component.
    pub module_compile_seconds: HistogramVec,
    /// Instances created: `kind`, `task_queue`, `module`, `digest`.
    pub instantiations: IntCounterVec,
    /// Workflow activations handled: `task_queue`, `module`, `digest`.
    pub activations: IntCounterVec,
    /// Seconds one activation took, the guest's time and the host's.
    pub activation_seconds: HistogramVec,
    /// Fuel one activation spent.
    pub activation_fuel: HistogramVec,
    /// Workflow runs kept in memory between tasks: `task_queue`.
    pub cached_runs: IntGaugeVec,
    /// Activity tasks ended: `task_queue`, `module`, `digest`,
    /// `activity_type`, `outcome` (completed, failed, cancelled).
    pub activity_tasks: IntCounterVec,
    /// Activity requests the grants refused: `activity_type`, `kind` (http,
    /// socket).
    pub grant_denials: IntCounterVec,
    /// Admin deploys: `module`, `outcome` (deployed, refused).
    pub deploys: IntCounterVec,
}

const MODULE: [&str; 3] = ["task_queue", "module", "digest"];

impl Metrics {
    fn new() -> prometheus::Result<Metrics> {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(c.clone()))?;
            Ok::<_, prometheus::Error>(c)
        };
        let histogram = |name: &str, help: &str, labels: &[&str], buckets: Vec<f64>| {
            let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)?;
            registry.register(Box::new(h.clone()))?;
            Ok::<_, prometheus::Error>(h)
        };
        let cached_runs = IntGaugeVec::new(
            Opts::new(
                "weft_cached_runs",
                "Workflow runs kept in memory between tasks",
            ),
            &["task_queue"],
        )?;
        registry.register(Box::new(cached_runs.clone()))?;
        let seconds = prometheus::exponential_buckets(0.000_05, 4.0, 10)?;
        let fuel = prometheus::exponential_buckets(10_000.0, 10.0, 7)?;
        Ok(Metrics {
            module_loads: counter(
                "weft_module_loads",
                "Components loaded (compiled or read from the compile cache)",
                &["kind", "module", "from_cache"],
            )?,
            module_compile_seconds: histogram(
                "weft_module_compile_seconds",
                "Seconds to compile a component or load it from the compile cache",
                &["kind", "module"],
                prometheus::exponential_buckets(0.001, 4.0, 9)?,
            )?,
            instantiations: counter(
                "weft_instantiations",
                "Component instances created",
                &["kind", "task_queue", "module", "digest"],
            )?,
            activations: counter("weft_activations", "Workflow activations handled", &MODULE)?,
            activation_seconds: histogram(
                "weft_activation_seconds",
                "Seconds to handle one workflow activation",
                &MODULE,
                seconds,
            )?,
            activation_fuel: histogram(
                "weft_activation_fuel",
                "Fuel a workflow guest spent in one activation",
                &MODULE,
                fuel,
            )?,
            cached_runs,
            activity_tasks: counter(
                "weft_activity_tasks",
                "Activity tasks ended, by outcome",
                &["task_queue", "module", "digest", "activity_type", "outcome"],
            )?,
            grant_denials: counter(
                "weft_grant_denials",
                "Activity requests refused by the module's grants",
                &["activity_type", "kind"],
            )?,
            deploys: counter(
                "weft_deploys",
                "Modules uploaded through the admin API, by outcome",
                &["module", "outcome"],
            )?,
            registry,
        })
    }

    /// weft's metrics in the Prometheus text format.
    pub(crate) fn text(&self) -> String {
        let mut out = Vec::new();
        // Encoding gathered families into a Vec cannot fail.
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .ok();
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The process's metrics.
pub(crate) fn get() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> =
        LazyLock::new(|| Metrics::new().expect("metric names and labels are valid"));
    &METRICS
}

/// A module's label: its file name without the extension.
pub(crate) fn module_label(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The labels `task_queue`, `module`, `digest` of one module on one queue.
pub(crate) fn module_labels<'a>(
    task_queue: &'a str,
    module: &'a str,
    digest: &'a Digest,
) -> [&'a str; 3] {
    [task_queue, module, digest.short()]
}

/// Measures how long something took, for a histogram. Host time only:
/// nothing a guest sees.
pub(crate) struct Stopwatch(Instant);

impl Stopwatch {
    /// Start measuring.
    pub(crate) fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    /// Time since start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// Why the metrics endpoint could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen for metrics on {addr}: {source}")]
pub struct EndpointError {
    addr: SocketAddr,
    source: std::io::Error,
}

/// The HTTP endpoint: `/metrics`, `/healthz`, `/readyz`. Stops when dropped.
pub(crate) struct Endpoint {
    task: tokio::task::JoinHandle<()>,
}

impl Endpoint {
    /// Listen on `addr`; `ready` says whether every worker polls.
    pub(crate) async fn start(
        addr: SocketAddr,
        ready: Arc<AtomicBool>,
        core: Option<Arc<CoreMetrics>>,
    ) -> Result<Endpoint, EndpointError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| EndpointError { addr, source })?;
        let addr = listener.local_addr().unwrap_or(addr);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (ready, core) = (ready.clone(), core.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let (ready, core) = (ready.clone(), core.clone());
                        async move { Ok::<_, std::convert::Infallible>(answer(req, &ready, core).await) }
                    });
                    // A probe or scraper hanging up mid-answer is its business.
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        tracing::info!(%addr, "serving /metrics, /healthz and /readyz");
        Ok(Endpoint { task })
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    req: Request<hyper::body::Incoming>,
    ready: &AtomicBool,
    core: Option<Arc<CoreMetrics>>,
) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, body: String| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response
    };
    if req.method() != Method::GET {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "GET only\n".into());
    }
    match req.uri().path() {
        "/healthz" => reply(StatusCode::OK, "ok\n".into()),
        "/readyz" if ready.load(Ordering::Acquire) => reply(StatusCode::OK, "ready\n".into()),
        "/readyz" => reply(StatusCode::SERVICE_UNAVAILABLE, "not ready\n".into()),
        "/metrics" => {
            let mut text = get().text();
            if let Some(core) = core {
                match core.scrape().await {
                    Ok(core_text) => text.push_str(&core_text),
                    Err(e) => tracing::warn!("cannot read core's metrics: {e}"),
                }
            }
            let mut response = reply(StatusCode::OK, text);
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            response
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            "not found: try /metrics, /healthz or /readyz\n".into(),
        ),
    }
}
