//! The whole block computed directly, without a matrix product: for
//! inputs with few channels (the images), where a product over 3×3 patches
//! would have an inner dimension of 9 and be mostly memory traffic.

use rayon::prelude::*;

use crate::pooling::{for_each_passed, pool_plane, unpool_plane};
use crate::{NO_GRADIENT, Pooled};

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
                for channel in 0..channels {
                    let plane = &x[(channel * batch + image) * height * width..][..height * width];
                    let kernel = std::array::from_fn(|k| weight[channel * 9 + k]);
                    convolve_run(conv, kernel, plane, width, channel > 0);
                }
                pool_plane(conv, width, cols, bias[out_channel], output, indices);
            },
        );
    Pooled { output, indices }
}

/// The gradients of [`conv_block_direct`]: of the weight and the bias, and
/// of the input if `input_grad`. Only the maxima the pooling passed on
/// have a gradient: the weight's gradient is the sum, over them, of the
/// gradient times the 3×3 window under each (nine sums held in registers
/// per input channel). The input's gradient puts the pooled gradients back
/// where their maxima were, in a flat run like the forward pass's, and adds
/// that run times each kernel value, shifted by its offset.
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
    // a flat run: each pooled gradient at its maximum, zero elsewhere; and
    // its sum, the bias's share.
    let unpool = |p: usize, conv_grad: &mut [f32]| {
        let span = p * plane_out..(p + 1) * plane_out;
        unpool_plane(&grad[span.clone()], &indices[span], conv_grad)
    };
    weight_grad
        .par_chunks_mut(channels * 9)
        .zip(bias_grad.par_iter_mut())
        .enumerate()
        .for_each(|(out_channel, (weight_grad, bias_grad))| {
            let pooled = out_channel * batch * plane_out..(out_channel + 1) * batch * plane_out;
            // Each output that passed a gradient: its image, where its
            // maximum is, and its gradient (gathered image by image, so
            // that no output costs a division).
            let mut passed = Vec::with_capacity(batch * plane_out);
            for image in 0..batch {
                let plane =
                    pooled.start + image * plane_out..pooled.start + (image + 1) * plane_out;
                for_each_passed(&grad[plane.clone()], &indices[plane], |_, at, g| {
                    passed.push((image, at, g));
                });
            }
            *bias_grad = passed.iter().map(|&(_, _, g)| g).sum();
            for (channel, weight_grad) in weight_grad.chunks_exact_mut(9).enumerate() {
                let mut sums = [0.0f32; 9];
                for &(image, at, g) in &passed {
                    let plane = &x[(channel * batch + image) * plane_in..][..plane_in];
                    let window = |ky: usize| &plane[at + ky * width..][..3];
                    let (top, middle, bottom) = (window(0), window(1), window(2));
                    for k in 0..3 {
                        sums[k] += g * top[k];
                        sums[3 + k] += g * middle[k];
                        sums[6 + k] += g * bottom[k];
                    }
                }
                weight_grad.copy_from_slice(&sums);
            }
        });
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

/// The 3×3 convolution of `plane` (rows `width` apart) by `kernel` as one
/// flat run (`conv`), added to `conv` if `accumulate`. Each output's nine
/// products are summed in a register and written once.
fn convolve_run(conv: &mut [f32], kernel: [f32; 9], plane: &[f32], width: usize, accumulate: bool) {
    struct Convolve<'a>(&'a mut [f32], [f32; 9], &'a [f32], usize, bool);
    impl pulp::WithSimd for Convolve<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) {
            let Convolve(conv, [w0, w1, w2, w3, w4, w5, w6, w7, w8], plane, width, accumulate) =
                self;
            let run = conv.len();
            let tap = |ky: usize, kx: usize| &plane[ky * width + kx..][..run];
            let (t0, t1, t2) = (tap(0, 0), tap(0, 1), tap(0, 2));
            let (t3, t4, t5) = (tap(1, 0), tap(1, 1), tap(1, 2));
            let (t6, t7, t8) = (tap(2, 0), tap(2, 1), tap(2, 2));
            for i in 0..run {
                let sum = w0 * t0[i]
                    + w1 * t1[i]
                    + w2 * t2[i]
                    + w3 * t3[i]
                    + w4 * t4[i]
                    + w5 * t5[i]
                    + w6 * t6[i]
                    + w7 * t7[i]
                    + w8 * t8[i];
                conv[i] = if accumulate { conv[i] + sum } else { sum };
            }
        }
    }
    pulp::Arch::new().dispatch(Convolve(conv, kernel, plane, width, accumulate));
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
