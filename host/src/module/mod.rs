//! What workflow and activity modules share: loading a component file,
//! the errors that refuse one, and the registry of which module serves
//! which type in a worker.

mod cache;

pub use cache::CompileCache;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use wasmtime::Engine;
use wasmtime::component::Component;

/// Which world a module is loaded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `weft:plugin/workflow`.
    Workflow,
    /// `weft:plugin/activity`.
    Activity,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Workflow => "workflow",
            Kind::Activity => "activity",
        })
    }
}

/// Why a module was refused. Nothing is served from a refused module.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// The file could not be read.
    #[error("cannot read {kind} module {path}: {source}")]
    Read {
        /// The world it was loaded for.
        kind: Kind,
        /// The module file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// It is not a component, or does not compile.
    #[error("cannot load {kind} module {path}: {reason}")]
    Compile {
        /// The world it was loaded for.
        kind: Kind,
        /// The module file.
        path: PathBuf,
        /// Reader or compiler message.
        reason: String,
    },
    /// It is no component of either world.
    #[error("{path}: {reason}")]
    Unusable {
        /// Where it came from.
        path: PathBuf,
        /// What it is instead.
        reason: String,
    },
    /// It imports something its world does not provide.
    #[error("{kind} module {path} is not a weft {kind}: {reason}")]
    World {
        /// The world it was loaded for.
        kind: Kind,
        /// The module file.
        path: PathBuf,
        /// Linker message naming the import.
        reason: String,
    },
    /// Its grants cannot be met, or it offers no type.
    #[error("{kind} module {path}: {reason}")]
    Invalid {
        /// The world it was loaded for.
        kind: Kind,
        /// The module file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Read a component file.
pub fn read(kind: Kind, path: &Path) -> Result<Vec<u8>, ModuleError> {
    std::fs::read(path).map_err(|source| ModuleError::Read {
        kind,
        path: path.to_owned(),
        source,
    })
}

/// Compile a component, through `cache` when there is one. `path` names
/// where the bytes came from, in messages.
pub fn compile(
    engine: &Engine,
    kind: Kind,
    path: &Path,
    bytes: &[u8],
    cache: Option<&CompileCache>,
) -> Result<Component, ModuleError> {
    let compile_error = |reason: String| ModuleError::Compile {
        kind,
        path: path.to_owned(),
        reason,
    };
    if let Some(problem) = binary_problem(bytes).filter(|_| !text_format(bytes)) {
        return Err(compile_error(problem.into()));
    }
    let started = std::time::Instant::now();
    let (component, cached) = match cache {
        Some(cache) => cache.component(engine, bytes),
        None => Component::new(engine, bytes).map(|c| (c, false)),
    }
    .map_err(|e| compile_error(format!("{e:#}")))?;
    let took = started.elapsed();
    tracing::info!(
        module = %path.display(),
        %kind,
        size_kib = bytes.len() / 1024,
        ms = took.as_millis() as u64,
        from_cache = cached,
        "module compiled"
    );
    let (kind, label) = (kind.to_string(), crate::metrics::module_label(path));
    let metrics = crate::metrics::get();
    metrics
        .module_loads
        .with_label_values(&[kind.as_str(), &label, if cached { "true" } else { "false" }])
        .inc();
    metrics
        .module_compile_seconds
        .with_label_values(&[kind.as_str(), &label])
        .observe(took.as_secs_f64());
    Ok(component)
}

/// [`compile`] on the blocking pool: compiling a big component (a Python
/// or JavaScript guest) takes seconds of CPU, which must not hold an async
/// worker thread that polls Temporal or answers health checks.
pub async fn compile_off_runtime(
    engine: &Engine,
    kind: Kind,
    path: &Path,
    bytes: &[u8],
    cache: Option<&CompileCache>,
) -> Result<Component, ModuleError> {
    let (engine, path, cache) = (engine.clone(), path.to_owned(), cache.cloned());
    let bytes = bytes.to_vec();
    let compiling = path.clone();
    tokio::task::spawn_blocking(move || compile(&engine, kind, &path, &bytes, cache.as_ref()))
        .await
        .map_err(|e| ModuleError::Compile {
            kind,
            path: compiling,
            reason: format!("the compile did not finish: {e}"),
        })?
}

/// True when `bytes` look like the WebAssembly text format (`.wat`),
/// which [`compile`] accepts too: tests and tiny edge cases.
pub fn text_format(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .is_ok_and(|t| t.trim_start().starts_with('(') || t.trim_start().starts_with(";;"))
}

/// Why `bytes` cannot be a binary component, if they cannot.
fn binary_problem(bytes: &[u8]) -> Option<&'static str> {
    if !bytes.starts_with(b"\0asm") {
        return Some("not WebAssembly (no `\\0asm` magic number at its start)");
    }
    // The version field: 1 for a core module, 0x0d plus layer 1 for a component.
    (bytes.get(4..8) == Some(&[1, 0, 0, 0])).then_some(
        "a core WebAssembly module, not a component: turn it into a component \
         (`cargo xtask componentize`, or `wasm-tools component new`)",
    )
}

/// The interface a workflow component exports: the blocking world's, the
/// activation-based world's, or Temporal's own world's (any version here:
/// loading it names the version weft serves).
const WORKFLOW_EXPORT: &str = "weft:plugin/workflow-guest";
const ACTIVATION_EXPORT: &str = "weft:plugin/activation-guest";
const TEMPORAL_EXPORT: &str = "temporal:workflow-runtime/workflow-guest";
/// The interface an activity component exports.
const ACTIVITY_EXPORT: &str = "weft:plugin/activity-guest";

/// Which weft world a component implements, read from its exports without
/// compiling it. `path` names where the bytes came from, in messages.
pub fn world_of(path: &Path, bytes: &[u8]) -> Result<Kind, ModuleError> {
    interface_of(path, bytes).map(|i| i.kind)
}

/// What a component's outermost level imports and exports, and the world
/// that makes it, read without compiling it.
#[derive(Debug, Clone)]
pub struct Interface {
    /// Its world.
    pub kind: Kind,
    /// The export that decided the world, with its version.
    pub world_export: String,
    /// Its imports, sorted.
    pub imports: Vec<String>,
}

/// Read a binary component's [`Interface`]. `path` names where the bytes
/// came from, in messages.
pub fn interface_of(path: &Path, bytes: &[u8]) -> Result<Interface, ModuleError> {
    use wasmparser::{Parser, Payload};
    let refuse = |reason: String| ModuleError::Unusable {
        path: path.to_owned(),
        reason,
    };
    if let Some(problem) = binary_problem(bytes) {
        return Err(refuse(problem.into()));
    }
    let malformed = |e: wasmparser::BinaryReaderError| refuse(format!("malformed component: {e}"));
    // Nested modules and components have imports and exports of their
    // own: only the outermost component's count.
    let mut depth = 0usize;
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(malformed)? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    exports.push(export.map_err(malformed)?.name.name.to_owned());
                }
            }
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    imports.push(import.map_err(malformed)?.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    imports.sort();
    let (kind, world_export) = world_of_exports(path, &exports)?;
    Ok(Interface {
        kind,
        world_export,
        imports,
    })
}

/// Which weft world a component with these top-level exports implements,
/// and the export (with its version) that says so.
pub fn world_of_exports(path: &Path, exports: &[String]) -> Result<(Kind, String), ModuleError> {
    let refuse = |reason: String| ModuleError::Unusable {
        path: path.to_owned(),
        reason,
    };
    let find = |world: &str| exports.iter().find(|e| e.split('@').next() == Some(world));
    let workflow = find(WORKFLOW_EXPORT)
        .or_else(|| find(ACTIVATION_EXPORT))
        .or_else(|| find(TEMPORAL_EXPORT));
    match (workflow, find(ACTIVITY_EXPORT)) {
        (Some(e), None) => Ok((Kind::Workflow, e.clone())),
        (None, Some(e)) => Ok((Kind::Activity, e.clone())),
        (Some(_), Some(_)) => Err(refuse(format!(
            "it exports both {WORKFLOW_EXPORT} and {ACTIVITY_EXPORT}; a weft module is one or the other"
        ))),
        (None, None) => Err(refuse(format!(
            "not a weft component: it exports neither {ACTIVATION_EXPORT}, {WORKFLOW_EXPORT} or \
             {TEMPORAL_EXPORT} (a workflow) nor {ACTIVITY_EXPORT} (an activity); its exports: {}",
            if exports.is_empty() {
                "none".to_owned()
            } else {
                exports.join(", ")
            }
        ))),
    }
}

/// How long a module's `workflow-types` / `activity-types` export may run,
/// instantiation included, each time the module is loaded (at start, at
/// upload, when a stored version is first served). It returns a constant
/// list, so a few seconds is ample even on a loaded host; a guest that takes
/// longer is refused instead of holding a thread while it loops.
pub const TYPES_DEADLINE: Duration = Duration::from_secs(5);

/// Why a module is refused whose `export` (`activity-types`, ...) did not
/// return within [`TYPES_DEADLINE`]; `how` says what stopped it.
pub fn types_overran(export: &str, how: &str) -> String {
    format!(
        "{export} did not return within {}s: {how} (listing the types a module offers \
         runs when it is loaded, with no grants; it must return at once)",
        TYPES_DEADLINE.as_secs()
    )
}

/// Check what a module's `*-types` export returned.
pub fn offered_types(
    kind: Kind,
    path: &Path,
    types: Result<Vec<String>, String>,
) -> Result<Vec<String>, ModuleError> {
    let invalid = |reason: String| ModuleError::Invalid {
        kind,
        path: path.to_owned(),
        reason,
    };
    match types {
        Ok(types) if types.is_empty() => Err(invalid(format!("{kind}-types returned no type"))),
        Ok(types) => Ok(types),
        Err(e) => Err(invalid(e)),
    }
}

/// A loaded module that offers named types.
pub trait Module: Clone {
    /// The file it was loaded from.
    fn path(&self) -> &Path;
    /// The types it implements.
    fn types(&self) -> &[String];
}

impl<M: Module> Module for Arc<M> {
    fn path(&self) -> &Path {
        M::path(self)
    }
    fn types(&self) -> &[String] {
        M::types(self)
    }
}

/// A registry that deploys replace while workers read it: a reader gets
/// the registry of the moment and keeps it for the task at hand.
pub struct Live<R>(RwLock<Arc<R>>);

impl<R> Live<R> {
    /// Start with `registry`.
    pub fn new(registry: R) -> Live<R> {
        Live(RwLock::new(Arc::new(registry)))
    }

    /// The registry now.
    pub fn get(&self) -> Arc<R> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replace the registry; tasks holding the old one finish on it.
    pub fn set(&self, registry: R) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(registry);
    }
}

/// Type name -> module, for one worker.
#[derive(Clone)]
pub struct Registry<M> {
    by_type: BTreeMap<String, M>,
}

impl<M> Default for Registry<M> {
    fn default() -> Self {
        Registry {
            by_type: BTreeMap::new(),
        }
    }
}

/// Two modules of one worker offer the same type.
#[derive(Debug, thiserror::Error)]
#[error("type `{type_name}` is offered by both {first} and {second}")]
pub struct DuplicateType {
    /// The type offered twice.
    pub type_name: String,
    /// The module registered first.
    pub first: PathBuf,
    /// The module refused.
    pub second: PathBuf,
}

impl<M: Module> Registry<M> {
    /// Register every type of `module`, or none if one is taken.
    pub fn add(&mut self, module: M) -> Result<(), DuplicateType> {
        if let Some((ty, first)) = module
            .types()
            .iter()
            .find_map(|ty| self.by_type.get(ty).map(|m| (ty, m.path())))
        {
            return Err(DuplicateType {
                type_name: ty.clone(),
                first: first.to_owned(),
                second: module.path().to_owned(),
            });
        }
        for ty in module.types() {
            self.by_type.insert(ty.clone(), module.clone());
        }
        Ok(())
    }

    /// The module implementing a type.
    pub fn get(&self, type_name: &str) -> Option<&M> {
        self.by_type.get(type_name)
    }

    /// All registered types, comma-separated, for error messages.
    pub fn type_list(&self) -> String {
        self.by_type.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Fake(PathBuf, Vec<String>);
    impl Module for Fake {
        fn path(&self) -> &Path {
            &self.0
        }
        fn types(&self) -> &[String] {
            &self.1
        }
    }

    #[test]
    fn a_type_belongs_to_one_module() {
        let mut r = Registry::default();
        r.add(Fake("a.wasm".into(), vec!["A".into(), "B".into()]))
            .expect("first module");
        let e = r
            .add(Fake("b.wasm".into(), vec!["C".into(), "B".into()]))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("type `B` is offered by both a.wasm and b.wasm")
        );
        assert!(r.get("C").is_none(), "a refused module registers nothing");
        assert_eq!(r.get("A").map(|m| m.0.clone()), Some("a.wasm".into()));
        assert_eq!(r.type_list(), "A, B");
    }
}
