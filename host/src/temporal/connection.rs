//! How weft reaches the frontend: weft.toml's `[temporal]` layered with
//! Temporal's standard client configuration, the one every SDK and the
//! `temporal` CLI read (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`,
//! `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*`, `TEMPORAL_PROFILE` and
//! `TEMPORAL_CONFIG_FILE`), as `temporalio-client`'s `envconfig` loads it.
//!
//! Precedence, highest first: the environment (and the command line, whose
//! `--address`/`--namespace` read the same variables), weft.toml, the
//! `temporal.toml` profile, the defaults (`localhost:7233`, `default`).

use super::{CoreRuntime, TemporalError};
use crate::config::TemporalConfig;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use temporalio_client::envconfig::{
    ClientConfigProfile, DataSource, LoadClientConfigProfileOptions,
};
use temporalio_client::{Connection, ConnectionOptions};
use temporalio_common::envconfig::{ClientConfigTLS, load_client_config_profile};

/// Where and how to connect, every layer applied.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The frontend's URL (`https://` when TLS is on).
    pub address: String,
    /// The namespace the workers poll.
    pub namespace: String,
    options: ConnectionOptions,
}

impl Settings {
    /// Layer `cfg` with the process's environment and profile file.
    pub fn resolve(cfg: &TemporalConfig) -> Result<Settings, TemporalError> {
        Settings::resolve_with_env(cfg, None)
    }

    /// As [`Settings::resolve`], reading variables from `env` when given
    /// (tests), else from the process.
    fn resolve_with_env(
        cfg: &TemporalConfig,
        env: Option<&HashMap<String, String>>,
    ) -> Result<Settings, TemporalError> {
        let load = |disable_file| {
            load_client_config_profile(
                LoadClientConfigProfileOptions::builder()
                    .disable_file(disable_file)
                    .build(),
                env,
            )
            .map_err(|e| TemporalError::Settings(e.to_string()))
        };
        // The profile file (with the environment over it), then weft.toml
        // over that, then the environment alone over everything.
        let mut profile = load(false)?;
        apply_weft_toml(&mut profile, cfg)?;
        overlay(&mut profile, load(true)?);
        let namespace = profile
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let mut options = ConnectionOptions::try_from(profile)
            .map_err(|e| TemporalError::Settings(e.to_string()))?;
        options.identity = cfg.identity.clone().unwrap_or_else(super::default_identity);
        Ok(Settings {
            address: options.target.to_string(),
            namespace,
            options,
        })
    }

    /// True when the connection uses TLS.
    pub fn tls(&self) -> bool {
        self.options.tls_options.is_some()
    }

    /// Connect to the frontend (one call to it, so bad credentials fail
    /// here, at start). The client records its request metrics
    /// (`temporal_request*`) where `runtime`'s telemetry does.
    pub async fn connect(&self, runtime: &CoreRuntime) -> Result<Connection, TemporalError> {
        let mut options = self.options.clone();
        options.metrics_meter = runtime.telemetry().get_temporal_metric_meter();
        Connection::connect(options).await.map_err(|e| {
            let reason = format!("{e:#}");
            TemporalError::Connect {
                address: self.address.clone(),
                hint: hint(&reason, &self.options),
                reason,
            }
        })
    }
}

/// How often a healthy connection is checked.
const WATCH_EVERY: Duration = Duration::from_secs(5);
/// The longest wait between checks of a lost connection.
const WATCH_BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Watch the frontend, to tell the operator when it goes and comes back.
///
/// Core's client retries every call with backoff while the frontend is
/// away, so polls resume by themselves and Temporal retries the tasks that
/// were in flight; without this the outage would be silent. One cheap call
/// (`GetSystemInfo`) per check.
pub fn watch(connection: Connection, address: String) -> tokio::task::JoinHandle<()> {
    use temporalio_common::protos::temporal::api::workflowservice::v1::GetSystemInfoRequest;
    use tonic::IntoRequest;
    tokio::spawn(async move {
        let mut service = connection.workflow_service();
        let mut lost_since: Option<Instant> = None;
        let mut every = WATCH_EVERY;
        loop {
            tokio::time::sleep(every).await;
            let call = service.get_system_info(GetSystemInfoRequest::default().into_request());
            let failure = match tokio::time::timeout(WATCH_EVERY, call).await {
                Ok(Ok(_)) => None,
                Ok(Err(status)) => Some(status.message().to_owned()),
                Err(_) => Some(format!("no answer within {WATCH_EVERY:?}")),
            };
            match (failure, lost_since) {
                (None, None) => {}
                (None, Some(since)) => {
                    tracing::info!(%address, "reconnected to Temporal after {:.1?}", since.elapsed());
                    lost_since = None;
                    every = WATCH_EVERY;
                }
                (Some(reason), was_lost) => {
                    every = match was_lost {
                        None => Duration::from_secs(1),
                        Some(_) => (every * 2).min(WATCH_BACKOFF_MAX),
                    };
                    let since = *lost_since.get_or_insert_with(Instant::now);
                    tracing::warn!(
                        %address,
                        down_for = ?since.elapsed(),
                        next_check = ?every,
                        "lost the connection to Temporal ({reason}): core retries its polls with \
                         backoff, Temporal retries the tasks that were in flight"
                    );
                }
            }
        }
    })
}

/// weft.toml's values over the profile's. Key material is read here, from
/// the files weft.toml names.
fn apply_weft_toml(
    profile: &mut ClientConfigProfile,
    cfg: &TemporalConfig,
) -> Result<(), TemporalError> {
    if let Some(address) = &cfg.address {
        profile.address = Some(address.clone());
    }
    if let Some(namespace) = &cfg.namespace {
        profile.namespace = Some(namespace.clone());
    }
    if let Some(path) = &cfg.api_key_file {
        let key = std::fs::read_to_string(path).map_err(|source| TemporalError::ReadFile {
            key: "temporal.api_key_file",
            path: path.clone(),
            source,
        })?;
        profile.api_key = Some(key.trim().to_owned());
    }
    if let Some(t) = &cfg.tls {
        let tls = profile.tls.get_or_insert_with(ClientConfigTLS::default);
        // Files are read when the connection is built; name them here so
        // that a missing one is reported with its weft.toml key.
        let file = |key: &'static str, path: &Option<std::path::PathBuf>| {
            path.as_ref()
                .map(|p| {
                    std::fs::metadata(p)
                        .map(|_| DataSource::Path(p.to_string_lossy().into_owned()))
                        .map_err(|source| TemporalError::ReadFile {
                            key,
                            path: p.clone(),
                            source,
                        })
                })
                .transpose()
        };
        tls.disabled = Some(t.disabled);
        if let Some(ca) = file("temporal.tls.server_ca_file", &t.server_ca_file)? {
            tls.server_ca_cert = Some(ca);
        }
        if let Some(name) = &t.server_name {
            tls.server_name = Some(name.clone());
        }
        if let Some(cert) = file("temporal.tls.client_cert_file", &t.client_cert_file)? {
            tls.client_cert = Some(cert);
        }
        if let Some(key) = file("temporal.tls.client_key_file", &t.client_key_file)? {
            tls.client_key = Some(key);
        }
    }
    Ok(())
}

/// The values `top` sets, over `profile`'s.
fn overlay(profile: &mut ClientConfigProfile, top: ClientConfigProfile) {
    let ClientConfigProfile {
        address,
        namespace,
        api_key,
        tls,
        codec,
        grpc_meta,
        ..
    } = top;
    profile.address = address.or(profile.address.take());
    profile.namespace = namespace.or(profile.namespace.take());
    profile.api_key = api_key.or(profile.api_key.take());
    profile.codec = codec.or(profile.codec.take());
    profile.grpc_meta.extend(grpc_meta);
    if let Some(top) = tls {
        let tls = profile.tls.get_or_insert_with(ClientConfigTLS::default);
        tls.disabled = top.disabled.or(tls.disabled);
        tls.client_cert = top.client_cert.or(tls.client_cert.take());
        tls.client_key = top.client_key.or(tls.client_key.take());
        tls.server_ca_cert = top.server_ca_cert.or(tls.server_ca_cert.take());
        tls.server_name = top.server_name.or(tls.server_name.take());
        tls.disable_host_verification |= top.disable_host_verification;
    }
}

/// What the operator should check, for the failures a misconfigured
/// connection shows (the client's own message says what, not why).
fn hint(reason: &str, options: &ConnectionOptions) -> &'static str {
    let r = reason.to_ascii_lowercase();
    let tls = options.tls_options.as_ref();
    let has_client_cert = tls.is_some_and(|t| t.client_tls_options.is_some());
    if r.contains("unknownissuer") || r.contains("invalid peer certificate") {
        "the server's certificate is not signed by a CA weft trusts: set temporal.tls.server_ca_file \
         (or TEMPORAL_TLS_SERVER_CA_CERT_PATH) to the CA that signed it, and server_name if the \
         certificate names another host"
    } else if r.contains("certificate required")
        || r.contains("no required ssl certificate")
        || r.contains("400 bad request") && tls.is_some() && !has_client_cert
    {
        "the server requires a client certificate (mTLS): set temporal.tls.client_cert_file and \
         client_key_file (or TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)"
    } else if r.contains("unauthenticated") || r.contains("401") || r.contains("permission") {
        if options.api_key.is_some() {
            "the server rejected the API key: check temporal.api_key_file (or TEMPORAL_API_KEY)"
        } else {
            "the server wants credentials: set an API key (temporal.api_key_file or \
             TEMPORAL_API_KEY) or a client certificate"
        }
    } else if r.contains("invalidcontenttype") || r.contains("corrupt message") && tls.is_none() {
        "the server may expect TLS: add [temporal.tls] (or TEMPORAL_TLS=true)"
    } else {
        "check temporal.address (or TEMPORAL_ADDRESS) and that the frontend is up"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TlsConfig;

    fn env(vars: &[(&str, &str)]) -> HashMap<String, String> {
        vars.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn resolve(cfg: &TemporalConfig, vars: &[(&str, &str)]) -> Settings {
        // No profile file: the default path is under $HOME, which the
        // injected environment does not name.
        Settings::resolve_with_env(cfg, Some(&env(vars))).expect("settings")
    }

    #[test]
    fn defaults_are_temporals() {
        let s = resolve(&TemporalConfig::default(), &[]);
        assert_eq!(s.address, "http://localhost:7233/");
        assert_eq!(s.namespace, "default");
        assert!(!s.tls());
    }

    #[test]
    fn the_environment_wins_over_weft_toml() {
        let cfg = TemporalConfig {
            address: Some("a.example:7233".into()),
            namespace: Some("from-toml".into()),
            ..Default::default()
        };
        let s = resolve(&cfg, &[]);
        assert_eq!(
            (s.address.as_str(), s.namespace.as_str()),
            ("http://a.example:7233/", "from-toml")
        );
        let s = resolve(
            &cfg,
            &[
                ("TEMPORAL_NAMESPACE", "from-env"),
                ("TEMPORAL_API_KEY", "k"),
            ],
        );
        assert_eq!(s.namespace, "from-env");
        // An API key turns TLS on, as in every SDK.
        assert!(s.tls());
        assert_eq!(s.address, "https://a.example:7233/");
        assert_eq!(s.options.api_key.as_deref(), Some("k"));
    }

    #[test]
    fn a_profile_file_is_read_and_weft_toml_wins_over_it() {
        let dir = std::env::temp_dir().join(format!("weft-envconfig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("temporal.toml");
        std::fs::write(
            &file,
            "[profile.prod]\naddress = \"prod.example:7233\"\nnamespace = \"prod-ns\"\napi_key = \"pk\"\n",
        )
        .expect("profile");
        let file = file.to_string_lossy().into_owned();
        let vars = [
            ("TEMPORAL_CONFIG_FILE", file.as_str()),
            ("TEMPORAL_PROFILE", "prod"),
        ];
        let s = resolve(&TemporalConfig::default(), &vars);
        assert_eq!(s.address, "https://prod.example:7233/");
        assert_eq!(s.namespace, "prod-ns");
        let cfg = TemporalConfig {
            namespace: Some("toml-ns".into()),
            tls: Some(TlsConfig {
                disabled: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        let s = resolve(&cfg, &vars);
        assert_eq!(s.namespace, "toml-ns");
        assert!(!s.tls(), "weft.toml turned TLS off");
        let missing = [
            ("TEMPORAL_CONFIG_FILE", file.as_str()),
            ("TEMPORAL_PROFILE", "nope"),
        ];
        let e = Settings::resolve_with_env(&cfg, Some(&env(&missing))).map(|_| ());
        assert!(format!("{e:?}").contains("nope"), "{e:?}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn key_files_are_named_by_their_key_when_missing() {
        let error = |cfg: TemporalConfig| {
            Settings::resolve_with_env(&cfg, Some(&env(&[])))
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        let e = error(TemporalConfig {
            api_key_file: Some("/nonexistent/weft-api-key".into()),
            ..Default::default()
        });
        assert!(
            e.as_ref()
                .is_err_and(|e| e.contains("temporal.api_key_file")),
            "{e:?}"
        );
        let e = error(TemporalConfig {
            tls: Some(TlsConfig {
                server_ca_file: Some("/nonexistent/ca.pem".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert!(
            e.as_ref()
                .is_err_and(|e| e.contains("temporal.tls.server_ca_file")),
            "{e:?}"
        );
    }
}
