//! SplitMix64, written out so that a seed's output never changes with a dependency's version.
//! Only integer arithmetic: the same seed gives the same numbers on every platform.

/// A SplitMix64 stream. Each part of the generator uses its own named stream, so changing how
/// one part draws numbers leaves the others' output unchanged.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// The stream `name` of `seed` (the name is mixed in with FNV-1a).
    pub fn new(seed: u64, name: &str) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let mut rng = Rng(seed ^ h);
        rng.next_u64();
        rng
    }

    /// An independent stream for item `key` of this stream (a student, a group's day): items
    /// can then be drawn in any order, and an item always draws the same numbers.
    pub fn fork(&self, key: u64) -> Rng {
        let mut rng = Rng(self.0 ^ key.wrapping_mul(0xd6e8_feb8_6659_fd93));
        rng.0 = rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (multiply-shift: no modulo bias worth speaking of, no loop). `n` > 0.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(lo <= hi);
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: i64) -> bool {
        (self.below(1000) as i64) < per_mille
    }

    /// Approximately normal with mean 0 and standard deviation `sd` (Irwin-Hall: the sum of 12
    /// uniforms has variance 1 in units of the uniform's range), in integers.
    pub fn gauss(&mut self, sd: i64) -> i64 {
        let sum: i64 = (0..12).map(|_| self.below(1000) as i64).sum();
        (sum - 5994) * sd / 1000
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// Fisher-Yates.
    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            xs.swap(i, j);
        }
    }

    /// An index drawn with the given integer weights (not all zero).
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut r = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if r < *w {
                return i;
            }
            r -= w;
        }
        weights.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // SplitMix64 from state 0 (Vigna's reference implementation).
        let mut r = Rng(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn forks_are_repeatable_and_differ() {
        let base = Rng::new(1, "t");
        let draw = |k| base.fork(k).next_u64();
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5), draw(6));
        assert_ne!(draw(0), base.clone().next_u64());
    }

    #[test]
    fn gauss_has_roughly_the_asked_spread() {
        let mut r = Rng::new(1, "t");
        let xs: Vec<i64> = (0..20_000).map(|_| r.gauss(1000)).collect();
        let mean = xs.iter().sum::<i64>() / xs.len() as i64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<i64>() / xs.len() as i64;
        assert!(mean.abs() < 30, "{mean}");
        assert!((900_000..1_100_000).contains(&var), "{var}");
    }
}
