//! Instances shared by many runs, for the worlds whose guest hosts many
//! runs per instance (weft's `activation-workflow` and Temporal's
//! `temporal:workflow-runtime`).
//!
//! An instance takes new runs until it has hosted its quota, then serves
//! only the runs it has and is freed with the last of them, so a guest that
//! leaks memory is recycled. A trap ends the instance (its memory may be
//! half-updated): every run it hosted is evicted from core's cache and
//! replays on a fresh one.

use super::state::RunHost;
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use wasmtime::Store;
use wasmtime::component::ResourceAny;

/// Runs one instance hosts over its life when the guest allows any number:
/// enough that instances (and their kernel mappings) are few next to runs,
/// few enough that a recycled instance frees its memory soon.
pub const MAX_RUNS_PER_INSTANCE: u32 = 1_000;

/// The instances of one module; `P` instantiates a `B`.
pub(crate) struct Pool<P, B> {
    /// How to instantiate the module.
    pub pre: P,
    runs_per_instance: u32,
    /// The instance new runs go to.
    current: Mutex<Option<Arc<Instance<B>>>>,
}

impl<P, B> Pool<P, B> {
    /// Instances of `pre`, each hosting up to `runs_per_instance` runs
    /// (0: [`MAX_RUNS_PER_INSTANCE`]).
    pub(crate) fn new(pre: P, runs_per_instance: u32) -> Pool<P, B> {
        let runs_per_instance = match runs_per_instance {
            0 => MAX_RUNS_PER_INSTANCE,
            n => n.min(MAX_RUNS_PER_INSTANCE),
        };
        Pool {
            pre,
            runs_per_instance,
            current: Mutex::new(None),
        }
    }

    /// The instance a new run goes to.
    pub(crate) fn place(&self, run_id: &str) -> Arc<Instance<B>> {
        let mut current = lock(&self.current);
        let full = |i: &Instance<B>| {
            i.dead.load(Ordering::Relaxed)
                || i.started.load(Ordering::Relaxed) >= self.runs_per_instance
        };
        let instance = match current.as_ref() {
            Some(i) if !full(i) => i.clone(),
            _ => {
                let fresh = Arc::new(Instance::new());
                *current = Some(fresh.clone());
                fresh
            }
        };
        instance.started.fetch_add(1, Ordering::Relaxed);
        lock(&instance.runs).insert(run_id.to_owned());
        instance
    }
}

/// One instance and the runs it hosts.
pub(crate) struct Instance<B> {
    /// Instantiated by the first activation (guest code runs only on the
    /// blocking pool).
    pub guest: Mutex<Option<Instantiated<B>>>,
    /// Runs placed here over the instance's life.
    started: AtomicU32,
    /// Runs it hosts now.
    runs: Mutex<BTreeSet<String>>,
    /// Objects of evicted runs, dropped in the guest at the next activation.
    graveyard: Mutex<Vec<ResourceAny>>,
    /// A guest call trapped: the instance serves no more activations.
    dead: AtomicBool,
}

/// A live instance: its store and the bindings of its exports.
pub(crate) struct Instantiated<B> {
    /// The instance's store; its data is the run being activated.
    pub store: Store<RunHost>,
    /// The component's exports.
    pub bindings: B,
}

impl<B> Instance<B> {
    fn new() -> Instance<B> {
        Instance {
            guest: Mutex::new(None),
            started: AtomicU32::new(0),
            runs: Mutex::new(BTreeSet::new()),
            graveyard: Mutex::new(Vec::new()),
            dead: AtomicBool::new(false),
        }
    }

    /// True once a guest call trapped.
    pub(crate) fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Relaxed)
    }

    /// A guest call trapped: mark the instance dead and name the other
    /// runs it hosted (they lost their guest state).
    pub(crate) fn lose(&self, run_id: &str) -> Vec<String> {
        self.dead.store(true, Ordering::Relaxed);
        lock(&self.runs)
            .iter()
            .filter(|r| *r != run_id)
            .cloned()
            .collect()
    }

    /// Free the guest objects of runs gone since the last activation.
    pub(crate) fn bury(&self, store: &mut Store<RunHost>) -> wasmtime::Result<()> {
        for object in std::mem::take(&mut *lock(&self.graveyard)) {
            once(object.resource_drop_async(&mut *store))?;
        }
        Ok(())
    }

    /// Run `run_id` left the instance; its guest object (if any) is
    /// dropped in the guest at the instance's next activation. A dead
    /// instance is freed whole with its last run.
    pub(crate) fn leave(&self, run_id: &str, object: Option<ResourceAny>) {
        lock(&self.runs).remove(run_id);
        if let Some(object) = object
            && !self.is_dead()
        {
            lock(&self.graveyard).push(object);
        }
    }
}

/// Run a guest call to its end. Nothing a many-runs guest imports
/// suspends, so the call finishes in one poll; one that does not is a host
/// bug, reported as a trap rather than a hang.
pub(super) fn once<T>(call: impl Future<Output = wasmtime::Result<T>>) -> wasmtime::Result<T> {
    let mut call = std::pin::pin!(call);
    match call.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(wasmtime::Error::msg(
            "an activation-based guest call suspended, which none of its imports does",
        )),
    }
}

/// Lock `m`, through poisoning (a panic elsewhere leaves consistent data).
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
