//! The OrderWorkflow and its activities in every guest language
//! (guest-examples/ORDER.md), each run end to end with the same assertions,
//! and workflows of one language calling activities of another.

use crate::harness::{Client, Outcome, Weft, scratch, temporal_cli, wait_for, wasm};
use crate::workflow_api::query;
use serde_json::{Value, json};
use std::path::Path;

/// The component a language's example builds to.
fn component(world: &str, lang: &str) -> std::path::PathBuf {
    match lang {
        "rust" => wasm(&format!("order_{world}")),
        _ => wasm(&format!("order_{world}_{lang}")),
    }
}

/// One host: for each (workflow language, activity language) pair, a
/// workflow-only worker on `WF_<wf>` and an activity-only worker on
/// `ACT_<act>` with the order directory and currency granted.
fn serve(test: &str, namespace: &str, pairs: &[(&str, &str)]) -> (std::path::PathBuf, Weft) {
    let dir = scratch(test);
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
    let weft = Weft::serve(&dir, "weft", namespace, &config);
    (dir, weft)
}

/// What CreateOrder and ChargePayment return for `order_id` (ORDER.md).
fn expected(order_id: &str) -> Value {
    let amount = order_id.bytes().map(u64::from).sum::<u64>() % 9_000 + 1_000;
    let activity = |status: &str| json!({"order_id": order_id, "status": status, "amount_cents": amount, "currency": "EUR"});
    json!({
        "order_id": order_id,
        "create_order": activity("created"),
        "charge_payment": activity("charged"),
    })
}

async fn start(client: &Client, id: &str, wf: &str, act: &str) {
    let args = [json!(id), json!(format!("ACT_{act}"))];
    client
        .start(id, "OrderWorkflow", &format!("WF_{wf}"), &args)
        .await;
}

fn status(ns: &str, id: &str) -> Value {
    wait_for("the status query", || query(ns, id, "status"))
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
/// activity failure passed through), and a cancellation signal that wins
/// the race against the grace timer.
async fn language(lang: &str) {
    let ns = format!("e2e-poly-{lang}");
    let (dir, _weft) = serve(&format!("poly-{lang}"), &ns, &[(lang, lang)]);
    let client = Client::new(&ns).await;
    order_completes(&client, &ns, &dir, lang, lang).await;

    let declined = format!("decline-{lang}");
    start(&client, &declined, lang, lang).await;
    assert_eq!(
        client.outcome(&declined).await,
        Outcome::Failed {
            message: format!("payment for order {declined} declined"),
            error_type: "PaymentDeclined".into()
        }
    );
    assert_eq!(status(&ns, &declined), json!("failed"));

    // Signal-with-start: the signal is in the first activation, so it is
    // there before the grace timer could fire.
    let cancelled = format!("cancel-{lang}");
    let (queue, act_queue) = (format!("WF_{lang}"), format!("\"ACT_{lang}\""));
    let input = format!("\"{cancelled}\"");
    temporal_cli(
        &ns,
        &[
            "workflow",
            "signal-with-start",
            "--workflow-id",
            &cancelled,
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
        client.outcome(&cancelled).await,
        Outcome::Failed {
            message: format!("order {cancelled} cancelled"),
            error_type: "OrderCancelled".into()
        }
    );
    assert_eq!(status(&ns, &cancelled), json!("cancelled"));
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

/// A Rust workflow calls Python activities, and a JavaScript workflow calls
/// C activities, each pair on its own task queues.
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
