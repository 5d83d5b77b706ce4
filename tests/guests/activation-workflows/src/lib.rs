//! Test-only workflows for the activation world (`wit/activation.wit`),
//! written on the async Rust SDK. Many runs share one instance.
//!
//! - `Counter`: counts `add` signals (each carries a number) until a `stop`
//!   signal, answering query `total` (no arguments) and query `plus` (one
//!   number: the total plus it) from handlers; query `bad` starts a timer,
//!   which a query may not. Returns `{"total"}`.
//! - `Trap`: panics in its first activation, ending the instance it shares.
//! - `Coroutines`: two spawned coroutines sleep 1,500 and 100 ms and record
//!   their names; the workflow returns them in the order they finished.
//! - `Chain`: input `{"left"}`; continues as new until `left` is 0, then
//!   returns `"done"`.

use serde_json::{Value, json};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;
use weft_sdk::workflow::{self, Either};
use weft_sdk::{Args, Failure, encode, non_retryable};

async fn counter(_: Args) -> Result<Value, Failure> {
    let total = Rc::new(Cell::new(0i64));
    let t = total.clone();
    workflow::query_handler("total", move |_| Ok(encode(&t.get())));
    let t = total.clone();
    workflow::query_handler("plus", move |args| Ok(encode(&(t.get() + args.get::<i64>(0)?))));
    workflow::query_handler("bad", |_| {
        // Not read-only: the host fails this query.
        let _ = workflow::timer(Duration::from_secs(1));
        Ok(encode(&"started a timer"))
    });
    let mut stop = workflow::signal("stop");
    loop {
        let mut add = workflow::signal("add");
        match workflow::select(&mut stop, &mut add).await {
            Either::Left(_) => return Ok(json!({"total": total.get()})),
            Either::Right(args) => total.set(total.get() + args.get::<i64>(0)?),
        }
    }
}

async fn trap(_: Args) -> Result<Value, Failure> {
    panic!("this run traps on purpose");
}

async fn coroutines(_: Args) -> Result<Value, Failure> {
    let finished = Rc::new(RefCell::new(Vec::new()));
    let done = Rc::new(Cell::new(0));
    for (name, ms) in [("slow", 1_500), ("fast", 100)] {
        let (finished, done) = (finished.clone(), done.clone());
        workflow::spawn(async move {
            workflow::sleep(Duration::from_millis(ms)).await;
            finished.borrow_mut().push(name);
            done.set(done.get() + 1);
        });
    }
    // Wait until both coroutines are done, one durable timer at a time.
    while done.get() < 2 {
        workflow::sleep(Duration::from_millis(100)).await;
    }
    let order = finished.borrow().clone();
    Ok(json!(order))
}

async fn chain(args: Args) -> Result<Value, Failure> {
    let input: Value = args.get(0)?;
    let left = input["left"]
        .as_u64()
        .ok_or_else(|| non_retryable("InvalidInput", "expected {\"left\": n}"))?;
    if left == 0 {
        return Ok(json!("done"));
    }
    workflow::continue_as_new(&[&json!({"left": left - 1})]).await
}

weft_sdk::workflows!(
    "Counter" => counter,
    "Trap" => trap,
    "Coroutines" => coroutines,
    "Chain" => chain,
);
