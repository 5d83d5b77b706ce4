//! The workflow runtime: deterministic Wasm components, one instance per run.
//!
//! The engine is configured so that a run can only compute a function of its
//! history: NaNs are canonicalised, threads and relaxed SIMD are off, every
//! activation has a fuel budget, and the linker holds only the
//! `workflow-host` interface (no WASI at all), so a component that imports a
//! clock, entropy, files or sockets cannot even be instantiated.

mod run;
mod state;
mod worker;

pub use run::{Run, TaskFailure};
pub use state::{HandleKind, RunHost, RunState};
pub use worker::poll_workflow_tasks;

use crate::bindings::workflow::{Workflow, WorkflowPre};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store, StoreLimitsBuilder};

/// Fuel for one activation: bounds a runaway guest to a failed workflow task.
pub const FUEL_PER_ACTIVATION: u64 = 2_000_000_000;
/// Linear memory a workflow instance may grow to.
pub const MAX_MEMORY_BYTES: usize = 256 << 20;

/// Why a workflow module could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// The file could not be read or is not a component.
    #[error("cannot load workflow module {path}: {reason}")]
    Compile {
        /// The module file.
        path: PathBuf,
        /// Reader or compiler message.
        reason: String,
    },
    /// It imports something outside the workflow world (e.g. WASI).
    #[error("workflow module {path} is not a weft workflow: {reason}")]
    World {
        /// The module file.
        path: PathBuf,
        /// Linker message naming the import.
        reason: String,
    },
    /// `workflow-types` trapped or returned nothing.
    #[error("workflow module {path}: {reason}")]
    Types {
        /// The module file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// The engine and linker shared by every workflow module.
#[derive(Clone)]
pub struct WorkflowRuntime {
    engine: Engine,
    linker: Arc<Linker<RunHost>>,
}

impl WorkflowRuntime {
    /// A deterministic engine with only the workflow world linked.
    pub fn new() -> wasmtime::Result<WorkflowRuntime> {
        let mut config = Config::new();
        config
            .cranelift_nan_canonicalization(true)
            .wasm_threads(false)
            .wasm_relaxed_simd(false)
            .consume_fuel(true);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        Workflow::add_to_linker::<_, HasSelf<RunHost>>(&mut linker, |h| h)?;
        Ok(WorkflowRuntime {
            engine,
            linker: Arc::new(linker),
        })
    }

    /// Compile a component and check that it is a weft workflow.
    pub async fn load(&self, path: &Path) -> Result<WorkflowModule, ModuleError> {
        let compile = |reason: String| ModuleError::Compile {
            path: path.to_owned(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| compile(e.to_string()))?;
        let component =
            Component::new(&self.engine, &bytes).map_err(|e| compile(format!("{e:#}")))?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(WorkflowPre::new)
            .map_err(|e| ModuleError::World {
                path: path.to_owned(),
                reason: format!(
                    "{e:#} (workflows may import only weft:plugin/workflow-host: no WASI, \
                     so that every run is deterministic)"
                ),
            })?;
        let module = WorkflowModule {
            path: path.to_owned(),
            pre,
            engine: self.engine.clone(),
            types: Vec::new(),
        };
        let types = module
            .workflow_types()
            .await
            .map_err(|reason| ModuleError::Types {
                path: path.to_owned(),
                reason,
            })?;
        Ok(WorkflowModule { types, ..module })
    }
}

/// A compiled workflow component, ready to instantiate.
#[derive(Clone)]
pub struct WorkflowModule {
    path: PathBuf,
    pre: WorkflowPre<RunHost>,
    engine: Engine,
    types: Vec<String>,
}

impl crate::registry::Module for WorkflowModule {
    fn path(&self) -> &Path {
        &self.path
    }

    fn types(&self) -> &[String] {
        &self.types
    }
}

impl WorkflowModule {
    fn store(&self, state: Arc<Mutex<RunState>>) -> Store<RunHost> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(MAX_MEMORY_BYTES)
            .instances(16)
            .build();
        let mut store = Store::new(&self.engine, RunHost { state, limits });
        store.limiter(|h| &mut h.limits);
        // A guest only runs when it is first called or when a host call
        // returns to it: refill its fuel there, once per activation, so each
        // activation has the same budget however long the run lives.
        store.call_hook(|mut ctx, hook| {
            if hook.exiting_host() && ctx.data().lock_state().take_refuel() {
                ctx.set_fuel(FUEL_PER_ACTIVATION)?;
            }
            Ok(())
        });
        store
    }

    /// Ask a throwaway instance which workflow types the component offers.
    async fn workflow_types(&self) -> Result<Vec<String>, String> {
        let info = crate::bindings::workflow::weft::plugin::workflow_host::WorkflowInfo {
            workflow_type: String::new(),
            workflow_id: String::new(),
            run_id: String::new(),
            namespace: String::new(),
            task_queue: String::new(),
            attempt: 0,
        };
        let mut store = self.store(Arc::new(Mutex::new(RunState::new(info, 0))));
        let bindings: Workflow = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| format!("cannot instantiate: {e:#}"))?;
        let types = bindings
            .weft_plugin_workflow_guest()
            .call_workflow_types(&mut store)
            .await
            .map_err(|e| format!("workflow-types trapped: {e:#}"))?;
        if types.is_empty() {
            return Err("workflow-types returned no workflow type".into());
        }
        Ok(types)
    }
}

/// The workflow types one worker serves.
pub type WorkflowRegistry = crate::registry::Registry<WorkflowModule>;
