//! Activity grants as written and as validated, and the operator's
//! `[allow]` list that bounds them. See docs/capabilities.md.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};

/// Linear memory an activity instance may grow to unless its grants say.
pub(super) const DEFAULT_MEMORY_MIB: usize = 512;

/// `[[worker.activities]]` as written: the module and its grants. With
/// `M` = [`NoModule`] it is an upload's grants ([`RawUploadGrants`]): the
/// upload is the module, so they name none.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawActivityModule<M = PathBuf> {
    /// The component file.
    pub module: M,
    /// Directories the activity may open. None unless listed.
    #[serde(default)]
    pub dirs: Vec<RawDirGrant>,
    /// Environment variables the activity sees, by name and value.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Outbound HTTP origins.
    #[serde(default)]
    pub http: Vec<RawHttpGrant>,
    /// Outbound socket addresses, `tcp://IP:PORT` or `udp://IP:PORT`.
    #[serde(default)]
    pub sockets: Vec<String>,
    /// Secrets the host injects.
    #[serde(default)]
    pub secrets: Vec<RawSecret>,
    /// Linear memory per instance, in MiB.
    pub memory_mib: Option<usize>,
    /// Instances of this module running at once.
    pub max_instances: Option<usize>,
}

/// An uploaded activity's grants as written (`weft deploy --grants`).
pub type RawUploadGrants = RawActivityModule<Option<NoModule>>;

/// The `module` of an upload's grants: refused whatever it names.
#[derive(Debug)]
pub enum NoModule {}

impl<'de> Deserialize<'de> for NoModule {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<NoModule, D::Error> {
        Err(serde::de::Error::custom(
            "`module` is not a grant: the upload is the module",
        ))
    }
}

/// One `dirs` grant as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDirGrant {
    /// Directory on the host (relative to the config file's directory).
    pub host: PathBuf,
    /// Where the guest sees it, e.g. `/orders`.
    pub guest: String,
    /// Read-only unless `true`.
    #[serde(default)]
    pub writable: bool,
    /// Create the host directory if it does not exist.
    #[serde(default)]
    pub create: bool,
    /// A writable dir's quota: the most bytes its files may hold.
    pub max_bytes: Option<u64>,
}

/// One `http` grant as written: an origin, or an origin with methods.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawHttpGrant {
    /// `scheme://host[:port]`.
    Url(String),
    /// With a method list.
    Table {
        /// `scheme://host[:port]`.
        url: String,
        /// Allowed methods (all if absent).
        methods: Option<Vec<String>>,
    },
}

/// One `secrets` entry of a module's grants as written: which secret and
/// where it goes, never where it comes from (that is the operator's
/// `[secrets]` table).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecret {
    /// Its name in `[secrets]` (the env variable name when `env = true`).
    pub name: String,
    /// Refused: kept only to name the rule when a grant tries to choose a
    /// source (an uploader would otherwise pick any host variable).
    pub from_env: Option<toml::Value>,
    /// Refused, as `from_env` (an uploader would pick any host file).
    pub from_file: Option<toml::Value>,
    /// Inject as a header on requests to one granted origin.
    pub header: Option<RawSecretHeader>,
    /// Let the guest read it as an environment variable.
    #[serde(default)]
    pub env: bool,
}

/// Where a secret goes on outbound requests.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecretHeader {
    /// The origin, as in an `http` grant.
    pub url: String,
    /// Header name.
    pub name: String,
    /// Header value, `{secret}` replaced by the secret (default `{secret}`).
    pub value: Option<String>,
}

/// One `[secrets]` entry as written: where the host reads the secret.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecretSource {
    /// Read from this variable of the host's environment...
    pub from_env: Option<String>,
    /// ...or from this file (relative to the config file; trailing newline
    /// dropped).
    pub from_file: Option<PathBuf>,
}

/// Where the host reads one secret: chosen by the operator in `[secrets]`,
/// never by a module's grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// A variable of the host's environment.
    Env(String),
    /// A file (absolute, normalised).
    File(PathBuf),
}

/// The operator's `[secrets]` table: secret name -> source.
pub type SecretSources = BTreeMap<String, SecretSource>;

/// Validate `[secrets]`; relative files resolve against `base`. Nothing is
/// read here: a secret is read when a module granted it is resolved.
pub(super) fn secret_sources(
    raw: BTreeMap<String, RawSecretSource>,
    base: &Path,
) -> Result<SecretSources, Problem> {
    raw.into_iter()
        .map(|(name, s)| {
            let source = match (s.from_env, s.from_file) {
                (Some(var), None) => SecretSource::Env(var),
                (None, Some(file)) => SecretSource::File(normalise(base, &file)),
                _ => {
                    return Err(Problem::new(
                        format!("secrets.{name}"),
                        "give exactly one of `from_env` and `from_file`".into(),
                    ));
                }
            };
            Ok((name, source))
        })
        .collect()
}

/// `[allow]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAllow {
    /// Host directories under which granted dirs must lie.
    #[serde(default)]
    pub dirs: Vec<PathBuf>,
    /// Origins (port `*` for any) grants must fall within.
    #[serde(default)]
    pub http: Vec<RawHttpGrant>,
    /// Socket addresses (port `*` for any).
    #[serde(default)]
    pub sockets: Vec<String>,
    /// Grantable environment variable names.
    #[serde(default)]
    pub env: Vec<String>,
    /// Grantable secret names.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Largest `memory_mib` a module may have.
    pub memory_mib: Option<usize>,
    /// Largest `max_bytes` of a writable dir grant, and the quota of one
    /// that names none.
    pub dir_max_bytes: Option<u64>,
}

/// What an activity instance may reach. Everything not listed is denied.
#[derive(Debug, Clone)]
pub struct Grants {
    /// Preopened directories.
    pub dirs: Vec<DirGrant>,
    /// Environment variables (granted values, and secrets with `env`).
    pub env: BTreeMap<String, String>,
    /// Outbound HTTP origins.
    pub http: Vec<HttpGrant>,
    /// Outbound socket addresses.
    pub sockets: Vec<SocketGrant>,
    /// Headers the host adds to requests, per origin (secret values).
    pub secret_headers: Vec<SecretHeader>,
    /// Linear memory per instance.
    pub memory_bytes: usize,
    /// Instances of the module running at once.
    pub max_instances: Option<usize>,
}

impl Default for Grants {
    fn default() -> Grants {
        Grants {
            dirs: Vec::new(),
            env: BTreeMap::new(),
            http: Vec::new(),
            sockets: Vec::new(),
            secret_headers: Vec::new(),
            memory_bytes: DEFAULT_MEMORY_MIB << 20,
            max_instances: None,
        }
    }
}

/// A preopened directory.
#[derive(Debug, Clone)]
pub struct DirGrant {
    /// Host directory (absolute, normalised).
    pub host: PathBuf,
    /// Guest path.
    pub guest: String,
    /// Writes allowed.
    pub writable: bool,
    /// Create the host directory at start if missing.
    pub create: bool,
    /// Quota of a writable dir: the most bytes its files may hold.
    pub max_bytes: Option<u64>,
    /// The `[allow]` directory (resolved, no symlinks) it must stay under,
    /// checked again when an instance opens it: a symlink put in its path
    /// after the grant was checked must not lead out of the allowed tree.
    pub within: Option<PathBuf>,
}

/// An HTTP origin, optionally limited to some methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpGrant {
    /// `http` or `https`.
    pub scheme: String,
    /// Host name or IP, lower case.
    pub host: String,
    /// Port; `None` for any.
    pub port: Option<u16>,
    /// Upper-case methods; `None` for any.
    pub methods: Option<BTreeSet<String>>,
}

impl HttpGrant {
    /// Does a request to `scheme://host:port` with `method` fall within it?
    /// `host` must be in canonical form ([`canonical_host`]); methods are
    /// compared exactly, as HTTP defines them to be case-sensitive (grants
    /// are upper-cased at config time, so a grant of `get` is `GET`).
    pub fn allows(&self, scheme: &str, host: &str, port: u16, method: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
            && self.host.eq_ignore_ascii_case(host)
            && self.port.is_none_or(|p| p == port)
            && self.methods.as_ref().is_none_or(|m| m.contains(method))
    }

    /// The origin as it would be written in a grant: `scheme://host:port`
    /// (IPv6 in brackets, port `*` for any); [`parse_origin`] reads it back.
    pub fn origin(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) => format!("{}://{host}:{p}", self.scheme),
            None => format!("{}://{host}:*", self.scheme),
        }
    }

    /// Is every request this grant allows also allowed by `bound`?
    fn within(&self, bound: &HttpGrant) -> bool {
        self.scheme == bound.scheme
            && self.host == bound.host
            && (bound.port.is_none() || bound.port == self.port)
            && match (&self.methods, &bound.methods) {
                (_, None) => true,
                (Some(mine), Some(theirs)) => mine.is_subset(theirs),
                (None, Some(_)) => false,
            }
    }
}

impl std::fmt::Display for HttpGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.origin())?;
        if let Some(m) = &self.methods {
            let m: Vec<&str> = m.iter().map(String::as_str).collect();
            write!(f, " ({})", m.join(", "))?;
        }
        Ok(())
    }
}

/// A socket address the guest may connect or send to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketGrant {
    /// TCP (else UDP).
    pub tcp: bool,
    /// Remote IP.
    pub ip: IpAddr,
    /// Remote port; `None` for any.
    pub port: Option<u16>,
}

impl SocketGrant {
    /// Does it allow talking to `addr` over TCP (`tcp`) or UDP?
    /// An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is the IPv4
    /// address it maps, on both sides, so neither spelling reaches an
    /// address the other would not.
    pub fn allows(&self, tcp: bool, addr: SocketAddr) -> bool {
        self.tcp == tcp
            && self.ip.to_canonical() == addr.ip().to_canonical()
            && self.port.is_none_or(|p| p == addr.port())
    }

    /// The grant as written: `tcp://IP:PORT` (IPv6 in brackets, port `*`
    /// for any); [`parse_socket`] reads it back.
    pub fn address(&self) -> String {
        let proto = if self.tcp { "tcp" } else { "udp" };
        let port = self.port.map_or("*".to_owned(), |p| p.to_string());
        match self.ip {
            IpAddr::V4(ip) => format!("{proto}://{ip}:{port}"),
            IpAddr::V6(ip) => format!("{proto}://[{ip}]:{port}"),
        }
    }

    fn within(&self, bound: &SocketGrant) -> bool {
        self.tcp == bound.tcp
            && self.ip.to_canonical() == bound.ip.to_canonical()
            && (bound.port.is_none() || bound.port == self.port)
    }
}

/// A header carrying a secret to one origin.
#[derive(Debug, Clone)]
pub struct SecretHeader {
    /// Which requests get it.
    pub origin: HttpGrant,
    /// Header name.
    pub name: String,
    /// Header value, secret included.
    pub value: String,
}

/// The validated `[allow]` list; `None` fields bound nothing.
#[derive(Debug, Clone, Default)]
pub struct Allow {
    /// As written (normalised), and resolved through symlinks.
    dirs: Vec<(PathBuf, PathBuf)>,
    http: Vec<HttpGrant>,
    sockets: Vec<SocketGrant>,
    env: BTreeSet<String>,
    secrets: BTreeSet<String>,
    memory_mib: Option<usize>,
    dir_max_bytes: Option<u64>,
}

/// A value that parsed but is not acceptable: its dotted key (relative to
/// the section or module being checked) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key, e.g. `http[0]`.
    pub key: String,
    /// What is wrong, and what to do about it.
    pub problem: String,
}

impl Problem {
    /// A problem with `key`.
    pub fn new(key: String, problem: String) -> Problem {
        Problem { key, problem }
    }
}

/// The canonical spelling of a URL host, the form in which grants and
/// requests are compared: `%`-escapes decoded, lower case, one trailing dot
/// dropped, IP addresses in their standard form (IPv6 without brackets).
/// Anything that is neither an IP address nor a DNS name is refused, and so
/// is a numeric name such as `2130706433` or `0x7f.1`, which resolvers read
/// as an IPv4 address in another spelling.
pub fn canonical_host(raw: &str) -> Result<String, String> {
    let decoded =
        percent_decode(raw).ok_or_else(|| format!("`{raw}`: bad `%`-escape in the host"))?;
    if let Some(inner) = decoded.strip_prefix('[') {
        let ip: Ipv6Addr = inner
            .strip_suffix(']')
            .and_then(|i| i.parse().ok())
            .ok_or_else(|| format!("`{raw}` is not an IPv6 address like `[::1]`"))?;
        return Ok(ip.to_string());
    }
    let host = decoded
        .strip_suffix('.')
        .unwrap_or(&decoded)
        .to_ascii_lowercase();
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(ip.to_string());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let last = host.rsplit('.').next().unwrap_or_default();
    let numeric = last.bytes().all(|b| b.is_ascii_digit())
        || (last.starts_with("0x") && last[2..].bytes().all(|b| b.is_ascii_hexdigit()));
    if host.len() > 253 || !host.split('.').all(label_ok) || numeric {
        return Err(format!(
            "`{raw}` is not a host name or IP address (IPv6 goes in brackets)"
        ));
    }
    Ok(host)
}

/// `%XX` escapes decoded; `None` for a bad escape or a result that is not
/// UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A port as written after `:`: digits only, 1 to 65535.
fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|p| *p != 0)
}

/// Parse `scheme://host[:port]` (port `*` for any). The scheme and host are
/// canonical afterwards ([`canonical_host`]): `HTTP://Example.COM.:80` is
/// `http://example.com:80`. IPv6 addresses go in brackets.
pub fn parse_origin(url: &str) -> Result<HttpGrant, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("`{url}` is not an origin like `https://api.example.com`"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(format!("`{url}`: only http and https are supported")),
    };
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.contains(['/', '@', '?', '#']) {
        return Err(format!(
            "`{url}` must be scheme://host[:port] with no path or user"
        ));
    }
    let (host, port) = match (rest.starts_with('['), rest.find(']'), rest.rfind(':')) {
        (true, Some(end), _) => rest.split_at(end + 1),
        (false, _, Some(colon)) => rest.split_at(colon),
        _ => (rest, ""),
    };
    let port = match port {
        "" => Some(default_port),
        ":*" => None,
        p => Some(
            p.strip_prefix(':')
                .and_then(parse_port)
                .ok_or_else(|| format!("`{url}`: bad port `{p}`"))?,
        ),
    };
    Ok(HttpGrant {
        scheme,
        host: canonical_host(host).map_err(|e| format!("`{url}`: {e}"))?,
        port,
        methods: None,
    })
}

/// A method of a grant: an HTTP token, upper-cased (so `get` is `GET`).
fn parse_method(method: &str) -> Result<String, String> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if method.is_empty() || !method.bytes().all(tchar) {
        return Err(format!("`{method}` is not an HTTP method"));
    }
    Ok(method.to_ascii_uppercase())
}

fn parse_http(raw: &RawHttpGrant) -> Result<HttpGrant, String> {
    match raw {
        RawHttpGrant::Url(url) => parse_origin(url),
        RawHttpGrant::Table { url, methods } => Ok(HttpGrant {
            methods: match methods {
                Some(m) => Some(
                    m.iter()
                        .map(|m| parse_method(m))
                        .collect::<Result<_, _>>()?,
                ),
                None => None,
            },
            ..parse_origin(url)?
        }),
    }
}

/// Parse `tcp://IP:PORT` / `udp://IP:PORT` (port `*` for any; IPv6 in
/// brackets, `tcp://[::1]:5432`).
pub fn parse_socket(text: &str) -> Result<SocketGrant, String> {
    let bad = || {
        format!(
            "`{text}` is not like `tcp://127.0.0.1:5432` or `tcp://[::1]:5432` (an IP, not a name)"
        )
    };
    let (proto, addr) = text.split_once("://").ok_or_else(bad)?;
    let tcp = match proto.to_ascii_lowercase().as_str() {
        "tcp" => true,
        "udp" => false,
        _ => return Err(bad()),
    };
    let (ip, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let ip: IpAddr = match ip.strip_prefix('[') {
        Some(v6) => IpAddr::V6(
            v6.strip_suffix(']')
                .ok_or_else(bad)?
                .parse()
                .map_err(|_| bad())?,
        ),
        None => IpAddr::V4(ip.parse().map_err(|_| bad())?),
    };
    let port = match port {
        "*" => None,
        p => Some(parse_port(p).ok_or_else(bad)?),
    };
    Ok(SocketGrant { tcp, ip, port })
}

/// `base/path` with `.` and `..` resolved lexically, so a grant cannot
/// leave an allowed directory by spelling.
pub fn normalise(base: &Path, path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in base.join(path).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `path` with every symlink resolved: the deepest existing ancestor
/// canonicalised, the part that does not exist yet (a dir to be created)
/// appended as written. `path` is absolute and normalised.
pub fn real_path(path: &Path) -> PathBuf {
    let mut existing = path;
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return path.to_owned(),
        }
    }
}

impl Allow {
    /// The resolved `[allow]` dir that `host` (as written, and resolved
    /// through symlinks) lies under, if any. Both forms must be within the
    /// same allowed dir: the string so that the grant reads as allowed, the
    /// resolved path so that a symlink cannot lead out of the tree.
    pub fn dir_root(&self, host: &Path) -> Option<&Path> {
        let real = real_path(host);
        self.dirs
            .iter()
            .find(|(real_allow, allow)| host.starts_with(allow) && real.starts_with(real_allow))
            .map(|(real_allow, _)| real_allow.as_path())
    }

    /// Validate `[allow]`; relative dirs resolve against `base`.
    pub fn resolve(raw: RawAllow, base: &Path) -> Result<Allow, Problem> {
        let key = |k: &str, i: usize| format!("allow.{k}[{i}]");
        let mut http = Vec::new();
        for (i, h) in raw.http.iter().enumerate() {
            http.push(parse_http(h).map_err(|e| Problem::new(key("http", i), e))?);
        }
        let mut sockets = Vec::new();
        for (i, s) in raw.sockets.iter().enumerate() {
            sockets.push(parse_socket(s).map_err(|e| Problem::new(key("sockets", i), e))?);
        }
        Ok(Allow {
            dirs: raw
                .dirs
                .iter()
                .map(|d| {
                    let d = normalise(base, d);
                    (real_path(&d), d)
                })
                .collect(),
            http,
            sockets,
            env: raw.env.into_iter().collect(),
            secrets: raw.secrets.into_iter().collect(),
            memory_mib: raw.memory_mib,
            dir_max_bytes: raw.dir_max_bytes,
        })
    }
}

/// Validate one module's grants; with `allow`, refuse any grant beyond it.
/// Granted secrets are read here from their `sources`, so a missing one
/// fails the start (or the upload).
pub fn resolve<M>(
    raw: RawActivityModule<M>,
    base: &Path,
    allow: Option<&Allow>,
    sources: &SecretSources,
) -> Result<Grants, Problem> {
    let beyond = |key: String, what: String, list: &str| {
        Problem::new(
            key,
            format!("{what} is not in the operator allow-list (`allow.{list}`)"),
        )
    };
    let mut grants = Grants::default();

    let mut guests = HashSet::new();
    for (k, d) in raw.dirs.into_iter().enumerate() {
        let key = format!("dirs[{k}]");
        if !d.guest.starts_with('/') {
            return Err(Problem::new(
                format!("{key}.guest"),
                "must be an absolute guest path like `/data`".into(),
            ));
        }
        if !guests.insert(d.guest.clone()) {
            return Err(Problem::new(
                format!("{key}.guest"),
                "the same guest path is granted twice".into(),
            ));
        }
        let host = normalise(base, &d.host);
        let mut within = None;
        if let Some(allow) = allow {
            if !allow.dirs.iter().any(|(_, a)| host.starts_with(a)) {
                return Err(beyond(key, format!("directory {}", host.display()), "dirs"));
            }
            // The same words whether the link leads to something or not.
            within = Some(allow.dir_root(&host).ok_or_else(|| {
                Problem::new(
                    key.clone(),
                    format!(
                        "directory {} passes through a symlink that leads out of the \
                         operator allow-list (`allow.dirs`)",
                        host.display()
                    ),
                )
            })?);
        }
        let bound = allow.and_then(|a| a.dir_max_bytes);
        let max_bytes = match (d.writable, d.max_bytes) {
            (false, Some(_)) => {
                return Err(Problem::new(
                    format!("{key}.max_bytes"),
                    "only a writable dir has a quota".into(),
                ));
            }
            (false, None) => None,
            (true, max) => max.or(bound),
        };
        if let (Some(max), Some(bound)) = (max_bytes, bound)
            && max > bound
        {
            return Err(Problem::new(
                format!("{key}.max_bytes"),
                format!("{max} bytes is above the operator's `allow.dir_max_bytes` ({bound})"),
            ));
        }
        grants.dirs.push(DirGrant {
            host,
            guest: d.guest,
            writable: d.writable,
            create: d.create,
            max_bytes,
            within: within.map(Path::to_owned),
        });
    }

    for name in raw.env.keys() {
        if name.is_empty() || name.contains('=') {
            return Err(Problem::new(
                "env".into(),
                format!("`{name}` is not a valid variable name"),
            ));
        }
        if let Some(allow) = allow
            && !allow.env.contains(name)
        {
            return Err(beyond(
                format!("env.{name}"),
                format!("variable `{name}`"),
                "env",
            ));
        }
    }
    grants.env = raw.env;

    for (i, h) in raw.http.iter().enumerate() {
        let key = format!("http[{i}]");
        let grant = parse_http(h).map_err(|e| Problem::new(key.clone(), e))?;
        if let Some(allow) = allow
            && !allow.http.iter().any(|a| grant.within(a))
        {
            return Err(beyond(key, format!("origin {grant}"), "http"));
        }
        grants.http.push(grant);
    }

    for (i, s) in raw.sockets.iter().enumerate() {
        let key = format!("sockets[{i}]");
        let grant = parse_socket(s).map_err(|e| Problem::new(key.clone(), e))?;
        if let Some(allow) = allow
            && !allow.sockets.iter().any(|a| grant.within(a))
        {
            return Err(beyond(key, format!("address `{s}`"), "sockets"));
        }
        grants.sockets.push(grant);
    }

    for (i, s) in raw.secrets.into_iter().enumerate() {
        let key = format!("secrets[{i}]");
        if s.from_env.is_some() || s.from_file.is_some() {
            // The grant names a source: refused whatever it names, before
            // anything is read, so the answer says nothing about the host.
            let field = if s.from_env.is_some() {
                "from_env"
            } else {
                "from_file"
            };
            return Err(Problem::new(
                format!("{key}.{field}"),
                format!(
                    "a grant names a secret, never its source: the operator binds `{}` \
                     to a variable or file in weft.toml's `[secrets]`",
                    s.name
                ),
            ));
        }
        if let Some(allow) = allow
            && !allow.secrets.contains(&s.name)
        {
            return Err(beyond(key, format!("secret `{}`", s.name), "secrets"));
        }
        let source = sources.get(&s.name).ok_or_else(|| {
            Problem::new(
                key.clone(),
                format!(
                    "secret `{}` is not defined in the operator's `[secrets]`",
                    s.name
                ),
            )
        })?;
        let value = match source {
            SecretSource::Env(var) => std::env::var(var).map_err(|_| {
                Problem::new(
                    key.clone(),
                    format!(
                        "secret `{}`: `{var}` (from `[secrets]`) is not set in the host's environment",
                        s.name
                    ),
                )
            })?,
            SecretSource::File(file) => std::fs::read_to_string(file)
                .map(|v| v.trim_end_matches(['\n', '\r']).to_owned())
                .map_err(|e| {
                    Problem::new(
                        key.clone(),
                        format!(
                            "secret `{}`: cannot read {} (from `[secrets]`): {e}",
                            s.name,
                            file.display()
                        ),
                    )
                })?,
        };
        if let Some(h) = s.header {
            let origin =
                parse_origin(&h.url).map_err(|e| Problem::new(format!("{key}.header.url"), e))?;
            let origin_only = |g: &HttpGrant| HttpGrant {
                methods: None,
                ..g.clone()
            };
            if !grants.http.iter().any(|g| origin.within(&origin_only(g))) {
                return Err(Problem::new(
                    format!("{key}.header.url"),
                    format!("{origin} is not granted in `http`"),
                ));
            }
            let template = h.value.unwrap_or_else(|| "{secret}".to_owned());
            grants.secret_headers.push(SecretHeader {
                origin,
                name: h.name.to_ascii_lowercase(),
                value: template.replace("{secret}", &value),
            });
        }
        if s.env {
            // One name, one value: a secret must not silently replace a
            // granted variable (or another secret).
            if grants.env.contains_key(&s.name) {
                return Err(Problem::new(
                    format!("{key}.env"),
                    format!("`{}` is already an env variable of this module", s.name),
                ));
            }
            grants.env.insert(s.name, value);
        }
    }

    let memory_mib = raw.memory_mib.unwrap_or(
        allow
            .and_then(|a| a.memory_mib)
            .unwrap_or(DEFAULT_MEMORY_MIB),
    );
    if memory_mib == 0 {
        return Err(Problem::new(
            "memory_mib".into(),
            "must be at least 1".into(),
        ));
    }
    if let Some(max) = allow.and_then(|a| a.memory_mib)
        && memory_mib > max
    {
        return Err(Problem::new(
            "memory_mib".into(),
            format!("{memory_mib} MiB is above the operator's `allow.memory_mib` ({max} MiB)"),
        ));
    }
    grants.memory_bytes = memory_mib << 20;
    if raw.max_instances == Some(0) {
        return Err(Problem::new(
            "max_instances".into(),
            "must be at least 1".into(),
        ));
    }
    grants.max_instances = raw.max_instances;
    Ok(grants)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_before_matching() {
        let canonical = |url: &str| parse_origin(url).map(|g| g.origin());
        for (written, origin) in [
            ("HTTP://Example.COM.", "http://example.com:80"),
            ("http://example.com:80/", "http://example.com:80"),
            ("https://example.com:443", "https://example.com:443"),
            ("http://%65xample.%63om", "http://example.com:80"),
            ("http://[::1]", "http://[::1]:80"),
            ("http://[0:0::1]:8080", "http://[::1]:8080"),
            ("https://[FD00:EC2::254]:*", "https://[fd00:ec2::254]:*"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ] {
            assert_eq!(canonical(written).as_deref(), Ok(origin), "{written}");
        }
        for bad in [
            "http://user@example.com",
            "http://user:pw@example.com",
            "http://example.com/path",
            "http://example.com?q",
            "http://::1:8080",
            "http://[::1",
            "http://[example.com]",
            "http://example.com:0",
            "http://example.com:+80",
            "http://example.com:65536",
            "http://exa mple.com",
            "http://example..com",
            "http://%zz.com",
            "http://%2f.com",
            "http://2130706433",
            "http://0x7f.1",
            "http://127.000.000.001",
            "ftp://example.com",
            "http://",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn grant_methods_are_upper_cased_and_must_be_tokens() {
        let table = |methods: &[&str]| RawHttpGrant::Table {
            url: "http://example.com".into(),
            methods: Some(methods.iter().map(|m| (*m).to_owned()).collect()),
        };
        let grant = parse_http(&table(&["get", "Post"])).expect("grant");
        assert_eq!(
            grant.methods,
            Some(["GET".to_owned(), "POST".to_owned()].into())
        );
        assert!(grant.allows("http", "example.com", 80, "GET"));
        assert!(!grant.allows("http", "example.com", 80, "get"));
        assert!(parse_http(&table(&[""])).is_err());
        assert!(parse_http(&table(&["GET POST"])).is_err());
    }

    #[test]
    fn socket_grants_take_ipv6_in_brackets_and_match_only_themselves() {
        let grant = parse_socket("tcp://[::1]:5432").expect("grant");
        assert_eq!(grant.address(), "tcp://[::1]:5432");
        let addr = |s: &str| s.parse::<SocketAddr>().expect("addr");
        assert!(grant.allows(true, addr("[::1]:5432")));
        assert!(!grant.allows(true, addr("127.0.0.1:5432")));
        assert!(!grant.allows(true, addr("[::2]:5432")));
        assert!(!grant.allows(true, addr("[::1]:5433")));
        assert!(!grant.allows(false, addr("[::1]:5432")));
        // A mapped address is the IPv4 address it maps, both ways.
        let v4 = parse_socket("TCP://127.0.0.1:5432").expect("grant");
        assert!(v4.allows(true, addr("[::ffff:127.0.0.1]:5432")));
        assert!(!v4.allows(true, addr("[::ffff:127.0.0.2]:5432")));
        for bad in [
            "tcp://::1:5432",
            "tcp://[::1:5432",
            "tcp://localhost:5432",
            "tcp://127.0.0.1:0",
            "tcp://127.0.0.1",
            "sctp://127.0.0.1:1",
        ] {
            assert!(parse_socket(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn upload_grants_name_no_module() {
        let raw: RawUploadGrants =
            toml::from_str("env = { CURRENCY = \"EUR\" }\nmemory_mib = 64").expect("grants");
        assert!(raw.module.is_none());
        assert_eq!(raw.memory_mib, Some(64));
        let refused = toml::from_str::<RawUploadGrants>("module = \"/etc/passwd\"")
            .expect_err("a module in grants");
        assert!(
            refused
                .to_string()
                .contains("`module` is not a grant: the upload is the module"),
            "{refused}"
        );
        let unknown = toml::from_str::<RawUploadGrants>("read_only = true").expect_err("unknown");
        assert!(
            unknown.to_string().contains("unknown field `read_only`"),
            "{unknown}"
        );
    }
}
