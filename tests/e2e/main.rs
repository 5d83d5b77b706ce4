//! End-to-end tests: real `weft` processes against a real Temporal dev
//! server, running guests built from source (`cargo xtask guests`).

mod harness;
mod order;
mod safety;
