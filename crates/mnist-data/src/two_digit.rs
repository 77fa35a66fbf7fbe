//! Two digits in one 42×28 image, as the course's part 4 uses them: the
//! first digit's 28×28 image on rows 0–27, the second's on rows 14–41, the
//! two combined by pixel-wise max where they overlap (rows 14–27). Labels are
//! (first, second). Training sets come from MNIST's training split and test
//! sets from its test split, so no test digit is ever seen in training.

use std::path::Path;

use crate::dataset::{Dataset, Images, Labels};
use crate::error::{DataError, Result};
use crate::idx;
use crate::mnist::Mnist;
use crate::split::{below, seeded_rng};

pub const HEIGHT: usize = 42;
pub const WIDTH: usize = 28;
/// First row of the second digit.
pub const SECOND_TOP: usize = 14;
const DIGIT: usize = 28;

/// The most images [`compose`] is asked for by the command line: 500,000
/// images are 588 MB, well within what the IDX reader accepts.
pub const MAX_COUNT: usize = 500_000;
const _: () = assert!(MAX_COUNT * HEIGHT * WIDTH <= idx::MAX_IDX_DATA_BYTES);

/// Seed of the course's composed sets: every run trains and tests on the
/// same images, whatever its own seed.
pub const COURSE_SEED: u64 = 1;

/// The course's set sizes.
pub const TRAIN_COUNT: usize = 40_000;
pub const TEST_COUNT: usize = 4_000;

/// Which two source images make each composed image: `count` pairs drawn
/// uniformly (with replacement) from `0..source_len`, determined by `seed`
/// and `stream` (0 for training sets, 1 for test sets).
pub fn pair_sources(source_len: usize, count: usize, seed: u64, stream: u64) -> Vec<[usize; 2]> {
    let mut rng = seeded_rng(seed);
    rng.set_stream(stream);
    (0..count)
        .map(|_| [below(&mut rng, source_len), below(&mut rng, source_len)])
        .collect()
}

/// Draws `first` and `second` (28×28 each) onto a 42×28 `canvas`.
pub fn compose_pair(first: &[u8], second: &[u8], canvas: &mut [u8]) {
    // BEGIN EXERCISE p4.compose uses first, second, canvas
    canvas.fill(0);
    canvas[..DIGIT * WIDTH].copy_from_slice(first);
    let lower = &mut canvas[SECOND_TOP * WIDTH..];
    for (out, &p) in lower.iter_mut().zip(second) {
        *out = (*out).max(p);
    }
    // END EXERCISE
}

/// `count` two-digit images composed from `source` (28×28, one label each).
pub fn compose(source: &Dataset, count: usize, seed: u64, stream: u64) -> Dataset {
    assert_eq!(
        (
            source.images.height,
            source.images.width,
            source.labels.heads
        ),
        (DIGIT, DIGIT, 1),
        "two-digit images are composed from labelled 28x28 digits"
    );
    let pairs = pair_sources(source.len(), count, seed, stream);
    let mut pixels = vec![0u8; count * HEIGHT * WIDTH];
    let mut labels = Vec::with_capacity(2 * count);
    for (canvas, [a, b]) in pixels.chunks_exact_mut(HEIGHT * WIDTH).zip(pairs) {
        compose_pair(source.images.image(a), source.images.image(b), canvas);
        labels.extend_from_slice(&[source.labels.values[a], source.labels.values[b]]);
    }
    Dataset::new(
        Images::new(count, HEIGHT, WIDTH, pixels),
        Labels::new(2, labels),
    )
}

/// The course's sets: `TRAIN_COUNT` images from MNIST's training split and
/// `TEST_COUNT` from its test split.
pub fn course_sets(mnist: &Mnist, seed: u64) -> (Dataset, Dataset) {
    (
        compose(&mnist.train, TRAIN_COUNT, seed, 0),
        compose(&mnist.test, TEST_COUNT, seed, 1),
    )
}

/// Saves a two-digit set as `{prefix}-images-idx3-ubyte` (n×42×28) and
/// `{prefix}-labels-idx2-ubyte` (n×2), gzipped (`.gz`) if asked.
pub fn save(prefix: &Path, set: &Dataset, gzip: bool) -> Result<()> {
    idx::write_dataset(prefix, set, gzip).map(|_| ())
}

/// Loads a two-digit set saved by [`save`] or made elsewhere in that format,
/// plain or gzip, and checks it is n×42×28 with two labels per image.
pub fn load(prefix: &Path) -> Result<Dataset> {
    let (set, images_path, labels_path) = idx::read_dataset_prefix_from(prefix, 2)?;
    let images = &set.images;
    if (images.height, images.width) != (HEIGHT, WIDTH) {
        return Err(DataError::WrongImageSize {
            path: images_path,
            expected_height: HEIGHT,
            expected_width: WIDTH,
            found_height: images.height,
            found_width: images.width,
        });
    }
    if set.labels.heads != 2 {
        let dims = if set.labels.heads == 1 {
            vec![set.labels.count()]
        } else {
            vec![set.labels.count(), set.labels.heads]
        };
        return Err(DataError::LabelShape {
            path: labels_path,
            expected: "n × 2 (two labels per image)".into(),
            dims,
        });
    }
    Ok(set)
}
