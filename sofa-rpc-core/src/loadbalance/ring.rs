//! [`Ring`]: Java SOFARPC's consistent-hash ring, built once per provider list.
//!
//! SOFARPC places each provider on the ring with MD5 digests of the string
//! `host + port + i` (Java string concatenation, no separator: `10.0.0.1` and `12200` with
//! `i = 0` give `10.0.0.1122000`), each digest giving four points (its four little-endian
//! 32-bit words). The providers are put in list order into a `TreeMap`, so where two points
//! collide the later provider owns the point. A key's provider is the owner of the first
//! point at or after the key's hash, wrapping to the first point of the ring.
//!
//! Here the ring is two sorted arrays searched by bisection: the same answers as the
//! `TreeMap`, without a node per point.

use std::sync::Arc;

use sofa_rpc_registry::ProviderInfo;

use super::hash_key::{md5, point};

/// Points per digest: MD5's 16 bytes read as four 32-bit words.
const POINTS_PER_DIGEST: u64 = 4;

/// The most points a ring may have (16 MiB of ring). SOFARPC has no bound, but weights come
/// from registries, and weights of many thousands would otherwise cost memory and seconds of
/// hashing per list change.
pub(crate) const MAX_POINTS: u64 = 1 << 21;

/// Sorted points and, at the same index, the index in the list of the provider owning each.
#[derive(Debug, Default)]
pub(crate) struct Ring {
    points: Vec<u32>,
    owners: Vec<u32>,
}

impl Ring {
    /// The ring of `providers`, provider `i` placed with `digests[i]` digests (so
    /// `4 * digests[i]` points). If that would exceed [`MAX_POINTS`], every count is scaled
    /// down in proportion (and the ring no longer matches Java's, which has no bound).
    pub(crate) fn build(providers: &[Arc<ProviderInfo>], digests: &[u64]) -> Ring {
        Self::build_within(providers, digests, MAX_POINTS)
    }

    fn build_within(providers: &[Arc<ProviderInfo>], digests: &[u64], max_points: u64) -> Ring {
        let total: u64 = digests
            .iter()
            .sum::<u64>()
            .saturating_mul(POINTS_PER_DIGEST);
        let scale = |n: u64| {
            if total > max_points {
                (u128::from(n) * u128::from(max_points) / u128::from(total)) as u64
            } else {
                n
            }
        };
        // (point, order of insertion, owner): sorting by the first two puts the point Java's
        // TreeMap keeps (the last put) last among equal points.
        let mut placed: Vec<(u32, u32, u32)> = Vec::new();
        for (owner, (provider, &count)) in providers.iter().zip(digests).enumerate() {
            for i in 0..scale(count) {
                let digest = md5(&format!("{}{}{}", provider.host(), provider.port(), i));
                for h in 0..POINTS_PER_DIGEST as usize {
                    let order = placed.len() as u32;
                    placed.push((point(&digest, h), order, owner as u32));
                }
            }
        }
        placed.sort_unstable();
        let mut ring = Ring {
            points: Vec::with_capacity(placed.len()),
            owners: Vec::with_capacity(placed.len()),
        };
        for (i, &(at, _, owner)) in placed.iter().enumerate() {
            let overwritten = placed.get(i + 1).is_some_and(|next| next.0 == at);
            if !overwritten {
                ring.points.push(at);
                ring.owners.push(owner);
            }
        }
        ring
    }

    /// The index in the list of the provider owning `hash`: the first point at or after it,
    /// else the first point. `None` for an empty ring.
    pub(crate) fn owner(&self, hash: u32) -> Option<usize> {
        let at = self.points.partition_point(|&p| p < hash);
        let owner = self.owners.get(at).or_else(|| self.owners.first())?;
        Some(*owner as usize)
    }

    /// How many points the ring has.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.points.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_providers_win_collisions_and_lookups_wrap() {
        // The same host and port twice collide on every point: the second owns them all.
        let same = [
            Arc::new(ProviderInfo::bolt("10.0.0.1", 12200)),
            Arc::new(ProviderInfo::bolt("10.0.0.1", 12200)),
        ];
        let ring = Ring::build(&same, &[32, 32]);
        assert_eq!(ring.len(), 128);
        assert_eq!(ring.owner(0), Some(1));
        assert_eq!(ring.owner(u32::MAX), Some(1));
        assert_eq!(Ring::default().owner(7), None);
    }

    #[test]
    fn huge_weights_are_scaled_to_the_bound() {
        let list = [
            Arc::new(ProviderInfo::bolt("a", 1)),
            Arc::new(ProviderInfo::bolt("b", 1)),
        ];
        // 2,000 points asked for, 200 allowed: 40 and 10 digests, still 4 to 1.
        let ring = Ring::build_within(&list, &[400, 100], 200);
        assert!(ring.len() <= 200 && ring.len() > 190, "{}", ring.len());
        let first = ring.owners.iter().filter(|&&o| o == 0).count() as f64;
        assert!((first / ring.len() as f64 - 0.8).abs() < 0.02);
    }
}
