//! Seeded random inputs that are the same on every platform.
//!
//! All built-in problems draw from [`ChaCha8Rng`] seeded with `seed_from_u64(seed)`: its stream
//! is specified bit for bit, and `f64` samples use the top 53 bits of a `u64`, so the numbers
//! do not depend on the machine, the word size or the operating system.

use rand::{RngExt, SeedableRng};
pub use rand_chacha::ChaCha8Rng;

/// The generator used for a given seed.
pub fn generator(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `n` samples uniform in `[0, 1)`.
pub fn uniform(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.random::<f64>()).collect()
}
