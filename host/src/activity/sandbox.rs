//! What one activity instance can reach: a WASI context built from the
//! module's grants, and the `activity-host` imports.

use super::http::HttpPolicy;
use super::output::{Identity, LogOutput, Stream};
use super::quota::{Quota, QuotaFs, Quotas};
use crate::bindings::activity::weft::plugin::activity_host::{self, ActivityInfo};
use crate::bindings::types::{LogLevel, Payload};
use crate::config::{DirGrant, Grants, SocketGrant, real_path};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::filesystem::WasiFilesystemCtxView;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

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
    /// Details of the last heartbeat of a previous attempt.
    pub last_heartbeat: Vec<Payload>,
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
            last_heartbeat: Vec::new(),
        }
    }
}

/// Check grants once at load: granted directories exist (or are created
/// when the grant says so) and are directories.
pub fn prepare(grants: &Grants) -> Result<(), String> {
    for dir in &grants.dirs {
        if dir.create {
            // Checked before creating too: create_dir_all follows symlinks.
            if let Some(root) = &dir.within
                && !real_path(&dir.host).starts_with(root)
            {
                return Err(left_the_tree(dir));
            }
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
        resolved_dir(dir)?;
    }
    Ok(())
}

fn left_the_tree(dir: &DirGrant) -> String {
    format!(
        "granted dir {} (guest {}) passes through a symlink that leads out of the \
         operator allow-list (`allow.dirs`)",
        dir.host.display(),
        dir.guest
    )
}

/// The host path to preopen for `dir`: with no symlink in it, and still
/// within the `[allow]` dir it was granted under. Checked at every
/// instance start, because whoever can write in the allowed tree (another
/// module's writable grant, say) can replace a granted dir by a symlink
/// after the grant was checked. Inside the preopen, WASI's capability-based
/// opens (cap-std) refuse `..` and absolute symlinks on their own.
pub fn resolved_dir(dir: &DirGrant) -> Result<PathBuf, String> {
    let Some(root) = &dir.within else {
        return Ok(dir.host.clone());
    };
    let real = dir
        .host
        .canonicalize()
        .map_err(|e| format!("cannot open granted dir {}: {e}", dir.host.display()))?;
    if !real.starts_with(root) {
        return Err(left_the_tree(dir));
    }
    Ok(real)
}

/// The store data of an activity instance.
pub struct ActivityHost {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    http_policy: HttpPolicy,
    table: ResourceTable,
    quotas: Quotas,
    task: TaskContext,
    /// Memory, table and instance limits.
    pub limits: crate::workflow::GuestLimits,
}

impl ActivityHost {
    /// Build the sandbox for one task from the module's grants.
    pub fn new(grants: &Arc<Grants>, task: TaskContext) -> Result<ActivityHost, String> {
        let who = Identity(Arc::new(task.info.clone()));
        let mut wasi = WasiCtxBuilder::new();
        // One entry per preopen, in the order they are added: the guest
        // gets its preopens in that order, which is how the filesystem
        // host finds each one's quota.
        let mut quotas = Vec::new();
        for dir in &grants.dirs {
            let perms = if dir.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            let path = resolved_dir(dir)?;
            quotas.push(match dir.max_bytes.filter(|_| dir.writable) {
                Some(max) => Some(Quota::for_dir(&path, max, &dir.guest, who.clone())?),
                None => None,
            });
            wasi.preopened_dir(path, &dir.guest, perms)
                .map_err(|e| format!("cannot open granted dir {}: {e:#}", dir.host.display()))?;
        }
        for (name, value) in &grants.env {
            wasi.env(name, value);
        }
        wasi.stdout(LogOutput::new(who.clone(), Stream::Stdout));
        wasi.stderr(LogOutput::new(who.clone(), Stream::Stderr));
        // Sockets: only the granted addresses; no name lookup (grants are
        // IP addresses, so a name cannot smuggle in another host). Both
        // protocols stay on so that every refusal goes through the address
        // check, which logs it.
        wasi.allow_ip_name_lookup(false);
        wasi.allow_tcp(true);
        wasi.allow_udp(true);
        let (sockets, socket_who) = (grants.sockets.clone(), who.clone());
        wasi.socket_addr_check(move |addr, use_| {
            let allowed = socket_allowed(&sockets, addr, use_);
            if !allowed {
                socket_who.denied(
                    "socket",
                    &format!("denied socket {use_:?} {addr}: not in the module's `sockets` grants"),
                );
            }
            Box::pin(async move { allowed })
        });
        Ok(ActivityHost {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            http_policy: HttpPolicy::new(grants.clone(), who),
            table: ResourceTable::new(),
            quotas: Quotas::new(quotas),
            task,
            // Past a limit, trap with a message that names it rather than
            // let the guest's allocator fail obscurely.
            limits: crate::workflow::GuestLimits::new(grants.memory_bytes),
        })
    }
}

/// Implicit binds (before a connect or a send) use the wildcard address and
/// port 0: allow those, so that the connect or send itself is checked (and
/// a refusal names the address). Everything else must match a grant;
/// listening and accepting are never granted.
fn socket_allowed(grants: &[SocketGrant], addr: SocketAddr, use_: SocketAddrUse) -> bool {
    match use_ {
        SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => ephemeral(addr),
        SocketAddrUse::TcpConnect => grants.iter().any(|g| g.allows(true, addr)),
        SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => {
            grants.iter().any(|g| g.allows(false, addr))
        }
        _ => false,
    }
}

/// The wildcard address and port the OS binds before a connect or send.
fn ephemeral(addr: SocketAddr) -> bool {
    addr.ip().is_unspecified() && addr.port() == 0
}

impl ActivityHost {
    /// The filesystem host that counts writes against the grants' quotas.
    pub fn quota_fs(&mut self) -> QuotaFs<'_> {
        QuotaFs {
            fs: WasiFilesystemCtxView {
                ctx: self.wasi.filesystem(),
                table: &mut self.table,
            },
            quotas: &mut self.quotas,
        }
    }
}

impl WasiHttpView for ActivityHost {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            hooks: &mut self.http_policy,
            table: &mut self.table,
            ctx: &mut self.http,
        }
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

    fn last_heartbeat_details(&mut self) -> wasmtime::Result<Vec<Payload>> {
        Ok(self.task.last_heartbeat.clone())
    }

    fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        // One line, escaped and cut: a guest cannot forge or flood lines.
        let message = super::output::printable(&message, super::output::MAX_LINE);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_reach_granted_addresses_by_protocol_and_bind_only_ephemerally() {
        // tcp://127.0.0.1:5432 and udp://10.0.0.53:*
        let grants = [
            SocketGrant {
                tcp: true,
                ip: [127, 0, 0, 1].into(),
                port: Some(5432),
            },
            SocketGrant {
                tcp: false,
                ip: [10, 0, 0, 53].into(),
                port: None,
            },
        ];
        let allowed = |use_, addr: &str| socket_allowed(&grants, addr.parse().expect("addr"), use_);
        use SocketAddrUse::*;
        assert!(allowed(TcpConnect, "127.0.0.1:5432"));
        assert!(!allowed(TcpConnect, "127.0.0.1:5433"), "another port");
        assert!(
            !allowed(TcpConnect, "10.0.0.53:53"),
            "a UDP grant is not TCP"
        );
        assert!(allowed(UdpSend, "10.0.0.53:53"));
        assert!(allowed(UdpSend, "10.0.0.53:9999"), "port `*`");
        assert!(allowed(UdpReceive, "10.0.0.53:53"));
        assert!(!allowed(UdpSend, "10.0.0.54:53"), "another host");
        assert!(
            !allowed(UdpSend, "127.0.0.1:5432"),
            "a TCP grant is not UDP"
        );
        // Binds: only the implicit wildcard one, on either family.
        assert!(allowed(UdpBind, "0.0.0.0:0"));
        assert!(allowed(TcpBind, "[::]:0"));
        assert!(!allowed(UdpBind, "0.0.0.0:5353"), "a fixed port");
        assert!(!allowed(UdpBind, "127.0.0.1:0"), "a fixed address");
        assert!(
            !allowed(TcpListen, "0.0.0.0:0"),
            "listening is never granted"
        );
        assert!(!allowed(TcpAccept, "127.0.0.1:5432"), "nor accepting");
    }
}
