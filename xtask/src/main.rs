//! `cargo xtask`: developer tasks for weft.
//!
//! `cargo xtask guests` builds every Rust guest component from source into
//! `target/wasm/<name>.wasm`:
//! - workflow guests build for `wasm32-unknown-unknown` and are turned into
//!   components in-process with `wit-component`; the result must import
//!   nothing but `weft:plugin/*` (no WASI: workflows must be deterministic);
//! - activity guests build for `wasm32-wasip2`, where rustc links the
//!   component itself.
//!
//! Each guest is a standalone cargo workspace with its own `Cargo.lock`; all
//! share `target/guest-build` so their common dependencies compile once.
//! The WAT guests of [`WAT_GUESTS`] (core modules, for what Rust cannot
//! express) are assembled and componentized in-process the same way.
//!
//! Then it runs `guest-examples/<lang>/build.sh target/wasm` for each other
//! language that has one (see [`foreign`]), which builds with the language's
//! own toolchain and calls back into `cargo xtask bindgen-c` and
//! `cargo xtask componentize`.

#![allow(clippy::print_stdout)] // a CLI: stdout is its output.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xtask::foreign;
use xtask::guests::{GUESTS, WAT_GUESTS, build_guest, build_wat_guest};
use xtask::world::World;

/// How to call this program.
const USAGE: &str = "\
usage:
  cargo xtask guests [FILE.wasm ...]
      build every guest component into target/wasm/ (only the Rust and WAT
      guests named, when file names are given)
  cargo xtask bindgen-c --world workflow|activation-workflow|activity --out DIR
      write wit-bindgen's C bindings of a weft world into DIR
  cargo xtask componentize --kind workflow|activation-workflow|activity IN.wasm OUT.wasm
      turn a core module into a weft component (embeds the world's metadata
      if missing; adapts WASI preview 1 for activities; checks that a
      workflow imports only weft:plugin/*)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["guests", only @ ..] => build_guests(only),
        ["bindgen-c", "--world", world, "--out", out_dir] => {
            foreign::bindgen_c(&repo_root()?, World::parse(world)?, Path::new(out_dir))
        }
        ["componentize", "--kind", kind, input, output] => foreign::componentize(
            &repo_root()?,
            World::parse(kind)?,
            Path::new(input),
            Path::new(output),
        ),
        ["help" | "-h" | "--help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => bail!("{USAGE}"),
    }
}

/// Builds every guest in [`GUESTS`] and prints one line per component.
/// With `only` non-empty, builds just the Rust and WAT guests of those
/// output file names (a quick rebuild of one guest).
fn build_guests(only: &[&str]) -> Result<()> {
    let wanted = |output: &str| only.is_empty() || only.contains(&output);
    let root = repo_root()?;
    let out_dir = root.join("target/wasm");
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    for guest in GUESTS.iter().filter(|g| wanted(g.output)) {
        let output = out_dir.join(guest.output);
        let imports = build_guest(&root, guest, &root.join("target/guest-build"), &output)
            .with_context(|| format!("guest {} ({})", guest.output, guest.dir))?;
        let size = std::fs::metadata(&output)
            .with_context(|| format!("cannot stat {}", output.display()))?
            .len();
        let imports = if guest.world.is_workflow() {
            format!("imports: {}", imports.join(", "))
        } else {
            format!("{} imports", imports.len())
        };
        println!(
            "{:<24} {:>8.1} KiB  {:?}, {imports}",
            guest.output,
            size as f64 / 1024.0,
            guest.world,
        );
    }
    for (source, world, output) in WAT_GUESTS.iter().filter(|(_, _, o)| wanted(o)) {
        let output = out_dir.join(output);
        build_wat_guest(&root, &root.join(source), *world, &output)
            .with_context(|| format!("guest {} ({source})", output.display()))?;
        let size = std::fs::metadata(&output)
            .with_context(|| format!("cannot stat {}", output.display()))?
            .len();
        println!(
            "{:<24} {:>8.1} KiB  {world:?}, WAT",
            output.file_name().unwrap_or_default().to_string_lossy(),
            size as f64 / 1024.0,
        );
    }
    if !only.is_empty() {
        return Ok(());
    }
    foreign::build_foreign_guests(&root, &out_dir)
}

/// The repository root: the parent of this crate's directory.
fn repo_root() -> Result<PathBuf> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .context("xtask's manifest directory has no parent")
}
