//! Size quotas (`max_bytes`) on writable granted dirs.
//!
//! wasmtime-wasi has no quotas, so weft links its own `wasi:filesystem`
//! host over wasmtime-wasi's. It hands every call to wasmtime-wasi and,
//! for a descriptor under a dir with a quota, first counts what the call
//! adds to the dir's file sizes: a write past the end of a file, a
//! `set-size` that grows one, every byte of an append. A call that would
//! take the dir past its quota fails with `insufficient-space` (ENOSPC)
//! and writes nothing, and the host logs the refusal once per task. On a
//! stream write the guest gets a stream error whose code
//! (`filesystem-error-code`) is `insufficient-space`; a guest libc that
//! does not ask for the code (the wasi-libc of Rust's `wasm32-wasip2` std
//! today) reports a plain IO error (EIO) instead. What shrinks
//! files gives bytes back: unlinking a file's last link, truncating one
//! (`set-size`, open with `truncate`), renaming over one.
//!
//! The count starts from the dir's size measured when an instance opens
//! it, and is shared by every instance writing there at once (keyed by the
//! resolved host path); it is measured again once none is. Renames and
//! hard links between a dir with a quota and another dir fail with
//! `cross-device`, so bytes written elsewhere cannot be moved in.
//!
//! Sizes are apparent sizes (what `stat` reports), not disk blocks;
//! directories, symlinks and inodes are not counted. Writes by other
//! processes, or through another grant of a path inside the dir, are not
//! seen until the dir is measured again.

use super::output::Identity;
use bytes::Bytes;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use wasmtime::component::{HasData, Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemCtxView};
use wasmtime_wasi::p2::bindings::filesystem::types::{
    ErrorCode, HostDescriptor, HostDirectoryEntryStream,
};
use wasmtime_wasi::p2::bindings::filesystem::{preopens, types};
use wasmtime_wasi::p2::{
    DynInputStream, DynOutputStream, FsError, FsResult, OutputStream, Pollable, StreamError,
    StreamResult,
};

/// `ENOSPC` on Linux, macOS and the BSDs; wasmtime-wasi turns it into
/// `insufficient-space` when the guest asks what a stream error was.
const ENOSPC: i32 = 28;

/// Bytes in the files under one host dir, as counted by weft.
#[derive(Debug)]
struct DirUsage {
    bytes: AtomicU64,
}

/// Usage of every dir some instance is writing through a quota, by
/// resolved host path: instances running at once share one count.
static USAGE: LazyLock<Mutex<HashMap<PathBuf, Weak<DirUsage>>>> = LazyLock::new(Mutex::default);

/// A grant's quota in one instance: the shared count of its dir, the
/// grant's bound, and whom to name when a write is refused.
#[derive(Clone)]
pub struct Quota {
    usage: Arc<DirUsage>,
    limit: u64,
    guest: Arc<str>,
    who: Identity,
    /// Set once a refusal was logged: one warning per task, not one per
    /// write of a guest that keeps trying.
    warned: Arc<AtomicBool>,
}

impl Quota {
    /// The quota of `max_bytes` on `dir` (resolved, no symlinks; `guest`
    /// in the guest) for the task `who`: joins the count of instances
    /// writing there now, or measures the dir.
    pub fn for_dir(
        dir: &Path,
        max_bytes: u64,
        guest: &str,
        who: Identity,
    ) -> Result<Quota, String> {
        let key = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
        let mut all = USAGE.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|_, u| u.strong_count() > 0);
        let usage = match all.get(&key).and_then(Weak::upgrade) {
            Some(usage) => usage,
            None => {
                let bytes = dir_size(dir)
                    .map_err(|e| format!("cannot measure granted dir {}: {e}", dir.display()))?;
                let usage = Arc::new(DirUsage {
                    bytes: AtomicU64::new(bytes),
                });
                all.insert(key, Arc::downgrade(&usage));
                usage
            }
        };
        Ok(Quota {
            usage,
            limit: max_bytes,
            guest: guest.into(),
            who,
            warned: Arc::default(),
        })
    }

    /// Bytes counted in the dir now.
    pub fn used(&self) -> u64 {
        self.usage.bytes.load(Ordering::SeqCst)
    }

    /// Count `n` more bytes, or refuse if that goes past the limit.
    fn reserve(&self, n: u64) -> Result<(), ErrorCode> {
        if n == 0 {
            return Ok(());
        }
        self.usage
            .bytes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(n).filter(|&total| total <= self.limit)
            })
            .map(drop)
            .map_err(|used| {
                if !self.warned.swap(true, Ordering::SeqCst) {
                    self.who.denied(
                        "dir_quota",
                        &format!(
                            "denied a write of {n} bytes to {}: its files hold {used} of its \
                             max_bytes ({}); the guest gets insufficient-space",
                            self.guest, self.limit
                        ),
                    );
                }
                ErrorCode::InsufficientSpace
            })
    }

    /// Give back `n` bytes (a file shrank or went, a write did not happen).
    fn release(&self, n: u64) {
        let _ = self
            .usage
            .bytes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                Some(used.saturating_sub(n))
            });
    }

    fn same_dir(a: Option<&Quota>, b: Option<&Quota>) -> bool {
        match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(&a.usage, &b.usage),
            _ => false,
        }
    }
}

/// The apparent size of the files under `dir`, symlinks not followed.
fn dir_size(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0u64;
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else if meta.is_file() {
                total = total.saturating_add(meta.len());
            }
        }
    }
    Ok(total)
}

/// Which quota each of an instance's descriptors falls under.
#[derive(Default)]
pub struct Quotas {
    /// Per preopen, in the order they were added to the WASI context.
    preopens: Vec<Option<Quota>>,
    /// By resource rep: descriptors opened under a preopen with a quota.
    descriptors: HashMap<u32, Quota>,
}

impl Quotas {
    /// Quotas for an instance whose preopens are `preopens`, in order.
    pub fn new(preopens: Vec<Option<Quota>>) -> Quotas {
        Quotas {
            preopens,
            descriptors: HashMap::new(),
        }
    }

    fn of(&self, fd: &Resource<Descriptor>) -> Option<Quota> {
        self.descriptors.get(&fd.rep()).cloned()
    }

    /// Record the quota of a descriptor just created (a rep can be reused
    /// once its descriptor is dropped, so a `None` clears it).
    fn set(&mut self, fd: &Resource<Descriptor>, quota: Option<Quota>) {
        match quota {
            Some(q) => self.descriptors.insert(fd.rep(), q),
            None => self.descriptors.remove(&fd.rep()),
        };
    }
}

/// wasmtime-wasi's filesystem view with the instance's quotas.
pub struct QuotaFs<'a> {
    /// wasmtime-wasi's filesystem host, which does the work.
    pub fs: WasiFilesystemCtxView<'a>,
    /// The instance's quotas.
    pub quotas: &'a mut Quotas,
}

/// [`HasData`] for linking [`QuotaFs`].
pub struct QuotaFsData;

impl HasData for QuotaFsData {
    type Data<'a> = QuotaFs<'a>;
}

/// Link weft's `wasi:filesystem` over wasmtime-wasi's (already in
/// `linker`): it shadows `types` and `preopens`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> QuotaFs<'_>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    types::add_to_linker::<T, QuotaFsData>(linker, get)?;
    preopens::add_to_linker::<T, QuotaFsData>(linker, get)?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Another handle on the same descriptor, for a call made before the
/// guest's own.
fn again(fd: &Resource<Descriptor>) -> Resource<Descriptor> {
    Resource::new_borrow(fd.rep())
}

impl QuotaFs<'_> {
    async fn size(&mut self, fd: &Resource<Descriptor>) -> FsResult<u64> {
        Ok(HostDescriptor::stat(&mut self.fs, again(fd)).await?.size)
    }

    /// The size of the regular file at `path` whose bytes go if it goes
    /// (its only link); 0 for anything else.
    async fn freed_by_removing(&mut self, dir: &Resource<Descriptor>, path: &str) -> u64 {
        match HostDescriptor::stat_at(
            &mut self.fs,
            again(dir),
            types::PathFlags::empty(),
            path.to_owned(),
        )
        .await
        {
            Ok(s) if s.type_ == types::DescriptorType::RegularFile && s.link_count == 1 => s.size,
            _ => 0,
        }
    }

    /// Wrap a write stream just created for `fd` so its writes are counted.
    fn count_stream(
        &mut self,
        fd: &Resource<Descriptor>,
        stream: Resource<DynOutputStream>,
        pos: Option<u64>,
    ) -> FsResult<Resource<DynOutputStream>> {
        let Some(quota) = self.quotas.of(fd) else {
            return Ok(stream);
        };
        let file = match self.fs.table.get(fd)? {
            Descriptor::File(f) => f.file.clone(),
            Descriptor::Dir(_) => return Err(ErrorCode::IsDirectory.into()),
        };
        let inner = self.fs.table.delete(stream)?;
        let counted = QuotaStream {
            inner,
            quota,
            file,
            pos,
            counted_end: 0,
        };
        Ok(self.fs.table.push(Box::new(counted) as DynOutputStream)?)
    }
}

impl preopens::Host for QuotaFs<'_> {
    fn get_directories(&mut self) -> wasmtime::Result<Vec<(Resource<Descriptor>, String)>> {
        let dirs = preopens::Host::get_directories(&mut self.fs)?;
        for (i, (fd, _)) in dirs.iter().enumerate() {
            let quota = self.quotas.preopens.get(i).cloned().flatten();
            self.quotas.set(fd, quota);
        }
        Ok(dirs)
    }
}

impl types::Host for QuotaFs<'_> {
    fn convert_error_code(&mut self, err: FsError) -> wasmtime::Result<ErrorCode> {
        types::Host::convert_error_code(&mut self.fs, err)
    }

    fn filesystem_error_code(
        &mut self,
        err: Resource<wasmtime::Error>,
    ) -> wasmtime::Result<Option<ErrorCode>> {
        types::Host::filesystem_error_code(&mut self.fs, err)
    }
}

impl HostDescriptor for QuotaFs<'_> {
    async fn advise(
        &mut self,
        fd: Resource<Descriptor>,
        offset: types::Filesize,
        len: types::Filesize,
        advice: types::Advice,
    ) -> FsResult<()> {
        HostDescriptor::advise(&mut self.fs, fd, offset, len, advice).await
    }

    async fn sync_data(&mut self, fd: Resource<Descriptor>) -> FsResult<()> {
        HostDescriptor::sync_data(&mut self.fs, fd).await
    }

    async fn get_flags(&mut self, fd: Resource<Descriptor>) -> FsResult<types::DescriptorFlags> {
        HostDescriptor::get_flags(&mut self.fs, fd).await
    }

    async fn get_type(&mut self, fd: Resource<Descriptor>) -> FsResult<types::DescriptorType> {
        HostDescriptor::get_type(&mut self.fs, fd).await
    }

    async fn set_size(&mut self, fd: Resource<Descriptor>, size: types::Filesize) -> FsResult<()> {
        let Some(quota) = self.quotas.of(&fd) else {
            return HostDescriptor::set_size(&mut self.fs, fd, size).await;
        };
        let old = self.size(&fd).await?;
        let grows = size.saturating_sub(old);
        quota.reserve(grows)?;
        match HostDescriptor::set_size(&mut self.fs, fd, size).await {
            Ok(()) => {
                quota.release(old.saturating_sub(size));
                Ok(())
            }
            Err(e) => {
                quota.release(grows);
                Err(e)
            }
        }
    }

    async fn set_times(
        &mut self,
        fd: Resource<Descriptor>,
        atim: types::NewTimestamp,
        mtim: types::NewTimestamp,
    ) -> FsResult<()> {
        HostDescriptor::set_times(&mut self.fs, fd, atim, mtim).await
    }

    async fn read(
        &mut self,
        fd: Resource<Descriptor>,
        len: types::Filesize,
        offset: types::Filesize,
    ) -> FsResult<(Vec<u8>, bool)> {
        HostDescriptor::read(&mut self.fs, fd, len, offset).await
    }

    async fn write(
        &mut self,
        fd: Resource<Descriptor>,
        buf: Vec<u8>,
        offset: types::Filesize,
    ) -> FsResult<types::Filesize> {
        let Some(quota) = self.quotas.of(&fd) else {
            return HostDescriptor::write(&mut self.fs, fd, buf, offset).await;
        };
        let old = self.size(&fd).await?;
        let end = |n: usize| offset.saturating_add(n as u64);
        let grows = end(buf.len()).saturating_sub(old);
        quota.reserve(grows)?;
        match HostDescriptor::write(&mut self.fs, fd, buf, offset).await {
            Ok(written) => {
                // A short write grew the file less than counted.
                let grew = offset.saturating_add(written).saturating_sub(old);
                quota.release(grows.saturating_sub(grew));
                Ok(written)
            }
            Err(e) => {
                quota.release(grows);
                Err(e)
            }
        }
    }

    async fn read_directory(
        &mut self,
        fd: Resource<Descriptor>,
    ) -> FsResult<Resource<types::DirectoryEntryStream>> {
        HostDescriptor::read_directory(&mut self.fs, fd).await
    }

    async fn sync(&mut self, fd: Resource<Descriptor>) -> FsResult<()> {
        HostDescriptor::sync(&mut self.fs, fd).await
    }

    async fn create_directory_at(
        &mut self,
        fd: Resource<Descriptor>,
        path: String,
    ) -> FsResult<()> {
        HostDescriptor::create_directory_at(&mut self.fs, fd, path).await
    }

    async fn stat(&mut self, fd: Resource<Descriptor>) -> FsResult<types::DescriptorStat> {
        HostDescriptor::stat(&mut self.fs, fd).await
    }

    async fn stat_at(
        &mut self,
        fd: Resource<Descriptor>,
        path_flags: types::PathFlags,
        path: String,
    ) -> FsResult<types::DescriptorStat> {
        HostDescriptor::stat_at(&mut self.fs, fd, path_flags, path).await
    }

    async fn set_times_at(
        &mut self,
        fd: Resource<Descriptor>,
        path_flags: types::PathFlags,
        path: String,
        atim: types::NewTimestamp,
        mtim: types::NewTimestamp,
    ) -> FsResult<()> {
        HostDescriptor::set_times_at(&mut self.fs, fd, path_flags, path, atim, mtim).await
    }

    async fn link_at(
        &mut self,
        fd: Resource<Descriptor>,
        old_path_flags: types::PathFlags,
        old_path: String,
        new_descriptor: Resource<Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        if !Quota::same_dir(
            self.quotas.of(&fd).as_ref(),
            self.quotas.of(&new_descriptor).as_ref(),
        ) {
            return Err(ErrorCode::CrossDevice.into());
        }
        HostDescriptor::link_at(
            &mut self.fs,
            fd,
            old_path_flags,
            old_path,
            new_descriptor,
            new_path,
        )
        .await
    }

    async fn open_at(
        &mut self,
        fd: Resource<Descriptor>,
        path_flags: types::PathFlags,
        path: String,
        oflags: types::OpenFlags,
        flags: types::DescriptorFlags,
    ) -> FsResult<Resource<Descriptor>> {
        let quota = self.quotas.of(&fd);
        let mut freed = 0;
        if quota.is_some() && oflags.contains(types::OpenFlags::TRUNCATE) {
            // Truncation frees the bytes whatever other links it has.
            freed =
                match HostDescriptor::stat_at(&mut self.fs, again(&fd), path_flags, path.clone())
                    .await
                {
                    Ok(s) if s.type_ == types::DescriptorType::RegularFile => s.size,
                    _ => 0,
                };
        }
        let opened =
            HostDescriptor::open_at(&mut self.fs, fd, path_flags, path, oflags, flags).await?;
        if let Some(q) = &quota {
            q.release(freed);
        }
        self.quotas.set(&opened, quota);
        Ok(opened)
    }

    fn drop(&mut self, fd: Resource<Descriptor>) -> wasmtime::Result<()> {
        self.quotas.descriptors.remove(&fd.rep());
        HostDescriptor::drop(&mut self.fs, fd)
    }

    async fn readlink_at(&mut self, fd: Resource<Descriptor>, path: String) -> FsResult<String> {
        HostDescriptor::readlink_at(&mut self.fs, fd, path).await
    }

    async fn remove_directory_at(
        &mut self,
        fd: Resource<Descriptor>,
        path: String,
    ) -> FsResult<()> {
        HostDescriptor::remove_directory_at(&mut self.fs, fd, path).await
    }

    async fn rename_at(
        &mut self,
        fd: Resource<Descriptor>,
        old_path: String,
        new_fd: Resource<Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        let quota = self.quotas.of(&fd);
        if !Quota::same_dir(quota.as_ref(), self.quotas.of(&new_fd).as_ref()) {
            return Err(ErrorCode::CrossDevice.into());
        }
        let freed = match &quota {
            Some(_) => self.freed_by_removing(&new_fd, &new_path).await,
            None => 0,
        };
        HostDescriptor::rename_at(&mut self.fs, fd, old_path, new_fd, new_path).await?;
        if let Some(q) = &quota {
            q.release(freed);
        }
        Ok(())
    }

    async fn symlink_at(
        &mut self,
        fd: Resource<Descriptor>,
        src_path: String,
        dest_path: String,
    ) -> FsResult<()> {
        HostDescriptor::symlink_at(&mut self.fs, fd, src_path, dest_path).await
    }

    async fn unlink_file_at(&mut self, fd: Resource<Descriptor>, path: String) -> FsResult<()> {
        let quota = self.quotas.of(&fd);
        let freed = match &quota {
            Some(_) => self.freed_by_removing(&fd, &path).await,
            None => 0,
        };
        HostDescriptor::unlink_file_at(&mut self.fs, fd, path).await?;
        if let Some(q) = &quota {
            q.release(freed);
        }
        Ok(())
    }

    fn read_via_stream(
        &mut self,
        fd: Resource<Descriptor>,
        offset: types::Filesize,
    ) -> FsResult<Resource<DynInputStream>> {
        HostDescriptor::read_via_stream(&mut self.fs, fd, offset)
    }

    fn write_via_stream(
        &mut self,
        fd: Resource<Descriptor>,
        offset: types::Filesize,
    ) -> FsResult<Resource<DynOutputStream>> {
        let stream = HostDescriptor::write_via_stream(&mut self.fs, again(&fd), offset)?;
        self.count_stream(&fd, stream, Some(offset))
    }

    fn append_via_stream(
        &mut self,
        fd: Resource<Descriptor>,
    ) -> FsResult<Resource<DynOutputStream>> {
        let stream = HostDescriptor::append_via_stream(&mut self.fs, again(&fd))?;
        self.count_stream(&fd, stream, None)
    }

    async fn is_same_object(
        &mut self,
        a: Resource<Descriptor>,
        b: Resource<Descriptor>,
    ) -> wasmtime::Result<bool> {
        HostDescriptor::is_same_object(&mut self.fs, a, b).await
    }

    async fn metadata_hash(
        &mut self,
        fd: Resource<Descriptor>,
    ) -> FsResult<types::MetadataHashValue> {
        HostDescriptor::metadata_hash(&mut self.fs, fd).await
    }

    async fn metadata_hash_at(
        &mut self,
        fd: Resource<Descriptor>,
        path_flags: types::PathFlags,
        path: String,
    ) -> FsResult<types::MetadataHashValue> {
        HostDescriptor::metadata_hash_at(&mut self.fs, fd, path_flags, path).await
    }
}

impl HostDirectoryEntryStream for QuotaFs<'_> {
    async fn read_directory_entry(
        &mut self,
        stream: Resource<types::DirectoryEntryStream>,
    ) -> FsResult<Option<types::DirectoryEntry>> {
        HostDirectoryEntryStream::read_directory_entry(&mut self.fs, stream).await
    }

    fn drop(&mut self, stream: Resource<types::DirectoryEntryStream>) -> wasmtime::Result<()> {
        HostDirectoryEntryStream::drop(&mut self.fs, stream)
    }
}

/// A file's write or append stream whose writes are counted against a
/// quota before they go to wasmtime-wasi's stream.
struct QuotaStream {
    inner: DynOutputStream,
    quota: Quota,
    file: Arc<std::fs::File>,
    /// Where the next write lands; `None` for an append stream.
    pos: Option<u64>,
    /// The end of what this stream has counted: its writes land in the
    /// background, so the file's size may not show them yet.
    counted_end: u64,
}

impl QuotaStream {
    /// Count a write of `len` bytes, or refuse it with ENOSPC.
    fn count(&mut self, len: usize) -> StreamResult<()> {
        let len = len as u64;
        let Some(pos) = self.pos else {
            return self.quota.reserve(len).map_err(|_| no_space());
        };
        // fstat: no path lookup, answered from the open file. If it fails,
        // every byte counts (never fewer than the write adds).
        let size = self.file.metadata().map_or(0, |m| m.len());
        let end = pos.saturating_add(len);
        let grows = end.saturating_sub(size.max(self.counted_end));
        self.quota.reserve(grows).map_err(|_| no_space())?;
        self.counted_end = self.counted_end.max(end);
        self.pos = Some(end);
        Ok(())
    }
}

/// The stream error a guest reads as `insufficient-space`.
fn no_space() -> StreamError {
    StreamError::LastOperationFailed(no_space_error())
}

/// What wasmtime-wasi's `filesystem-error-code` turns into
/// `insufficient-space`.
fn no_space_error() -> wasmtime::Error {
    wasmtime::Error::new(std::io::Error::from_raw_os_error(ENOSPC))
}

#[wasmtime_wasi::async_trait]
impl Pollable for QuotaStream {
    async fn ready(&mut self) {
        self.inner.ready().await
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for QuotaStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.count(bytes.len())?;
        self.inner.write(bytes)
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.inner.flush()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        self.inner.check_write()
    }

    async fn blocking_write_and_flush(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.count(bytes.len())?;
        self.inner.blocking_write_and_flush(bytes).await
    }

    async fn cancel(&mut self) {
        self.inner.cancel().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::sandbox::TaskContext;
    use wasmtime::component::ResourceTable;
    use wasmtime_wasi::WasiCtx;

    fn who() -> Identity {
        Identity(Arc::new(TaskContext::inspect().info))
    }

    fn temp_dir(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("weft-quota-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).expect("temp dir");
        dir
    }

    #[test]
    fn a_quota_counts_from_the_measured_size_and_is_shared_while_in_use() {
        let dir = temp_dir("count");
        std::fs::write(dir.join("a"), [0u8; 60]).expect("write");
        std::fs::write(dir.join("sub/b"), [0u8; 40]).expect("write");
        let first = Quota::for_dir(&dir, 150, "/out", who()).expect("quota");
        assert_eq!(first.used(), 100, "files in subdirectories count too");
        first.reserve(50).expect("up to the limit");
        assert_eq!(
            first.reserve(1).expect_err("past the limit"),
            ErrorCode::InsufficientSpace
        );
        assert_eq!(first.used(), 150, "a refused write counts nothing");

        // A second instance at the same time shares the count (a write by
        // one is seen by the other), even with its own bound.
        let second = Quota::for_dir(&dir, 1_000, "/other", who()).expect("quota");
        assert_eq!(second.used(), 150);
        first.release(30);
        assert_eq!(second.used(), 120);
        assert!(Quota::same_dir(Some(&first), Some(&second)));
        assert!(!Quota::same_dir(Some(&first), None));

        // Once no instance uses it, the dir is measured again.
        drop((first, second));
        let again = Quota::for_dir(&dir, 150, "/out", who()).expect("quota");
        assert_eq!(again.used(), 100);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_guest_reads_a_refused_stream_write_as_insufficient_space() {
        let mut table = ResourceTable::new();
        let mut ctx = WasiCtx::builder().build();
        let err = table.push(no_space_error()).expect("push");
        let mut fs = WasiFilesystemCtxView {
            ctx: ctx.filesystem(),
            table: &mut table,
        };
        assert_eq!(
            types::Host::filesystem_error_code(&mut fs, err).expect("code"),
            Some(ErrorCode::InsufficientSpace)
        );
    }
}
