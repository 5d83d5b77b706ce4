// Test-only activity guest for weft's sandbox tests: file, env, HTTP and socket (TCP, UDP) access under grants, memory, output and a timeout.

//! Activity types:
//! - `ReadFile`: input a path (JSON string); returns the file's text, or a
//!   non-retryable `IoError` failure saying why it cannot be read.
//! - `Spin`: loops forever, so the host's timeout must stop it.
//! - `Fail`: input `{"error_type", "non_retryable"}`; always fails with that
//!   type, saying which attempt it was.
//! - `Wait`: input a number of milliseconds; heartbeats until they have
//!   passed or cancellation is requested (then fails with `CancelledError`).
//! - `WriteFile`: input `{"path", "text"}`; writes the file and returns
//!   `{"written": bytes}`, or fails with `IoError` saying why.
//! - `ReadEnv`: input `{"name"}`; returns the variable's value, or fails
//!   with `EnvNotGranted` when the sandbox has no such variable.
//! - `HttpGet`: input `{"url", "headers"?: {name: value}}`; a GET through
//!   `wasi:http/outgoing-handler`; returns `{"status", "body"}`, or fails with
//!   `HttpError` naming WASI's error code (e.g. `HttpRequestDenied`).
//! - `HttpRequest`: as `HttpGet`, with the method from input `"method"`
//!   (e.g. `"POST"`; default `GET`) and an empty body.
//! - `Connect`: input `{"addr": "ip:port", "line"?}`; TCP connect, writes the
//!   line, reads a line back and returns `{"echo"}`, or fails with
//!   `SocketError` carrying the io error.
//! - `SendDatagram`: input `{"addr": "ip:port", "text"}`; sends the text as
//!   one UDP datagram from an ephemeral port and returns `{"sent": bytes}`,
//!   or fails with `SocketError` carrying the io error.
//! - `Grow`: input `{"mib"}`; allocates and touches that many MiB, returns
//!   `{"grown_mib"}`; past the memory limit the instance traps.
//! - `Print`: input `{"stdout"?, "stderr"?}`; prints them with `println!` and
//!   `eprintln!` and returns `{"printed": true}`.

wit_bindgen::generate!({
    world: "activity",
    path: "../../../wit",
});

use exports::weft::plugin::activity_guest::Guest;
use serde_json::Value;
use weft::plugin::activity_host as host;
use weft::plugin::types::{Failure, LogLevel, Payload};

/// The component: implements the exported `activity-guest` interface.
struct SandboxActivities;

impl Guest for SandboxActivities {
    fn activity_types() -> Vec<String> {
        [
            "ReadFile",
            "Spin",
            "Fail",
            "Wait",
            "WriteFile",
            "ReadEnv",
            "HttpGet",
            "HttpRequest",
            "Connect",
            "SendDatagram",
            "Grow",
            "Print",
            "Resume",
        ]
        .map(String::from)
        .to_vec()
    }

    fn execute(activity_type: String, args: Vec<Payload>) -> Result<Payload, Failure> {
        install_panic_hook();
        match activity_type.as_str() {
            "ReadFile" => read_file(&args),
            "Spin" => spin(),
            "Fail" => fail(&args),
            "Wait" => wait(&args),
            "WriteFile" => write_file(&object_arg(&args)?),
            "ReadEnv" => read_env(&object_arg(&args)?),
            "HttpGet" => http_request(&object_arg(&args)?, "GET"),
            "HttpRequest" => {
                let input = object_arg(&args)?;
                let method = input["method"].as_str().unwrap_or("GET").to_owned();
                http_request(&input, &method)
            }
            "Connect" => connect(&object_arg(&args)?),
            "SendDatagram" => send_datagram(&object_arg(&args)?),
            "Grow" => grow(&object_arg(&args)?),
            "Print" => print(&object_arg(&args)?),
            "Resume" => resume(),
            other => Err(failure(
                "UnknownActivityType",
                format!("this component does not offer activity type {other:?}"),
            )),
        }
    }
}

export!(SandboxActivities);

/// Reads a file through WASI: succeeds only inside a granted preopen.
fn read_file(args: &[Payload]) -> Result<Payload, Failure> {
    let path = match args {
        [payload] => match decode_json(payload)? {
            Value::String(path) => path,
            other => {
                return Err(failure(
                    "InvalidInput",
                    format!("expected a path as a JSON string, got {other}"),
                ));
            }
        },
        _ => {
            return Err(failure(
                "InvalidInput",
                format!("expected one argument (a path), got {}", args.len()),
            ));
        }
    };
    host::log(LogLevel::Info, &format!("reading {path}"));
    match std::fs::read_to_string(&path) {
        Ok(content) => Ok(encode_json(&Value::String(content))),
        Err(err) => Err(failure("IoError", format!("cannot read {path}: {err}"))),
    }
}

/// Never returns: the host must interrupt it (activity timeout).
fn spin() -> Result<Payload, Failure> {
    host::log(LogLevel::Info, "spinning until stopped");
    let mut counter: u64 = 0;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

/// Always fails, as the input says; the message names the attempt.
fn fail(args: &[Payload]) -> Result<Payload, Failure> {
    let input = match args {
        [payload] => decode_json(payload)?,
        _ => Value::Null,
    };
    let attempt = host::info().attempt;
    Err(Failure {
        message: format!("failed on attempt {attempt}"),
        error_type: input["error_type"].as_str().unwrap_or("Failed").to_string(),
        non_retryable: input["non_retryable"].as_bool().unwrap_or(false),
        details: vec![encode_json(&serde_json::json!({ "attempt": attempt }))],
    })
}

/// Heartbeats every 20 ms until the time is up or cancellation arrives.
fn wait(args: &[Payload]) -> Result<Payload, Failure> {
    let ms = match args {
        [payload] => decode_json(payload)?.as_u64().unwrap_or(0),
        _ => 0,
    };
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_millis(ms) {
        if host::heartbeat(&[]) {
            host::log(LogLevel::Info, "cancellation requested: stopping");
            return Err(failure("CancelledError", "cancelled while waiting".into()));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Ok(encode_json(&serde_json::json!({ "waited_ms": ms })))
}

/// The first attempt records progress in a heartbeat and fails; a retry
/// returns the progress it resumes from (the last heartbeat's details).
fn resume() -> Result<Payload, Failure> {
    let attempt = host::info().attempt;
    let last = host::last_heartbeat_details();
    if attempt == 1 {
        host::heartbeat(&[encode_json(&serde_json::json!({ "done": 3 }))]);
        return Err(Failure {
            non_retryable: false,
            ..failure("Interrupted", "stopped after 3 items".into())
        });
    }
    let resumed_from = match last.first() {
        Some(details) => decode_json(details)?,
        None => Value::Null,
    };
    Ok(encode_json(
        &serde_json::json!({ "attempt": attempt, "resumed_from": resumed_from }),
    ))
}

/// Writes a file through WASI: succeeds only in a writable granted preopen.
fn write_file(input: &Value) -> Result<Payload, Failure> {
    let path = string_field(input, "path")?;
    let text = input["text"].as_str().unwrap_or_default();
    match std::fs::write(path, text) {
        Ok(()) => Ok(encode_json(&serde_json::json!({ "written": text.len() }))),
        Err(err) => Err(failure("IoError", format!("cannot write {path}: {err}"))),
    }
}

/// Reads an environment variable: only granted ones exist in the sandbox.
fn read_env(input: &Value) -> Result<Payload, Failure> {
    let name = string_field(input, "name")?;
    match std::env::var(name) {
        Ok(value) => Ok(encode_json(&Value::String(value))),
        Err(err) => Err(failure(
            "EnvNotGranted",
            format!("environment variable {name} is not granted: {err}"),
        )),
    }
}

/// A request with `method` through `wasi:http/outgoing-handler`.
fn http_request(input: &Value, method: &str) -> Result<Payload, Failure> {
    let url = string_field(input, "url")?;
    let headers: Vec<(String, String)> = input["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    host::log(LogLevel::Info, &format!("{method} {url}"));
    let (status, body) = http::request(method, url, &headers)
        .map_err(|e| failure("HttpError", format!("{method} {url}: {e}")))?;
    Ok(encode_json(
        &serde_json::json!({ "status": status, "body": body }),
    ))
}

/// TCP connect, one line out and one line back.
fn connect(input: &Value) -> Result<Payload, Failure> {
    use std::io::{BufRead, BufReader, Write};
    let addr = string_field(input, "addr")?;
    let line = input["line"].as_str().unwrap_or("hello");
    let io =
        |what: &str, err: std::io::Error| failure("SocketError", format!("{what} {addr}: {err}"));
    let mut stream = std::net::TcpStream::connect(addr).map_err(|e| io("cannot connect to", e))?;
    stream
        .write_all(format!("{line}\n").as_bytes())
        .map_err(|e| io("cannot write to", e))?;
    let mut echo = String::new();
    BufReader::new(&stream)
        .read_line(&mut echo)
        .map_err(|e| io("cannot read from", e))?;
    Ok(encode_json(
        &serde_json::json!({ "echo": echo.trim_end_matches('\n') }),
    ))
}

/// One UDP datagram to `addr`, from an ephemeral port of the same family.
fn send_datagram(input: &Value) -> Result<Payload, Failure> {
    let addr = string_field(input, "addr")?;
    let text = input["text"].as_str().unwrap_or("hello");
    let io =
        |what: &str, err: std::io::Error| failure("SocketError", format!("{what} {addr}: {err}"));
    let remote: std::net::SocketAddr = addr
        .parse()
        .map_err(|e| failure("InvalidInput", format!("bad address {addr:?}: {e}")))?;
    // The wildcard address and port 0: the only bind the host allows.
    let local = if remote.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let socket =
        std::net::UdpSocket::bind(local).map_err(|e| io("cannot bind a socket to send to", e))?;
    let sent = socket
        .send_to(text.as_bytes(), remote)
        .map_err(|e| io("cannot send to", e))?;
    Ok(encode_json(&serde_json::json!({ "sent": sent })))
}

/// Allocates and touches `mib` MiB; past the memory limit the allocation
/// fails and the instance traps (allocation failure aborts).
fn grow(input: &Value) -> Result<Payload, Failure> {
    let mib = input["mib"].as_u64().unwrap_or(0) as usize;
    host::log(LogLevel::Info, &format!("growing by {mib} MiB"));
    let mut chunks: Vec<Vec<u8>> = Vec::with_capacity(mib);
    for _ in 0..mib {
        let mut chunk = Vec::<u8>::with_capacity(1 << 20);
        // Touch every page, so the memory is really there.
        chunk.resize(1 << 20, 1);
        chunks.push(std::hint::black_box(chunk));
    }
    let touched: usize = chunks.iter().map(|c| c.iter().step_by(4096).count()).sum();
    Ok(encode_json(
        &serde_json::json!({ "grown_mib": chunks.len(), "pages": touched }),
    ))
}

/// Prints to stdout and stderr (the host logs each line).
#[allow(clippy::print_stdout, clippy::print_stderr)]
fn print(input: &Value) -> Result<Payload, Failure> {
    if let Some(out) = input["stdout"].as_str() {
        println!("{out}");
    }
    // Stay busy between the two lines (for the `max_instances` test).
    if let Some(ms) = input["wait_ms"].as_u64() {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    if let Some(err) = input["stderr"].as_str() {
        eprintln!("{err}");
    }
    Ok(encode_json(&serde_json::json!({ "printed": true })))
}

/// Minimal HTTP client over `wasi:http@0.2` (the `wasi` crate's bindings).
mod http {
    use wasi::http::outgoing_handler;
    use wasi::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
    use wasi::io::streams::StreamError;

    /// `method` `url` (`http://` or `https://`) with extra headers and an
    /// empty body; the status and the body as text, or WASI's error code as
    /// text.
    pub fn request(
        method: &str,
        url: &str,
        headers: &[(String, String)],
    ) -> Result<(u16, String), String> {
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else if let Some(rest) = url.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else {
            return Err(format!(
                "unsupported URL {url:?}: expected http:// or https://"
            ));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let fields = Fields::new();
        for (name, value) in headers {
            fields
                .append(name, value.as_bytes())
                .map_err(|e| format!("bad header {name:?}: {e:?}"))?;
        }
        let request = OutgoingRequest::new(fields);
        let bad = |what: &str| format!("cannot set the request's {what}");
        let method = match method.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "PATCH" => Method::Patch,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_owned()),
        };
        request.set_method(&method).map_err(|()| bad("method"))?;
        request
            .set_scheme(Some(&scheme))
            .map_err(|()| bad("scheme"))?;
        request
            .set_authority(Some(authority))
            .map_err(|()| bad("authority"))?;
        request
            .set_path_with_query(Some(path))
            .map_err(|()| bad("path"))?;
        let body = request.body().map_err(|()| bad("body"))?;
        let pending = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
        OutgoingBody::finish(body, None).map_err(|e| format!("{e:?}"))?;
        pending.subscribe().block();
        let response = match pending.get() {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(code))) => return Err(format!("{code:?}")),
            Some(Err(())) => return Err("the response was already taken".into()),
            None => return Err("no response after the pollable was ready".into()),
        };
        let status = response.status();
        let incoming = response
            .consume()
            .map_err(|()| "cannot take the response body".to_string())?;
        let stream = incoming
            .stream()
            .map_err(|()| "cannot open the response body".to_string())?;
        let mut bytes = Vec::new();
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(format!("reading the body: {}", e.to_debug_string()));
                }
            }
        }
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// The single argument as a JSON object.
fn object_arg(args: &[Payload]) -> Result<Value, Failure> {
    match args {
        [payload] => match decode_json(payload)? {
            value @ Value::Object(_) => Ok(value),
            other => Err(failure(
                "InvalidInput",
                format!("expected a JSON object, got {other}"),
            )),
        },
        _ => Err(failure(
            "InvalidInput",
            format!("expected one argument (a JSON object), got {}", args.len()),
        )),
    }
}

/// A string field of an object input.
fn string_field<'a>(input: &'a Value, name: &str) -> Result<&'a str, Failure> {
    input[name].as_str().ok_or_else(|| {
        failure(
            "InvalidInput",
            format!("expected a string field {name:?}, got {input}"),
        )
    })
}

/// Encodes a value with Temporal's JSON converter (`json/plain`).
fn encode_json(value: &Value) -> Payload {
    Payload {
        metadata: vec![("encoding".to_string(), b"json/plain".to_vec())],
        data: value.to_string().into_bytes(),
    }
}

/// Decodes a `json/plain` payload.
fn decode_json(payload: &Payload) -> Result<Value, Failure> {
    let encoding = payload
        .metadata
        .iter()
        .find(|(key, _)| key == "encoding")
        .map(|(_, value)| value.as_slice());
    if encoding != Some(b"json/plain".as_slice()) {
        return Err(failure(
            "InvalidPayload",
            format!(
                "expected a json/plain payload, got encoding {:?}",
                encoding.map(String::from_utf8_lossy)
            ),
        ));
    }
    serde_json::from_slice(&payload.data).map_err(|err| {
        failure(
            "InvalidPayload",
            format!("payload is not valid JSON: {err}"),
        )
    })
}

/// A non-retryable failure.
fn failure(error_type: &str, message: String) -> Failure {
    Failure {
        message,
        error_type: error_type.to_string(),
        non_retryable: true,
        details: Vec::new(),
    }
}

/// Sends panic messages through the host's `log` import, so a trapping
/// activity says why it failed.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            host::log(LogLevel::Error, &format!("activity panicked: {info}"));
        }));
    });
}
