//! The gradients of the block from its pooled maxima alone. Max-pooling
//! passes each window's gradient to one convolution output, and the ReLU
//! passes none where it zeroed the window, so at most a quarter of the
//! convolution's outputs have a gradient. The weight's gradient is the sum,
//! over those outputs, of the gradient times the output's 3×3 patch; the
//! patch's gradient is the sum, over the outputs at one place, of the
//! gradient times their weights. Dense matrix products with the
//! convolution's gradient would multiply its zeros too: four times the work
//! or more.
//!
//! The sums run over the channels innermost, so here the input and its
//! gradient are laid out channels last (`[batch, height, width,
//! channels]`), and the weight and its gradient as `[out, 3, 3, channels]`:
//! a row of a patch (its three kernel offsets) is then `3 × channels`
//! consecutive values in each. Each sum is kept in registers while it runs
//! ([`ROW_BLOCK`] values at a time) and written once.

use rayon::prelude::*;

use crate::pooling::for_each_passed;

/// The gradients of the block whose pooled output has gradient `grad` and
/// whose pooling recorded `indices` (both `[out, batch, pooled rows, pooled
/// cols]`; each index is into a convolution plane of `width − 2` columns, as
/// [`crate::conv_block_patches`] records them): of the input (if
/// `input_grad`), the weight `[out, channels × 9]` and the bias.
pub fn conv_block_maxima_backward(
    x: &[f32],
    shape @ [channels, batch, height, width]: [usize; 4],
    weight: &[f32],
    grad: &[f32],
    indices: &[i32],
    input_grad: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    let patch = channels * 9;
    let out = weight.len() / patch.max(1);
    let mut weight_grad = vec![0.0; out * patch];
    let mut bias_grad = vec![0.0; out];
    let plane_out = ((height - 2) / 2) * ((width - 2) / 2);
    if plane_out == 0 || batch == 0 || channels == 0 {
        // No output, so no gradient.
        return (
            input_grad.then(|| vec![0.0; x.len()]),
            weight_grad,
            bias_grad,
        );
    }
    let block = Block {
        shape,
        out,
        grad,
        indices,
        plane_out,
    };
    let x_last = to_channels_last(x, shape);

    weight_grad
        .par_chunks_mut(patch)
        .zip(&mut bias_grad)
        .enumerate()
        .for_each(|(o, (weight_grad, bias_grad))| {
            let mut last = vec![0.0; patch];
            *bias_grad = pulp::Arch::new().dispatch(WeightGrad {
                block: &block,
                x_last: &x_last,
                o,
                weight_grad: &mut last,
            });
            // [3, 3, channels] back to [channels, 3, 3].
            for (c, weight_grad) in weight_grad.chunks_exact_mut(9).enumerate() {
                for (k, w) in weight_grad.iter_mut().enumerate() {
                    *w = last[k * channels + c];
                }
            }
        });

    let x_grad = input_grad.then(|| {
        let weight_last = channels_last_weight(weight, out, channels);
        let mut x_grad_last = vec![0.0; x.len()];
        x_grad_last
            .par_chunks_mut(height * width * channels)
            .enumerate()
            .for_each(|(image, x_grad)| {
                pulp::Arch::new().dispatch(InputGrad {
                    block: &block,
                    weight_last: &weight_last,
                    image,
                    x_grad,
                });
            });
        from_channels_last(&x_grad_last, shape)
    });
    (x_grad, weight_grad, bias_grad)
}

/// Values a sum holds in registers at a time: a patch row of 32 channels.
const ROW_BLOCK: usize = 96;

/// One backward pass's inputs.
struct Block<'a> {
    shape: [usize; 4],
    out: usize,
    grad: &'a [f32],
    indices: &'a [i32],
    plane_out: usize,
}

impl Block<'_> {
    /// Calls `f` with each output of channel `o` on `image` that has a
    /// gradient: where it is in its plane, and its gradient.
    #[inline(always)]
    fn for_each_passed(&self, o: usize, image: usize, mut f: impl FnMut(usize, f32)) {
        let batch = self.shape[1];
        let span = (o * batch + image) * self.plane_out..(o * batch + image + 1) * self.plane_out;
        for_each_passed(&self.grad[span.clone()], &self.indices[span], |_, at, g| {
            f(at, g)
        });
    }
}

/// The weight's gradient for output channel `o` (`[3, 3, channels]`), and
/// the bias's (returned): each patch row of each output with a gradient,
/// times it, summed.
struct WeightGrad<'a> {
    block: &'a Block<'a>,
    x_last: &'a [f32],
    o: usize,
    weight_grad: &'a mut [f32],
}

impl pulp::WithSimd for WeightGrad<'_> {
    type Output = f32;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> f32 {
        let WeightGrad {
            block,
            x_last,
            o,
            weight_grad,
        } = self;
        let [channels, batch, height, width] = block.shape;
        let cols = width - 2;
        // Where each output's patch starts in `x_last`, and its gradient.
        let mut passed = Vec::with_capacity(batch * block.plane_out);
        for image in 0..batch {
            block.for_each_passed(o, image, |at, g| {
                let (y, x) = (at / cols, at % cols);
                passed.push((((image * height + y) * width + x) * channels, g));
            });
        }
        let row = 3 * channels;
        for (ky, weight_grad) in weight_grad.chunks_exact_mut(row).enumerate() {
            let rows = passed
                .iter()
                .map(|&(start, g)| (&x_last[start + ky * width * channels..][..row], g));
            sum_of_scaled_rows(rows, weight_grad);
        }
        passed.iter().map(|&(_, g)| g).sum()
    }
}

/// The input's gradient on one image (`[height, width, channels]`): at each
/// place with outputs that have a gradient, their gradients times their
/// weights, summed, added to the pixels under the patch.
struct InputGrad<'a> {
    block: &'a Block<'a>,
    weight_last: &'a [f32],
    image: usize,
    x_grad: &'a mut [f32],
}

impl pulp::WithSimd for InputGrad<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let InputGrad {
            block,
            weight_last,
            image,
            x_grad,
        } = self;
        let [channels, _, height, width] = block.shape;
        let cols = width - 2;
        let places = (height - 2) * cols;
        // The outputs with a gradient, grouped by place: place `p`'s are
        // `by_place[starts[p]..starts[p + 1]]` (a counting sort).
        let mut starts = vec![0usize; places + 1];
        for o in 0..block.out {
            block.for_each_passed(o, image, |at, _| starts[at + 1] += 1);
        }
        for p in 0..places {
            starts[p + 1] += starts[p];
        }
        let mut next = starts.clone();
        let mut by_place = vec![(0usize, 0.0f32); starts[places]];
        for o in 0..block.out {
            block.for_each_passed(o, image, |at, g| {
                by_place[next[at]] = (o, g);
                next[at] += 1;
            });
        }

        let row = 3 * channels;
        let mut patch_row = vec![0.0; row];
        for (at, outputs) in starts.windows(2).enumerate() {
            let outputs = &by_place[outputs[0]..outputs[1]];
            if outputs.is_empty() {
                continue;
            }
            let (y, x) = (at / cols, at % cols);
            for ky in 0..3 {
                let rows = outputs
                    .iter()
                    .map(|&(o, g)| (&weight_last[(o * 3 + ky) * row..][..row], g));
                sum_of_scaled_rows(rows, &mut patch_row);
                let pixels = &mut x_grad[((y + ky) * width + x) * channels..][..row];
                for (p, g) in pixels.iter_mut().zip(&patch_row) {
                    *p += g;
                }
            }
        }
    }
}

/// `sum = Σ g × row` over `rows`, [`ROW_BLOCK`] values at a time so that
/// each block's partial sums stay in registers.
#[inline(always)]
fn sum_of_scaled_rows<'a>(rows: impl Iterator<Item = (&'a [f32], f32)> + Clone, sum: &mut [f32]) {
    for (b, sum) in sum.chunks_mut(ROW_BLOCK).enumerate() {
        let start = b * ROW_BLOCK;
        if let Ok(sum) = <&mut [f32; ROW_BLOCK]>::try_from(&mut *sum) {
            let mut acc = [0.0f32; ROW_BLOCK];
            for (row, g) in rows.clone() {
                let row = &row[start..][..ROW_BLOCK];
                for (a, v) in acc.iter_mut().zip(row) {
                    *a += g * v;
                }
            }
            *sum = acc;
        } else {
            sum.fill(0.0);
            for (row, g) in rows.clone() {
                for (a, v) in sum.iter_mut().zip(&row[start..]) {
                    *a += g * v;
                }
            }
        }
    }
}

/// `x` `[channels, batch, height, width]` as `[batch, height, width,
/// channels]`.
fn to_channels_last(x: &[f32], [channels, batch, height, width]: [usize; 4]) -> Vec<f32> {
    let plane = height * width;
    let mut last = vec![0.0; x.len()];
    last.par_chunks_mut(plane * channels)
        .enumerate()
        .for_each(|(image, last)| {
            for c in 0..channels {
                let source = &x[(c * batch + image) * plane..][..plane];
                for (p, &v) in source.iter().enumerate() {
                    last[p * channels + c] = v;
                }
            }
        });
    last
}

/// The inverse of [`to_channels_last`].
fn from_channels_last(last: &[f32], [channels, batch, height, width]: [usize; 4]) -> Vec<f32> {
    let plane = height * width;
    let mut x = vec![0.0; last.len()];
    x.par_chunks_mut(batch * plane)
        .enumerate()
        .for_each(|(c, x)| {
            for (p, v) in x.iter_mut().enumerate() {
                *v = last[p * channels + c];
            }
        });
    x
}

/// The weight `[out, channels, 3, 3]` as `[out, 3, 3, channels]`.
fn channels_last_weight(weight: &[f32], out: usize, channels: usize) -> Vec<f32> {
    let mut last = vec![0.0; weight.len()];
    for o in 0..out {
        for c in 0..channels {
            for k in 0..9 {
                last[(o * 9 + k) * channels + c] = weight[(o * channels + c) * 9 + k];
            }
        }
    }
    last
}
