//! 2×2 max-pooling with stride 2, the bias and the ReLU, on one plane of a
//! convolution's output, and its backward pass.
//!
//! Pooling records where each output came from, as an index into its
//! convolution plane, or [`NO_GRADIENT`] where the ReLU zeroed the output.
//! ReLU commutes with max-pooling (both keep the largest value), and the
//! bias is one number per plane, so the block pools first and adds the bias
//! and applies the ReLU to a quarter of the values.

use crate::NO_GRADIENT;

/// Pools the first `cols` columns of a plane whose rows are `stride` apart
/// into `output` and `indices` (`pooled_rows × cols / 2`): `relu(max +
/// bias)` of each 2×2 window, and where in `plane` its maximum is, or
/// [`NO_GRADIENT`]. Compiled for the widest vector instructions the CPU
/// has, chosen at run time, where the compiler vectorises the row loop.
pub(crate) fn pool_plane(
    plane: &[f32],
    stride: usize,
    cols: usize,
    bias: f32,
    output: &mut [f32],
    indices: &mut [i32],
) {
    struct Pool<'a>(&'a [f32], usize, usize, f32, &'a mut [f32], &'a mut [i32]);
    impl pulp::WithSimd for Pool<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) {
            let Pool(plane, stride, cols, bias, output, indices) = self;
            let pooled_cols = cols / 2;
            // Index arithmetic in i32, the indices' type, so that it runs
            // as wide as the f32 comparisons.
            let below = stride as i32;
            for (y, (output, indices)) in output
                .chunks_exact_mut(pooled_cols)
                .zip(indices.chunks_exact_mut(pooled_cols))
                .enumerate()
            {
                let upper = &plane[2 * y * stride..][..2 * pooled_cols];
                let lower = &plane[(2 * y + 1) * stride..][..2 * pooled_cols];
                let row_start = (2 * y * stride) as i32;
                for x in 0..pooled_cols {
                    let window = [
                        upper[2 * x],
                        upper[2 * x + 1],
                        lower[2 * x],
                        lower[2 * x + 1],
                    ];
                    let (max, dy, dx) = max_of_four(window);
                    let value = max + bias;
                    let at = row_start + 2 * x as i32 + dy * below + dx;
                    output[x] = value.max(0.0);
                    indices[x] = if value > 0.0 { at } else { NO_GRADIENT };
                }
            }
        }
    }
    pulp::Arch::new().dispatch(Pool(plane, stride, cols, bias, output, indices));
}

/// The largest of a 2×2 window `[a, b, c, d]` (rows `a b`, `c d`) and its
/// place in the window, `(dy, dx)`; ties go to the first, as in Burn and
/// PyTorch. Selects, not branches: which value wins is data, and
/// mispredicted branches made pooling several times slower.
#[inline(always)]
fn max_of_four([a, b, c, d]: [f32; 4]) -> (f32, i32, i32) {
    let (top, top_dx) = if b > a { (b, 1) } else { (a, 0) };
    let (bottom, bottom_dx) = if d > c { (d, 1) } else { (c, 0) };
    if bottom > top {
        (bottom, 1, bottom_dx)
    } else {
        (top, 0, top_dx)
    }
}

/// The backward pass of [`pool_plane`]: `conv_grad` (the plane, zeroed
/// here) gets each pooled gradient at its maximum; returns their sum, the
/// bias's gradient.
#[inline(always)]
pub(crate) fn unpool_plane(grad: &[f32], indices: &[i32], conv_grad: &mut [f32]) -> f32 {
    conv_grad.fill(0.0);
    let mut bias_grad = 0.0;
    for (&g, &at) in grad.iter().zip(indices) {
        // Outputs the ReLU zeroed add 0 at the start: no branch.
        let passed = at != NO_GRADIENT;
        let g = if passed { g } else { 0.0 };
        conv_grad[if passed { at as usize } else { 0 }] += g;
        bias_grad += g;
    }
    bias_grad
}

/// Calls `f` with each pooled output of `indices` (any number of planes)
/// that passed a gradient on: its place in `indices`, where its maximum is
/// in its convolution plane, and its gradient (from `grad`).
#[inline(always)]
pub(crate) fn for_each_passed(grad: &[f32], indices: &[i32], mut f: impl FnMut(usize, usize, f32)) {
    for (i, (&at, &g)) in indices.iter().zip(grad).enumerate() {
        if at != NO_GRADIENT {
            f(i, at as usize, g);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_takes_the_first_maximum_adds_the_bias_and_applies_relu() {
        // One 3×5 plane: the last row and column are dropped.
        #[rustfmt::skip]
        let conv = [
            1.0, 5.0, 2.0, 2.0, 9.0,
            3.0, 0.0, 2.0, -1.0, 9.0,
            9.0, 9.0, 9.0, 9.0, 9.0,
        ];
        let (mut output, mut indices) = ([f32::NAN; 2], [0; 2]);
        pool_plane(&conv, 5, 5, -3.0, &mut output, &mut indices);
        // Window 1: max 5 at index 1, plus bias 2. Window 2: max 2 (first
        // at index 2), plus bias -1: zeroed by the ReLU, no gradient.
        assert_eq!(output, [2.0, 0.0]);
        assert_eq!(indices, [1, NO_GRADIENT]);
        let mut conv_grad = [f32::NAN; 15];
        let bias_grad = unpool_plane(&[10.0, 20.0], &indices, &mut conv_grad);
        let mut expected = [0.0; 15];
        expected[1] = 10.0;
        assert_eq!(conv_grad, expected);
        assert_eq!(bias_grad, 10.0);
    }
}
