//! The OrderWorkflow and its activities in every guest language
//! (guest-examples/ORDER.md), each run end to end with the same assertions,
//! workflows of one language calling activities of another, and a host
//! restarted on its compiled-component cache.

use crate::harness::{
    AppFailure, Client, Outcome, Weft, has_event, scratch, signal, temporal_cli, wait_for, wasm,
};
use crate::workflow_api::{answer, query};
use serde_json::{Value, json};
use std::path::Path;
use temporalio_common::protos::temporal::api::enums::v1::EventType;

/// The component a language's example builds to. Temporal's own SDK
/// (`temporal`) has workflows only: its runs call the Rust activities.
fn component(world: &str, lang: &str) -> std::path::PathBuf {
    match lang {
        "rust" => wasm(&format!("order_{world}")),
        "temporal" if world == "activities" => wasm("order_activities"),
        _ => wasm(&format!("order_{world}_{lang}")),
    }
}

/// One host: for each (workflow language, activity language) pair, a
/// workflow-only worker on `WF_<wf>` and an activity-only worker on
/// `ACT_<act>` with the order directory and currency granted.
fn serve(test: &str, namespace: &str, pairs: &[(&str, &str)]) -> (std::path::PathBuf, Weft) {
    let dir = scratch(test);
    let weft = Weft::serve(&dir, "weft", namespace, &config(&dir, pairs));
    (dir, weft)
}

/// The config of [`serve`], with the order directory under `dir`.
fn config(dir: &Path, pairs: &[(&str, &str)]) -> String {
    let orders = dir.join("orders");
    let mut config = String::new();
    for (wf, act) in pairs {
        config += &format!(
            "[[worker]]\ntask_queue = \"WF_{wf}\"\nworkflows = [{:?}]\n\n",
            component("workflow", wf)
        );
        config += &format!(
            "[[worker]]\ntask_queue = \"ACT_{act}\"\n[[worker.activities]]\nmodule = {:?}\n\
             dirs = [{{ host = {orders:?}, guest = \"/orders\", writable = true, create = true }}]\n\
             env = {{ ORDER_CURRENCY = \"EUR\" }}\n\n",
            component("activities", act)
        );
    }
    config
}

/// What CreateOrder and ChargePayment return for `order_id` (ORDER.md).
pub(crate) fn expected(order_id: &str) -> Value {
    let amount = order_id.bytes().map(u64::from).sum::<u64>() % 9_000 + 1_000;
    let activity = |status: &str| json!({"order_id": order_id, "status": status, "amount_cents": amount, "currency": "EUR"});
    json!({
        "order_id": order_id,
        "create_order": activity("created"),
        "charge_payment": activity("charged"),
    })
}

/// Start OrderWorkflow `id` on language `wf`'s worker, calling language
/// `act`'s activities.
async fn start(client: &Client, id: &str, wf: &str, act: &str) {
    start_with_grace(client, id, wf, act, None).await;
}

/// [`start`], with the optional third argument `grace_ms` when given.
async fn start_with_grace(client: &Client, id: &str, wf: &str, act: &str, grace: Option<Value>) {
    let mut args = vec![json!(id), json!(format!("ACT_{act}"))];
    args.extend(grace);
    client
        .start(id, "OrderWorkflow", &format!("WF_{wf}"), &args)
        .await;
}

/// How a cancelled order fails (ORDER.md step 3).
fn cancelled(id: &str) -> AppFailure {
    AppFailure {
        message: format!("order {id} cancelled"),
        error_type: "OrderCancelled".into(),
        non_retryable: true,
        details: vec![],
    }
}

fn status(ns: &str, id: &str) -> Value {
    answer(ns, id, "status")
}

/// The happy path: both activities, the grace timer, result and query.
async fn order_completes(client: &Client, ns: &str, dir: &Path, wf: &str, act: &str) {
    let id = format!("{wf}-{act}-ok");
    start(client, &id, wf, act).await;
    assert_eq!(
        client.outcome(&id).await,
        Outcome::Completed(expected(&id)),
        "{wf} -> {act}"
    );
    assert_eq!(status(ns, &id), json!("completed"));
    assert!(
        dir.join(format!("orders/{id}.json")).exists(),
        "CreateOrder wrote the order file"
    );
}

/// Every example of one language: happy path, a declined payment (an
/// activity failure passed through), a cancellation signal that is there
/// before the grace timer starts, one sent while the run waits out its
/// grace period, and an invalid grace period.
pub(crate) async fn language(lang: &str) {
    let ns = format!("e2e-poly-{lang}");
    let (dir, _weft) = serve(&format!("poly-{lang}"), &ns, &[(lang, lang)]);
    let client = Client::new(&ns).await;
    order_completes(&client, &ns, &dir, lang, lang).await;
    payment_declined(&client, &ns, lang).await;
    cancelled_by_signal_with_start(&client, &ns, lang).await;
    cancelled_while_waiting(&client, &ns, lang).await;
    invalid_grace_is_refused(&client, lang).await;
}

/// ChargePayment declines an order id containing `decline`: the workflow
/// fails with the activity's failure as received, non-retryable.
async fn payment_declined(client: &Client, ns: &str, lang: &str) {
    let declined = format!("decline-{lang}");
    start(client, &declined, lang, lang).await;
    let message = format!("payment for order {declined} declined");
    assert_eq!(
        client.outcome(&declined).await,
        Outcome::Failed {
            message: message.clone(),
            error_type: "PaymentDeclined".into()
        }
    );
    // ORDER.md names no details for this failure: only these three fields.
    let failure = client.failure(&declined).await;
    assert_eq!(
        (
            &*failure.error_type,
            &*failure.message,
            failure.non_retryable
        ),
        ("PaymentDeclined", &*message, true),
        "{lang}: {failure:?}"
    );
    assert_eq!(status(ns, &declined), json!("failed"));
}

/// Signal-with-start: the signal is in the first activation, so it is there
/// before the grace timer could fire.
async fn cancelled_by_signal_with_start(client: &Client, ns: &str, lang: &str) {
    let cancelled_id = format!("cancel-{lang}");
    let (queue, act_queue) = (format!("WF_{lang}"), format!("\"ACT_{lang}\""));
    let input = format!("\"{cancelled_id}\"");
    temporal_cli(
        ns,
        &[
            "workflow",
            "signal-with-start",
            "--workflow-id",
            &cancelled_id,
            "--type",
            "OrderWorkflow",
            "--task-queue",
            &queue,
            "--input",
            &input,
            "--input",
            &act_queue,
            "--signal-name",
            "cancel-order",
        ],
    );
    assert_eq!(
        client.outcome(&cancelled_id).await,
        Outcome::Failed {
            message: format!("order {cancelled_id} cancelled"),
            error_type: "OrderCancelled".into()
        }
    );
    assert_eq!(
        client.failure(&cancelled_id).await,
        cancelled(&cancelled_id)
    );
    assert_eq!(status(ns, &cancelled_id), json!("cancelled"));
}

/// A run with a 60 s grace period: the `status` query reads "grace" while
/// it waits, and a `cancel-order` signal sent then ends it. The long grace
/// is what makes this deterministic: the timer cannot win the race.
async fn cancelled_while_waiting(client: &Client, ns: &str, lang: &str) {
    let id = format!("wait-{lang}");
    start_with_grace(client, &id, lang, lang, Some(json!(60_000))).await;
    wait_for(&format!("{id}: the status query to read \"grace\""), || {
        (query(ns, &id, "status")? == json!("grace")).then_some(())
    });
    let history = client.history(&id).await;
    assert!(
        has_event(&history, EventType::TimerStarted)
            && !has_event(&history, EventType::TimerFired)
            && !has_event(&history, EventType::TimerCanceled),
        "{id} waits on its grace timer: {history:?}"
    );

    signal(ns, &id, "cancel-order", None);
    assert_eq!(
        client.outcome(&id).await,
        Outcome::Failed {
            message: format!("order {id} cancelled"),
            error_type: "OrderCancelled".into()
        }
    );
    assert_eq!(client.failure(&id).await, cancelled(&id));
    assert_eq!(status(ns, &id), json!("cancelled"));
    let history = client.history(&id).await;
    assert!(
        has_event(&history, EventType::TimerCanceled)
            && !has_event(&history, EventType::TimerFired),
        "the signal cancelled the grace timer of {id}: {history:?}"
    );
}

/// A `grace_ms` of the wrong type or range fails the run before it
/// schedules anything.
async fn invalid_grace_is_refused(client: &Client, lang: &str) {
    for (case, grace) in [("type", json!("soon")), ("range", json!(0))] {
        let id = format!("grace-{case}-{lang}");
        start_with_grace(client, &id, lang, lang, Some(grace)).await;
        let outcome = client.outcome(&id).await;
        assert!(
            matches!(&outcome, Outcome::Failed { error_type, .. } if error_type == "InvalidInput"),
            "{id}: {outcome:?}"
        );
        let failure = client.failure(&id).await;
        assert!(failure.non_retryable, "{id}: {failure:?}");
        let history = client.history(&id).await;
        assert!(
            !has_event(&history, EventType::ActivityTaskScheduled),
            "{id} scheduled nothing: {history:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_order_example() {
    language("rust").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn c_order_example() {
    language("c").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn zig_order_example() {
    language("zig").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn python_order_example() {
    language("python").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn js_order_example() {
    language("js").await;
}

/// A Rust workflow calls Python activities and a JavaScript workflow calls
/// C activities, each pair on its own task queues, in one host.
#[tokio::test(flavor = "multi_thread")]
async fn workflows_call_activities_written_in_other_languages() {
    let ns = "e2e-interop";
    let pairs = [("rust", "python"), ("js", "c")];
    let (dir, _weft) = serve("interop", ns, &pairs);
    let client = Client::new(ns).await;
    for (wf, act) in pairs {
        order_completes(&client, ns, &dir, wf, act).await;
    }
}

/// Whether the host's JSON log says it loaded a module whose file name ends
/// with `file` from the compiled-component cache; waits for the line.
fn loaded_from_cache(weft: &Weft, file: &str) -> bool {
    wait_for(&format!("the host to log loading {file}"), || {
        weft.log_text()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|e| e["fields"].clone())
            .find(|f| {
                f["message"] == "module compiled"
                    && f["module"].as_str().is_some_and(|m| m.ends_with(file))
            })
            .and_then(|f| f["from_cache"].as_bool())
    })
}

/// The compiled-component cache across a restart: a host on an empty cache
/// compiles the JavaScript workflow (12 MB, seconds of compiling) and the C
/// activities and stores both; killed and started again on the same
/// directory it loads them instead, and the workflow still completes
/// (calling another language's activities). The suite's other hosts share
/// a cache that is warm after the first load of each module.
#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_host_loads_compiled_components_from_its_cache() {
    let ns = "e2e-compile-cache";
    let (wf, act) = ("js", "c");
    let dir = scratch("compile-cache");
    let cache = dir.join("compiled");
    let config = config(&dir, &[(wf, act)]);
    let env = [
        ("WEFT_CACHE_DIR", cache.to_str().expect("utf-8 path")),
        ("WEFT_LOG_FORMAT", "json"),
    ];
    let entries = || {
        std::fs::read_dir(&cache)
            .map(|d| d.filter_map(Result::ok).count())
            .unwrap_or(0)
    };
    let files = ["order_workflow_js.wasm", "order_activities_c.wasm"];

    let mut first = Weft::serve_with_env(&dir, "first", ns, &config, &env);
    for file in files {
        assert!(
            !loaded_from_cache(&first, file),
            "{file} compiled on an empty cache"
        );
    }
    assert_eq!(entries(), files.len(), "one cache entry per module");
    first.kill9();

    let second = Weft::serve_with_env(&dir, "second", ns, &config, &env);
    for file in files {
        assert!(
            loaded_from_cache(&second, file),
            "{file} loaded from the cache"
        );
    }
    assert_eq!(entries(), files.len(), "nothing compiled again");
    let client = Client::new(ns).await;
    order_completes(&client, ns, &dir, wf, act).await;
}
