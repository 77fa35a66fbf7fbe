//! The course split and seeded shuffling that gives the same order on every
//! platform: ChaCha8 (a fixed, documented algorithm) drives a Fisher–Yates
//! shuffle written out here, so no library's choice of algorithm can change
//! the order from one version to the next.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// Indices of the training and validation parts of a training file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// The first 90 %, shuffled with the seed.
    pub train: Vec<usize>,
    /// The last 10 %, in file order.
    pub validation: Vec<usize>,
}

/// The course's split of `n` training samples: the last 10 % is validation,
/// the first 90 % is training, shuffled with `seed`.
pub fn course_split(n: usize, seed: u64) -> Split {
    let boundary = 9 * n / 10;
    let mut train: Vec<usize> = (0..boundary).collect();
    shuffle(&mut train, &mut seeded_rng(seed));
    Split {
        train,
        validation: (boundary..n).collect(),
    }
}

/// The random number generator every seeded choice in the curriculum uses.
pub fn seeded_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Fisher–Yates shuffle.
pub fn shuffle<T>(items: &mut [T], rng: &mut ChaCha8Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, below(rng, i + 1));
    }
}

/// A uniform integer in `0..bound` by Lemire's multiply-shift; its bias is
/// below bound / 2^64, far beneath anything a shuffle of a data set can show.
pub fn below(rng: &mut ChaCha8Rng, bound: usize) -> usize {
    ((u128::from(rng.next_u64()) * bound as u128) >> 64) as usize
}
