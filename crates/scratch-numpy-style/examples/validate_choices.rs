//! How the first experiment's unstated settings were chosen: initialisation
//! (He or Xavier) and input scaling ([0, 1] or standardised), compared on the
//! course's validation split (training on the first 54,000 training images,
//! shuffled; validating on the last 6,000), never on the test set.
//!
//! `cargo run -p scratch-numpy-style --example validate_choices [SEEDS]`
//! (default 8 seeds, 1..=8; four full trainings of the first experiment per
//! seed).

use mnist_data::Dataset;
use scratch_numpy_style::data::Standardisation;
use scratch_numpy_style::experiments::first;
use scratch_numpy_style::{Init, Mlp, Result, Samples, Trainer, evaluate};

fn main() -> Result<()> {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let mnist = mnist_data::Mnist::load_default()?;
    let split = mnist_data::course_split(mnist.train.len(), 42);
    let train_set: Dataset = mnist.train.select(&split.train);
    let val_set: Dataset = mnist.train.select(&split.validation);
    println!("| inputs | init | validation accuracy per seed (%) | mean |");
    println!("|---|---|---|---|");
    for standardise in [false, true] {
        let scaling = if standardise {
            Standardisation::fit(&train_set)
        } else {
            Standardisation::UNIT
        };
        let train: Samples<f32> = Samples::from_mnist(&train_set, scaling)?;
        let val: Samples<f32> = Samples::from_mnist(&val_set, scaling)?;
        for init in [Init::He, Init::Xavier] {
            let mut accuracies = Vec::new();
            for seed in 1..=seeds {
                let e = first();
                let spec = scratch_numpy_style::Spec { init, ..e.spec };
                let mut net: Mlp<f32> = Mlp::new(&spec, &mut mnist_data::split::seeded_rng(seed))?;
                let mut trainer = Trainer::new(&net, &train, e.sgd, seed)?;
                for _ in 0..e.epochs {
                    trainer.epoch(&mut net, &train, |_| {})?;
                }
                let accuracy = evaluate(&net, &val, 1000)?.accuracy.unwrap_or(f64::NAN);
                accuracies.push(100.0 * accuracy);
            }
            let mean = accuracies.iter().sum::<f64>() / accuracies.len().max(1) as f64;
            let list: Vec<String> = accuracies.iter().map(|a| format!("{a:.2}")).collect();
            println!(
                "| {} | {init} | {} | {mean:.3} |",
                if standardise {
                    "standardised"
                } else {
                    "[0, 1]"
                },
                list.join(", ")
            );
        }
    }
    Ok(())
}
