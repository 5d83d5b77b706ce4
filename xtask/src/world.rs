//! The world a guest implements, which decides how it is built and which
//! imports it may have.

use anyhow::{Result, bail};

/// Prefix of the only interfaces a weft workflow component may import.
pub const WORKFLOW_IMPORT_PREFIX: &str = "weft:plugin/";

/// Prefix of the only interfaces a `temporal:workflow-runtime` component may
/// import (`workflow-host`, and `types`, which has no functions).
const TEMPORAL_WORKFLOW_IMPORT: &str = "temporal:workflow-runtime/";

/// Which world a guest implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum World {
    /// `weft:plugin/workflow` (blocking): core module for
    /// `wasm32-unknown-unknown`, componentized here, no imports but
    /// `weft:plugin/*`.
    Workflow,
    /// `weft:plugin/activation-workflow`: built like [`World::Workflow`].
    ActivationWorkflow,
    /// Temporal's `temporal:workflow-runtime` world: built like
    /// [`World::Workflow`], importing nothing but that world's host interface.
    TemporalWorkflow,
    /// `weft:plugin/activity`: a component built by rustc for `wasm32-wasip2`
    /// or a core module whose WASI preview 1 imports are adapted to p2.
    Activity,
}

impl World {
    /// Parses the name of a world of `wit/`: `workflow`,
    /// `activation-workflow` or `activity`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "workflow" => Ok(World::Workflow),
            "activation-workflow" => Ok(World::ActivationWorkflow),
            "activity" => Ok(World::Activity),
            other => bail!(
                "unknown world {other:?}: expected `workflow`, `activation-workflow` or `activity`"
            ),
        }
    }

    /// The world's name in `wit/`, for the worlds defined there.
    pub fn wit_name(self) -> Result<&'static str> {
        match self {
            World::Workflow => Ok("workflow"),
            World::ActivationWorkflow => Ok("activation-workflow"),
            World::Activity => Ok("activity"),
            World::TemporalWorkflow => {
                bail!("Temporal's workflow world is not in wit/: its guests embed it themselves")
            }
        }
    }

    /// True for the workflow worlds: deterministic, no WASI.
    pub fn is_workflow(self) -> bool {
        self != World::Activity
    }

    /// The rustc target a Rust guest of this world is compiled for.
    pub fn target(self) -> &'static str {
        if self.is_workflow() {
            "wasm32-unknown-unknown"
        } else {
            "wasm32-wasip2"
        }
    }

    /// The prefix every import must have (`None`: activities may import
    /// WASI).
    pub fn allowed_imports(self) -> Option<&'static str> {
        match self {
            World::Workflow | World::ActivationWorkflow => Some(WORKFLOW_IMPORT_PREFIX),
            World::TemporalWorkflow => Some(TEMPORAL_WORKFLOW_IMPORT),
            World::Activity => None,
        }
    }
}
