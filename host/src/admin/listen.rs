//! Serving the admin API: a unix socket (0600) or TCP, optionally TLS and
//! mTLS, with the bearer token checked on every admin call. The health
//! service needs no token, so that probes work.
//!
//! Whoever can connect, token or not, must not be able to take the host
//! down through it: connections are counted ([`MAX_CONNECTIONS`]), a TLS
//! handshake and an idle connection time out, and a connection buffers at
//! most one upload at a time.

use super::health::health_server::HealthServer;
use super::proto::admin_server::AdminServer as AdminGrpc;
use super::service::{AdminService, HealthService};
use crate::catalog::Catalog;
use crate::config::{AdminConfig, Listen, TlsFiles};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

/// Connections served at once; one more is closed as soon as accepted.
pub(super) const MAX_CONNECTIONS: usize = 64;
/// A TLS handshake not done by then is dropped.
pub(super) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection with no byte either way for this long is closed. Long
/// enough for a deploy's replay gate, during which the caller waits.
pub(super) const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Why the admin API could not start.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// A file it needs cannot be read.
    #[error("admin API: cannot read {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The token file is empty.
    #[error("admin API: token file {0} is empty")]
    EmptyToken(PathBuf),
    /// The TLS material is unusable.
    #[error("admin API: TLS: {0}")]
    Tls(String),
    /// The address cannot be bound.
    #[error("admin API: cannot listen on {listen}: {reason}")]
    Bind {
        /// The address.
        listen: String,
        /// Why.
        reason: String,
    },
}

/// A running admin API; it stops when dropped.
pub struct AdminServer {
    stop: CancellationToken,
    /// The unix socket this host created (path, device, inode), removed
    /// on drop only if it is still that socket.
    socket: Option<(PathBuf, u64, u64)>,
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some((path, dev, ino)) = &self.socket {
            use std::os::unix::fs::{FileTypeExt, MetadataExt};
            if std::fs::symlink_metadata(path)
                .is_ok_and(|m| m.file_type().is_socket() && m.dev() == *dev && m.ino() == *ino)
            {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Bind the unix socket at `path` with mode 0600 from its first instant:
/// bound inside a fresh private (0700) directory beside it, then renamed
/// into place, so there is no moment when others may connect (a umask
/// would be process-wide, and racy with other threads). A socket left by a
/// host that died is replaced; anything else at `path` (a file, a
/// directory, a live socket) is left alone and refused.
fn bind_unix(path: &Path) -> Result<(tokio::net::UnixListener, (u64, u64)), String> {
    use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err("a process is listening on it already (another host?)".into());
            }
            std::fs::remove_file(path)
                .map_err(|e| format!("cannot remove its stale socket: {e}"))?;
        }
        Ok(m) => {
            return Err(format!(
                "it exists and is not a socket (a {}); weft replaces only a socket, so \
                 move it away or choose another `admin.listen`",
                if m.is_dir() {
                    "directory"
                } else if m.file_type().is_symlink() {
                    "symlink"
                } else {
                    "file"
                }
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.to_string()),
    }
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let private = parent.join(format!(".weft-admin-{}-{nanos}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&private)
        .map_err(|e| format!("cannot create {}: {e}", private.display()))?;
    let bound = (|| {
        let inner = private.join("s");
        let listener = tokio::net::UnixListener::bind(&inner).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| e.to_string())?;
        std::fs::rename(&inner, path).map_err(|e| e.to_string())?;
        let m = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
        Ok((listener, (m.dev(), m.ino())))
    })();
    let _ = std::fs::remove_dir_all(&private);
    bound
}

fn read(path: &Path) -> Result<Vec<u8>, ListenError> {
    std::fs::read(path).map_err(|source| ListenError::File {
        path: path.to_owned(),
        source,
    })
}

/// Read the bearer token from its file (surrounding whitespace dropped).
pub fn read_token(path: &Path) -> Result<String, ListenError> {
    let token = String::from_utf8_lossy(&read(path)?).trim().to_owned();
    if token.is_empty() {
        return Err(ListenError::EmptyToken(path.to_owned()));
    }
    Ok(token)
}

fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, ListenError> {
    let tls = |e: &dyn std::fmt::Display| ListenError::Tls(e.to_string());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(&files.cert)?)
        .collect::<Result<_, _>>()
        .map_err(|e| tls(&format!("{}: {e}", files.cert.display())))?;
    let key = PrivateKeyDer::from_pem_slice(&read(&files.key)?)
        .map_err(|e| tls(&format!("{}: {e}", files.key.display())))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(&e))?;
    let builder = match &files.client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&read(ca)?) {
                let cert = cert.map_err(|e| tls(&format!("{}: {e}", ca.display())))?;
                roots.add(cert).map_err(|e| tls(&e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| tls(&e))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| tls(&e))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// True when `header` is `Bearer <token>` (compared in constant time).
fn authorized(header: Option<&http::HeaderValue>, token: &str) -> bool {
    let Some(given) = header.and_then(|h| h.to_str().ok()?.strip_prefix("Bearer ")) else {
        return false;
    };
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

impl AdminServer {
    /// Listen as `config` says and serve until dropped.
    pub async fn start(
        config: &AdminConfig,
        catalog: Arc<Catalog>,
        ready: Arc<AtomicBool>,
    ) -> Result<AdminServer, ListenError> {
        let token: Option<Arc<str>> = match &config.token_file {
            Some(path) => Some(read_token(path)?.into()),
            None => None,
        };
        let tls = config.tls.as_ref().map(tls_acceptor).transpose()?;
        let admin = AdminGrpc::new(AdminService {
            catalog,
            max_upload_bytes: config.max_upload_bytes,
        })
        .max_decoding_message_size(2 * super::CHUNK_BYTES);
        let health = HealthServer::new(HealthService { ready });
        // One service per connection: its upload slot is the connection's.
        let service = move || {
            let (admin, health, token) = (admin.clone(), health.clone(), token.clone());
            let upload = Arc::new(Semaphore::new(1));
            tower::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let (admin, health, token) = (admin.clone(), health.clone(), token.clone());
                let upload = upload.clone();
                async move {
                    if req.uri().path().starts_with("/grpc.health.v1.Health/") {
                        return health.oneshot(req).await;
                    }
                    if let Some(token) = &token
                        && !authorized(req.headers().get(http::header::AUTHORIZATION), token)
                    {
                        return Ok(tonic::Status::unauthenticated(
                            "the admin API needs `authorization: Bearer <token>` \
                             (the token in the host's admin.token_file)",
                        )
                        .into_http());
                    }
                    // An upload is buffered whole before it is checked: one
                    // at a time per connection bounds what a caller holds.
                    let _slot = if req.uri().path().ends_with("/Deploy") {
                        match upload.try_acquire() {
                            Ok(slot) => Some(slot),
                            Err(_) => {
                                return Ok(tonic::Status::resource_exhausted(
                                    "one upload at a time per connection",
                                )
                                .into_http());
                            }
                        }
                    } else {
                        None
                    };
                    admin.oneshot(req).await
                }
            })
        };
        let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let stop = CancellationToken::new();
        let mut socket = None;
        let bind_error = |reason: std::io::Error| ListenError::Bind {
            listen: config.listen.to_string(),
            reason: reason.to_string(),
        };
        match &config.listen {
            Listen::Unix(path) => {
                let (listener, (dev, ino)) =
                    bind_unix(path).map_err(|reason| ListenError::Bind {
                        listen: config.listen.to_string(),
                        reason,
                    })?;
                socket = Some((path.clone(), dev, ino));
                let stop = stop.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::select! {
                            _ = stop.cancelled() => break,
                            accepted = listener.accept() => match accepted {
                                Ok((io, _)) => {
                                    if let Some(permit) = admit(&connections) {
                                        serve(io, service(), permit, IDLE_TIMEOUT);
                                    }
                                }
                                Err(e) => tracing::warn!("admin API accept: {e}"),
                            }
                        }
                    }
                });
            }
            Listen::Tcp(addr) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(bind_error)?;
                let stop = stop.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::select! {
                            _ = stop.cancelled() => break,
                            accepted = listener.accept() => match (accepted, &tls) {
                                (Ok((io, _)), None) => {
                                    if let Some(permit) = admit(&connections) {
                                        serve(io, service(), permit, IDLE_TIMEOUT);
                                    }
                                }
                                (Ok((io, peer)), Some(tls)) => {
                                    let Some(permit) = admit(&connections) else { continue };
                                    let (tls, service) = (tls.clone(), service());
                                    tokio::spawn(async move {
                                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(io)).await {
                                            Ok(Ok(io)) => serve(io, service, permit, IDLE_TIMEOUT),
                                            Ok(Err(e)) => tracing::warn!(%peer, "admin API TLS handshake: {e}"),
                                            Err(_) => tracing::warn!(
                                                %peer,
                                                "admin API TLS handshake: not done within {HANDSHAKE_TIMEOUT:?}, dropped"
                                            ),
                                        }
                                    });
                                }
                                (Err(e), _) => tracing::warn!("admin API accept: {e}"),
                            }
                        }
                    }
                });
            }
        }
        tracing::info!(listen = %config.listen, tls = config.tls.is_some(), "admin API listening");
        if config.insecure_plaintext_token {
            tracing::warn!(
                listen = %config.listen,
                "admin API: insecure_plaintext_token: the admin token travels in clear on a \
                 non-loopback listener without TLS; anyone on the path can read it and deploy code"
            );
        }
        Ok(AdminServer { stop, socket })
    }
}

/// A connection slot, or `None` (and a warning) when all are taken: the
/// connection is then closed at once.
fn admit(connections: &Arc<Semaphore>) -> Option<OwnedSemaphorePermit> {
    let permit = connections.clone().try_acquire_owned().ok();
    if permit.is_none() {
        tracing::warn!("admin API: {MAX_CONNECTIONS} connections open, one more refused");
    }
    permit
}

/// An IO that records when a byte last went either way.
struct Watched<I> {
    io: I,
    start: Instant,
    last: Arc<AtomicU64>,
}

impl<I> Watched<I> {
    fn touch(&self) {
        let now = self.start.elapsed().as_millis() as u64;
        self.last.store(now, Ordering::Relaxed);
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
        }
        poll
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write(cx, data);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Serve one connection (HTTP/2: gRPC) while it holds `permit`, closing it
/// after `idle` ([`IDLE_TIMEOUT`]) without traffic.
fn serve<I, S>(io: I, service: S, permit: OwnedSemaphorePermit, idle_timeout: Duration)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    tokio::spawn(async move {
        let _permit = permit;
        let last = Arc::new(AtomicU64::new(0));
        let io = Watched {
            io,
            start: Instant::now(),
            last: last.clone(),
        };
        let start = io.start;
        let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
        tokio::pin!(connection);
        let mut tick = tokio::time::interval(idle_timeout / 10);
        loop {
            tokio::select! {
                done = &mut connection => {
                    if let Err(e) = done {
                        tracing::debug!("admin API connection: {e}");
                    }
                    break;
                }
                _ = tick.tick() => {
                    let idle = start.elapsed().saturating_sub(Duration::from_millis(last.load(Ordering::Relaxed)));
                    if idle >= idle_timeout {
                        // Dropped, not shut down gracefully: a stalled
                        // stream would hold a graceful shutdown forever.
                        tracing::debug!("admin API connection idle for {idle:?}, closed");
                        break;
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_passes() {
        let header = |v: &str| http::HeaderValue::from_str(v).ok();
        assert!(authorized(header("Bearer s3cret").as_ref(), "s3cret"));
        assert!(!authorized(header("Bearer s3cre").as_ref(), "s3cret"));
        assert!(!authorized(header("Bearer s3cretX").as_ref(), "s3cret"));
        assert!(!authorized(header("s3cret").as_ref(), "s3cret"));
        assert!(!authorized(None, "s3cret"));
    }

    #[test]
    fn the_unix_socket_replaces_only_a_stale_socket_and_is_0600() {
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        let dir = std::env::temp_dir().join(format!("weft-admin-sock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("a-dir")).expect("dir");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let _guard = runtime.enter();

        // A regular file or a directory is never removed.
        let file = dir.join("a-file");
        std::fs::write(&file, "keep me").expect("write");
        for (path, what) in [(&file, "a file"), (&dir.join("a-dir"), "a directory")] {
            let e = bind_unix(path).map(|_| ()).expect_err("not a socket");
            assert!(
                e.contains(&format!("it exists and is not a socket ({what})")),
                "{e}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(&file).expect("still there"),
            "keep me"
        );
        assert!(dir.join("a-dir").is_dir());

        // A socket nobody listens on (a host that died) is replaced, and
        // the new one is 0600.
        let path = dir.join("admin.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).expect("stale socket"));
        let (live, _) = bind_unix(&path).expect("replaces the stale socket");
        let meta = std::fs::symlink_metadata(&path).expect("socket");
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        std::os::unix::net::UnixStream::connect(&path).expect("reachable at its path");
        // A socket some process listens on is not taken over.
        let e = bind_unix(&path).map(|_| ()).expect_err("live socket");
        assert!(e.contains("a process is listening on it already"), "{e}");
        drop(live);
        // No private dir left behind.
        let left: Vec<_> = std::fs::read_dir(&dir)
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".weft-admin"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn connections_are_counted() {
        let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let held: Vec<_> = (0..MAX_CONNECTIONS)
            .map(|_| admit(&connections).expect("a slot"))
            .collect();
        assert!(admit(&connections).is_none(), "one more is refused");
        drop(held);
        assert!(
            admit(&connections).is_some(),
            "slots come back when connections end"
        );
    }

    #[tokio::test]
    async fn an_idle_connection_is_closed_and_frees_its_slot() {
        use tokio::io::AsyncReadExt;
        let connections = Arc::new(Semaphore::new(1));
        let (mut client, server) = tokio::io::duplex(1024);
        let service = tower::service_fn(|_req: http::Request<hyper::body::Incoming>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(tonic::body::Body::empty()))
        });
        let permit = admit(&connections).expect("a slot");
        let started = Instant::now();
        serve(server, service, permit, Duration::from_millis(300));
        // The client says nothing; the host closes the connection (EOF
        // here) once it has been idle long enough, and its slot is free.
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut buf))
            .await
            .expect("closed well within 10 s");
        assert!(read.is_ok(), "{read:?}");
        assert!(started.elapsed() >= Duration::from_millis(300));
        tokio::time::timeout(Duration::from_secs(5), async {
            while connections.available_permits() == 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the slot is freed");
    }
}
