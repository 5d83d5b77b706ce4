//! Compiled components on disk, so a restart does not recompile them.
//!
//! JavaScript and Python components are megabytes of Wasm and take seconds
//! to compile; loading their compiled form takes milliseconds. Entries are
//! keyed by the component's sha256 and the engine's compatibility hash
//! (wasmtime version, compiler settings), so a different module, engine
//! config or wasmtime build never reuses a stale entry.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// A directory of compiled components.
///
/// Loading an entry runs native code compiled from it, so the directory must
/// be writable only by the user weft runs as (it is created `0700`).
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
}

impl CompileCache {
    /// A cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> CompileCache {
        CompileCache { dir: dir.into() }
    }

    /// `WEFT_CACHE_DIR`, else `$XDG_CACHE_HOME/weft`, else `~/.cache/weft`;
    /// none if `WEFT_CACHE_DIR` is `off` or no home is known.
    pub fn from_env() -> Option<CompileCache> {
        let var = |k| std::env::var_os(k).filter(|v| !v.is_empty());
        if let Some(dir) = var("WEFT_CACHE_DIR") {
            return (dir != "off").then(|| CompileCache::new(dir));
        }
        let base = var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| Path::new(&h).join(".cache")))?;
        Some(CompileCache::new(base.join("weft")))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The compiled form of `wasm` for `engine`, and whether it came from
    /// the cache; compiled and stored when it was not there. A cache that
    /// cannot be read or written only costs a compile.
    pub fn component(&self, engine: &Engine, wasm: &[u8]) -> wasmtime::Result<(Component, bool)> {
        let entry = self.dir.join(format!("{}.cwasm", key(engine, wasm)));
        if entry.exists() {
            match load(engine, &entry) {
                Ok(component) => return Ok((component, true)),
                Err(e) => {
                    tracing::warn!(entry = %entry.display(), "dropping unusable cache entry: {e:#}");
                    let _ = std::fs::remove_file(&entry);
                }
            }
        }
        let component = Component::new(engine, wasm)?;
        if let Err(e) = self.store(&entry, &component) {
            tracing::warn!(dir = %self.dir.display(), "cannot cache a compiled component: {e:#}");
        }
        Ok((component, false))
    }

    /// Write atomically: a crash leaves no partial entry behind.
    fn store(&self, entry: &Path, component: &Component) -> wasmtime::Result<()> {
        create_private_dir(&self.dir)?;
        let bytes = component.serialize()?;
        let tmp = entry.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, entry)?;
        Ok(())
    }
}

/// The entry name: sha256 of the component, then the engine's hash.
fn key(engine: &Engine, wasm: &[u8]) -> String {
    let digest = Sha256::digest(wasm);
    let mut hasher = std::hash::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}-{:016x}", hasher.finish())
}

#[allow(unsafe_code)]
fn load(engine: &Engine, entry: &Path) -> wasmtime::Result<Component> {
    // SAFETY: wasmtime runs the native code in `entry` as is. Entries are
    // written only by `CompileCache::store` from `Component::serialize`, in
    // a directory private to this user, and named by the digest of their
    // source and the engine; wasmtime checks the header, version and engine
    // settings before use.
    unsafe { Component::deserialize_file(engine, entry) }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compiled_component_is_stored_once_and_loaded_from_disk() {
        let dir = std::env::temp_dir().join(format!("weft-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = CompileCache::new(&dir);
        let engine = Engine::default();
        // wasmtime (feature `wat`) compiles the text form too.
        let wasm = b"(component (core module))";
        let (_, cached) = cache.component(&engine, wasm).expect("compiles");
        assert!(!cached);
        let entries = || std::fs::read_dir(&dir).expect("cache dir").count();
        assert_eq!(entries(), 1);
        cache
            .component(&engine, wasm)
            .expect("loads from the cache");
        assert_eq!(entries(), 1, "no second entry for the same component");

        // A corrupt entry costs a compile, not a failure.
        let entry = std::fs::read_dir(&dir)
            .expect("dir")
            .next()
            .expect("entry")
            .expect("entry")
            .path();
        std::fs::write(&entry, b"garbage").expect("corrupt");
        cache.component(&engine, wasm).expect("recompiled");
        assert_ne!(std::fs::read(&entry).expect("entry"), b"garbage");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
