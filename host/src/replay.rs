//! `weft replay`: check that a workflow module reproduces recorded histories.
//!
//! Core's replay worker hands each history to the module as workflow tasks
//! and compares the commands the guest issues with the recorded events, the
//! same check a live worker makes when it replays an evicted run. A history
//! is reproduced when it replays to its end with no divergence and no failed
//! workflow task.

use crate::module::{CompileCache, DuplicateType, ModuleError};
use crate::temporal::proto::workflow_activation::WorkflowActivationJob;
use crate::temporal::proto::workflow_activation::remove_from_cache::EvictionReason;
use crate::temporal::proto::workflow_activation::workflow_activation_job::Variant as Job;
use crate::temporal::proto::workflow_commands::WorkflowCommand;
use crate::temporal::{self, HistoryError, PollError, Recorded, TemporalError};
use crate::workflow::{self, Activations, TaskFailure, WorkflowRegistry, WorkflowRuntime};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why replay could not run at all (as opposed to a history not reproducing).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The workflow engine could not be created.
    #[error("cannot create the workflow engine: {0}")]
    Engine(String),
    /// A module is unusable.
    #[error(transparent)]
    Module(#[from] ModuleError),
    /// Two modules offer the same workflow type.
    #[error(transparent)]
    DuplicateType(#[from] DuplicateType),
    /// A history file cannot be read.
    #[error("history {path}: {source}")]
    ReadHistory {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// A history file is not a usable history.
    #[error("history {path}: {source}")]
    History {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: HistoryError,
    },
    /// Core's replay worker failed.
    #[error(transparent)]
    Temporal(#[from] TemporalError),
}

/// What replaying one history showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Replayed to the end; every command matched.
    Reproduced,
    /// The module issued commands the history does not have (core's message
    /// names the command and the event).
    Diverged(String),
    /// A workflow task failed (trap, unserved type, ...).
    Failed(String),
}

/// One history's result.
#[derive(Debug)]
pub struct Report {
    /// The history file.
    pub path: PathBuf,
    /// The workflow id it replayed as.
    pub workflow_id: String,
    /// Its workflow type.
    pub workflow_type: String,
    /// How many events it holds.
    pub events: usize,
    /// What happened.
    pub verdict: Verdict,
}

/// Load `modules` and replay every history file against them.
pub async fn replay_files(
    modules: &[PathBuf],
    histories: &[PathBuf],
) -> Result<Vec<Report>, ReplayError> {
    let runtime = WorkflowRuntime::new()
        .map_err(|e| ReplayError::Engine(format!("{e:#}")))?
        .with_cache(CompileCache::from_env());
    let mut registry = WorkflowRegistry::default();
    for path in modules {
        registry.add(Arc::new(runtime.load(path).await?))?;
    }
    let mut recorded = Vec::new();
    for path in histories {
        recorded.push((path.clone(), read(path)?));
    }
    replay(Arc::new(registry), recorded).await
}

fn read(path: &Path) -> Result<Recorded, ReplayError> {
    let json = std::fs::read(path).map_err(|source| ReplayError::ReadHistory {
        path: path.to_owned(),
        source,
    })?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    Recorded::from_json(&json, stem.as_deref().unwrap_or("replay")).map_err(|source| {
        ReplayError::History {
            path: path.to_owned(),
            source,
        }
    })
}

/// Replay `histories` against the modules in `registry`.
pub async fn replay(
    registry: Arc<WorkflowRegistry>,
    histories: Vec<(PathBuf, Recorded)>,
) -> Result<Vec<Report>, ReplayError> {
    let mut reports = Vec::new();
    // Verdicts so far, by run id; none until core hands out the run.
    let mut verdicts: HashMap<String, Option<Verdict>> = HashMap::new();
    let mut to_replay = Vec::new();
    for (path, recorded) in histories {
        let served = registry.get(&recorded.workflow_type).is_some();
        let verdict = if served {
            verdicts.insert(recorded.run_id.clone(), None);
            None
        } else {
            Some(Verdict::Failed(format!(
                "workflow type `{}` is not offered by the module (offers: {})",
                recorded.workflow_type,
                registry.type_list()
            )))
        };
        reports.push((
            Report {
                path,
                workflow_id: recorded.workflow_id.clone(),
                workflow_type: recorded.workflow_type.clone(),
                events: recorded.history.events.len(),
                verdict: Verdict::Reproduced,
            },
            recorded.run_id.clone(),
            verdict,
        ));
        if served {
            to_replay.push(recorded);
        }
    }
    // One replay worker per history: core's replay worker hands out its
    // next history when a run's last activation completes, and with several
    // it can shut down (its feed exhausted) before a history it has already
    // taken is handed out, so that history is never replayed.
    for recorded in to_replay {
        let worker = temporal::replay_worker(vec![recorded]).await?;
        let activations = Activations::new(&worker, registry.clone());
        // What each run issued last: core reports a divergence at the
        // activation after the one whose commands did not match.
        let mut last_issued: HashMap<String, String> = HashMap::new();
        loop {
            let activation = match worker.poll_workflow_activation().await {
                Ok(a) => a,
                Err(PollError::ShutDown) => break,
                Err(e) => return Err(TemporalError::Runtime(format!("replay poll: {e:#}")).into()),
            };
            let handled = activations.handle(&activation).await;
            if let Some(verdict) = verdicts.get_mut(&activation.run_id) {
                let issued = last_issued.get(&activation.run_id).map(String::as_str);
                judge(
                    verdict.get_or_insert(Verdict::Reproduced),
                    &activation.jobs,
                    &handled,
                    issued,
                );
            }
            if let Ok(commands) = &handled {
                last_issued.insert(activation.run_id.clone(), describe(commands));
            }
            let completion = workflow::completion(&activation.run_id, handled);
            worker
                .complete_workflow_activation(completion)
                .await
                .map_err(|e| TemporalError::Runtime(format!("replay completion: {e:#}")))?;
        }
        worker.shutdown().await;
    }
    Ok(reports
        .into_iter()
        .map(|(mut report, run_id, verdict)| {
            report.verdict = verdict
                .or_else(|| verdicts.remove(&run_id).flatten())
                .unwrap_or_else(|| Verdict::Failed("core did not replay this history".to_owned()));
            report
        })
        .collect())
}

/// Update a history's verdict with what one activation showed. A divergence
/// outranks a failed task (core fails the task *because* of it); the first
/// message of each kind is kept.
fn judge(
    verdict: &mut Verdict,
    jobs: &[WorkflowActivationJob],
    handled: &Result<Vec<WorkflowCommand>, TaskFailure>,
    issued: Option<&str>,
) {
    for job in jobs.iter().filter_map(|j| j.variant.as_ref()) {
        if let Job::RemoveFromCache(eviction) = job
            && eviction.reason() == EvictionReason::Nondeterminism
            && !matches!(verdict, Verdict::Diverged(_))
        {
            let mut message = core_message(&eviction.message).to_owned();
            if let Some(issued) = issued {
                message.push_str(&format!("; the module issued: {issued}"));
            }
            *verdict = Verdict::Diverged(message);
        }
    }
    if let Err(TaskFailure(message)) = handled
        && *verdict == Verdict::Reproduced
    {
        *verdict = Verdict::Failed(message.clone());
    }
}

/// Core wraps the nondeterminism message in the debug form of the failed
/// completion; keep the message itself.
fn core_message(eviction: &str) -> &str {
    const START: &str = "message: \"";
    eviction
        .find(START)
        .map(|i| &eviction[i + START.len()..])
        .and_then(|rest| rest.find('"').map(|end| &rest[..end]))
        .unwrap_or(eviction)
}

/// A short description of commands, e.g. `ScheduleActivity(Wait), StartTimer`.
fn describe(commands: &[WorkflowCommand]) -> String {
    use crate::temporal::proto::workflow_commands::workflow_command::Variant as Command;
    let names: Vec<String> = commands
        .iter()
        .filter_map(|c| c.variant.as_ref())
        .map(|c| match c {
            Command::ScheduleActivity(a) => format!("ScheduleActivity({})", a.activity_type),
            Command::ScheduleLocalActivity(a) => {
                format!("ScheduleLocalActivity({})", a.activity_type)
            }
            Command::StartChildWorkflowExecution(c) => {
                format!("StartChildWorkflowExecution({})", c.workflow_type)
            }
            other => {
                let debug = format!("{other:?}");
                debug.split('(').next().unwrap_or_default().to_owned()
            }
        })
        .collect();
    if names.is_empty() {
        "no commands".to_owned()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_core_message_is_lifted_out_of_the_debug_form() {
        let wrapped = r#"Workflow activation completion failed: Failure { failure: Some(Failure { message: "[TMPRL1100] Nondeterminism error: Activity machine does not handle this event: HistoryEvent(id: 5, TimerStarted)", source: "" }) }"#;
        assert_eq!(
            core_message(wrapped),
            "[TMPRL1100] Nondeterminism error: Activity machine does not handle this event: HistoryEvent(id: 5, TimerStarted)"
        );
        assert_eq!(core_message("plain"), "plain");
    }
}
