//! `[store]` and `[admin]`: where uploaded modules live and how the admin
//! API listens.

use super::grants::Problem;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `[store]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    /// The store's directory (relative to the config file's directory).
    /// Hosts of a fleet that name one shared directory see the same modules.
    pub dir: PathBuf,
    /// How often to look for changes other hosts made to a shared store, in
    /// milliseconds; 0 never looks. Default 1000.
    pub poll_ms: Option<u64>,
}

/// `[admin]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    /// `unix:PATH` or `IP:PORT`; default `unix:<store dir>/admin.sock`.
    pub listen: Option<String>,
    /// A file holding the bearer token every call must carry. Required on
    /// every TCP listener, loopback included.
    pub token_file: Option<PathBuf>,
    /// Let a non-loopback TCP listener without TLS start anyway, its token
    /// travelling in clear (a warning is logged at start).
    #[serde(default)]
    pub insecure_plaintext_token: bool,
    /// PEM certificate chain and key: serve TLS.
    pub tls_cert: Option<PathBuf>,
    /// The key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates: require client certificates they signed (mTLS).
    pub client_ca: Option<PathBuf>,
    /// The largest upload accepted, in MiB (default 64).
    pub max_upload_mib: Option<usize>,
    /// How many recent runs of each workflow type the replay gate replays
    /// before a new version becomes current (default 20; 0 turns it off).
    pub gate_histories: Option<usize>,
}

/// The validated `[store]`.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The store's directory (absolute).
    pub dir: PathBuf,
    /// How often to look for other hosts' changes; `None` never.
    pub poll: Option<Duration>,
}

/// Where the admin API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// A unix socket: only local users with access to the file can call.
    Unix(PathBuf),
    /// A TCP address.
    Tcp(SocketAddr),
}

impl Listen {
    /// Parse `unix:PATH` (relative to `base`) or `IP:PORT`.
    pub fn parse(text: &str, base: &Path) -> Result<Listen, String> {
        match text.strip_prefix("unix:") {
            Some(path) if !path.is_empty() => Ok(Listen::Unix(base.join(path))),
            Some(_) => Err("`unix:` needs a socket path".into()),
            None => text.parse().map(Listen::Tcp).map_err(|_| {
                format!("`{text}` is neither `unix:PATH` nor `IP:PORT` (e.g. 127.0.0.1:7300)")
            }),
        }
    }

    /// True for a unix socket or a loopback address.
    pub fn is_local(&self) -> bool {
        match self {
            Listen::Unix(_) => true,
            Listen::Tcp(addr) => addr.ip().is_loopback(),
        }
    }
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listen::Unix(path) => write!(f, "unix:{}", path.display()),
            Listen::Tcp(addr) => write!(f, "{addr}"),
        }
    }
}

/// Files for a TLS listener.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
    /// PEM CAs client certificates must chain to (mTLS), if any.
    pub client_ca: Option<PathBuf>,
}

/// The validated `[admin]`.
#[derive(Debug, Clone)]
pub struct AdminConfig {
    /// Where it listens.
    pub listen: Listen,
    /// The bearer token's file.
    pub token_file: Option<PathBuf>,
    /// TLS, if configured.
    pub tls: Option<TlsFiles>,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: usize,
    /// Runs per workflow type the replay gate replays.
    pub gate_histories: usize,
    /// A non-loopback listener without TLS was allowed to start: its token
    /// travels in clear.
    pub insecure_plaintext_token: bool,
}

/// Validate `[store]`.
pub(super) fn store(raw: RawStore, base: &Path) -> Result<StoreConfig, Problem> {
    if raw.dir.as_os_str().is_empty() {
        return Err(Problem::new("store.dir".into(), "must not be empty".into()));
    }
    Ok(StoreConfig {
        dir: base.join(raw.dir),
        poll: match raw.poll_ms {
            Some(0) => None,
            ms => Some(Duration::from_millis(ms.unwrap_or(1000))),
        },
    })
}

/// Validate `[admin]`; it needs a store to upload to.
pub(super) fn admin(
    raw: RawAdmin,
    store: Option<&StoreConfig>,
    base: &Path,
) -> Result<AdminConfig, Problem> {
    let key = |k: &str| format!("admin.{k}");
    let Some(store) = store else {
        return Err(Problem::new(
            "admin".into(),
            "the admin API uploads to the module store: add a [store] section with `dir`".into(),
        ));
    };
    let listen = match &raw.listen {
        Some(text) => Listen::parse(text, base).map_err(|e| Problem::new(key("listen"), e))?,
        None => Listen::Unix(store.dir.join("admin.sock")),
    };
    if matches!(listen, Listen::Tcp(_)) && raw.token_file.is_none() {
        // Loopback too: any local user, or an activity granted a loopback
        // socket, could reach it.
        return Err(Problem::new(
            key("listen"),
            format!(
                "{listen} is a TCP listener: anyone who reaches it (on a loopback address, \
                 any local user or an activity granted a loopback socket) could deploy code, \
                 so set `admin.token_file` (and `tls_cert`/`tls_key` off loopback, so the \
                 token does not travel in clear), or listen on `unix:PATH`"
            ),
        ));
    }
    let tls = match (raw.tls_cert, raw.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: base.join(cert),
            key: base.join(key),
            client_ca: raw.client_ca.map(|p| base.join(p)),
        }),
        (None, None) if raw.client_ca.is_some() => {
            return Err(Problem::new(
                key("client_ca"),
                "client certificates need TLS: set `tls_cert` and `tls_key`".into(),
            ));
        }
        (None, None) => None,
        _ => {
            return Err(Problem::new(
                key("tls_cert"),
                "`tls_cert` and `tls_key` go together".into(),
            ));
        }
    };
    let plaintext_off_loopback = !listen.is_local() && tls.is_none();
    if plaintext_off_loopback && !raw.insecure_plaintext_token {
        return Err(Problem::new(
            key("listen"),
            format!(
                "{listen} is not a loopback address and has no TLS: the token would travel \
                 in clear, so set `tls_cert`/`tls_key` (or `insecure_plaintext_token = true` \
                 to accept that, e.g. behind a TLS-terminating proxy)"
            ),
        ));
    }
    if matches!(listen, Listen::Unix(_)) && tls.is_some() {
        return Err(Problem::new(
            key("tls_cert"),
            "TLS is for TCP listeners; a unix socket is protected by its file permissions".into(),
        ));
    }
    let max_upload_mib = match raw.max_upload_mib {
        Some(0) => {
            return Err(Problem::new(
                key("max_upload_mib"),
                "must be at least 1".into(),
            ));
        }
        m => m.unwrap_or(64),
    };
    Ok(AdminConfig {
        listen,
        token_file: raw.token_file.map(|p| base.join(p)),
        tls,
        max_upload_bytes: max_upload_mib << 20,
        gate_histories: raw.gate_histories.unwrap_or(20),
        insecure_plaintext_token: plaintext_off_loopback,
    })
}
