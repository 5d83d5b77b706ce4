//! Property tests standing in for fuzz targets: cargo-fuzz needs a nightly
//! toolchain and a sanitizer build of wasmtime and Temporal core, more CI
//! time than this project has. Each target feeds arbitrary and mutated
//! input to code that reads untrusted bytes (uploaded modules, configs,
//! grants, payloads and failures, exported histories) and checks that it
//! never panics, plus the properties that apply: a parsed-then-printed
//! grant reads back the same, a grant never matches an origin it does
//! not name, and the admin API answers every request with a result or a
//! well-formed refusal.
//!
//! `cargo test` runs a few hundred cases per target (seconds in all);
//! `WEFT_FUZZ_CASES=N` runs N, `WEFT_FUZZ_SECONDS=S` keeps each target
//! going for S seconds (`scripts/fuzz.sh` does that for every target).
//! A failing case is printed (shrunk); it becomes a regression test in
//! the module it broke.
#![allow(clippy::disallowed_methods)] // `WEFT_FUZZ_SECONDS` is wall-clock time

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};
use std::net::{IpAddr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};
use weft::activity::http::{Target, address_allowed, restricted};
use weft::config::{Config, Overrides, canonical_host, parse_origin, parse_socket};

/// Run `test` on values of `strategy`: `WEFT_FUZZ_CASES` cases (default
/// `default_cases`), or for `WEFT_FUZZ_SECONDS` when that is set.
fn fuzz<S: Strategy>(
    name: &str,
    default_cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let env = |key: &str| std::env::var(key).ok().and_then(|v| v.parse::<u64>().ok());
    let cases =
        env("WEFT_FUZZ_CASES").map_or(default_cases, |c| c.clamp(1, u64::from(u32::MAX)) as u32);
    let seconds = env("WEFT_FUZZ_SECONDS");
    let batch = if seconds.is_some() { 32 } else { cases };
    let start = Instant::now();
    let mut ran = 0u64;
    loop {
        // A fresh runner per batch, randomly seeded: a runner counts its
        // passed cases and would run no more once it reached `cases`.
        let mut runner = TestRunner::new(RunnerConfig {
            cases: batch,
            failure_persistence: None,
            ..RunnerConfig::default()
        });
        if let Err(e) = runner.run(&strategy, &test) {
            panic!("fuzz target {name} failed after {ran} cases: {e}");
        }
        ran += u64::from(batch);
        match seconds {
            Some(s) if start.elapsed() < Duration::from_secs(s) => continue,
            _ => break,
        }
    }
    eprintln!("fuzz target {name}: {ran} cases in {:.1?}", start.elapsed());
}

/// A file of the repository, for mutation seeds.
fn repo_file(path: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A guest component weft-test-guests built.
fn guest(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// `seed` with a few random edits: bytes overwritten, a range removed, or
/// bytes inserted.
fn mutated(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = seed.len().max(1);
    let edit = prop_oneof![
        (0..len, any::<u8>()).prop_map(|(i, b)| (0u8, i, 0usize, vec![b])),
        (0..len, 1..64usize).prop_map(|(i, n)| (1u8, i, n, Vec::new())),
        (0..len, prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, v)| (2u8, i, 0, v)),
    ];
    prop::collection::vec(edit, 1..8).prop_map(move |edits| {
        let mut bytes = seed.clone();
        for (kind, i, n, v) in edits {
            let i = i.min(bytes.len());
            match kind {
                0 if i < bytes.len() => bytes[i] = v[0],
                1 => {
                    let end = (i + n).min(bytes.len());
                    bytes.drain(i..end);
                }
                _ => {
                    bytes.splice(i..i, v);
                }
            }
        }
        bytes
    })
}

// --- module validation and `weft inspect` -------------------------------

/// The component header: arbitrary bytes after it reach the section parser.
const COMPONENT_HEADER: &[u8] = b"\0asm\x0d\0\x01\0";

#[test]
fn module_validation_never_panics_on_arbitrary_bytes() {
    let bytes = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        prop::collection::vec(any::<u8>(), 0..2048).prop_map(|b| [COMPONENT_HEADER, &b].concat()),
    ];
    fuzz("module-bytes", 512, bytes, |bytes| {
        let _ = weft::module::world_of(Path::new("fuzz.wasm"), &bytes);
        Ok(())
    });
}

#[test]
fn module_validation_and_compile_never_panic_on_mutated_components() {
    let engine = wasmtime::Engine::default();
    let seed = guest(weft_test_guests::ORDER_WORKFLOW);
    fuzz("module-mutated", 48, mutated(seed), |bytes| {
        let path = Path::new("mutated.wasm");
        // What `weft inspect`, `check` and a deploy do with an upload:
        // read its world, then compile it.
        if weft::module::world_of(path, &bytes).is_ok() {
            let _ =
                weft::module::compile(&engine, weft::module::Kind::Workflow, path, &bytes, None);
        }
        Ok(())
    });
}

#[test]
fn implied_grants_never_panic_on_any_import_names() {
    fuzz(
        "inspect-imports",
        256,
        prop::collection::vec(".{0,40}", 0..8),
        |imports| {
            let _ = weft::inspect::implied_grants(&imports);
            Ok(())
        },
    );
}

// --- the config parser -------------------------------------------------

fn parse_config(text: &str) {
    let _ = Config::parse(
        text,
        Path::new("fuzz.toml"),
        Path::new("/fuzz"),
        &Overrides::default(),
    );
}

#[test]
fn config_parser_never_panics_on_arbitrary_text() {
    fuzz("config-text", 512, ".{0,300}", |text| {
        parse_config(&text);
        Ok(())
    });
}

#[test]
fn config_parser_never_panics_on_mutated_configs() {
    let seed = repo_file("examples/mixed.toml");
    fuzz("config-mutated", 256, mutated(seed), |bytes| {
        parse_config(&String::from_utf8_lossy(&bytes));
        Ok(())
    });
}

/// Strings shaped like grants, so that most reach the host and port code.
fn grant_like() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        "[a-zA-Z0-9.%_-]{0,20}",
        "\\[[0-9a-fA-F:.%]{0,24}\\]",
        Just("localhost".to_owned()),
        Just("LocalHost.".to_owned()),
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
    ];
    (
        prop_oneof!["(?i:https?|tcp|udp)", ".{0,5}"],
        host,
        prop_oneof![Just(String::new()), ":[0-9*]{0,6}", ":.{0,4}"],
        prop_oneof![Just(String::new()), Just("/".to_owned()), "[/@?#].{0,5}"],
    )
        .prop_map(|(s, h, p, t)| format!("{s}://{h}{p}{t}"))
}

#[test]
fn grants_in_a_config_never_panic_the_parser() {
    fuzz(
        "config-grants",
        256,
        (grant_like(), grant_like(), ".{0,8}"),
        |(http, socket, method)| {
            parse_config(&format!(
                "[[worker]]\ntask_queue = \"Q\"\n[[worker.activities]]\nmodule = \"a.wasm\"\n\
             http = [{http:?}, {{ url = {http:?}, methods = [{method:?}] }}]\nsockets = [{socket:?}]\n"
            ));
            Ok(())
        },
    );
}

// --- grant matching ----------------------------------------------------

#[test]
fn parsed_grants_print_and_read_back_the_same() {
    fuzz("grant-roundtrip", 2048, grant_like(), |text| {
        if let Ok(grant) = parse_origin(&text) {
            let again = parse_origin(&grant.origin());
            prop_assert_eq!(
                again.as_ref(),
                Ok(&grant),
                "{} printed as {}",
                text,
                grant.origin()
            );
            // The canonical host is a fixed point.
            prop_assert_eq!(
                canonical_host(&grant.host.clone())
                    .ok()
                    .or_else(|| canonical_host(&format!("[{}]", grant.host)).ok()),
                Some(grant.host.clone())
            );
        }
        if let Ok(grant) = parse_socket(&text) {
            prop_assert_eq!(parse_socket(&grant.address()), Ok(grant));
        }
        Ok(())
    });
}

/// Hosts drawn from a small set, in many spellings, so that a grant and a
/// request often name the same host, and often nearly the same.
fn request_host() -> impl Strategy<Value = String> {
    let base = prop::sample::select(vec![
        "example.com",
        "example.com.evil",
        "evil.example.com",
        "localhost",
        "127.0.0.1",
        "127.0.0.2",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[0:0:0:0:0:0:0:1]",
        "169.254.169.254",
        "[fd00:ec2::254]",
    ]);
    (
        base,
        any::<bool>(),
        any::<bool>(),
        prop::option::of("[a-z]{1,4}(:[a-z]{0,3})?@"),
    )
        .prop_map(|(host, upper, dot, user)| {
            let mut host = if upper {
                host.to_ascii_uppercase()
            } else {
                host.to_owned()
            };
            if dot && !host.ends_with(']') {
                host.push('.');
            }
            format!("{}{host}", user.unwrap_or_default())
        })
}

#[test]
fn a_grant_never_matches_an_origin_it_does_not_name() {
    let port = prop_oneof![Just(None), (79u16..82).prop_map(Some), Just(Some(443))];
    let strategy = (
        prop::sample::select(vec!["http", "https", "HTTP"]),
        request_host(),
        port.clone(),
        prop::sample::select(vec!["http", "https", "HTTPS"]),
        request_host(),
        port,
        prop::sample::select(vec!["GET", "get", "POST"]),
    );
    fuzz(
        "grant-matching",
        2048,
        strategy,
        |(gs, gh, gp, rs, rh, rp, method)| {
            let gh = gh.rsplit('@').next().unwrap_or_default().to_owned();
            let port = |p: Option<u16>| p.map(|p| format!(":{p}")).unwrap_or_default();
            let Ok(grant) = parse_origin(&format!("{gs}://{gh}{}", port(gp))) else {
                return Ok(());
            };
            let url = format!("{rs}://{rh}{}/path?q=1", port(rp));
            let Ok(uri) = url.parse::<http::Uri>() else {
                return Ok(());
            };
            let Some(target) = Target::of(&uri) else {
                return Ok(());
            };
            if grant.allows(&target.scheme, &target.host, target.port, method) {
                // What the request names, independently of the code under test.
                let authority = uri.authority().expect("authority");
                let named_host = authority.host().trim_end_matches('.').to_ascii_lowercase();
                let named_host = named_host.trim_matches(['[', ']']);
                let granted_host = gh.trim_end_matches('.').to_ascii_lowercase();
                let granted_host = granted_host.trim_matches(['[', ']']);
                let same_host = named_host == granted_host
                    || matches!((named_host.parse::<IpAddr>(), granted_host.parse::<IpAddr>()), (Ok(a), Ok(b)) if a == b);
                prop_assert!(same_host, "{} allowed {}", grant, url);
                prop_assert_eq!(
                    rs.to_ascii_lowercase(),
                    gs.to_ascii_lowercase(),
                    "{} allowed {}",
                    grant,
                    url
                );
                let default = if rs.eq_ignore_ascii_case("https") {
                    443
                } else {
                    80
                };
                prop_assert_eq!(
                    rp.unwrap_or(default),
                    gp.unwrap_or(default),
                    "{} allowed {}",
                    grant,
                    url
                );
                prop_assert!(grant.methods.is_none() || method == "GET" || method == "POST");
            }
            Ok(())
        },
    );
}

#[test]
fn names_never_reach_restricted_addresses_unless_granted() {
    let ip = prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u8; 16]>().prop_map(IpAddr::from),
        prop::sample::select(vec![
            "127.0.0.1",
            "::1",
            "169.254.169.254",
            "fd00:ec2::254",
            "fe80::1",
            "0.0.0.0",
            "::ffff:127.0.0.1",
        ])
        .prop_map(|s| s.parse::<IpAddr>().expect("ip")),
    ];
    fuzz(
        "grant-resolved-address",
        2048,
        (ip, any::<bool>()),
        |(ip, localhost)| {
            let name = if localhost {
                "localhost"
            } else {
                "api.example.com"
            };
            let grants = [parse_origin(&format!("http://{name}:8080")).expect("grant")];
            let target =
                Target::of(&format!("http://{name}:8080/").parse().expect("uri")).expect("target");
            if address_allowed(&grants, &target, "GET", ip) && restricted(ip) {
                prop_assert!(
                    localhost && ip.to_canonical().is_loopback(),
                    "{} reached {}",
                    name,
                    ip
                );
            }
            Ok(())
        },
    );
}

#[test]
fn socket_grants_never_match_another_address() {
    let strategy = (
        grant_like(),
        any::<bool>(),
        any::<[u8; 4]>(),
        any::<u16>(),
        any::<bool>(),
    );
    fuzz(
        "grant-sockets",
        2048,
        strategy,
        |(text, tcp, ip, port, mapped)| {
            let Ok(grant) = parse_socket(&text) else {
                return Ok(());
            };
            let v4 = std::net::Ipv4Addr::from(ip);
            let addr_ip = if mapped {
                IpAddr::V6(v4.to_ipv6_mapped())
            } else {
                IpAddr::V4(v4)
            };
            let addr = SocketAddr::new(addr_ip, port);
            if grant.allows(tcp, addr) {
                prop_assert_eq!(grant.tcp, tcp);
                prop_assert_eq!(grant.ip.to_canonical(), IpAddr::V4(v4));
                prop_assert!(grant.port.is_none_or(|p| p == port));
            }
            // And exactly its own address is allowed.
            if let Some(p) = grant.port {
                prop_assert!(grant.allows(grant.tcp, SocketAddr::new(grant.ip, p)));
            }
            Ok(())
        },
    );
}

#[test]
fn normalised_paths_never_climb_out() {
    let segment = prop::sample::select(vec!["..", ".", "a", "b", "", "/", "c/..", "../.."]);
    fuzz(
        "grant-paths",
        2048,
        prop::collection::vec(segment, 0..10),
        |segments| {
            let path: PathBuf = segments.iter().collect();
            let base = Path::new("/srv/weft");
            let out = weft::config::normalise(base, &path);
            prop_assert!(
                !out.components()
                    .any(|c| matches!(c, Component::ParentDir | Component::CurDir)),
                "{:?} -> {:?}",
                path,
                out
            );
            prop_assert!(out.is_absolute());
            Ok(())
        },
    );
}

// --- payloads and failures ---------------------------------------------

fn wit_payload() -> impl Strategy<Value = weft::bindings::types::Payload> {
    (
        prop::collection::btree_map(".{0,12}", prop::collection::vec(any::<u8>(), 0..16), 0..4),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(metadata, data)| weft::bindings::types::Payload {
            metadata: metadata.into_iter().collect(),
            data,
        })
}

#[test]
fn failures_convert_to_temporal_and_back_unchanged() {
    let failure = (
        ".{0,40}",
        ".{0,40}",
        any::<bool>(),
        prop::collection::vec(wit_payload(), 0..4),
    );
    fuzz(
        "payload-failure-roundtrip",
        512,
        failure,
        |(message, error_type, non_retryable, details)| {
            let failure = weft::bindings::types::Failure {
                message,
                error_type,
                non_retryable,
                details,
            };
            let back =
                weft::payload::failure_to_wit(weft::payload::failure_from_wit(failure.clone()));
            prop_assert_eq!(back.message, failure.message);
            prop_assert_eq!(back.error_type, failure.error_type);
            prop_assert_eq!(back.non_retryable, failure.non_retryable);
            prop_assert_eq!(back.details, failure.details);
            Ok(())
        },
    );
}

#[test]
fn payloads_convert_to_temporal_and_back_unchanged() {
    fuzz("payload-roundtrip", 512, wit_payload(), |payload| {
        prop_assert_eq!(
            weft::payload::to_wit(weft::payload::from_wit(payload.clone())),
            payload
        );
        Ok(())
    });
}

#[test]
fn failure_conversion_never_panics_on_any_failure_temporal_sends() {
    use prost::Message;
    fuzz(
        "payload-failure-bytes",
        1024,
        prop::collection::vec(any::<u8>(), 0..512),
        |bytes| {
            if let Ok(failure) = weft::temporal::proto::Failure::decode(bytes.as_slice()) {
                let _ = weft::payload::failure_to_wit(failure);
            }
            Ok(())
        },
    );
}

// --- history JSON for `weft replay` ------------------------------------

#[test]
fn history_json_never_panics_on_arbitrary_bytes() {
    fuzz(
        "history-bytes",
        512,
        prop::collection::vec(any::<u8>(), 0..512),
        |bytes| {
            let _ = weft::temporal::Recorded::from_json(&bytes, "fuzz");
            Ok(())
        },
    );
}

#[test]
fn history_json_never_panics_on_mutated_histories() {
    let seed = repo_file("tests/histories/order-workflow.json");
    fuzz("history-mutated", 256, mutated(seed), |bytes| {
        let _ = weft::temporal::Recorded::from_json(&bytes, "fuzz");
        Ok(())
    });
}

// --- the admin API -----------------------------------------------------

/// The wire form of every admin request, as tonic decodes it before a
/// handler runs. (`admin_handlers_refuse_arbitrary_requests_cleanly`
/// drives the handlers themselves.)
#[test]
fn admin_requests_decode_without_panicking() {
    use prost::Message;
    use weft::admin::proto::{
        DeployRequest, InspectModuleRequest, ListModulesRequest, SetCurrentRequest, UndeployRequest,
    };
    fuzz(
        "admin-requests",
        1024,
        prop::collection::vec(any::<u8>(), 0..256),
        |bytes| {
            let bytes = bytes.as_slice();
            let _ = DeployRequest::decode(bytes);
            let _ = InspectModuleRequest::decode(bytes);
            let _ = ListModulesRequest::decode(bytes);
            let _ = SetCurrentRequest::decode(bytes);
            let _ = UndeployRequest::decode(bytes);
            Ok(())
        },
    );
}

/// One admin call, with arguments drawn from small pools (so that calls
/// meet the names and versions earlier calls made) and arbitrary text.
#[derive(Debug, Clone)]
enum AdminCall {
    /// A well-framed upload: a header, then the body in chunks.
    Deploy {
        name: String,
        task_queue: String,
        grants: String,
        body: Vec<u8>,
        /// The size the header announces: the body's, or another.
        size: Option<u64>,
        /// The digest the header announces: none (`None`), the body's
        /// (`Some("")`), or this text.
        digest: Option<String>,
        chunk: usize,
        keep_current: bool,
        force: bool,
    },
    /// An upload stream of any shape: headers and chunks in any order.
    RawDeploy(Vec<Option<weft::admin::proto::deploy_request::Part>>),
    List,
    Inspect {
        name: String,
        digest: String,
    },
    SetCurrent {
        name: String,
        digest: String,
        force: bool,
    },
    Undeploy {
        name: String,
        digest: String,
        force: bool,
    },
}

/// The WAT guests of tests/guests/hostile-limits: valid components small
/// enough to compile in milliseconds.
fn tiny_components() -> [Vec<u8>; 2] {
    [
        guest(weft_test_guests::HOSTILE_LIMITS_WORKFLOW),
        guest(weft_test_guests::HOSTILE_LIMITS_ACTIVITY),
    ]
}

fn admin_call(components: [Vec<u8>; 2]) -> impl Strategy<Value = AdminCall> {
    use weft::admin::proto::{DeployHeader, deploy_request::Part};
    let digests: Vec<String> = components
        .iter()
        .map(|c| weft::store::Digest::of(c).to_string())
        .collect();
    let name = prop_oneof![
        4 => prop::sample::select(vec!["wf", "act", "x"]).prop_map(String::from),
        1 => ".{0,12}",
    ];
    let digest = prop_oneof![
        2 => Just(String::new()),
        3 => prop::sample::select(digests),
        1 => "[0-9a-f]{64}".prop_map(|hex| format!("sha256:{hex}")),
        1 => ".{0,20}",
    ];
    let grants = prop_oneof![
        4 => Just(String::new()),
        1 => Just("env = [\"CURRENCY\"]".to_owned()),
        1 => Just("memory_mib = 4096".to_owned()),
        1 => Just("[[secrets]]\nname = \"X\"\nfrom_file = \"/etc/passwd\"".to_owned()),
        1 => ".{0,40}",
    ];
    let [workflow, activity] = components;
    // A valid component, the same with a custom section appended (a
    // distinct valid version), a mutated one, or arbitrary bytes.
    let body = prop_oneof![
        3 => prop::sample::select(vec![workflow.clone(), activity.clone()]),
        2 => (
            prop::sample::select(vec![workflow.clone(), activity.clone()]),
            any::<u8>()
        )
            .prop_map(|(mut bytes, tag)| {
                bytes.extend_from_slice(&[0, 6, 5, b'f', b'u', b'z', b'z', tag]);
                bytes
            }),
        2 => mutated(workflow).boxed(),
        1 => mutated(activity).boxed(),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ];
    let header = (name.clone(), ".{0,8}", any::<u64>(), digest.clone()).prop_map(
        |(name, task_queue, size, digest)| {
            Part::Header(DeployHeader {
                name,
                task_queue,
                size: size % 4096,
                digest,
                ..DeployHeader::default()
            })
        },
    );
    let part = prop_oneof![
        Just(None),
        header.prop_map(Some),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|c| Some(Part::Chunk(c))),
    ];
    prop_oneof![
        6 => (
            (name.clone(), prop_oneof![Just(String::new()), ".{0,8}"], grants, body),
            (
                prop::option::weighted(0.2, 0..(4u64 << 20)),
                prop::option::weighted(0.3, digest.clone()),
                1..8192usize,
                any::<bool>(),
                any::<bool>()
            ),
        )
            .prop_map(
                |((name, task_queue, grants, body), (size, digest, chunk, keep_current, force))| {
                    AdminCall::Deploy {
                        name,
                        task_queue,
                        grants,
                        body,
                        size,
                        digest,
                        chunk,
                        keep_current,
                        force,
                    }
                }
            ),
        1 => prop::collection::vec(part, 0..4).prop_map(AdminCall::RawDeploy),
        1 => Just(AdminCall::List),
        2 => (name.clone(), digest.clone())
            .prop_map(|(name, digest)| AdminCall::Inspect { name, digest }),
        2 => (name.clone(), digest.clone(), any::<bool>())
            .prop_map(|(name, digest, force)| AdminCall::SetCurrent { name, digest, force }),
        2 => (name, digest, any::<bool>())
            .prop_map(|(name, digest, force)| AdminCall::Undeploy { name, digest, force }),
    ]
}

/// A host's admin API over a module store in a fresh directory, without
/// Temporal (no replay gate, no pinned runs to count), and a client of it.
struct AdminHost {
    runtime: tokio::runtime::Runtime,
    client: weft::admin::proto::admin_client::AdminClient<tonic::transport::Channel>,
    _server: weft::admin::AdminServer,
    dir: PathBuf,
}

impl Drop for AdminHost {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn admin_host() -> AdminHost {
    let dir = std::env::temp_dir().join(format!("weft-fuzz-admin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let socket = dir.join("admin.sock");
    let text = format!(
        "[store]\ndir = \"store\"\n[admin]\nlisten = \"unix:{}\"\nmax_upload_mib = 1\n\
         [allow]\nenv = [\"CURRENCY\"]\nmemory_mib = 64\n\
         [[worker]]\ntask_queue = \"FUZZ_Q\"\n",
        socket.display()
    );
    let config = Config::parse(&text, &dir.join("weft.toml"), &dir, &Overrides::default())
        .expect("the fuzz host's config");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (server, client) = runtime.block_on(async {
        let catalog = weft::serve::load(&config).await.expect("catalog");
        let admin = config.admin.as_ref().expect("[admin]");
        let ready = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let server = weft::admin::AdminServer::start(admin, catalog, ready)
            .await
            .expect("admin API");
        let channel = tonic::transport::Endpoint::from_static("http://weft.admin")
            .connect_with_connector(tower::service_fn(move |_| {
                let socket = socket.clone();
                async move {
                    let stream = tokio::net::UnixStream::connect(socket).await?;
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
                }
            }))
            .await
            .expect("connect to the admin socket");
        let client = weft::admin::proto::admin_client::AdminClient::new(channel)
            .max_decoding_message_size(16 << 20);
        (server, client)
    });
    AdminHost {
        runtime,
        client,
        _server: server,
        dir,
    }
}

/// A refusal is well formed when its code says which kind of refusal it is
/// (not the codes a panic, a dropped connection or a bug would give) and
/// its message says why.
fn well_formed_refusal(call: &AdminCall, status: &tonic::Status) -> Result<(), TestCaseError> {
    use tonic::Code;
    prop_assert!(
        matches!(
            status.code(),
            Code::InvalidArgument
                | Code::NotFound
                | Code::AlreadyExists
                | Code::FailedPrecondition
                | Code::ResourceExhausted
        ),
        "{call:?} was refused with {:?}: {}",
        status.code(),
        status.message()
    );
    prop_assert!(
        !status.message().trim().is_empty(),
        "{call:?}: a refusal without a reason"
    );
    Ok(())
}

/// The admin handlers (upload, list, inspect, make current, remove) on
/// arbitrary calls in arbitrary order: each answers with a result or a
/// well-formed refusal, the API keeps answering (no handler panicked), and
/// what it lists stays consistent (each name's current version is one of
/// its versions).
#[test]
fn admin_handlers_refuse_arbitrary_requests_cleanly() {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use weft::admin::proto::{
        DeployHeader, DeployRequest, InspectModuleRequest, ListModulesRequest, SetCurrentRequest,
        UndeployRequest, deploy_request::Part,
    };
    let host = admin_host();
    let (runtime, client) = (&host.runtime, &host.client);
    // Calls answered with a result, and uploads among them: random calls
    // that were all refused would test the refusals only.
    let (accepted, deployed, refused) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    fuzz(
        "admin-handlers",
        128,
        prop::collection::vec(admin_call(tiny_components()), 1..6),
        |calls| {
            runtime.block_on(async {
                for call in &calls {
                    let mut client = client.clone();
                    let answer = match call.clone() {
                        AdminCall::Deploy {
                            name,
                            task_queue,
                            grants,
                            body,
                            size,
                            digest,
                            chunk,
                            keep_current,
                            force,
                        } => {
                            let header = Part::Header(DeployHeader {
                                name,
                                task_queue,
                                grants,
                                size: size.unwrap_or(body.len() as u64),
                                digest: match digest {
                                    Some(d) if d.is_empty() => {
                                        weft::store::Digest::of(&body).to_string()
                                    }
                                    other => other.unwrap_or_default(),
                                },
                                keep_current,
                                force,
                            });
                            let parts = std::iter::once(header)
                                .chain(body.chunks(chunk).map(|c| Part::Chunk(c.to_vec())));
                            let messages: Vec<DeployRequest> =
                                parts.map(|p| DeployRequest { part: Some(p) }).collect();
                            client.deploy(tokio_stream::iter(messages)).await.map(|r| {
                                let digest = r.into_inner().digest;
                                assert!(
                                    weft::store::Digest::try_from(digest.clone()).is_ok(),
                                    "{call:?} deployed as `{digest}`"
                                );
                                deployed.fetch_add(1, Relaxed);
                            })
                        }
                        AdminCall::RawDeploy(parts) => {
                            let messages: Vec<DeployRequest> = parts
                                .into_iter()
                                .map(|part| DeployRequest { part })
                                .collect();
                            client.deploy(tokio_stream::iter(messages)).await.map(drop)
                        }
                        AdminCall::List => {
                            client.list_modules(ListModulesRequest {}).await.map(drop)
                        }
                        AdminCall::Inspect { name, digest } => client
                            .inspect_module(InspectModuleRequest { name, digest })
                            .await
                            .map(drop),
                        AdminCall::SetCurrent {
                            name,
                            digest,
                            force,
                        } => client
                            .set_current(SetCurrentRequest {
                                name,
                                digest,
                                force,
                            })
                            .await
                            .map(drop),
                        AdminCall::Undeploy {
                            name,
                            digest,
                            force,
                        } => client
                            .undeploy(UndeployRequest {
                                name,
                                digest,
                                force,
                            })
                            .await
                            .map(drop),
                    };
                    match answer {
                        Ok(()) => accepted.fetch_add(1, Relaxed),
                        Err(status) => {
                            well_formed_refusal(call, &status)?;
                            refused.fetch_add(1, Relaxed)
                        }
                    };
                }
                let listed = client
                    .clone()
                    .list_modules(ListModulesRequest {})
                    .await
                    .map_err(|s| TestCaseError::fail(format!("the API stopped answering: {s}")))?
                    .into_inner();
                for name in listed.names {
                    let current = name.versions.iter().filter(|v| v.current).count();
                    prop_assert!(
                        current <= 1 && !name.versions.is_empty(),
                        "`{}`: {} versions, {current} current",
                        name.name,
                        name.versions.len()
                    );
                }
                Ok(())
            })
        },
    );
    let (accepted, deployed, refused) = (
        accepted.into_inner(),
        deployed.into_inner(),
        refused.into_inner(),
    );
    eprintln!("admin calls: {accepted} answered ({deployed} uploads), {refused} refused");
    assert!(
        deployed > 0 && refused > 0,
        "the calls reach both results and refusals"
    );
}
