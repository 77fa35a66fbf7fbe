//! The CNN's convolutional block on the CPU, on plain slices: 3×3
//! convolution, bias, 2×2 max-pooling (stride 2) and ReLU, with the backward
//! pass of each piece. `mnist_train::ops` assembles them into Flex's
//! conv-block operation; each kernel is one pass over memory, split across
//! threads by rayon.
//!
//! Tensors are row-major, channels first: `[channels, batch, height,
//! width]`. A "plane" is one image of one channel. The convolution's output
//! is `(height − 2) × (width − 2)`; pooling keeps ⌊·/2⌋ of each side.
//!
//! Pooling records where each output came from, as an index into its
//! convolution plane, or [`NO_GRADIENT`] where the ReLU zeroed the output.
//! ReLU commutes with max-pooling (both keep the largest value), so the
//! block pools first and applies the ReLU to a quarter of the values.

use rayon::prelude::*;

/// The index of a pooled output that ReLU zeroed: no gradient flows back.
pub const NO_GRADIENT: i32 = -1;

/// The 3×3 patches of `x` (`[channels, batch, height, width]`): a matrix of
/// `channels × 9` rows (channel, then kernel offset `ky × 3 + kx`) and
/// `batch × (height − 2) × (width − 2)` columns (image, then output
/// position), so that a valid 3×3 convolution is `weight [out, channels × 9]`
/// times it.
pub fn im2col_3x3(x: &[f32], [channels, batch, height, width]: [usize; 4]) -> Vec<f32> {
    let (rows, cols) = (height - 2, width - 2);
    let row_len = batch * rows * cols;
    let mut out = vec![0.0; channels * 9 * row_len];
    if row_len == 0 {
        return out;
    }
    out.par_chunks_mut(row_len)
        .enumerate()
        .for_each(|(row, out)| {
            let (channel, offset) = (row / 9, row % 9);
            let (ky, kx) = (offset / 3, offset % 3);
            for image in 0..batch {
                let plane = &x[(channel * batch + image) * height * width..][..height * width];
                for y in 0..rows {
                    let source = &plane[(y + ky) * width + kx..][..cols];
                    out[(image * rows + y) * cols..][..cols].copy_from_slice(source);
                }
            }
        });
    out
}

/// The gradient of [`im2col_3x3`]'s input from its output's gradient
/// `grad`: each patch value's gradient is added back to the pixel it was
/// copied from.
pub fn im2col_3x3_backward(
    grad: &[f32],
    shape @ [channels, batch, height, width]: [usize; 4],
) -> Vec<f32> {
    let mut x_grad = vec![0.0; channels * batch * height * width];
    im2col_3x3_backward_add(grad, shape, 0..batch, &mut x_grad);
    x_grad
}

/// [`im2col_3x3_backward`] for the patches of `images` only (`grad`'s
/// columns), added to `x_grad` (`[channels, batch, height, width]`).
pub fn im2col_3x3_backward_add(
    grad: &[f32],
    [_, batch, height, width]: [usize; 4],
    images: std::ops::Range<usize>,
    x_grad: &mut [f32],
) {
    let (rows, cols) = (height - 2, width - 2);
    let row_len = images.len() * rows * cols;
    let channel_len = batch * height * width;
    if channel_len == 0 || row_len == 0 {
        return;
    }
    x_grad
        .par_chunks_mut(channel_len)
        .enumerate()
        .for_each(|(channel, x_grad)| {
            for offset in 0..9 {
                let (ky, kx) = (offset / 3, offset % 3);
                let grad = &grad[(channel * 9 + offset) * row_len..][..row_len];
                for (i, image) in images.clone().enumerate() {
                    let plane = &mut x_grad[image * height * width..][..height * width];
                    for y in 0..rows {
                        let target = &mut plane[(y + ky) * width + kx..][..cols];
                        let source = &grad[(i * rows + y) * cols..][..cols];
                        for (t, s) in target.iter_mut().zip(source) {
                            *t += s;
                        }
                    }
                }
            }
        });
}

/// Pooled outputs and where they came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Pooled {
    pub output: Vec<f32>,
    pub indices: Vec<i32>,
}

/// `relu(max_pool_2x2(conv + bias))` of a convolution's output `conv`
/// (`[channels, batch, rows, cols]`): the pooling adds each channel's bias
/// to its maximum, which is the maximum of the sums.
pub fn pool_bias_relu(
    conv: &[f32],
    [channels, batch, rows, cols]: [usize; 4],
    bias: &[f32],
) -> Pooled {
    let (pooled_rows, pooled_cols) = (rows / 2, cols / 2);
    let plane_out = pooled_rows * pooled_cols;
    let mut output = vec![0.0; channels * batch * plane_out];
    let mut indices = vec![NO_GRADIENT; channels * batch * plane_out];
    if plane_out == 0 {
        return Pooled { output, indices };
    }
    output
        .par_chunks_mut(plane_out)
        .zip(indices.par_chunks_mut(plane_out))
        .enumerate()
        .for_each(|(p, (output, indices))| {
            let plane = &conv[p * rows * cols..][..rows * cols];
            pool_plane(plane, cols, cols, bias[p / batch], output, indices);
        });
    Pooled { output, indices }
}

/// Pools the first `cols` columns of a plane whose rows are `stride` apart
/// into `output` and `indices` (`pooled_rows × cols / 2`): `relu(max +
/// bias)` of each 2×2 window, and where in `plane` its maximum is, or
/// [`NO_GRADIENT`].
#[inline(always)]
fn pool_plane(
    plane: &[f32],
    stride: usize,
    cols: usize,
    bias: f32,
    output: &mut [f32],
    indices: &mut [i32],
) {
    let pooled_cols = cols / 2;
    for (y, (output, indices)) in output
        .chunks_exact_mut(pooled_cols)
        .zip(indices.chunks_exact_mut(pooled_cols))
        .enumerate()
    {
        let upper = &plane[2 * y * stride..][..2 * pooled_cols];
        let lower = &plane[(2 * y + 1) * stride..][..2 * pooled_cols];
        for x in 0..pooled_cols {
            let window = [
                upper[2 * x],
                upper[2 * x + 1],
                lower[2 * x],
                lower[2 * x + 1],
            ];
            let (max, dy, dx) = max_of_four(window);
            let value = max + bias;
            let at = ((2 * y + dy) * stride + 2 * x + dx) as i32;
            output[x] = value.max(0.0);
            indices[x] = if value > 0.0 { at } else { NO_GRADIENT };
        }
    }
}

/// The largest of a 2×2 window `[a, b, c, d]` (rows `a b`, `c d`) and its
/// place in the window, `(dy, dx)`; ties go to the first, as in Burn and
/// PyTorch. Selects, not branches: which value wins is data, and
/// mispredicted branches made pooling several times slower.
#[inline(always)]
fn max_of_four([a, b, c, d]: [f32; 4]) -> (f32, usize, usize) {
    let (top, top_dx) = if b > a { (b, 1) } else { (a, 0) };
    let (bottom, bottom_dx) = if d > c { (d, 1) } else { (c, 0) };
    if bottom > top {
        (bottom, 1, bottom_dx)
    } else {
        (top, 0, top_dx)
    }
}

/// The gradient of the convolution's output (`[channels, batch, rows,
/// cols]`, flattened to `[channels, batch × rows × cols]`) and of the bias,
/// from the block's output gradient `grad`: each pooled output's gradient
/// goes to the input its maximum came from, every other input gets 0.
pub fn pool_backward(
    grad: &[f32],
    indices: &[i32],
    [channels, batch, rows, cols]: [usize; 4],
) -> (Vec<f32>, Vec<f32>) {
    let plane_in = rows * cols;
    let plane_out = (rows / 2) * (cols / 2);
    let mut conv_grad = vec![0.0; channels * batch * plane_in];
    let mut bias_grad = vec![0.0; channels];
    if plane_out == 0 || plane_in == 0 {
        return (conv_grad, bias_grad);
    }
    conv_grad
        .par_chunks_mut(batch * plane_in)
        .zip(bias_grad.par_iter_mut())
        .enumerate()
        .for_each(|(channel, (conv_grad, bias_grad))| {
            let span = channel * batch * plane_out..(channel + 1) * batch * plane_out;
            for (j, (&g, &at)) in grad[span.clone()].iter().zip(&indices[span]).enumerate() {
                if at != NO_GRADIENT {
                    conv_grad[(j / plane_out) * plane_in + at as usize] += g;
                    *bias_grad += g;
                }
            }
        });
    (conv_grad, bias_grad)
}

/// The whole block, `relu(max_pool_2x2(conv3x3(x) + bias))`, computed
/// directly, writing nothing but the pooled values. For inputs with few
/// channels (the images), where a matrix product would have an inner
/// dimension of 9 and be mostly memory traffic. `weight` is `[out,
/// channels, 3, 3]`.
///
/// Each plane is convolved as one flat run: output `(y, x)` is at `y ×
/// width + x` and its input under kernel offset `(ky, kx)` at that plus
/// `ky × width + kx`, so each offset is one long multiply-add over the
/// plane. The runs also compute the last two columns of each row, which
/// mix neighbouring rows and are never pooled: a few percent of waste for
/// loops long enough to vectorise.
pub fn conv_block_direct(
    x: &[f32],
    [channels, batch, height, width]: [usize; 4],
    weight: &[f32],
    bias: &[f32],
) -> Pooled {
    let out_channels = bias.len();
    let cols = width - 2;
    let (pooled_rows, pooled_cols) = ((height - 2) / 2, cols / 2);
    let plane_out = pooled_rows * pooled_cols;
    let mut output = vec![0.0; out_channels * batch * plane_out];
    let mut indices = vec![NO_GRADIENT; out_channels * batch * plane_out];
    if plane_out == 0 {
        return Pooled { output, indices };
    }
    // The flat run up to the last pooled output.
    let run = (2 * pooled_rows - 1) * width + 2 * pooled_cols;
    output
        .par_chunks_mut(plane_out)
        .zip(indices.par_chunks_mut(plane_out))
        .enumerate()
        .for_each_init(
            || vec![0.0f32; run],
            |conv, (p, (output, indices))| {
                let (out_channel, image) = (p / batch, p % batch);
                let weight = &weight[out_channel * channels * 9..][..channels * 9];
                conv.fill(0.0);
                for channel in 0..channels {
                    let plane = &x[(channel * batch + image) * height * width..][..height * width];
                    for (offset, &w) in weight[channel * 9..][..9].iter().enumerate() {
                        axpy(conv, w, &plane[(offset / 3) * width + offset % 3..][..run]);
                    }
                }
                pool_plane(conv, width, cols, bias[out_channel], output, indices);
            },
        );
    Pooled { output, indices }
}

/// The gradients of [`conv_block_direct`]: of the weight and the bias, and
/// of the input if `input_grad`. Each plane's pooled gradients are put back
/// where their maxima were, in a flat run like the forward pass's, and the
/// weight's gradient for each kernel offset is the run's dot product with
/// the input shifted by that offset.
pub fn conv_block_direct_backward(
    x: &[f32],
    [channels, batch, height, width]: [usize; 4],
    weight: &[f32],
    grad: &[f32],
    indices: &[i32],
    input_grad: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    let out_channels = weight.len() / (channels * 9);
    let plane_in = height * width;
    let (pooled_rows, pooled_cols) = ((height - 2) / 2, (width - 2) / 2);
    let plane_out = pooled_rows * pooled_cols;
    let mut weight_grad = vec![0.0; out_channels * channels * 9];
    let mut bias_grad = vec![0.0; out_channels];
    if plane_out == 0 {
        let x_grad = input_grad.then(|| vec![0.0; x.len()]);
        return (x_grad, weight_grad, bias_grad);
    }
    let run = (2 * pooled_rows - 1) * width + 2 * pooled_cols;
    // The convolution's gradient for plane `p` (output channel, image) as
    // a flat run: each pooled gradient at its maximum, zero elsewhere.
    let unpool = |p: usize, conv_grad: &mut [f32]| {
        conv_grad.fill(0.0);
        let span = p * plane_out..(p + 1) * plane_out;
        for (&g, &at) in grad[span.clone()].iter().zip(&indices[span]) {
            // Outputs the ReLU zeroed add 0 at the start: no branch.
            let passed = at != NO_GRADIENT;
            conv_grad[if passed { at as usize } else { 0 }] += if passed { g } else { 0.0 };
        }
    };
    weight_grad
        .par_chunks_mut(channels * 9)
        .zip(bias_grad.par_iter_mut())
        .enumerate()
        .for_each_init(
            || vec![0.0f32; run],
            |conv_grad, (out_channel, (weight_grad, bias_grad))| {
                for image in 0..batch {
                    unpool(out_channel * batch + image, conv_grad);
                    *bias_grad += sum(conv_grad);
                    for (channel, weight_grad) in weight_grad.chunks_exact_mut(9).enumerate() {
                        let plane = &x[(channel * batch + image) * plane_in..][..plane_in];
                        for (offset, w) in weight_grad.iter_mut().enumerate() {
                            *w += dot(
                                conv_grad,
                                &plane[(offset / 3) * width + offset % 3..][..run],
                            );
                        }
                    }
                }
            },
        );
    let x_grad = input_grad.then(|| {
        let mut x_grad = vec![0.0; channels * batch * plane_in];
        x_grad.par_chunks_mut(plane_in).enumerate().for_each_init(
            || vec![0.0f32; run],
            |conv_grad, (p, x_grad)| {
                let (channel, image) = (p / batch, p % batch);
                for out_channel in 0..out_channels {
                    unpool(out_channel * batch + image, conv_grad);
                    let weight = &weight[(out_channel * channels + channel) * 9..][..9];
                    for (offset, &w) in weight.iter().enumerate() {
                        axpy(
                            &mut x_grad[(offset / 3) * width + offset % 3..][..run],
                            w,
                            conv_grad,
                        );
                    }
                }
            },
        );
        x_grad
    });
    (x_grad, weight_grad, bias_grad)
}

// Vector arithmetic for the direct block's loops. Each runs its loop
// compiled for the widest vector instructions the CPU has (AVX-512, or AVX2
// and FMA), chosen at run time by `pulp`; the loops are plain Rust that the
// compiler vectorises.

/// `acc += w × x`.
fn axpy(acc: &mut [f32], w: f32, x: &[f32]) {
    struct Axpy<'a>(&'a mut [f32], f32, &'a [f32]);
    impl pulp::WithSimd for Axpy<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) {
            let Axpy(acc, w, x) = self;
            for (a, x) in acc.iter_mut().zip(x) {
                *a += w * x;
            }
        }
    }
    pulp::Arch::new().dispatch(Axpy(acc, w, x));
}

/// Lanes of the partial sums in [`dot`] and [`sum`]: separate
/// accumulators let the compiler use vector instructions, which a single
/// running sum (a chain of dependent additions) would not.
const LANES: usize = 16;

/// `Σ a × b`.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    struct Dot<'a>(&'a [f32], &'a [f32]);
    impl pulp::WithSimd for Dot<'_> {
        type Output = f32;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) -> f32 {
            let (a, b) = (self.0.chunks_exact(LANES), self.1.chunks_exact(LANES));
            let tail: f32 = a
                .remainder()
                .iter()
                .zip(b.remainder())
                .map(|(x, y)| x * y)
                .sum();
            let mut sums = [0.0f32; LANES];
            for (a, b) in a.zip(b) {
                for i in 0..LANES {
                    sums[i] += a[i] * b[i];
                }
            }
            sums.iter().sum::<f32>() + tail
        }
    }
    pulp::Arch::new().dispatch(Dot(a, b))
}

/// `Σ a`.
fn sum(a: &[f32]) -> f32 {
    let chunks = a.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    let mut sums = [0.0f32; LANES];
    for a in chunks {
        for i in 0..LANES {
            sums[i] += a[i];
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// `x` `[a, b, rest…]` (`leading` = `[a, b]`) as `[b, a, rest…]`: whole
/// runs of `rest` copied at a time.
pub fn swap_leading_dims(x: &[f32], [a, b]: [usize; 2]) -> Vec<f32> {
    let run = x.len().checked_div(a * b).unwrap_or(0);
    let mut out = vec![0.0; x.len()];
    if run == 0 {
        return out;
    }
    out.par_chunks_mut(a * run)
        .enumerate()
        .for_each(|(j, out)| {
            for (i, out) in out.chunks_mut(run).enumerate() {
                out.copy_from_slice(&x[(i * b + j) * run..][..run]);
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A direct valid 3×3 convolution with bias, one output at a time.
    fn direct_conv(
        x: &[f32],
        weight: &[f32],
        bias: &[f32],
        [channels, batch, height, width]: [usize; 4],
    ) -> Vec<f32> {
        let out = bias.len();
        let (rows, cols) = (height - 2, width - 2);
        let mut y = vec![0.0; out * batch * rows * cols];
        for o in 0..out {
            for b in 0..batch {
                for r in 0..rows {
                    for c in 0..cols {
                        let mut sum = bias[o];
                        for ch in 0..channels {
                            for ky in 0..3 {
                                for kx in 0..3 {
                                    sum += weight[((o * channels + ch) * 3 + ky) * 3 + kx]
                                        * x[((ch * batch + b) * height + r + ky) * width + c + kx];
                                }
                            }
                        }
                        y[((o * batch + b) * rows + r) * cols + c] = sum;
                    }
                }
            }
        }
        y
    }

    /// Pooling and ReLU, one window at a time: the block's definition.
    fn reference_block(conv: &[f32], [planes, rows, cols]: [usize; 3]) -> Vec<f32> {
        let mut out = Vec::new();
        for p in 0..planes {
            for y in 0..rows / 2 {
                for x in 0..cols / 2 {
                    let at =
                        |dy: usize, dx: usize| conv[(p * rows + 2 * y + dy) * cols + 2 * x + dx];
                    out.push(at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1)).max(0.0));
                }
            }
        }
        out
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        // Small distinct values without a random-number crate.
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    fn assert_close(got: &[f32], want: &[f32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: lengths");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-4 * w.abs().max(1.0),
                "{what}[{i}]: {g} vs {w}"
            );
        }
    }

    #[test]
    fn weight_times_patches_is_the_convolution() {
        let shape @ [channels, batch, height, width] = [3, 2, 7, 5];
        let out = 4;
        let x = values(channels * batch * height * width, 1);
        let weight = values(out * channels * 9, 2);
        let patches = im2col_3x3(&x, shape);
        let columns = batch * (height - 2) * (width - 2);
        assert_eq!(patches.len(), channels * 9 * columns);
        let expected = direct_conv(&x, &weight, &[0.0; 4], shape);
        let got: Vec<f32> = (0..out * columns)
            .map(|i| {
                let (o, j) = (i / columns, i % columns);
                (0..channels * 9)
                    .map(|k| weight[o * channels * 9 + k] * patches[k * columns + j])
                    .sum()
            })
            .collect();
        assert_close(&got, &expected, "convolution");
    }

    /// The backward pass is the adjoint of the forward pass:
    /// ⟨im2col(x), g⟩ = ⟨x, im2col_backward(g)⟩ for any x and g.
    #[test]
    fn im2col_backward_is_the_adjoint() {
        let shape = [2, 3, 6, 8];
        let x = values(2 * 3 * 6 * 8, 3);
        let patches = im2col_3x3(&x, shape);
        let g = values(patches.len(), 4);
        let x_grad = im2col_3x3_backward(&g, shape);
        let lhs: f64 = patches.iter().zip(&g).map(|(a, b)| (a * b) as f64).sum();
        let rhs: f64 = x.iter().zip(&x_grad).map(|(a, b)| (a * b) as f64).sum();
        assert!((lhs - rhs).abs() < 1e-3, "{lhs} vs {rhs}");
        // An interior pixel is in 9 patches, a corner in 1.
        let ones = im2col_3x3_backward(&vec![1.0; patches.len()], shape);
        assert_eq!(ones[0], 1.0);
        assert_eq!(ones[8 + 1], 4.0);
        assert_eq!(ones[2 * 8 + 2], 9.0);
    }

    #[test]
    fn swapping_the_leading_dims_moves_whole_runs() {
        // [2, 3, 2]: x[i][j] = [10i + j, -(10i + j)].
        let x: Vec<f32> = (0..2)
            .flat_map(|i| (0..3).flat_map(move |j| [(10 * i + j) as f32, -((10 * i + j) as f32)]))
            .collect();
        let swapped = swap_leading_dims(&x, [2, 3]);
        let expected: Vec<f32> = (0..3)
            .flat_map(|j| (0..2).flat_map(move |i| [(10 * i + j) as f32, -((10 * i + j) as f32)]))
            .collect();
        assert_eq!(swapped, expected);
        assert_eq!(swap_leading_dims(&swapped, [3, 2]), x);
    }

    #[test]
    fn pooling_takes_the_first_maximum_adds_the_bias_and_applies_relu() {
        // One channel, one 3×5 plane: the last row and column are dropped.
        #[rustfmt::skip]
        let conv = [
            1.0, 5.0, 2.0, 2.0, 9.0,
            3.0, 0.0, 2.0, -1.0, 9.0,
            9.0, 9.0, 9.0, 9.0, 9.0,
        ];
        let pooled = pool_bias_relu(&conv, [1, 1, 3, 5], &[-3.0]);
        // Window 1: max 5 at index 1, plus bias 2. Window 2: max 2 (first
        // at index 2), plus bias -1: zeroed by the ReLU, no gradient.
        assert_eq!(pooled.output, vec![2.0, 0.0]);
        assert_eq!(pooled.indices, vec![1, NO_GRADIENT]);
        let (conv_grad, bias_grad) = pool_backward(&[10.0, 20.0], &pooled.indices, [1, 1, 3, 5]);
        let mut expected = vec![0.0; 15];
        expected[1] = 10.0;
        assert_eq!(conv_grad, expected);
        assert_eq!(bias_grad, vec![10.0]);
    }

    /// The direct block and the matrix-product block (patches, product,
    /// pooling) compute the same outputs and the same gradients.
    #[test]
    fn direct_block_equals_patches_product_and_pooling() {
        for shape @ [channels, batch, height, width] in [[1, 3, 10, 8], [2, 2, 9, 7]] {
            let out = 5;
            let x = values(channels * batch * height * width, 5);
            let weight = values(out * channels * 9, 6);
            let bias = values(out, 7);
            let (rows, cols) = (height - 2, width - 2);
            let conv = direct_conv(&x, &weight, &vec![0.0; out], shape);
            let pooled = pool_bias_relu(&conv, [out, batch, rows, cols], &bias);
            let mut with_bias = conv.clone();
            for (i, v) in with_bias.iter_mut().enumerate() {
                *v += bias[i / (batch * rows * cols)];
            }
            assert_close(
                &pooled.output,
                &reference_block(&with_bias, [out * batch, rows, cols]),
                "pooled block",
            );
            let direct = conv_block_direct(&x, shape, &weight, &bias);
            assert_close(&direct.output, &pooled.output, "direct block");

            // Gradients through the matrix-product path: pooling backward,
            // then weight gradient = conv_grad · patchesᵀ and input gradient
            // = im2col_backward(weightᵀ · conv_grad).
            let grad = values(pooled.output.len(), 8);
            let (conv_grad, bias_grad) =
                pool_backward(&grad, &pooled.indices, [out, batch, rows, cols]);
            let patches = im2col_3x3(&x, shape);
            let n = batch * rows * cols;
            let k = channels * 9;
            let weight_grad: Vec<f32> = (0..out * k)
                .map(|i| {
                    (0..n)
                        .map(|j| conv_grad[(i / k) * n + j] * patches[(i % k) * n + j])
                        .sum()
                })
                .collect();
            let patches_grad: Vec<f32> = (0..k * n)
                .map(|i| {
                    (0..out)
                        .map(|o| weight[o * k + i / n] * conv_grad[o * n + i % n])
                        .sum()
                })
                .collect();
            let x_grad = im2col_3x3_backward(&patches_grad, shape);

            let (direct_x, direct_weight, direct_bias) =
                conv_block_direct_backward(&x, shape, &weight, &grad, &direct.indices, true);
            assert_close(&direct_weight, &weight_grad, "weight gradient");
            assert_close(&direct_bias, &bias_grad, "bias gradient");
            assert_close(&direct_x.unwrap(), &x_grad, "input gradient");
            let (none, ..) =
                conv_block_direct_backward(&x, shape, &weight, &grad, &direct.indices, false);
            assert!(none.is_none());
        }
    }
}
