//! The block as a matrix product: the 3×3 patches of the input times the
//! weight `[out, channels × 9]`, then pooling. For inputs with many
//! channels, where the product's inner dimension (`channels × 9`) is long.
//!
//! The batch is cut into chunks of a few images, and each thread takes
//! whole chunks through every step (patches, product, pooling) while the
//! chunk's matrices are in its own cache. Each thread takes an equal share
//! of the chunks, so the threads meet once, to put their shares together,
//! and each thread's working matrices are allocated once and kept from call
//! to call. The backward pass needs no patches: [`crate::maxima`].

use std::cell::RefCell;
use std::ops::Range;

use rayon::prelude::*;

use crate::matmul::{MatRef, matmul};
use crate::pooling::pool_plane;
use crate::{NO_GRADIENT, Pooled};

/// About how many patch columns (images × output positions) a chunk has:
/// the course's second block then holds 4 images, whose patches (288 rows)
/// take about 460 KB.
const CHUNK_COLUMNS: usize = 400;

/// One thread's images, cut into chunks.
struct Share {
    images: Range<usize>,
    chunks: Vec<Range<usize>>,
}

/// The batch's images in one share per thread, each share cut into chunks
/// of about [`CHUNK_COLUMNS`] columns.
fn shares(batch: usize, columns_per_image: usize) -> Vec<Share> {
    let per_chunk = (CHUNK_COLUMNS / columns_per_image.max(1)).max(1);
    let per_share = batch.div_ceil(rayon::current_num_threads()).max(1);
    (0..batch)
        .step_by(per_share)
        .map(|first| {
            let images = first..(first + per_share).min(batch);
            let chunks = images
                .clone()
                .step_by(per_chunk)
                .map(|start| start..(start + per_chunk).min(images.end))
                .collect();
            Share { images, chunks }
        })
        .collect()
}

/// Values [`im2col_3x3`] copies at a time for short rows: one AVX-512
/// vector.
const WIDE: usize = 16;

/// The 3×3 patches of `images` of `x` (`[channels, batch, height, width]`)
/// into `patches`: `channels × 9` rows (channel, then kernel offset
/// `ky × 3 + kx`) of `images × (height − 2) × (width − 2)` columns (image,
/// then output position), so that a valid 3×3 convolution is
/// `weight [out, channels × 9]` times it.
pub fn im2col_3x3(
    x: &[f32],
    [channels, batch, height, width]: [usize; 4],
    images: Range<usize>,
    patches: &mut [f32],
) {
    let (rows, cols) = (height - 2, width - 2);
    let row_len = images.len() * rows * cols;
    if row_len == 0 {
        return;
    }
    for (row, patch_row) in patches[..channels * 9 * row_len]
        .chunks_exact_mut(row_len)
        .enumerate()
    {
        let (channel, offset) = (row / 9, row % 9);
        let (ky, kx) = (offset / 3, offset % 3);
        for (i, image) in images.clone().enumerate() {
            let plane = (channel * batch + image) * height * width;
            for y in 0..rows {
                let (from, to) = (plane + (y + ky) * width + kx, (i * rows + y) * cols);
                // Rows of up to `WIDE` values are copied as `WIDE` values:
                // one vector move instead of a call to memcpy. What lands
                // past the row is overwritten by the rows after it; the
                // last rows, whose copy would run past the patch row or the
                // input, are copied exactly.
                let source = x
                    .get(from..from + WIDE)
                    .and_then(|s| <&[f32; WIDE]>::try_from(s).ok());
                if let (true, Some(source), Some(target)) =
                    (cols <= WIDE, source, patch_row.get_mut(to..to + WIDE))
                {
                    target.copy_from_slice(source);
                } else {
                    patch_row[to..][..cols].copy_from_slice(&x[from..][..cols]);
                }
            }
        }
    }
}

/// A thread's working matrices, kept from chunk to chunk and call to call.
#[derive(Default)]
struct Scratch {
    patches: Vec<f32>,
    conv: Vec<f32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// `f` with this thread's [`Scratch`]. `f` must not call into rayon: a
/// task stolen meanwhile would find the scratch borrowed.
fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|scratch| f(&mut scratch.borrow_mut()))
}

/// `relu(max_pool_2x2(conv3x3(x) + bias))` for `x` `[channels, batch,
/// height, width]` and `weight` `[out, channels × 9]`.
pub fn conv_block_patches(
    x: &[f32],
    shape @ [channels, batch, height, width]: [usize; 4],
    weight: &[f32],
    bias: &[f32],
) -> Pooled {
    let out = bias.len();
    let (rows, cols) = (height - 2, width - 2);
    let plane_out = (rows / 2) * (cols / 2);
    if plane_out == 0 {
        return Pooled {
            output: Vec::new(),
            indices: Vec::new(),
        };
    }
    let weight = MatRef::new(weight, [out, channels * 9]);
    let parts: Vec<Pooled> = shares(batch, rows * cols)
        .into_par_iter()
        .map(|Share { images, chunks }| {
            let mut part = Pooled {
                output: vec![0.0; out * images.len() * plane_out],
                indices: vec![NO_GRADIENT; out * images.len() * plane_out],
            };
            with_scratch(|scratch| {
                for chunk in chunks {
                    let n = chunk.len() * rows * cols;
                    scratch.patches.resize(channels * 9 * n, 0.0);
                    im2col_3x3(x, shape, chunk.clone(), &mut scratch.patches);
                    scratch.conv.resize(out * n, 0.0);
                    let patches = MatRef::new(&scratch.patches, [channels * 9, n]);
                    matmul(&mut scratch.conv, weight, patches, false);
                    for (p, plane) in scratch.conv.chunks_exact(rows * cols).enumerate() {
                        let (o, image) = (p / chunk.len(), chunk.start + p % chunk.len());
                        let at = (o * images.len() + image - images.start) * plane_out;
                        let (output, indices) = (
                            &mut part.output[at..][..plane_out],
                            &mut part.indices[at..][..plane_out],
                        );
                        pool_plane(plane, cols, cols, bias[o], output, indices);
                    }
                }
            });
            part
        })
        .collect();
    Pooled {
        output: gather(parts.iter().map(|p| &p.output[..]), out, batch * plane_out),
        indices: gather(parts.iter().map(|p| &p.indices[..]), out, batch * plane_out),
    }
}

/// Chunks of `[leading, images of the chunk, …]` put together as
/// `[leading, all images, …]` (`per_leading` values per leading index).
fn gather<'a, T: Copy + Default + 'a>(
    parts: impl Iterator<Item = &'a [T]> + Clone,
    leading: usize,
    per_leading: usize,
) -> Vec<T> {
    let mut whole = vec![T::default(); leading * per_leading];
    if per_leading == 0 {
        return whole;
    }
    for (l, whole) in whole.chunks_exact_mut(per_leading).enumerate() {
        let mut at = 0;
        for part in parts.clone() {
            let run = part.len() / leading;
            whole[at..at + run].copy_from_slice(&part[l * run..][..run]);
            at += run;
        }
    }
    whole
}
