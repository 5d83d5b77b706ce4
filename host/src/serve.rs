//! Builds the workers a config declares and runs them until shutdown.

use crate::activity::{self, ActivityRuntime};
use crate::admin::{AdminServer, ListenError};
use crate::catalog::{Catalog, CatalogError};
use crate::config::Config;
use crate::gate::Gate;
use crate::metrics::{Endpoint, EndpointError};
use crate::module::CompileCache;
use crate::temporal::{self, CoreMetrics, Settings, TemporalError};
use crate::workflow::{self, WorkflowRuntime};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::task::JoinSet;

/// Why the host could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A Wasm engine could not be created (a host bug or an unsupported CPU).
    #[error("cannot create the {runtime} engine: {reason}")]
    Engine {
        /// `workflow` or `activity`.
        runtime: &'static str,
        /// Wasmtime's message.
        reason: String,
    },
    /// A module is unusable, or the store cannot be read.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The admin API cannot listen.
    #[error(transparent)]
    Admin(#[from] ListenError),
    /// Temporal could not be reached, or refused a worker.
    #[error(transparent)]
    Temporal(#[from] TemporalError),
    /// The metrics endpoint cannot listen.
    #[error(transparent)]
    Metrics(#[from] EndpointError),
}

/// Compile and check every module of every worker, open the module store.
/// Nothing talks to Temporal yet: a bad module fails the start before any
/// task is polled.
pub async fn load(config: &Config) -> Result<Arc<Catalog>, ServeError> {
    let engine_error = |runtime| {
        move |e: wasmtime::Error| ServeError::Engine {
            runtime,
            reason: format!("{e:#}"),
        }
    };
    let cache = CompileCache::from_env();
    let workflow_runtime = WorkflowRuntime::new()
        .map_err(engine_error("workflow"))?
        .with_cache(cache.clone());
    let activity_runtime = ActivityRuntime::new()
        .map_err(engine_error("activity"))?
        .with_cache(cache);
    Ok(Catalog::load(config, workflow_runtime, activity_runtime).await?)
}

/// Load the config's modules, connect to Temporal, poll every worker's task
/// queue until `shutdown` resolves, then drain and stop: polling stops at
/// once, activity tasks in flight get the config's grace period (then core
/// cancels them and weft fails them as retryable, so Temporal retries them
/// on another host), workflow tasks in flight complete.
pub async fn serve(config: &Config, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
    let settings = Settings::resolve(&config.temporal)?;
    let ready = Arc::new(AtomicBool::new(false));
    // Health endpoints are up before modules load and Temporal is reached,
    // so that probes tell "alive, not ready" while the host starts.
    let core_metrics = config
        .metrics
        .map(|_| CoreMetrics::start().map(Arc::new))
        .transpose()?;
    let _endpoint = match config.metrics {
        Some(addr) => Some(Endpoint::start(addr, ready.clone(), core_metrics.clone()).await?),
        None => None,
    };
    let catalog = load(config).await?;
    let _admin = match &config.admin {
        Some(admin) => Some(AdminServer::start(admin, catalog.clone(), ready.clone()).await?),
        None => None,
    };
    let runtime = temporal::runtime(core_metrics.as_deref())?;
    let connection = settings.connect(&runtime).await?;
    let watch = temporal::watch(connection.clone(), settings.address.clone());
    catalog.set_gate(Gate {
        connection: connection.clone(),
        namespace: settings.namespace.clone(),
        histories: config.admin.as_ref().map_or(0, |a| a.gate_histories),
    });
    let mut pollers = JoinSet::new();
    let mut cores = Vec::new();
    for (index, w) in catalog.workers().iter().enumerate() {
        let core = temporal::start_worker(
            &runtime,
            &connection,
            &settings.namespace,
            &w.config,
            config.shutdown_grace,
        )?;
        let kind = w.config.kind();
        if kind.polls_workflows() {
            pollers.spawn(workflow::poll_workflow_tasks(
                core.clone(),
                catalog.workflow_source(index),
            ));
        }
        if kind.polls_activities() {
            pollers.spawn(activity::poll_activity_tasks(
                core.clone(),
                w.activities.clone(),
            ));
        }
        tracing::info!(
            task_queue = %w.config.task_queue,
            kind = ?kind,
            workflow_types = %w.workflows.get().type_list(),
            activity_types = %w.activities.get().type_list(),
            "worker started"
        );
        cores.push(core);
    }
    // Hosts sharing a store see each other's deploys.
    let watcher = config.store.as_ref().and_then(|s| s.poll).map(|every| {
        let catalog = catalog.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(e) = catalog.refresh().await {
                    tracing::warn!("module store: {e}");
                }
            }
        })
    });
    ready.store(true, Ordering::Release);
    tracing::info!(
        address = %settings.address,
        namespace = %settings.namespace,
        tls = settings.tls(),
        "weft is serving"
    );
    shutdown.await;
    ready.store(false, Ordering::Release);
    tracing::info!(
        grace_ms = config.shutdown_grace.as_millis() as u64,
        "shutting down: polling stopped, finishing tasks in flight"
    );
    watch.abort();
    if let Some(watcher) = watcher {
        watcher.abort();
    }
    for core in &cores {
        core.initiate_shutdown();
    }
    while pollers.join_next().await.is_some() {}
    for core in &cores {
        core.shutdown().await;
    }
    tracing::info!("shut down");
    Ok(())
}
