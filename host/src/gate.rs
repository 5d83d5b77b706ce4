//! The replay gate: before a workflow module version becomes current, the
//! recent runs of its workflow types (open and closed) are replayed against
//! it. If any diverges, the version does not become current: a new version
//! must be able to take over any run a host may have to replay.

use crate::replay::{self, ReplayError, Verdict};
use crate::temporal::runs::{self, Runs};
use crate::temporal::{Connection, TemporalError};
use crate::workflow::{WorkflowModule, WorkflowRegistry};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the gate reads histories from.
#[derive(Clone)]
pub struct Gate {
    /// The Temporal connection.
    pub connection: Connection,
    /// The namespace the host serves.
    pub namespace: String,
    /// Runs per workflow type to replay (0: the gate is off).
    pub histories: usize,
}

/// Why the gate could not decide.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// Histories could not be read.
    #[error("replay gate: {0}")]
    Temporal(#[from] TemporalError),
    /// Replay could not run.
    #[error("replay gate: {0}")]
    Replay(#[from] ReplayError),
}

/// What the gate saw.
#[derive(Debug, Default)]
pub struct Verdicts {
    /// One line per replayed run.
    pub lines: Vec<String>,
    /// The runs that did not reproduce, with the diverging command.
    pub refusals: Vec<String>,
}

impl Gate {
    /// Replay the recent runs of `module`'s workflow types against it.
    pub async fn check(&self, module: &Arc<WorkflowModule>) -> Result<Verdicts, GateError> {
        let mut recorded = Vec::new();
        for workflow_type in crate::module::Module::types(module) {
            let types = std::slice::from_ref(workflow_type);
            let found = runs::list(
                &self.connection,
                &self.namespace,
                types,
                Runs::Recent,
                self.histories,
            )
            .await?;
            for run in found {
                let history = runs::history(&self.connection, &self.namespace, &run, true).await?;
                let label = PathBuf::from(format!(
                    "{} run {} ({})",
                    run.workflow_id, run.run_id, run.workflow_type
                ));
                recorded.push((label, runs::recorded(&run, history)));
            }
        }
        let mut verdicts = Verdicts::default();
        if recorded.is_empty() {
            verdicts
                .lines
                .push("no recent runs of its workflow types: nothing to replay".into());
            return Ok(verdicts);
        }
        let mut registry = WorkflowRegistry::default();
        registry
            .add(module.clone())
            .map_err(|e| GateError::Replay(e.into()))?;
        for report in replay::replay(Arc::new(registry), recorded).await? {
            let run = report.path.display();
            match report.verdict {
                Verdict::Reproduced => verdicts
                    .lines
                    .push(format!("{run}: reproduced ({} events)", report.events)),
                Verdict::Diverged(why) => {
                    let line = format!("{run}: DIVERGED: {why}");
                    verdicts.lines.push(line.clone());
                    verdicts.refusals.push(line);
                }
                Verdict::Failed(why) => {
                    let line = format!("{run}: FAILED: {why}");
                    verdicts.lines.push(line.clone());
                    verdicts.refusals.push(line);
                }
            }
        }
        Ok(verdicts)
    }
}
