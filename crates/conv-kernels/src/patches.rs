//! The block as a matrix product: the 3×3 patches of the input times the
//! weight `[out, channels × 9]`, then pooling. For inputs with many
//! channels, where the product's inner dimension (`channels × 9`) is long.
//!
//! The batch is cut into chunks of a few images, and each thread takes
//! whole chunks through every step (patches, product, pooling; in the
//! backward pass unpooling, both gradient products and adding the patches'
//! gradient back to the pixels) while the chunk's matrices are in its own
//! cache. Each thread takes an equal share of the chunks, so the threads
//! meet once per pass, to put their shares together, and each thread's
//! working matrices are allocated once and kept from call to call.

use std::cell::RefCell;
use std::ops::Range;

use rayon::prelude::*;

use crate::matmul::{MatRef, matmul};
use crate::pooling::{pool_plane, unpool_plane};
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
            let plane = &x[(channel * batch + image) * height * width..][..height * width];
            for y in 0..rows {
                let source = &plane[(y + ky) * width + kx..][..cols];
                patch_row[(i * rows + y) * cols..][..cols].copy_from_slice(source);
            }
        }
    }
}

/// The adjoint of [`im2col_3x3`]: each value of `patches` (the patches of
/// `images`) is added to the pixel of `x_grad` (`[channels, batch, height,
/// width]`) it was copied from.
pub fn col2im_3x3_add(
    patches: &[f32],
    [channels, batch, height, width]: [usize; 4],
    images: Range<usize>,
    x_grad: &mut [f32],
) {
    let (rows, cols) = (height - 2, width - 2);
    let row_len = images.len() * rows * cols;
    if row_len == 0 {
        return;
    }
    for (row, patch_row) in patches[..channels * 9 * row_len]
        .chunks_exact(row_len)
        .enumerate()
    {
        let (channel, offset) = (row / 9, row % 9);
        let (ky, kx) = (offset / 3, offset % 3);
        for (i, image) in images.clone().enumerate() {
            let plane = &mut x_grad[(channel * batch + image) * height * width..][..height * width];
            for y in 0..rows {
                let target = &mut plane[(y + ky) * width + kx..][..cols];
                let source = &patch_row[(i * rows + y) * cols..][..cols];
                for (t, s) in target.iter_mut().zip(source) {
                    *t += s;
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

/// The gradients of [`conv_block_patches`], from the output's gradient
/// `grad` and the pooling's `indices`: of the input (if `input_grad`), the
/// weight and the bias. With `conv_grad` the convolution's gradient (the
/// pooled gradients put back at their maxima), the weight's is `conv_grad ×
/// patchesᵀ` and the patches' is `weightᵀ × conv_grad`.
pub fn conv_block_patches_backward(
    x: &[f32],
    shape @ [channels, batch, height, width]: [usize; 4],
    weight: &[f32],
    grad: &[f32],
    indices: &[i32],
    input_grad: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    let patch = channels * 9;
    let out = weight.len() / patch.max(1);
    let (rows, cols) = (height - 2, width - 2);
    let plane_out = (rows / 2) * (cols / 2);
    if plane_out == 0 {
        // No output, so no gradient.
        let x_grad = input_grad.then(|| vec![0.0; x.len()]);
        return (x_grad, vec![0.0; weight.len()], vec![0.0; out]);
    }
    let weight = MatRef::new(weight, [out, patch]);
    struct Part {
        weight_grad: Vec<f32>,
        bias_grad: Vec<f32>,
        x_grad: Option<Vec<f32>>,
    }
    let parts: Vec<Part> = shares(batch, rows * cols)
        .into_par_iter()
        .map(|Share { images, chunks }| {
            let mut part = Part {
                weight_grad: vec![0.0; out * patch],
                bias_grad: vec![0.0; out],
                x_grad: input_grad.then(|| vec![0.0; channels * images.len() * height * width]),
            };
            with_scratch(|scratch| {
                for chunk in chunks {
                    let n = chunk.len() * rows * cols;
                    scratch.conv.resize(out * n, 0.0);
                    for (p, conv_grad) in scratch.conv.chunks_exact_mut(rows * cols).enumerate() {
                        let (o, image) = (p / chunk.len(), chunk.start + p % chunk.len());
                        let span =
                            (o * batch + image) * plane_out..(o * batch + image + 1) * plane_out;
                        part.bias_grad[o] +=
                            unpool_plane(&grad[span.clone()], &indices[span], conv_grad);
                    }
                    let conv_grad = MatRef::new(&scratch.conv, [out, n]);
                    scratch.patches.resize(patch * n, 0.0);
                    im2col_3x3(x, shape, chunk.clone(), &mut scratch.patches);
                    let patches = MatRef::new(&scratch.patches, [patch, n]);
                    matmul(&mut part.weight_grad, conv_grad, patches.t(), true);
                    if let Some(x_grad) = &mut part.x_grad {
                        // The patches are no longer needed: their gradient
                        // takes their place.
                        matmul(&mut scratch.patches, weight.t(), conv_grad, false);
                        let share_shape = [channels, images.len(), height, width];
                        let in_share = chunk.start - images.start..chunk.end - images.start;
                        col2im_3x3_add(&scratch.patches, share_shape, in_share, x_grad);
                    }
                }
            });
            part
        })
        .collect();
    let mut weight_grad = vec![0.0; out * patch];
    let mut bias_grad = vec![0.0; out];
    for part in &parts {
        add(&mut weight_grad, &part.weight_grad);
        add(&mut bias_grad, &part.bias_grad);
    }
    let x_grad = input_grad.then(|| {
        gather(
            parts.iter().filter_map(|p| p.x_grad.as_deref()),
            channels,
            batch * height * width,
        )
    });
    (x_grad, weight_grad, bias_grad)
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

fn add(sum: &mut [f32], x: &[f32]) {
    for (s, x) in sum.iter_mut().zip(x) {
        *s += x;
    }
}
