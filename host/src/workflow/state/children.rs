//! Child workflow starts: a blocking guest's `start-child` returns once
//! history says whether the child started, so that signalling or
//! cancelling it by id cannot race its start (as in the Temporal SDKs).

use crate::bindings::types::Failure;
use std::collections::BTreeMap;

/// Children whose start is not resolved yet (`None`), or resolved.
#[derive(Debug, Default)]
pub(super) struct ChildStarts(BTreeMap<u32, Option<Result<(), Failure>>>);

impl ChildStarts {
    /// Child `seq` was asked to start.
    pub(super) fn starting(&mut self, seq: u32) {
        self.0.insert(seq, None);
    }

    /// History resolved the start of child `seq`, once.
    pub(super) fn resolve(&mut self, seq: u32, started: Result<(), Failure>) -> Result<(), String> {
        match self.0.get_mut(&seq) {
            Some(slot @ None) => {
                *slot = Some(started);
                Ok(())
            }
            _ => Err(format!(
                "history resolves the start of child {seq}, which this run has not started"
            )),
        }
    }

    /// Whether child `seq` started, once history said.
    pub(super) fn started(&self, seq: u32) -> Option<&Result<(), Failure>> {
        self.0.get(&seq).and_then(Option::as_ref)
    }

    /// Child `seq`'s handle is gone.
    pub(super) fn forget(&mut self, seq: u32) {
        self.0.remove(&seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_resolves_once_and_only_for_a_started_child() {
        let mut c = ChildStarts::default();
        assert!(c.resolve(1, Ok(())).is_err(), "never started");
        c.starting(1);
        assert_eq!(c.started(1), None, "not resolved yet");
        c.resolve(1, Ok(())).expect("first");
        assert_eq!(c.started(1), Some(&Ok(())));
        let e = c.resolve(1, Ok(())).expect_err("twice");
        assert_eq!(
            e,
            "history resolves the start of child 1, which this run has not started"
        );
        c.forget(1);
        assert_eq!(c.started(1), None);
    }
}
