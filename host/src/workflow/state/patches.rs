//! Patch decisions, made once per run per id as the Temporal SDKs make
//! them (sdk-core's `patch_state_machine.rs` has the full table):
//!
//! | run        | history has the marker | `patched` | marker recorded |
//! |------------|------------------------|-----------|-----------------|
//! | new        | -                      | true      | yes             |
//! | replaying  | yes                    | true      | yes (matches)   |
//! | replaying  | no                     | false     | no              |
//!
//! The first decision sticks for the rest of the run, whatever later
//! activations say about replay.

use super::{MAX_PATCH_ID_BYTES, MAX_PATCHES};
use std::collections::{BTreeMap, BTreeSet};

/// Patch markers in history, and the decisions taken.
#[derive(Debug, Default)]
pub(super) struct Patches {
    /// Patches whose marker is in history (from `NotifyHasPatch`).
    known: BTreeSet<String>,
    /// Patches this run decided on, and the decision.
    decided: BTreeMap<String, bool>,
}

/// A patch decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Decision {
    /// The patched code path is taken.
    pub(super) taken: bool,
    /// Taken for the first time in this run: record its marker.
    pub(super) record: bool,
}

impl Patches {
    /// History holds the marker of patch `id`.
    pub(super) fn notify(&mut self, id: &str) {
        self.known.insert(id.to_owned());
    }

    /// Patch ids are bounded in length and number: each is kept for the run.
    pub(super) fn check(&self, id: &str) -> Result<(), String> {
        if id.len() > MAX_PATCH_ID_BYTES {
            return Err(format!(
                "policy violation: a patch id of {} bytes, more than {MAX_PATCH_ID_BYTES} \
                 (weft's patch id limit)",
                id.len()
            ));
        }
        if !self.decided.contains_key(id) && self.decided.len() >= MAX_PATCHES {
            return Err(format!(
                "policy violation: more than {MAX_PATCHES} patch ids in one run \
                 (weft's patch limit)"
            ));
        }
        Ok(())
    }

    /// The decision on patch `id` (see the table above).
    pub(super) fn decide(&mut self, id: &str, replaying: bool) -> Decision {
        if let Some(&taken) = self.decided.get(id) {
            return Decision {
                taken,
                record: false,
            };
        }
        let taken = !replaying || self.known.contains(id);
        self.decided.insert(id.to_owned(), taken);
        Decision {
            taken,
            record: taken,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: Decision = Decision {
        taken: true,
        record: true,
    };

    #[test]
    fn the_decision_table() {
        // (replaying, marker in history) -> decision
        for (replaying, marked, want) in [
            (false, false, FIRST),
            (false, true, FIRST),
            (true, true, FIRST),
            (
                true,
                false,
                Decision {
                    taken: false,
                    record: false,
                },
            ),
        ] {
            let mut p = Patches::default();
            if marked {
                p.notify("fix");
            }
            assert_eq!(p.decide("fix", replaying), want, "{replaying} {marked}");
        }
    }

    #[test]
    fn a_decision_sticks_and_its_marker_is_recorded_once() {
        let mut p = Patches::default();
        assert!(!p.decide("fix", true).taken, "replay without marker");
        // Past the replayed part, the same id keeps the old code path.
        assert_eq!(
            p.decide("fix", false),
            Decision {
                taken: false,
                record: false
            }
        );
        assert_eq!(p.decide("new", false), FIRST);
        assert_eq!(
            p.decide("new", false),
            Decision {
                taken: true,
                record: false
            }
        );
    }

    #[test]
    fn ids_are_bounded_in_number_and_length() {
        let mut p = Patches::default();
        for i in 0..MAX_PATCHES {
            p.check(&format!("p{i}")).expect("within");
            p.decide(&format!("p{i}"), false);
        }
        p.check("p0").expect("a known id is no new one");
        assert!(
            p.check("one-more")
                .expect_err("over")
                .contains("patch limit")
        );
        let long = "x".repeat(MAX_PATCH_ID_BYTES + 1);
        assert!(p.check(&long).expect_err("over").contains("patch id limit"));
    }
}
