//! [`Weights`]: the weights in effect of one provider list, read once per list.
//!
//! A provider's weight in effect is its `warmupWeight` until its warm-up ends, then its
//! `weight`. Reading it means parsing parameters, too slow to do for every provider on every
//! call, so balancers keep the weights of a list in a [`ListCache`](super::cache::ListCache)
//! until the list changes or the next warm-up ends.

use std::sync::Arc;

use sofa_rpc_registry::ProviderInfo;

use super::rng;

/// Milliseconds since the Unix epoch (0 if the clock is before it), the clock of warm-ups.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// When `provider`'s warm-up ends, if it is warming up at `now_ms`.
pub(crate) fn warmup_end(provider: &ProviderInfo, now_ms: u64) -> Option<u64> {
    provider.param("warmupWeight")?;
    let start = provider.start_time_ms()?;
    let time: u64 = provider.param("warmupTime")?.trim().parse().ok()?;
    let end = start.saturating_add(time);
    (now_ms < end).then_some(end)
}

/// When the weights of `providers` may next change by themselves: the earliest end of a
/// warm-up under way, `u64::MAX` if none is.
pub(crate) fn expiry(providers: &[Arc<ProviderInfo>], now_ms: u64) -> u64 {
    providers
        .iter()
        .filter_map(|p| warmup_end(p, now_ms))
        .min()
        .unwrap_or(u64::MAX)
}

/// The weights in effect of a provider list, with what a weighted random pick needs.
#[derive(Debug)]
pub(crate) struct Weights {
    weights: Vec<u32>,
    /// `ends[i]` is the sum of the weights up to and including provider `i`.
    ends: Vec<u64>,
    /// All weights equal (or all zero): a uniform pick, which needs no search.
    uniform: bool,
}

impl Weights {
    /// The weights of `providers` at `now_ms`, and when they expire.
    pub(crate) fn of(providers: &[Arc<ProviderInfo>], now_ms: u64) -> (Weights, u64) {
        let weights: Vec<u32> = providers
            .iter()
            .map(|p| p.effective_weight_at(now_ms))
            .collect();
        let ends = weights
            .iter()
            .scan(0u64, |sum, &w| {
                *sum += u64::from(w);
                Some(*sum)
            })
            .collect();
        let first = weights.first().copied().unwrap_or(0);
        let uniform = weights.iter().all(|&w| w == first);
        let weights = Weights {
            weights,
            ends,
            uniform,
        };
        (weights, expiry(providers, now_ms))
    }

    /// The weight in effect of provider `index` (0 past the end).
    pub(crate) fn get(&self, index: usize) -> u32 {
        self.weights.get(index).copied().unwrap_or(0)
    }

    /// `true` when all weights are equal (or all zero): a weighted choice is a uniform one.
    pub(crate) fn is_uniform(&self) -> bool {
        self.uniform || self.total() == 0
    }

    /// The sum of the weights.
    pub(crate) fn total(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }

    /// A random index, each with a probability proportional to its weight; uniform when the
    /// weights are all equal or all zero. `None` for an empty list.
    pub(crate) fn pick(&self) -> Option<usize> {
        let len = self.weights.len();
        if len == 0 {
            return None;
        }
        let total = self.total();
        if self.uniform || total == 0 {
            return Some(rng::below(len as u64) as usize);
        }
        let point = rng::below(total);
        // The first provider whose range [end - weight, end) holds the point; zero-weight
        // providers have empty ranges and are never found.
        Some(self.at(point))
    }

    /// A random index other than `first`, drawn as [`pick`](Self::pick) draws but without
    /// `first`: the second of two distinct choices. `None` when no other provider has
    /// any weight (or there is no other).
    pub(crate) fn pick_other(&self, first: usize) -> Option<usize> {
        let len = self.weights.len();
        if len < 2 || first >= len {
            return None;
        }
        let total = self.total();
        if self.uniform || total == 0 {
            let other = rng::below(len as u64 - 1) as usize;
            return Some(if other >= first { other + 1 } else { other });
        }
        let weight = u64::from(self.get(first));
        let rest = total - weight;
        if rest == 0 {
            return None;
        }
        // A point on the line with `first`'s range cut out, put back on the whole line.
        let mut point = rng::below(rest);
        let start = self.ends.get(first).copied().unwrap_or(0) - weight;
        if point >= start {
            point += weight;
        }
        Some(self.at(point))
    }

    /// The provider whose range `[end - weight, end)` holds `point` (< total); zero-weight
    /// providers have empty ranges and are never found.
    fn at(&self, point: u64) -> usize {
        let last = self.weights.len().saturating_sub(1);
        self.ends.partition_point(|&end| end <= point).min(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_weight_until_the_end_of_the_warmup() {
        let warm = Arc::new(
            ProviderInfo::bolt("w", 1)
                .with_param("weight", "100")
                .with_param("startTime", "1000")
                .with_param("warmupTime", "500")
                .with_param("warmupWeight", "10"),
        );
        let plain = Arc::new(ProviderInfo::bolt("p", 2).with_param("weight", "30"));
        let list = [warm, plain];
        let (w, expires) = Weights::of(&list, 1200);
        assert_eq!((w.get(0), w.get(1), w.total(), expires), (10, 30, 40, 1500));
        let (w, expires) = Weights::of(&list, 1500);
        assert_eq!((w.get(0), w.total(), expires), (100, 130, u64::MAX));
    }

    #[test]
    fn picks_follow_the_weights() {
        let list: Vec<_> = [0u32, 1, 3]
            .iter()
            .enumerate()
            .map(|(i, w)| {
                Arc::new(ProviderInfo::bolt("h", i as u16).with_param("weight", w.to_string()))
            })
            .collect();
        let (w, _) = Weights::of(&list, 0);
        let mut seen = [0u32; 3];
        for _ in 0..4000 {
            seen[w.pick().unwrap()] += 1;
        }
        assert_eq!(seen[0], 0);
        assert!((800..1200).contains(&seen[1]), "{seen:?}");
        assert!(Weights::of(&[], 0).0.pick().is_none());
        // A second, distinct pick: never the first, still by weight.
        let mut seen = [0u32; 3];
        for _ in 0..4000 {
            seen[w.pick_other(1).unwrap()] += 1;
        }
        assert_eq!(seen, [0, 0, 4000]);
        assert_eq!(w.pick_other(2), Some(1));
        let (w, _) = Weights::of(&list[..1], 0);
        assert_eq!(w.pick_other(0), None);
    }

    #[test]
    fn uniform_second_pick_is_distinct() {
        let list: Vec<_> = (1..=3)
            .map(|p| Arc::new(ProviderInfo::bolt("h", p)))
            .collect();
        let (w, _) = Weights::of(&list, 0);
        let mut seen = [0u32; 3];
        for _ in 0..3000 {
            seen[w.pick_other(0).unwrap()] += 1;
        }
        assert_eq!(seen[0], 0);
        assert!(seen[1] > 1300 && seen[2] > 1300, "{seen:?}");
    }
}
