//! Seconds per training epoch of the first experiment's network
//! (784-128-64-10, ReLU, softmax + cross-entropy, batch 64) on the 60,000
//! MNIST training images, in f32. Evaluation is not timed: one epoch here is
//! exactly the work the NumPy baseline's 1.76 s covers (shuffle, forward,
//! backward, step for every batch).

use std::time::Instant;

use crate::data::Samples;
use crate::error::Result;
use crate::experiments;
use crate::network::Mlp;
use crate::sgd::{Sgd, Trainer};

/// A from-scratch NumPy version of the same network on the course machine.
pub const NUMPY_SECONDS_PER_EPOCH: f64 = 1.76;

#[derive(Clone, Copy, Debug)]
pub struct BenchConfig {
    /// Timed epochs.
    pub epochs: usize,
    /// Untimed epochs first (page faults, caches, thread pool start-up).
    pub warmup: usize,
    pub batch_size: usize,
}

#[derive(Clone, Debug)]
pub struct BenchResult {
    pub seconds: Vec<f64>,
    pub images: usize,
}

impl BenchResult {
    pub fn min(&self) -> f64 {
        self.seconds.iter().copied().fold(f64::INFINITY, f64::min)
    }

    pub fn median(&self) -> f64 {
        let mut s = self.seconds.clone();
        s.sort_by(f64::total_cmp);
        match s.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => s[n / 2],
            n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
        }
    }
}

/// Times `config.epochs` training epochs on `train`.
pub fn run(train: &Samples<f32>, config: BenchConfig) -> Result<BenchResult> {
    let experiment = experiments::first();
    let net_spec = experiment.spec.clone();
    let mut net: Mlp<f32> = Mlp::new(&net_spec, &mut mnist_data::split::seeded_rng(0))?;
    let sgd = Sgd {
        batch_size: config.batch_size,
        ..experiment.sgd
    };
    let mut trainer = Trainer::new(&net, train, sgd, 0)?;
    for _ in 0..config.warmup {
        trainer.epoch(&mut net, train, |_| {})?;
    }
    let mut seconds = Vec::with_capacity(config.epochs);
    for _ in 0..config.epochs {
        let start = Instant::now();
        trainer.epoch(&mut net, train, |_| {})?;
        seconds.push(start.elapsed().as_secs_f64());
    }
    Ok(BenchResult {
        seconds,
        images: train.len(),
    })
}

/// How the matrix products are computed in this build. (A workspace-wide
/// build can switch matrixmultiply's threading on through another crate's
/// features; `cargo run -p scratch-numpy-style` builds this crate alone.)
pub fn matmul_path() -> String {
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

/// The 1-minute load average, to judge whether a timing was disturbed.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next().map(str::to_owned)
}
