//! Which module versions the open runs are pinned to, read from Temporal
//! (every host's runs, not only this one's): `weft modules` shows it, and
//! an undeploy refuses to remove a version open runs still need.

use super::Catalog;
use crate::store::{Digest, NameRecord};
use crate::temporal::TemporalError;
use crate::temporal::runs::{self, Runs};
use std::collections::HashMap;

/// At most this many open runs are looked at in one count.
const MAX_OPEN_RUNS: usize = 10_000;

/// Open runs of some workflow types, each with the version it is pinned to
/// (`None`: a run started before versions were pinned).
#[derive(Debug, Default)]
pub(super) struct OpenRuns(Vec<(String, Option<Digest>)>);

impl OpenRuns {
    /// How many of the open runs of `types` are pinned to each version.
    pub(super) fn pinned(&self, types: &[String]) -> HashMap<Digest, usize> {
        let mut pinned = HashMap::new();
        let of_types = self.0.iter().filter(|(t, _)| types.contains(t));
        for digest in of_types.filter_map(|(_, d)| d.as_ref()) {
            *pinned.entry(digest.clone()).or_insert(0) += 1;
        }
        pinned
    }
}

/// Every workflow type the versions of `records` offer, once each.
pub(super) fn workflow_types<'a>(records: impl IntoIterator<Item = &'a NameRecord>) -> Vec<String> {
    let mut types: Vec<String> = records
        .into_iter()
        .filter(|r| r.kind == crate::module::Kind::Workflow)
        .flat_map(|r| r.versions.iter().flat_map(|v| v.types.iter().cloned()))
        .collect();
    types.sort();
    types.dedup();
    types
}

impl Catalog {
    /// The open runs of `types` and their pins: one visibility query, which
    /// names most runs' pins (see [`runs::pin_in`]), and for the others the
    /// first history page (where the run's first workflow task recorded
    /// the pin marker). Empty until Temporal is connected.
    pub(super) async fn open_runs(&self, types: &[String]) -> Result<OpenRuns, TemporalError> {
        let Some(gate) = self.gate.get() else {
            return Ok(OpenRuns::default());
        };
        let open = runs::list(
            &gate.connection,
            &gate.namespace,
            types,
            Runs::Open,
            MAX_OPEN_RUNS,
        )
        .await?;
        let mut pins = Vec::with_capacity(open.len());
        for run in open {
            let pin = match &run.pin {
                Some(pin) => Some(pin.clone()),
                None => {
                    let history =
                        runs::history(&gate.connection, &gate.namespace, &run, false).await?;
                    runs::pin_of(&history)
                }
            };
            let digest = pin.and_then(|d| Digest::try_from(d).ok());
            pins.push((run.workflow_type, digest));
        }
        Ok(OpenRuns(pins))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_counted_per_version_for_the_types_asked() {
        let a = Digest::of(b"a");
        let b = Digest::of(b"b");
        let open = OpenRuns(vec![
            ("Order".into(), Some(a.clone())),
            ("Order".into(), Some(a.clone())),
            ("Order".into(), None),
            ("Refund".into(), Some(b.clone())),
        ]);
        let orders = open.pinned(&["Order".into()]);
        assert_eq!(orders.get(&a), Some(&2));
        assert_eq!(orders.get(&b), None);
        let both = open.pinned(&["Order".into(), "Refund".into()]);
        assert_eq!(both.get(&b), Some(&1));
        assert!(open.pinned(&["Other".into()]).is_empty());
    }
}
