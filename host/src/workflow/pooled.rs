//! What a run of a many-runs world (weft's activation world, Temporal's
//! world) is besides its world's own protocol: its state, its place on a
//! shared instance, its guest object, the module pin it records, and what
//! happens when the instance traps or the run leaves.
//!
//! [`super::activation::ActivationRun`] and
//! [`super::temporal_runtime::TemporalRun`] each hold one [`PooledRun`] and
//! add only how they talk to their guest.

use super::pool::{Instance, Instantiated, Pool, lock, once};
use super::run::{TaskFailure, starting_state, trap_failure};
use super::state::{RunHost, RunState};
use super::{Guest, WorkflowModule};
use crate::store::Digest;
use crate::temporal::proto::workflow_activation::InitializeWorkflow;
use std::sync::{Arc, Mutex};
use wasmtime::Store;
use wasmtime::component::ResourceAny;

/// The bindings of a world whose instances host many runs.
pub(super) trait PooledWorld: Sized {
    /// What instantiates the world's components.
    type Pre;
    /// The module's pool of instances. Only called for a module of this
    /// world (a run starts on its module's world).
    fn pool(module: &WorkflowModule) -> &Pool<Self::Pre, Self>;
    /// Instantiate `pre` in `store` (guest code runs: start functions).
    fn instantiate(pre: &Self::Pre, store: &mut Store<RunHost>) -> wasmtime::Result<Self>;
}

impl PooledWorld for crate::bindings::activation::ActivationWorkflow {
    type Pre = crate::bindings::activation::ActivationWorkflowPre<RunHost>;

    fn pool(module: &WorkflowModule) -> &Pool<Self::Pre, Self> {
        let Guest::Activation(pool) = &module.guest else {
            unreachable!("an activation run starts only on an activation-based guest")
        };
        pool
    }

    fn instantiate(pre: &Self::Pre, store: &mut Store<RunHost>) -> wasmtime::Result<Self> {
        once(pre.instantiate_async(store))
    }
}

impl PooledWorld for crate::bindings::temporal_runtime::WorkflowModule {
    type Pre = crate::bindings::temporal_runtime::WorkflowModulePre<RunHost>;

    fn pool(module: &WorkflowModule) -> &Pool<Self::Pre, Self> {
        let Guest::Temporal(pool) = &module.guest else {
            unreachable!("a Temporal run starts only on a Temporal workflow component")
        };
        pool
    }

    fn instantiate(pre: &Self::Pre, store: &mut Store<RunHost>) -> wasmtime::Result<Self> {
        once(pre.instantiate_async(store))
    }
}

/// One run on a shared instance of world `B`.
pub(super) struct PooledRun<B> {
    /// Shared with the instance's store while this run is activated.
    pub(super) state: Arc<Mutex<RunState>>,
    module: Arc<WorkflowModule>,
    instance: Arc<Instance<B>>,
    run_id: String,
    /// The guest's object for this run, once made.
    pub(super) object: Option<ResourceAny>,
    /// The module pin to record (or confirm) at the first activation.
    pin: Option<Digest>,
    /// Runs (this one included) whose guest state is lost: evict them.
    evict: Vec<String>,
}

impl<B: PooledWorld> PooledRun<B> {
    /// Place a new run (or a replay from the start) on an instance.
    pub(super) fn start(
        module: Arc<WorkflowModule>,
        init: &InitializeWorkflow,
        run_id: &str,
        namespace: &str,
        task_queue: &str,
        pin: Option<Digest>,
    ) -> PooledRun<B> {
        let state = starting_state(
            init,
            run_id,
            namespace,
            task_queue,
            RunState::for_activations,
        );
        let instance = B::pool(&module).place(run_id);
        PooledRun {
            state: Arc::new(Mutex::new(state)),
            module,
            instance,
            run_id: run_id.to_owned(),
            object: None,
            pin,
            evict: Vec::new(),
        }
    }

    /// The instance this run is placed on: lock its `guest` and pass it to
    /// [`PooledRun::enter`].
    pub(super) fn instance(&self) -> Arc<Instance<B>> {
        self.instance.clone()
    }

    /// What every activation does before the world's own protocol: refuse
    /// a run whose instance died, instantiate it on first use, make this
    /// run the store's, and drop the objects of runs gone since.
    pub(super) fn enter<'g>(
        &mut self,
        slot: &'g mut Option<Instantiated<B>>,
    ) -> Result<&'g mut Instantiated<B>, TaskFailure> {
        if self.instance.is_dead() {
            return Err(TaskFailure(
                "the instance this run shared was lost when another run on it trapped: \
                 the run replays on a fresh instance"
                    .into(),
            ));
        }
        if slot.is_none() {
            *slot = Some(self.instantiate()?);
        }
        let guest = slot.as_mut().expect("instantiated above");
        guest.store.data_mut().state = self.state.clone();
        if let Err(trap) = self.instance.bury(&mut guest.store) {
            return Err(self.lost(trap));
        }
        Ok(guest)
    }

    fn instantiate(&mut self) -> Result<Instantiated<B>, TaskFailure> {
        let mut store = self.module.store(self.state.clone());
        match B::instantiate(&B::pool(&self.module).pre, &mut store) {
            Ok(bindings) => Ok(Instantiated { store, bindings }),
            Err(trap) => Err(self.lost(trap)),
        }
    }
}

impl<B> PooledRun<B> {
    /// The module this run executes on.
    pub(super) fn module(&self) -> &Arc<WorkflowModule> {
        &self.module
    }

    /// Fuel the guest spent in the last activation.
    pub(super) fn fuel_spent(&self) -> u64 {
        lock(&self.state).fuel_spent()
    }

    /// Runs to evict from core's cache (they replay on a fresh instance).
    pub(super) fn take_orphans(&mut self) -> Vec<String> {
        std::mem::take(&mut self.evict)
    }

    /// This run's guest state may be inconsistent (a query handler changed
    /// it): evict it, so that it replays before its next activation.
    pub(super) fn evict_self(&mut self) {
        self.evict.push(self.run_id.clone());
    }

    /// Record (or, in replay, confirm) the module pin, once per run. It
    /// comes first, before anything the guest issues.
    pub(super) fn record_pin(&mut self, state: &mut RunState) {
        if let Some(digest) = self.pin.take() {
            state.pin_module(&digest);
        }
    }

    /// A guest call trapped: the instance is lost with every run on it.
    pub(super) fn lost(&mut self, trap: wasmtime::Error) -> TaskFailure {
        self.evict = self.instance.lose(&self.run_id);
        self.object = None;
        trap_failure(&trap, &lock(&self.state))
    }
}

impl<B> Drop for PooledRun<B> {
    fn drop(&mut self) {
        self.instance.leave(&self.run_id, self.object.take());
    }
}
