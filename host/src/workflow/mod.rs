//! The workflow runtime: deterministic Wasm components, one instance per run.
//!
//! The engine is configured so that a run can only compute a function of its
//! history: NaNs are canonicalised, threads and relaxed SIMD are off, every
//! activation has a fuel budget and a wall-clock deadline (epoch
//! interruption, see [`epoch`]), and the linker holds only the
//! `workflow-host` interface (no WASI at all), so a component that imports a
//! clock, entropy, files or sockets cannot even be instantiated.

mod activation;
mod convert;
pub mod epoch;
pub mod limits;
mod pool;
mod pooled;
mod pressure;
mod run;
mod state;
mod temporal_runtime;
mod worker;

pub use limits::GuestLimits;
pub use pool::MAX_RUNS_PER_INSTANCE;
pub use run::{Run, TaskFailure};
pub use state::{HandleKind, RunHost, RunState};
pub use worker::{Activations, completion, poll_workflow_tasks};

use crate::bindings::activation::{ActivationWorkflow, ActivationWorkflowPre};
use crate::bindings::temporal_runtime::WorkflowModule as TemporalBindings;
use crate::bindings::workflow::{Workflow, WorkflowPre};
use crate::epoch::EpochTicker;
use crate::module::{self, CompileCache, Kind, ModuleError};
use crate::store::Digest;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, Store};

/// Fuel for one activation: bounds a runaway guest to a failed workflow task.
pub const FUEL_PER_ACTIVATION: u64 = 2_000_000_000;
/// Linear memory a workflow instance may grow to.
pub const MAX_MEMORY_BYTES: usize = 256 << 20;

/// The engine and linker shared by every workflow module.
#[derive(Clone)]
pub struct WorkflowRuntime {
    engine: Engine,
    epochs: Arc<EpochTicker>,
    cache: Option<CompileCache>,
    linker: Arc<Linker<RunHost>>,
}

impl WorkflowRuntime {
    /// A deterministic engine with only the workflow world linked.
    pub fn new() -> wasmtime::Result<WorkflowRuntime> {
        let mut config = Config::new();
        // Threads are off by construction: wasmtime is built without them.
        config
            .cranelift_nan_canonicalization(true)
            .wasm_relaxed_simd(false)
            .consume_fuel(true)
            // The activation deadline: fuel does not bound time spent in
            // host imports. An epoch trap fails the task, like fuel.
            .epoch_interruption(true);
        let engine = Engine::new(&config)?;
        let epochs = Arc::new(EpochTicker::new(
            &engine,
            epoch::TICK,
            "weft-workflow-epoch",
        ));
        let mut linker = Linker::new(&engine);
        Workflow::add_to_linker::<_, HasSelf<RunHost>>(&mut linker, |h| h)?;
        // Both worlds define the (function-less) `types` interface.
        linker.allow_shadowing(true);
        ActivationWorkflow::add_to_linker::<_, HasSelf<RunHost>>(&mut linker, |h| h)?;
        linker.allow_shadowing(false);
        // Temporal's own world: its interfaces are named apart from weft's.
        TemporalBindings::add_to_linker::<_, HasSelf<RunHost>>(&mut linker, |h| h)?;
        Ok(WorkflowRuntime {
            engine,
            epochs,
            cache: None,
            linker: Arc::new(linker),
        })
    }

    /// Keep compiled components in `cache` (none: compile on every load).
    pub fn with_cache(mut self, cache: Option<CompileCache>) -> Self {
        self.cache = cache;
        self
    }

    /// Compile a component file and check that it is a weft workflow.
    pub async fn load(&self, path: &Path) -> Result<WorkflowModule, ModuleError> {
        let bytes = module::read(Kind::Workflow, path)?;
        self.load_bytes(path, &bytes).await
    }

    /// Compile a component and check that it is a weft workflow; `path`
    /// names where it came from.
    pub async fn load_bytes(
        &self,
        path: &Path,
        bytes: &[u8],
    ) -> Result<WorkflowModule, ModuleError> {
        let component = module::compile_off_runtime(
            &self.engine,
            Kind::Workflow,
            path,
            bytes,
            self.cache.as_ref(),
        )
        .await?;
        let world = component.component_type();
        let imports: Vec<String> = world
            .imports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let exports: Vec<String> = world
            .exports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let refuse = |reason: String| ModuleError::World {
            kind: Kind::Workflow,
            path: path.to_owned(),
            reason,
        };
        if exports
            .iter()
            .any(|name| name.starts_with(temporal_runtime::PACKAGE_PREFIX))
        {
            return self
                .load_temporal(path, bytes, &component, &imports, &exports)
                .await
                .map_err(refuse);
        }
        let forbidden: Vec<String> = imports
            .iter()
            .filter(|name| !name.starts_with("weft:plugin/"))
            .cloned()
            .collect();
        if !forbidden.is_empty() {
            return Err(refuse(format!(
                "it imports {}; workflows may import only weft:plugin/workflow-host \
                 (no WASI: no clock, randomness, files or network), so that every run \
                 is deterministic. Use the host's `now`, `random` and `log` instead",
                forbidden.join(", ")
            )));
        }
        let world_error = |e: wasmtime::Error| ModuleError::World {
            kind: Kind::Workflow,
            path: path.to_owned(),
            reason: format!(
                "{e:#} (workflows may import only weft:plugin/workflow-host or \
                 weft:plugin/activation-host: no WASI, so that every run is deterministic)"
            ),
        };
        let activation_based = world
            .exports(&self.engine)
            .any(|(name, _)| name.starts_with("weft:plugin/activation-guest@"));
        // The blocking world's imports suspend the guest, which an
        // activation-based guest must never do: refuse the mix at load
        // rather than fail its runs' tasks later.
        let blocking_imports = world
            .imports(&self.engine)
            .any(|(name, _)| name.starts_with("weft:plugin/workflow-host@"));
        if activation_based && blocking_imports {
            return Err(ModuleError::World {
                kind: Kind::Workflow,
                path: path.to_owned(),
                reason: "it exports weft:plugin/activation-guest but imports \
                         weft:plugin/workflow-host, whose calls block: an activation-based \
                         workflow imports weft:plugin/activation-host instead"
                    .into(),
            });
        }
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(world_error)?;
        let (guest, types) = if activation_based {
            let pre = ActivationWorkflowPre::new(pre).map_err(world_error)?;
            let state = RunState::for_activations(no_run(), 0);
            let guest = pre.clone();
            let described = self
                .deploy_time_call("describe", state, move |mut store| {
                    Box::pin(async move {
                        let bindings = guest.instantiate_async(&mut store).await?;
                        let guest = bindings.weft_plugin_activation_guest();
                        guest.call_describe(&mut store).await
                    })
                })
                .await;
            let (types, runs) = match described {
                Ok(d) => (Ok(d.workflow_types), d.max_runs_per_instance),
                Err(e) => (Err(e), 1),
            };
            let pool = activation::Pool::new(pre, runs);
            (Guest::Activation(Arc::new(pool)), types)
        } else {
            let pre = WorkflowPre::new(pre).map_err(world_error)?;
            let guest = pre.clone();
            let types = self
                .deploy_time_call(
                    "workflow-types",
                    RunState::new(no_run(), 0),
                    move |mut store| {
                        Box::pin(async move {
                            let bindings: Workflow = guest.instantiate_async(&mut store).await?;
                            let guest = bindings.weft_plugin_workflow_guest();
                            guest.call_workflow_types(&mut store).await
                        })
                    },
                )
                .await;
            (Guest::Fiber(pre), types)
        };
        Ok(WorkflowModule {
            path: path.to_owned(),
            digest: Digest::of(bytes),
            guest,
            engine: self.engine.clone(),
            epochs: self.epochs.clone(),
            types: module::offered_types(Kind::Workflow, path, types)?,
        })
    }
}

/// A deploy-time guest call, owning its store.
type DeployTimeCall<T> = Pin<Box<dyn Future<Output = wasmtime::Result<T>> + Send>>;

impl WorkflowRuntime {
    /// Ask a throwaway instance what the component offers: deploy-time
    /// guest code, run on the blocking pool (never on an async worker
    /// thread, where a looping guest would stall pollers, health checks and
    /// the admin API), within [`module::TYPES_DEADLINE`] and one
    /// activation's fuel.
    async fn deploy_time_call<T: Send + 'static>(
        &self,
        what: &'static str,
        mut state: RunState,
        call: impl FnOnce(Store<RunHost>) -> DeployTimeCall<T> + Send + 'static,
    ) -> Result<T, String> {
        state.set_deadline_ticks(
            module::TYPES_DEADLINE
                .as_millis()
                .div_ceil(epoch::TICK.as_millis()) as u64,
        );
        let (engine, epochs) = (self.engine.clone(), self.epochs.clone());
        tokio::task::spawn_blocking(move || {
            let mut call = call(new_store(&engine, Arc::new(Mutex::new(state))));
            // The deadline counts only while guest code runs.
            let _running = epochs.running();
            // As in an activation, nothing the guest could wait on makes
            // progress here: one poll runs it as far as it goes.
            match call.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(Ok(value)) => Ok(value),
                Poll::Ready(Err(trap)) => Err(match trap.downcast_ref::<wasmtime::Trap>() {
                    Some(wasmtime::Trap::Interrupt) => module::types_overran(
                        what,
                        "it was stopped at the deadline (an endless loop?)",
                    ),
                    Some(wasmtime::Trap::OutOfFuel) => format!(
                        "{what} ran out of fuel: it spent all {FUEL_PER_ACTIVATION} units \
                         without returning (an endless loop?)"
                    ),
                    _ => format!("{what} trapped: {trap:#}"),
                }),
                Poll::Pending => Err(format!(
                    "{what} waited on the host (a timer, an activity, a signal, ...): it \
                     must return at once, outside any run"
                )),
            }
        })
        .await
        .map_err(|e| format!("{what} did not finish: {e}"))?
    }
}

/// The guest of a workflow module, by world.
#[derive(Clone)]
pub(crate) enum Guest {
    /// Blocking (`workflow`): one instance per run, suspended on a fiber.
    Fiber(WorkflowPre<RunHost>),
    /// Activation-based (`activation-workflow`): many runs per instance.
    Activation(Arc<activation::Pool>),
    /// Temporal's own world (`temporal:workflow-runtime`): many runs per
    /// instance, one `workflow-instance` each.
    Temporal(Arc<temporal_runtime::Pool>),
}

/// A compiled workflow component, ready to instantiate.
#[derive(Clone)]
pub struct WorkflowModule {
    path: PathBuf,
    digest: Digest,
    guest: Guest,
    engine: Engine,
    epochs: Arc<EpochTicker>,
    types: Vec<String>,
}

impl module::Module for WorkflowModule {
    fn path(&self) -> &Path {
        &self.path
    }

    fn types(&self) -> &[String] {
        &self.types
    }
}

impl WorkflowModule {
    /// The component's digest: what a run started on it records.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    fn store(&self, state: Arc<Mutex<RunState>>) -> Store<RunHost> {
        new_store(&self.engine, state)
    }
}

/// A store for a workflow instance, bounded per activation by fuel and the
/// epoch deadline.
fn new_store(engine: &Engine, state: Arc<Mutex<RunState>>) -> Store<RunHost> {
    let limits = GuestLimits::new(MAX_MEMORY_BYTES);
    let deadline = state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .deadline_ticks();
    let mut store = Store::new(engine, RunHost { state, limits });
    store.limiter(|h| &mut h.limits);
    store.set_epoch_deadline(deadline);
    // A guest only runs when it is first called or when a host call
    // returns to it: refill its fuel and restart its deadline there,
    // once per activation, so each activation has the same budget
    // however long the run lives.
    store.call_hook(|mut ctx, hook| {
        // A limit broken inside an import traps the guest as soon as
        // the import returns, so it cannot go on piling up.
        if hook.exiting_host()
            && let Some(violation) = ctx.data().lock_state().take_violation()
        {
            return Err(wasmtime::Error::msg(violation));
        }
        if hook.exiting_host() && ctx.data().lock_state().take_refuel() {
            ctx.set_fuel(FUEL_PER_ACTIVATION)?;
            let deadline = ctx.data().lock_state().deadline_ticks();
            ctx.set_epoch_deadline(deadline);
        } else if hook.entering_host() {
            let left = ctx.get_fuel()?;
            ctx.data().lock_state().record_fuel_left(left);
        }
        Ok(())
    });
    store
}

/// Identity of no run: what a throwaway instance sees.
fn no_run() -> crate::bindings::workflow::weft::plugin::workflow_host::WorkflowInfo {
    crate::bindings::workflow::weft::plugin::workflow_host::WorkflowInfo {
        workflow_type: String::new(),
        workflow_id: String::new(),
        run_id: String::new(),
        namespace: String::new(),
        task_queue: String::new(),
        attempt: 0,
    }
}

/// The workflow types one worker serves.
pub type WorkflowRegistry = module::Registry<Arc<WorkflowModule>>;

pub use crate::temporal::runs::PIN_PREFIX;

/// Which module a run executes on.
pub trait ModuleSource: Send + Sync + 'static {
    /// The module new runs of `workflow_type` start on.
    fn current(&self, workflow_type: &str) -> Result<Arc<WorkflowModule>, TaskFailure>;

    /// The module of a run whose history pins it to `digest`.
    fn pinned(
        &self,
        workflow_type: &str,
        digest: &Digest,
    ) -> impl Future<Output = Result<Arc<WorkflowModule>, TaskFailure>> + Send;
}

/// Fixed modules, as `weft replay` and the replay gate use them: a run
/// replays on the module offering its type, whatever it was pinned to.
impl ModuleSource for WorkflowRegistry {
    fn current(&self, workflow_type: &str) -> Result<Arc<WorkflowModule>, TaskFailure> {
        self.get(workflow_type).cloned().ok_or_else(|| {
            TaskFailure(format!(
                "workflow type `{workflow_type}` is not served here (served: {})",
                self.type_list()
            ))
        })
    }

    async fn pinned(
        &self,
        workflow_type: &str,
        _digest: &Digest,
    ) -> Result<Arc<WorkflowModule>, TaskFailure> {
        self.current(workflow_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, bytes: &[u8]) -> PathBuf {
        let path = std::env::temp_dir().join(format!("weft-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).expect("write test module");
        path
    }

    fn refusal(path: &Path) -> String {
        let runtime = WorkflowRuntime::new().expect("engine");
        let loaded = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("tokio")
            .block_on(runtime.load(path));
        if path.starts_with(std::env::temp_dir()) {
            let _ = std::fs::remove_file(path);
        }
        match loaded {
            Ok(_) => panic!("{} must be refused", path.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_file_that_is_not_a_component_is_refused() {
        let e = refusal(&write("not-wasm.wasm", b"hello"));
        assert!(e.starts_with("cannot load workflow module"), "{e}");
        let e = refusal(Path::new("/nonexistent/weft.wasm"));
        assert!(e.contains("No such file"), "{e}");
    }

    #[test]
    fn an_activation_based_workflow_importing_blocking_calls_is_refused() {
        let wat = r#"(component
            (import "weft:plugin/workflow-host@0.1.0" (instance))
            (import "weft:plugin/activation-host@0.1.0" (instance))
            (instance $guest)
            (export "weft:plugin/activation-guest@0.1.0" (instance $guest)))"#;
        let e = refusal(&write("mixed-worlds.wat", wat.as_bytes()));
        assert!(
            e.contains(
                "exports weft:plugin/activation-guest but imports weft:plugin/workflow-host"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_workflow_importing_wasi_is_refused_for_determinism() {
        let wat = r#"(component
            (import "wasi:random/random@0.2.0" (instance
                (export "get-random-u64" (func (result u64)))))
            (import "wasi:clocks/wall-clock@0.2.0" (instance))
            (import "weft:plugin/workflow-host@0.1.0" (instance)))"#;
        let e = refusal(&write("wasi.wat", wat.as_bytes()));
        assert!(e.contains("is not a weft workflow"), "{e}");
        assert!(
            e.contains("it imports wasi:random/random@0.2.0, wasi:clocks/wall-clock@0.2.0;"),
            "lists every forbidden import, and only those: {e}"
        );
        assert!(e.contains("deterministic"), "says why: {e}");
    }

    #[test]
    fn a_temporal_workflow_importing_wasi_is_refused_naming_the_import() {
        let wat = r#"(component
            (import "wasi:clocks/wall-clock@0.2.0" (instance))
            (import "temporal:workflow-runtime/workflow-host@0.1.0" (instance))
            (instance $guest)
            (export "temporal:workflow-runtime/workflow-guest@0.1.0" (instance $guest)))"#;
        let e = refusal(&write("temporal-wasi.wat", wat.as_bytes()));
        assert!(e.contains("is not a weft workflow"), "{e}");
        assert!(
            e.contains("it imports wasi:clocks/wall-clock@0.2.0;"),
            "names the import, and only it: {e}"
        );
        assert!(
            e.contains("may import only temporal:workflow-runtime/workflow-host@0.1.0"),
            "{e}"
        );
    }

    #[test]
    fn a_temporal_workflow_importing_weft_calls_is_refused() {
        let wat = r#"(component
            (import "weft:plugin/activation-host@0.1.0" (instance))
            (instance $guest)
            (export "temporal:workflow-runtime/workflow-guest@0.1.0" (instance $guest)))"#;
        let e = refusal(&write("temporal-weft.wat", wat.as_bytes()));
        assert!(
            e.contains("it imports weft:plugin/activation-host@0.1.0;"),
            "{e}"
        );
    }

    #[test]
    fn another_version_of_temporals_world_is_refused_naming_the_served_one() {
        let wat = r#"(component
            (import "temporal:workflow-runtime/workflow-host@0.2.0" (instance))
            (instance $guest)
            (export "temporal:workflow-runtime/workflow-guest@0.2.0" (instance $guest)))"#;
        let e = refusal(&write("temporal-0.2.wat", wat.as_bytes()));
        assert!(
            e.contains("it exports temporal:workflow-runtime/workflow-guest@0.2.0"),
            "{e}"
        );
        assert!(e.contains("temporal:workflow-runtime@0.1.0"), "{e}");
    }

    /// The OrderWorkflow written with Temporal's SDK (built from source by
    /// weft-test-guests) loads as a workflow module and lists its type.
    #[test]
    fn a_temporal_workflow_component_loads_and_lists_its_types() {
        let path = Path::new(weft_test_guests::ORDER_WORKFLOW_TEMPORAL);
        let runtime = WorkflowRuntime::new().expect("engine");
        let module = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("tokio")
            .block_on(runtime.load(path))
            .unwrap_or_else(|e| panic!("{} loads: {e}", path.display()));
        assert!(matches!(module.guest, Guest::Temporal(_)));
        assert_eq!(module::Module::types(&module), ["OrderWorkflow"]);
    }

    #[test]
    fn a_workflow_whose_types_export_loops_is_refused_at_the_deadline() {
        // It loops over a host import: fuel, which counts only the guest's
        // own instructions, would take minutes to run out.
        let bytes = wat::parse_str(include_str!(
            "../../../tests/hostile/workflow-types-loop.wat"
        ))
        .expect("valid WAT");
        let e = refusal(&write("types-loop.wasm", &bytes));
        assert!(e.contains("workflow-types did not return within 5s"), "{e}");
    }
}
