//! What a guest instance may allocate, in every store (workflow and
//! activity): linear memory, table elements, and the number of instances,
//! tables and memories. Without these a guest could grow a table to 2^31
//! elements (16 GiB of host memory) or declare thousands of memories. A
//! guest past a limit traps, with a message naming the limit, and fails its
//! own task.

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

/// Elements one table may hold (a function table of a large guest holds a
/// few thousand; JavaScript and Python runtimes some tens of thousands).
pub const MAX_TABLE_ELEMENTS: usize = 1 << 20;
/// Tables in one store.
pub const MAX_TABLES: usize = 100;
/// Linear memories in one store.
pub const MAX_MEMORIES: usize = 100;
/// Core instances in one store (a component instantiates a few).
pub const MAX_INSTANCES: usize = 100;

/// Store limits that trap, naming the limit, when a guest exceeds one.
pub struct GuestLimits {
    inner: StoreLimits,
    memory_bytes: usize,
}

impl GuestLimits {
    /// Limits with `memory_bytes` of linear memory per memory.
    pub fn new(memory_bytes: usize) -> GuestLimits {
        GuestLimits {
            inner: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .table_elements(MAX_TABLE_ELEMENTS)
                .tables(MAX_TABLES)
                .memories(MAX_MEMORIES)
                .instances(MAX_INSTANCES)
                .build(),
            memory_bytes,
        }
    }
}

impl ResourceLimiter for GuestLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            wasmtime::bail!(
                "policy violation: growing memory to {desired} bytes, more than the memory \
                 limit of {} bytes",
                self.memory_bytes
            );
        }
        self.inner.memory_growing(current, desired, maximum)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            wasmtime::bail!(
                "policy violation: growing a table to {desired} elements, more than the \
                 table element limit of {MAX_TABLE_ELEMENTS}"
            );
        }
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::{Engine, Instance, Module, Store};

    fn run(wat: &str) -> Result<(), String> {
        let engine = Engine::default();
        let mut store = Store::new(&engine, GuestLimits::new(1 << 20));
        store.limiter(|l| l);
        let module = Module::new(&engine, wat).map_err(|e| format!("{e:#}"))?;
        let instance = Instance::new(&mut store, &module, &[]).map_err(|e| format!("{e:#}"))?;
        if let Ok(f) = instance.get_typed_func::<(), ()>(&mut store, "run") {
            f.call(&mut store, ()).map_err(|e| format!("{e:#}"))?;
        }
        Ok(())
    }

    #[test]
    fn a_table_grown_to_2_pow_31_elements_traps_naming_the_limit() {
        let e = run(r#"(module (table 0 funcref)
            (func (export "run")
                (drop (table.grow 0 (ref.null func) (i32.const 0x80000000)))))"#)
        .expect_err("trap");
        assert!(e.contains("table element limit of 1048576"), "{e}");
        run(r#"(module (table 0 funcref)
            (func (export "run") (drop (table.grow 0 (ref.null func) (i32.const 1000)))))"#)
        .expect("a small table grows");
    }

    #[test]
    fn memory_past_its_limit_traps_naming_the_limit() {
        let e = run(r#"(module (memory 1)
            (func (export "run") (drop (memory.grow (i32.const 100)))))"#)
        .expect_err("trap");
        assert!(e.contains("memory limit of 1048576 bytes"), "{e}");
    }

    /// One module may declare 100 tables (the validator's own bound), but
    /// a component instantiates many modules into one store.
    #[test]
    fn many_tables_or_memories_in_one_store_are_refused() {
        let engine = Engine::default();
        for (what, decl, count) in [
            ("table", "(table 0 funcref)", "table count"),
            ("memory", "(memory 0)", "memory count"),
        ] {
            let mut store = Store::new(&engine, GuestLimits::new(1 << 20));
            store.limiter(|l| l);
            let decls: String = (0..60).map(|_| decl).collect();
            let module = Module::new(&engine, format!("(module {decls})")).expect(what);
            Instance::new(&mut store, &module, &[]).expect("60 fit");
            let e = Instance::new(&mut store, &module, &[]).expect_err("120 do not");
            let e = format!("{e:#}");
            assert!(e.contains(count), "{what}: {e}");
        }
        let mut store = Store::new(&engine, GuestLimits::new(1 << 20));
        store.limiter(|l| l);
        let module = Module::new(&engine, "(module)").expect("module");
        for _ in 0..MAX_INSTANCES {
            Instance::new(&mut store, &module, &[]).expect("within the limit");
        }
        let e = Instance::new(&mut store, &module, &[]).expect_err("one too many");
        assert!(format!("{e:#}").contains("instance count"), "{e:#}");
    }
}
