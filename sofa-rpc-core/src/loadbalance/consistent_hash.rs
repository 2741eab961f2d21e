//! `consistentHash`: the same first argument goes to the same provider, on Java SOFARPC's ring.

use std::sync::Arc;

use sofa_rpc_registry::ProviderInfo;

use super::cache::ListCache;
use super::hash_key::key_hash;
use super::ring::Ring;
use super::LoadBalancer;
use crate::invocation::Invocation;

/// Digests per provider: SOFARPC's 128 virtual nodes, four per digest.
const DIGESTS: u64 = 32;

/// Sends calls with the same first argument to the same provider, and moves only the keys of
/// a provider that leaves (or a share of keys to one that joins) when the list changes.
///
/// Ring-compatible with Java SOFARPC's `consistentHash`: 128 virtual nodes per provider from
/// the MD5 of `host + port + i` for `i` in `0..32`, four little-endian 32-bit points per
/// digest, and the key's point from the MD5 of the first argument's Java string form
/// (`String.valueOf(args[0])`; no argument is the empty string). A Java consumer and this
/// one, given the same list in the same order, pick the same provider for the same key.
/// Weights are not considered ([`WeightConsistentHash`](super::WeightConsistentHash) does).
///
/// Which first arguments hash as in Java: strings, booleans, chars, unit enum variants
/// (Java's `Enum.name()`) and integers within the range of the Java type they stand for
/// (Java has no unsigned types: a `u8` of 200 is a Java `byte` printing `-56`, but hashes as
/// `200` here); floats as JDK 19 and later print them. Any other
/// value has no JVM-independent string form (Java's `Object.toString()` is usually a class
/// name and an identity hash), so its JSON form is hashed instead, which still sends equal
/// arguments to the same provider; a protobuf-only argument hashes its encoding.
///
/// The ring is built when a list is first seen and kept until the list changes; a selection
/// hashes the key (the points of recent short keys are remembered per thread) and looks the
/// point up in the ring.
#[derive(Debug, Default)]
pub struct ConsistentHash {
    rings: ListCache<Ring>,
}

impl LoadBalancer for ConsistentHash {
    fn select(
        &self,
        invocation: &Invocation,
        providers: &[Arc<ProviderInfo>],
    ) -> Option<Arc<ProviderInfo>> {
        match providers {
            [] => None,
            // As SOFARPC: a single provider is chosen without hashing.
            [only] => Some(only.clone()),
            _ => {
                let hash = key_hash(invocation);
                // The ring depends on addresses alone: it never expires by itself, and the
                // clock is never read.
                let derive = |list: &[Arc<ProviderInfo>], _| {
                    (Ring::build(list, &vec![DIGESTS; list.len()]), u64::MAX)
                };
                let index = self
                    .rings
                    .with(providers, || 0, derive, |ring| ring.owner(hash))?;
                providers.get(index).cloned()
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use md5::{Digest, Md5};

    use super::*;
    use crate::invocation::DynArgs;
    use crate::service_id::ServiceId;

    /// Java SOFARPC's selector written out as its source reads, on a `BTreeMap` standing for
    /// its `TreeMap`: `nodes(i)` virtual nodes for provider `i`.
    pub(crate) fn java_pick(
        providers: &[(&str, u16)],
        nodes: impl Fn(usize) -> usize,
        key: &str,
    ) -> usize {
        fn hash(digest: &[u8], index: usize) -> u64 {
            (u64::from(digest[3 + index * 4]) << 24)
                | (u64::from(digest[2 + index * 4]) << 16)
                | (u64::from(digest[1 + index * 4]) << 8)
                | u64::from(digest[index * 4])
        }
        let mut virtual_nodes = BTreeMap::new();
        for (owner, (host, port)) in providers.iter().enumerate() {
            for i in 0..nodes(owner) / 4 {
                let digest = Md5::digest(format!("{host}{port}{i}").as_bytes());
                for h in 0..4 {
                    virtual_nodes.insert(hash(&digest, h), owner);
                }
            }
        }
        let point = hash(&Md5::digest(key.as_bytes()), 0);
        let entry = virtual_nodes
            .range(point..)
            .next()
            .or_else(|| virtual_nodes.iter().next());
        *entry.unwrap().1
    }

    pub(crate) const PROVIDERS: [(&str, u16); 4] = [
        ("10.0.0.1", 12200),
        ("10.0.0.2", 12200),
        ("10.0.0.3", 12201),
        ("192.168.1.10", 8080),
    ];

    pub(crate) const KEYS: [&str; 12] = [
        "",
        "abc",
        "user-1",
        "user-2",
        "user-3",
        "order:1001",
        "order:1002",
        "42",
        "-7",
        "true",
        "中文",
        "1.0",
    ];

    /// The index in `list` of the provider `lb` chooses for a call whose first argument is
    /// the string `key`.
    pub(crate) fn select_index(
        lb: &dyn LoadBalancer,
        list: &[Arc<ProviderInfo>],
        key: &str,
    ) -> usize {
        let args = DynArgs::new().arg("java.lang.String", key.to_string());
        let inv = Invocation::new(ServiceId::parse("s:1.0"), "m", Arc::new(args));
        let chosen = lb.select(&inv, list).unwrap();
        list.iter().position(|p| Arc::ptr_eq(p, &chosen)).unwrap()
    }

    fn list() -> Vec<Arc<ProviderInfo>> {
        PROVIDERS
            .iter()
            .map(|&(host, port)| Arc::new(ProviderInfo::bolt(host, port)))
            .collect()
    }

    #[test]
    fn picks_what_javas_ring_picks() {
        let lb = ConsistentHash::default();
        let list = list();
        let mut picks = Vec::new();
        for key in KEYS {
            let expected = java_pick(&PROVIDERS, |_| 128, key);
            assert_eq!(select_index(&lb, &list, key), expected, "key {key:?}");
            picks.push(expected);
        }
        // The same table computed apart, by a Python transcription of the Java source.
        assert_eq!(picks, [2, 0, 1, 0, 1, 2, 1, 1, 0, 1, 3, 3]);
    }

    #[test]
    fn numbers_hash_as_java_prints_them() {
        let lb = ConsistentHash::default();
        let list = list();
        let inv = |args: DynArgs| Invocation::new(ServiceId::parse("s:1.0"), "m", Arc::new(args));
        let by_int = lb
            .select(&inv(DynArgs::new().arg("int", 42)), &list)
            .unwrap();
        assert_eq!(
            by_int.host(),
            PROVIDERS[java_pick(&PROVIDERS, |_| 128, "42")].0
        );
    }

    #[test]
    fn keys_stay_put_when_another_provider_leaves() {
        let lb = ConsistentHash::default();
        let full = list();
        // The last provider leaves: every other key keeps its provider.
        let fewer = &full[..3];
        for i in 0..200 {
            let key = format!("k{i}");
            let before = select_index(&lb, &full, &key);
            if before != 3 {
                assert_eq!(select_index(&lb, fewer, &key), before, "{key}");
            }
        }
    }
}
