//! Workflows written with Temporal's own Rust SDK (`temporalio-workflow`),
//! for weft's tests of the `temporal:workflow-runtime` world
//! (`tests/e2e/temporal_world.rs`), after the SDK's own examples:
//!
//! - `Counter(target)`: signal `increment(n)`, query `get_counter`, update
//!   `set_counter(v)` (its validator rejects a negative `v`; it answers the
//!   old value); returns the counter once it reaches `target`.
//! - `Chain([i, max])`: a 100 ms timer, then continue-as-new with `i + 1`
//!   until `i == max`; returns `"Completed after <max> iterations"`.
//! - `Parent([names])`: one child `GreetingChild(name)` after another;
//!   returns their greetings.
//! - `GreetingChild(name)`: returns `"Hello, <name>!"`.
//! - `Cancellable`: waits for what never comes; ends as cancelled when
//!   cancelled.
//! - `Trapper`: panics (built with `panic = "abort"`: a trap) at its first
//!   activation, every time: its instance is lost with every run on it.

use std::time::Duration;

use temporalio_workflow::{
    ChildWorkflowOptions, ContinueAsNewOptions, SyncWorkflowContext, WorkflowContext,
    WorkflowContextView, WorkflowResult, workflow, workflow_methods,
};

/// The counter of `Counter`.
#[workflow]
#[derive(Default)]
pub struct Counter {
    counter: i32,
}

#[workflow_methods]
impl Counter {
    #[run(name = "Counter")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, target: i32) -> WorkflowResult<i32> {
        ctx.wait_condition(|s| s.counter >= target).await?;
        Ok(ctx.state(|s| s.counter))
    }

    #[signal(name = "increment")]
    pub fn increment(&mut self, _ctx: &mut SyncWorkflowContext<Self>, amount: i32) {
        self.counter += amount;
    }

    #[query(name = "get_counter")]
    pub fn get_counter(&self, _ctx: &WorkflowContextView) -> i32 {
        self.counter
    }

    #[update_validator(set_counter)]
    fn validate_set_counter(
        &self,
        _ctx: &WorkflowContextView,
        value: &i32,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if *value < 0 {
            Err("Counter value must be non-negative".into())
        } else {
            Ok(())
        }
    }

    #[update(name = "set_counter")]
    pub fn set_counter(&mut self, _ctx: &mut SyncWorkflowContext<Self>, value: i32) -> i32 {
        std::mem::replace(&mut self.counter, value)
    }
}

/// `Chain`: continue-as-new.
#[workflow]
#[derive(Default)]
pub struct Chain;

#[workflow_methods]
impl Chain {
    #[run(name = "Chain")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: (u32, u32)) -> WorkflowResult<String> {
        let (iteration, max) = input;
        ctx.timer(Duration::from_millis(100)).await;
        if iteration < max {
            ctx.continue_as_new((iteration + 1, max), ContinueAsNewOptions::default())?;
        }
        Ok(format!("Completed after {max} iterations"))
    }
}

/// `GreetingChild`: a child workflow.
#[workflow]
#[derive(Default)]
pub struct GreetingChild;

#[workflow_methods]
impl GreetingChild {
    #[run(name = "GreetingChild")]
    pub async fn run(_ctx: &mut WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        Ok(format!("Hello, {name}!"))
    }
}

/// `Parent`: children, one after another.
#[workflow]
#[derive(Default)]
pub struct Parent;

#[workflow_methods]
impl Parent {
    #[run(name = "Parent")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        names: Vec<String>,
    ) -> WorkflowResult<Vec<String>> {
        let mut greetings = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let id = format!("{}-child-{i}", ctx.workflow_id());
            let started = ctx
                .start_child_workflow(
                    GreetingChild::run,
                    name.clone(),
                    ChildWorkflowOptions::workflow_id(id),
                )
                .await?;
            greetings.push(started.result().await?);
        }
        Ok(greetings)
    }
}

/// `Cancellable`: cancelled from outside.
#[workflow]
#[derive(Default)]
pub struct Cancellable;

#[workflow_methods]
impl Cancellable {
    #[run(name = "Cancellable")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<()> {
        // Waiting inherits the run's cancellation: `?` ends it as cancelled.
        ctx.wait_condition(|_| false).await?;
        Ok(())
    }
}

/// `Trapper`: a guest that traps.
#[workflow]
#[derive(Default)]
pub struct Trapper;

#[workflow_methods]
impl Trapper {
    #[run(name = "Trapper")]
    pub async fn run(_ctx: &mut WorkflowContext<Self>) -> WorkflowResult<()> {
        panic!("Trapper traps on purpose")
    }
}

temporalio_workflow::export_workflow_module!([
    Counter,
    Chain,
    GreetingChild,
    Parent,
    Cancellable,
    Trapper
]);
