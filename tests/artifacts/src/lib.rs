//! Paths of the guest components the unit tier (plain `cargo test`) needs,
//! built from source by this crate's build script as wasmtime's
//! `test-programs-artifacts` does: the Rust guests with cargo for their wasm
//! target and, for workflows, componentized with wit-component; the WAT
//! guests assembled. Nothing beyond Rust and its wasm32-unknown-unknown and
//! wasm32-wasip2 targets is needed. The end-to-end suite (tests/e2e) uses
//! every guest, built by `cargo xtask guests` into target/wasm instead.

include!(concat!(env!("OUT_DIR"), "/guests.rs"));
