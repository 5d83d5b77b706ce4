//! What workflow and activity modules share: loading a component file,
//! the errors that refuse one, and the registry of which module serves
//! which type in a worker.

mod cache;

pub use cache::CompileCache;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Which world a module is loaded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// The file could not be read or is not a component.
    #[error("cannot load {kind} module {path}: {reason}")]
    Compile {
        /// The world it was loaded for.
        kind: Kind,
        /// The module file.
        path: PathBuf,
        /// Reader or compiler message.
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

/// Read and compile a component file, through `cache` when there is one.
pub fn compile(
    engine: &Engine,
    kind: Kind,
    path: &Path,
    cache: Option<&CompileCache>,
) -> Result<Component, ModuleError> {
    let compile_error = |reason: String| ModuleError::Compile {
        kind,
        path: path.to_owned(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| compile_error(e.to_string()))?;
    let started = std::time::Instant::now();
    let (component, cached) = match cache {
        Some(cache) => cache.component(engine, &bytes),
        None => Component::new(engine, &bytes).map(|c| (c, false)),
    }
    .map_err(|e| compile_error(format!("{e:#}")))?;
    tracing::info!(
        module = %path.display(),
        %kind,
        size_kib = bytes.len() / 1024,
        ms = started.elapsed().as_millis() as u64,
        from_cache = cached,
        "module compiled"
    );
    Ok(component)
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
