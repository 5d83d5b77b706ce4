//! Host-side bindings generated from the top-level `wit/` directory, one
//! module per world. Every world shares the `types` interface.

#![allow(missing_docs)] // generated code; the WIT files document it

/// The `weft:plugin/workflow` world: blocking imports are async host
/// functions, so a guest's `wait-any` suspends its fiber until a later
/// activation resolves what it waits on.
pub mod workflow {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "workflow",
        imports: {
            "weft:plugin/workflow-host.wait-any": async | trappable,
            "weft:plugin/workflow-host.result": async | trappable,
            "weft:plugin/workflow-host.continue-as-new": async | trappable,
            "weft:plugin/workflow-host.start-child": async | trappable,
            default: trappable,
        },
        exports: { default: async },
        additional_derives: [PartialEq],
    });
}

/// The `weft:plugin/activation-workflow` world: nothing blocks, so every
/// import is a plain host function; the exports are called on the async
/// engine the workflow runtime shares with the blocking world.
pub mod activation {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "activation-workflow",
        imports: { default: trappable },
        exports: { default: async },
        with: { "weft:plugin/types": super::workflow::weft::plugin::types },
        additional_derives: [PartialEq],
    });
}

/// The `weft:plugin/activity` world.
pub mod activity {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "activity",
        imports: { default: trappable },
        exports: { default: async },
        with: { "weft:plugin/types": super::workflow::weft::plugin::types },
    });
}

/// Temporal's own world `temporal:workflow-runtime@0.1.0` (`workflow-module`),
/// from the copy of `temporalio-workflow` 1.1.1's WIT in
/// `wit/temporal-workflow-runtime/`: like the activation world, nothing
/// blocks, so imports are plain host functions.
pub mod temporal_runtime {
    wasmtime::component::bindgen!({
        path: "../wit/temporal-workflow-runtime",
        world: "workflow-module",
        imports: { default: trappable },
        exports: { default: async },
    });
}

pub use workflow::weft::plugin::types;
