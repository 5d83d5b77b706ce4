//! The activity runtime: each activity task runs in a fresh instance of its
//! component, with WASI p2 linked but reaching only what the module's grants
//! allow (see [`sandbox`]). Deny by default: no directory, no environment
//! variable, no socket address unless the config lists it.

pub mod http;
mod output;
pub mod quota;
pub mod sandbox;
mod worker;

pub use output::printable;
pub use sandbox::ActivityHost;
pub use worker::poll_activity_tasks;

use crate::bindings::activity::{Activity, ActivityPre};
use crate::config::Grants;
use crate::module::{self, CompileCache, Kind, ModuleError};
use crate::store::Digest;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, Store};

/// How often the epoch ticks: a running guest yields to the executor at
/// least this often, so timeouts and cancellation take effect promptly.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The engine and linker shared by every activity module.
#[derive(Clone)]
pub struct ActivityRuntime {
    engine: Engine,
    cache: Option<CompileCache>,
    linker: Arc<Linker<ActivityHost>>,
}

impl ActivityRuntime {
    /// An engine with epoch interruption, WASI p2 and the activity world
    /// linked. Starts the epoch ticker on the current tokio runtime.
    pub fn new() -> wasmtime::Result<ActivityRuntime> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        // Over wasmtime-wasi's filesystem: counts writes against quotas.
        quota::add_to_linker(&mut linker, ActivityHost::quota_fs)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        Activity::add_to_linker::<_, HasSelf<ActivityHost>>(&mut linker, |h| h)?;
        let weak = engine.weak();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(EPOCH_TICK);
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                tick.tick().await;
            }
        });
        Ok(ActivityRuntime {
            engine,
            cache: None,
            linker: Arc::new(linker),
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
        let component = module::compile(
            &self.engine,
            Kind::Activity,
            path,
            bytes,
            self.cache.as_ref(),
        )?;
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
            grants: Arc::new(grants.clone()),
            slots: grants.max_instances.map(|n| Arc::new(Semaphore::new(n))),
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
    grants: Arc<Grants>,
    /// Bounds instances running at once (`max_instances`).
    slots: Option<Arc<Semaphore>>,
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

    async fn activity_types(&self) -> Result<Vec<String>, String> {
        let host = ActivityHost::new(&self.grants, sandbox::TaskContext::inspect())?;
        let (mut store, bindings) = self
            .instantiate(host)
            .await
            .map_err(|e| format!("cannot instantiate: {e:#}"))?;
        bindings
            .weft_plugin_activity_guest()
            .call_activity_types(&mut store)
            .await
            .map_err(|e| format!("activity-types trapped: {e:#}"))
    }
}

/// The activity types one worker serves.
pub type ActivityRegistry = module::Registry<ActivityModule>;
