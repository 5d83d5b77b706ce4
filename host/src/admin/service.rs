//! The admin and health services over the catalog.

use super::health::health_check_response::ServingStatus;
use super::health::{HealthCheckRequest, HealthCheckResponse, health_server};
use super::proto::{self, admin_server, deploy_request};
use crate::catalog::{Catalog, DeployError, DeployRequest, LoadError};
use crate::store::{Digest, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tonic::{Code, Request, Response, Status, Streaming};

/// Answers the admin API from the catalog.
pub(super) struct AdminService {
    pub(super) catalog: Arc<Catalog>,
    pub(super) max_upload_bytes: usize,
}

/// Answers health checks: alive while serving, ready once workers poll.
pub(super) struct HealthService {
    pub(super) ready: Arc<AtomicBool>,
}

/// The gRPC status of a refused change: what the caller must do about it
/// decides the code (fix the request, create or free something first,
/// retry later), so every error is listed here; nothing falls through.
fn status(e: DeployError) -> Status {
    let message = e.to_string();
    let code = match &e {
        DeployError::NoStore | DeployError::Gate { .. } | DeployError::Pinned { .. } => {
            Code::FailedPrecondition
        }
        DeployError::Store(e) => store_code(e),
        DeployError::Load(e) => load_code(e),
        DeployError::Module(_) | DeployError::Grants(_) | DeployError::TaskQueue(_) => {
            Code::InvalidArgument
        }
        DeployError::StoreConflict { .. } | DeployError::ConfigConflict { .. } => {
            Code::AlreadyExists
        }
        DeployError::GateUnavailable(_) | DeployError::Temporal(_) => Code::Unavailable,
    };
    Status::new(code, message)
}

fn store_code(e: &StoreError) -> Code {
    match e {
        StoreError::BadDigest(_) | StoreError::BadName(_) => Code::InvalidArgument,
        StoreError::NoSuchName(_) | StoreError::NoSuchVersion { .. } => Code::NotFound,
        // The name holds another kind or task queue, or the version is
        // current: the request is fine, the store's state refuses it.
        StoreError::RemoveCurrent { .. } | StoreError::Mismatch { .. } => Code::FailedPrecondition,
        StoreError::Busy { .. } => Code::Unavailable,
        StoreError::Io { .. }
        | StoreError::Corrupt { .. }
        | StoreError::Encode { .. }
        | StoreError::BlobMismatch { .. } => Code::Internal,
    }
}

fn load_code(e: &LoadError) -> Code {
    match e {
        LoadError::NoCurrent | LoadError::Grants(_) | LoadError::Module(_) => {
            Code::FailedPrecondition
        }
        LoadError::NotHere(_) => Code::NotFound,
        LoadError::Store(e) => store_code(e),
    }
}

fn digest(text: &str) -> Result<Digest, Status> {
    Digest::try_from(text.to_owned()).map_err(|e| Status::invalid_argument(e.to_string()))
}

#[tonic::async_trait]
impl admin_server::Admin for AdminService {
    async fn deploy(
        &self,
        request: Request<Streaming<proto::DeployRequest>>,
    ) -> Result<Response<proto::DeployResponse>, Status> {
        let mut stream = request.into_inner();
        let header = match stream.message().await?.and_then(|m| m.part) {
            Some(deploy_request::Part::Header(h)) => h,
            _ => {
                return Err(Status::invalid_argument(
                    "the first message of an upload is its header",
                ));
            }
        };
        let limit = self.max_upload_bytes;
        if header.size as usize > limit {
            return Err(Status::resource_exhausted(format!(
                "upload of {} bytes is over this host's limit of {} MiB (admin.max_upload_mib)",
                header.size,
                limit >> 20
            )));
        }
        let mut bytes = Vec::with_capacity(header.size as usize);
        while let Some(message) = stream.message().await? {
            let Some(deploy_request::Part::Chunk(chunk)) = message.part else {
                return Err(Status::invalid_argument("an upload has one header"));
            };
            if bytes.len() + chunk.len() > limit {
                return Err(Status::resource_exhausted(format!(
                    "upload is over this host's limit of {} MiB (admin.max_upload_mib)",
                    limit >> 20
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.len() as u64 != header.size {
            return Err(Status::invalid_argument(format!(
                "upload truncated: received {} of the {} bytes announced",
                bytes.len(),
                header.size
            )));
        }
        if !header.digest.is_empty() && Digest::of(&bytes) != digest(&header.digest)? {
            return Err(Status::invalid_argument(format!(
                "upload corrupted: its bytes do not have the announced digest {}",
                header.digest
            )));
        }
        let deployed = self
            .catalog
            .deploy(DeployRequest {
                name: header.name,
                task_queue: Some(header.task_queue).filter(|q| !q.is_empty()),
                grants: header.grants,
                bytes,
                keep_current: header.keep_current,
                force: header.force,
            })
            .await
            .map_err(status)?;
        Ok(Response::new(proto::DeployResponse {
            digest: deployed.digest.to_string(),
            kind: deployed.kind.to_string(),
            types: deployed.types,
            task_queue: deployed.task_queue,
            current: deployed.current,
            served_here: deployed.served_here,
            gate: deployed.gate,
            notes: deployed.notes,
        }))
    }

    async fn list_modules(
        &self,
        _request: Request<proto::ListModulesRequest>,
    ) -> Result<Response<proto::ListModulesResponse>, Status> {
        let listings = self.catalog.list().await.map_err(status)?;
        let names = listings
            .into_iter()
            .map(|l| proto::ModuleName {
                kind: l.record.kind.to_string(),
                task_queue: l.record.task_queue.clone(),
                versions: l
                    .record
                    .versions
                    .iter()
                    .zip(&l.versions)
                    .map(|(v, state)| proto::ModuleVersion {
                        digest: v.digest.to_string(),
                        types: v.types.clone(),
                        current: l.record.current.as_ref() == Some(&v.digest),
                        loaded: state.loaded,
                        open_runs: state.open_runs.map_or(-1, |n| n as i64),
                    })
                    .collect(),
                name: l.name,
            })
            .collect();
        Ok(Response::new(proto::ListModulesResponse { names }))
    }

    async fn inspect_module(
        &self,
        request: Request<proto::InspectModuleRequest>,
    ) -> Result<Response<proto::InspectModuleResponse>, Status> {
        let request = request.into_inner();
        let store = self
            .catalog
            .store()
            .ok_or_else(|| status(DeployError::NoStore))?;
        let record = store.record(&request.name).map_err(|e| status(e.into()))?;
        let version = if request.digest.is_empty() {
            record.current_version()
        } else {
            record.version(&digest(&request.digest)?)
        }
        .ok_or_else(|| Status::not_found(format!("`{}` has no such version", request.name)))?;
        let report = crate::inspect::inspect(&store.path(&version.digest), None)
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(proto::InspectModuleResponse {
            digest: version.digest.to_string(),
            report: report.to_string(),
            grants: version.grants.clone(),
        }))
    }

    async fn set_current(
        &self,
        request: Request<proto::SetCurrentRequest>,
    ) -> Result<Response<proto::SetCurrentResponse>, Status> {
        let request = request.into_inner();
        let (gate, notes) = self
            .catalog
            .set_current(&request.name, &digest(&request.digest)?, request.force)
            .await
            .map_err(status)?;
        Ok(Response::new(proto::SetCurrentResponse { gate, notes }))
    }

    async fn undeploy(
        &self,
        request: Request<proto::UndeployRequest>,
    ) -> Result<Response<proto::UndeployResponse>, Status> {
        let request = request.into_inner();
        let which = if request.digest.is_empty() {
            None
        } else {
            Some(digest(&request.digest)?)
        };
        let removed = self
            .catalog
            .undeploy(&request.name, which.as_ref(), request.force)
            .await
            .map_err(status)?;
        Ok(Response::new(proto::UndeployResponse {
            removed: removed.iter().map(ToString::to_string).collect(),
        }))
    }
}

#[tonic::async_trait]
impl health_server::Health for HealthService {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let status = match request.into_inner().service.as_str() {
            "" => ServingStatus::Serving,
            super::READINESS if self.ready.load(Ordering::Acquire) => ServingStatus::Serving,
            super::READINESS => ServingStatus::NotServing,
            _ => ServingStatus::ServiceUnknown,
        };
        Ok(Response::new(HealthCheckResponse {
            status: status as i32,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{GrantsError, TaskQueueError};
    use crate::module::Kind;

    #[test]
    fn each_refusal_has_the_code_of_what_the_caller_must_do() {
        let digest = Digest::of(b"v1");
        let cases = [
            (DeployError::NoStore, Code::FailedPrecondition),
            (
                DeployError::Store(StoreError::BadName("a b".into())),
                Code::InvalidArgument,
            ),
            (
                DeployError::Store(StoreError::NoSuchName("gone".into())),
                Code::NotFound,
            ),
            (
                DeployError::Store(StoreError::RemoveCurrent {
                    name: "orders".into(),
                    digest: digest.clone(),
                }),
                Code::FailedPrecondition,
            ),
            (
                DeployError::Store(StoreError::Io {
                    path: "/store".into(),
                    source: std::io::Error::other("disk on fire"),
                }),
                Code::Internal,
            ),
            (
                DeployError::Load(LoadError::NotHere(digest.clone())),
                Code::NotFound,
            ),
            (
                DeployError::Grants(GrantsError::Workflow),
                Code::InvalidArgument,
            ),
            (
                DeployError::TaskQueue(TaskQueueError::NoWorker {
                    kind: Kind::Activity,
                }),
                Code::InvalidArgument,
            ),
            (
                DeployError::StoreConflict {
                    type_name: "Order".into(),
                    task_queue: "orders".into(),
                    module: "other".into(),
                },
                Code::AlreadyExists,
            ),
            (
                DeployError::Pinned {
                    what: digest.to_string(),
                    count: 2,
                },
                Code::FailedPrecondition,
            ),
        ];
        for (error, code) in cases {
            let message = error.to_string();
            let status = status(error);
            assert_eq!(status.code(), code, "{message}");
            assert_eq!(status.message(), message);
        }
    }
}
