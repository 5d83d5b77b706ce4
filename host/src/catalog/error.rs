//! Why the catalog refused a change, or cannot serve a stored version.

use crate::gate::GateError;
use crate::module::{DuplicateType, ModuleError};
use crate::store::{Digest, StoreError};
use crate::temporal::TemporalError;

/// Why the catalog could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A config module is unusable.
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
    /// The store cannot be opened or read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

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
    /// A stored version to make current cannot be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The grants do not parse or go beyond the operator's allow-list.
    #[error("grants refused: {0}")]
    Grants(#[from] GrantsError),
    /// No task queue was given and none can be chosen.
    #[error(transparent)]
    TaskQueue(#[from] TaskQueueError),
    /// A type would be served by two modules on one task queue: the other
    /// is a store name.
    #[error(
        "type `{type_name}` is already served on task queue `{task_queue}` by module \
         `{module}`: undeploy it or use another task queue"
    )]
    StoreConflict {
        /// The type offered twice.
        type_name: String,
        /// The task queue.
        task_queue: String,
        /// The store name serving it now.
        module: String,
    },
    /// A type would be served by two modules on one task queue: the other
    /// is a module of this host's config.
    #[error(
        "type `{type_name}` is already served on task queue `{task_queue}` by {} \
         (from this host's config)",
        path.display()
    )]
    ConfigConflict {
        /// The type offered twice.
        type_name: String,
        /// The task queue.
        task_queue: String,
        /// The config's module file serving it now.
        path: std::path::PathBuf,
    },
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
    Temporal(#[from] TemporalError),
}

/// Why an upload's grants are refused.
#[derive(Debug, thiserror::Error)]
pub enum GrantsError {
    /// Grants were given with a workflow.
    #[error("workflows get no grants: they have no IO to grant")]
    Workflow,
    /// The TOML does not parse, or names what is not a grant.
    #[error("{}", .0.to_string().trim_end())]
    Parse(#[source] toml::de::Error),
    /// A grant is malformed or beyond the operator's allow-list.
    #[error("`{key}`: {problem}")]
    Invalid {
        /// Dotted key of the grant, e.g. `http[0]`.
        key: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// Why no task queue can be chosen for an upload.
#[derive(Debug, thiserror::Error)]
pub enum TaskQueueError {
    /// No worker of this host polls the module's kind.
    #[error(
        "no worker of this host polls {kind} tasks: name the task queue (--task-queue) whose \
         workers will serve it"
    )]
    NoWorker {
        /// The module's kind.
        kind: crate::module::Kind,
    },
    /// Several workers of this host poll the module's kind.
    #[error(
        "this host has several workers that poll {kind} tasks ({}): choose one with --task-queue",
        queues.join(", ")
    )]
    Several {
        /// The module's kind.
        kind: crate::module::Kind,
        /// Their task queues.
        queues: Vec<String>,
    },
    /// The named task queue's worker here polls the other kind.
    #[error(
        "this host's worker for task queue `{task_queue}` is {worker:?}: it does not poll {kind} \
         tasks"
    )]
    WrongKind {
        /// The task queue.
        task_queue: String,
        /// What its worker polls.
        worker: crate::config::WorkerKind,
        /// The module's kind.
        kind: crate::module::Kind,
    },
}

/// Why a stored version cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The name has no current version.
    #[error("it has no current version")]
    NoCurrent,
    /// The version is neither loaded nor in this host's store.
    #[error(
        "module {0} is not on this host (neither loaded nor in its module store): upload that \
         version (`weft deploy`) or serve these runs from a host that has it"
    )]
    NotHere(Digest),
    /// The store cannot be read, or the file is not what it stored.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The component does not load.
    #[error(transparent)]
    Module(#[from] ModuleError),
    /// Its grants are refused (the operator's allow-list changed since).
    #[error("grants refused: {0}")]
    Grants(#[from] GrantsError),
}
