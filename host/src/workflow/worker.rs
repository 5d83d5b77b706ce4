//! The workflow task loop of one worker: poll activations from core, drive
//! the run each belongs to, complete the activation with its commands.

use super::{Run, TaskFailure, WorkflowRegistry};
use crate::payload;
use crate::temporal::proto::workflow_activation::{WorkflowActivation, workflow_activation_job};
use crate::temporal::proto::workflow_completion::{
    self, WorkflowActivationCompletion, workflow_activation_completion::Status,
};
use crate::temporal::proto::{Failure, workflow_commands::WorkflowCommand};
use crate::temporal::{PollError, Worker};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Runs cached between activations, by run id. Core never hands out two
/// activations of one run at once, so a run is taken out while it works.
type RunCache = Mutex<HashMap<String, Run>>;

/// Turns a worker's activations into completions: finds or starts the run
/// each belongs to, applies the jobs, gathers the commands.
pub struct Activations {
    registry: Arc<WorkflowRegistry>,
    runs: RunCache,
    namespace: String,
    task_queue: String,
}

impl Activations {
    /// Activations of `worker`, served by the modules in `registry`.
    pub fn new(worker: &Worker, registry: Arc<WorkflowRegistry>) -> Activations {
        let config = worker.get_config();
        Activations {
            registry,
            runs: RunCache::default(),
            namespace: config.namespace.clone(),
            task_queue: config.task_queue.clone(),
        }
    }

    /// Handle one activation: its commands, or why the workflow task fails.
    pub fn handle(
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
                    lock().remove(run_id);
                    return Ok(Vec::new());
                }
                Variant::InitializeWorkflow(i) => init = Some(i.clone()),
                _ => {}
            }
        }
        let (namespace, task_queue) = (&self.namespace, &self.task_queue);
        let mut run = match init {
            Some(init) => {
                let module = self.registry.get(&init.workflow_type).ok_or_else(|| {
                    TaskFailure(format!(
                        "workflow type `{}` is not served on task queue `{task_queue}` (served: {})",
                        init.workflow_type,
                        self.registry.type_list()
                    ))
                })?;
                Run::start(module, init, run_id, namespace, task_queue)
            }
            None => lock().remove(run_id).ok_or_else(|| {
                TaskFailure(format!("run {run_id} is not in this worker's cache"))
            })?,
        };
        // On failure the run is dropped: core evicts it and replays later.
        let commands = run.activate(activation)?;
        lock().insert(run_id.clone(), run);
        Ok(commands)
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
pub async fn poll_workflow_tasks(worker: Arc<Worker>, registry: Arc<WorkflowRegistry>) {
    let activations = Arc::new(Activations::new(&worker, registry));
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
            let completion = completion(run_id, activations.handle(&activation));
            if let Err(e) = worker.complete_workflow_activation(completion).await {
                tracing::warn!(%run_id, "completing workflow activation failed: {e:#}");
            }
        });
    }
}
