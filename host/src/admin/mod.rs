//! The admin API (`proto/weft/admin/v1/admin.proto`): upload, list,
//! inspect, make current and remove module versions on a running host, and
//! the standard gRPC health service for probes.

mod client;
mod listen;
mod service;

pub use client::{AdminClient, ClientOptions};
pub use listen::{AdminServer, ListenError, read_token};

/// The generated admin API types and services.
#[allow(missing_docs, unused_qualifications, clippy::all)]
pub mod proto {
    tonic::include_proto!("weft.admin.v1");
}

/// The generated gRPC health protocol.
#[allow(missing_docs, unused_qualifications, clippy::all)]
pub mod health {
    tonic::include_proto!("grpc.health.v1");
}

/// The size of each chunk `weft deploy` streams.
pub const CHUNK_BYTES: usize = 1 << 20;

/// The health service name that reports readiness (every worker polling).
pub const READINESS: &str = "readiness";
