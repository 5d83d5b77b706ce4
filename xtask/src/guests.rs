//! The Rust and WAT guests built from source, and how one is built: shared
//! by `cargo xtask guests` and the unit tier's build script
//! (tests/artifacts/build.rs), so both make the same components.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use wit_component::{ComponentEncoder, DecodedWasm};

use crate::foreign;
use crate::world::World;

/// One guest to build.
pub struct GuestSpec {
    /// Directory of the guest's cargo package, relative to the repo root.
    /// Its last component, with `-` replaced by `_`, names the artifact
    /// cargo produces, so the package name must equal the directory name.
    pub dir: &'static str,
    /// The world it implements.
    pub world: World,
    /// File name of the component under `target/wasm/`.
    pub output: &'static str,
    /// Cargo features to build it with (comma-separated; empty for none).
    pub features: &'static str,
}

/// Every guest `cargo xtask guests` builds.
pub const GUESTS: &[GuestSpec] = &[
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
pub const WAT_GUESTS: &[(&str, World, &str)] = &[
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

/// The guest of [`GUESTS`] whose component is named `output`.
pub fn guest(output: &str) -> Option<&'static GuestSpec> {
    GUESTS.iter().find(|g| g.output == output)
}

/// Assembles a WAT core module, embeds its world and writes the component.
pub fn build_wat_guest(root: &Path, source: &Path, world: World, output: &Path) -> Result<()> {
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

/// Builds one guest with cargo into `target_dir`, writes its component to
/// `output` and returns the names of the component's imports.
pub fn build_guest(
    root: &Path,
    guest: &GuestSpec,
    target_dir: &Path,
    output: &Path,
) -> Result<Vec<String>> {
    // A failed build must not leave an older component behind.
    if output.exists() {
        std::fs::remove_file(output)
            .with_context(|| format!("cannot remove the old {}", output.display()))?;
    }
    let target = guest.world.target();
    let manifest = root.join(guest.dir).join("Cargo.toml");
    cargo_build(&manifest, target, target_dir, guest.features)?;

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
pub fn component_imports(component: &[u8]) -> Result<Vec<String>> {
    match wit_component::decode(component).context("cannot decode the component")? {
        DecodedWasm::Component(resolve, world) => Ok(resolve.worlds[world]
            .imports
            .keys()
            .map(|key| resolve.name_world_key(key))
            .collect()),
        DecodedWasm::WitPackage(..) => bail!("expected a component, found a WIT package"),
    }
}
