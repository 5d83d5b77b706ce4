//! Builds the workers a config declares and runs them until shutdown.

use crate::activity::{self, ActivityRegistry, ActivityRuntime};
use crate::config::{Config, WorkerConfig};
use crate::module::{CompileCache, DuplicateType, ModuleError};
use crate::temporal::{self, TemporalError};
use crate::workflow::{self, WorkflowRegistry, WorkflowRuntime};
use std::future::Future;
use std::sync::Arc;
use tokio::task::JoinSet;

/// Why the host could not start.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// A Wasm engine could not be created (a host bug or an unsupported CPU).
    #[error("cannot create the {runtime} engine: {reason}")]
    Engine {
        /// `workflow` or `activity`.
        runtime: &'static str,
        /// Wasmtime's message.
        reason: String,
    },
    /// A module is unusable.
    #[error(transparent)]
    Module(#[from] ModuleError),
    /// Two modules of one worker offer the same type.
    #[error("worker for task queue `{task_queue}`: {source}")]
    DuplicateType {
        /// The worker's task queue.
        task_queue: String,
        /// Which type, which modules.
        source: DuplicateType,
    },
    /// Temporal could not be reached, or refused a worker.
    #[error(transparent)]
    Temporal(#[from] TemporalError),
}

/// A worker whose modules are compiled and checked.
pub struct LoadedWorker {
    /// Its config.
    pub config: WorkerConfig,
    /// Workflow types it serves.
    pub workflows: Arc<WorkflowRegistry>,
    /// Activity types it serves.
    pub activities: Arc<ActivityRegistry>,
}

/// Compile and check every module of every worker. Nothing talks to
/// Temporal yet: a bad module fails the start before any task is polled.
pub async fn load(config: &Config) -> Result<Vec<LoadedWorker>, HostError> {
    let engine_error = |runtime| {
        move |e: wasmtime::Error| HostError::Engine {
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
    let mut loaded = Vec::new();
    for worker in &config.workers {
        let duplicate = |source| HostError::DuplicateType {
            task_queue: worker.task_queue.clone(),
            source,
        };
        let mut workflows = WorkflowRegistry::default();
        for path in &worker.workflows {
            workflows
                .add(workflow_runtime.load(path).await?)
                .map_err(duplicate)?;
        }
        let mut activities = ActivityRegistry::default();
        for module in &worker.activities {
            activities
                .add(
                    activity_runtime
                        .load(&module.module, &module.grants)
                        .await?,
                )
                .map_err(duplicate)?;
        }
        loaded.push(LoadedWorker {
            config: worker.clone(),
            workflows: Arc::new(workflows),
            activities: Arc::new(activities),
        });
    }
    Ok(loaded)
}

/// Load the config's modules, connect to Temporal, poll every worker's task
/// queue until `shutdown` resolves, then drain and stop.
pub async fn serve(config: &Config, shutdown: impl Future<Output = ()>) -> Result<(), HostError> {
    let workers = load(config).await?;
    let connection = temporal::connect(&config.temporal).await?;
    let runtime = temporal::runtime()?;
    let mut pollers = JoinSet::new();
    let mut cores = Vec::new();
    for w in workers {
        let core =
            temporal::start_worker(&runtime, &connection, &config.temporal.namespace, &w.config)?;
        let kind = w.config.kind();
        if kind.polls_workflows() {
            pollers.spawn(workflow::poll_workflow_tasks(
                core.clone(),
                w.workflows.clone(),
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
            workflow_types = %w.workflows.type_list(),
            activity_types = %w.activities.type_list(),
            "worker started"
        );
        cores.push(core);
    }
    tracing::info!(
        address = %config.temporal.address,
        namespace = %config.temporal.namespace,
        "weft is serving"
    );
    shutdown.await;
    tracing::info!("shutting down: finishing tasks in flight");
    for core in &cores {
        core.initiate_shutdown();
    }
    while pollers.join_next().await.is_some() {}
    for core in &cores {
        core.shutdown().await;
    }
    Ok(())
}
