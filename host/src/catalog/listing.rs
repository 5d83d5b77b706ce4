//! `weft modules`: every store name with its versions' state.

use super::Catalog;
use super::error::DeployError;
use super::usage::workflow_types;
use crate::module::Kind;
use crate::store::NameRecord;

/// A name and its versions, for `weft modules`.
#[derive(Debug)]
pub struct ModuleListing {
    /// The name.
    pub name: String,
    /// Its record.
    pub record: NameRecord,
    /// Per version, in upload order.
    pub versions: Vec<VersionListing>,
}

/// One version's state.
#[derive(Debug)]
pub struct VersionListing {
    /// Compiled and in memory on this host.
    pub loaded: bool,
    /// Open runs pinned to it (workflows; `None` if unknown).
    pub open_runs: Option<usize>,
}

impl Catalog {
    /// Every name with its versions' state.
    pub async fn list(&self) -> Result<Vec<ModuleListing>, DeployError> {
        let store = self.require_store()?;
        let mut records = Vec::new();
        for name in store.names()? {
            let record = store.record(&name)?;
            records.push((name, record));
        }
        // The open runs of every name's types, read once for all names:
        // unknown (`None`) if Temporal cannot say.
        let open = self
            .open_runs(&workflow_types(records.iter().map(|(_, r)| r)))
            .await
            .ok();
        let mut listings = Vec::new();
        for (name, record) in records {
            let pinned = match record.kind {
                Kind::Workflow => open.as_ref().map(|o| o.pinned(&workflow_types([&record]))),
                Kind::Activity => None,
            };
            let versions = record
                .versions
                .iter()
                .map(|v| VersionListing {
                    loaded: self.is_loaded(&v.digest),
                    open_runs: pinned
                        .as_ref()
                        .map(|p| p.get(&v.digest).copied().unwrap_or(0)),
                })
                .collect();
            listings.push(ModuleListing {
                name,
                record,
                versions,
            });
        }
        Ok(listings)
    }
}
