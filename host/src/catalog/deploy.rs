//! Changing what the catalog serves: upload a version, make a version
//! current, remove versions, list them. Every change is validated in full
//! before the store is touched, so a refused change leaves it as it was.

use super::{Candidate, Catalog, lock};
use crate::gate::GateError;
use crate::module::{self, Kind, Module as _, ModuleError};
use crate::store::{Digest, ModuleStore, NameRecord, StoreError, Version};
use crate::temporal::runs::{self, Runs};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How long a change waits for the store lock another host holds. An
/// undeploy holds it while it counts pinned runs in Temporal, which can
/// take a while on a busy namespace.
const STORE_LOCK_WAIT: Duration = Duration::from_secs(120);

/// Why a change was refused. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The host has no `[store]`.
    #[error("this host has no module store: add a [store] section to its config")]
    NoStore,
    /// The store refused (bad name, unknown version, ...) or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The component is not a usable weft module.
    #[error(transparent)]
    Module(#[from] ModuleError),
    /// The grants do not parse or go beyond the operator's allow-list.
    #[error("grants refused: {0}")]
    Grants(String),
    /// No task queue was given and none can be chosen.
    #[error("{0}")]
    TaskQueue(String),
    /// A type would be served by two modules on one task queue.
    #[error("{0}")]
    Conflict(String),
    /// The replay gate found runs the new version does not reproduce.
    #[error(
        "the replay gate refused to make {digest} current: {} of the recent runs do not replay on it:\n{}\n\
         (deploy with --force to make it current anyway: runs pinned to older versions stay on them, \
         but a run whose pinned version is removed, or a run started before versions were pinned, \
         would replay on this one and fail)",
        refusals.len(),
        refusals.join("\n")
    )]
    Gate {
        /// The version refused.
        digest: Digest,
        /// Which run, which command diverged.
        refusals: Vec<String>,
    },
    /// The gate could not read or replay histories.
    #[error(transparent)]
    GateUnavailable(#[from] GateError),
    /// Runs are still pinned to what would be removed.
    #[error(
        "{count} open run(s) are pinned to {what}: they would fail their next workflow task \
         (undeploy with --force to remove it anyway)"
    )]
    Pinned {
        /// What would be removed.
        what: String,
        /// How many open runs.
        count: usize,
    },
    /// Open runs could not be counted.
    #[error("cannot count the open runs pinned to it: {0}")]
    Temporal(#[from] crate::temporal::TemporalError),
}

/// An upload.
#[derive(Debug, Default)]
pub struct DeployRequest {
    /// The module name.
    pub name: String,
    /// The task queue; `None`: the name's, or this host's one worker of
    /// the module's kind.
    pub task_queue: Option<String>,
    /// An activity's grants (TOML).
    pub grants: String,
    /// The component.
    pub bytes: Vec<u8>,
    /// Store it without making it current.
    pub keep_current: bool,
    /// Make it current even if the replay gate refuses.
    pub force: bool,
}

/// What an upload did.
#[derive(Debug)]
pub struct Deployed {
    /// The component's digest.
    pub digest: Digest,
    /// Its world.
    pub kind: Kind,
    /// The types it offers.
    pub types: Vec<String>,
    /// The task queue it is served on.
    pub task_queue: String,
    /// Whether it is now the current version.
    pub current: bool,
    /// Whether a worker of this host serves that task queue.
    pub served_here: bool,
    /// The replay gate's lines.
    pub gate: Vec<String>,
    /// Notes for the operator.
    pub notes: Vec<String>,
}

/// A name and its versions, for `weft modules`.
#[derive(Debug)]
pub struct ModuleListing {
    /// The name.
    pub name: String,
    /// Its record.
    pub record: NameRecord,
    /// Per version, in upload order.
    pub versions: Vec<VersionListing>,
}

/// One version's state.
#[derive(Debug)]
pub struct VersionListing {
    /// Compiled and in memory on this host.
    pub loaded: bool,
    /// Open runs pinned to it (workflows; `None` if unknown).
    pub open_runs: Option<usize>,
}

impl Catalog {
    fn require_store(&self) -> Result<&ModuleStore, DeployError> {
        self.store.as_ref().ok_or(DeployError::NoStore)
    }

    /// Validate, gate, store and serve an upload.
    pub async fn deploy(&self, req: DeployRequest) -> Result<Deployed, DeployError> {
        let name = req.name.clone();
        let deployed = self.deploy_checked(req).await;
        let outcome = if deployed.is_ok() {
            "deployed"
        } else {
            "refused"
        };
        crate::metrics::get()
            .deploys
            .with_label_values(&[name.as_str(), outcome])
            .inc();
        deployed
    }

    async fn deploy_checked(&self, req: DeployRequest) -> Result<Deployed, DeployError> {
        let store = self.require_store()?;
        let label = PathBuf::from(format!("upload `{}`", req.name));
        let kind = module::world_of(&label, &req.bytes)?;
        if kind == Kind::Workflow && !req.grants.trim().is_empty() {
            return Err(DeployError::Grants(
                "workflows get no grants: they have no IO to grant".into(),
            ));
        }
        // Loading runs the guest's `*-types` export (up to its deadline):
        // before taking the catalog lock, so that a slow or hostile upload
        // holds up no other change.
        let candidate = match kind {
            Kind::Workflow => Candidate::Workflow(Arc::new(
                self.workflow_runtime.load_bytes(&label, &req.bytes).await?,
            )),
            Kind::Activity => {
                // Grants name the store's file, which exists only once the
                // upload is accepted; they are checked against that path.
                let digest = Digest::of(&req.bytes);
                let grants = self.upload_grants(&store.path(&digest), &req.grants)?;
                Candidate::Activity(
                    self.activity_runtime
                        .load_bytes(&label, &req.bytes, &grants)
                        .await?,
                )
            }
        };
        let _one = self.changing.lock().await;
        let existing = match store.record(&req.name) {
            Ok(r) => Some(r),
            Err(StoreError::NoSuchName(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let task_queue = self.task_queue_for(&req, kind, existing.as_ref())?;
        if let Some(record) = &existing {
            record.accepts(&req.name, kind, &task_queue)?;
        }
        let (digest, types) = (candidate.digest().clone(), candidate.types().to_vec());
        let make_current = !req.keep_current || existing.is_none();
        if make_current {
            self.check_conflicts(store, &req.name, &task_queue, &candidate)
                .await?;
        }
        let mut gate = Vec::new();
        let mut notes = Vec::new();
        if make_current && let Candidate::Workflow(m) = &candidate {
            self.run_gate(m, req.force, &mut gate, &mut notes).await?;
        }

        // The gate ran without the store lock (it replays histories, which
        // takes long); what it decided on does not change with the record.
        // The conflict check spans names, so it runs again under the lock
        // another host's deploy would also need.
        let locked = store.lock_within(STORE_LOCK_WAIT).await?;
        if make_current {
            self.check_conflicts(&locked, &req.name, &task_queue, &candidate)
                .await?;
        }
        // Under the lock: a concurrent removal cannot delete the file
        // between this put and the record naming it.
        locked.put(&req.bytes)?;
        let version = Version {
            digest: digest.clone(),
            types: types.clone(),
            grants: req.grants.clone(),
        };
        let record = locked.add_version(&req.name, kind, &task_queue, version, make_current)?;
        drop(locked);
        match candidate {
            Candidate::Workflow(m) => {
                // A version uploaded again may be loaded already: keep that one.
                {
                    let mut loaded = lock(&self.loaded);
                    if loaded.get(&digest).and_then(Weak::upgrade).is_none() {
                        loaded.insert(digest.clone(), Arc::downgrade(&m));
                    }
                }
                // Keep it alive until the refresh below holds it.
                self.refresh_locked().await?;
                drop(m);
            }
            Candidate::Activity(m) => {
                lock(&self.activities).insert((digest.clone(), req.grants), m);
                self.refresh_locked().await?;
            }
        }
        let served_here = self
            .workers
            .iter()
            .any(|w| w.config.task_queue == task_queue);
        if !served_here {
            notes.push(format!(
                "no worker of this host polls task queue `{task_queue}`: hosts sharing this \
                 store that do will serve it"
            ));
        }
        tracing::info!(
            module = %req.name,
            %digest,
            %kind,
            types = %types.join(", "),
            %task_queue,
            current = record.current.as_ref() == Some(&digest),
            "module deployed"
        );
        Ok(Deployed {
            current: record.current.as_ref() == Some(&digest),
            digest,
            kind,
            types,
            task_queue,
            served_here,
            gate,
            notes,
        })
    }

    /// Make an uploaded version current, after the replay gate.
    pub async fn set_current(
        &self,
        name: &str,
        digest: &Digest,
        force: bool,
    ) -> Result<(Vec<String>, Vec<String>), DeployError> {
        let store = self.require_store()?;
        // Load the version (its `*-types` export runs) before taking the
        // catalog lock; the record is read again under it.
        let loaded = match store.record(name)? {
            r if r.version(digest).is_none() => None,
            mut probe => {
                probe.current = Some(digest.clone());
                Some(
                    self.current_of(&probe)
                        .await
                        .map_err(DeployError::Conflict)?,
                )
            }
        };
        let _one = self.changing.lock().await;
        let record = store.record(name)?;
        let (Some(candidate), Some(_)) = (loaded, record.version(digest)) else {
            return Err(StoreError::NoSuchVersion {
                name: name.to_owned(),
                digest: digest.clone(),
            }
            .into());
        };
        let mut gate = Vec::new();
        let mut notes = Vec::new();
        self.check_conflicts(store, name, &record.task_queue, &candidate)
            .await?;
        if let Candidate::Workflow(module) = &candidate {
            self.run_gate(module, force, &mut gate, &mut notes).await?;
        }
        self.set_current_locked(store, name, digest, &record.task_queue, &candidate)
            .await?;
        self.refresh_locked().await?;
        drop(candidate);
        tracing::info!(module = %name, %digest, "current version set");
        Ok((gate, notes))
    }

    /// Write the new current version under the store lock, after checking
    /// conflicts again there: another host may have made a clashing module
    /// current since the first check.
    async fn set_current_locked(
        &self,
        store: &ModuleStore,
        name: &str,
        digest: &Digest,
        task_queue: &str,
        candidate: &Candidate,
    ) -> Result<(), DeployError> {
        let locked = store.lock_within(STORE_LOCK_WAIT).await?;
        self.check_conflicts(&locked, name, task_queue, candidate)
            .await?;
        locked.set_current(name, digest)?;
        Ok(())
    }

    /// Remove one version (not the current one) or, with `digest` `None`,
    /// a whole name. Refused while open runs are pinned to what would go,
    /// unless `force`.
    ///
    /// The pins are counted while holding the store lock, and the record
    /// is read and written under that same lock: no other host can make a
    /// version being removed current (and pin new runs to it) between the
    /// count and the removal.
    pub async fn undeploy(
        &self,
        name: &str,
        digest: Option<&Digest>,
        force: bool,
    ) -> Result<Vec<Digest>, DeployError> {
        let store = self.require_store()?;
        let _one = self.changing.lock().await;
        let locked = store.lock_within(STORE_LOCK_WAIT).await?;
        let record = locked.record(name)?;
        if let Some(d) = digest
            && record.current.as_ref() == Some(d)
        {
            // Refused before counting pins: the store would refuse anyway.
            return Err(StoreError::RemoveCurrent {
                name: name.to_owned(),
                digest: d.clone(),
            }
            .into());
        }
        let going: Vec<Digest> = match digest {
            Some(d) => vec![d.clone()],
            None => record.versions.iter().map(|v| v.digest.clone()).collect(),
        };
        if !force && record.kind == Kind::Workflow {
            let pinned = self.open_runs_pinned(&record).await?;
            let count: usize = going.iter().filter_map(|d| pinned.get(d)).sum();
            if count > 0 {
                let what = match digest {
                    Some(d) => format!("{d}"),
                    None => format!("versions of `{name}`"),
                };
                return Err(DeployError::Pinned { what, count });
            }
        }
        match digest {
            Some(d) => {
                locked.remove_version(name, d)?;
            }
            None => {
                locked.remove_name(name)?;
            }
        }
        drop(locked);
        self.refresh_locked().await?;
        tracing::info!(module = %name, removed = going.len(), "module versions removed");
        Ok(going)
    }

    /// Every name with its versions' state.
    pub async fn list(&self) -> Result<Vec<ModuleListing>, DeployError> {
        let store = self.require_store()?;
        let mut listings = Vec::new();
        for name in store.names()? {
            let record = store.record(&name)?;
            let pinned = match record.kind {
                Kind::Workflow => self.open_runs_pinned(&record).await.ok(),
                Kind::Activity => None,
            };
            let versions = record
                .versions
                .iter()
                .map(|v| VersionListing {
                    loaded: self.is_loaded(&v.digest),
                    open_runs: pinned
                        .as_ref()
                        .map(|p| p.get(&v.digest).copied().unwrap_or(0)),
                })
                .collect();
            listings.push(ModuleListing {
                name,
                record,
                versions,
            });
        }
        Ok(listings)
    }

    /// Open runs of a workflow name's types, by the digest they are pinned
    /// to (from Temporal: every host's runs, not only this one's).
    async fn open_runs_pinned(
        &self,
        record: &NameRecord,
    ) -> Result<HashMap<Digest, usize>, DeployError> {
        let Some(gate) = self.gate.get() else {
            return Ok(HashMap::new());
        };
        let mut types: Vec<String> = record
            .versions
            .iter()
            .flat_map(|v| v.types.iter().cloned())
            .collect();
        types.sort();
        types.dedup();
        let open = runs::list(
            &gate.connection,
            &gate.namespace,
            &types,
            Runs::Open,
            10_000,
        )
        .await?;
        let mut pinned = HashMap::new();
        for run in open {
            let history = runs::history(&gate.connection, &gate.namespace, &run, false).await?;
            if let Some(digest) = runs::pin_of(&history).and_then(|d| Digest::try_from(d).ok()) {
                *pinned.entry(digest).or_insert(0) += 1;
            }
        }
        Ok(pinned)
    }

    /// The task queue an upload is served on.
    fn task_queue_for(
        &self,
        req: &DeployRequest,
        kind: Kind,
        existing: Option<&NameRecord>,
    ) -> Result<String, DeployError> {
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
                    [] => {
                        return Err(DeployError::TaskQueue(format!(
                            "no worker of this host polls {kind} tasks: name the task queue \
                             (--task-queue) whose workers will serve it"
                        )));
                    }
                    many => {
                        return Err(DeployError::TaskQueue(format!(
                            "this host has several workers that poll {kind} tasks ({}): \
                             choose one with --task-queue",
                            many.join(", ")
                        )));
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
            return Err(DeployError::TaskQueue(format!(
                "this host's worker for task queue `{task_queue}` is {:?}: it does not \
                 poll {kind} tasks",
                w.config.kind()
            )));
        }
        Ok(task_queue)
    }

    /// Refuse a module whose types another module already serves on its
    /// task queue: here (config modules included) or in the shared store.
    async fn check_conflicts(
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
                return Err(DeployError::Conflict(format!(
                    "type `{ty}` is already served on task queue `{task_queue}` by module \
                     `{other}`: undeploy it or use another task queue"
                )));
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
                    return Err(DeployError::Conflict(format!(
                        "type `{ty}` is already served on task queue `{task_queue}` by {} \
                         (from this host's config)",
                        path.display()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Replay recent runs against a workflow module about to become current.
    async fn run_gate(
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
