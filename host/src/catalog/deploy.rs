//! Changing what the catalog serves: upload a version, make a version
//! current, remove versions. Every change is validated in full (see
//! `validate.rs`) before the store is touched, so a refused change leaves
//! it as it was.

use super::error::{DeployError, GrantsError};
use super::usage::workflow_types;
use super::{Candidate, Catalog, lock};
use crate::module::{self, Kind};
use crate::store::{Digest, ModuleStore, StoreError, Version};
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How long a change waits for the store lock another host holds. An
/// undeploy holds it while it counts pinned runs in Temporal, which can
/// take a while on a busy namespace.
const STORE_LOCK_WAIT: Duration = Duration::from_secs(120);

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

impl Catalog {
    pub(super) fn require_store(&self) -> Result<&ModuleStore, DeployError> {
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
            return Err(GrantsError::Workflow.into());
        }
        // Loading runs the guest's `*-types` export (up to its deadline):
        // before taking the catalog lock, so that a slow or hostile upload
        // holds up no other change.
        let candidate = match kind {
            Kind::Workflow => Candidate::Workflow(Arc::new(
                self.workflow_runtime.load_bytes(&label, &req.bytes).await?,
            )),
            Kind::Activity => {
                let grants = self.upload_grants(&req.grants)?;
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
                Some(self.load_current(&probe).await?)
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
            let types = workflow_types([&record]);
            let pinned = self.open_runs(&types).await?.pinned(&types);
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
}
