//! What a `temporal:workflow-runtime` guest imports (`workflow-host`): it
//! pushes core's own commands, encoded, into the run being activated.

use super::super::state::RunHost;
use crate::bindings::temporal_runtime::temporal::workflow_runtime::{types, workflow_host};
use crate::temporal::proto::workflow_commands::WorkflowCommand;
use prost::Message;

impl types::Host for RunHost {}

impl workflow_host::Host for RunHost {
    /// Details for `__stack_trace`-style enhanced queries, which weft does
    /// not answer: dropped.
    fn set_current_details(&mut self, _details: String) -> wasmtime::Result<()> {
        Ok(())
    }

    /// A command of the run being activated, as core's `WorkflowCommand`
    /// protobuf. One that does not decode traps the guest: it and the host
    /// disagree on the world's encoding.
    fn push_command(&mut self, command: types::WorkflowCommand) -> wasmtime::Result<()> {
        let command = WorkflowCommand::decode(command.as_slice()).map_err(|e| {
            wasmtime::Error::msg(format!(
                "push-command: not a coresdk.workflow_commands.WorkflowCommand ({e})"
            ))
        })?;
        self.lock_state().push_command(command);
        Ok(())
    }

    /// Whether a patch a new run meets takes effect. As in Temporal's own
    /// host without a patch-activation callback: always (the guest records
    /// the marker; replay follows history's markers, not this answer).
    fn patch_activation(&mut self, _patch_id: String) -> wasmtime::Result<bool> {
        Ok(true)
    }
}
