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
use std::process::Command;

use anyhow::{Context, Result, bail};
use wit_component::{ComponentEncoder, DecodedWasm};

mod foreign;
mod world;

use world::World;

/// One guest to build.
struct GuestSpec {
    /// Directory of the guest's cargo package, relative to the repo root.
    /// Its last component, with `-` replaced by `_`, names the artifact
    /// cargo produces, so the package name must equal the directory name.
    dir: &'static str,
    /// The world it implements.
    world: World,
    /// File name of the component under `target/wasm/`.
    output: &'static str,
    /// Cargo features to build it with (comma-separated; empty for none).
    features: &'static str,
}

/// Every guest `cargo xtask guests` builds.
const GUESTS: &[GuestSpec] = &[
    GuestSpec {
        dir: "guest-examples/rust/order-workflow",
        world: World::ActivationWorkflow,
        output: "order_workflow.wasm",
        features: "",
    },
    GuestSpec {
        dir: "guest-examples/rust/order-activities",
        world: World::Activity,
        output: "order_activities.wasm",
        features: "",
    },
    // The OrderWorkflow written with Temporal's own SDK (temporalio-workflow).
    GuestSpec {
        dir: "guest-examples/temporal-rust/order-workflow-temporal",
        world: World::TemporalWorkflow,
        output: "order_workflow_temporal.wasm",
        features: "",
    },
    // Temporal's SDK again: updates, children, continue-as-new, cancellation.
    GuestSpec {
        dir: "tests/guests/temporal-workflows",
        world: World::TemporalWorkflow,
        output: "temporal_workflows.wasm",
        features: "",
    },
    GuestSpec {
        dir: "tests/guests/activation-workflows",
        world: World::ActivationWorkflow,
        output: "activation_workflows.wasm",
        features: "",
    },
    GuestSpec {
        dir: "tests/guests/test-workflows",
        world: World::ActivationWorkflow,
        output: "test_workflows.wasm",
        features: "",
    },
    // One workflow type in four versions, for the deploy and patch tests.
    GuestSpec {
        dir: "tests/guests/versioned-workflow",
        world: World::ActivationWorkflow,
        output: "versioned_v1.wasm",
        features: "",
    },
    GuestSpec {
        dir: "tests/guests/versioned-workflow",
        world: World::ActivationWorkflow,
        output: "versioned_v2.wasm",
        features: "v2",
    },
    GuestSpec {
        dir: "tests/guests/versioned-workflow",
        world: World::ActivationWorkflow,
        output: "versioned_v3.wasm",
        features: "v3",
    },
    GuestSpec {
        dir: "tests/guests/versioned-workflow",
        world: World::ActivationWorkflow,
        output: "versioned_v4.wasm",
        features: "v4",
    },
    // The blocking world, still served: one guest keeps it tested.
    GuestSpec {
        dir: "tests/guests/blocking-workflow",
        world: World::Workflow,
        output: "blocking_workflow.wasm",
        features: "",
    },
    GuestSpec {
        dir: "tests/guests/sandbox-activities",
        world: World::Activity,
        output: "sandbox_activities.wasm",
        features: "",
    },
];

/// Guests written as core modules in WAT, for what Rust cannot express
/// (e.g. `table.grow`): source, world, file name under `target/wasm/`.
const WAT_GUESTS: &[(&str, World, &str)] = &[
    (
        "tests/guests/hostile-limits/workflow.wat",
        World::Workflow,
        "hostile_limits_workflow.wasm",
    ),
    (
        "tests/guests/hostile-limits/activity.wat",
        World::Activity,
        "hostile_limits_activity.wasm",
    ),
];

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
        let imports = build_guest(&root, guest, &output)
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

/// Assembles a WAT core module, embeds its world and writes the component.
fn build_wat_guest(root: &Path, source: &Path, world: World, output: &Path) -> Result<()> {
    let mut module = wat::parse_file(source).context("cannot assemble the WAT")?;
    foreign::embed_world(root, world, &mut module)?;
    let component = ComponentEncoder::default()
        .module(&module)
        .context("cannot read the core module's component-type metadata")?
        .validate(true)
        .encode()
        .context("cannot turn the core module into a component")?;
    if world.is_workflow() {
        foreign::check_workflow_imports(&component_imports(&component)?)?;
    }
    std::fs::write(output, &component).with_context(|| format!("cannot write {}", output.display()))
}

/// Builds one guest, writes its component to `output` and returns the names
/// of the component's imports.
fn build_guest(root: &Path, guest: &GuestSpec, output: &Path) -> Result<Vec<String>> {
    // A failed build must not leave an older component behind.
    if output.exists() {
        std::fs::remove_file(output)
            .with_context(|| format!("cannot remove the old {}", output.display()))?;
    }
    let target = guest.world.target();
    let target_dir = root.join("target/guest-build");
    let manifest = root.join(guest.dir).join("Cargo.toml");
    cargo_build(&manifest, target, &target_dir, guest.features)?;

    let crate_name = guest.dir.rsplit('/').next().unwrap_or(guest.dir);
    let artifact = target_dir
        .join(target)
        .join("release")
        .join(format!("{}.wasm", crate_name.replace('-', "_")));
    let bytes = std::fs::read(&artifact).with_context(|| {
        format!(
            "cannot read the build output {} (is the package named after its directory?)",
            artifact.display()
        )
    })?;

    // A workflow is a core module (wasm32-unknown-unknown); rustc builds
    // an activity as a component already.
    let component = if guest.world.is_workflow() {
        ComponentEncoder::default()
            .module(&bytes)
            .context("cannot read the core module's component-type metadata")?
            .validate(true)
            .encode()
            .context("cannot turn the core module into a component")?
    } else {
        bytes
    };
    let imports = component_imports(&component)?;
    if let Some(allowed) = guest.world.allowed_imports() {
        foreign::check_imports(&imports, allowed)
            .context("build it for wasm32-unknown-unknown and keep WASI-using crates out of it")?;
    }
    std::fs::write(output, &component)
        .with_context(|| format!("cannot write {}", output.display()))?;
    Ok(imports)
}

/// Runs `cargo build --release` for one guest, shielded from the settings of
/// the cargo that runs xtask (target dir, target, rustflags).
fn cargo_build(manifest: &Path, target: &str, target_dir: &Path, features: &str) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--locked", "--target", target])
        .args(["--features", features])
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!(
            "`cargo build --release --target {target} --features '{features}' --manifest-path {}` failed ({status})",
            manifest.display()
        );
    }
    Ok(())
}

/// Names of a component's imports, e.g. `weft:plugin/workflow-host@0.1.0`.
fn component_imports(component: &[u8]) -> Result<Vec<String>> {
    match wit_component::decode(component).context("cannot decode the component")? {
        DecodedWasm::Component(resolve, world) => Ok(resolve.worlds[world]
            .imports
            .keys()
            .map(|key| resolve.name_world_key(key))
            .collect()),
        DecodedWasm::WitPackage(..) => bail!("expected a component, found a WIT package"),
    }
}

/// The repository root: the parent of this crate's directory.
fn repo_root() -> Result<PathBuf> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .context("xtask's manifest directory has no parent")
}
