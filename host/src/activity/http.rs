//! Outbound HTTP for activities (`wasi:http/outgoing-handler`): every
//! request is checked against the module's `http` grants before it leaves,
//! and secret headers are added for the origins they belong to.
//!
//! weft sends the request itself rather than through wasmtime-wasi-http's
//! default sender, for one reason: the addresses a host name resolves to
//! must be checked, and the connection must go to a checked address. A name
//! granted as an origin may resolve to loopback, link-local or the cloud
//! metadata address (by mistake, or because whoever runs its DNS wants it
//! to: DNS rebinding); such an address is reached only when it is granted
//! itself (see [`address_allowed`]). Resolving once and connecting to the
//! very address checked leaves no window for a second, different answer.
//!
//! Redirects are never followed: the guest gets the 3xx response, and any
//! request it makes to the `Location` is checked like every other.

use super::output::Identity;
use crate::config::{Grants, HttpGrant, canonical_host};
use http::uri::Scheme;
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use std::future::{Future, poll_fn};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
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

/// Where a request goes, in the canonical form grants are compared in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `http` or `https`.
    pub scheme: String,
    /// Canonical host ([`canonical_host`]): lower case, no trailing dot,
    /// `%`-escapes decoded, IPv6 without brackets.
    pub host: String,
    /// The port, the scheme's default when the URI names none.
    pub port: u16,
}

impl Target {
    /// The target of a request URI; `None` when it has no http(s) scheme
    /// or no host weft can read. Userinfo is dropped.
    pub fn of(uri: &http::Uri) -> Option<Target> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let authority = uri.authority()?;
        let host = canonical_host(authority.host()).ok()?;
        let port = match authority.port() {
            None => default_port,
            Some(p) => p.as_u16(),
        };
        (port != 0).then_some(Target { scheme, host, port })
    }

    /// `host[:port]` for the `Host` header: IPv6 in brackets, the port only
    /// when it is not the scheme's default.
    fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default_port = if self.scheme == "https" { 443 } else { 80 };
        if self.port == default_port {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// The cloud metadata service's IPv6 address (AWS); its IPv4 address,
/// 169.254.169.254, is link-local.
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254);

/// Addresses a host name must not lead to unless they are granted
/// themselves: loopback, unspecified (which reaches the local host),
/// `0.0.0.0/8`, link-local (169.254.0.0/16 with the metadata address,
/// fe80::/10) and fd00:ec2::254. IPv4-mapped IPv6 addresses count as the
/// IPv4 address they map.
pub fn restricted(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_link_local() || v4.is_unspecified() || v4.octets()[0] == 0
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6 == METADATA_V6
        }
    }
}

/// May a request to `target` with `method`, which an origin grant allows,
/// connect to `ip`? Yes unless `ip` is [`restricted`]; a restricted address
/// only when a grant names that address itself (`http://127.0.0.1:8080`),
/// or when the grant names `localhost` and the address is loopback: a user
/// who writes `localhost` means the loopback interface.
pub fn address_allowed(grants: &[HttpGrant], target: &Target, method: &str, ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    if !restricted(ip) {
        return true;
    }
    let literal = ip.to_string();
    grants
        .iter()
        .any(|g| g.allows(&target.scheme, &literal, target.port, method))
        || (target.host == "localhost" && ip.is_loopback())
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
        let method = request.method().as_str().to_owned();
        let Some(target) = Target::of(request.uri()) else {
            self.who.denied(
                "http",
                &format!(
                    "denied HTTP {method} {}: not an http(s) URL with a valid host",
                    request.uri()
                ),
            );
            return Box::new(async { Err(Error::HttpRequestUriInvalid) });
        };
        let Target { scheme, host, port } = &target;
        if !self
            .grants
            .http
            .iter()
            .any(|g| g.allows(scheme, host, *port, &method))
        {
            self.who.denied(
                "http",
                &format!(
                    "denied HTTP {method} {scheme}://{}:{port}: not in the module's `http` grants",
                    bracketed(host)
                ),
            );
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        // The server sees the host as checked, never the guest's userinfo.
        if let Ok(value) = http::HeaderValue::from_str(&target.authority()) {
            request.headers_mut().insert(http::header::HOST, value);
        }
        for secret in &self.grants.secret_headers {
            if secret.origin.allows(scheme, host, *port, &method)
                && let (Ok(name), Ok(value)) = (
                    http::HeaderName::from_bytes(secret.name.as_bytes()),
                    http::HeaderValue::from_str(&secret.value),
                )
            {
                request.headers_mut().insert(name, value);
            }
        }
        let (grants, who) = (self.grants.clone(), self.who.clone());
        Box::new(async move {
            let addrs = resolve(&target).await?;
            if let Some(bad) = addrs
                .iter()
                .find(|a| !address_allowed(&grants.http, &target, &method, a.ip()))
            {
                // One bad answer refuses the request: trying only the good
                // ones would let a rebinding server pick by timing.
                who.denied("http", &format!(
                    "denied HTTP {method} {}://{}:{}: it resolves to {}, which only a grant naming that address reaches",
                    target.scheme, bracketed(&target.host), target.port, bad.ip()
                ));
                return Err(Error::HttpRequestDenied);
            }
            let (response, io) = send_to(request, options, &target, &addrs).await?;
            Ok((
                response.map(http_body_util::BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// A host for messages: IPv6 in brackets.
fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// The addresses to connect to: an IP literal itself, a name through the
/// system resolver.
async fn resolve(target: &Target) -> Result<Vec<SocketAddr>, Error> {
    if let Ok(ip) = target.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, target.port)]);
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|e| Error::DnsError {
            rcode: Some(e.to_string()),
            info_code: None,
        })?
        .collect();
    if addrs.is_empty() {
        return Err(Error::DestinationNotFound);
    }
    Ok(addrs)
}

/// A connection of either kind, TLS or plain.
trait Stream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}
impl<T> Stream for T where T: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}

/// Send `request` over a connection to the first of `addrs` that answers:
/// wasmtime-wasi-http 48's `default_send_request`, with the connection made
/// to checked addresses instead of to a name resolved again.
async fn send_to(
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    target: &Target,
    addrs: &[SocketAddr],
) -> Result<
    (
        http::Response<TimedBody>,
        impl Future<Output = Result<(), Error>> + Send + use<>,
    ),
    Error,
> {
    let timeout = |pick: fn(&RequestOptions) -> Option<Duration>| {
        options
            .as_ref()
            .and_then(pick)
            .unwrap_or(Duration::from_secs(600))
    };
    let connect_timeout = timeout(|o| o.connect_timeout);
    let first_byte_timeout = timeout(|o| o.first_byte_timeout);
    // Tokio panics on an interval of zero.
    let between_bytes_timeout = timeout(|o| o.between_bytes_timeout).max(Duration::new(0, 1));

    let mut last_error = Error::DestinationNotFound;
    let mut connected = None;
    for addr in addrs {
        match tokio::time::timeout(connect_timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                connected = Some(stream);
                break;
            }
            Ok(Err(e)) => last_error = Error::Connect(e),
            Err(_) => last_error = Error::ConnectionTimeout,
        }
    }
    let stream = connected.ok_or(last_error)?;
    let stream: Box<dyn Stream> = if request.uri().scheme() == Some(&Scheme::HTTPS) {
        use tokio_rustls::rustls;
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = match target.host.parse::<IpAddr>() {
            Ok(ip) => rustls::pki_types::ServerName::from(ip),
            Err(_) => rustls::pki_types::ServerName::try_from(target.host.clone())
                .map_err(|_| Error::HttpRequestUriInvalid)?,
        };
        Box::new(connector.connect(name, stream).await.map_err(Error::Tls)?)
    } else {
        Box::new(stream)
    };
    let (mut sender, conn) = tokio::time::timeout(
        connect_timeout,
        hyper::client::conn::http1::Builder::new().handshake(TokioIo::new(stream)),
    )
    .await
    .map_err(|_| Error::ConnectionTimeout)??;

    // The request line carries only the path (scheme and authority are for
    // proxies).
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    *request.uri_mut() = http::Uri::builder()
        .path_and_query(path)
        .build()
        .map_err(|_| Error::HttpRequestUriInvalid)?;

    let send = async move {
        let response = tokio::time::timeout(first_byte_timeout, sender.send_request(request))
            .await
            .map_err(|_| Error::ConnectionReadTimeout)??;
        let mut timeout = tokio::time::interval(between_bytes_timeout);
        timeout.reset();
        Ok::<_, Error>(response.map(|incoming| TimedBody { incoming, timeout }))
    };
    let mut send = pin!(send);
    let mut conn = Some(conn);
    // Wait for the response while driving the connection's I/O.
    let response = poll_fn(|cx| match send.as_mut().poll(cx) {
        Poll::Ready(result) => Poll::Ready(result),
        Poll::Pending => {
            let Some(fut) = conn.as_mut() else {
                return Poll::Pending;
            };
            let result = ready!(Pin::new(fut).poll(cx));
            conn = None;
            match result {
                Ok(()) => send.as_mut().poll(cx),
                Err(err) => Poll::Ready(Err(Error::from(err))),
            }
        }
    })
    .await?;
    Ok((response, async move {
        match conn {
            None => Ok(()),
            Some(conn) => conn.await.map_err(|err| {
                if err.is_timeout() {
                    Error::HttpResponseTimeout
                } else {
                    err.into()
                }
            }),
        }
    }))
}

/// A response body that fails when no bytes arrive for the between-bytes
/// timeout.
struct TimedBody {
    incoming: Incoming,
    timeout: tokio::time::Interval,
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(if err.is_timeout() {
                Error::HttpResponseTimeout
            } else {
                Error::from(err)
            }))),
            Poll::Ready(Some(Ok(frame))) => {
                self.timeout.reset();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                ready!(self.timeout.poll_tick(cx));
                Poll::Ready(Some(Err(Error::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_origin;

    fn target(url: &str) -> Target {
        Target::of(&url.parse().expect("uri")).expect("a target")
    }

    #[test]
    fn targets_are_canonical_so_odd_spellings_match_the_grant() {
        let grant = parse_origin("http://example.com").expect("grant");
        for url in [
            "http://example.com/",
            "HTTP://Example.COM./x",
            "http://example.com:80/",
            "http://user:pw@example.com/",
        ] {
            let t = target(url);
            assert!(
                grant.allows(&t.scheme, &t.host, t.port, "GET"),
                "{url}: {t:?}"
            );
        }
        for url in [
            "http://example.com:8080/",
            "https://example.com/",
            "http://example.com.evil.test/",
            "http://evil.test/?example.com",
            "http://example.com@evil.test/",
        ] {
            let t = target(url);
            assert!(
                !grant.allows(&t.scheme, &t.host, t.port, "GET"),
                "{url}: {t:?}"
            );
        }
        assert_eq!(
            Target::of(&"ftp://example.com/".parse().expect("uri")),
            None
        );
        // A `%` in the host never gets this far: wasi-http's URI parser
        // refuses it (grants decode it, see config::grants).
        assert!("http://%65xample.com/".parse::<http::Uri>().is_err());
        assert_eq!(target("http://user@[::1]:8080/").authority(), "[::1]:8080");
    }

    #[test]
    fn ipv6_literal_grants_match_only_themselves() {
        let grant = parse_origin("http://[::1]:8080").expect("grant");
        let allowed = |url: &str| {
            let t = target(url);
            grant.allows(&t.scheme, &t.host, t.port, "GET")
        };
        assert!(allowed("http://[::1]:8080/"));
        assert!(
            allowed("http://[0:0:0:0:0:0:0:1]:8080/"),
            "another spelling of ::1"
        );
        assert!(!allowed("http://127.0.0.1:8080/"));
        assert!(!allowed("http://[::2]:8080/"));
        assert!(!allowed("http://[::ffff:127.0.0.1]:8080/"));
        assert!(!allowed("http://[::1]:8081/"));
        assert!(!allowed("http://localhost:8080/"));
    }

    #[test]
    fn methods_are_compared_exactly() {
        let grant = HttpGrant {
            methods: Some(["GET".to_owned()].into()),
            ..parse_origin("http://example.com").expect("grant")
        };
        assert!(grant.allows("http", "example.com", 80, "GET"));
        assert!(
            !grant.allows("http", "example.com", 80, "get"),
            "methods are case-sensitive"
        );
        assert!(!grant.allows("http", "example.com", 80, "POST"));
    }

    #[test]
    fn names_reach_loopback_link_local_and_metadata_only_when_granted() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let name = parse_origin("http://api.example.com:8080").expect("grant");
        let grants = std::slice::from_ref(&name);
        let api = target("http://api.example.com:8080/");
        for bad in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "0.0.0.0",
            "::",
            "169.254.169.254",
            "169.254.1.1",
            "fe80::1",
            "febf::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(restricted(ip(bad)), "{bad}");
            assert!(!address_allowed(grants, &api, "GET", ip(bad)), "{bad}");
        }
        for good in [
            "93.184.216.34",
            "10.1.2.3",
            "2606:4700::1",
            "fec0::1",
            "fd00:ec2::253",
        ] {
            assert!(!restricted(ip(good)), "{good}");
            assert!(address_allowed(grants, &api, "GET", ip(good)), "{good}");
        }
        // Granting the address itself (same scheme and port) lets the name
        // reach it.
        let with_ip = [
            name.clone(),
            parse_origin("http://127.0.0.1:8080").expect("grant"),
        ];
        assert!(address_allowed(&with_ip, &api, "GET", ip("127.0.0.1")));
        assert!(!address_allowed(&with_ip, &api, "GET", ip("127.0.0.2")));
        let other_port = [
            name.clone(),
            parse_origin("http://127.0.0.1:9090").expect("grant"),
        ];
        assert!(!address_allowed(&other_port, &api, "GET", ip("127.0.0.1")));
        let metadata = [
            name,
            parse_origin("http://[fd00:ec2::254]:8080").expect("grant"),
        ];
        assert!(address_allowed(&metadata, &api, "GET", ip("fd00:ec2::254")));
        // `localhost` is a loopback grant, and nothing else.
        let local = [parse_origin("http://localhost:8080").expect("grant")];
        let lh = target("http://LOCALHOST.:8080/");
        assert!(address_allowed(&local, &lh, "GET", ip("127.0.0.1")));
        assert!(address_allowed(&local, &lh, "GET", ip("::1")));
        assert!(!address_allowed(&local, &lh, "GET", ip("169.254.169.254")));
    }
}
