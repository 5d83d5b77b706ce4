//! Epoch tickers that run only while guest code runs.
//!
//! Epoch interruption is how a guest's wall-clock time is bounded: wasm code
//! checks the engine's epoch at function entries and loop heads, and traps
//! or yields once the epoch passes the store's deadline. Something must
//! advance the epoch, and it must not depend on the threads the guests run
//! on: a ticker that was a tokio task never ran while guests held every
//! async worker thread, so the epoch stood still, no guest ever yielded or
//! trapped, and the whole host stalled. Each ticker here is a thread of its
//! own, and sleeps (no wakeups at all) while no guest code runs, so an idle
//! host stays idle.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;
use wasmtime::Engine;

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

/// Advances one engine's epoch every `tick` while at least one [`Running`]
/// guard is alive, on a thread of its own (started at the first guest
/// call), so it ticks even when every async worker thread is busy.
pub(crate) struct EpochTicker {
    engine: wasmtime::EngineWeak,
    tick: Duration,
    /// The thread's name, as `top -H` and debuggers show it.
    name: &'static str,
    shared: Arc<Shared>,
}

impl EpochTicker {
    /// A ticker for `engine` that advances its epoch every `tick` on a
    /// thread named `name`; no thread until guest code first runs.
    pub(crate) fn new(engine: &Engine, tick: Duration, name: &'static str) -> EpochTicker {
        EpochTicker {
            engine: engine.weak(),
            tick,
            name,
            shared: Arc::default(),
        }
    }

    /// Mark guest code as running until the guard drops.
    pub(crate) fn running(&self) -> Running {
        let mut state = self.shared.lock();
        state.running += 1;
        if !state.started {
            state.started = true;
            let (engine, shared, every) = (self.engine.clone(), self.shared.clone(), self.tick);
            let spawned = std::thread::Builder::new()
                .name(self.name.into())
                .spawn(move || tick(engine, shared, every));
            if let Err(e) = spawned {
                // Without the thread guests have no wall-clock bound (fuel
                // still bounds workflow guests). Try again at the next call.
                state.started = false;
                tracing::error!("cannot start the epoch ticker {}: {e}", self.name);
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

fn tick(engine: wasmtime::EngineWeak, shared: Arc<Shared>, every: Duration) {
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
        std::thread::sleep(every);
        match engine.upgrade() {
            Some(engine) => engine.increment_epoch(),
            None => return,
        }
    }
}

/// Guest code runs while this lives (see [`EpochTicker::running`]).
pub(crate) struct Running {
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
    fn the_epoch_advances_only_while_guest_code_runs() {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).expect("engine");
        let ticker = EpochTicker::new(&engine, Duration::from_millis(10), "weft-test-epoch");
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
