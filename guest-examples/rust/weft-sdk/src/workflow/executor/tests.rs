use super::calls::CALLS;
use super::*;
use crate::encode;
use crate::workflow::bindings::exports::weft::plugin::activation_guest::Signal;
use crate::workflow::{
    self, all_handlers_finished, join_all, signal_handler, update_handler,
    update_handler_validated, wait_condition,
};

fn signal(name: &str, n: i64) -> Job {
    Job::Signal(Signal {
        name: name.to_owned(),
        args: vec![encode(&n)],
    })
}

fn update(id: &str, name: &str, n: i64, run_validator: bool) -> Job {
    Job::Update(Update {
        id: id.to_owned(),
        name: name.to_owned(),
        args: vec![encode(&n)],
        run_validator,
    })
}

/// What the executor told the host since the last call.
fn calls() -> Vec<String> {
    CALLS.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

fn completed(status: RunStatus) -> Option<String> {
    match status {
        RunStatus::Completed(Ok(p)) => Some(String::from_utf8_lossy(&p.data).into_owned()),
        RunStatus::Completed(Err(f)) => Some(format!("failed: {}", f.message)),
        _ => None,
    }
}

/// A run of `f`'s future, its result encoded.
fn run<F, Fut, T>(f: F) -> Run
where
    F: FnOnce() -> Fut + 'static,
    Fut: Future<Output = Result<T, Failure>> + 'static,
    T: serde::Serialize,
{
    Run::new(move || {
        let fut = f();
        Box::pin(async move { fut.await.map(|v| encode(&v)) })
    })
}

/// A future that is ready on its second poll (a yield to the executor).
fn yield_once() -> impl Future<Output = ()> {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

#[test]
fn signal_handlers_run_in_delivery_order_including_buffered_signals() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    let r = run(move || async move {
        // Signals that came before the handler is set are handed to it.
        let l = log.clone();
        signal_handler("add", move |args| {
            let l = l.clone();
            async move { l.borrow_mut().push(args.get::<i64>(0).unwrap()) }
        });
        let l = log.clone();
        wait_condition(move || l.borrow().len() == 4).await;
        Ok(log.borrow().clone())
    });
    // The first activation brings two signals before the code set a handler.
    assert!(completed(r.activate(vec![signal("add", 1), signal("add", 2)])).is_none());
    let status = r.activate(vec![signal("add", 3), signal("other", 9), signal("add", 4)]);
    assert_eq!(completed(status).as_deref(), Some("[1,2,3,4]"));
    assert_eq!(*seen.borrow(), vec![1, 2, 3, 4]);
}

#[test]
fn a_validator_rejects_before_acceptance_and_a_handler_completes_later() {
    calls();
    let total = Rc::new(Cell::new(0i64));
    let t = total.clone();
    let r = run(move || async move {
        let t2 = t.clone();
        update_handler_validated(
            "add",
            |args| match args.get::<i64>(0)? {
                n if n < 0 => Err(non_retryable("Invalid", format!("cannot add {n}"))),
                _ => Ok(()),
            },
            move |args| {
                let t = t2.clone();
                async move {
                    // A long-running update: waits a step, then completes.
                    yield_once().await;
                    t.set(t.get() + args.get::<i64>(0)?);
                    Ok(t.get())
                }
            },
        );
        workflow::signal("stop").await;
        wait_condition(all_handlers_finished).await;
        Ok(t.get())
    });
    assert!(completed(r.activate(vec![update("u1", "add", 5, true)])).is_none());
    assert_eq!(calls(), ["accept u1", "complete u1: 5"]);
    // Rejected by the validator; an unknown update is rejected at the end
    // of the activation; on replay the validator does not run.
    let status = r.activate(vec![
        update("u2", "add", -1, true),
        update("u3", "reset", 0, true),
        update("u4", "add", -2, false),
    ]);
    assert!(completed(status).is_none());
    assert_eq!(
        calls(),
        [
            "reject u2: cannot add -1",
            "accept u4",
            "complete u4: 3",
            "reject u3: this workflow handles no update named `reset`",
        ]
    );
    // `stop` and an update together: the run waits for the handler.
    let status = r.activate(vec![signal("stop", 0), update("u5", "add", 10, true)]);
    assert_eq!(completed(status).as_deref(), Some("13"));
    assert_eq!(calls(), ["accept u5", "complete u5: 13"]);
    assert_eq!(total.get(), 13);
}

#[test]
fn a_run_that_ends_with_handlers_running_says_which() {
    calls();
    let r = run(|| async {
        update_handler("slow", |_| async {
            std::future::pending::<()>().await;
            Ok(0)
        });
        workflow::signal("stop").await;
        Ok("done")
    });
    assert!(completed(r.activate(vec![update("u1", "slow", 0, true)])).is_none());
    let status = r.activate(vec![signal("stop", 0)]);
    assert_eq!(completed(status).as_deref(), Some("\"done\""));
    let calls = calls();
    assert_eq!(calls[0], "accept u1");
    assert!(
        calls[1].contains("handlers still ran: update `slow` (u1)"),
        "{calls:?}"
    );
}

#[test]
fn join_all_keeps_the_order_of_its_futures() {
    let r = run(|| async {
        let done = join_all([
            Box::pin(async {
                yield_once().await;
                yield_once().await;
                "slow"
            }) as Pin<Box<dyn Future<Output = &str>>>,
            Box::pin(async { "fast" }),
        ])
        .await;
        Ok(done)
    });
    assert_eq!(
        completed(r.activate(Vec::new())).as_deref(),
        Some(r#"["slow","fast"]"#)
    );
}

#[test]
fn dropping_a_run_frees_its_state() {
    let r = run(|| async {
        wait_condition(|| false).await;
        Ok(())
    });
    assert!(completed(r.activate(Vec::new())).is_none());
    let ctx = Rc::downgrade(&r.ctx);
    drop(r);
    assert!(ctx.upgrade().is_none(), "no task keeps the run alive");
}
