//! The checks a change passes before the store is touched: where an upload
//! is served, that no other module serves its types there, that its
//! grants are within the operator's allow-list, and the replay gate.

use super::error::{DeployError, GrantsError, TaskQueueError};
use super::{Candidate, Catalog, DeployRequest};
use crate::config::{Grants, RawUploadGrants, resolve_grants};
use crate::module::{Kind, Module as _};
use crate::store::{ModuleStore, NameRecord};
use std::sync::Arc;

impl Catalog {
    /// The task queue an upload is served on.
    pub(super) fn task_queue_for(
        &self,
        req: &DeployRequest,
        kind: Kind,
        existing: Option<&NameRecord>,
    ) -> Result<String, TaskQueueError> {
        let task_queue = match (&req.task_queue, existing) {
            (Some(q), _) => q.clone(),
            (None, Some(r)) => r.task_queue.clone(),
            (None, None) => {
                let queues: Vec<&str> = self
                    .workers
                    .iter()
                    .filter(|w| w.config.kind().polls(kind))
                    .map(|w| w.config.task_queue.as_str())
                    .collect();
                match queues.as_slice() {
                    [one] => (*one).to_owned(),
                    [] => return Err(TaskQueueError::NoWorker { kind }),
                    many => {
                        return Err(TaskQueueError::Several {
                            kind,
                            queues: many.iter().map(|q| (*q).to_owned()).collect(),
                        });
                    }
                }
            }
        };
        if let Some(w) = self
            .workers
            .iter()
            .find(|w| w.config.task_queue == task_queue)
            && !w.config.kind().polls(kind)
        {
            return Err(TaskQueueError::WrongKind {
                task_queue,
                worker: w.config.kind(),
                kind,
            });
        }
        Ok(task_queue)
    }

    /// Refuse a module whose types another module already serves on its
    /// task queue: here (config modules included) or in the shared store.
    pub(super) async fn check_conflicts(
        &self,
        store: &ModuleStore,
        name: &str,
        task_queue: &str,
        candidate: &Candidate,
    ) -> Result<(), DeployError> {
        let types = candidate.types();
        for other in store.names()? {
            if other == name {
                continue;
            }
            let record = store.record(&other)?;
            let clash = record
                .current_version()
                .filter(|_| record.task_queue == task_queue)
                .and_then(|v| v.types.iter().find(|t| types.contains(t)));
            if let Some(ty) = clash {
                return Err(DeployError::StoreConflict {
                    type_name: ty.clone(),
                    task_queue: task_queue.to_owned(),
                    module: other,
                });
            }
        }
        for worker in &self.workers {
            if worker.config.task_queue != task_queue {
                continue;
            }
            let configured = worker
                .config_workflows
                .iter()
                .map(|m| (m.path().to_owned(), m.types().to_vec()))
                .chain(
                    worker
                        .config_activities
                        .iter()
                        .map(|m| (m.path().to_owned(), m.types().to_vec())),
                );
            for (path, offered) in configured {
                if let Some(ty) = offered.iter().find(|t| types.contains(t)) {
                    return Err(DeployError::ConfigConflict {
                        type_name: ty.clone(),
                        task_queue: task_queue.to_owned(),
                        path,
                    });
                }
            }
        }
        Ok(())
    }

    /// Resolve an uploaded activity's grants (TOML) within the allow-list.
    pub(super) fn upload_grants(&self, text: &str) -> Result<Grants, GrantsError> {
        let raw: RawUploadGrants = toml::from_str(text).map_err(GrantsError::Parse)?;
        resolve_grants(raw, &self.base, Some(&self.upload_allow), &self.secrets).map_err(|p| {
            GrantsError::Invalid {
                key: p.key,
                problem: p.problem,
            }
        })
    }

    /// Replay recent runs against a workflow module about to become current.
    pub(super) async fn run_gate(
        &self,
        module: &Arc<crate::workflow::WorkflowModule>,
        force: bool,
        lines: &mut Vec<String>,
        notes: &mut Vec<String>,
    ) -> Result<(), DeployError> {
        let Some(gate) = self.gate.get().filter(|g| g.histories > 0) else {
            notes.push("replay gate off: no histories were replayed".into());
            return Ok(());
        };
        let verdicts = gate.check(module).await?;
        lines.extend(verdicts.lines);
        if verdicts.refusals.is_empty() {
            return Ok(());
        }
        if force {
            notes.push(format!(
                "--force: made current although {} recent run(s) do not replay on it; runs \
                 pinned to older versions stay on them",
                verdicts.refusals.len()
            ));
            tracing::warn!(
                digest = %module.digest(),
                refusals = verdicts.refusals.len(),
                "replay gate overridden with --force"
            );
            return Ok(());
        }
        Err(DeployError::Gate {
            digest: module.digest().clone(),
            refusals: verdicts.refusals,
        })
    }
}
