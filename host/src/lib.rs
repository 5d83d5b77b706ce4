//! weft: a WebAssembly-plugin worker host for Temporal.
//!
//! One process polls a Temporal server's task queues and runs workflows in
//! deterministic, sandboxed Wasm components and activities in Wasm components
//! that get exactly the WASI capabilities their config grants.
//!
//! Layout, outside in:
//! - [`config`]: the TOML config (workers, modules, grants), validated at start.
//! - [`serve`]: builds the workers a config declares and serves them
//!   until shutdown (`weft serve`).
//! - [`catalog`]: what the host serves, by task queue, type and digest;
//!   deploys change it while it serves.
//! - [`admin`]: the admin gRPC API (upload, list, current, remove, health).
//! - [`metrics`]: weft's metrics, and the `/metrics` `/healthz` `/readyz`
//!   endpoint.
//! - [`gate`]: the replay gate a new workflow version passes first.
//! - [`temporal`]: the one adapter over Temporal's Rust core (connection
//!   settings, workers, core's metrics, protos).
//! - [`workflow`]: the workflow runtime (one component instance per run).
//! - [`activity`]: the activity runtime (a fresh instance per task, WASI grants).
//! - [`payload`]: Temporal payloads and failures <-> the WIT types.
//! - [`epoch`]: the threads that advance the engines' epochs while guests run.
//! - [`module`]: loading components, and which module serves which type.
//! - [`store`]: the module store (components by digest, named versions).
//! - [`replay`]: `weft replay`, recorded histories against a module.
//! - [`inspect`]: `weft inspect`, what a component is and may reach.
//! - [`dev_server`]: starts the Temporal CLI dev server for `weft dev`.

// Clock reads are banned on the workflow path only (clippy.toml).
#![allow(clippy::disallowed_methods)]

pub mod activity;
pub mod admin;
pub mod bindings;
pub(crate) mod catalog;
pub mod config;
pub mod dev_server;
pub(crate) mod epoch;
pub(crate) mod gate;
pub mod inspect;
pub(crate) mod metrics;
pub mod module;
pub mod payload;
pub mod replay;
pub mod serve;
pub mod store;
pub mod temporal;
#[deny(clippy::disallowed_methods)]
pub mod workflow;
