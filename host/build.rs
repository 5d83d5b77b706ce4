//! - Make the Temporal API's protobuf descriptors available to `weft replay`,
//!   which reads histories in the protobuf JSON form `temporal workflow show
//!   --output json` prints. `temporalio-protos` compiles them (with protox)
//!   and publishes the path through its `links` metadata.
//! - Generate the admin API (`proto/`) with tonic, parsing the protos with
//!   protox, so no `protoc` is needed.
//! - Name the wasmtime and Temporal core versions built in, for
//!   `weft --version`, from the workspace's Cargo.lock.

fn main() {
    admin_api();
    locked_versions();
    println!("cargo:rerun-if-env-changed=DEP_TEMPORALIO_PROTOS_DESCRIPTOR_PATH");
    let Ok(from) = std::env::var("DEP_TEMPORALIO_PROTOS_DESCRIPTOR_PATH") else {
        panic!("temporalio-protos did not publish its descriptor set");
    };
    let Ok(out) = std::env::var("OUT_DIR") else {
        panic!("cargo sets OUT_DIR for build scripts");
    };
    let to = std::path::Path::new(&out).join("temporal_descriptors.bin");
    if let Err(e) = std::fs::copy(&from, &to) {
        panic!("copy {from} to {}: {e}", to.display());
    }
}

fn admin_api() {
    let protos = ["weft/admin/v1/admin.proto", "grpc/health/v1/health.proto"];
    println!("cargo:rerun-if-changed=proto");
    let fds = match protox::compile(protos, ["proto"]) {
        Ok(fds) => fds,
        Err(e) => panic!("admin API protos: {e:?}"),
    };
    if let Err(e) = tonic_prost_build::configure().compile_fds(fds) {
        panic!("admin API code generation: {e}");
    }
}

fn locked_versions() {
    let lock = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    for (package, var) in [
        ("wasmtime", "WEFT_WASMTIME_VERSION"),
        ("temporalio-sdk-core", "WEFT_TEMPORAL_CORE_VERSION"),
    ] {
        let needle = format!("name = \"{package}\"\nversion = \"");
        let version = text
            .split_once(&needle)
            .and_then(|(_, rest)| rest.split_once('"'))
            .map_or("unknown", |(v, _)| v);
        println!("cargo:rustc-env={var}={version}");
    }
}
