//! Workflow type `Blocking` on the blocking world (`weft:plugin/workflow`),
//! which weft still serves for guests written against it: straight-line
//! code whose `result` calls suspend the guest on a host fiber.
//!
//! It publishes query `stage`, waits for signal `finish`, waits on a 10 ms
//! timer and returns `{"signal": <the signal's JSON>}`.

wit_bindgen::generate!({
    world: "workflow",
    path: "../../../wit",
});

use exports::weft::plugin::workflow_guest::Guest;
use weft::plugin::types::{Failure, Payload};
use weft::plugin::workflow_host as host;

struct Blocking;

impl Guest for Blocking {
    fn workflow_types() -> Vec<String> {
        vec!["Blocking".to_string()]
    }

    fn run(_workflow_type: String, _args: Vec<Payload>) -> Result<Payload, Failure> {
        host::set_query_result("stage", &json(r#""waiting for finish""#));
        let signal = host::result(host::next_signal("finish"))?;
        host::set_query_result("stage", &json(r#""timer""#));
        host::result(host::start_timer(10))?;
        let signal = String::from_utf8_lossy(&signal.data).into_owned();
        Ok(json(&format!(r#"{{"signal":{signal}}}"#)))
    }
}

/// A `json/plain` payload of already-encoded JSON text.
fn json(text: &str) -> Payload {
    Payload {
        metadata: vec![("encoding".to_string(), b"json/plain".to_vec())],
        data: text.as_bytes().to_vec(),
    }
}

export!(Blocking);
