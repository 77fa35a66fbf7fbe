//! Seconds per training epoch of the first experiment's network on the
//! MNIST training images, in f32. Evaluation is not timed: one epoch is the
//! shuffle, forward pass, backward pass and step of every batch, the same
//! work as an epoch of a from-scratch NumPy version of the network, so the
//! two compare when they are timed alternately on the same machine.

use std::time::Instant;

use crate::data::Samples;
use crate::error::Result;
use crate::experiments::{self, MnistData};
use crate::matrix_products::matrix_products;
use crate::network::Mlp;
use crate::sgd::{Sgd, Trainer};

/// `bench`'s command line.
#[derive(clap::Args, Clone, Debug)]
pub struct BenchArgs {
    /// Timed epochs.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub epochs: u64,
    /// Untimed epochs before them.
    #[arg(long, default_value_t = 1)]
    pub warmup: u64,
    /// Mini-batch size.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: u64,
    /// Train on only the first N training images (default: all).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub images: Option<u64>,
}

impl BenchArgs {
    pub fn config(&self) -> BenchConfig {
        BenchConfig {
            epochs: self.epochs as usize,
            warmup: self.warmup as usize,
            batch_size: self.batch_size as usize,
        }
    }
}

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

/// The 1-minute load average, to judge whether a timing was disturbed.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next().map(str::to_owned)
}

/// Loads the training images `args` asks for, times its epochs on them and
/// prints the timings as a table.
pub fn print_timings(args: &BenchArgs) -> Result<()> {
    let config = args.config();
    let data = MnistData::load(args.images.map(|n| n as usize), Some(0))?;
    let spec = experiments::first().spec;
    println!(
        "network {} ({} hidden, {}), batch {}, f32, {} training images",
        experiments::sizes_text(&spec.sizes),
        spec.hidden,
        spec.output,
        config.batch_size,
        data.train.len()
    );
    println!("matrix products: {}", matrix_products());
    println!("load average before: {}", load_average_text());
    let result = run(&data.train, config)?;
    println!("\n| epoch | seconds | images/s |");
    println!("|---|---|---|");
    for (i, s) in result.seconds.iter().enumerate() {
        println!("| {} | {s:.3} | {:.0} |", i + 1, result.images as f64 / s);
    }
    println!(
        "\nseconds per epoch: min {:.3}, median {:.3}",
        result.min(),
        result.median()
    );
    println!("load average after: {}", load_average_text());
    println!(
        "To compare with NumPy, time a from-scratch NumPy version of the same network \
         alternately with this command, on the same quiet machine: a figure from another \
         machine or another day is no comparison."
    );
    Ok(())
}

fn load_average_text() -> String {
    load_average().unwrap_or_else(|| "unknown".into())
}
