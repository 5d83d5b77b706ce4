//! What one activity instance can reach: a WASI context built from the
//! module's grants, and the `activity-host` imports.

use crate::bindings::activity::weft::plugin::activity_host::{self, ActivityInfo};
use crate::bindings::types::{LogLevel, Payload};
use crate::config::Grants;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Linear memory an activity instance may grow to.
pub const MAX_MEMORY_BYTES: usize = 512 << 20;

/// Records a heartbeat with Temporal.
pub type HeartbeatFn = Arc<dyn Fn(Vec<Payload>) + Send + Sync>;

/// The task an instance serves: its identity, heartbeat sink and
/// cancellation flag.
#[derive(Clone)]
pub struct TaskContext {
    /// Identity of the task.
    pub info: ActivityInfo,
    /// Where heartbeats go.
    pub heartbeat: HeartbeatFn,
    /// Set once Temporal asks the activity to stop.
    pub cancelled: Arc<AtomicBool>,
}

impl TaskContext {
    /// A context for instances that serve no task (listing a module's types).
    pub fn inspect() -> TaskContext {
        TaskContext {
            info: ActivityInfo {
                activity_type: String::new(),
                activity_id: String::new(),
                workflow_type: String::new(),
                workflow_id: String::new(),
                run_id: String::new(),
                namespace: String::new(),
                attempt: 0,
            },
            heartbeat: Arc::new(|_| {}),
            cancelled: Arc::default(),
        }
    }
}

/// Check grants once at load: granted directories exist (or are created
/// when the grant says so) and are directories.
pub fn prepare(grants: &Grants) -> Result<(), String> {
    for dir in &grants.dirs {
        if dir.create {
            std::fs::create_dir_all(&dir.host)
                .map_err(|e| format!("cannot create granted dir {}: {e}", dir.host.display()))?;
        }
        if !dir.host.is_dir() {
            return Err(format!(
                "granted dir {} (guest {}) is not a directory on this host",
                dir.host.display(),
                dir.guest
            ));
        }
    }
    Ok(())
}

/// The store data of an activity instance.
pub struct ActivityHost {
    wasi: WasiCtx,
    table: ResourceTable,
    task: TaskContext,
    /// Memory and instance limits.
    pub limits: StoreLimits,
}

impl ActivityHost {
    /// Build the sandbox for one task from the module's grants.
    pub fn new(grants: &Grants, task: TaskContext) -> Result<ActivityHost, String> {
        let mut wasi = WasiCtxBuilder::new();
        for dir in &grants.dirs {
            let perms = if dir.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            wasi.preopened_dir(&dir.host, &dir.guest, perms)
                .map_err(|e| format!("cannot open granted dir {}: {e:#}", dir.host.display()))?;
        }
        for (name, value) in &grants.env {
            wasi.env(name, value);
        }
        // Sockets: wasmtime-wasi denies every address unless a check allows
        // it, and name lookup is off; no grant for either exists yet.
        wasi.allow_ip_name_lookup(false);
        Ok(ActivityHost {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            task,
            limits: StoreLimitsBuilder::new()
                .memory_size(MAX_MEMORY_BYTES)
                .instances(64)
                .build(),
        })
    }
}

impl WasiView for ActivityHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl crate::bindings::types::Host for ActivityHost {}

impl activity_host::Host for ActivityHost {
    fn info(&mut self) -> wasmtime::Result<ActivityInfo> {
        Ok(self.task.info.clone())
    }

    fn heartbeat(&mut self, details: Vec<Payload>) -> wasmtime::Result<bool> {
        (self.task.heartbeat)(details);
        Ok(self.task.cancelled.load(Ordering::SeqCst))
    }

    fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        let i = &self.task.info;
        let (ty, id, wf, attempt) = (&i.activity_type, &i.activity_id, &i.workflow_id, i.attempt);
        macro_rules! emit {
            ($m:ident) => {
                tracing::$m!(target: "weft::guest", activity_type = %ty, activity_id = %id, workflow_id = %wf, attempt, "{message}")
            };
        }
        match level {
            LogLevel::Trace => emit!(trace),
            LogLevel::Debug => emit!(debug),
            LogLevel::Info => emit!(info),
            LogLevel::Warn => emit!(warn),
            LogLevel::Error => emit!(error),
        }
        Ok(())
    }
}
