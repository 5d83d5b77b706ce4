//! The module store: component files kept by content (sha256) and named
//! versions of them (`order` -> digests, one of them current).
//!
//! Layout under the store's root:
//! - `blobs/sha256/<hex>.wasm`: the components, named by their digest;
//! - `names/<name>.toml`: a name's versions in upload order and which one
//!   is current.
//!
//! - `lock`: the store lock (an OS advisory lock, `flock`), held around
//!   every read-modify-write of a name record.
//!
//! Every write goes to a temporary file in the same directory, is synced,
//! then renamed over its target: a crash mid-upload leaves the store as it
//! was (at worst an orphan temporary file, ignored and cleaned on open).
//!
//! Readers never lock: a record is replaced by rename, so a reader sees the
//! old or the new one whole. Writers do: hosts sharing the store each read
//! a record, change it and write it back, and without the lock one host's
//! write would drop another's. One lock for the whole store, not one per
//! name: removing a version deletes its component file unless another name
//! lists it, so a removal has to see every name's record unchanged until
//! it is done. Name records change rarely (deploys), so one lock costs
//! little.

use crate::module::Kind;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A component's identity: `sha256:<64 hex digits>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        let hex: String = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Digest(format!("sha256:{hex}"))
    }

    /// The 64 hex digits.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }

    /// The first 12 hex digits, for tables and logs.
    pub fn short(&self) -> &str {
        &self.hex()[..12]
    }
}

impl TryFrom<String> for Digest {
    type Error = StoreError;
    fn try_from(s: String) -> Result<Digest, StoreError> {
        let hex = s.strip_prefix("sha256:").unwrap_or_default();
        if hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            Ok(Digest(s))
        } else {
            Err(StoreError::BadDigest(s))
        }
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a store operation failed. Nothing was changed when it did.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing the store failed.
    #[error("module store {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// Not a digest.
    #[error("`{0}` is not a digest (sha256:<64 lower-case hex digits>)")]
    BadDigest(String),
    /// Not a usable module name.
    #[error("`{0}` is not a module name (letters, digits, `-`, `_`, `.`; at most 64)")]
    BadName(String),
    /// The name has no such version.
    #[error("module `{name}` has no version {digest}")]
    NoSuchVersion {
        /// The name.
        name: String,
        /// The digest asked for.
        digest: Digest,
    },
    /// The name is unknown.
    #[error("no module named `{0}`")]
    NoSuchName(String),
    /// The current version cannot be removed.
    #[error("{digest} is the current version of `{name}`: make another version current first")]
    RemoveCurrent {
        /// The name.
        name: String,
        /// Its current digest.
        digest: Digest,
    },
    /// A name keeps its kind and task queue.
    #[error("module `{name}` is {was}; this upload is {now}: use another name")]
    Mismatch {
        /// The name.
        name: String,
        /// What the name holds.
        was: String,
        /// What was uploaded.
        now: String,
    },
    /// A component file's bytes do not have the digest it is stored under
    /// (changed on disk): it must not run, and nothing stands in for it.
    #[error("module blob does not match {digest}: {path} was changed on disk; it will not run")]
    BlobMismatch {
        /// The digest it is stored under.
        digest: Digest,
        /// The component file.
        path: PathBuf,
    },
    /// Another host held the store lock for longer than this host waits.
    #[error(
        "module store {path} is locked by another deploy, undeploy or current change \
         (waited {waited:?}): try again"
    )]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// How long this host waited.
        waited: std::time::Duration,
    },
    /// A name's record is unreadable.
    #[error("module store record {path}: {source}")]
    Corrupt {
        /// The record file.
        path: PathBuf,
        /// The parser's error.
        source: toml::de::Error,
    },
    /// A name's record cannot be written as TOML (a weft bug).
    #[error("module store record {path}: cannot encode it: {source}")]
    Encode {
        /// The record file.
        path: PathBuf,
        /// The encoder's error.
        source: toml::ser::Error,
    },
}

/// A name's versions, as stored in `names/<name>.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameRecord {
    /// Workflow or activity: fixed by the first version.
    pub kind: Kind,
    /// The task queue whose worker serves it: fixed by the first version.
    pub task_queue: String,
    /// The version new runs use.
    pub current: Option<Digest>,
    /// Versions in upload order (oldest first).
    pub versions: Vec<Version>,
}

impl NameRecord {
    /// The version with `digest`.
    pub fn version(&self, digest: &Digest) -> Option<&Version> {
        self.versions.iter().find(|v| &v.digest == digest)
    }

    /// Refuse a version of another kind or task queue: a name keeps both.
    pub fn accepts(&self, name: &str, kind: Kind, task_queue: &str) -> Result<(), StoreError> {
        if self.kind != kind || self.task_queue != task_queue {
            return Err(StoreError::Mismatch {
                name: name.to_owned(),
                was: format!("a {} module on task queue `{}`", self.kind, self.task_queue),
                now: format!("a {kind} module on task queue `{task_queue}`"),
            });
        }
        Ok(())
    }

    /// The current version.
    pub fn current_version(&self) -> Option<&Version> {
        self.current.as_ref().and_then(|d| self.version(d))
    }
}

/// One uploaded version of a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// The component.
    pub digest: Digest,
    /// The workflow or activity types it offers.
    pub types: Vec<String>,
    /// An activity's grants, as TOML (the keys of a config's
    /// `[[worker.activities]]` entry, without `module`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub grants: String,
}

/// A module store rooted at a directory.
#[derive(Debug, Clone)]
pub struct ModuleStore {
    root: PathBuf,
}

impl ModuleStore {
    /// Open (creating if needed) the store at `root`, dropping temporary
    /// files a crash left behind. Only old ones: in a store shared by
    /// hosts, a fresh one is another host's write in progress.
    pub fn open(root: impl Into<PathBuf>) -> Result<ModuleStore, StoreError> {
        let store = ModuleStore { root: root.into() };
        for dir in [store.blobs(), store.names_dir()] {
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            for entry in std::fs::read_dir(&dir).map_err(io(&dir))?.flatten() {
                let stale = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STALE_TMP));
                if entry.file_name().to_string_lossy().starts_with(".tmp-") && stale {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(store)
    }

    /// The component file of `digest` (whether or not it exists).
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.blobs().join(format!("{}.wasm", digest.hex()))
    }

    /// The component stored under `digest`, checked against it on every
    /// read: whoever can write the store's files must not be able to swap
    /// the code a pinned run replays on.
    pub fn read(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        let path = self.path(digest);
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        if Digest::of(&bytes) != *digest {
            return Err(StoreError::BlobMismatch {
                digest: digest.clone(),
                path,
            });
        }
        Ok(bytes)
    }

    /// Store `bytes` under their digest; storing the same bytes twice is a
    /// no-op.
    pub fn put(&self, bytes: &[u8]) -> Result<Digest, StoreError> {
        let digest = Digest::of(bytes);
        let path = self.path(&digest);
        if !path.exists() {
            write_atomically(&path, bytes)?;
        }
        Ok(digest)
    }

    /// Take the store lock, waiting as long as another holder keeps it.
    /// Blocks the thread: async code uses [`ModuleStore::lock_within`].
    pub fn lock(&self) -> Result<StoreLock, StoreError> {
        let file = self.lock_file()?;
        file.lock().map_err(io(&self.lock_path()))?;
        Ok(self.locked(file))
    }

    /// Take the store lock if no one holds it.
    pub fn try_lock(&self) -> Result<Option<StoreLock>, StoreError> {
        let file = self.lock_file()?;
        match file.try_lock() {
            Ok(()) => Ok(Some(self.locked(file))),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(io(&self.lock_path())(e)),
        }
    }

    /// Take the store lock from async code, waiting at most `wait`.
    ///
    /// It polls [`ModuleStore::try_lock`] rather than blocking in `flock`:
    /// a blocked `flock` would hold a runtime thread (or a blocking-pool
    /// thread that cannot be cancelled) for as long as another host keeps
    /// the lock, and an operator is better served by [`StoreError::Busy`]
    /// than by a deploy that hangs.
    pub async fn lock_within(&self, wait: std::time::Duration) -> Result<StoreLock, StoreError> {
        let start = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(5);
        let mut told = false;
        loop {
            if let Some(lock) = self.try_lock()? {
                return Ok(lock);
            }
            let waited = start.elapsed();
            if !told {
                // Once per wait: the operator sees why a change is slow.
                told = true;
                tracing::info!(
                    lock = %self.lock_path().display(),
                    "the module store is locked by another change (this or another host): waiting"
                );
            }
            if waited >= wait {
                return Err(StoreError::Busy {
                    path: self.lock_path(),
                    waited,
                });
            }
            tokio::time::sleep(pause.min(wait - waited)).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(200));
        }
    }

    fn lock_path(&self) -> PathBuf {
        self.root.join("lock")
    }

    /// The lock file, never removed: a host removing it while another
    /// waits on it would let a third host lock a new file beside them.
    fn lock_file(&self) -> Result<std::fs::File, StoreError> {
        let path = self.lock_path();
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io(&path))
    }

    fn locked(&self, file: std::fs::File) -> StoreLock {
        StoreLock {
            store: self.clone(),
            _file: file,
        }
    }

    /// A name's versions.
    pub fn record(&self, name: &str) -> Result<NameRecord, StoreError> {
        check_name(name)?;
        let path = self.record_path(name);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NoSuchName(name.to_owned()));
            }
            Err(e) => return Err(io(&path)(e)),
        };
        toml::from_str(&text).map_err(|source| StoreError::Corrupt { path, source })
    }

    /// Every module name, sorted.
    pub fn names(&self) -> Result<Vec<String>, StoreError> {
        let dir = self.names_dir();
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map_err(io(&dir))?
            .flatten()
            .filter_map(|e| {
                let file = e.file_name().to_string_lossy().into_owned();
                file.strip_suffix(".toml").map(str::to_owned)
            })
            .filter(|n| !n.starts_with(".tmp-"))
            .collect();
        names.sort();
        Ok(names)
    }

    fn blobs(&self) -> PathBuf {
        self.root.join("blobs/sha256")
    }

    fn names_dir(&self) -> PathBuf {
        self.root.join("names")
    }

    fn record_path(&self, name: &str) -> PathBuf {
        self.names_dir().join(format!("{name}.toml"))
    }

    fn write_record(&self, name: &str, record: &NameRecord) -> Result<(), StoreError> {
        let path = self.record_path(name);
        let text = toml::to_string(record).map_err(|source| StoreError::Encode {
            path: path.clone(),
            source,
        })?;
        write_atomically(&path, text.as_bytes())
    }
}

/// The store lock, held until dropped (closing the file releases it, also
/// when the process dies). Name records change only through it; reads go
/// through [`ModuleStore`], which it derefs to.
///
/// `flock` locks belong to the open file, not the process: two
/// [`ModuleStore`]s in one process exclude each other as two hosts do.
#[derive(Debug)]
pub struct StoreLock {
    store: ModuleStore,
    _file: std::fs::File,
}

impl std::ops::Deref for StoreLock {
    type Target = ModuleStore;
    fn deref(&self) -> &ModuleStore {
        &self.store
    }
}

impl StoreLock {
    /// Add `version` (its component already `put`) to `name`, current if
    /// `make_current` or if it is the name's first. Adding a version the
    /// name has is a no-op apart from `make_current`.
    pub fn add_version(
        &self,
        name: &str,
        kind: Kind,
        task_queue: &str,
        version: Version,
        make_current: bool,
    ) -> Result<NameRecord, StoreError> {
        check_name(name)?;
        if !self.store.path(&version.digest).exists() {
            return Err(StoreError::NoSuchVersion {
                name: name.to_owned(),
                digest: version.digest,
            });
        }
        let mut record = match self.store.record(name) {
            Ok(r) => r,
            Err(StoreError::NoSuchName(_)) => NameRecord {
                kind,
                task_queue: task_queue.to_owned(),
                current: None,
                versions: Vec::new(),
            },
            Err(e) => return Err(e),
        };
        record.accepts(name, kind, task_queue)?;
        let digest = version.digest.clone();
        if record.version(&digest).is_none() {
            record.versions.push(version);
        }
        if make_current || record.current.is_none() {
            record.current = Some(digest);
        }
        self.store.write_record(name, &record)?;
        Ok(record)
    }

    /// Make `digest` the version new runs of `name` use.
    pub fn set_current(&self, name: &str, digest: &Digest) -> Result<NameRecord, StoreError> {
        let mut record = self.store.record(name)?;
        if record.version(digest).is_none() {
            return Err(StoreError::NoSuchVersion {
                name: name.to_owned(),
                digest: digest.clone(),
            });
        }
        record.current = Some(digest.clone());
        self.store.write_record(name, &record)?;
        Ok(record)
    }

    /// Forget a version of `name` (never the current one). The component
    /// file stays while another name lists it.
    pub fn remove_version(&self, name: &str, digest: &Digest) -> Result<NameRecord, StoreError> {
        let mut record = self.store.record(name)?;
        if record.current.as_ref() == Some(digest) {
            return Err(StoreError::RemoveCurrent {
                name: name.to_owned(),
                digest: digest.clone(),
            });
        }
        let before = record.versions.len();
        record.versions.retain(|v| &v.digest != digest);
        if record.versions.len() == before {
            return Err(StoreError::NoSuchVersion {
                name: name.to_owned(),
                digest: digest.clone(),
            });
        }
        self.store.write_record(name, &record)?;
        let still_used = self
            .names()?
            .iter()
            .filter_map(|n| self.store.record(n).ok())
            .any(|r| r.version(digest).is_some());
        if !still_used {
            let path = self.store.path(digest);
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
        Ok(record)
    }

    /// Forget `name` and every version of it; component files go unless
    /// another name lists them.
    pub fn remove_name(&self, name: &str) -> Result<NameRecord, StoreError> {
        let record = self.store.record(name)?;
        let path = self.store.record_path(name);
        std::fs::remove_file(&path).map_err(io(&path))?;
        let others: Vec<NameRecord> = self
            .names()?
            .iter()
            .filter_map(|n| self.store.record(n).ok())
            .collect();
        for v in &record.versions {
            if !others.iter().any(|r| r.version(&v.digest).is_some()) {
                let blob = self.store.path(&v.digest);
                std::fs::remove_file(&blob).map_err(io(&blob))?;
            }
        }
        Ok(record)
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > 64 || name.starts_with('.') || !name.chars().all(ok) {
        return Err(StoreError::BadName(name.to_owned()));
    }
    Ok(())
}

/// A temporary file older than this is left over from a crash.
const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(3600);

/// A temporary file name for `file_name`, unique across the hosts sharing
/// a store: the pid alone is not (containers all run as pid 1).
fn tmp_name(file_name: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().replace(['/', '\0'], "_"))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(".tmp-{host}-{}-{nanos}-{n}-{file_name}", std::process::id())
}

/// Write to a temporary file beside `path`, sync it, rename it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path.file_name().map(|f| f.to_string_lossy().into_owned());
    let tmp = dir.join(tmp_name(&file_name.unwrap_or_default()));
    let write = || -> std::io::Result<()> {
        // create_new: never write into a file someone else has open.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        std::fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(path)(e)
    })
}

#[cfg(test)]
mod tests;
