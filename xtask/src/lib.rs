//! What `cargo xtask` builds, as a library: the guest components' build
//! ([`guests`]) and the foreign-language helpers ([`foreign`]), used by the
//! `xtask` CLI and by the unit tier's build script (tests/artifacts), which
//! builds the Rust and WAT guests the unit tests need.

#![allow(clippy::print_stdout)] // the builds report each component on stdout.

pub mod foreign;
pub mod guests;
pub mod world;
