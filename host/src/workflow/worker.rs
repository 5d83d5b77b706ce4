//! The workflow task loop of one worker: poll activations from core, drive
//! the run each belongs to, complete the activation with its commands.

use super::pressure::{self, Pressure};
use super::{ModuleSource, PIN_PREFIX, Run, TaskFailure};
use crate::module::Module;
use crate::payload;
use crate::store::Digest;
use crate::temporal::proto::workflow_activation::{WorkflowActivation, workflow_activation_job};
use crate::temporal::proto::workflow_completion::{
    self, WorkflowActivationCompletion, workflow_activation_completion::Status,
};
use crate::temporal::proto::{Failure, workflow_commands::WorkflowCommand};
use crate::temporal::{PollError, Worker};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Runs cached between activations, by run id, with when each was last
/// activated (a count of activations). Core never hands out two
/// activations of one run at once, so a run is taken out while it works.
type RunCache = Mutex<HashMap<String, (u64, Run)>>;

/// Turns a worker's activations into completions: finds or starts the run
/// each belongs to, applies the jobs, gathers the commands.
pub struct Activations<S> {
    worker: Arc<Worker>,
    modules: Arc<S>,
    runs: RunCache,
    /// Activations handled: the clock of least-recent use.
    handled: std::sync::atomic::AtomicU64,
    namespace: String,
    task_queue: String,
}

impl<S: ModuleSource> Activations<S> {
    /// Activations of `worker`, served by the modules `modules` gives.
    pub fn new(worker: &Arc<Worker>, modules: Arc<S>) -> Activations<S> {
        let config = worker.get_config();
        Activations {
            worker: worker.clone(),
            modules,
            runs: RunCache::default(),
            handled: Default::default(),
            namespace: config.namespace.clone(),
            task_queue: config.task_queue.clone(),
        }
    }

    /// Handle one activation: its commands, or why the workflow task fails.
    pub async fn handle(
        &self,
        activation: &WorkflowActivation,
    ) -> Result<Vec<WorkflowCommand>, TaskFailure> {
        use workflow_activation_job::Variant;
        let run_id = &activation.run_id;
        let lock = || self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let mut init = None;
        for job in activation.jobs.iter().filter_map(|j| j.variant.as_ref()) {
            match job {
                // Eviction comes alone; dropping the instance frees it. The
                // next task for this run replays from history.
                Variant::RemoveFromCache(_) => {
                    let cached = {
                        let mut runs = lock();
                        runs.remove(run_id);
                        runs.len()
                    };
                    crate::metrics::get()
                        .cached_runs
                        .with_label_values(&[&self.task_queue])
                        .set(cached as i64);
                    return Ok(Vec::new());
                }
                Variant::InitializeWorkflow(i) => init = Some(i.clone()),
                _ => {}
            }
        }
        let (namespace, task_queue) = (&self.namespace, &self.task_queue);
        let started = init.is_some();
        let mut run = match init {
            Some(init) => {
                // A run's history pins it to the module it started on (core
                // announces the marker before the first activation); a new
                // run takes the current version and records the pin.
                let pin = activation
                    .jobs
                    .iter()
                    .filter_map(|j| match &j.variant {
                        Some(Variant::NotifyHasPatch(p)) => p.patch_id.strip_prefix(PIN_PREFIX),
                        _ => None,
                    })
                    .next()
                    .map(|d| Digest::try_from(d.to_owned()))
                    .transpose()
                    .map_err(|e| TaskFailure(format!("module pin in history: {e}")))?;
                let module = match &pin {
                    Some(digest) => self.modules.pinned(&init.workflow_type, digest).await,
                    None => self.modules.current(&init.workflow_type),
                }
                .map_err(|TaskFailure(e)| {
                    TaskFailure(format!("{e} (task queue `{task_queue}`)"))
                })?;
                // A history recorded before pins existed replays without one.
                let record_pin = match pin {
                    Some(digest) => Some(digest),
                    None if !activation.is_replaying => Some(module.digest().clone()),
                    None => None,
                };
                Run::start(module, init, run_id, namespace, task_queue, record_pin)
            }
            None => lock().remove(run_id).map(|(_, run)| run).ok_or_else(|| {
                TaskFailure(format!("run {run_id} is not in this worker's cache"))
            })?,
        };
        let metrics = crate::metrics::get();
        let module = run.module().clone();
        let module_label = crate::metrics::module_label(Module::path(&*module));
        let labels = crate::metrics::module_labels(task_queue, &module_label, module.digest());
        if started {
            metrics
                .instantiations
                .with_label_values(&["workflow", labels[0], labels[1], labels[2]])
                .inc();
        }
        let stopwatch = crate::metrics::Stopwatch::start();
        // Guest code runs on the blocking pool, never on an async worker
        // thread: a slow guest (up to its activation deadline) must not
        // stall pollers, health checks, the admin API or activity timeouts.
        // The run moves there and back.
        let job = activation.clone();
        let (mut run, activated) = tokio::task::spawn_blocking(move || {
            let activated = run.activate(&job);
            (run, activated)
        })
        .await
        .map_err(|e| TaskFailure(format!("workflow activation did not finish: {e}")))?;
        // Runs whose guest state was lost (an instance they shared trapped)
        // replay from history at their next task.
        let orphans = run.take_orphans();
        if !orphans.is_empty() {
            tracing::info!(
                %run_id, runs = orphans.len(),
                "evicting runs whose guest state is lost (an instance they shared trapped, \
                 or a query handler changed it): they replay at their next task"
            );
        }
        for orphan in orphans {
            self.worker.request_workflow_eviction(&orphan);
        }
        // On failure the run is dropped: core evicts it and replays later.
        metrics.activations.with_label_values(&labels).inc();
        metrics
            .activation_seconds
            .with_label_values(&labels)
            .observe(stopwatch.elapsed().as_secs_f64());
        metrics
            .activation_fuel
            .with_label_values(&labels)
            .observe(run.fuel_spent() as f64);
        let commands = activated?;
        let used = self
            .handled
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cached = {
            let mut runs = lock();
            runs.insert(run_id.clone(), (used, run));
            runs.len()
        };
        metrics
            .cached_runs
            .with_label_values(&[task_queue])
            .set(cached as i64);
        Ok(commands)
    }
}

impl<S> Activations<S> {
    /// Near the process's mapping limit, ask core to evict the least
    /// recently used cached runs: they replay at their next task, and no
    /// task fails for want of memory.
    fn relieve(&self, pressure: &Pressure) {
        let cached = self.runs.lock().unwrap_or_else(|p| p.into_inner()).len();
        let n = pressure.evictions(cached);
        if n == 0 {
            return;
        }
        let oldest: Vec<String> = {
            let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
            let mut by_use: Vec<(u64, &String)> =
                runs.iter().map(|(id, (u, _))| (*u, id)).collect();
            by_use.sort_unstable();
            by_use
                .into_iter()
                .take(n)
                .map(|(_, id)| id.clone())
                .collect()
        };
        tracing::warn!(
            task_queue = %self.task_queue,
            "near the kernel's mapping limit (vm.max_map_count): evicting the {} least recently \
             used of {cached} cached runs (they replay at their next task)",
            oldest.len()
        );
        for run_id in oldest {
            self.worker.request_workflow_eviction(&run_id);
        }
    }
}

/// The completion core expects for a handled activation.
pub fn completion(
    run_id: &str,
    handled: Result<Vec<WorkflowCommand>, TaskFailure>,
) -> WorkflowActivationCompletion {
    let status = match handled {
        Ok(commands) => Status::Successful(workflow_completion::Success {
            commands,
            ..Default::default()
        }),
        Err(TaskFailure(message)) => {
            tracing::warn!(%run_id, "workflow task failed: {message}");
            Status::Failed(workflow_completion::Failure {
                failure: Some(Failure {
                    message,
                    source: payload::FAILURE_SOURCE.to_owned(),
                    ..Default::default()
                }),
                ..Default::default()
            })
        }
    };
    WorkflowActivationCompletion {
        run_id: run_id.to_owned(),
        status: Some(status),
        ..Default::default()
    }
}

/// Poll and process workflow activations until the worker shuts down.
pub async fn poll_workflow_tasks<S: ModuleSource>(worker: Arc<Worker>, modules: Arc<S>) {
    let activations = Arc::new(Activations::new(&worker, modules));
    let relief = tokio::spawn({
        let activations = activations.clone();
        let pressure = Pressure::from_kernel();
        async move {
            loop {
                tokio::time::sleep(pressure::CHECK_EVERY).await;
                activations.relieve(&pressure);
            }
        }
    });
    loop {
        let activation = match worker.poll_workflow_activation().await {
            Ok(a) => a,
            Err(PollError::ShutDown) => break,
            Err(e) => {
                tracing::error!(task_queue = %activations.task_queue, "workflow poll failed: {e:#}");
                continue;
            }
        };
        let (worker, activations) = (worker.clone(), activations.clone());
        tokio::spawn(async move {
            let run_id = &activation.run_id;
            let completion = completion(run_id, activations.handle(&activation).await);
            if let Err(e) = worker.complete_workflow_activation(completion).await {
                tracing::warn!(%run_id, "completing workflow activation failed: {e:#}");
            }
        });
    }
    relief.abort();
}
