//! The host config: which Temporal server to talk to and which workers to run.
//!
//! Parsed in two stages: [`RawConfig`] is the TOML as written (serde, unknown
//! keys rejected); [`Config`] is validated, with module paths resolved against
//! the config file's directory. A bad config fails at start with the key and
//! the problem.

mod admin;
mod grants;
mod temporal;

pub use admin::{AdminConfig, Listen, RawAdmin, RawStore, StoreConfig, TlsFiles};
pub use grants::{
    Allow, DirGrant, Grants, HttpGrant, NoModule, Problem, RawActivityModule, RawAllow,
    RawHttpGrant, RawSecretSource, RawUploadGrants, SecretHeader, SecretSource, SecretSources,
    SocketGrant, canonical_host, normalise, parse_origin, parse_socket, real_path,
    resolve as resolve_grants,
};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
pub use temporal::{
    DEFAULT_GRACE, RawMetrics, RawShutdown, RawTemporal, RawTls, TemporalConfig, TlsConfig,
};

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The TOML does not parse or does not match the schema.
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// What toml/serde said, with the key and position.
        message: String,
    },
    /// A value parsed but is not acceptable.
    #[error("invalid config {path}: `{key}`: {problem}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// Dotted path of the offending key, e.g. `worker[0].task_queue`.
        key: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// The config file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Connection to the Temporal frontend.
    #[serde(default)]
    pub temporal: RawTemporal,
    /// The workers this host runs, one per task queue.
    #[serde(default)]
    pub worker: Vec<RawWorker>,
    /// The operator's bound on every activity module's grants.
    pub allow: Option<RawAllow>,
    /// Where each secret is read from: the operator's alone.
    #[serde(default)]
    pub secrets: BTreeMap<String, RawSecretSource>,
    /// The module store uploads go to.
    pub store: Option<RawStore>,
    /// The admin API.
    pub admin: Option<RawAdmin>,
    /// The Prometheus and health endpoint.
    pub metrics: Option<RawMetrics>,
    /// How the host stops.
    #[serde(default)]
    pub shutdown: RawShutdown,
}

/// `[[worker]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorker {
    /// The task queue this worker polls.
    pub task_queue: String,
    /// What it polls; by default what its modules need (mixed when it has
    /// none yet and waits for uploads).
    pub kind: Option<WorkerKind>,
    /// Workflow component files.
    #[serde(default)]
    pub workflows: Vec<PathBuf>,
    /// Activity components with their grants.
    #[serde(default)]
    pub activities: Vec<RawActivityModule>,
    /// Workflow runs kept in memory between tasks (sticky cache). 0 makes
    /// every workflow task replay from history.
    pub max_cached_workflows: Option<usize>,
    /// Activity tasks run at once by this worker.
    pub max_concurrent_activities: Option<usize>,
    /// Workflow tasks processed at once by this worker.
    pub max_concurrent_workflow_tasks: Option<usize>,
    /// What a nondeterminism error fails: the task (default) or the workflow.
    #[serde(default)]
    pub nondeterminism: Nondeterminism,
}

/// What a nondeterminism error (a replayed run issuing commands its history
/// does not have) fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Nondeterminism {
    /// Fail the workflow task: Temporal retries it, so deploying the old
    /// code again lets the run go on.
    #[default]
    FailTask,
    /// Fail the workflow run for good.
    FailWorkflow,
}

/// A validated config.
#[derive(Debug, Clone)]
pub struct Config {
    /// Connection settings.
    pub temporal: TemporalConfig,
    /// Workers, in file order.
    pub workers: Vec<WorkerConfig>,
    /// The operator's allow-list, if the file has one.
    pub allow: Option<Allow>,
    /// The operator's `[secrets]`: where each secret a grant names is read.
    pub secrets: SecretSources,
    /// The module store, if uploads are used.
    pub store: Option<StoreConfig>,
    /// The admin API, if enabled.
    pub admin: Option<AdminConfig>,
    /// Where `/metrics`, `/healthz` and `/readyz` are served, if anywhere.
    pub metrics: Option<SocketAddr>,
    /// How long activity tasks in flight may finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// The config file's directory: uploaded grants resolve against it.
    pub base: PathBuf,
}

/// A validated worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// What it polls.
    pub kind: WorkerKind,
    /// Task queue polled.
    pub task_queue: String,
    /// Workflow component files (absolute).
    pub workflows: Vec<PathBuf>,
    /// Activity components and their grants.
    pub activities: Vec<ActivityModuleConfig>,
    /// Sticky cache size.
    pub max_cached_workflows: usize,
    /// Concurrent activity tasks.
    pub max_concurrent_activities: usize,
    /// Concurrent workflow tasks.
    pub max_concurrent_workflow_tasks: usize,
    /// What nondeterminism fails.
    pub nondeterminism: Nondeterminism,
}

impl WorkerConfig {
    /// What this worker polls for, as the Go SDK names the three patterns.
    pub fn kind(&self) -> WorkerKind {
        self.kind
    }
}

/// Workflow-only (Go: `DisableActivityWorker`), activity-only (Go:
/// `DisableWorkflowWorker`) or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkerKind {
    /// Polls workflow tasks only.
    WorkflowOnly,
    /// Polls activity tasks only.
    ActivityOnly,
    /// Polls both.
    Mixed,
}

impl WorkerKind {
    /// True when workflow tasks are polled.
    pub fn polls_workflows(self) -> bool {
        self != WorkerKind::ActivityOnly
    }
    /// True when activity tasks are polled.
    pub fn polls_activities(self) -> bool {
        self != WorkerKind::WorkflowOnly
    }
    /// True when the tasks of modules of `kind` are polled.
    pub fn polls(self, kind: crate::module::Kind) -> bool {
        match kind {
            crate::module::Kind::Workflow => self.polls_workflows(),
            crate::module::Kind::Activity => self.polls_activities(),
        }
    }
}

/// A validated activity module with its grants.
#[derive(Debug, Clone)]
pub struct ActivityModuleConfig {
    /// The component file (absolute).
    pub module: PathBuf,
    /// Capabilities granted to every instance of it.
    pub grants: Grants,
}

/// Overrides from the command line or environment (`TEMPORAL_ADDRESS`,
/// `TEMPORAL_NAMESPACE`); they win over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Frontend address.
    pub address: Option<String>,
    /// Namespace.
    pub namespace: Option<String>,
}

impl Config {
    /// Read, parse and validate a config file.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, path, base, overrides)
    }

    /// Parse and validate config text; relative paths resolve against `base`.
    pub fn parse(
        text: &str,
        path: &Path,
        base: &Path,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let invalid = |key: String, problem: &str| ConfigError::Invalid {
            path: path.to_owned(),
            key,
            problem: problem.to_owned(),
        };
        let base = std::path::absolute(base).unwrap_or_else(|_| base.to_owned());

        let temporal = temporal::temporal(
            raw.temporal,
            overrides.address.clone(),
            overrides.namespace.clone(),
            &base,
        )
        .map_err(|p| invalid(p.key, &p.problem))?;
        let metrics = raw
            .metrics
            .map(temporal::metrics)
            .transpose()
            .map_err(|p| invalid(p.key, &p.problem))?;

        let allow = raw
            .allow
            .map(|a| Allow::resolve(a, &base))
            .transpose()
            .map_err(|p| invalid(p.key, &p.problem))?;
        let secrets =
            grants::secret_sources(raw.secrets, &base).map_err(|p| invalid(p.key, &p.problem))?;
        if raw.worker.is_empty() {
            return Err(invalid(
                "worker".into(),
                "no [[worker]] declared: a host needs at least one worker",
            ));
        }
        let mut queues = HashSet::new();
        let mut workers = Vec::new();
        for (i, w) in raw.worker.into_iter().enumerate() {
            let key = |k: &str| format!("worker[{i}].{k}");
            if w.task_queue.trim().is_empty() {
                return Err(invalid(key("task_queue"), "must not be empty"));
            }
            if !queues.insert(w.task_queue.clone()) {
                return Err(invalid(
                    key("task_queue"),
                    &format!(
                        "`{}` is declared by two workers; one worker per task queue",
                        w.task_queue
                    ),
                ));
            }
            if w.workflows.is_empty() && w.activities.is_empty() && raw.store.is_none() {
                return Err(invalid(
                    key("workflows"),
                    "a worker needs workflow modules, activity modules or both \
                     (or a [store] to upload them to)",
                ));
            }
            let derived = match (w.workflows.is_empty(), w.activities.is_empty()) {
                (false, true) => WorkerKind::WorkflowOnly,
                (true, false) => WorkerKind::ActivityOnly,
                _ => WorkerKind::Mixed,
            };
            let kind = w.kind.unwrap_or(derived);
            let conflict = match kind {
                WorkerKind::WorkflowOnly if !w.activities.is_empty() => Some("activities"),
                WorkerKind::ActivityOnly if !w.workflows.is_empty() => Some("workflows"),
                _ => None,
            };
            if let Some(modules) = conflict {
                return Err(invalid(
                    key("kind"),
                    &format!("a {kind:?} worker cannot have {modules}"),
                ));
            }
            let positive = |v: Option<usize>, name: &str, default: usize| match v {
                Some(0) => Err(invalid(key(name), "must be at least 1")),
                Some(n) => Ok(n),
                None => Ok(default),
            };
            let max_concurrent_activities = positive(
                w.max_concurrent_activities,
                "max_concurrent_activities",
                100,
            )?;
            let max_concurrent_workflow_tasks = positive(
                w.max_concurrent_workflow_tasks,
                "max_concurrent_workflow_tasks",
                100,
            )?;
            if max_concurrent_workflow_tasks < 2 {
                // Core needs a slot for the sticky and one for the normal queue.
                return Err(invalid(
                    key("max_concurrent_workflow_tasks"),
                    "must be at least 2",
                ));
            }
            let workflows = w.workflows.iter().map(|p| base.join(p)).collect();
            let mut activities = Vec::new();
            for (j, a) in w.activities.into_iter().enumerate() {
                let module = base.join(&a.module);
                let grants = grants::resolve(a, &base, allow.as_ref(), &secrets).map_err(|p| {
                    invalid(format!("worker[{i}].activities[{j}].{}", p.key), &p.problem)
                })?;
                activities.push(ActivityModuleConfig { module, grants });
            }
            workers.push(WorkerConfig {
                kind,
                task_queue: w.task_queue,
                workflows,
                activities,
                max_cached_workflows: w.max_cached_workflows.unwrap_or(1000),
                max_concurrent_activities,
                max_concurrent_workflow_tasks,
                nondeterminism: w.nondeterminism,
            });
        }
        let store = raw
            .store
            .map(|s| admin::store(s, &base))
            .transpose()
            .map_err(|p| invalid(p.key, &p.problem))?;
        let admin = raw
            .admin
            .map(|a| admin::admin(a, store.as_ref(), &base))
            .transpose()
            .map_err(|p| invalid(p.key, &p.problem))?;
        Ok(Config {
            temporal,
            workers,
            allow,
            secrets,
            store,
            admin,
            metrics,
            shutdown_grace: temporal::grace(raw.shutdown),
            base,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(
            text,
            Path::new("weft.toml"),
            Path::new("/etc/weft"),
            &Overrides::default(),
        )
    }

    fn error(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("config should be rejected:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn mixed_worker_resolves_paths_and_defaults() {
        let c = parse(
            r#"
            [[worker]]
            task_queue = "Q"
            workflows = ["wf.wasm"]
            [[worker.activities]]
            module = "/abs/act.wasm"
            env = { CURRENCY = "EUR" }
            dirs = [{ host = "data", guest = "/data", writable = true }]
            "#,
        )
        .expect("valid config");
        // Unset: Temporal's client configuration or its defaults decide.
        assert_eq!(c.temporal.address, None);
        assert_eq!(c.temporal.namespace, None);
        assert_eq!(c.shutdown_grace, DEFAULT_GRACE);
        assert_eq!(c.metrics, None);
        let w = &c.workers[0];
        assert_eq!(w.kind(), WorkerKind::Mixed);
        assert_eq!(w.workflows, vec![PathBuf::from("/etc/weft/wf.wasm")]);
        assert_eq!(w.activities[0].module, PathBuf::from("/abs/act.wasm"));
        let dir = &w.activities[0].grants.dirs[0];
        assert_eq!(dir.host, PathBuf::from("/etc/weft/data"));
        assert!(dir.writable);
        assert_eq!(w.activities[0].grants.env["CURRENCY"], "EUR");
    }

    #[test]
    fn worker_kinds_follow_the_modules() {
        let c = parse(
            r#"
            [[worker]]
            task_queue = "W"
            workflows = ["wf.wasm"]
            [[worker]]
            task_queue = "A"
            activities = [{ module = "a.wasm" }]
            "#,
        )
        .expect("valid config");
        assert_eq!(c.workers[0].kind(), WorkerKind::WorkflowOnly);
        assert_eq!(c.workers[1].kind(), WorkerKind::ActivityOnly);
        assert!(!WorkerKind::WorkflowOnly.polls_activities());
        assert!(!WorkerKind::ActivityOnly.polls_workflows());
    }

    #[test]
    fn store_admin_and_explicit_kinds() {
        let c = parse(
            r#"
            [store]
            dir = "modules"
            [admin]
            [[worker]]
            task_queue = "W"
            kind = "workflow-only"
            [[worker]]
            task_queue = "M"
            "#,
        )
        .expect("a worker may wait for uploads when there is a store");
        assert_eq!(c.workers[0].kind(), WorkerKind::WorkflowOnly);
        assert_eq!(c.workers[1].kind(), WorkerKind::Mixed);
        let store = c.store.expect("store");
        assert_eq!(store.dir, PathBuf::from("/etc/weft/modules"));
        let admin = c.admin.expect("admin");
        assert_eq!(
            admin.listen,
            Listen::Unix("/etc/weft/modules/admin.sock".into()),
            "a unix socket in the store by default"
        );
        assert_eq!(admin.max_upload_bytes, 64 << 20);

        let e = error(
            "[[worker]]\ntask_queue = \"Q\"\nkind = \"activity-only\"\nworkflows = [\"w.wasm\"]",
        );
        assert!(
            e.contains("`worker[0].kind`: a ActivityOnly worker cannot have workflows"),
            "{e}"
        );
        let e = error("[[worker]]\ntask_queue = \"Q\"");
        assert!(e.contains("(or a [store] to upload them to)"), "{e}");
        let e = error("[admin]\n[[worker]]\ntask_queue = \"Q\"\nworkflows = [\"w.wasm\"]");
        assert!(
            e.contains("`admin`: the admin API uploads to the module store"),
            "{e}"
        );
        let e = error(
            "[store]\ndir = \"m\"\n[admin]\nlisten = \"0.0.0.0:7300\"\n[[worker]]\ntask_queue = \"Q\"",
        );
        assert!(
            e.contains("`admin.listen`: 0.0.0.0:7300 is a TCP listener: anyone who reaches it"),
            "{e}"
        );
        // Loopback too: any local user could reach it.
        let tcp = |listen: &str, more: &str| {
            format!(
                "[store]\ndir = \"m\"\n[admin]\nlisten = \"{listen}\"\n{more}\n\
                 [[worker]]\ntask_queue = \"Q\""
            )
        };
        let e = error(&tcp("127.0.0.1:7300", ""));
        assert!(
            e.contains("`admin.listen`: 127.0.0.1:7300 is a TCP listener")
                && e.contains("token_file"),
            "{e}"
        );
        let c = parse(&tcp("127.0.0.1:7300", "token_file = \"t\"")).expect("loopback with a token");
        assert!(!c.admin.expect("admin").insecure_plaintext_token);
        // Off loopback a token needs TLS, unless plaintext is accepted.
        let e = error(&tcp("0.0.0.0:7300", "token_file = \"t\""));
        assert!(
            e.contains("`admin.listen`: 0.0.0.0:7300 is not a loopback address and has no TLS")
                && e.contains("insecure_plaintext_token = true"),
            "{e}"
        );
        let c = parse(&tcp(
            "0.0.0.0:7300",
            "token_file = \"t\"\ninsecure_plaintext_token = true",
        ))
        .expect("plaintext accepted explicitly");
        assert!(c.admin.expect("admin").insecure_plaintext_token);
        parse(&tcp(
            "0.0.0.0:7300",
            "token_file = \"t\"\ntls_cert = \"c\"\ntls_key = \"k\"",
        ))
        .expect("token and TLS");
        let e = error(
            "[store]\ndir = \"m\"\n[admin]\nlisten = \"localhost\"\n[[worker]]\ntask_queue = \"Q\"",
        );
        assert!(e.contains("neither `unix:PATH` nor `IP:PORT`"), "{e}");
    }

    #[test]
    fn overrides_win_over_the_file() {
        let c = Config::parse(
            "[temporal]\naddress = \"a:1\"\nnamespace = \"n\"\n[[worker]]\ntask_queue = \"Q\"\nworkflows = [\"w.wasm\"]",
            Path::new("weft.toml"),
            Path::new("."),
            &Overrides {
                address: Some("b:2".into()),
                namespace: None,
            },
        )
        .expect("valid config");
        assert_eq!(c.temporal.address.as_deref(), Some("b:2"));
        assert_eq!(c.temporal.namespace.as_deref(), Some("n"));
    }

    #[test]
    fn production_sections_resolve_paths_and_durations() {
        let c = parse(
            r#"
            [temporal]
            address = "ns.acct.tmprl.cloud:7233"
            api_key_file = "secrets/api-key"
            [temporal.tls]
            server_ca_file = "tls/ca.pem"
            server_name = "temporal.internal"
            client_cert_file = "/tls/client.pem"
            client_key_file = "/tls/client.key"
            [metrics]
            listen = "0.0.0.0:9464"
            [shutdown]
            grace_ms = 2500
            [[worker]]
            task_queue = "Q"
            workflows = ["w.wasm"]
            "#,
        )
        .expect("valid config");
        let t = &c.temporal;
        assert_eq!(
            t.api_key_file,
            Some(PathBuf::from("/etc/weft/secrets/api-key"))
        );
        let tls = t.tls.as_ref().expect("tls section");
        assert_eq!(
            tls.server_ca_file,
            Some(PathBuf::from("/etc/weft/tls/ca.pem"))
        );
        assert_eq!(tls.client_key_file, Some(PathBuf::from("/tls/client.key")));
        assert_eq!(tls.server_name.as_deref(), Some("temporal.internal"));
        assert_eq!(c.metrics, Some("0.0.0.0:9464".parse().expect("addr")));
        assert_eq!(c.shutdown_grace, Duration::from_millis(2500));
    }

    #[test]
    fn errors_name_the_key_and_the_problem() {
        let cases = [
            ("[temporal]\nadress = \"x\"", "unknown field `adress`"),
            ("", "`worker`: no [[worker]] declared"),
            (
                "[[worker]]\ntask_queue = \"\"\nworkflows = [\"w\"]",
                "`worker[0].task_queue`: must not be empty",
            ),
            (
                "[[worker]]\ntask_queue = \"Q\"",
                "`worker[0].workflows`: a worker needs workflow modules, activity modules or both",
            ),
            (
                "[[worker]]\ntask_queue = \"Q\"\nworkflows = [\"w\"]\n[[worker]]\ntask_queue = \"Q\"\nworkflows = [\"w\"]",
                "`worker[1].task_queue`: `Q` is declared by two workers",
            ),
            (
                "[[worker]]\ntask_queue = \"Q\"\nworkflows = [\"w\"]\nmax_concurrent_activities = 0",
                "`worker[0].max_concurrent_activities`: must be at least 1",
            ),
            (
                "[[worker]]\ntask_queue = \"Q\"\n[[worker.activities]]\nmodule = \"a\"\ndirs = [{ host = \"d\", guest = \"data\" }]",
                "`worker[0].activities[0].dirs[0].guest`: must be an absolute guest path",
            ),
            (
                "[[worker]]\ntask_queue = \"Q\"\n[[worker.activities]]\nmodule = \"a\"\nread_only = true",
                "unknown field `read_only`",
            ),
            (
                "[[worker]]\ntask_queue = 5",
                "invalid type: integer `5`, expected a string",
            ),
            (
                "[temporal.tls]\nclient_cert_file = \"c.pem\"\n[[worker]]\ntask_queue = \"Q\"\nworkflows = [\"w\"]",
                "`temporal.tls`: client_cert_file and client_key_file go together",
            ),
            ("[temporal]\napi_key = \"k\"", "unknown field `api_key`"),
            (
                "[metrics]\nlisten = \"9464\"\n[[worker]]\ntask_queue = \"Q\"\nworkflows = [\"w\"]",
                "`metrics.listen`: `9464` is not IP:PORT",
            ),
        ];
        for (text, expected) in cases {
            let e = error(text);
            assert!(
                e.contains(expected),
                "for\n{text}\nexpected `{expected}` in:\n{e}"
            );
            assert!(e.starts_with("invalid config weft.toml"), "{e}");
        }
    }

    #[test]
    fn grants_parse_and_the_allow_list_bounds_them() {
        // Secrets are read at start (from a file here: setting a variable
        // of this process would race with other tests).
        let secret_file = std::env::temp_dir().join(format!("weft-secret-{}", std::process::id()));
        std::fs::write(&secret_file, "s3cret\n").expect("secret file");
        let module = format!(
            r#"
            [secrets]
            TOKEN = {{ from_file = {secret_file:?} }}
            DB_PASSWORD = {{ from_file = {secret_file:?} }}
            CURRENCY = {{ from_file = {secret_file:?} }}
            [[worker]]
            task_queue = "Q"
            [[worker.activities]]
            module = "a.wasm"
            dirs = [{{ host = "var/data", guest = "/data" }}]
            env = {{ CURRENCY = "EUR" }}
            http = ["http://127.0.0.1:8080", {{ url = "https://api.example.com", methods = ["get"] }}]
            sockets = ["tcp://127.0.0.1:5432", "udp://10.0.0.53:*"]
            secrets = [
              {{ name = "TOKEN", header = {{ url = "https://api.example.com", name = "Authorization", value = "Bearer {{secret}}" }} }},
              {{ name = "DB_PASSWORD", env = true }},
            ]
            memory_mib = 64
            max_instances = 2
            "#
        );
        let c = parse(&module).expect("valid grants");
        let g = &c.workers[0].activities[0].grants;
        assert!(g.http[0].allows("http", "127.0.0.1", 8080, "POST"));
        assert!(!g.http[0].allows("http", "127.0.0.1", 8081, "GET"));
        assert!(g.http[1].allows("https", "API.example.com", 443, "GET"));
        assert!(!g.http[1].allows("https", "api.example.com", 443, "DELETE"));
        let addr = |s: &str| s.parse::<SocketAddr>().expect("addr");
        assert!(g.sockets[0].allows(true, addr("127.0.0.1:5432")));
        assert!(!g.sockets[0].allows(false, addr("127.0.0.1:5432")));
        assert!(g.sockets[1].allows(false, addr("10.0.0.53:53")));
        assert_eq!(g.secret_headers[0].name, "authorization");
        assert_eq!(g.secret_headers[0].value, "Bearer s3cret");
        assert!(
            !g.env.contains_key("TOKEN"),
            "a secret is not an env var unless `env = true`"
        );
        assert_eq!(g.env.get("DB_PASSWORD").map(String::as_str), Some("s3cret"));
        assert_eq!(g.memory_bytes, 64 << 20);
        assert_eq!(g.max_instances, Some(2));

        let allow = r#"
            [allow]
            dirs = ["var"]
            http = ["http://127.0.0.1:*", "https://api.example.com"]
            sockets = ["tcp://127.0.0.1:*", "udp://10.0.0.53:*"]
            env = ["CURRENCY"]
            secrets = ["TOKEN", "DB_PASSWORD"]
            memory_mib = 128
        "#;
        parse(&format!("{allow}{module}")).expect("within the allow-list");
        let cases = [
            (
                "\"var/data\"",
                "\"var/../etc\"",
                "worker[0].activities[0].dirs[0]`: directory /etc/weft/etc is not in the operator allow-list (`allow.dirs`)",
            ),
            (
                "\"http://127.0.0.1:8080\"",
                "\"http://10.0.0.1:80\"",
                "worker[0].activities[0].http[0]`: origin http://10.0.0.1:80 is not in the operator allow-list",
            ),
            (
                "\"tcp://127.0.0.1:5432\"",
                "\"tcp://10.1.1.1:22\"",
                "worker[0].activities[0].sockets[0]`: address `tcp://10.1.1.1:22` is not in the operator allow-list",
            ),
            (
                "CURRENCY = \"EUR\"",
                "PATH = \"/bin\"",
                "worker[0].activities[0].env.PATH`: variable `PATH` is not in the operator allow-list",
            ),
            (
                "name = \"TOKEN\"",
                "name = \"OTHER_TOKEN\"",
                "worker[0].activities[0].secrets[0]`: secret `OTHER_TOKEN` is not in the operator allow-list (`allow.secrets`)",
            ),
            (
                "name = \"DB_PASSWORD\"",
                "name = \"DB_ROOT_PASSWORD\"",
                "worker[0].activities[0].secrets[1]`: secret `DB_ROOT_PASSWORD` is not in the operator allow-list (`allow.secrets`)",
            ),
            (
                "name = \"DB_PASSWORD\"",
                "name = \"CURRENCY\"",
                "worker[0].activities[0].secrets[1]`: secret `CURRENCY` is not in the operator allow-list",
            ),
            (
                "memory_mib = 64",
                "memory_mib = 1024",
                "memory_mib`: 1024 MiB is above the operator's `allow.memory_mib` (128 MiB)",
            ),
        ];
        for (from, to, expected) in cases {
            let e = error(&format!("{allow}{}", module.replacen(from, to, 1)));
            assert!(e.contains(expected), "expected `{expected}` in:\n{e}");
        }
        // Without [allow] too: a secret readable as env must not replace a
        // granted variable.
        let e = error(&module.replacen("name = \"DB_PASSWORD\"", "name = \"CURRENCY\"", 1));
        assert!(
            e.contains(
                "worker[0].activities[0].secrets[1].env`: `CURRENCY` is already an env variable"
            ),
            "{e}"
        );
        let _ = std::fs::remove_file(secret_file);
    }

    #[test]
    fn a_writable_dir_quota_is_bounded_by_the_operator() {
        let config = |allow: &str, dir: &str| {
            format!(
                "{allow}\n[[worker]]\ntask_queue = \"Q\"\n[[worker.activities]]\n\
                 module = \"act.wasm\"\ndirs = [{{ host = \"data/out\", guest = \"/out\", {dir} }}]\n"
            )
        };
        let quota = |text: &str| {
            parse(text).expect("valid config").workers[0].activities[0]
                .grants
                .dirs[0]
                .max_bytes
        };
        let bounded = "[allow]\ndirs = [\"data\"]\ndir_max_bytes = 1000";
        assert_eq!(
            quota(&config(bounded, "writable = true")),
            Some(1000),
            "a writable dir naming no quota gets the operator's"
        );
        assert_eq!(
            quota(&config(bounded, "writable = true, max_bytes = 500")),
            Some(500)
        );
        let e = error(&config(bounded, "writable = true, max_bytes = 2000"));
        assert!(
            e.contains("dirs[0].max_bytes`: 2000 bytes is above the operator's `allow.dir_max_bytes` (1000)"),
            "{e}"
        );
        assert_eq!(quota(&config(bounded, "writable = false")), None);
        let e = error(&config("", "max_bytes = 10"));
        assert!(
            e.contains("dirs[0].max_bytes`: only a writable dir has a quota"),
            "{e}"
        );
        // Without [allow], the grant's own quota, or none.
        assert_eq!(
            quota(&config("", "writable = true, max_bytes = 10")),
            Some(10)
        );
        assert_eq!(quota(&config("", "writable = true")), None);
    }

    #[test]
    fn a_grant_names_secrets_never_their_sources() {
        // The hole: a grant choosing `from_file` read any host file the host
        // can read. Now any source in a grant is refused by rule, before
        // anything is read, so an existing file and a missing one answer
        // alike.
        let config = |source: &str| {
            format!(
                r#"
                [allow]
                secrets = ["TOKEN"]
                [secrets]
                TOKEN = {{ from_env = "WEFT_TEST_UNSET_SECRET_VARIABLE" }}
                [[worker]]
                task_queue = "Q"
                [[worker.activities]]
                module = "a.wasm"
                secrets = [{{ name = "TOKEN", {source}, env = true }}]
                "#
            )
        };
        let rule = "a grant names a secret, never its source: the operator binds `TOKEN` \
                    to a variable or file in weft.toml's `[secrets]`";
        let passwd = error(&config("from_file = \"/etc/passwd\""));
        assert!(
            passwd.contains(&format!(
                "worker[0].activities[0].secrets[0].from_file`: {rule}"
            )),
            "{passwd}"
        );
        let missing = error(&config("from_file = \"/no/such/weft/file\""));
        assert_eq!(
            passwd, missing,
            "the answer must not tell whether a path exists"
        );
        let env = error(&config("from_env = \"HOME\""));
        assert!(
            env.contains(&format!(
                "worker[0].activities[0].secrets[0].from_env`: {rule}"
            )),
            "{env}"
        );

        // A name the operator did not bind is refused, a source without
        // exactly one of the two keys too.
        let text = config("header = { url = \"https://a.example\", name = \"x\" }")
            .replace("TOKEN = {", "OTHER = {");
        let e = error(&text);
        assert!(
            e.contains("secret `TOKEN` is not defined in the operator's `[secrets]`"),
            "{e}"
        );
        let e = error(
            &config("header = { url = \"https://a.example\", name = \"x\" }").replace(
                "{ from_env = \"WEFT_TEST_UNSET_SECRET_VARIABLE\" }",
                "{ from_env = \"A\", from_file = \"b\" }",
            ),
        );
        assert!(
            e.contains("`secrets.TOKEN`: give exactly one of `from_env` and `from_file`"),
            "{e}"
        );
        // The operator's source is read: an unset variable fails the start.
        let e = error(&config(
            "header = { url = \"https://a.example\", name = \"x\" }",
        ));
        assert!(
            e.contains("`WEFT_TEST_UNSET_SECRET_VARIABLE` (from `[secrets]`) is not set"),
            "{e}"
        );
    }

    #[test]
    fn a_granted_dir_cannot_leave_the_allowed_tree_through_a_symlink() {
        let tmp = std::env::temp_dir().join(format!("weft-symlink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let (allowed, outside) = (tmp.join("allowed"), tmp.join("outside"));
        std::fs::create_dir_all(allowed.join("real")).expect("dirs");
        std::fs::create_dir_all(outside.join("sub")).expect("dirs");
        std::os::unix::fs::symlink(&outside, allowed.join("out")).expect("symlink");
        std::os::unix::fs::symlink("real", allowed.join("inside")).expect("symlink");
        let config = |host: &str, create: bool| {
            let text = format!(
                r#"
                [allow]
                dirs = ["allowed"]
                [[worker]]
                task_queue = "Q"
                [[worker.activities]]
                module = "a.wasm"
                dirs = [{{ host = "{host}", guest = "/data", create = {create} }}]
                "#
            );
            Config::parse(&text, Path::new("weft.toml"), &tmp, &Overrides::default())
        };
        // The link itself, a path through it, and a dir to be created
        // behind it: all refused, with the rule.
        for (host, create) in [
            ("allowed/out", false),
            ("allowed/out/sub", false),
            ("allowed/out/new", true),
        ] {
            let e = config(host, create)
                .map(|_| ())
                .expect_err(host)
                .to_string();
            assert!(
                e.contains("passes through a symlink that leads out of the operator allow-list"),
                "{host}: {e}"
            );
        }
        // A link that stays inside the tree is fine.
        let c = config("allowed/inside", false).expect("a link within the tree");
        let dir = &c.workers[0].activities[0].grants.dirs[0];
        assert_eq!(
            dir.within.as_deref(),
            Some(allowed.canonicalize().expect("real").as_path())
        );
        assert_eq!(
            crate::activity::sandbox::resolved_dir(dir).expect("still inside"),
            allowed.join("real").canonicalize().expect("real")
        );

        // Checked again at every instance start: a granted dir swapped for a
        // link out of the tree after the grant was checked is refused.
        let c = config("allowed/real", false).expect("a plain dir");
        let dir = &c.workers[0].activities[0].grants.dirs[0];
        std::fs::remove_dir(allowed.join("real")).expect("rmdir");
        std::os::unix::fs::symlink(&outside, allowed.join("real")).expect("symlink");
        let e = crate::activity::sandbox::resolved_dir(dir).expect_err("swapped for a link");
        assert!(e.contains("passes through a symlink that leads out"), "{e}");
        let _ = std::fs::remove_dir_all(&tmp);
    }
}
