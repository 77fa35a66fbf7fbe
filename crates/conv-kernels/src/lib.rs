//! The CNN's convolutional block on the CPU, on plain slices: 3×3
//! convolution, bias, 2×2 max-pooling (stride 2) and ReLU, with its
//! backward pass. `conv_blocks` makes it one operation of Flex, Burn's
//! CPU backend.
//!
//! Tensors are row-major, channels first: `[channels, batch, height,
//! width]`. A "plane" is one image of one channel. The convolution's output
//! is `(height − 2) × (width − 2)`; pooling keeps ⌊·/2⌋ of each side.
//!
//! Two ways to compute the block, for two kinds of input:
//! - [`direct`]: one multiply-add per kernel offset over whole planes, for
//!   inputs of few channels (the images);
//! - [`patches`]: 3×3 patches times the weight, a matrix product
//!   ([`matmul`]), for inputs of many channels; its backward pass,
//!   [`maxima`], sums over the pooled maxima alone.
//!
//! Both pool with [`pooling`], and split the work across threads with
//! rayon.

pub mod direct;
pub mod layout;
pub mod matmul;
pub mod maxima;
pub mod patches;
pub mod pooling;

pub use direct::{conv_block_direct, conv_block_direct_backward};
pub use layout::swap_leading_dims;
pub use maxima::conv_block_maxima_backward;
pub use patches::conv_block_patches;

/// The index of a pooled output that ReLU zeroed: no gradient flows back.
pub const NO_GRADIENT: i32 = -1;

/// Pooled outputs (`[out, batch, pooled rows, pooled cols]`) and where
/// each came from, as an index into its convolution plane, or
/// [`NO_GRADIENT`].
#[derive(Clone, Debug, PartialEq)]
pub struct Pooled {
    pub output: Vec<f32>,
    pub indices: Vec<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid 3×3 convolution plus bias, one output at a time:
    /// `[out, batch, rows, cols]`.
    fn reference_conv(
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

    /// The block's definition, one window at a time: its output, and the
    /// gradients of input, weight and bias for the output gradient `grad`
    /// (each window's gradient goes to its first maximum if the ReLU
    /// passed it).
    fn reference_block(
        x: &[f32],
        weight: &[f32],
        bias: &[f32],
        grad: &[f32],
        shape @ [channels, batch, height, width]: [usize; 4],
    ) -> [Vec<f32>; 4] {
        let out = bias.len();
        let conv = reference_conv(x, weight, bias, shape);
        let (rows, cols) = (height - 2, width - 2);
        let mut output = Vec::new();
        let mut conv_grad = vec![0.0; conv.len()];
        let mut bias_grad = vec![0.0; out];
        for p in 0..out * batch {
            for y in 0..rows / 2 {
                for x in 0..cols / 2 {
                    let at = |dy: usize, dx: usize| (p * rows + 2 * y + dy) * cols + 2 * x + dx;
                    let mut best = at(0, 0);
                    for place in [at(0, 1), at(1, 0), at(1, 1)] {
                        if conv[place] > conv[best] {
                            best = place;
                        }
                    }
                    let g = grad[output.len()];
                    output.push(conv[best].max(0.0));
                    if conv[best] > 0.0 {
                        conv_grad[best] += g;
                        bias_grad[p / batch] += g;
                    }
                }
            }
        }
        let mut x_grad = vec![0.0; x.len()];
        let mut weight_grad = vec![0.0; weight.len()];
        for o in 0..out {
            for b in 0..batch {
                for r in 0..rows {
                    for c in 0..cols {
                        let g = conv_grad[((o * batch + b) * rows + r) * cols + c];
                        for ch in 0..channels {
                            for k in 0..9 {
                                let w = ((o * channels + ch) * 3 + k / 3) * 3 + k % 3;
                                let i = ((ch * batch + b) * height + r + k / 3) * width + c + k % 3;
                                weight_grad[w] += g * x[i];
                                x_grad[i] += g * weight[w];
                            }
                        }
                    }
                }
            }
        }
        [output, x_grad, weight_grad, bias_grad]
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

    /// The patches of a range of images are those images' columns of the
    /// whole batch's patches, and each is the 3×3 window under its output.
    #[test]
    fn patches_hold_the_windows_under_each_output() {
        // Rows shorter than one wide copy, exactly one, and longer.
        for shape @ [channels, batch, height, width] in [[2, 3, 6, 8], [1, 3, 4, 18], [3, 3, 5, 21]]
        {
            let x = values(channels * batch * height * width, 3);
            let (rows, cols) = (height - 2, width - 2);
            let mut patches = vec![0.0; channels * 9 * batch * rows * cols];
            patches::im2col_3x3(&x, shape, 0..batch, &mut patches);
            for row in 0..channels * 9 {
                let (channel, ky, kx) = (row / 9, row % 9 / 3, row % 3);
                for column in 0..batch * rows * cols {
                    let (image, y, c) =
                        (column / (rows * cols), column / cols % rows, column % cols);
                    let pixel = ((channel * batch + image) * height + y + ky) * width + c + kx;
                    assert_eq!(
                        patches[row * batch * rows * cols + column],
                        x[pixel],
                        "{shape:?}"
                    );
                }
            }
            let mut some = vec![0.0; channels * 9 * 2 * rows * cols];
            patches::im2col_3x3(&x, shape, 1..3, &mut some);
            assert_eq!(
                &some[..2 * rows * cols],
                &patches[rows * cols..3 * rows * cols]
            );
        }
    }

    /// Both ways of computing the block give its definition's output and
    /// gradients, on shapes that cover odd sides, one image, several
    /// chunks of images, a last chunk that is short, no output at all, and
    /// patch rows of one block of registers and of one and a part.
    #[test]
    fn both_blocks_equal_the_definition() {
        for shape @ [channels, batch, height, width] in [
            [1, 3, 10, 8],
            [2, 2, 9, 7],
            [5, 1, 6, 6],
            [4, 11, 12, 12],
            [3, 9, 16, 9],
            [2, 2, 3, 5],
            [32, 3, 7, 9],
            [40, 2, 6, 7],
        ] {
            let out = 5;
            let x = values(channels * batch * height * width, 5);
            let weight = values(out * channels * 9, 6);
            let bias = values(out, 7);
            let grad = values(out * batch * ((height - 2) / 2) * ((width - 2) / 2), 8);
            let [output, x_grad, weight_grad, bias_grad] =
                reference_block(&x, &weight, &bias, &grad, shape);
            let what = |name: &str, way: &str| format!("{way} {name} on {shape:?}");

            for way in ["direct", "patches"] {
                let (pooled, grads, no_x_grad) = if way == "direct" {
                    let pooled = conv_block_direct(&x, shape, &weight, &bias);
                    let b = |i| {
                        conv_block_direct_backward(&x, shape, &weight, &grad, &pooled.indices, i)
                    };
                    (pooled.clone(), b(true), b(false).0)
                } else {
                    let pooled = conv_block_patches(&x, shape, &weight, &bias);
                    let b = |i| {
                        conv_block_maxima_backward(&x, shape, &weight, &grad, &pooled.indices, i)
                    };
                    (pooled.clone(), b(true), b(false).0)
                };
                assert_close(&pooled.output, &output, &what("output", way));
                assert_close(&grads.0.unwrap(), &x_grad, &what("input gradient", way));
                assert_close(&grads.1, &weight_grad, &what("weight gradient", way));
                assert_close(&grads.2, &bias_grad, &what("bias gradient", way));
                assert!(
                    no_x_grad.is_none(),
                    "{}",
                    what("input gradient not asked for", way)
                );
            }
        }
    }
}
