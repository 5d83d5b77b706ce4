//! Where activity instances live: wasmtime's pooling allocator.
//!
//! Every activity task gets a fresh instance. With wasmtime's default
//! on-demand allocator each one mapped a fresh 4 GiB reservation for its
//! linear memory (and unmapped it at the end), a kernel round trip and a
//! page-fault storm per task. The pool reserves its slots once, when the
//! runtime starts, and hands them out again: a task's memory is a reused
//! slot, reset with `madvise` (its first pages kept resident and zeroed in
//! place), and the copy-on-write image of the component's data is mapped
//! once per module.
//!
//! The pool bounds how many instances are alive at once. A task that finds
//! every slot taken waits for one ([`Slots`]), it does not fail: the
//! instances are freed when their tasks end. A component that needs more
//! than a slot holds (memories, tables, core instances) is refused when it
//! loads, with the limit named.

use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::{Config, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Activity instances alive at once across the host (every worker's
/// activities and local activities, and the deploy-time `activity-types`
/// calls): five times the default `max_concurrent_activities`. With two
/// memories each, the pool reserves what wasmtime's default pool does
/// (1,000 memory slots, about 4 TiB of address space, none of it
/// committed until used).
pub const INSTANCES: u32 = 500;

/// Core instances a component may hold. Components built by
/// componentize-py and componentize-js link a dozen core modules
/// (the interpreter, its libraries, WASI adapters); Rust and C need a few.
const CORE_INSTANCES_PER_COMPONENT: u32 = 32;

/// Linear memories a component may hold (one per module that defines
/// its own; composed components may have more than one).
const MEMORIES_PER_COMPONENT: u32 = 2;

/// Tables a component may hold: C and Python components built with the
/// WASI adapter have two.
const TABLES_PER_COMPONENT: u32 = 4;

/// Table elements a table slot holds: as many as the store limiter lets a
/// table grow to (the interpreters' function tables exceed wasmtime's
/// default of 20,000), so that a table grown past it is stopped by the
/// limiter, whose trap names the limit, not refused by the pool.
const TABLE_ELEMENTS: usize = crate::workflow::limits::MAX_TABLE_ELEMENTS;

/// Memory a slot keeps resident between tasks (zeroed in place instead of
/// returned to the kernel and faulted in again): a small guest's whole
/// heap, an interpreter's hot first pages.
const KEEP_RESIDENT: usize = 1 << 20;

/// Largest linear memory an activity may grow to, whatever its grants say:
/// 4 GiB, the 32-bit address space (the limiter enforces each module's
/// `memory_mib` below that).
const MAX_MEMORY: usize = 1 << 32;

/// Sets `config` to allocate instances from the pool.
pub fn configure(config: &mut Config) {
    let mut pool = PoolingAllocationConfig::new();
    let instances = INSTANCES;
    pool.total_component_instances(instances)
        .total_core_instances(instances * CORE_INSTANCES_PER_COMPONENT)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .total_memories(instances * MEMORIES_PER_COMPONENT)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .total_tables(instances * TABLES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .max_tables_per_module(TABLES_PER_COMPONENT)
        .table_elements(TABLE_ELEMENTS)
        .total_stacks(instances)
        .max_memory_size(MAX_MEMORY)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
}

/// The pool's slots as permits: hold one while an instance is alive.
#[derive(Clone)]
pub struct Slots(Arc<Semaphore>);

impl Default for Slots {
    fn default() -> Self {
        Slots(Arc::new(Semaphore::new(INSTANCES as usize)))
    }
}

impl Slots {
    /// Waits for a free slot. Drop the permit after the instance's store.
    pub async fn take(&self) -> OwnedSemaphorePermit {
        self.0
            .clone()
            .acquire_owned()
            .await
            .expect("the slots semaphore is never closed")
    }
}
