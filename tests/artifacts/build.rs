//! Builds the guests of [`RUST_GUESTS`] and xtask's WAT guests into
//! `OUT_DIR` and writes `guests.rs`, a path constant for each.

#![allow(clippy::print_stdout)] // `cargo:` directives are its output.

use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use xtask::guests::{WAT_GUESTS, build_guest, build_wat_guest, guest};

/// The Rust guests the unit tier uses (components named as in target/wasm):
/// the recorded histories' modules (tests/histories) and the fuzz seed.
const RUST_GUESTS: &[&str] = &[
    "order_workflow.wasm",
    "test_workflows.wasm",
    "order_workflow_temporal.wasm",
];

fn main() -> Result<()> {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").context("CARGO_MANIFEST_DIR")?);
    let root = manifest_dir
        .ancestors()
        .nth(2)
        .context("tests/artifacts lies two levels under the repository root")?
        .to_path_buf();
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").context("OUT_DIR")?);
    // The directory `cargo xtask guests` builds in: a checkout compiles the
    // guests' dependencies once for both.
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("guest-build");
    let mut consts = String::new();
    for name in RUST_GUESTS {
        let spec = guest(name).with_context(|| format!("xtask builds no guest {name}"))?;
        let output = out_dir.join(name);
        build_guest(&root, spec, &target_dir, &output)
            .with_context(|| format!("guest {name} ({})", spec.dir))?;
        rerun_if_changed(&root.join(spec.dir));
        push_const(&mut consts, name, spec.dir, &output);
    }
    for (source, world, name) in WAT_GUESTS {
        let output = out_dir.join(name);
        build_wat_guest(&root, &root.join(source), *world, &output)
            .with_context(|| format!("guest {name} ({source})"))?;
        rerun_if_changed(&root.join(source));
        push_const(&mut consts, name, source, &output);
    }
    // What every guest builds on: the WIT worlds and weft's Rust SDK.
    rerun_if_changed(&root.join("wit"));
    rerun_if_changed(&root.join("guest-examples/rust/weft-sdk"));
    std::fs::write(out_dir.join("guests.rs"), consts).context("write guests.rs")
}

/// Appends `pub const ORDER_WORKFLOW: &str = "<path>";` for `name`.
fn push_const(consts: &mut String, name: &str, source: &str, output: &Path) {
    let ident = name.trim_end_matches(".wasm").to_uppercase();
    let _ = writeln!(
        consts,
        "/// `{name}`, built from `{source}`.\npub const {ident}: &str = {:?};",
        output.display().to_string()
    );
}

fn rerun_if_changed(path: &Path) {
    println!("cargo:rerun-if-changed={}", path.display());
}
