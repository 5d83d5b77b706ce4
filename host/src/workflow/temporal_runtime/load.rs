//! Loading a component of Temporal's world: the version served, the
//! imports allowed, the workflow types from `list-workflows`.

use super::super::{Guest, RunState, WorkflowModule, WorkflowRuntime, no_run};
use super::{ALLOWED_IMPORTS, GUEST_EXPORT, Pool};
use crate::bindings::temporal_runtime::WorkflowModulePre as TemporalPre;
use crate::module::{self, Kind};
use crate::store::Digest;
use std::path::Path;
use std::sync::Arc;

impl WorkflowRuntime {
    /// Load a component of Temporal's world `temporal:workflow-runtime`:
    /// the version weft serves, importing nothing but that world's host
    /// interface; its definitions come from `list-workflows`.
    pub(in crate::workflow) async fn load_temporal(
        &self,
        path: &Path,
        bytes: &[u8],
        component: &wasmtime::component::Component,
        imports: &[String],
        exports: &[String],
    ) -> Result<WorkflowModule, String> {
        if !exports.iter().any(|e| e == GUEST_EXPORT) {
            return Err(format!(
                "it exports {}; weft serves Temporal's world as {} \
                 (temporal:workflow-runtime@0.1.0, from temporalio-workflow 1.1.1)",
                exports.join(", "),
                GUEST_EXPORT
            ));
        }
        let forbidden: Vec<&str> = imports
            .iter()
            .map(String::as_str)
            .filter(|name| !ALLOWED_IMPORTS.contains(name))
            .collect();
        if !forbidden.is_empty() {
            return Err(format!(
                "it imports {}; a temporal:workflow-runtime workflow may import only \
                 temporal:workflow-runtime/workflow-host@0.1.0 (no WASI: no clock, \
                 randomness, files or network), so that every run is deterministic. Build \
                 it for wasm32-unknown-unknown",
                forbidden.join(", ")
            ));
        }
        let pre = self
            .linker
            .instantiate_pre(component)
            .and_then(TemporalPre::new)
            .map_err(|e| format!("{e:#}"))?;
        let guest = pre.clone();
        let listed = self
            .deploy_time_call(
                "list-workflows",
                RunState::for_activations(no_run(), 0),
                move |mut store| {
                    Box::pin(async move {
                        let bindings = guest.instantiate_async(&mut store).await?;
                        let guest = bindings.temporal_workflow_runtime_workflow_guest();
                        guest.call_list_workflows(&mut store).await
                    })
                },
            )
            .await;
        let types = listed.map(|defs| defs.into_iter().map(|d| d.workflow_type).collect());
        let pool = Pool::new(pre, 0);
        Ok(WorkflowModule {
            path: path.to_owned(),
            digest: Digest::of(bytes),
            guest: Guest::Temporal(Arc::new(pool)),
            engine: self.engine.clone(),
            epochs: self.epochs.clone(),
            types: module::offered_types(Kind::Workflow, path, types).map_err(|e| e.to_string())?,
        })
    }
}
