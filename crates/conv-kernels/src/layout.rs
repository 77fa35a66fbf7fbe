//! Layout changes between the blocks and the classifier.

use rayon::prelude::*;

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
}
