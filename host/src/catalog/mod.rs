//! What this host serves: each worker's workflow and activity types, from
//! the config's module files and from the module store, and every workflow
//! module version a run is pinned to.
//!
//! A worker reads its registries at each task, so a deploy (here, or on
//! another host sharing the store) is served without a restart. Old
//! workflow versions are held weakly: a version stays loaded while a cached
//! run uses it and is dropped when none does; a run pinned to it that comes
//! back later loads it again from the store.

mod deploy;
mod error;
mod listing;
mod usage;
mod validate;

pub(crate) use deploy::DeployRequest;
pub(crate) use error::{CatalogError, DeployError, LoadError};
#[cfg(test)]
pub(crate) use error::{GrantsError, TaskQueueError};

use crate::activity::{ActivityModule, ActivityRegistry, ActivityRuntime};
use crate::config::{Allow, Config, SecretSources, WorkerConfig, WorkerKind};
use crate::gate::Gate;
use crate::module::{self, DuplicateType, Kind, Live, Module as _};
use crate::store::{Digest, ModuleStore, NameRecord, StoreError};
use crate::workflow::{
    ModuleSource, TaskFailure, WorkflowModule, WorkflowRegistry, WorkflowRuntime,
};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// One worker's modules.
pub struct WorkerModules {
    /// Its config.
    pub config: WorkerConfig,
    /// The workflow types it serves now.
    pub workflows: Live<WorkflowRegistry>,
    /// The activity types it serves now.
    pub activities: Arc<Live<ActivityRegistry>>,
    config_workflows: Vec<Arc<WorkflowModule>>,
    config_activities: Vec<ActivityModule>,
}

/// Everything this host serves.
pub struct Catalog {
    workflow_runtime: WorkflowRuntime,
    activity_runtime: ActivityRuntime,
    store: Option<ModuleStore>,
    /// Uploaded grants resolve against the config's directory...
    base: PathBuf,
    /// ...and must stay within the operator's allow-list (empty if none).
    upload_allow: Allow,
    /// ...and read the secrets they name from the operator's `[secrets]`.
    secrets: SecretSources,
    workers: Vec<WorkerModules>,
    /// Workflow versions by digest, held while some run uses them.
    loaded: Mutex<HashMap<Digest, Weak<WorkflowModule>>>,
    /// Activity modules of store versions, by digest and grants.
    activities: Mutex<HashMap<(Digest, String), ActivityModule>>,
    /// The store's records at the last refresh.
    seen: Mutex<Vec<(String, NameRecord)>>,
    /// One change at a time (deploys, refreshes).
    changing: tokio::sync::Mutex<()>,
    /// Set once Temporal is connected.
    gate: OnceLock<Gate>,
}

impl Catalog {
    /// Compile the config's modules, open the store and serve its current
    /// versions. Nothing talks to Temporal yet.
    pub async fn load(
        config: &Config,
        workflow_runtime: WorkflowRuntime,
        activity_runtime: ActivityRuntime,
    ) -> Result<Arc<Catalog>, CatalogError> {
        let store = config
            .store
            .as_ref()
            .map(|s| ModuleStore::open(&s.dir))
            .transpose()?;
        let mut workers = Vec::new();
        for worker in &config.workers {
            let duplicate = |source| CatalogError::DuplicateType {
                task_queue: worker.task_queue.clone(),
                source,
            };
            let mut workflows = WorkflowRegistry::default();
            let mut config_workflows = Vec::new();
            for path in &worker.workflows {
                let bytes = module::read(Kind::Workflow, path)?;
                let module = Arc::new(workflow_runtime.load_bytes(path, &bytes).await?);
                workflows.add(module.clone()).map_err(duplicate)?;
                config_workflows.push(module);
                // Kept by digest (under no name), so that runs pinned to
                // this file's version still replay after the file changes.
                if let Some(store) = &store {
                    store.put(&bytes)?;
                }
            }
            let mut activities = ActivityRegistry::default();
            let mut config_activities = Vec::new();
            for module in &worker.activities {
                let module = activity_runtime
                    .load(&module.module, &module.grants)
                    .await?;
                activities.add(module.clone()).map_err(duplicate)?;
                config_activities.push(module);
            }
            workers.push(WorkerModules {
                config: worker.clone(),
                workflows: Live::new(workflows),
                activities: Arc::new(Live::new(activities)),
                config_workflows,
                config_activities,
            });
        }
        // Without an [allow] list an upload may be granted nothing.
        let upload_allow = config.allow.clone().unwrap_or_default();
        let catalog = Arc::new(Catalog {
            workflow_runtime,
            activity_runtime,
            store,
            base: config.base.clone(),
            upload_allow,
            secrets: config.secrets.clone(),
            workers,
            loaded: Mutex::default(),
            activities: Mutex::default(),
            seen: Mutex::default(),
            changing: tokio::sync::Mutex::new(()),
            gate: OnceLock::new(),
        });
        catalog.refresh().await?;
        Ok(catalog)
    }

    /// The workers, in config order.
    pub fn workers(&self) -> &[WorkerModules] {
        &self.workers
    }

    /// What worker `index` runs its workflows on.
    pub fn workflow_source(self: &Arc<Self>, index: usize) -> Arc<WorkerView> {
        Arc::new(WorkerView {
            catalog: self.clone(),
            index,
        })
    }

    /// Turn the replay gate on (it reads histories from Temporal).
    pub fn set_gate(&self, gate: Gate) {
        let _ = self.gate.set(gate);
    }

    /// The store, if the config has one.
    pub fn store(&self) -> Option<&ModuleStore> {
        self.store.as_ref()
    }

    /// Serve what the store holds now, if it changed since the last look
    /// (another host of the fleet may have deployed).
    pub async fn refresh(&self) -> Result<(), StoreError> {
        // Versions new to this host are loaded first, without the lock:
        // loading runs each one's `*-types` export (up to its deadline),
        // which must not hold up deploys. What loaded is held here until
        // the registries hold it.
        let preloaded = match self.records()?.filter(|r| *lock(&self.seen) != *r) {
            Some(records) => self.preload(&records).await,
            None => Preloaded::new(),
        };
        let _one = self.changing.lock().await;
        self.refresh_with(&preloaded).await
    }

    /// The store's records now (`None`: no store).
    fn records(&self) -> Result<Option<Vec<(String, NameRecord)>>, StoreError> {
        let Some(store) = &self.store else {
            return Ok(None);
        };
        let mut records = Vec::new();
        for name in store.names()? {
            records.push((name.clone(), store.record(&name)?));
        }
        Ok(Some(records))
    }

    /// Load the current versions of `records` that this host's workers
    /// serve, or say why they cannot be.
    async fn preload(&self, records: &[(String, NameRecord)]) -> Preloaded {
        let mut preloaded = Preloaded::new();
        for (_, record) in records {
            let Some(version) = record.current_version() else {
                continue;
            };
            if !self
                .workers
                .iter()
                .any(|w| w.config.task_queue == record.task_queue)
            {
                continue;
            }
            let key = (version.digest.clone(), version.grants.clone());
            if let Entry::Vacant(slot) = preloaded.entry(key) {
                slot.insert(self.current_of(record).await);
            }
        }
        preloaded
    }

    /// Serve what the store holds now, the catalog lock held. Versions
    /// another change made current since they were preloaded are loaded
    /// here, under the lock (see [`Catalog::refresh`]).
    async fn refresh_locked(&self) -> Result<(), StoreError> {
        self.refresh_with(&Preloaded::new()).await
    }

    async fn refresh_with(&self, preloaded: &Preloaded) -> Result<(), StoreError> {
        let Some(records) = self.records()? else {
            return Ok(());
        };
        if *lock(&self.seen) == records {
            return Ok(());
        }
        for worker in &self.workers {
            let (workflows, activities) = self.registries(worker, &records, preloaded).await;
            let changed = worker.workflows.get().type_list() != workflows.type_list()
                || worker.activities.get().type_list() != activities.type_list();
            worker.workflows.set(workflows);
            worker.activities.set(activities);
            if changed {
                tracing::info!(
                    task_queue = %worker.config.task_queue,
                    workflow_types = %worker.workflows.get().type_list(),
                    activity_types = %worker.activities.get().type_list(),
                    "worker now serves"
                );
            }
        }
        // Activity versions no longer current leave memory (tasks running
        // on them hold their own reference until they finish).
        let current: Vec<(Digest, String)> = records
            .iter()
            .filter_map(|(_, r)| r.current_version())
            .map(|v| (v.digest.clone(), v.grants.clone()))
            .collect();
        lock(&self.activities).retain(|key, _| current.contains(key));
        *lock(&self.seen) = records;
        Ok(())
    }

    /// A worker's registries from its config modules and the current store
    /// versions on its task queue. Store modules that cannot be served are
    /// logged and left out.
    async fn registries(
        &self,
        worker: &WorkerModules,
        records: &[(String, NameRecord)],
        preloaded: &Preloaded,
    ) -> (WorkflowRegistry, ActivityRegistry) {
        let mut workflows = WorkflowRegistry::default();
        for m in &worker.config_workflows {
            let _ = workflows.add(m.clone());
        }
        let mut activities = ActivityRegistry::default();
        for m in &worker.config_activities {
            let _ = activities.add(m.clone());
        }
        let kind = worker.config.kind();
        for (name, record) in records {
            if record.task_queue != worker.config.task_queue {
                continue;
            }
            let early = record
                .current_version()
                .and_then(|v| preloaded.get(&(v.digest.clone(), v.grants.clone())));
            let current = match early {
                Some(loaded) => loaded.clone(),
                None => self.current_of(record).await,
            };
            let added = match current {
                Ok(c) if !kind.polls(c.kind()) => Err(NotServed::WrongKind {
                    module: record.kind,
                    worker: kind,
                }),
                Ok(Candidate::Workflow(m)) => workflows.add(m).map_err(NotServed::from),
                Ok(Candidate::Activity(m)) => activities.add(m).map_err(NotServed::from),
                Err(e) => Err(NotServed::Load(e)),
            };
            if let Err(e) = added {
                tracing::error!(
                    module = %name,
                    task_queue = %record.task_queue,
                    "not serving module `{name}`: {e}"
                );
            }
        }
        (workflows, activities)
    }

    /// The loaded current version of a store name.
    async fn current_of(&self, record: &NameRecord) -> Result<Candidate, Arc<LoadError>> {
        self.load_current(record).await.map_err(Arc::new)
    }

    async fn load_current(&self, record: &NameRecord) -> Result<Candidate, LoadError> {
        let version = record.current_version().ok_or(LoadError::NoCurrent)?;
        match record.kind {
            Kind::Workflow => self
                .workflow_by_digest(&version.digest)
                .await
                .map(Candidate::Workflow),
            Kind::Activity => {
                let key = (version.digest.clone(), version.grants.clone());
                if let Some(m) = lock(&self.activities).get(&key) {
                    return Ok(Candidate::Activity(m.clone()));
                }
                let store = self
                    .store
                    .as_ref()
                    .ok_or_else(|| LoadError::NotHere(version.digest.clone()))?;
                let path = store.path(&version.digest);
                let grants = self.upload_grants(&version.grants)?;
                let bytes = store.read(&version.digest)?;
                let m = self
                    .activity_runtime
                    .load_bytes(&path, &bytes, &grants)
                    .await?;
                lock(&self.activities).insert(key, m.clone());
                Ok(Candidate::Activity(m))
            }
        }
    }

    /// The workflow module with `digest`: loaded, among the config's
    /// modules, or loaded now from the store.
    pub async fn workflow_by_digest(
        &self,
        digest: &Digest,
    ) -> Result<Arc<WorkflowModule>, LoadError> {
        if let Some(m) = lock(&self.loaded).get(digest).and_then(Weak::upgrade) {
            return Ok(m);
        }
        if let Some(m) = self.configured_workflow(digest) {
            return Ok(m.clone());
        }
        let (store, path) = self
            .store
            .as_ref()
            .map(|s| (s, s.path(digest)))
            .filter(|(_, p)| p.exists())
            .ok_or_else(|| LoadError::NotHere(digest.clone()))?;
        // Checked against its digest on every load: a changed file fails
        // the run's task, never runs in its place.
        let bytes = store.read(digest)?;
        let module = Arc::new(self.workflow_runtime.load_bytes(&path, &bytes).await?);
        lock(&self.loaded).insert(digest.clone(), Arc::downgrade(&module));
        tracing::info!(%digest, "workflow module version loaded");
        Ok(module)
    }

    /// True when the workflow version with `digest` is in memory.
    fn is_loaded(&self, digest: &Digest) -> bool {
        lock(&self.loaded)
            .get(digest)
            .is_some_and(|w| w.strong_count() > 0)
            || lock(&self.activities).keys().any(|(d, _)| d == digest)
            || self.configured_workflow(digest).is_some()
    }

    /// The workflow module with `digest` among the config's.
    fn configured_workflow(&self, digest: &Digest) -> Option<&Arc<WorkflowModule>> {
        self.workers
            .iter()
            .flat_map(|w| &w.config_workflows)
            .find(|m| m.digest() == digest)
    }
}

/// Current versions loaded (or refused) before the catalog lock was
/// taken, by digest and grants.
type Preloaded = HashMap<(Digest, String), Result<Candidate, Arc<LoadError>>>;

/// Why a store name on a worker's task queue is not served there (logged).
#[derive(Debug, thiserror::Error)]
enum NotServed {
    /// The worker does not poll the module's kind.
    #[error("a {module} module, and this worker is {worker:?}")]
    WrongKind {
        /// The module's kind.
        module: Kind,
        /// What the worker polls.
        worker: WorkerKind,
    },
    /// Another module of the worker offers one of its types.
    #[error(transparent)]
    Duplicate(#[from] DuplicateType),
    /// Its current version does not load.
    #[error(transparent)]
    Load(Arc<LoadError>),
}

/// A module about to be served.
#[derive(Clone)]
enum Candidate {
    Workflow(Arc<WorkflowModule>),
    Activity(ActivityModule),
}

impl Candidate {
    fn kind(&self) -> Kind {
        match self {
            Candidate::Workflow(_) => Kind::Workflow,
            Candidate::Activity(_) => Kind::Activity,
        }
    }

    fn digest(&self) -> &Digest {
        match self {
            Candidate::Workflow(m) => m.digest(),
            Candidate::Activity(m) => m.digest(),
        }
    }

    fn types(&self) -> &[String] {
        match self {
            Candidate::Workflow(m) => m.types(),
            Candidate::Activity(m) => m.types(),
        }
    }
}

/// One worker's view of the catalog, as its workflow task loop uses it.
pub struct WorkerView {
    catalog: Arc<Catalog>,
    index: usize,
}

impl ModuleSource for WorkerView {
    fn current(&self, workflow_type: &str) -> Result<Arc<WorkflowModule>, TaskFailure> {
        self.catalog.workers[self.index]
            .workflows
            .get()
            .current(workflow_type)
    }

    async fn pinned(
        &self,
        workflow_type: &str,
        digest: &Digest,
    ) -> Result<Arc<WorkflowModule>, TaskFailure> {
        if let Ok(m) = self.current(workflow_type)
            && m.digest() == digest
        {
            return Ok(m);
        }
        self.catalog
            .workflow_by_digest(digest)
            .await
            .map_err(|e| TaskFailure(format!("this run is pinned to its module by history: {e}")))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
