//! Guests written in languages other than Rust (C, Zig, and whichever other
//! `guest-examples/<lang>/build.sh` exists).
//!
//! Each language folder owns its build in `build.sh OUT_DIR`, which leaves
//! `OUT_DIR/order_workflow_<lang>.wasm` and `OUT_DIR/order_activities_<lang>.wasm`.
//! The shell scripts lean on two subcommands here, so that no extra tool
//! (`wit-bindgen-cli`, `wasm-tools`) has to be installed:
//! - `bindgen-c` writes the C bindings of a world (wit-bindgen's C generator);
//! - `componentize` turns a core module into a component: embeds the world's
//!   metadata if the module lacks it, adapts WASI preview 1 imports of an
//!   activity to WASI p2, and checks that a workflow imports only
//!   `weft:plugin/*`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_component::{ComponentEncoder, StringEncoding};

use crate::guests::component_imports;
use crate::world::{WORKFLOW_IMPORT_PREFIX, World};

/// Languages whose `guest-examples/<lang>/build.sh` `cargo xtask guests`
/// runs, when the script exists.
const LANGUAGES: &[&str] = &["c", "zig", "python", "js"];

/// `cargo xtask bindgen-c --world W --out DIR`: writes wit-bindgen's C
/// bindings of world `W` (`W.h`, `W.c`, `W_component_type.o`) into `DIR`.
pub fn bindgen_c(root: &Path, world: World, out_dir: &Path) -> Result<()> {
    use wit_bindgen_core::wit_parser::Resolve;

    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(root.join("wit"))
        .context("cannot parse wit/")?;
    let world_id = resolve.select_world(&[package], Some(world.wit_name()?))?;
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world_id, &mut files)
        .context("wit-bindgen c failed")?;
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    for (name, contents) in files.iter() {
        let path = out_dir.join(name);
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// `cargo xtask componentize --kind K IN OUT`: turns the core module `IN`
/// into the component `OUT` and prints its size and number of imports.
pub fn componentize(root: &Path, world: World, input: &Path, output: &Path) -> Result<()> {
    let mut module =
        std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    if !has_component_type(&module)? {
        // A module linked without wit-bindgen's `*_component_type.o` (or by
        // a linker that drops custom sections) gets the world's type here.
        embed_world(root, world, &mut module)?;
    }

    if world.is_workflow() {
        // Caught here with a clear message: the encoder would only say it
        // has no adapter for `wasi_snapshot_preview1`.
        let wasi = wasi_imports(&module)?;
        if !wasi.is_empty() {
            bail!(
                "a workflow may import only {WORKFLOW_IMPORT_PREFIX}* (determinism), but the core \
                 module {} imports {wasi:?}: something in it uses stdio, clocks, random or \
                 files (a language runtime's panic handler, printf, ...)",
                input.display()
            );
        }
    }

    let mut encoder = ComponentEncoder::default()
        .module(&module)
        .context("cannot read the core module's component-type metadata")?
        .validate(true);
    if let World::Activity = world {
        // A wasi-libc module imports `wasi_snapshot_preview1`; the reactor
        // adapter (no `_start`) implements it on top of WASI p2, which the
        // host links for activities. Unused, it is left out of the component.
        encoder = encoder
            .adapter(
                WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
                WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
            )
            .context("cannot load the wasi_snapshot_preview1 adapter")?;
    }
    let component = encoder
        .encode()
        .context("cannot turn the core module into a component")?;

    let imports = component_imports(&component)?;
    if world.is_workflow() {
        check_workflow_imports(&imports)?;
    }
    if let Some(dir) = output.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(output, &component)
        .with_context(|| format!("cannot write {}", output.display()))?;
    println!(
        "wrote {} ({:.1} KiB, {} imports)",
        output.display(),
        component.len() as f64 / 1024.0,
        imports.len()
    );
    Ok(())
}

/// Embeds world `world` of `wit/` into `module` as its component type.
pub(crate) fn embed_world(root: &Path, world: World, module: &mut Vec<u8>) -> Result<()> {
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve
        .push_dir(root.join("wit"))
        .context("cannot parse wit/")?;
    let world_id = resolve.select_world(&[package], Some(world.wit_name()?))?;
    wit_component::embed_component_metadata(module, &resolve, world_id, StringEncoding::UTF8)
        .context("cannot embed the world's metadata")
}

/// Fails unless every import is a `weft:plugin/*` interface.
pub(crate) fn check_workflow_imports(imports: &[String]) -> Result<()> {
    check_imports(imports, WORKFLOW_IMPORT_PREFIX)
}

/// Fails unless every import of a workflow component starts with `allowed`.
pub(crate) fn check_imports(imports: &[String], allowed: &str) -> Result<()> {
    let foreign: Vec<&String> = imports
        .iter()
        .filter(|name| !name.starts_with(allowed))
        .collect();
    if !foreign.is_empty() {
        bail!(
            "a workflow component may import only {allowed}* (determinism), \
             but it imports {foreign:?}: no WASI (stdio, clocks, random, files); \
             use the workflow-host imports instead"
        );
    }
    Ok(())
}

/// True when the module already has a `component-type*` custom section (as
/// linked in from wit-bindgen's `*_component_type.o`).
fn has_component_type(module: &[u8]) -> Result<bool> {
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let wasmparser::Payload::CustomSection(section) =
            payload.context("cannot parse the core module")?
            && section.name().starts_with("component-type")
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The core module's imports from WASI modules, as `module::name`.
fn wasi_imports(module: &[u8]) -> Result<Vec<String>> {
    let mut wasi = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let wasmparser::Payload::ImportSection(section) =
            payload.context("cannot parse the core module")?
        {
            for import in section.into_imports() {
                let import = import.context("cannot parse the core module's imports")?;
                if import.module.starts_with("wasi") {
                    wasi.push(format!("{}::{}", import.module, import.name));
                }
            }
        }
    }
    Ok(wasi)
}

/// Runs every `guest-examples/<lang>/build.sh OUT_DIR` there is and prints
/// the size and imports of each component it built, and the build time.
pub fn build_foreign_guests(root: &Path, out_dir: &Path) -> Result<()> {
    // build.sh calls this very binary for `bindgen-c` and `componentize`,
    // instead of a nested `cargo xtask` that would wait on cargo's lock.
    let xtask = std::env::current_exe().context("cannot find the xtask binary")?;
    for lang in LANGUAGES {
        let dir = root.join("guest-examples").join(lang);
        let script = dir.join("build.sh");
        if !script.exists() {
            continue;
        }
        let outputs = [
            format!("order_workflow_{lang}.wasm"),
            format!("order_activities_{lang}.wasm"),
        ];
        // A failed build must not leave an older component behind.
        for output in &outputs {
            let path = out_dir.join(output);
            if path.exists() {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove the old {}", path.display()))?;
            }
        }
        #[allow(
            clippy::disallowed_methods,
            reason = "timing a build, not workflow code"
        )]
        let start = Instant::now();
        let status = Command::new("bash")
            .arg(&script)
            .arg(out_dir)
            .env("WEFT_XTASK", &xtask)
            .status()
            .with_context(|| format!("cannot run {}", script.display()))?;
        if !status.success() {
            bail!(
                "`{} {}` failed ({status}); is the toolchain installed \
                 (guest-examples/{lang}/setup.sh)?",
                script.display(),
                out_dir.display()
            );
        }
        let elapsed = start.elapsed().as_secs_f64();
        for (output, world) in outputs.iter().zip([World::Workflow, World::Activity]) {
            let path = out_dir.join(output);
            let component = std::fs::read(&path).with_context(|| {
                format!("{} did not produce {}", script.display(), path.display())
            })?;
            let imports = component_imports(&component)?;
            let imports = if world.is_workflow() {
                check_workflow_imports(&imports).with_context(|| format!("guest {output}"))?;
                format!("imports: {}", imports.join(", "))
            } else {
                format!("{} imports", imports.len())
            };
            // The time is build.sh's, which builds both components.
            println!(
                "{output:<24} {:>8.1} KiB  {world:?}, {lang}/build.sh {elapsed:.1} s, {imports}",
                component.len() as f64 / 1024.0,
            );
        }
    }
    Ok(())
}
