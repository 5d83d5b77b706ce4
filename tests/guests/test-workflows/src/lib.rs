// Test-only workflow guest for weft's host tests, on the async Rust SDK
// (the activation world): many runs share one instance.

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
//! - `Counter`: adds the numbers sent as `increment` updates (a validator
//!   rejects negative ones before they are accepted) until signal `stop`,
//!   then waits for running handlers and returns `{"count"}`. Query `count`
//!   reads the count, query `plus` (one number) the count plus it; query
//!   `bad` starts a timer, which a query may not.
//! - `Handlers`: handlers beside a running workflow. Update `slow` (a
//!   number of ms; its validator rejects more than 60,000) records `slow
//!   started`, sleeps that long, records `slow slept`, waits for the
//!   `finish` signal, records `slow done` and returns the number; signal
//!   `note` records `note <arg>`; signal `finish` records `finish`. The
//!   workflow waits for `slow started`, sleeps 100 ms (records `main
//!   slept`), waits for `finish`, then for every handler to finish, records
//!   `all handlers finished` and returns the records. Query `events` reads
//!   them.
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
//!   timers forever, `queries` publishes ever more query answers of n bytes
//!   (held in guest memory), `patches` asks for ever more patch ids,
//!   `big-result` returns an n-byte string, `grow-memory` grows its linear
//!   memory 1 MiB at a time (without touching it) until the host's memory
//!   limit stops it.

use serde_json::{Value, json};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;
use weft_sdk::workflow::{
    self, Activity, ActivityCancellation, ActivityOptions, Child, ChildCancellation, Either,
    Handle, LocalActivity, ParentClosePolicy, RetryPolicy, all_handlers_finished,
    external_workflow, wait_condition,
};
use weft_sdk::{Args, Failure, LogLevel, Payload, decode, encode};

/// Start-to-close timeout of activities `RunActivity` schedules, unless the
/// input sets one.
const ACTIVITY_TIMEOUT_MS: u64 = 10_000;

/// No arguments, for calls that take a typed argument list.
const NONE: &[&Value] = &[];

async fn trap(_: Args) -> Result<Value, Failure> {
    panic!("deliberate trap for tests");
}

/// Schedules the activity the input describes and returns its outcome as-is.
async fn run_activity(args: Args) -> Result<Value, Failure> {
    let input: Value = input(&args)?;
    start_activity(&input)?.await.and_then(|p| value(&p))
}

/// Schedules the activity an input describes: `activity_type`,
/// `task_queue`, `args`, and optionally `start_to_close_ms`,
/// `schedule_to_close_ms`, `schedule_to_start_ms`, `heartbeat_timeout_ms`,
/// `cancellation` (`"try-cancel"`, `"wait"`, `"abandon"`) and
/// `retry: {maximum_attempts, non_retryable_error_types}`.
fn start_activity(input: &Value) -> Result<Handle, Failure> {
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
    workflow::log(
        LogLevel::Info,
        &format!("running activity {activity_type} on {task_queue}"),
    );
    let args: Vec<&Value> = args.iter().collect();
    Ok(Activity::new(activity_type).options(options).start(&args))
}

/// Sums the numbers sent as `add` signals; query `total` reads the sum.
async fn signals(args: Args) -> Result<Value, Failure> {
    let count = input(&args)?.as_u64().unwrap_or(0);
    let mut total: i64 = 0;
    workflow::set_query("total", &total);
    for _ in 0..count {
        let signal = workflow::signal("add").await;
        total += signal
            .opt::<Value>(0)?
            .and_then(|v| v.as_i64())
            .unwrap_or(0);
        workflow::set_query("total", &total);
    }
    Ok(json!({ "total": total }))
}

/// Waits for an hour or for cancellation, whichever comes first.
async fn cancellable(_: Args) -> Result<Value, Failure> {
    let mut cancelled = workflow::cancellation();
    let mut timer = workflow::timer(Duration::from_secs(3600));
    workflow::set_query("state", "waiting");
    if let Either::Left(_) = workflow::select(&mut timer, &mut cancelled).await {
        return Ok(json!("timer fired"));
    }
    timer.cancel();
    let timer_outcome = timer.await.err().map(|f| f.error_type);
    workflow::set_query("state", &json!({ "timer": timer_outcome }));
    Err(Failure {
        message: "cancelled while waiting".into(),
        error_type: "CancelledError".into(),
        non_retryable: true,
        details: Vec::new(),
    })
}

/// Counts runs across continue-as-new.
async fn continue_as_new(args: Args) -> Result<Value, Failure> {
    let input = input(&args)?;
    let left = input["left"].as_u64().unwrap_or(0);
    let runs = input["runs"].as_u64().unwrap_or(0) + 1;
    if left > 0 {
        workflow::continue_as_new(&[&json!({ "left": left - 1, "runs": runs })]).await;
    }
    Ok(json!({ "runs": runs }))
}

async fn patched(_: Args) -> Result<Value, Failure> {
    Ok(json!(if workflow::patched("v2") { "v2" } else { "v1" }))
}

/// Sets a search attribute and a memo field.
async fn upsert(_: Args) -> Result<Value, Failure> {
    workflow::upsert_search_attributes(&[("CustomerId", "c-42")]);
    workflow::upsert_memo(&[("note", "hello")]);
    Ok(json!("upserted"))
}

/// Children and external workflows: start, signal, cancel, wait.
async fn family(args: Args) -> Result<Value, Failure> {
    let input = input(&args)?;
    let me = workflow::info().workflow_id;
    // A child that sums one signal, which this parent sends it by id.
    let summer = child("Signals", "summer", ParentClosePolicy::Terminate)
        .start(&[&json!(1)])
        .await?;
    external_workflow(&format!("{me}-summer"))
        .signal("add", &[&json!(7)])
        .await?;
    let summed: Value = summer.result().await?;
    // A child that waits for an hour, cancelled through its handle.
    let sleeper = child("Cancellable", "sleeper", ParentClosePolicy::Terminate)
        .start(NONE)
        .await?;
    sleeper.cancel();
    let sleeper_outcome = sleeper.await.err().map(|f| f.error_type);
    // Another workflow, cancelled by id.
    let target = input["cancel"].as_str().unwrap_or_default();
    let cancel_delivered = external_workflow(target).cancel().await.is_ok();
    Ok(json!({
        "summer": summed,
        "sleeper": sleeper_outcome,
        "external_cancel_delivered": cancel_delivered,
    }))
}

/// A child `<this workflow's id>-<suffix>` of type `workflow_type` on this
/// task queue, cancelled by waiting for it to end.
fn child(workflow_type: &str, suffix: &str, policy: ParentClosePolicy) -> Child {
    Child::new(workflow_type)
        .workflow_id(&format!("{}-{suffix}", workflow::info().workflow_id))
        .execution_timeout(Duration::from_secs(60))
        .parent_close_policy(policy)
        .cancellation(ChildCancellation::WaitCancellationCompleted)
}

/// Runs the activity the input describes as a local activity.
async fn run_local(args: Args) -> Result<Value, Failure> {
    let input = input(&args)?;
    let activity_type = input["activity_type"].as_str().unwrap_or_default();
    let args: Vec<&Value> = input["args"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let mut local = LocalActivity::new(activity_type)
        .start_to_close(Duration::from_millis(ACTIVITY_TIMEOUT_MS));
    if let Some(r) = input.get("retry") {
        local = local.retry(RetryPolicy {
            initial_interval_ms: r["initial_interval_ms"].as_u64().unwrap_or(100),
            backoff_coefficient: 1.0,
            maximum_interval_ms: 0,
            maximum_attempts: r["maximum_attempts"].as_u64().unwrap_or(0) as u32,
            non_retryable_error_types: Vec::new(),
        });
    }
    if let Some(ms) = input["local_retry_threshold_ms"].as_u64() {
        local = local.local_retry_threshold(Duration::from_millis(ms));
    }
    local.start(&args).await.and_then(|p| value(&p))
}

/// The increment an `increment` update carries; negative ones are refused.
fn increment(args: &Args) -> Result<i64, Failure> {
    let by = args.opt::<Value>(0)?.and_then(|v| v.as_i64()).unwrap_or(0);
    if by < 0 {
        return Err(failure("InvalidIncrement", format!("cannot add {by}")));
    }
    Ok(by)
}

/// Counts with updates; validation rejects negative increments.
async fn counter(_: Args) -> Result<Value, Failure> {
    let count = Rc::new(Cell::new(0i64));
    let c = count.clone();
    workflow::update_handler_validated(
        "increment",
        |args| increment(args).map(drop),
        move |args| {
            let c = c.clone();
            async move {
                // On replay of an update accepted before the validator
                // existed, the check falls to the handler.
                c.set(c.get() + increment(&args)?);
                Ok(c.get())
            }
        },
    );
    let c = count.clone();
    workflow::query_handler("count", move |_| Ok(encode(&c.get())));
    let c = count.clone();
    workflow::query_handler("plus", move |args| {
        Ok(encode(&(c.get() + args.get::<i64>(0)?)))
    });
    workflow::query_handler("bad", |_| {
        // Not read-only: the host fails this query, not the run.
        let _ = workflow::timer(Duration::from_secs(1));
        Ok(encode("started a timer"))
    });
    workflow::signal("stop").await;
    wait_condition(all_handlers_finished).await;
    Ok(json!({ "count": count.get() }))
}

/// Handlers beside a running workflow (see the module doc).
async fn handlers(_: Args) -> Result<Value, Failure> {
    let events = Rc::new(RefCell::new(Vec::<String>::new()));
    let finishing = Rc::new(Cell::new(false));
    let record = {
        let events = events.clone();
        move |what: String| events.borrow_mut().push(what)
    };
    let has = {
        let events = events.clone();
        move |what: &'static str| {
            let events = events.clone();
            move || events.borrow().iter().any(|e| e == what)
        }
    };
    let e = events.clone();
    workflow::query_handler("events", move |_| Ok(encode(&*e.borrow())));
    let r = record.clone();
    workflow::signal_handler("note", move |args| {
        let r = r.clone();
        async move {
            let note: String = args.get(0).unwrap_or_default();
            r(format!("note {note}"));
        }
    });
    let (r, f) = (record.clone(), finishing.clone());
    workflow::signal_handler("finish", move |_| {
        let (r, f) = (r.clone(), f.clone());
        async move {
            r("finish".into());
            f.set(true);
        }
    });
    let (r, f) = (record.clone(), finishing.clone());
    workflow::update_handler_validated(
        "slow",
        |args| match args.get::<u64>(0)? {
            ms if ms > 60_000 => Err(failure("TooSlow", format!("cannot wait {ms} ms"))),
            _ => Ok(()),
        },
        move |args| {
            let (r, f) = (r.clone(), f.clone());
            async move {
                let ms: u64 = args.get(0)?;
                r("slow started".into());
                workflow::sleep(Duration::from_millis(ms)).await;
                r("slow slept".into());
                wait_condition(move || f.get()).await;
                r("slow done".into());
                Ok(ms)
            }
        },
    );
    wait_condition(has("slow started")).await;
    workflow::sleep(Duration::from_millis(100)).await;
    record("main slept".into());
    let f = finishing.clone();
    wait_condition(move || f.get()).await;
    wait_condition(all_handlers_finished).await;
    record("all handlers finished".into());
    let events = events.borrow().clone();
    Ok(json!(events))
}

/// Issues different commands on replay than it did the first time.
async fn diverge(_: Args) -> Result<Value, Failure> {
    let handle = if workflow::is_replaying() {
        start_activity(&json!({ "activity_type": "Wait", "task_queue": "nowhere", "args": [1] }))?
    } else {
        workflow::timer(Duration::from_millis(100))
    };
    handle.await.and_then(|p| value(&p))
}

/// Races an activity against a timer or a signal; the loser is cancelled.
async fn race(args: Args) -> Result<Value, Failure> {
    let input = input(&args)?;
    let mut activity = start_activity(&input)?;
    let won = match input["signal"].as_str() {
        Some(signal) => {
            let mut rival = workflow::signal(signal);
            match workflow::select(&mut activity, &mut rival).await {
                Either::Left(result) => Some(result),
                Either::Right(_) => None,
            }
        }
        None => {
            let ms = input["timer_ms"].as_u64().unwrap_or(1000);
            let mut rival = workflow::timer(Duration::from_millis(ms));
            match workflow::select(&mut activity, &mut rival).await {
                Either::Left(result) => {
                    rival.cancel();
                    Some(result)
                }
                Either::Right(_) => None,
            }
        }
    };
    if let Some(result) = won {
        return Ok(json!({ "winner": "activity", "result": value(&result?)? }));
    }
    let name = if input["signal"].is_string() {
        "signal"
    } else {
        "timer"
    };
    activity.cancel();
    let loser = match activity.await {
        Ok(p) => json!({ "completed": value(&p)? }),
        Err(f) => json!({ "error_type": f.error_type }),
    };
    Ok(json!({ "winner": name, "activity": loser }))
}

/// Misbehaves towards the host as `input["do"]` says (see the module doc).
async fn hostile(args: Args) -> Result<Value, Failure> {
    let input = input(&args)?;
    let bytes = input["bytes"].as_u64().unwrap_or(8 << 20) as usize;
    let big = "x".repeat(bytes);
    let mut i: u64 = 0;
    match input["do"].as_str().unwrap_or_default() {
        "log-flood" => loop {
            workflow::log(LogLevel::Info, &big);
        },
        "busy-imports" => loop {
            std::hint::black_box(workflow::now_ms());
        },
        "timers" => loop {
            workflow::timer(Duration::from_secs(60));
        },
        "queries" => loop {
            i += 1;
            workflow::set_query(&format!("q{i}"), &big);
        },
        "patches" => loop {
            i += 1;
            workflow::patched(&format!("patch-{i}"));
        },
        "big-result" => Ok(json!(big)),
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
        other => Err(failure(
            "BadInput",
            format!("unknown hostile act {other:?}"),
        )),
    }
}

/// Never calls the host: only fuel exhaustion stops it.
async fn spin(_: Args) -> Result<Value, Failure> {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

/// Runs an activity and reports its failure field by field.
async fn catch(args: Args) -> Result<Value, Failure> {
    let input = input(&args)?;
    Ok(match start_activity(&input)?.await {
        Ok(payload) => json!({ "result": value(&payload)? }),
        Err(f) => json!({
            "error_type": f.error_type,
            "message": f.message,
            "non_retryable": f.non_retryable,
            "details": f.details.iter().map(value).collect::<Result<Vec<_>, _>>()?,
        }),
    })
}

/// Fails with the failure the input describes.
async fn fail(args: Args) -> Result<Value, Failure> {
    let input = input(&args)?;
    Err(Failure {
        message: input["message"].as_str().unwrap_or_default().to_string(),
        error_type: input["error_type"].as_str().unwrap_or_default().to_string(),
        non_retryable: input["non_retryable"].as_bool().unwrap_or(false),
        details: input["details"]
            .as_array()
            .map(|d| d.iter().map(encode).collect())
            .unwrap_or_default(),
    })
}

/// Starts a long child under the input's parent close policy and returns
/// while it still runs, so closing the parent applies the policy.
async fn parent(args: Args) -> Result<Value, Failure> {
    let input = input(&args)?;
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
    // Long enough to outlive the test when abandoned.
    child("Cancellable", "child", policy)
        .execution_timeout(Duration::from_secs(600))
        .start(NONE)
        .await?;
    Ok(json!("child started"))
}

/// Starts activities, a timer and a child together, then waits for all.
async fn fanout(_: Args) -> Result<Value, Failure> {
    let queue = workflow::info().task_queue;
    let mut handles: Vec<Handle> = [300, 100, 200]
        .iter()
        .map(|ms| {
            start_activity(&json!({ "activity_type": "Wait", "task_queue": queue, "args": [ms] }))
        })
        .collect::<Result<_, _>>()?;
    handles.push(workflow::timer(Duration::from_millis(250)));
    handles.push(
        child("Sleep", "child", ParentClosePolicy::Terminate)
            .start(&[&json!(150)])
            .await?,
    );
    let results = workflow::join_all(handles)
        .await
        .into_iter()
        .map(|outcome| outcome.and_then(|p| value(&p)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!(results))
}

/// Workflow time: `now()` only moves when history says time has passed.
async fn clock(_: Args) -> Result<Value, Failure> {
    let before = workflow::now_ms();
    workflow::timer(Duration::from_millis(1000)).await?;
    let after = workflow::now_ms();
    Ok(json!({ "before": before, "after": after, "random": workflow::random() }))
}

/// Waits on a timer of the given number of milliseconds.
async fn sleep(args: Args) -> Result<Value, Failure> {
    let input = input(&args)?;
    let Some(ms) = input.as_u64() else {
        return Err(failure(
            "InvalidInput",
            format!("Sleep input must be a non-negative integer of milliseconds, got {input}"),
        ));
    };
    workflow::timer(Duration::from_millis(ms)).await?;
    Ok(json!({ "slept_ms": ms }))
}

/// The single `json/plain` argument of a workflow.
fn input(args: &Args) -> Result<Value, Failure> {
    if args.len() != 1 {
        return Err(failure(
            "InvalidInput",
            format!("expected one argument, got {}", args.len()),
        ));
    }
    args.get(0)
}

/// A payload as JSON; no value (a fired timer's) is `null`.
fn value(payload: &Payload) -> Result<Value, Failure> {
    if payload.data.is_empty() {
        return Ok(Value::Null);
    }
    decode(payload)
}

/// A non-retryable failure: bad input does not get better on retry.
fn failure(error_type: &str, message: String) -> Failure {
    weft_sdk::non_retryable(error_type, message)
}

weft_sdk::workflows!(
    "Trap" => trap,
    "RunActivity" => run_activity,
    "Sleep" => sleep,
    "Signals" => signals,
    "Cancellable" => cancellable,
    "Race" => race,
    "ContinueAsNew" => continue_as_new,
    "Patched" => patched,
    "Upsert" => upsert,
    "Diverge" => diverge,
    "Family" => family,
    "Counter" => counter,
    "Handlers" => handlers,
    "RunLocal" => run_local,
    "Spin" => spin,
    "Catch" => catch,
    "Fail" => fail,
    "Parent" => parent,
    "Fanout" => fanout,
    "Clock" => clock,
    "Hostile" => hostile,
);
