//! [`Ring`]: Java SOFARPC's consistent-hash ring, built once per provider list.
//!
//! SOFARPC places each provider on the ring with MD5 digests of the string
//! `host + port + i` (Java string concatenation, no separator: `10.0.0.1` and `12200` with
//! `i = 0` give `10.0.0.1122000`), each digest giving four points (its four little-endian
//! 32-bit words). The providers are put in list order into a `TreeMap`, so where two points
//! collide the later provider owns the point. A key's provider is the owner of the first
//! point at or after the key's hash, wrapping to the first point of the ring.
//!
//! Here the ring is two sorted arrays: the same answers as the `TreeMap`, without a node per
//! point. A lookup first reads where the points with the hash's top bits start (a table of
//! about one entry per four points), then bisects those few points: two or three cache misses
//! on a ring of hundreds of thousands of points, where plain bisection would take one per step.

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
    /// `starts[b]` is the index of the first point whose top bits (`point >> shift`) are at
    /// least `b`; one more entry than there are buckets.
    starts: Vec<u32>,
    /// 32 minus the bits that pick a bucket.
    shift: u32,
}

/// The most bits a bucket index takes (a table of 256 KiB).
const MAX_BUCKET_BITS: u32 = 16;

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
            starts: Vec::new(),
            shift: 32,
        };
        for (i, &(at, _, owner)) in placed.iter().enumerate() {
            let overwritten = placed.get(i + 1).is_some_and(|next| next.0 == at);
            if !overwritten {
                ring.points.push(at);
                ring.owners.push(owner);
            }
        }
        ring.index();
        ring
    }

    /// Builds the table of bucket starts.
    fn index(&mut self) {
        let quarter = (self.points.len() / 4).max(1) as u64;
        let bits = (u64::BITS - quarter.leading_zeros() - 1).min(MAX_BUCKET_BITS);
        self.shift = 32 - bits;
        let shift = self.shift;
        self.starts = (0..=(1u64 << bits))
            .map(|b| {
                self.points
                    .partition_point(|&p| (u64::from(p) >> shift) < b) as u32
            })
            .collect();
    }

    /// The index in the list of the provider owning `hash`: the first point at or after it,
    /// else the first point. `None` for an empty ring.
    pub(crate) fn owner(&self, hash: u32) -> Option<usize> {
        let bucket = (u64::from(hash) >> self.shift) as usize;
        let start = |b: usize| self.starts.get(b).map_or(0, |&i| i as usize);
        let (low, high) = (start(bucket), start(bucket + 1));
        // Past the bucket every point is above `hash`, so `high` is the answer when no
        // point of the bucket is at or above it.
        let within = self
            .points
            .get(low..high)
            .map_or(0, |points| points.partition_point(|&p| p < hash));
        let owner = self
            .owners
            .get(low + within)
            .or_else(|| self.owners.first())?;
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
    fn bucketed_lookup_agrees_with_bisection() {
        let list: Vec<_> = (0..10)
            .map(|i| Arc::new(ProviderInfo::bolt(format!("10.0.0.{i}"), 12200)))
            .collect();
        let ring = Ring::build(&list, &[32; 10]);
        assert!(ring.starts.len() > 2);
        let bisect = |hash: u32| {
            let at = ring.points.partition_point(|&p| p < hash);
            *ring.owners.get(at).unwrap_or(&ring.owners[0]) as usize
        };
        let mut hash = 0u32;
        for _ in 0..20_000 {
            assert_eq!(ring.owner(hash), Some(bisect(hash)), "{hash}");
            hash = hash.wrapping_mul(2_654_435_761).wrapping_add(12345);
        }
        for &p in &ring.points {
            for h in [p.wrapping_sub(1), p, p.wrapping_add(1)] {
                assert_eq!(ring.owner(h), Some(bisect(h)), "{h}");
            }
        }
        for h in [0, u32::MAX] {
            assert_eq!(ring.owner(h), Some(bisect(h)));
        }
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
