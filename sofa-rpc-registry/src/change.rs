//! [`ProviderChange`]: what a subscription stream reports.

use crate::provider::ProviderInfo;

/// One update of a subscription's provider list.
///
/// A subscription stream yields a [`Snapshot`](ProviderChange::Snapshot) first, then
/// incremental changes. A consumer keeps a list and calls [`apply_to`](ProviderChange::apply_to)
/// on each change (or matches on the variants). Providers are identified by
/// [`ProviderInfo::identity`] (`protocol://host:port/path`): one entry per identity.
///
/// Another `Snapshot` arrives whenever the backend re-read the whole list after a disruption
/// (reconnect, new ZooKeeper session, new etcd lease or watch, registry error): it *replaces*
/// the list. Lists are sorted by identity.
///
/// ```
/// use sofa_rpc_registry::{ProviderChange, ProviderInfo};
///
/// let a = ProviderInfo::bolt("10.0.0.1", 12200);
/// let b = ProviderInfo::bolt("10.0.0.2", 12200);
/// let mut list = Vec::new();
/// ProviderChange::Snapshot(vec![a.clone()]).apply_to(&mut list);
/// ProviderChange::Added(vec![b.clone()]).apply_to(&mut list);
/// ProviderChange::Updated(vec![a.clone().with_param("weight", "5")]).apply_to(&mut list);
/// ProviderChange::Removed(vec![b]).apply_to(&mut list);
/// assert_eq!(list, vec![a.with_param("weight", "5")]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderChange {
    /// The complete current list; replaces whatever the consumer had.
    Snapshot(Vec<ProviderInfo>),
    /// Providers that appeared.
    Added(Vec<ProviderInfo>),
    /// Providers that went away (as they were last reported).
    Removed(Vec<ProviderInfo>),
    /// Providers whose parameters changed (same identity, new URL).
    Updated(Vec<ProviderInfo>),
}

impl ProviderChange {
    /// The providers this change carries.
    pub fn providers(&self) -> &[ProviderInfo] {
        match self {
            ProviderChange::Snapshot(p)
            | ProviderChange::Added(p)
            | ProviderChange::Removed(p)
            | ProviderChange::Updated(p) => p,
        }
    }

    /// Applies the change to `list` (entries keyed by [`ProviderInfo::identity`]).
    pub fn apply_to(&self, list: &mut Vec<ProviderInfo>) {
        match self {
            ProviderChange::Snapshot(all) => {
                list.clone_from(all);
            }
            ProviderChange::Added(ps) | ProviderChange::Updated(ps) => {
                for p in ps {
                    let id = p.identity();
                    match list.iter_mut().find(|q| q.identity() == id) {
                        Some(q) => *q = p.clone(),
                        None => list.push(p.clone()),
                    }
                }
            }
            ProviderChange::Removed(ps) => {
                let gone: Vec<String> = ps.iter().map(ProviderInfo::identity).collect();
                list.retain(|q| !gone.contains(&q.identity()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_of_a_known_identity_replaces() {
        let a = ProviderInfo::bolt("h", 1);
        let mut list = vec![a.clone()];
        ProviderChange::Added(vec![a.clone().with_param("x", "1")]).apply_to(&mut list);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].param("x"), Some("1"));
        assert_eq!(ProviderChange::Removed(vec![a]).providers().len(), 1);
    }
}
