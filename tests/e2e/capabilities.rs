//! Activity capabilities (docs/capabilities.md): every case in
//! tests/denied/ fails inside the guest and leaves the host serving; granted
//! HTTP (by origin and method), secrets, TCP and UDP sockets and output
//! work; a writable dir's `max_bytes` quota holds; the operator's `[allow]` list
//! bounds grants at start; `weft inspect` tells what a module needs.

use crate::harness::{
    Client, DEADLINE, Outcome, Weft, poll, repo, scratch, wait_for, wasm, weft_cli,
};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Body every response of the test HTTP server carries.
const HTTP_BODY: &str = "hello from the test server";

/// A tiny HTTP/1.1 server on loopback: answers every request with 200 and
/// [`HTTP_BODY`], and records each request's head (request line and headers).
struct HttpServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl HttpServer {
    fn start() -> HttpServer {
        let ok = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{HTTP_BODY}",
            HTTP_BODY.len()
        );
        HttpServer::start_with("127.0.0.1:0", ok)
    }

    /// A server on `addr` that answers every request with `response` (the
    /// whole HTTP/1.1 response, head and body).
    fn start_with(addr: &str, response: String) -> HttpServer {
        let listener = TcpListener::bind(addr).expect("bind the test HTTP server");
        let port = listener.local_addr().expect("its address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                seen.lock()
                    .expect("requests")
                    .push(String::from_utf8_lossy(&head).into_owned());
                let _ = stream.write_all(response.as_bytes());
                let _ = stream.flush();
            }
        });
        HttpServer { port, requests }
    }

    /// `http://127.0.0.1:PORT`.
    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Heads of the requests received so far.
    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }

    /// The head of the GET request for `path`, if one arrived.
    fn request_for(&self, path: &str) -> Option<String> {
        self.request_to("GET", path)
    }

    /// The head of the `method` request for `path`, if one arrived.
    fn request_to(&self, method: &str, path: &str) -> Option<String> {
        let line = format!("{method} {path} HTTP/1.1\r\n");
        self.requests().into_iter().find(|r| r.starts_with(&line))
    }
}

/// A TCP echo server on loopback: reads a line, writes it back, records it.
struct EchoServer {
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl EchoServer {
    fn start() -> EchoServer {
        EchoServer::start_on("127.0.0.1:0")
    }

    /// An echo server on `addr`.
    fn start_on(addr: &str) -> EchoServer {
        let listener = TcpListener::bind(addr).expect("bind the echo server");
        let port = listener.local_addr().expect("its address").port();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let seen = lines.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut line = String::new();
                if BufReader::new(&stream).read_line(&mut line).is_err() {
                    continue;
                }
                seen.lock().expect("lines").push(line.trim_end().to_owned());
                let _ = (&stream).write_all(line.as_bytes());
            }
        });
        EchoServer { port, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }
}

/// A UDP socket on loopback that records every datagram it receives.
struct UdpSink {
    port: u16,
    datagrams: Arc<Mutex<Vec<String>>>,
}

impl UdpSink {
    fn start() -> UdpSink {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the UDP sink");
        let port = socket.local_addr().expect("its address").port();
        let datagrams = Arc::new(Mutex::new(Vec::new()));
        let seen = datagrams.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while let Ok((n, _)) = socket.recv_from(&mut buf) {
                seen.lock()
                    .expect("datagrams")
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        });
        UdpSink { port, datagrams }
    }

    fn datagrams(&self) -> Vec<String> {
        self.datagrams.lock().expect("datagrams").clone()
    }
}

/// A config entry: `[[worker]]` on `task_queue` with the sandbox module and
/// `grants` (TOML key lines), optionally also running the test workflows.
fn worker(task_queue: &str, workflows: bool, grants: &str) -> String {
    let workflows = if workflows {
        format!("workflows = [{:?}]\n", wasm("test_workflows"))
    } else {
        String::new()
    };
    format!(
        "[[worker]]\ntask_queue = {task_queue:?}\n{workflows}\
         [[worker.activities]]\nmodule = {:?}\n{grants}\n",
        wasm("sandbox_activities")
    )
}

/// `RunActivity` input for the sandbox module.
fn run(task_queue: &str, activity_type: &str, args: Value) -> Value {
    json!({
        "activity_type": activity_type,
        "task_queue": task_queue,
        "args": [args],
        "start_to_close_ms": 10_000,
        "retry": { "maximum_attempts": 1 },
    })
}

/// Run `input` to its end and return how the workflow ended.
async fn outcome_of(client: &Client, id: &str, queue: &str, input: &Value) -> Outcome {
    client
        .start(id, "RunActivity", queue, std::slice::from_ref(input))
        .await;
    client.outcome(id).await
}

/// The failure of a workflow that must fail.
fn failed(id: &str, outcome: Outcome) -> (String, String) {
    match outcome {
        Outcome::Failed {
            message,
            error_type,
        } => (message, error_type),
        other => panic!("{id} must fail, got {other:?}"),
    }
}

/// `expected.txt` of a denied case.
#[derive(Debug, Default)]
struct Expected {
    /// The error types the failure may have (any, if empty).
    error_types: Vec<String>,
    /// Each entry: substrings one line of the host log must all contain.
    log: Vec<Vec<String>>,
    message: String,
}

fn parse_expected(text: &str) -> Expected {
    let mut expected = Expected::default();
    let mut message = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(t) = line.strip_prefix("type:") {
            expected.error_types = t.split('|').map(|t| t.trim().to_owned()).collect();
        } else if let Some(l) = line.strip_prefix("log:") {
            expected
                .log
                .push(l.split(" && ").map(|p| p.trim().to_owned()).collect());
        } else {
            message.push(line);
        }
    }
    expected.message = message.join("\n");
    expected
}

/// Text log without its ANSI colour codes.
fn plain(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // ESC [ params letter
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Wait until the host has logged a warning line containing every one of
/// `needles` (a denial names the activity: workflow id, attempt).
fn wait_for_warning(weft: &Weft, needles: &[&str]) {
    wait_for(&format!("a host warning with {needles:?}"), || {
        plain(&weft.log_text())
            .lines()
            .any(|l| l.contains("WARN") && needles.iter().all(|n| l.contains(n)))
            .then_some(())
    });
}

/// Copy a directory tree; symlinks are copied as links (the symlink cases
/// need them as they are).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_symlink() {
            let link = std::fs::read_link(entry.path()).expect("read link");
            let _ = std::fs::remove_file(&target);
            std::os::unix::fs::symlink(link, &target).expect("copy symlink");
        } else if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// A case's `grants.toml` as key lines for `[[worker.activities]]`, with
/// relative `dirs[].host` made absolute under `case_dir`.
fn grant_lines(grants: &str, case_dir: &Path) -> String {
    let mut table: toml::Table = toml::from_str(grants)
        .unwrap_or_else(|e| panic!("{}: bad grants.toml: {e}", case_dir.display()));
    if let Some(toml::Value::Array(dirs)) = table.get_mut("dirs") {
        for dir in dirs {
            if let Some(toml::Value::String(host)) = dir.get_mut("host")
                && Path::new(host.as_str()).is_relative()
            {
                *host = case_dir.join(&*host).display().to_string();
            }
        }
    }
    table
        .iter()
        .map(|(key, value)| format!("{key} = {value}\n"))
        .collect()
}

/// One denied case, ready to run.
struct Case {
    name: String,
    dir: PathBuf,
    queue: String,
    grants: String,
    action: Value,
    expected: Expected,
}

/// Every folder of tests/denied, copied under `scratch` with the ports
/// filled in.
fn denied_cases(scratch: &Path, http: &HttpServer, echo: &EchoServer) -> Vec<Case> {
    let root = repo().join("tests/denied");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .expect("tests/denied")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let fill = |text: String| {
        text.replace("{HTTP_PORT}", &http.port.to_string())
            .replace("{ECHO_PORT}", &echo.port.to_string())
    };
    names
        .into_iter()
        .map(|name| {
            let dir = scratch.join("cases").join(&name);
            copy_dir(&root.join(&name), &dir);
            let read = |file: &str| {
                fill(
                    std::fs::read_to_string(dir.join(file))
                        .unwrap_or_else(|e| panic!("tests/denied/{name}/{file}: {e}")),
                )
            };
            let queue = format!("DENIED_{}", name.replace('-', "_").to_uppercase());
            let mut action: Value = serde_json::from_str(&read("action.json"))
                .unwrap_or_else(|e| panic!("tests/denied/{name}/action.json: {e}"));
            action["task_queue"] = json!(queue);
            Case {
                grants: grant_lines(&read("grants.toml"), &dir),
                expected: parse_expected(&read("expected.txt")),
                name,
                dir,
                queue,
                action,
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_cases_fail_and_the_host_goes_on() {
    let dir = scratch("capabilities-denied");
    let http = HttpServer::start();
    let echo = EchoServer::start();
    let cases = denied_cases(&dir, &http, &echo);
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    for required in [
        "file-outside-preopen",
        "write-read-only-dir",
        "http-host-not-allowed",
        "socket-when-off",
        "env-not-granted",
        "memory-over-limit",
        "runaway-loop",
    ] {
        assert!(
            names.contains(&required),
            "tests/denied/{required} is missing"
        );
    }
    // One host: the test workflows on CAPS_Q, and each case's grants on a
    // worker of its own task queue.
    let mut config = worker("CAPS_Q", true, "");
    for case in &cases {
        config.push_str(&worker(&case.queue, false, &case.grants));
    }
    let mut weft = Weft::serve(&dir, "weft", "e2e-caps-denied", &config);
    let client = Client::new("e2e-caps-denied").await;

    // Every case runs even when an earlier one is wrong; all that is wrong
    // is reported at the end.
    let mut problems = Vec::new();
    for case in &cases {
        let mut problem = |what: String| problems.push(format!("{}: {what}", case.name));
        let id = format!("denied-{}", case.name);
        let (message, error_type) =
            failed(&id, outcome_of(&client, &id, "CAPS_Q", &case.action).await);
        eprintln!("denied case {}: {error_type}: {message}", case.name);
        let types = &case.expected.error_types;
        if !types.is_empty() && !types.contains(&error_type) {
            problem(format!(
                "error type {error_type:?}, expected one of {types:?} ({message})"
            ));
        }
        if !message.contains(&case.expected.message) {
            problem(format!(
                "the failure must say {:?}, got {message:?}",
                case.expected.message
            ));
        }
        for parts in &case.expected.log {
            // Written when the guest is denied, before its failure reaches
            // Temporal: the wait only covers the log's flush.
            let found = poll(DEADLINE, || {
                plain(&weft.log_text())
                    .lines()
                    .any(|l| parts.iter().all(|p| l.contains(p.as_str())))
                    .then_some(())
            });
            if found.is_none() {
                problem(format!("no line of the host log has all of {parts:?}"));
            }
        }
        // What the denial must not have let through.
        let leaked = match case.name.as_str() {
            "file-outside-preopen" => message.contains("not granted"),
            "write-read-only-dir" => case.dir.join("static/new.txt").exists(),
            "http-host-not-allowed" => http.request_for("/denied").is_some(),
            "socket-when-off" => echo.lines().iter().any(|l| l == "must not arrive"),
            _ => false,
        };
        if leaked {
            problem("the denied access went through".into());
        }

        // The host goes on, and the same module with the same grants serves
        // a normal activity.
        assert!(weft.is_running(), "{}: the host must go on", case.name);
        let after = format!("after-{}", case.name);
        let normal = json!({"activity_type": "Wait", "task_queue": case.queue, "args": [0]});
        assert_eq!(
            outcome_of(&client, &after, "CAPS_Q", &normal).await,
            Outcome::Completed(json!({"waited_ms": 0})),
            "{}: a normal activity after the denied one",
            case.name
        );
    }
    assert!(
        problems.is_empty(),
        "denied cases not as expected:\n{}",
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http_reaches_a_granted_origin_only() {
    let dir = scratch("capabilities-http");
    let http = HttpServer::start();
    let config = format!(
        "{}{}{}",
        worker("HTTP_Q", true, &format!("http = [{:?}]\n", http.origin())),
        worker("NO_HTTP_Q", false, ""),
        worker(
            "GET_ONLY_Q",
            false,
            &format!(
                "http = [{{ url = {:?}, methods = [\"GET\"] }}]\n",
                http.origin()
            )
        ),
    );
    let weft = Weft::serve(&dir, "weft", "e2e-caps-http", &config);
    let client = Client::new("e2e-caps-http").await;

    let get = |queue: &str, path: &str| {
        run(
            queue,
            "HttpGet",
            json!({"url": format!("{}{path}", http.origin())}),
        )
    };
    assert_eq!(
        outcome_of(
            &client,
            "http-granted",
            "HTTP_Q",
            &get("HTTP_Q", "/granted")
        )
        .await,
        Outcome::Completed(json!({"status": 200, "body": HTTP_BODY}))
    );
    assert!(
        http.request_for("/granted").is_some(),
        "the server saw the request: {:?}",
        http.requests()
    );

    let (message, error_type) = failed(
        "http-not-granted",
        outcome_of(
            &client,
            "http-not-granted",
            "HTTP_Q",
            &get("NO_HTTP_Q", "/not-granted"),
        )
        .await,
    );
    assert_eq!(error_type, "HttpError", "{message}");
    assert!(message.contains("HttpRequestDenied"), "{message}");
    assert_eq!(http.request_for("/not-granted"), None, "denied, not sent");

    // Methods: an origin granted for GET only takes a GET and refuses a
    // POST before it leaves; where every method is granted, the same POST
    // goes through (so the refusal is the grant's, not the guest's).
    let request = |queue: &str, method: &str, path: &str| {
        run(
            queue,
            "HttpRequest",
            json!({"url": format!("{}{path}", http.origin()), "method": method}),
        )
    };
    let ok = Outcome::Completed(json!({"status": 200, "body": HTTP_BODY}));
    let get_only = request("GET_ONLY_Q", "GET", "/get-only");
    assert_eq!(
        outcome_of(&client, "http-get-only-get", "HTTP_Q", &get_only).await,
        ok
    );
    assert!(
        http.request_for("/get-only").is_some(),
        "{:?}",
        http.requests()
    );
    let post = request("GET_ONLY_Q", "POST", "/post-refused");
    let (message, error_type) = failed(
        "http-get-only-post",
        outcome_of(&client, "http-get-only-post", "HTTP_Q", &post).await,
    );
    assert_eq!(error_type, "HttpError", "{message}");
    assert!(message.contains("HttpRequestDenied"), "{message}");
    wait_for_warning(
        &weft,
        &[
            &format!("denied HTTP POST {}", http.origin()),
            "workflow_id=http-get-only-post",
            "attempt=1",
        ],
    );
    assert!(
        !http.requests().iter().any(|r| r.contains("/post-refused")),
        "denied, not sent: {:?}",
        http.requests()
    );
    let post = request("HTTP_Q", "POST", "/post-granted");
    assert_eq!(
        outcome_of(&client, "http-any-method-post", "HTTP_Q", &post).await,
        ok
    );
    assert!(
        http.request_to("POST", "/post-granted").is_some(),
        "{:?}",
        http.requests()
    );
}

/// A name the system resolver maps to a loopback address that is not
/// `localhost` itself (Debian's /etc/hosts maps the machine's own name to
/// 127.0.0.1 or 127.0.1.1): a stand-in for a public name whose DNS answers
/// with a loopback address.
fn loopback_alias() -> String {
    let hosts = std::fs::read_to_string("/etc/hosts").expect("read /etc/hosts");
    hosts
        .lines()
        .filter_map(|l| {
            let mut words = l.split('#').next()?.split_whitespace();
            let ip: std::net::IpAddr = words.next()?.parse().ok()?;
            ip.is_loopback().then_some(words)
        })
        .flatten()
        .find(|name| {
            !name.starts_with("localhost")
                && !name.starts_with("ip6-")
                && name.contains(|c: char| c.is_ascii_alphabetic())
        })
        .map(str::to_owned)
        .expect("/etc/hosts maps a name other than localhost to a loopback address")
}

#[tokio::test(flavor = "multi_thread")]
async fn http_policy_holds_against_redirects_ipv6_and_names_that_resolve_to_loopback() {
    let dir = scratch("capabilities-http-policy");
    // The ungranted origin a redirect points at.
    let target = HttpServer::start();
    let redirect = HttpServer::start_with(
        "127.0.0.1:0",
        format!(
            "HTTP/1.1 302 Found\r\nlocation: {}/followed\r\ncontent-length: 0\r\n\
             connection: close\r\n\r\n",
            target.origin()
        ),
    );
    let ok = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{HTTP_BODY}",
        HTTP_BODY.len()
    );
    let v6 = HttpServer::start_with("[::1]:0", ok);
    // Two echo servers on the same port, one per family: a grant of the
    // IPv6 one must not reach the IPv4 one.
    let echo4 = EchoServer::start();
    let echo6 = EchoServer::start_on(&format!("[::1]:{}", echo4.port));
    let alias = loopback_alias();
    let port = target.port;
    let config = format!(
        "{}{}{}{}{}",
        worker(
            "REDIRECT_Q",
            true,
            &format!("http = [{:?}]\n", redirect.origin())
        ),
        worker(
            "V6_Q",
            false,
            &format!(
                "http = [\"http://[::1]:{}\"]\nsockets = [\"tcp://[::1]:{}\"]\n",
                v6.port, echo6.port
            )
        ),
        worker(
            "NAME_Q",
            false,
            &format!("http = [\"http://{alias}:{port}\"]\n")
        ),
        worker(
            "NAME_AND_IP_Q",
            false,
            &format!(
                "http = [\"http://{alias}:{port}\", {:?}]\n",
                target.origin()
            )
        ),
        worker(
            "LOCALHOST_Q",
            false,
            &format!("http = [{{ url = \"HTTP://LocalHost.:{port}/\", methods = [\"get\"] }}]\n")
        ),
    );
    // The namespace of the other HTTP test (its own task queues and ids):
    // namespaces are registered once per dev server, in the harness.
    let weft = Weft::serve(&dir, "weft", "e2e-caps-http", &config);
    let client = Client::new("e2e-caps-http").await;
    let get = |queue: &str, url: String| run(queue, "HttpGet", json!({ "url": url }));
    let ok = |body: &str| Outcome::Completed(json!({"status": 200, "body": body}));
    let denied = |id: &str, outcome: Outcome| {
        let (message, error_type) = failed(id, outcome);
        assert_eq!(error_type, "HttpError", "{id}: {message}");
        assert!(message.contains("HttpRequestDenied"), "{id}: {message}");
    };

    // Redirects are not followed: the guest gets the 302 itself, the
    // ungranted origin it points at sees nothing, and a request the guest
    // makes to it is denied.
    let start = get("REDIRECT_Q", format!("{}/start", redirect.origin()));
    assert_eq!(
        outcome_of(&client, "policy-redirect", "REDIRECT_Q", &start).await,
        Outcome::Completed(json!({"status": 302, "body": ""}))
    );
    assert!(redirect.request_for("/start").is_some());
    let follow = get("REDIRECT_Q", format!("{}/followed", target.origin()));
    denied(
        "policy-redirect-follow",
        outcome_of(&client, "policy-redirect-follow", "REDIRECT_Q", &follow).await,
    );
    assert!(target.requests().is_empty(), "{:?}", target.requests());

    // IPv6 literals: granted [::1]:PORT works and is only itself.
    let v6_get = get("V6_Q", format!("http://[::1]:{}/v6", v6.port));
    assert_eq!(
        outcome_of(&client, "policy-v6", "REDIRECT_Q", &v6_get).await,
        ok(HTTP_BODY)
    );
    assert!(v6.request_for("/v6").is_some(), "{:?}", v6.requests());
    let v4_get = get("V6_Q", format!("http://127.0.0.1:{}/v4", v6.port));
    denied(
        "policy-v6-not-v4",
        outcome_of(&client, "policy-v6-not-v4", "REDIRECT_Q", &v4_get).await,
    );
    let connect =
        |addr: String, line: &str| run("V6_Q", "Connect", json!({ "addr": addr, "line": line }));
    assert_eq!(
        outcome_of(
            &client,
            "policy-tcp-v6",
            "REDIRECT_Q",
            &connect(format!("[::1]:{}", echo6.port), "over v6")
        )
        .await,
        Outcome::Completed(json!({"echo": "over v6"}))
    );
    let (message, error_type) = failed(
        "policy-tcp-v4",
        outcome_of(
            &client,
            "policy-tcp-v4",
            "REDIRECT_Q",
            &connect(format!("127.0.0.1:{}", echo4.port), "must not arrive"),
        )
        .await,
    );
    assert_eq!(error_type, "SocketError", "{message}");
    assert_eq!(echo6.lines(), ["over v6"]);
    assert!(echo4.lines().is_empty(), "{:?}", echo4.lines());

    // A granted name that resolves to loopback does not reach it, unless
    // the address is granted too.
    let by_name = |queue: &str, path: &str| get(queue, format!("http://{alias}:{port}{path}"));
    denied(
        "policy-name-to-loopback",
        outcome_of(
            &client,
            "policy-name-to-loopback",
            "REDIRECT_Q",
            &by_name("NAME_Q", "/by-name"),
        )
        .await,
    );
    assert_eq!(target.request_for("/by-name"), None);
    wait_for_warning(
        &weft,
        &[
            &format!("denied HTTP GET http://{alias}:{port}: it resolves to"),
            "workflow_id=policy-name-to-loopback",
        ],
    );
    assert_eq!(
        outcome_of(
            &client,
            "policy-name-and-ip",
            "REDIRECT_Q",
            &by_name("NAME_AND_IP_Q", "/name-and-ip")
        )
        .await,
        ok(HTTP_BODY)
    );
    assert!(target.request_for("/name-and-ip").is_some());

    // `localhost` named in the grant is a loopback grant, however it is
    // spelt in the grant or the request; the grant's `get` is GET.
    for (id, url) in [
        (
            "policy-localhost",
            format!("http://localhost:{port}/localhost"),
        ),
        (
            "policy-localhost-odd",
            format!("http://LOCALHOST.:{port}/odd"),
        ),
    ] {
        assert_eq!(
            outcome_of(&client, id, "REDIRECT_Q", &get("LOCALHOST_Q", url)).await,
            ok(HTTP_BODY),
            "{id}"
        );
    }
    let head = target
        .request_for("/odd")
        .expect("the odd spelling arrived");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("host: localhost:{port}\r\n")),
        "the server sees the canonical host: {head:?}"
    );

    // Userinfo does not change the origin, and never reaches the server.
    let with_user = get(
        "NAME_AND_IP_Q",
        format!("http://user:pw@127.0.0.1:{port}/userinfo"),
    );
    assert_eq!(
        outcome_of(&client, "policy-userinfo", "REDIRECT_Q", &with_user).await,
        ok(HTTP_BODY)
    );
    let head = target.request_for("/userinfo").expect("arrived");
    assert!(!head.contains("user:pw"), "userinfo leaked: {head:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_header_reaches_the_server_but_not_the_guest() {
    const TOKEN: &str = "s3cret-token-from-the-host-env";
    const PASSWORD: &str = "db-pa55word-granted-as-env";
    let dir = scratch("capabilities-secret");
    let http = HttpServer::start();
    let origin = http.origin();
    let grants = format!(
        "http = [{origin:?}]\n\
         secrets = [{{ name = \"API_TOKEN\", \
         header = {{ url = {origin:?}, name = \"authorization\", value = \"Bearer {{secret}}\" }} }}, \
         {{ name = \"DB_PASSWORD\", env = true }}]\n"
    );
    // The sources are the operator's: `[secrets]`, not the grants.
    let config = format!(
        "{}\n[secrets]\nAPI_TOKEN = {{ from_env = \"WEFT_TEST_TOKEN\" }}\n\
         DB_PASSWORD = {{ from_env = \"WEFT_TEST_DB_PASSWORD\" }}\n",
        worker("SECRET_Q", true, &grants)
    );
    let weft = Weft::serve_with_env(
        &dir,
        "weft",
        "e2e-caps-secret",
        &config,
        &[
            ("WEFT_TEST_TOKEN", TOKEN),
            ("WEFT_TEST_DB_PASSWORD", PASSWORD),
        ],
    );
    let client = Client::new("e2e-caps-secret").await;

    let get = run(
        "SECRET_Q",
        "HttpGet",
        json!({"url": format!("{origin}/with-secret")}),
    );
    assert_eq!(
        outcome_of(&client, "secret-header", "SECRET_Q", &get).await,
        Outcome::Completed(json!({"status": 200, "body": HTTP_BODY}))
    );
    let head = http
        .request_for("/with-secret")
        .unwrap_or_else(|| panic!("the request reached the server: {:?}", http.requests()));
    assert!(
        head.lines()
            .any(|l| l.eq_ignore_ascii_case(&format!("authorization: Bearer {TOKEN}"))),
        "the host injected the secret header: {head:?}"
    );

    // The guest cannot read it, under its name or the host variable's.
    for name in ["API_TOKEN", "WEFT_TEST_TOKEN", "WEFT_TEST_DB_PASSWORD"] {
        let id = format!("secret-env-{name}");
        let read = run("SECRET_Q", "ReadEnv", json!({"name": name}));
        let (message, error_type) = failed(&id, outcome_of(&client, &id, "SECRET_Q", &read).await);
        assert_eq!(error_type, "EnvNotGranted", "{message}");
        assert!(!message.contains(TOKEN), "leaked: {message}");
        assert!(!message.contains(PASSWORD), "leaked: {message}");
    }
    // A secret granted with `env = true` is an env variable of the guest,
    // under the secret's name.
    let read = run("SECRET_Q", "ReadEnv", json!({"name": "DB_PASSWORD"}));
    assert_eq!(
        outcome_of(&client, "secret-env-granted", "SECRET_Q", &read).await,
        Outcome::Completed(json!(PASSWORD))
    );
    let log = weft.log_text();
    assert!(!log.contains(TOKEN), "the host must not log the secret");
    assert!(!log.contains(PASSWORD), "the host must not log the secret");
}

#[tokio::test(flavor = "multi_thread")]
async fn tcp_and_udp_reach_granted_addresses_only() {
    let dir = scratch("capabilities-socket");
    let echo = EchoServer::start();
    let other = EchoServer::start();
    let sink = UdpSink::start();
    let other_sink = UdpSink::start();
    let grants = format!(
        "sockets = [\"tcp://127.0.0.1:{}\", \"udp://127.0.0.1:{}\"]\n",
        echo.port, sink.port
    );
    let config = worker("SOCKET_Q", true, &grants);
    let weft = Weft::serve(&dir, "weft", "e2e-caps-socket", &config);
    let client = Client::new("e2e-caps-socket").await;

    let connect = |port: u16, line: &str| {
        run(
            "SOCKET_Q",
            "Connect",
            json!({"addr": format!("127.0.0.1:{port}"), "line": line}),
        )
    };
    assert_eq!(
        outcome_of(
            &client,
            "tcp-granted",
            "SOCKET_Q",
            &connect(echo.port, "ping")
        )
        .await,
        Outcome::Completed(json!({"echo": "ping"}))
    );
    assert_eq!(echo.lines(), ["ping"]);

    let (message, error_type) = failed(
        "tcp-other-port",
        outcome_of(
            &client,
            "tcp-other-port",
            "SOCKET_Q",
            &connect(other.port, "must not arrive"),
        )
        .await,
    );
    assert_eq!(error_type, "SocketError", "{message}");
    assert!(
        message.contains(&format!("cannot connect to 127.0.0.1:{}", other.port)),
        "{message}"
    );
    assert!(other.lines().is_empty(), "the other port was reached");
    let denied = format!("127.0.0.1:{}", other.port);
    wait_for_warning(
        &weft,
        &["denied", &denied, "workflow_id=tcp-other-port", "attempt=1"],
    );

    // UDP: a datagram to the granted address arrives; one to another port
    // is refused in the guest before it is sent, and the host says so.
    let send = |port: u16, text: &str| {
        run(
            "SOCKET_Q",
            "SendDatagram",
            json!({"addr": format!("127.0.0.1:{port}"), "text": text}),
        )
    };
    assert_eq!(
        outcome_of(
            &client,
            "udp-granted",
            "SOCKET_Q",
            &send(sink.port, "udp ping")
        )
        .await,
        Outcome::Completed(json!({"sent": 8}))
    );
    wait_for("the datagram at the granted socket", || {
        (sink.datagrams() == ["udp ping"]).then_some(())
    });

    let (message, error_type) = failed(
        "udp-other-port",
        outcome_of(
            &client,
            "udp-other-port",
            "SOCKET_Q",
            &send(other_sink.port, "must not arrive"),
        )
        .await,
    );
    assert_eq!(error_type, "SocketError", "{message}");
    assert!(
        message.contains(&format!("cannot send to 127.0.0.1:{}", other_sink.port)),
        "{message}"
    );
    let denied = format!("UdpSend 127.0.0.1:{}", other_sink.port);
    wait_for_warning(
        &weft,
        &["denied", &denied, "workflow_id=udp-other-port", "attempt=1"],
    );
    // The check runs before the send: nothing can be in flight.
    assert!(
        other_sink.datagrams().is_empty(),
        "the other port was reached"
    );
}

/// The apparent size of the files under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").metadata().expect("metadata"))
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_writable_dir_stays_within_its_quota() {
    const MAX: u64 = 10_000;
    let dir = scratch("capabilities-quota");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).expect("out dir");
    // Already there when the task starts: measured, and counted.
    std::fs::write(out.join("seed"), vec![b's'; 1_000]).expect("seed");
    let grants = format!(
        "dirs = [{{ host = {:?}, guest = \"/out\", writable = true, max_bytes = {MAX} }}]\n",
        out.display().to_string()
    );
    let config = worker("QUOTA_Q", true, &grants);
    let weft = Weft::serve(&dir, "weft", "e2e-caps-quota", &config);
    let client = Client::new("e2e-caps-quota").await;
    let write = |path: &str, len: usize| {
        run(
            "QUOTA_Q",
            "WriteFile",
            json!({"path": path, "text": "x".repeat(len)}),
        )
    };

    assert_eq!(
        outcome_of(&client, "quota-fits", "QUOTA_Q", &write("/out/a", 6_000)).await,
        Outcome::Completed(json!({"written": 6_000}))
    );
    // 7,000 used: 5,000 more do not fit. The write fails in the guest
    // (its wasi-libc reports any stream error as EIO, without asking for
    // the `insufficient-space` code), the activity reports it, and the
    // host log says why.
    let (message, error_type) = failed(
        "quota-over",
        outcome_of(&client, "quota-over", "QUOTA_Q", &write("/out/b", 5_000)).await,
    );
    assert_eq!(error_type, "IoError", "{message}");
    assert!(message.contains("cannot write /out/b"), "{message}");
    wait_for_warning(
        &weft,
        &[
            "denied a write",
            "to /out",
            "max_bytes (10000)",
            "workflow_id=quota-over",
        ],
    );
    assert!(
        dir_bytes(&out) <= MAX,
        "the dir went past its quota: {} bytes",
        dir_bytes(&out)
    );
    // Rewriting a file in place: the truncation gives its bytes back first.
    assert_eq!(
        outcome_of(&client, "quota-rewrite", "QUOTA_Q", &write("/out/a", 6_000)).await,
        Outcome::Completed(json!({"written": 6_000}))
    );
    // Up to the quota exactly.
    let left = MAX - dir_bytes(&out);
    assert_eq!(
        outcome_of(
            &client,
            "quota-exact",
            "QUOTA_Q",
            &write("/out/c", left as usize)
        )
        .await,
        Outcome::Completed(json!({"written": left}))
    );
    assert_eq!(dir_bytes(&out), MAX);
    let (message, _) = failed(
        "quota-full",
        outcome_of(&client, "quota-full", "QUOTA_Q", &write("/out/d", 1)).await,
    );
    assert!(message.contains("cannot write /out/d"), "{message}");
    assert_eq!(dir_bytes(&out), MAX);
}

#[tokio::test(flavor = "multi_thread")]
async fn activity_stdout_and_stderr_go_to_the_log() {
    let dir = scratch("capabilities-output");
    let config = worker("OUTPUT_Q", true, "");
    // JSON logs: one object per event, fields by name.
    let weft = Weft::serve_with_env(
        &dir,
        "weft",
        "e2e-caps-output",
        &config,
        &[("WEFT_LOG_FORMAT", "json")],
    );
    let client = Client::new("e2e-caps-output").await;
    let print = run(
        "OUTPUT_Q",
        "Print",
        json!({"stdout": "out line 7f3a", "stderr": "err line 7f3a"}),
    );
    assert_eq!(
        outcome_of(&client, "print-output", "OUTPUT_Q", &print).await,
        Outcome::Completed(json!({"printed": true}))
    );
    for (text, level) in [("out line 7f3a", "INFO"), ("err line 7f3a", "WARN")] {
        let event = wait_for(&format!("{text:?} in the host log"), || {
            weft.log_text()
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|e| {
                    e["fields"]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains(text))
                })
        });
        let fields = &event["fields"];
        assert_eq!(event["target"], "weft::guest", "{event}");
        assert_eq!(event["level"], level, "{event}");
        assert_eq!(fields["workflow_id"], "print-output", "{event}");
        assert_eq!(fields["activity_type"], "Print", "{event}");
        assert!(
            fields["attempt"] == json!(1) || fields["attempt"] == json!("1"),
            "{event}"
        );
        assert!(!fields["activity_id"].is_null(), "{event}");
    }
}

/// Run `weft` with arguments, no Temporal needed; (success, stdout, stderr).
/// With `max_instances = 1`, two tasks of the module never overlap: each
/// one's first line (stdout) and last line (stderr) are adjacent in the log.
/// (Without the limit the three tasks below interleave.)
#[tokio::test(flavor = "multi_thread")]
async fn max_instances_bounds_concurrent_instances() {
    let dir = scratch("capabilities-instances");
    let config = worker("ONE_AT_A_TIME_Q", true, "max_instances = 1\n");
    let weft = Weft::serve(&dir, "weft", "e2e-caps-instances", &config);
    let client = Client::new("e2e-caps-instances").await;
    let ids = ["one-a", "one-b", "one-c"];
    for id in ids {
        let print = json!({"stdout": format!("enter {id}"), "wait_ms": 300, "stderr": format!("leave {id}")});
        client
            .start(
                id,
                "RunActivity",
                "ONE_AT_A_TIME_Q",
                &[run("ONE_AT_A_TIME_Q", "Print", print)],
            )
            .await;
    }
    for id in ids {
        assert!(
            matches!(client.outcome(id).await, Outcome::Completed(_)),
            "{id} completes"
        );
    }
    let log = plain(&weft.log_text());
    let events: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(_, m)| m))
        .filter(|m| m.starts_with("enter one-") || m.starts_with("leave one-"))
        .map(|m| m.split_whitespace().take(2).last().unwrap_or_default())
        .collect();
    assert_eq!(events.len(), 6, "{log}");
    for pair in events.chunks(2) {
        assert_eq!(
            pair[0], pair[1],
            "another instance ran in between: {events:?}"
        );
    }
}

#[test]
fn operator_allow_list_bounds_the_grants_at_start() {
    let dir = scratch("capabilities-allow");
    let check = |name: &str, http: &str| {
        let config = format!(
            "{}\n[allow]\nhttp = [\"http://127.0.0.1:*\"]\n",
            worker("ALLOW_Q", false, &format!("http = [{http:?}]\n"))
        );
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, config).expect("write config");
        weft_cli(&["check", "--config", &path.display().to_string()])
    };

    let (ok, _, stderr) = check("inside", "http://127.0.0.1:8080");
    assert!(ok, "a grant inside [allow] passes: {stderr}");

    // Never contacted: `weft check` only loads the config and modules.
    let (ok, _, stderr) = check("outside", "http://10.0.0.1:80");
    assert!(!ok, "a grant outside [allow] must be refused");
    assert!(
        stderr.contains("worker[0].activities[0].http[0]"),
        "the refusal names the grant: {stderr}"
    );
    assert!(
        stderr.contains("http://10.0.0.1:80"),
        "and what was granted: {stderr}"
    );
}

#[test]
fn inspect_tells_world_types_imports_and_grants() {
    let activities = wasm("order_activities").display().to_string();
    let (ok, out, err) = weft_cli(&["inspect", &activities]);
    assert!(ok, "weft inspect {activities}: {err}");
    for needle in [
        "world: activity",
        "CreateOrder",
        "ChargePayment",
        "weft:plugin/activity-host",
        "wasi:filesystem/preopens",
        "wasi:cli/environment",
    ] {
        assert!(out.contains(needle), "{needle:?} in:\n{out}");
    }
    let implied = section(&out, "grants its imports can use:");
    assert!(implied.contains("dirs"), "{out}");
    assert!(implied.contains("env"), "{out}");
    assert!(!implied.contains("http"), "{out}");

    let workflow = wasm("order_workflow").display().to_string();
    let (ok, out, err) = weft_cli(&["inspect", &workflow]);
    assert!(ok, "weft inspect {workflow}: {err}");
    for needle in [
        "world: workflow",
        "OrderWorkflow",
        "weft:plugin/activation-guest@0.1.0",
        "weft:plugin/activation-host",
    ] {
        assert!(out.contains(needle), "{needle:?} in:\n{out}");
    }
    assert!(!out.contains("wasi:"), "a workflow imports no WASI:\n{out}");
    assert!(
        section(&out, "grants its imports can use:").contains("none"),
        "{out}"
    );

    // With a config: the grants it gives this module.
    let dir = scratch("capabilities-inspect");
    let config = dir.join("weft.toml");
    std::fs::write(
        &config,
        format!(
            "[[worker]]\ntask_queue = \"INSPECT_Q\"\n[[worker.activities]]\nmodule = {activities:?}\n\
             dirs = [{{ host = \"var/orders\", guest = \"/orders\", writable = true, create = true }}]\n\
             env = {{ ORDER_CURRENCY = \"EUR\" }}\n"
        ),
    )
    .expect("write config");
    let (ok, out, err) = weft_cli(&[
        "inspect",
        &activities,
        "--config",
        &config.display().to_string(),
    ]);
    assert!(ok, "weft inspect --config: {err}");
    let given = section(&out, "grants in ");
    for needle in [
        "worker[0].activities[0]",
        "/orders",
        "writable",
        "ORDER_CURRENCY",
    ] {
        assert!(given.contains(needle), "{needle:?} in:\n{out}");
    }
    assert!(!given.contains("EUR"), "values are not printed:\n{out}");
    assert!(
        given.contains("allow-list: none in this config"),
        "no [allow]: no verdict against it:\n{out}"
    );

    // The same grants inside an operator [allow] list: said so, exit 0.
    std::fs::write(
        &config,
        format!(
            "[[worker]]\ntask_queue = \"INSPECT_Q\"\n[[worker.activities]]\nmodule = {activities:?}\n\
             dirs = [{{ host = \"var/orders\", guest = \"/orders\", writable = true, create = true }}]\n\
             env = {{ ORDER_CURRENCY = \"EUR\" }}\n\
             [allow]\ndirs = [\"var\"]\nenv = [\"ORDER_CURRENCY\"]\n"
        ),
    )
    .expect("write config");
    let (ok, out, err) = weft_cli(&[
        "inspect",
        &activities,
        "--config",
        &config.display().to_string(),
    ]);
    assert!(ok, "weft inspect --config with [allow]: {err}\n{out}");
    let given = section(&out, "grants in ");
    assert!(
        given.contains("allow-list: every grant is within the config's [allow] list"),
        "{out}"
    );
    assert!(!given.contains("REFUSED"), "{out}");

    // A grant beyond the operator's [allow] list: named, and exit 1.
    let sandbox = wasm("sandbox_activities").display().to_string();
    std::fs::write(
        &config,
        format!(
            "[[worker]]\ntask_queue = \"INSPECT_Q\"\n[[worker.activities]]\nmodule = {sandbox:?}\n\
             http = [\"http://10.0.0.1:80\"]\n[allow]\nhttp = [\"http://127.0.0.1:*\"]\n"
        ),
    )
    .expect("write config");
    let (ok, out, _) = weft_cli(&[
        "inspect",
        &sandbox,
        "--config",
        &config.display().to_string(),
    ]);
    assert!(!ok, "a refused grant fails weft inspect:\n{out}");
    let given = section(&out, "grants in ");
    assert!(given.contains("http[0]: http://10.0.0.1:80"), "{out}");
    assert!(
        given.contains("REFUSED") && given.contains("worker[0].activities[0].http[0]"),
        "{out}"
    );
}

/// The lines of `out` from the one starting with `heading` to the next
/// unindented line.
fn section(out: &str, heading: &str) -> String {
    let mut lines = out.lines().skip_while(|l| !l.starts_with(heading));
    let Some(first) = lines.next() else {
        panic!("no {heading:?} section in:\n{out}")
    };
    let rest = lines.take_while(|l| l.starts_with(' ') || l.is_empty());
    std::iter::once(first)
        .chain(rest)
        .collect::<Vec<_>>()
        .join("\n")
}
