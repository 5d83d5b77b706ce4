//! The activation world (`wit/activation.wit`) end to end, on the async
//! Rust SDK (tests/guests/activation-workflows): many runs share an
//! instance, queries take arguments and are read-only, coroutines are
//! scheduled deterministically, and a trap in one run costs the runs it
//! shared an instance with only a replay.

use crate::harness::{Client, Outcome, Weft, scratch, signal, wait_for, wasm};
use crate::workflow_api::query_with;
use serde_json::{Value, json};

const NS: &str = "e2e-activation";

/// A host for `test`, polling a task queue of the test's own name: the tests
/// of this file share a namespace, and a run's tasks must reach its test's
/// host (without the sticky cache every task goes to the shared queue).
fn serve(test: &str) -> Weft {
    let config = format!(
        "[[worker]]\ntask_queue = \"{test}\"\nworkflows = [{:?}]\n",
        wasm("activation_workflows")
    );
    Weft::serve(&scratch(test), "weft", NS, &config)
}

/// Query `name` of `id` in this test's namespace, with `input` (JSON).
fn query(id: &str, name: &str, input: Option<&str>) -> Result<Value, String> {
    query_with(NS, id, name, input)
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_share_an_instance_answer_queries_with_arguments_and_survive_a_neighbours_trap() {
    let weft = serve("activation");
    let client = Client::new(NS).await;
    let counters = ["counter-a", "counter-b", "counter-c"];
    for id in counters {
        client.start(id, "Counter", "activation", &[]).await;
    }
    for (i, id) in counters.iter().enumerate() {
        signal(NS, id, "add", Some(&(10 * (i + 1)).to_string()));
    }
    // Each run keeps its own state in the shared instance; a query handler
    // takes an argument.
    for (i, id) in counters.iter().enumerate() {
        let total = 10 * (i as i64 + 1);
        wait_for(&format!("{id} to count its signal"), || {
            (query(id, "total", None).ok()? == json!(total)).then_some(())
        });
        assert_eq!(query(id, "plus", Some("5")), Ok(json!(total + 5)), "{id}");
    }
    // A query handler that starts something fails its query, not the run.
    let refused = query("counter-a", "bad", None).expect_err("a query may not start a timer");
    assert!(
        refused.contains("query handlers are read-only"),
        "the failure says why: {refused}"
    );

    // A run that traps ends the instance it shares: its own task fails
    // with the panic, and the other runs are evicted and replay.
    client.start("trap", "Trap", "activation", &[]).await;
    wait_for("the trapping run's task failure in the host log", || {
        let log = weft.log_text();
        log.contains("this run traps on purpose").then_some(())
    });
    client.terminate("trap").await;
    wait_for("the runs sharing its instance to be evicted", || {
        weft.log_text()
            .contains("evicting runs whose guest state is lost")
            .then_some(())
    });
    for (i, id) in counters.iter().enumerate() {
        let total = 10 * (i as i64 + 1) + 1;
        signal(NS, id, "add", Some("1"));
        // `stop` wins over an `add` that comes in the same activation (the
        // guest's select prefers it): send it once the add has counted.
        wait_for(
            &format!("{id} to count the signal after its replay"),
            || (query(id, "total", None).ok()? == json!(total)).then_some(()),
        );
        signal(NS, id, "stop", None);
        assert_eq!(
            client.outcome(id).await,
            Outcome::Completed(json!({"total": total})),
            "{id} replayed its signals and went on"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn coroutines_and_continue_as_new_run_deterministically() {
    let _weft = serve("activation-coroutines");
    let client = Client::new(NS).await;
    client
        .start("coroutines", "Coroutines", "activation-coroutines", &[])
        .await;
    client
        .start(
            "chain",
            "Chain",
            "activation-coroutines",
            &[json!({"left": 2})],
        )
        .await;
    assert_eq!(
        client.outcome("coroutines").await,
        Outcome::Completed(json!(["fast", "slow"])),
        "the coroutines finished in timer order"
    );
    assert_eq!(
        client.outcome("chain").await,
        Outcome::Completed(json!("done"))
    );
}
