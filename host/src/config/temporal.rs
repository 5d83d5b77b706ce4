//! `[temporal]`, `[metrics]` and `[shutdown]`: how the host reaches Temporal,
//! how it is watched, and how it stops.
//!
//! Key material never sits in weft.toml: the API key and TLS keys are named
//! by file. Temporal's standard client configuration (`TEMPORAL_*` variables,
//! `temporal.toml` profiles) is layered over these values when the host
//! connects (`temporal::settings`).

use super::grants::Problem;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `[temporal]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTemporal {
    /// `host:port` or URL of the frontend (`TEMPORAL_ADDRESS` overrides it).
    pub address: Option<String>,
    /// Namespace (`TEMPORAL_NAMESPACE` overrides it).
    pub namespace: Option<String>,
    /// Worker identity shown in Temporal; `weft@<hostname>:<pid>` by default.
    pub identity: Option<String>,
    /// A file holding the API key (Temporal Cloud); `TEMPORAL_API_KEY`
    /// overrides it. An API key turns TLS on unless `tls.disabled`.
    pub api_key_file: Option<PathBuf>,
    /// TLS to the frontend; present means on.
    pub tls: Option<RawTls>,
}

/// `[temporal.tls]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    /// Turn TLS off although the section (or an API key) is there.
    #[serde(default)]
    pub disabled: bool,
    /// PEM CA certificate(s) the server's certificate must chain to; the
    /// system's roots when unset (Temporal Cloud).
    pub server_ca_file: Option<PathBuf>,
    /// The name the server's certificate is checked against (and sent as
    /// SNI) when it differs from the address's host.
    pub server_name: Option<String>,
    /// PEM client certificate chain, for mTLS.
    pub client_cert_file: Option<PathBuf>,
    /// PEM key of `client_cert_file`.
    pub client_key_file: Option<PathBuf>,
}

/// `[metrics]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    /// `IP:PORT` of the HTTP listener serving `/metrics`, `/healthz` and
    /// `/readyz`.
    pub listen: String,
}

/// `[shutdown]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShutdown {
    /// After SIGTERM or SIGINT, how long activity tasks in flight may run
    /// before they are failed so that Temporal retries them elsewhere, in
    /// milliseconds (default 30000).
    pub grace_ms: Option<u64>,
}

/// The validated `[temporal]`: weft.toml's values and the command line's.
/// Unset values may still come from Temporal's client configuration.
#[derive(Debug, Clone, Default)]
pub struct TemporalConfig {
    /// `host:port` or a URL.
    pub address: Option<String>,
    /// Namespace.
    pub namespace: Option<String>,
    /// Worker identity.
    pub identity: Option<String>,
    /// The API key's file (absolute).
    pub api_key_file: Option<PathBuf>,
    /// TLS settings, when the section is present.
    pub tls: Option<TlsConfig>,
}

/// The validated `[temporal.tls]`, paths absolute.
#[derive(Debug, Clone, Default)]
pub struct TlsConfig {
    /// TLS off although configured.
    pub disabled: bool,
    /// CA certificate file.
    pub server_ca_file: Option<PathBuf>,
    /// Server name override.
    pub server_name: Option<String>,
    /// Client certificate file (mTLS).
    pub client_cert_file: Option<PathBuf>,
    /// Client key file (mTLS).
    pub client_key_file: Option<PathBuf>,
}

/// Default shutdown grace period for activity tasks in flight.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

pub(super) fn temporal(
    raw: RawTemporal,
    address: Option<String>,
    namespace: Option<String>,
    base: &Path,
) -> Result<TemporalConfig, Problem> {
    let address = address.or(raw.address);
    if address.as_deref().is_some_and(|a| a.trim().is_empty()) {
        return Err(Problem::new(
            "temporal.address".into(),
            "must not be empty".into(),
        ));
    }
    let namespace = namespace.or(raw.namespace);
    if namespace.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(Problem::new(
            "temporal.namespace".into(),
            "must not be empty".into(),
        ));
    }
    let tls = raw
        .tls
        .map(|t| {
            if t.client_cert_file.is_some() != t.client_key_file.is_some() {
                return Err(Problem::new(
                    "temporal.tls".into(),
                    "client_cert_file and client_key_file go together (mTLS needs both)".into(),
                ));
            }
            Ok(TlsConfig {
                disabled: t.disabled,
                server_ca_file: t.server_ca_file.map(|p| base.join(p)),
                server_name: t.server_name,
                client_cert_file: t.client_cert_file.map(|p| base.join(p)),
                client_key_file: t.client_key_file.map(|p| base.join(p)),
            })
        })
        .transpose()?;
    Ok(TemporalConfig {
        address,
        namespace,
        identity: raw.identity,
        api_key_file: raw.api_key_file.map(|p| base.join(p)),
        tls,
    })
}

pub(super) fn metrics(raw: RawMetrics) -> Result<SocketAddr, Problem> {
    raw.listen.parse().map_err(|_| {
        Problem::new(
            "metrics.listen".into(),
            format!("`{}` is not IP:PORT (e.g. \"0.0.0.0:9464\")", raw.listen),
        )
    })
}

pub(super) fn grace(raw: RawShutdown) -> Duration {
    raw.grace_ms.map_or(DEFAULT_GRACE, Duration::from_millis)
}
