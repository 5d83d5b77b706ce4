//! The activity runtime: each activity task runs in a fresh instance of its
//! component (in a reused slot of the host's [`pool`]), with WASI p2 linked but reaching only what the module's grants
//! allow (see [`sandbox`]). Deny by default: no directory, no environment
//! variable, no socket address unless the config lists it.

pub mod http;
mod output;
pub mod pool;
pub mod quota;
pub mod sandbox;
mod worker;

pub use output::printable;
pub use sandbox::ActivityHost;
pub use worker::poll_activity_tasks;

use crate::bindings::activity::{Activity, ActivityPre};
use crate::config::Grants;
use crate::epoch::EpochTicker;
use crate::module::{self, CompileCache, Kind, ModuleError};
use crate::store::Digest;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, Store};

/// How often the epoch ticks while activity guests run: a running guest
/// yields to the executor at least this often, so timeouts and cancellation
/// take effect promptly.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The engine and linker shared by every activity module.
#[derive(Clone)]
pub struct ActivityRuntime {
    engine: Engine,
    epochs: Arc<EpochTicker>,
    cache: Option<CompileCache>,
    linker: Arc<Linker<ActivityHost>>,
    instances: pool::Slots,
}

impl ActivityRuntime {
    /// An engine with epoch interruption, WASI p2 and the activity world
    /// linked. Its epoch advances on a thread of its own while guest code
    /// runs (see [`crate::epoch`]).
    pub fn new() -> wasmtime::Result<ActivityRuntime> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        pool::configure(&mut config);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        // Over wasmtime-wasi's filesystem: counts writes against quotas.
        quota::add_to_linker(&mut linker, ActivityHost::quota_fs)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        Activity::add_to_linker::<_, HasSelf<ActivityHost>>(&mut linker, |h| h)?;
        // Not a tokio task: guests that hold every async worker thread
        // would starve it, and without ticks they never yield.
        let epochs = Arc::new(EpochTicker::new(&engine, EPOCH_TICK, "weft-activity-epoch"));
        Ok(ActivityRuntime {
            engine,
            epochs,
            cache: None,
            linker: Arc::new(linker),
            instances: pool::Slots::default(),
        })
    }

    /// Keep compiled components in `cache` (none: compile on every load).
    pub fn with_cache(mut self, cache: Option<CompileCache>) -> Self {
        self.cache = cache;
        self
    }

    /// Compile a component, check its world and grants, list its types.
    pub async fn load(&self, path: &Path, grants: &Grants) -> Result<ActivityModule, ModuleError> {
        let bytes = module::read(Kind::Activity, path)?;
        self.load_bytes(path, &bytes, grants).await
    }

    /// As [`load`](Self::load), from the component's bytes; `path` names
    /// where they came from.
    pub async fn load_bytes(
        &self,
        path: &Path,
        bytes: &[u8],
        grants: &Grants,
    ) -> Result<ActivityModule, ModuleError> {
        let component = module::compile_off_runtime(
            &self.engine,
            Kind::Activity,
            path,
            bytes,
            self.cache.as_ref(),
        )
        .await?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(ActivityPre::new)
            .map_err(|e| ModuleError::World {
                kind: Kind::Activity,
                path: path.to_owned(),
                reason: format!("{e:#}"),
            })?;
        sandbox::prepare(grants).map_err(|reason| ModuleError::Invalid {
            kind: Kind::Activity,
            path: path.to_owned(),
            reason,
        })?;
        let mut module = ActivityModule {
            path: path.to_owned(),
            digest: Digest::of(bytes),
            pre,
            engine: self.engine.clone(),
            epochs: self.epochs.clone(),
            grants: Arc::new(grants.clone()),
            slots: grants.max_instances.map(|n| Arc::new(Semaphore::new(n))),
            instances: self.instances.clone(),
            types: Vec::new(),
        };
        module.types = module::offered_types(Kind::Activity, path, module.activity_types().await)?;
        Ok(module)
    }
}

/// A compiled activity component with its grants.
#[derive(Clone)]
pub struct ActivityModule {
    path: PathBuf,
    digest: Digest,
    pre: ActivityPre<ActivityHost>,
    engine: Engine,
    epochs: Arc<EpochTicker>,
    grants: Arc<Grants>,
    /// Bounds instances running at once (`max_instances`).
    slots: Option<Arc<Semaphore>>,
    /// The host's pool slots, one per live instance.
    instances: pool::Slots,
    types: Vec<String>,
}

impl module::Module for ActivityModule {
    fn path(&self) -> &Path {
        &self.path
    }

    fn types(&self) -> &[String] {
        &self.types
    }
}

impl ActivityModule {
    /// The component's digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// A fresh instance for one task, sandboxed by the module's grants.
    /// The guest yields to the executor at every epoch tick; the caller
    /// holds an [`EpochTicker::running`] guard while it uses the instance.
    async fn instantiate(
        &self,
        host: ActivityHost,
    ) -> wasmtime::Result<(Store<ActivityHost>, Activity)> {
        let mut store = Store::new(&self.engine, host);
        store.limiter(|h| &mut h.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(wasmtime::UpdateDeadline::Yield(1)));
        let bindings = self.pre.instantiate_async(&mut store).await?;
        Ok((store, bindings))
    }

    /// Ask a throwaway instance which activity types the component offers:
    /// deploy-time guest code, run on the blocking pool (never on an async
    /// worker thread, where a looping guest would stall pollers, health
    /// checks and the admin API), with no grants, within
    /// [`module::TYPES_DEADLINE`].
    async fn activity_types(&self) -> Result<Vec<String>, String> {
        let module = self.clone();
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || runtime.block_on(module.call_activity_types()))
            .await
            .map_err(|e| format!("activity-types did not finish: {e}"))?
    }

    async fn call_activity_types(&self) -> Result<Vec<String>, String> {
        // Listing types needs no IO: no directory, variable, secret or
        // network, whatever the module is granted for its tasks.
        let no_grants = Arc::new(Grants {
            memory_bytes: self.grants.memory_bytes,
            ..Grants::default()
        });
        let _instance = self.instances.take().await;
        let host = ActivityHost::new(&no_grants, sandbox::TaskContext::inspect())?;
        let mut store = Store::new(&self.engine, host);
        store.limiter(|h| &mut h.limits);
        // Wasm code traps at the deadline (it does not yield: nothing here
        // could cancel it); time spent awaiting a host call (a WASI sleep)
        // is bounded by the timeout around the call.
        store.epoch_deadline_trap();
        store.set_epoch_deadline(
            module::TYPES_DEADLINE
                .as_millis()
                .div_ceil(EPOCH_TICK.as_millis()) as u64,
        );
        let _running = self.epochs.running();
        let call = async {
            let bindings = self
                .pre
                .instantiate_async(&mut store)
                .await
                .map_err(|e| ("cannot instantiate", e))?;
            bindings
                .weft_plugin_activity_guest()
                .call_activity_types(&mut store)
                .await
                .map_err(|e| ("activity-types trapped", e))
        };
        match tokio::time::timeout(module::TYPES_DEADLINE, call).await {
            Ok(Ok(types)) => Ok(types),
            Ok(Err((_, trap)))
                if trap.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt) =>
            {
                Err(module::types_overran(
                    "activity-types",
                    "it was stopped at the deadline (an endless loop?)",
                ))
            }
            Ok(Err((what, trap))) => Err(format!("{what}: {trap:#}")),
            Err(_) => Err(module::types_overran(
                "activity-types",
                "it was still waiting on a host call at the deadline",
            )),
        }
    }
}

/// The activity types one worker serves.
pub type ActivityRegistry = module::Registry<ActivityModule>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A component needing more tables than a pool slot holds is refused
    /// when it loads, and the message names the limit.
    #[tokio::test]
    async fn a_component_larger_than_a_pool_slot_is_refused_naming_the_limit() {
        let five_tables = "(table 1 funcref)".repeat(5);
        let bytes = wat::parse_str(format!(
            "(component (core module $m {five_tables}) (core instance (instantiate $m)))"
        ))
        .expect("valid WAT");
        let e = ActivityRuntime::new()
            .expect("engine")
            .load_bytes(Path::new("big"), &bytes, &Grants::default())
            .await
            .map(|_| ())
            .expect_err("refused");
        let message = e.to_string();
        assert!(
            message.contains("tables count of 5 exceeds") && message.contains("pooling allocator"),
            "{message}"
        );
    }

    /// On a runtime with a single async worker thread, which a guest
    /// running there would hold: the looping `activity-types` runs on the
    /// blocking pool, tasks still run meanwhile, and the load is refused
    /// at the deadline.
    #[test]
    fn a_looping_activity_types_is_refused_at_the_deadline_and_holds_no_worker_thread() {
        let bytes = wat::parse_str(include_str!(
            "../../../tests/hostile/activity-types-loop.wat"
        ))
        .expect("valid WAT");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio");
        runtime.block_on(async {
            let activities = ActivityRuntime::new().expect("engine");
            let started = Instant::now();
            let load = tokio::spawn(async move {
                activities
                    .load_bytes(Path::new("looping"), &bytes, &Grants::default())
                    .await
                    .map(|_| ())
            });
            let mut probes = 0;
            while !load.is_finished() {
                let answered =
                    tokio::time::timeout(Duration::from_secs(1), tokio::spawn(async {})).await;
                assert!(
                    matches!(answered, Ok(Ok(()))),
                    "a task spawned while the guest loops runs within 1s"
                );
                probes += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let e = load.await.expect("load task").expect_err("refused");
            let elapsed = started.elapsed();
            assert!(probes > 0, "the guest was still looping when probed");
            assert!(
                e.to_string()
                    .contains("activity-types did not return within 5s"),
                "{e}"
            );
            assert!(
                elapsed >= module::TYPES_DEADLINE
                    && elapsed < module::TYPES_DEADLINE + Duration::from_secs(5),
                "stopped at the deadline: {elapsed:?}"
            );
        });
    }
}
