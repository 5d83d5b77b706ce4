//! Serving the admin API: a unix socket (0600) or TCP, optionally TLS and
//! mTLS, with the bearer token checked on every admin call. The health
//! service needs no token, so that probes work.

use super::health::health_server::HealthServer;
use super::proto::admin_server::AdminServer as AdminGrpc;
use super::service::{AdminService, HealthService};
use crate::catalog::Catalog;
use crate::config::{AdminConfig, Listen, TlsFiles};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

/// Why the admin API could not start.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// A file it needs cannot be read.
    #[error("admin API: cannot read {path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
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
    listen: Listen,
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Listen::Unix(path) = &self.listen {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ListenError> {
    std::fs::read(path).map_err(|e| ListenError::File {
        path: path.to_owned(),
        reason: e.to_string(),
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
        let service = tower::service_fn(move |req: http::Request<hyper::body::Incoming>| {
            let (admin, health, token) = (admin.clone(), health.clone(), token.clone());
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
                admin.oneshot(req).await
            }
        });
        let stop = CancellationToken::new();
        let bind_error = |reason: std::io::Error| ListenError::Bind {
            listen: config.listen.to_string(),
            reason: reason.to_string(),
        };
        match &config.listen {
            Listen::Unix(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(bind_error)?;
                }
                // A socket left by a host that died would refuse the bind.
                let _ = std::fs::remove_file(path);
                let listener = tokio::net::UnixListener::bind(path).map_err(bind_error)?;
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(bind_error)?;
                let stop = stop.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::select! {
                            _ = stop.cancelled() => break,
                            accepted = listener.accept() => match accepted {
                                Ok((io, _)) => serve(io, service.clone()),
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
                                (Ok((io, _)), None) => serve(io, service.clone()),
                                (Ok((io, peer)), Some(tls)) => {
                                    let (tls, service) = (tls.clone(), service.clone());
                                    tokio::spawn(async move {
                                        match tls.accept(io).await {
                                            Ok(io) => serve(io, service),
                                            Err(e) => tracing::warn!(%peer, "admin API TLS handshake: {e}"),
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
        Ok(AdminServer {
            stop,
            listen: config.listen.clone(),
        })
    }
}

/// Serve one connection (HTTP/2: gRPC).
fn serve<I, S>(io: I, service: S)
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
        let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
        if let Err(e) = connection.await {
            tracing::debug!("admin API connection: {e}");
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
}
