// Test-only workflow guest for weft's host tests: a trap, a generic activity runner and a timer.

//! Workflow types:
//! - `Trap`: panics, so the workflow task fails (and Temporal retries it).
//! - `RunActivity`: input `{"activity_type", "task_queue", "args": [...]}`,
//!   optionally `"start_to_close_ms"` and `"schedule_to_close_ms"`; runs that
//!   activity and returns its result (or failure) as received.
//! - `Sleep`: input a number of milliseconds; waits on a timer and returns
//!   `{"slept_ms": n}`.
//! - `Signals`: input a count n; sums the numbers of n `add` signals,
//!   publishing the running sum as query `total`, and returns `{"total"}`.
//! - `Cancellable`: waits for an hour-long timer or its cancellation; on
//!   cancellation cancels the timer and ends as cancelled.
//! - `Race`: input like `RunActivity` plus `"timer_ms"` (or `"signal"`, a
//!   signal name); races the activity against that timer (or signal),
//!   cancels the loser, returns `{"winner", ...}`.
//! - `ContinueAsNew`: input `{"left", "runs"}`; continues as new until
//!   `left` is 0, then returns `{"runs"}`.
//! - `Patched`: returns `"v2"` when it takes patch `v2`, `"v1"` otherwise.
//! - `Upsert`: sets search attribute `CustomerId` and memo field `note`.
//! - `Family`: starts a `Signals` child and signals it by id, starts a
//!   `Cancellable` child and cancels it, asks an external workflow (by id,
//!   from the input) to cancel, and reports what happened to each.
//! - `RunLocal`: like `RunActivity`, as a local activity.
//! - `Counter`: adds the numbers sent as `increment` updates (rejecting
//!   negative ones in validation) until signal `stop`; returns `{"count"}`.
//! - `Diverge`: deliberately nondeterministic: starts a timer, but on replay
//!   schedules an activity instead.
//! - `Spin`: loops without calling the host, so it runs out of fuel.
//! - `Catch`: input like `RunActivity`; returns the activity's failure as
//!   the guest sees it: `{"error_type", "message", "non_retryable",
//!   "details"}` (or `{"result"}` if it succeeds).
//! - `Fail`: input `{"error_type", "message", "non_retryable", "details"}`;
//!   returns that failure, so the workflow fails with it.
//! - `Parent`: input `{"policy": "terminate" | "request-cancel" |
//!   "abandon"}`; starts a `Cancellable` child `<id>-child` under that
//!   parent close policy and returns as soon as it has started.
//! - `Fanout`: starts three `Wait` activities, a timer and a `Sleep` child
//!   in one workflow task, then waits for all of them; returns their results
//!   in start order.
//! - `Clock`: reads `now()`, waits on a 1 s timer, reads `now()` again;
//!   returns `{"before", "after"}` (ms since the epoch) and a `random()`.
//! - `Hostile`: input `{"do": what, "bytes": n}`; misbehaves towards the
//!   host, each way cheap in fuel: `log-flood` logs an n-byte line (8 MiB by
//!   default) forever, `busy-imports` calls `now()` forever, `timers` starts
//!   timers forever, `queries` publishes ever more query names of n bytes,
//!   `patches` asks for ever more patch ids, `big-result` returns an n-byte
//!   string, `grow-memory` grows its linear memory 1 MiB at a time (without
//!   touching it) until the host's memory limit stops it.

wit_bindgen::generate!({
    world: "workflow",
    path: "../../../wit",
});

use exports::weft::plugin::workflow_guest::Guest;
use serde_json::{Value, json};
use weft::plugin::types::{Failure, LogLevel, Payload};
use weft::plugin::workflow_host::{
    self as host, ActivityCancellation, ActivityOptions, ChildCancellation, ChildOptions,
    LocalActivityOptions, ParentClosePolicy, RetryPolicy,
};

/// Start-to-close timeout of activities `RunActivity` schedules, unless the
/// input sets one.
const ACTIVITY_TIMEOUT_MS: u64 = 10_000;

/// The component: implements the exported `workflow-guest` interface.
struct TestWorkflows;

impl Guest for TestWorkflows {
    fn workflow_types() -> Vec<String> {
        [
            "Trap",
            "RunActivity",
            "Sleep",
            "Signals",
            "Cancellable",
            "Race",
            "ContinueAsNew",
            "Patched",
            "Upsert",
            "Diverge",
            "Family",
            "Counter",
            "RunLocal",
            "Spin",
            "Catch",
            "Fail",
            "Parent",
            "Fanout",
            "Clock",
            "Hostile",
        ]
        .map(String::from)
        .to_vec()
    }

    fn run(workflow_type: String, args: Vec<Payload>) -> Result<Payload, Failure> {
        install_panic_hook();
        match workflow_type.as_str() {
            "Trap" => panic!("deliberate trap for tests"),
            "RunActivity" => run_activity(&single_json_arg(&args)?),
            "Sleep" => sleep(&single_json_arg(&args)?),
            "Signals" => signals(&single_json_arg(&args)?),
            "Cancellable" => cancellable(),
            "Race" => race(&single_json_arg(&args)?),
            "ContinueAsNew" => continue_as_new(&single_json_arg(&args)?),
            "Patched" => Ok(encode_json(&json!(if host::patched("v2") {
                "v2"
            } else {
                "v1"
            }))),
            "Upsert" => upsert(),
            "Diverge" => diverge(),
            "Family" => family(&single_json_arg(&args)?),
            "Counter" => counter(),
            "RunLocal" => run_local(&single_json_arg(&args)?),
            "Spin" => spin(),
            "Catch" => catch(&single_json_arg(&args)?),
            "Fail" => Err(fail(&single_json_arg(&args)?)),
            "Parent" => parent(&single_json_arg(&args)?),
            "Fanout" => fanout(),
            "Clock" => clock(),
            "Hostile" => hostile(&single_json_arg(&args)?),
            other => Err(failure(
                "UnknownWorkflowType",
                format!("this component does not offer workflow type {other:?}"),
            )),
        }
    }
}

export!(TestWorkflows);

/// Schedules the activity the input describes and returns its outcome as-is.
fn run_activity(input: &Value) -> Result<Payload, Failure> {
    let handle = start_activity(input)?;
    host::result(handle)
}

/// Schedules the activity an input describes: `activity_type`,
/// `task_queue`, `args`, and optionally `start_to_close_ms`,
/// `schedule_to_close_ms`, `schedule_to_start_ms`, `heartbeat_timeout_ms`,
/// `cancellation`
/// (`"try-cancel"`, `"wait"`, `"abandon"`) and
/// `retry: {maximum_attempts, non_retryable_error_types}`.
fn start_activity(input: &Value) -> Result<u32, Failure> {
    let field = |name: &str| {
        input.get(name).and_then(Value::as_str).ok_or_else(|| {
            failure(
                "InvalidInput",
                format!("activity input needs a string field {name:?}, got {input}"),
            )
        })
    };
    let activity_type = field("activity_type")?;
    let task_queue = field("task_queue")?;
    let Some(args) = input.get("args").and_then(Value::as_array) else {
        return Err(failure(
            "InvalidInput",
            format!("activity input needs an array field \"args\", got {input}"),
        ));
    };
    let args: Vec<Payload> = args.iter().map(encode_json).collect();
    let ms = |name: &str| input.get(name).and_then(Value::as_u64);
    let retry_policy = input.get("retry").map(|r| RetryPolicy {
        initial_interval_ms: 100,
        backoff_coefficient: 1.0,
        maximum_interval_ms: 0,
        maximum_attempts: r["maximum_attempts"].as_u64().unwrap_or(0) as u32,
        non_retryable_error_types: r["non_retryable_error_types"]
            .as_array()
            .map(|types| {
                types
                    .iter()
                    .filter_map(|t| t.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
    });
    let cancellation = match input.get("cancellation").and_then(Value::as_str) {
        Some("wait") => ActivityCancellation::WaitCancellationCompleted,
        Some("abandon") => ActivityCancellation::Abandon,
        _ => ActivityCancellation::TryCancel,
    };
    let options = ActivityOptions {
        task_queue: Some(task_queue.to_string()),
        start_to_close_timeout_ms: Some(ms("start_to_close_ms").unwrap_or(ACTIVITY_TIMEOUT_MS)),
        schedule_to_close_timeout_ms: ms("schedule_to_close_ms"),
        schedule_to_start_timeout_ms: ms("schedule_to_start_ms"),
        heartbeat_timeout_ms: ms("heartbeat_timeout_ms"),
        retry_policy,
        cancellation,
        activity_id: None,
    };
    host::log(
        LogLevel::Info,
        &format!("running activity {activity_type} on {task_queue}"),
    );
    Ok(host::start_activity(activity_type, &args, &options))
}

/// Sums the numbers sent as `add` signals; query `total` reads the sum.
fn signals(input: &Value) -> Result<Payload, Failure> {
    let count = input.as_u64().unwrap_or(0);
    let mut total: i64 = 0;
    host::set_query_result("total", &encode_json(&json!(total)));
    for _ in 0..count {
        let signal = host::next_signal("add");
        let value = decode_json(&host::result(signal)?)?;
        total += value.as_i64().unwrap_or(0);
        host::set_query_result("total", &encode_json(&json!(total)));
    }
    Ok(encode_json(&json!({ "total": total })))
}

/// Waits for an hour or for cancellation, whichever comes first.
fn cancellable() -> Result<Payload, Failure> {
    let cancelled = host::cancellation();
    let timer = host::start_timer(3_600_000);
    host::set_query_result("state", &encode_json(&json!("waiting")));
    if host::wait_any(&[timer, cancelled]) == timer {
        return Ok(encode_json(&json!("timer fired")));
    }
    host::cancel(timer);
    let timer_outcome = host::result(timer).err().map(|f| f.error_type);
    host::set_query_result("state", &encode_json(&json!({ "timer": timer_outcome })));
    Err(Failure {
        message: "cancelled while waiting".into(),
        error_type: "CancelledError".into(),
        non_retryable: true,
        details: Vec::new(),
    })
}

/// Counts runs across continue-as-new.
fn continue_as_new(input: &Value) -> Result<Payload, Failure> {
    let left = input["left"].as_u64().unwrap_or(0);
    let runs = input["runs"].as_u64().unwrap_or(0) + 1;
    if left > 0 {
        host::continue_as_new(&[encode_json(&json!({ "left": left - 1, "runs": runs }))]);
    }
    Ok(encode_json(&json!({ "runs": runs })))
}

/// Sets a search attribute and a memo field.
fn upsert() -> Result<Payload, Failure> {
    host::upsert_search_attributes(&[("CustomerId".to_string(), encode_json(&json!("c-42")))]);
    host::upsert_memo(&[("note".to_string(), encode_json(&json!("hello")))]);
    Ok(encode_json(&json!("upserted")))
}

/// Children and external workflows: start, signal, cancel, wait.
fn family(input: &Value) -> Result<Payload, Failure> {
    let me = host::info().workflow_id;
    let child = |workflow_type: &str, id: &str, args: &[Payload]| {
        let options = child_options(id, ParentClosePolicy::Terminate);
        host::start_child(workflow_type, args, &options)
    };
    // A child that sums one signal, which this parent sends it by id.
    let summer = child("Signals", "summer", &[encode_json(&json!(1))])?;
    let sent = host::signal_workflow(&format!("{me}-summer"), "add", &[encode_json(&json!(7))]);
    host::result(sent)?;
    let summed = decode_json(&host::result(summer)?)?;
    // A child that waits for an hour, cancelled through its handle.
    let sleeper = child("Cancellable", "sleeper", &[])?;
    host::cancel(sleeper);
    let sleeper_outcome = host::result(sleeper).err().map(|f| f.error_type);
    // Another workflow, cancelled by id.
    let target = input["cancel"].as_str().unwrap_or_default();
    let request = host::cancel_workflow(target);
    let cancel_delivered = host::result(request).is_ok();
    Ok(encode_json(&json!({
        "summer": summed,
        "sleeper": sleeper_outcome,
        "external_cancel_delivered": cancel_delivered,
    })))
}

/// Options for a child `<this workflow's id>-<suffix>` on this task queue,
/// cancelled by waiting for it to end.
fn child_options(suffix: &str, parent_close_policy: ParentClosePolicy) -> ChildOptions {
    ChildOptions {
        workflow_id: Some(format!("{}-{suffix}", host::info().workflow_id)),
        task_queue: None,
        execution_timeout_ms: Some(60_000),
        parent_close_policy,
        cancellation: ChildCancellation::WaitCancellationCompleted,
    }
}

/// Runs the activity the input describes as a local activity.
fn run_local(input: &Value) -> Result<Payload, Failure> {
    let activity_type = input["activity_type"].as_str().unwrap_or_default();
    let args: Vec<Payload> = input["args"]
        .as_array()
        .map(|a| a.iter().map(encode_json).collect())
        .unwrap_or_default();
    let options = LocalActivityOptions {
        start_to_close_timeout_ms: Some(ACTIVITY_TIMEOUT_MS),
        schedule_to_close_timeout_ms: None,
        retry_policy: input.get("retry").map(|r| RetryPolicy {
            initial_interval_ms: r["initial_interval_ms"].as_u64().unwrap_or(100),
            backoff_coefficient: 1.0,
            maximum_interval_ms: 0,
            maximum_attempts: r["maximum_attempts"].as_u64().unwrap_or(0) as u32,
            non_retryable_error_types: Vec::new(),
        }),
        local_retry_threshold_ms: input["local_retry_threshold_ms"].as_u64(),
    };
    host::result(host::start_local_activity(activity_type, &args, &options))
}

/// Counts with updates; validation rejects negative increments.
fn counter() -> Result<Payload, Failure> {
    let stop = host::next_signal("stop");
    let mut count: i64 = 0;
    loop {
        let update = host::next_update("increment");
        if host::wait_any(&[update, stop]) == stop {
            host::cancel(update);
            return Ok(encode_json(&json!({ "count": count })));
        }
        let by = decode_json(&host::result(update)?)?.as_i64().unwrap_or(0);
        if by < 0 {
            host::complete_update(
                update,
                Err(&failure("InvalidIncrement", format!("cannot add {by}"))),
            );
            continue;
        }
        count += by;
        host::complete_update(update, Ok(&encode_json(&json!(count))));
    }
}

/// Issues different commands on replay than it did the first time.
fn diverge() -> Result<Payload, Failure> {
    let handle = if host::is_replaying() {
        start_activity(&json!({ "activity_type": "Wait", "task_queue": "nowhere", "args": [1] }))?
    } else {
        host::start_timer(100)
    };
    host::result(handle)
}

/// Races an activity against a timer or a signal; the loser is cancelled.
fn race(input: &Value) -> Result<Payload, Failure> {
    let activity = start_activity(input)?;
    let (rival, name) = match input["signal"].as_str() {
        Some(signal) => (host::next_signal(signal), "signal"),
        None => (
            host::start_timer(input["timer_ms"].as_u64().unwrap_or(1000)),
            "timer",
        ),
    };
    if host::wait_any(&[activity, rival]) == activity {
        host::cancel(rival);
        let result = decode_json(&host::result(activity)?)?;
        return Ok(encode_json(
            &json!({ "winner": "activity", "result": result }),
        ));
    }
    host::cancel(activity);
    let loser = match host::result(activity) {
        Ok(p) => json!({ "completed": decode_json(&p)? }),
        Err(f) => json!({ "error_type": f.error_type }),
    };
    Ok(encode_json(&json!({ "winner": name, "activity": loser })))
}

/// Misbehaves towards the host as `input["do"]` says (see the module doc).
fn hostile(input: &Value) -> Result<Payload, Failure> {
    let bytes = input["bytes"].as_u64().unwrap_or(8 << 20) as usize;
    let big = "x".repeat(bytes);
    let mut i: u64 = 0;
    match input["do"].as_str().unwrap_or_default() {
        "log-flood" => loop {
            host::log(LogLevel::Info, &big);
        },
        "busy-imports" => loop {
            std::hint::black_box(host::now());
        },
        "timers" => loop {
            host::start_timer(60_000);
        },
        "queries" => loop {
            i += 1;
            host::set_query_result(&format!("q{i}"), &encode_json(&json!(big)));
        },
        "patches" => loop {
            i += 1;
            host::patched(&format!("patch-{i}"));
        },
        "big-result" => Ok(encode_json(&json!(big))),
        "grow-memory" => loop {
            // 16 pages of 64 KiB. Past the limit the host traps the guest;
            // a plain refusal (-1) would be a bug the test must see, so it
            // fails the workflow instead of the task.
            if core::arch::wasm32::memory_grow(0, 16) == usize::MAX {
                return Err(failure(
                    "GrowRefused",
                    "memory.grow returned -1 instead of trapping".into(),
                ));
            }
        },
        other => Err(failure("BadInput", format!("unknown hostile act {other:?}"))),
    }
}

/// Never calls the host: only fuel exhaustion stops it.
fn spin() -> Result<Payload, Failure> {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

/// Runs an activity and reports its failure field by field.
fn catch(input: &Value) -> Result<Payload, Failure> {
    let handle = start_activity(input)?;
    let outcome = match host::result(handle) {
        Ok(payload) => json!({ "result": decode_json(&payload)? }),
        Err(f) => json!({
            "error_type": f.error_type,
            "message": f.message,
            "non_retryable": f.non_retryable,
            "details": f.details.iter().map(decode_json).collect::<Result<Vec<_>, _>>()?,
        }),
    };
    Ok(encode_json(&outcome))
}

/// The failure an input describes.
fn fail(input: &Value) -> Failure {
    Failure {
        message: input["message"].as_str().unwrap_or_default().to_string(),
        error_type: input["error_type"].as_str().unwrap_or_default().to_string(),
        non_retryable: input["non_retryable"].as_bool().unwrap_or(false),
        details: input["details"]
            .as_array()
            .map(|d| d.iter().map(encode_json).collect())
            .unwrap_or_default(),
    }
}

/// Starts a long child under the input's parent close policy and returns
/// while it still runs, so closing the parent applies the policy.
fn parent(input: &Value) -> Result<Payload, Failure> {
    let policy = match input["policy"].as_str() {
        Some("terminate") => ParentClosePolicy::Terminate,
        Some("request-cancel") => ParentClosePolicy::RequestCancel,
        Some("abandon") => ParentClosePolicy::Abandon,
        other => {
            return Err(failure(
                "InvalidInput",
                format!("unknown parent close policy {other:?}"),
            ));
        }
    };
    let options = ChildOptions {
        // Long enough to outlive the test when abandoned.
        execution_timeout_ms: Some(600_000),
        ..child_options("child", policy)
    };
    host::start_child("Cancellable", &[], &options)?;
    Ok(encode_json(&json!("child started")))
}

/// Starts activities, a timer and a child together, then waits for all.
fn fanout() -> Result<Payload, Failure> {
    let queue = host::info().task_queue;
    let mut handles: Vec<u32> = [300, 100, 200]
        .iter()
        .map(|ms| {
            start_activity(&json!({ "activity_type": "Wait", "task_queue": queue, "args": [ms] }))
        })
        .collect::<Result<_, _>>()?;
    handles.push(host::start_timer(250));
    let options = child_options("child", ParentClosePolicy::Terminate);
    handles.push(host::start_child("Sleep", &[encode_json(&json!(150))], &options)?);
    // `result` blocks until its handle resolves, so this waits for all.
    let results = handles
        .into_iter()
        .map(|h| host::result(h).and_then(|p| decode_json_or_null(&p)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(encode_json(&json!(results)))
}

/// Workflow time: `now()` only moves when history says time has passed.
fn clock() -> Result<Payload, Failure> {
    let before = host::now();
    host::result(host::start_timer(1000))?;
    let after = host::now();
    Ok(encode_json(
        &json!({ "before": before, "after": after, "random": host::random() }),
    ))
}

/// Waits on a timer of the given number of milliseconds.
fn sleep(input: &Value) -> Result<Payload, Failure> {
    let Some(ms) = input.as_u64() else {
        return Err(failure(
            "InvalidInput",
            format!("Sleep input must be a non-negative integer of milliseconds, got {input}"),
        ));
    };
    let timer = host::start_timer(ms);
    host::result(timer)?;
    Ok(encode_json(&json!({ "slept_ms": ms })))
}

/// The single `json/plain` argument of a workflow.
fn single_json_arg(args: &[Payload]) -> Result<Value, Failure> {
    let [payload] = args else {
        return Err(failure(
            "InvalidInput",
            format!("expected one argument, got {}", args.len()),
        ));
    };
    decode_json(payload)
}

/// Decodes a `json/plain` payload; no value (a fired timer's) is `null`.
fn decode_json_or_null(payload: &Payload) -> Result<Value, Failure> {
    if payload.data.is_empty() {
        return Ok(Value::Null);
    }
    decode_json(payload)
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

/// Encodes a value with Temporal's JSON converter (`json/plain`).
fn encode_json(value: &Value) -> Payload {
    Payload {
        metadata: vec![("encoding".to_string(), b"json/plain".to_vec())],
        data: value.to_string().into_bytes(),
    }
}

/// A non-retryable failure: bad input does not get better on retry.
fn failure(error_type: &str, message: String) -> Failure {
    Failure {
        message,
        error_type: error_type.to_string(),
        non_retryable: true,
        details: Vec::new(),
    }
}

/// Sends panic messages through the host's `log` import, so a trapping
/// workflow task says why it failed.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            host::log(LogLevel::Error, &format!("workflow panicked: {info}"));
        }));
    });
}
