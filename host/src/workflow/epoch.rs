//! The wall-clock deadline of a workflow activation.
//!
//! Fuel bounds the guest's own instructions, not the time it spends inside
//! host imports (a loop over a cheap import, or over one that copies
//! megabytes), so every activation also has a deadline in epoch ticks. The
//! workflow engine's epoch advances only while some workflow guest code
//! runs: an idle host has no ticker waking it. An epoch trap, like running
//! out of fuel, fails the workflow task and is never recorded in history.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;
use wasmtime::Engine;

/// How often the workflow engine's epoch advances while guests run: the
/// precision of the activation deadline.
pub const TICK: Duration = Duration::from_millis(50);

/// The workflow task timeout assumed when a run names none: Temporal's
/// default.
pub const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest deadline an activation gets, whatever its task timeout says.
pub const MAX_DEADLINE: Duration = Duration::from_secs(120);

/// The deadline, in ticks, of an activation of a run whose workflow task
/// timeout is `task_timeout`: half of it, so that the host gives the guest
/// up and reports why (the task's failure) well before the server gives the
/// task up (a bare timeout, whose cause history does not show), even on a
/// loaded host, and its thread is free again.
pub fn deadline_ticks(task_timeout: Option<Duration>) -> u64 {
    let task = task_timeout
        .filter(|t| !t.is_zero())
        .unwrap_or(DEFAULT_TASK_TIMEOUT);
    let deadline = (task / 2).clamp(TICK, MAX_DEADLINE);
    deadline.as_millis().div_ceil(TICK.as_millis()) as u64
}

#[derive(Default)]
struct State {
    /// Guest calls running now.
    running: usize,
    /// The ticker thread exists.
    started: bool,
    /// Every owner is gone: the thread ends.
    closed: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Advances one engine's epoch every [`TICK`] while at least one
/// [`Running`] guard is alive, on a thread of its own (started at the first
/// guest call), so it ticks even when every async worker thread is busy.
pub struct EpochTicker {
    engine: wasmtime::EngineWeak,
    shared: Arc<Shared>,
}

impl EpochTicker {
    /// A ticker for `engine`; no thread until guest code first runs.
    pub fn new(engine: &Engine) -> EpochTicker {
        EpochTicker {
            engine: engine.weak(),
            shared: Arc::default(),
        }
    }

    /// Mark guest code as running until the guard drops.
    pub fn running(&self) -> Running {
        let mut state = self.shared.lock();
        state.running += 1;
        if !state.started {
            state.started = true;
            let (engine, shared) = (self.engine.clone(), self.shared.clone());
            let spawned = std::thread::Builder::new()
                .name("weft-workflow-epoch".into())
                .spawn(move || tick(engine, shared));
            if let Err(e) = spawned {
                // Without the thread activations have no wall-clock bound;
                // fuel still bounds them. Try again at the next activation.
                state.started = false;
                tracing::error!("cannot start the workflow epoch ticker: {e}");
            }
        }
        drop(state);
        self.shared.wake.notify_all();
        Running {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
    }
}

fn tick(engine: wasmtime::EngineWeak, shared: Arc<Shared>) {
    loop {
        {
            let mut state = shared.lock();
            while state.running == 0 && !state.closed {
                state = shared.wake.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            if state.closed {
                return;
            }
        }
        std::thread::sleep(TICK);
        match engine.upgrade() {
            Some(engine) => engine.increment_epoch(),
            None => return,
        }
    }
}

/// Guest code runs while this lives (see [`EpochTicker::running`]).
pub struct Running {
    shared: Arc<Shared>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shared.lock().running -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_is_the_task_timeout_within_bounds() {
        assert_eq!(deadline_ticks(None), 100);
        assert_eq!(deadline_ticks(Some(Duration::ZERO)), 100);
        assert_eq!(deadline_ticks(Some(Duration::from_secs(60))), 600);
        assert_eq!(deadline_ticks(Some(Duration::from_secs(3600))), 2400);
        assert_eq!(deadline_ticks(Some(Duration::from_millis(1))), 1);
    }

    #[test]
    fn the_epoch_advances_only_while_guest_code_runs() {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).expect("engine");
        let ticker = EpochTicker::new(&engine);
        // A store's deadline is relative to the engine's current epoch:
        // read the epoch through one that traps at the next tick.
        let mut store = wasmtime::Store::new(&engine, ());
        store.set_epoch_deadline(1);
        let module =
            wasmtime::Module::new(&engine, "(module (func (export \"spin\") (loop (br 0))))")
                .expect("module");
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).expect("instance");
        let spin = instance
            .get_typed_func::<(), ()>(&mut store, "spin")
            .expect("spin");
        let running = ticker.running();
        let trap = spin
            .call(&mut store, ())
            .expect_err("the deadline stops the loop");
        assert_eq!(
            trap.downcast_ref::<wasmtime::Trap>(),
            Some(&wasmtime::Trap::Interrupt)
        );
        drop(running);
        assert_eq!(ticker.shared.lock().running, 0);
    }
}
