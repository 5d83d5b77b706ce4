//! `weft inspect`: what a component is and what it may reach.
//!
//! For one component file: its world (workflow or activity, from its
//! exports), the types it offers, its imports, and which grants of
//! docs/capabilities.md those imports can use. With a config: the grants
//! the config gives this module (the entries that load it), which of them
//! its imports cannot use, and whether the config (with its operator
//! `[allow]` list) accepts them.

use crate::activity::ActivityRuntime;
use crate::config::{
    Config, ConfigError, Grants, Overrides, RawActivityModule, RawConfig, RawHttpGrant,
};
use crate::module::{self, CompileCache, Kind, Module, ModuleError};
use crate::workflow::WorkflowRuntime;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

/// A grant kind of docs/capabilities.md and the WASI interfaces it feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    /// `dirs`: wasi:filesystem.
    Dirs,
    /// `env` (and secrets with `env = true`): wasi:cli/environment.
    Env,
    /// `http` (and secret headers): wasi:http/outgoing-handler.
    Http,
    /// `sockets`: wasi:sockets.
    Sockets,
}

impl GrantKind {
    /// Every kind, in the order they are printed.
    pub const ALL: [GrantKind; 4] = [
        GrantKind::Dirs,
        GrantKind::Env,
        GrantKind::Http,
        GrantKind::Sockets,
    ];

    /// The config key.
    pub fn key(self) -> &'static str {
        match self {
            GrantKind::Dirs => "dirs",
            GrantKind::Env => "env",
            GrantKind::Http => "http",
            GrantKind::Sockets => "sockets",
        }
    }

    /// The grant kind an import can use, if any.
    pub fn of_import(import: &str) -> Option<GrantKind> {
        let interface = import.split('@').next().unwrap_or(import);
        if interface.starts_with("wasi:filesystem/") {
            Some(GrantKind::Dirs)
        } else if interface == "wasi:cli/environment" {
            Some(GrantKind::Env)
        } else if interface == "wasi:http/outgoing-handler" {
            Some(GrantKind::Http)
        } else if interface.starts_with("wasi:sockets/") {
            Some(GrantKind::Sockets)
        } else {
            None
        }
    }

    /// The interface a module must import to use this kind of grant.
    fn interface(self) -> &'static str {
        match self {
            GrantKind::Dirs => "wasi:filesystem",
            GrantKind::Env => "wasi:cli/environment",
            GrantKind::Http => "wasi:http/outgoing-handler",
            GrantKind::Sockets => "wasi:sockets",
        }
    }
}

/// What `weft inspect` found.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The component file (absolute).
    pub path: PathBuf,
    /// Its world.
    pub world: Kind,
    /// The export that decided the world, with its version.
    pub world_export: String,
    /// The types it offers.
    pub types: Vec<String>,
    /// Its imports, sorted.
    pub imports: Vec<String>,
    /// With `--config`: what the config gives it.
    pub config: Option<ConfigReport>,
}

impl Inspection {
    /// The grant kinds its imports can use, each with those imports.
    pub fn implied_grants(&self) -> Vec<(GrantKind, Vec<&str>)> {
        implied_grants(&self.imports)
    }

    /// True when the config refuses (or cannot give) this module its grants.
    pub fn refused(&self) -> bool {
        self.config
            .as_ref()
            .is_some_and(|c| matches!(c.acceptance, Acceptance::Refused { .. }))
    }
}

/// The grant kinds `imports` can use, each with the imports that use it.
pub fn implied_grants(imports: &[String]) -> Vec<(GrantKind, Vec<&str>)> {
    GrantKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let using: Vec<&str> = imports
                .iter()
                .map(String::as_str)
                .filter(|i| GrantKind::of_import(i) == Some(kind))
                .collect();
            (!using.is_empty()).then_some((kind, using))
        })
        .collect()
}

/// What a config gives the inspected module.
#[derive(Debug, Clone)]
pub struct ConfigReport {
    /// The config file.
    pub path: PathBuf,
    /// Activity entries that load the module.
    pub activities: Vec<ActivityEntry>,
    /// Workers that run it as a workflow: `worker[i] (task queue Q)`.
    pub workflow_workers: Vec<String>,
    /// Whether the config accepts the grants.
    pub acceptance: Acceptance,
}

/// One `[[worker.activities]]` entry that loads the module.
#[derive(Debug, Clone)]
pub struct ActivityEntry {
    /// `worker[i].activities[j]`.
    pub key: String,
    /// The worker's task queue.
    pub task_queue: String,
    /// One line per grant, as written (secret and env values left out).
    pub grants: Vec<String>,
    /// Grant kinds given that the module's imports cannot use.
    pub unused: Vec<GrantKind>,
}

/// Whether the config accepts what it grants the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acceptance {
    /// Loads, and has an `[allow]` list every grant is within.
    WithinAllow,
    /// Loads, and has no `[allow]` list: its grants are the only bound.
    NoAllow,
    /// Refused at start: the key and the problem.
    Refused {
        /// Dotted key of the grant, e.g. `worker[0].activities[0].http[0]`.
        key: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The config is refused for a reason outside this module's grants.
    ConfigInvalid(String),
}

/// Why a file could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// Not a loadable component, of no weft world (or both), or refused
    /// by its world.
    #[error(transparent)]
    Module(#[from] ModuleError),
    /// A Wasm engine could not be created.
    #[error("cannot start the {world} runtime: {reason}")]
    Engine {
        /// Which runtime.
        world: Kind,
        /// Wasmtime's message (with its causes).
        reason: String,
    },
    /// The config file cannot be read, or does not parse.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Inspect a component file, and with `config` what that config gives it.
pub async fn inspect(path: &Path, config: Option<&Path>) -> Result<Inspection, InspectError> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let cache = CompileCache::from_env();
    let bytes = module::read(Kind::Activity, &path)?;
    // The interface is read from the binary without compiling it; the
    // world's own runtime then compiles it (once) as `weft serve` would
    // and lists its types. The text format is accepted, as `serve` does.
    let binary = if module::text_format(&bytes) {
        wat::parse_bytes(&bytes)
            .map_err(|e| ModuleError::Unusable {
                path: path.clone(),
                reason: format!("not valid WebAssembly text: {e}"),
            })?
            .into_owned()
    } else {
        bytes
    };
    let interface = module::interface_of(&path, &binary)?;
    let world = interface.kind;
    let engine_error = |e: wasmtime::Error| InspectError::Engine {
        world,
        reason: format!("{e:#}"),
    };
    let types = match world {
        Kind::Workflow => WorkflowRuntime::new()
            .map_err(engine_error)?
            .with_cache(cache)
            .load_bytes(&path, &binary)
            .await?
            .types()
            .to_vec(),
        Kind::Activity => ActivityRuntime::new()
            .map_err(engine_error)?
            .with_cache(cache)
            .load_bytes(&path, &binary, &Grants::default())
            .await?
            .types()
            .to_vec(),
    };
    let config = match config {
        Some(c) => Some(config_report(c, &path, &interface.imports)?),
        None => None,
    };
    Ok(Inspection {
        path,
        world,
        world_export: interface.world_export,
        types,
        imports: interface.imports,
        config,
    })
}

/// Same file? Compares canonical paths when both exist.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// What the config at `config_path` gives the module at `module_path`.
///
/// The entries are read from the config as written (before validation),
/// so that a grant the config refuses is still listed beside the refusal.
fn config_report(
    config_path: &Path,
    module_path: &Path,
    imports: &[String],
) -> Result<ConfigReport, InspectError> {
    let text = std::fs::read_to_string(config_path).map_err(|source| ConfigError::Read {
        path: config_path.to_owned(),
        source,
    })?;
    let raw: RawConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: config_path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    let base = config_path.parent().unwrap_or(Path::new("."));
    let base = std::path::absolute(base).unwrap_or_else(|_| base.to_owned());
    let used: Vec<GrantKind> = implied_grants(imports)
        .into_iter()
        .map(|(k, _)| k)
        .collect();

    let mut activities = Vec::new();
    let mut workflow_workers = Vec::new();
    let loads = |m: &Path| same_file(&base.join(m), module_path);
    for (i, worker) in raw.worker.iter().enumerate() {
        let task_queue = &worker.task_queue;
        if worker.workflows.iter().any(|m| loads(m.as_path())) {
            workflow_workers.push(format!("worker[{i}] (task queue {task_queue})"));
        }
        for (j, entry) in worker.activities.iter().enumerate() {
            if !loads(entry.module.as_path()) {
                continue;
            }
            let (grants, kinds) = grant_lines(entry, &base);
            let unused = GrantKind::ALL
                .into_iter()
                .filter(|k| kinds.contains(k) && !used.contains(k))
                .collect();
            activities.push(ActivityEntry {
                key: format!("worker[{i}].activities[{j}]"),
                task_queue: task_queue.clone(),
                grants,
                unused,
            });
        }
    }

    let acceptance = match Config::parse(&text, config_path, &base, &Overrides::default()) {
        Ok(config) if config.allow.is_some() => Acceptance::WithinAllow,
        Ok(_) => Acceptance::NoAllow,
        Err(ConfigError::Invalid { key, problem, .. })
            if activities
                .iter()
                .any(|a| key == a.key || key.starts_with(&format!("{}.", a.key))) =>
        {
            Acceptance::Refused { key, problem }
        }
        Err(e) => Acceptance::ConfigInvalid(e.to_string()),
    };
    Ok(ConfigReport {
        path: config_path.to_owned(),
        activities,
        workflow_workers,
        acceptance,
    })
}

/// One line per grant of an activity entry as written, and the grant kinds
/// it gives. Env values and secrets are never printed.
fn grant_lines(entry: &RawActivityModule, base: &Path) -> (Vec<String>, Vec<GrantKind>) {
    let mut lines = Vec::new();
    let mut kinds = Vec::new();
    let mut give = |kind: GrantKind| {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    };
    let text = |v: &toml::Value| match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    // In the keys' alphabetical order, as the entry is written in TOML.
    if !entry.dirs.is_empty() {
        give(GrantKind::Dirs);
    }
    for (k, d) in entry.dirs.iter().enumerate() {
        let mut mode = if d.writable { "writable" } else { "read-only" }.to_owned();
        if d.create {
            mode.push_str(", create");
        }
        if let Some(max) = d.max_bytes {
            let _ = write!(mode, ", max_bytes {max}");
        }
        lines.push(format!(
            "dirs[{k}]: {} -> {} ({mode})",
            base.join(&d.host).display(),
            d.guest
        ));
    }
    if !entry.env.is_empty() {
        give(GrantKind::Env);
        let names: Vec<&str> = entry.env.keys().map(String::as_str).collect();
        lines.push(format!("env: {}", names.join(", ")));
    }
    if !entry.http.is_empty() {
        give(GrantKind::Http);
    }
    for (k, h) in entry.http.iter().enumerate() {
        let line = match h {
            RawHttpGrant::Url(url) => url.clone(),
            RawHttpGrant::Table { url, methods: None } => url.clone(),
            RawHttpGrant::Table {
                url,
                methods: Some(m),
            } => format!("{url} (methods {})", toml::Value::from(m.clone())),
        };
        lines.push(format!("http[{k}]: {line}"));
    }
    if let Some(n) = entry.max_instances {
        lines.push(format!("max_instances: {n}"));
    }
    if let Some(n) = entry.memory_mib {
        lines.push(format!("memory_mib: {n}"));
    }
    for (k, s) in entry.secrets.iter().enumerate() {
        let mut line = format!("secrets[{k}]: {}", s.name);
        if let Some(var) = &s.from_env {
            let _ = write!(line, " from env {}", text(var));
        }
        if let Some(file) = &s.from_file {
            let _ = write!(line, " from file {}", text(file));
        }
        if let Some(header) = &s.header {
            give(GrantKind::Http);
            let _ = write!(
                line,
                ", header `{}` on requests to {}",
                header.name, header.url
            );
        }
        if s.env {
            give(GrantKind::Env);
            line.push_str(", as env variable");
        }
        lines.push(line);
    }
    if !entry.sockets.is_empty() {
        give(GrantKind::Sockets);
    }
    for (k, s) in entry.sockets.iter().enumerate() {
        lines.push(format!("sockets[{k}]: {s}"));
    }
    (lines, kinds)
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "module: {}", self.path.display())?;
        writeln!(f, "world: {} (exports {})", self.world, self.world_export)?;
        writeln!(f, "types: {}", self.types.join(", "))?;
        writeln!(f, "imports:")?;
        for import in &self.imports {
            writeln!(f, "  {import}")?;
        }
        writeln!(f, "grants its imports can use:")?;
        let implied = self.implied_grants();
        if implied.is_empty() {
            match self.world {
                Kind::Workflow => {
                    writeln!(f, "  none (a workflow imports no WASI; it gets no grants)")?
                }
                Kind::Activity => writeln!(f, "  none beyond memory and time limits")?,
            }
        }
        for (kind, imports) in implied {
            writeln!(f, "  {:<8} {}", kind.key(), imports.join(", "))?;
        }
        if let Some(config) = &self.config {
            write!(f, "{config}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ConfigReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "grants in {}:", self.path.display())?;
        for w in &self.workflow_workers {
            writeln!(f, "  {w} runs it as a workflow (workflows get no grants)")?;
        }
        if self.activities.is_empty() && self.workflow_workers.is_empty() {
            writeln!(f, "  none: no worker of this config loads this module")?;
        }
        for a in &self.activities {
            writeln!(f, "  {} (task queue {})", a.key, a.task_queue)?;
            if a.grants.is_empty() {
                writeln!(f, "    nothing granted")?;
            }
            for g in &a.grants {
                writeln!(f, "    {g}")?;
            }
            for kind in &a.unused {
                writeln!(
                    f,
                    "    note: `{}` is granted but the module does not import {}",
                    kind.key(),
                    kind.interface()
                )?;
            }
        }
        match &self.acceptance {
            Acceptance::WithinAllow => writeln!(
                f,
                "  allow-list: every grant is within the config's [allow] list"
            ),
            Acceptance::NoAllow => writeln!(
                f,
                "  allow-list: none in this config; the grants above are the only bound"
            ),
            Acceptance::Refused { key, problem } => {
                writeln!(f, "  REFUSED at start: `{key}`: {problem}")
            }
            Acceptance::ConfigInvalid(e) => writeln!(f, "  the config is refused: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_map_to_the_grants_they_can_use() {
        let of = GrantKind::of_import;
        assert_eq!(of("wasi:filesystem/preopens@0.2.4"), Some(GrantKind::Dirs));
        assert_eq!(of("wasi:filesystem/types@0.2.0"), Some(GrantKind::Dirs));
        assert_eq!(of("wasi:cli/environment@0.2.4"), Some(GrantKind::Env));
        assert_eq!(
            of("wasi:http/outgoing-handler@0.2.4"),
            Some(GrantKind::Http)
        );
        assert_eq!(of("wasi:http/types@0.2.4"), None);
        assert_eq!(of("wasi:sockets/tcp@0.2.4"), Some(GrantKind::Sockets));
        assert_eq!(of("wasi:cli/stdout@0.2.4"), None);
        assert_eq!(of("weft:plugin/activity-host@0.1.0"), None);
    }

    #[test]
    fn grant_lines_leave_out_values_and_secrets() {
        let entry: RawActivityModule = toml::from_str(
            r#"
            module = "a.wasm"
            dirs = [{ host = "var", guest = "/var", writable = true, max_bytes = 4096 }, { host = "s", guest = "/s" }]
            env = { CURRENCY = "EUR" }
            http = ["http://127.0.0.1:8080", { url = "https://api.example.com", methods = ["GET"] }]
            secrets = [{ name = "TOKEN", from_env = "TOKEN", header = { url = "https://api.example.com", name = "authorization" } }]
            memory_mib = 64
            "#,
        )
        .expect("toml");
        let (lines, kinds) = grant_lines(&entry, Path::new("/etc/weft"));
        let text = lines.join("\n");
        assert!(
            text.contains("dirs[0]: /etc/weft/var -> /var (writable, max_bytes 4096)"),
            "{text}"
        );
        assert!(
            text.contains("dirs[1]: /etc/weft/s -> /s (read-only)"),
            "{text}"
        );
        assert!(text.contains("env: CURRENCY"), "{text}");
        assert!(!text.contains("EUR"), "{text}");
        assert!(
            text.contains("http[1]: https://api.example.com (methods"),
            "{text}"
        );
        assert!(
            text.contains("secrets[0]: TOKEN from env TOKEN, header `authorization`"),
            "{text}"
        );
        assert!(text.contains("memory_mib: 64"), "{text}");
        assert_eq!(kinds, [GrantKind::Dirs, GrantKind::Env, GrantKind::Http]);
    }
}
