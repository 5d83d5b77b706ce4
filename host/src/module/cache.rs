//! Compiled components on disk, so a restart does not recompile them.
//!
//! JavaScript and Python components are megabytes of Wasm and take seconds
//! to compile; loading their compiled form takes milliseconds. Entries are
//! keyed by the component's sha256 and the engine's compatibility hash
//! (wasmtime version, compiler settings), so a different module, engine
//! config or wasmtime build never reuses a stale entry.
//!
//! Loading an entry runs the native code in it as is: whoever can write an
//! entry runs code inside weft, outside every sandbox. So a cache directory
//! or entry that is group- or world-writable, or owned by another user, is
//! not used: the host warns and compiles the component afresh (and writes
//! nothing there). Entries are written `0600` in a `0700` directory.

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

    /// The compiled form of `wasm` for `engine`, and whether it came from
    /// the cache; compiled and stored when it was not there. A cache that
    /// cannot be read or written only costs a compile.
    pub fn component(&self, engine: &Engine, wasm: &[u8]) -> wasmtime::Result<(Component, bool)> {
        let entry = self.dir.join(format!("{}.cwasm", key(engine, wasm)));
        if let Err(why) = trusted(&self.dir) {
            if self.dir.exists() {
                tracing::warn!(dir = %self.dir.display(), "not using the compile cache: {why}");
                return Ok((Component::new(engine, wasm)?, false));
            }
        } else if entry.exists() {
            if let Err(why) = trusted(&entry) {
                tracing::warn!(entry = %entry.display(), "not using a cache entry: {why}; recompiling");
                return Ok((Component::new(engine, wasm)?, false));
            }
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
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = entry.with_extension(format!("tmp{}-{nanos}", std::process::id()));
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?
            .write_all(&bytes)?;
        std::fs::rename(&tmp, entry)?;
        Ok(())
    }
}

/// The user this process runs as: the owner of `/proc/self` (Linux).
fn my_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// Why the cache does not trust a directory or an entry.
#[derive(Debug, thiserror::Error)]
enum Untrusted {
    /// It cannot be looked at.
    #[error("{0}")]
    Unreadable(#[source] std::io::Error),
    /// It is a symlink, which could lead anywhere.
    #[error("it is a symlink")]
    Symlink,
    /// Another user owns it.
    #[error("it is owned by uid {owner}, not this user ({me})")]
    Owner {
        /// Its owner.
        owner: u32,
        /// This process's user.
        me: u32,
    },
    /// Others may write into it.
    #[error(
        "it is group- or world-writable (mode {mode:o}), so others could put native code there"
    )]
    Writable {
        /// Its permission bits.
        mode: u32,
    },
}

/// Whether the cache may trust `path` (the directory or an entry): not a
/// symlink, owned by this user, and writable by no one else.
fn trusted(path: &Path) -> Result<(), Untrusted> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path).map_err(Untrusted::Unreadable)?;
    if meta.file_type().is_symlink() {
        return Err(Untrusted::Symlink);
    }
    if let Some(me) = my_uid()
        && meta.uid() != me
    {
        return Err(Untrusted::Owner {
            owner: meta.uid(),
            me,
        });
    }
    if meta.mode() & 0o022 != 0 {
        return Err(Untrusted::Writable {
            mode: meta.mode() & 0o777,
        });
    }
    Ok(())
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

    #[test]
    fn a_cache_others_can_write_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("weft-cache-perms-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = CompileCache::new(&dir);
        let engine = Engine::default();
        let wasm = b"(component (core module))";
        cache.component(&engine, wasm).expect("compiles");
        let entry = std::fs::read_dir(&dir)
            .expect("dir")
            .next()
            .expect("entry")
            .expect("entry")
            .path();
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&entry), 0o600);
        let (_, cached) = cache.component(&engine, wasm).expect("loads");
        assert!(cached);

        // An entry others may write: recompiled, not loaded, and left alone
        // (the code in it never runs).
        let chmod = |p: &Path, m| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod")
        };
        chmod(&entry, 0o666);
        let (_, cached) = cache.component(&engine, wasm).expect("recompiled");
        assert!(!cached, "a world-writable entry is not used");
        chmod(&entry, 0o620);
        let (_, cached) = cache.component(&engine, wasm).expect("recompiled");
        assert!(!cached, "a group-writable entry is not used");
        chmod(&entry, 0o600);
        // A directory others may write: nothing in it is used.
        chmod(&dir, 0o777);
        let (_, cached) = cache.component(&engine, wasm).expect("recompiled");
        assert!(!cached, "nothing in a world-writable dir is used");
        chmod(&dir, 0o700);
        let (_, cached) = cache.component(&engine, wasm).expect("loads");
        assert!(cached, "trusted again once private");
        // A symlinked entry is not followed.
        let elsewhere = dir.with_extension("elsewhere");
        std::fs::copy(&entry, &elsewhere).expect("copy");
        std::fs::remove_file(&entry).expect("rm");
        std::os::unix::fs::symlink(&elsewhere, &entry).expect("symlink");
        let (_, cached) = cache.component(&engine, wasm).expect("recompiled");
        assert!(!cached, "a symlinked entry is not used");
        let _ = std::fs::remove_file(&elsewhere);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
