//! A small, fast, per-thread random source: load balancing needs spread, not secrecy.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    // RandomState is randomly keyed per process (and per thread's first use).
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    h.finish() | 1
}

/// A uniformly distributed number in `0..bound` (`bound > 0`), by xorshift64* and Lemire's
/// multiply-shift reduction.
pub(crate) fn below(bound: u64) -> u64 {
    let x = STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    });
    ((u128::from(x) * u128::from(bound)) >> 64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_in_range_and_spreads() {
        let mut seen = [0u32; 4];
        for _ in 0..4000 {
            let n = below(4) as usize;
            seen[n] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800), "{seen:?}");
    }
}
