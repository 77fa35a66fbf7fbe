//! Which code multiplies the matrices in this build, for the reports.

/// How the matrix products are computed in this build. (A workspace-wide
/// build can switch matrixmultiply's threading on through another crate's
/// features; `cargo run -p scratch-numpy-style` builds this crate alone.)
pub fn matrix_products() -> String {
    if cfg!(feature = "threading") {
        let threads = std::env::var("MATMUL_NUM_THREADS")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "one per physical core".into());
        format!("ndarray general_mat_mul -> matrixmultiply sgemm, threading feature on ({threads})")
    } else {
        "ndarray general_mat_mul -> matrixmultiply sgemm, threading feature off (one thread)".into()
    }
}
