//! A client of the admin API, as `weft deploy`, `weft modules` and
//! `weft undeploy` use it.

use super::health::health_client::HealthClient;
use super::health::{HealthCheckRequest, health_check_response::ServingStatus};
use super::proto::{self, admin_client, deploy_request};
use crate::store::Digest;
use hyper_util::rt::TokioIo;
use std::path::{Path, PathBuf};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// Why a call to the admin API failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The address is not usable.
    #[error(
        "admin address `{0}`: expected unix:PATH, HOST:PORT, http://HOST:PORT or https://HOST:PORT"
    )]
    Address(String),
    /// A file cannot be read.
    #[error("cannot read {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The host cannot be reached.
    #[error("cannot reach the weft admin API at {address}: {reason}")]
    Connect {
        /// The address.
        address: String,
        /// Why.
        reason: String,
    },
    /// The host refused or failed the call.
    #[error("{}", status_text(.0))]
    Call(tonic::Status),
}

// Not `#[from]`: that would make the status the error's source too, and
// error reports would print its message twice.
impl From<tonic::Status> for ClientError {
    fn from(status: tonic::Status) -> ClientError {
        ClientError::Call(status)
    }
}

/// How to reach a host's admin API.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// `unix:PATH`, `HOST:PORT`, `http://HOST:PORT` or `https://HOST:PORT`.
    pub address: String,
    /// The bearer token, if the host wants one.
    pub token: Option<String>,
    /// PEM CA to verify the host's certificate (https).
    pub ca: Option<PathBuf>,
    /// PEM client certificate and key (mTLS).
    pub identity: Option<(PathBuf, PathBuf)>,
}

/// A connected admin API client.
pub struct AdminClient {
    admin: admin_client::AdminClient<Channel>,
    health: HealthClient<Channel>,
    token: Option<String>,
}

fn read(path: &Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|source| ClientError::File {
        path: path.to_owned(),
        source,
    })
}

impl AdminClient {
    /// Connect to a host's admin API.
    pub async fn connect(options: ClientOptions) -> Result<AdminClient, ClientError> {
        let address = options.address.clone();
        let connect_error = |e: &dyn std::fmt::Display| ClientError::Connect {
            address: address.clone(),
            reason: e.to_string(),
        };
        let channel = if let Some(path) = address.strip_prefix("unix:") {
            let path = PathBuf::from(path);
            // The URI is a placeholder: the connector dials the socket.
            Endpoint::from_static("http://weft.admin")
                .connect_with_connector(tower::service_fn(move |_| {
                    let path = path.clone();
                    async move {
                        let stream = tokio::net::UnixStream::connect(&path).await?;
                        Ok::<_, std::io::Error>(TokioIo::new(stream))
                    }
                }))
                .await
                .map_err(|e| connect_error(&source_chain(&e)))?
        } else {
            let url = if address.contains("://") {
                address.clone()
            } else {
                format!("http://{address}")
            };
            let mut endpoint = Endpoint::from_shared(url.clone())
                .map_err(|_| ClientError::Address(address.clone()))?;
            if url.starts_with("https://") {
                let mut tls = ClientTlsConfig::new();
                if let Some(ca) = &options.ca {
                    tls = tls.ca_certificate(Certificate::from_pem(read(ca)?));
                } else {
                    tls = tls.with_native_roots();
                }
                if let Some((cert, key)) = &options.identity {
                    tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?));
                }
                endpoint = endpoint.tls_config(tls).map_err(|e| connect_error(&e))?;
            }
            endpoint
                .connect()
                .await
                .map_err(|e| connect_error(&source_chain(&e)))?
        };
        Ok(AdminClient {
            admin: admin_client::AdminClient::new(channel.clone())
                .max_decoding_message_size(16 << 20),
            health: HealthClient::new(channel),
            token: options.token,
        })
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(token) = &self.token
            && let Ok(value) = format!("Bearer {token}").parse()
        {
            request.metadata_mut().insert("authorization", value);
        }
        request
    }

    /// Upload a component file.
    pub async fn deploy(
        &mut self,
        file: &Path,
        mut header: proto::DeployHeader,
    ) -> Result<proto::DeployResponse, ClientError> {
        let bytes = read(file)?;
        header.size = bytes.len() as u64;
        header.digest = Digest::of(&bytes).to_string();
        let mut messages = vec![proto::DeployRequest {
            part: Some(deploy_request::Part::Header(header)),
        }];
        messages.extend(
            bytes
                .chunks(super::CHUNK_BYTES)
                .map(|c| proto::DeployRequest {
                    part: Some(deploy_request::Part::Chunk(c.to_vec())),
                }),
        );
        let request = self.request(tokio_stream::iter(messages));
        Ok(self.admin.deploy(request).await?.into_inner())
    }

    /// Every name with its versions.
    pub async fn list(&mut self) -> Result<Vec<proto::ModuleName>, ClientError> {
        let request = self.request(proto::ListModulesRequest {});
        Ok(self.admin.list_modules(request).await?.into_inner().names)
    }

    /// What a version is.
    pub async fn inspect(
        &mut self,
        name: &str,
        digest: Option<&str>,
    ) -> Result<proto::InspectModuleResponse, ClientError> {
        let request = self.request(proto::InspectModuleRequest {
            name: name.to_owned(),
            digest: digest.unwrap_or_default().to_owned(),
        });
        Ok(self.admin.inspect_module(request).await?.into_inner())
    }

    /// Make a version current.
    pub async fn set_current(
        &mut self,
        name: &str,
        digest: &str,
        force: bool,
    ) -> Result<proto::SetCurrentResponse, ClientError> {
        let request = self.request(proto::SetCurrentRequest {
            name: name.to_owned(),
            digest: digest.to_owned(),
            force,
        });
        Ok(self.admin.set_current(request).await?.into_inner())
    }

    /// Remove a version, or every version of a name.
    pub async fn undeploy(
        &mut self,
        name: &str,
        digest: Option<&str>,
        force: bool,
    ) -> Result<Vec<String>, ClientError> {
        let request = self.request(proto::UndeployRequest {
            name: name.to_owned(),
            digest: digest.unwrap_or_default().to_owned(),
            force,
        });
        Ok(self.admin.undeploy(request).await?.into_inner().removed)
    }

    /// Ask the health service about `service` (`""` alive, `readiness`).
    pub async fn health(&mut self, service: &str) -> Result<bool, ClientError> {
        let response = self
            .health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await?
            .into_inner();
        Ok(response.status == ServingStatus::Serving as i32)
    }
}

/// A status's message, or its code when it has none (transport failures).
/// For a transport failure, the causes too (a refused TLS handshake says
/// only "transport error" on its own).
fn status_text(status: &tonic::Status) -> String {
    let head = if status.message().is_empty() {
        format!("{:?}", status.code())
    } else {
        status.message().to_owned()
    };
    match std::error::Error::source(status).map(source_chain) {
        Some(chain) if chain.starts_with(&head) => chain,
        Some(chain) => format!("{head}: {chain}"),
        None => head,
    }
}

/// An error with its sources, for connection failures whose top-level
/// message is only "transport error"; a cause that repeats the message
/// before it is left out.
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
