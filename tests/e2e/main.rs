//! End-to-end tests (package `weft-e2e`, the suite's second tier): real
//! `weft` processes against a real Temporal dev server, running guests built
//! from source. Needs the `temporal` CLI, every guest (`cargo xtask guests`)
//! and weft's binary (`cargo build --workspace`); run with
//! `cargo test --workspace --test e2e`.

#![allow(clippy::disallowed_methods)] // tests wait on deadlines

mod activation;
mod activities;
mod blocking;
mod capabilities;
mod deploy;
mod exposition;
mod harness;
mod hostile;
mod js_sdk;
mod order;
mod polyglot;
mod production;
mod python_sdk;
mod replay;
mod safety;
mod sdk_compat_python;
mod sdk_compat_ts;
mod sdk_interop;
mod temporal_world;
mod workflow_api;
mod workflow_semantics;
