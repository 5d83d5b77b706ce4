//! Outbound HTTP for activities (`wasi:http/outgoing-handler`): every
//! request is checked against the module's `http` grants before it leaves,
//! and secret headers are added for the origins they belong to.

use super::output::Identity;
use crate::config::Grants;
use std::future::Future;
use std::sync::Arc;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// The request policy of one activity instance.
pub struct HttpPolicy {
    grants: Arc<Grants>,
    who: Identity,
}

impl HttpPolicy {
    /// Requests allowed by `grants`, denials logged as `who`.
    pub fn new(grants: Arc<Grants>, who: Identity) -> HttpPolicy {
        HttpPolicy { grants, who }
    }
}

type Sent = Box<
    dyn Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            )>,
        > + Send,
>;

impl WasiHttpHooks for HttpPolicy {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Sent {
        drop(fut);
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("https").to_owned();
        let host = uri.host().unwrap_or_default().to_owned();
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "http" { 80 } else { 443 });
        let method = request.method().as_str().to_owned();
        let allowed = self
            .grants
            .http
            .iter()
            .any(|g| g.allows(&scheme, &host, port, &method));
        if !allowed {
            self.who.denied("http", &format!(
                "denied HTTP {method} {scheme}://{host}:{port}: not in the module's `http` grants"
            ));
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        for secret in &self.grants.secret_headers {
            if secret.origin.allows(&scheme, &host, port, &method)
                && let (Ok(name), Ok(value)) = (
                    http::HeaderName::from_bytes(secret.name.as_bytes()),
                    http::HeaderValue::from_str(&secret.value),
                )
            {
                request.headers_mut().insert(name, value);
            }
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}
