//! Matrix products on the calling thread, by the `gemm` crate (the kernel
//! Burn's Flex backend uses), on slices with any row and column strides, so
//! that a transposed operand is a view, not a copy.

/// A matrix read from a slice: element `(i, j)` is at `i × row_stride +
/// j × col_stride`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    values: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// `values` as a row-major `rows × cols` matrix.
    pub fn new(values: &'a [f32], [rows, cols]: [usize; 2]) -> Self {
        assert_eq!(values.len(), rows * cols, "a {rows}×{cols} matrix");
        Self {
            values,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose, as a view.
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

/// `dst = lhs × rhs`, or `dst += lhs × rhs` if `accumulate`; `dst` is
/// row-major.
pub fn matmul(dst: &mut [f32], lhs: MatRef, rhs: MatRef, accumulate: bool) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "inner dimensions");
    assert_eq!(dst.len(), m * n, "the product is {m}×{n}");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(0.0);
        }
        return;
    }
    let stride = |s: usize| s as isize;
    // SAFETY: gemm reads `lhs` and `rhs` at `i × row_stride + j × col_stride`
    // for `i < rows`, `j < cols`: inside their slices, which `MatRef::new`
    // checked hold exactly `rows × cols` values (a transposed view reads the
    // same elements). It writes `dst`, `m × n` values as checked above,
    // which cannot overlap the others: it is borrowed mutably.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            stride(n),
            accumulate,
            lhs.values.as_ptr(),
            stride(lhs.col_stride),
            stride(lhs.row_stride),
            rhs.values.as_ptr(),
            stride(rhs.col_stride),
            stride(rhs.row_stride),
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], [m, k]: [usize; 2], b: &[f32], n: usize) -> Vec<f32> {
        (0..m * n)
            .map(|i| (0..k).map(|p| a[(i / n) * k + p] * b[p * n + i % n]).sum())
            .collect()
    }

    fn transpose(a: &[f32], [rows, cols]: [usize; 2]) -> Vec<f32> {
        (0..rows * cols)
            .map(|i| a[(i % rows) * cols + i / rows])
            .collect()
    }

    #[test]
    fn products_of_views_equal_the_naive_product() {
        let (m, k, n) = (7, 13, 5);
        let a: Vec<f32> = (0..m * k).map(|i| (i % 11) as f32 - 5.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 7) as f32 * 0.5 - 1.0).collect();
        let want = naive(&a, [m, k], &b, n);
        let mut got = vec![f32::NAN; m * n];
        matmul(
            &mut got,
            MatRef::new(&a, [m, k]),
            MatRef::new(&b, [k, n]),
            false,
        );
        assert_eq!(got, want);
        // The same product from transposed storage.
        let (at, bt) = (transpose(&a, [m, k]), transpose(&b, [k, n]));
        let mut again = vec![0.0; m * n];
        matmul(
            &mut again,
            MatRef::new(&at, [k, m]).t(),
            MatRef::new(&bt, [n, k]).t(),
            false,
        );
        assert_eq!(again, want);
        // Accumulating adds to what is there.
        matmul(
            &mut again,
            MatRef::new(&a, [m, k]),
            MatRef::new(&b, [k, n]),
            true,
        );
        let doubled: Vec<f32> = want.iter().map(|v| 2.0 * v).collect();
        assert_eq!(again, doubled);
    }

    #[test]
    fn an_empty_inner_dimension_gives_zeros() {
        let mut dst = vec![1.0; 6];
        matmul(
            &mut dst,
            MatRef::new(&[], [2, 0]),
            MatRef::new(&[], [0, 3]),
            false,
        );
        assert_eq!(dst, vec![0.0; 6]);
    }
}
