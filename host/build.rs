//! Make the Temporal API's protobuf descriptors available to `weft replay`,
//! which reads histories in the protobuf JSON form `temporal workflow show
//! --output json` prints. `temporalio-protos` compiles them (with protox) and
//! publishes the path through its `links` metadata.

fn main() {
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
