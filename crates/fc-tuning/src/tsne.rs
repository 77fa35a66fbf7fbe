//! t-SNE of the last hidden layer (MLP-for-MNIST's figures): the same test images
//! through the untrained and the trained network, embedded in 2-D with the
//! `bhtsne` crate (Barnes–Hut t-SNE) and drawn side by side, coloured by
//! digit. How well the digits separate is also measured: the accuracy of a
//! 5-nearest-neighbour vote in the 2-D embedding.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use mnist_data::Dataset;
use mnist_models::CnnOps;
use mnist_models::TrainBackend;
use mnist_models::batch::images_tensor;
use mnist_models::burn::module::AutodiffModule;
use mnist_models::evaluate::evaluate;
use mnist_models::models::Model;
use mnist_report::ReportError;
use mnist_train::train::{TrainError, TrainOptions, TrainingData, train};

use crate::studies::FcConfig;

/// t-SNE settings.
#[derive(Clone, Debug)]
pub struct TsneOptions {
    /// Test images embedded (the first ones of the test set).
    pub images: usize,
    pub perplexity: f32,
    /// Gradient-descent iterations of t-SNE.
    pub iterations: usize,
    /// Barnes–Hut accuracy (smaller is more exact).
    pub theta: f32,
    /// Seeds the initial embedding (and the network's training).
    pub seed: u64,
}

impl Default for TsneOptions {
    fn default() -> Self {
        Self {
            images: 3_000,
            perplexity: 30.0,
            iterations: 1_000,
            theta: 0.5,
            seed: 1,
        }
    }
}

/// Embeds `n = features.len() / dim` points of `dim` features in 2-D.
/// The initial embedding is drawn here from the curriculum's seeded
/// generator (N(0, 10⁻⁴), as in the reference t-SNE); bhtsne's parallel sums
/// may still make two runs differ in the last bits, which t-SNE's descent
/// can grow into small visible differences.
pub fn embed(features: &[f32], dim: usize, options: &TsneOptions) -> Vec<(f64, f64)> {
    let samples: Vec<&[f32]> = features.chunks_exact(dim).collect();
    let n = samples.len();
    let mut rng = mnist_data::split::seeded_rng(options.seed);
    let mut uniform = || {
        // 53 random bits in (0, 1].
        (mnist_data::split::below(&mut rng, 1 << 53) as f64 + 1.0) / (1u64 << 53) as f64
    };
    let initial: Vec<f32> = (0..n * 2)
        .map(|_| {
            let (u, v) = (uniform(), uniform());
            // Box–Muller, standard deviation 1e-2 (variance 1e-4).
            (1e-2 * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
        })
        .collect();
    // Perplexity must leave room for 3·perplexity neighbours.
    let perplexity = options
        .perplexity
        .min(((n.saturating_sub(2)) as f32 / 3.0).max(1.0));
    let mut tsne: bhtsne::tSNE<f32, &[f32], 2> = bhtsne::tSNE::new(&samples);
    tsne.perplexity(perplexity)
        .epochs(options.iterations)
        .initial_embedding(initial)
        .barnes_hut(options.theta, |a, b| {
            a.iter()
                .zip(b.iter())
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f32>()
                .sqrt()
        });
    tsne.embedding()
        .chunks_exact(2)
        .map(|p| (f64::from(p[0]), f64::from(p[1])))
        .collect()
}

/// Leave-one-out accuracy of a k-nearest-neighbour vote among `points`:
/// how well the labels separate in the embedding.
pub fn knn_accuracy(points: &[(f64, f64)], labels: &[u8], k: usize) -> f64 {
    let n = points.len().min(labels.len());
    if n < 2 {
        return f64::NAN;
    }
    let mut right = 0usize;
    let mut distances: Vec<(f64, u8)> = Vec::with_capacity(n);
    for i in 0..n {
        distances.clear();
        let (x, y) = points[i];
        for j in (0..n).filter(|&j| j != i) {
            let (dx, dy) = (points[j].0 - x, points[j].1 - y);
            distances.push((dx * dx + dy * dy, labels[j]));
        }
        let k = k.min(distances.len());
        distances.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
        let mut votes = [0usize; 256];
        for &(_, label) in &distances[..k] {
            votes[usize::from(label)] += 1;
        }
        let winner = (0..256)
            .max_by_key(|&l| (votes[l], std::cmp::Reverse(l)))
            .unwrap_or(0);
        right += usize::from(winner == usize::from(labels[i]));
    }
    right as f64 / n as f64
}

/// The last hidden layer's activations of `model` for `set`'s images:
/// `(values row-major, width)`.
pub fn hidden_features<B: CnnOps>(
    model: &Model<B>,
    set: &Dataset,
    device: &B::Device,
) -> (Vec<f32>, usize) {
    let mut values = Vec::new();
    let mut width = 0;
    for start in (0..set.len()).step_by(500) {
        let end = (start + 500).min(set.len());
        let features = model.last_hidden(images_tensor(&set.images, start..end, device));
        width = features.dims()[1];
        values.extend(
            features
                .into_data()
                .convert::<f32>()
                .into_vec::<f32>()
                .expect("converted to f32"),
        );
    }
    (values, width)
}

#[derive(Debug, thiserror::Error)]
pub enum TsneError {
    #[error("the network diverged in epoch {0}: nothing to draw")]
    Diverged(usize),
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// What the t-SNE study found.
#[derive(Clone, Debug)]
pub struct TsneSummary {
    pub images: usize,
    pub epochs: usize,
    pub test_accuracy: f64,
    /// 5-NN accuracy in the 2-D embedding, untrained and trained.
    pub knn_untrained: f64,
    pub knn_trained: f64,
    pub seconds: f64,
    pub plot: PathBuf,
}

/// Trains `config`'s network on `train_set` (validated on `validation`),
/// embeds the last hidden layer of the first `options.images` images of
/// `test` before and after training, and writes `tsne.png`, `tsne.csv` and
/// `tsne.md` into `out_dir`.
#[allow(clippy::too_many_arguments)]
pub fn tsne_study<B: TrainBackend>(
    config: &FcConfig,
    train_set: &Dataset,
    validation: &Dataset,
    test: &Dataset,
    options: &TsneOptions,
    out_dir: &Path,
    device: &B::Device,
    verbose: bool,
) -> Result<TsneSummary, TsneError> {
    let start = Instant::now();
    let shown = test.take(options.images);
    B::seed(device, options.seed);
    let model = Model::Mlp(config.mlp().init::<B>(device));
    let untrained = hidden_features(&model.valid(), &shown, device);

    let training = config.training(options.seed);
    let train_options = TrainOptions {
        verbose,
        ..TrainOptions::default()
    };
    let data = TrainingData {
        train: train_set,
        validation,
    };
    let trained = train(model, data, &training, &train_options, device)?;
    if let mnist_report::RunStatus::Diverged { epoch } = trained.status {
        return Err(TsneError::Diverged(epoch));
    }
    let test_accuracy = evaluate(&trained.last, test, device).accuracy[0];
    let trained_features = hidden_features(&trained.last, &shown, device);

    let labels = shown.labels.head(0);
    let mut embeddings = Vec::new();
    for (name, (features, width)) in [("untrained", &untrained), ("trained", &trained_features)] {
        if verbose {
            println!(
                "t-SNE of the {name} network's last hidden layer ({} images × {width})…",
                shown.len()
            );
        }
        embeddings.push(embed(features, *width, options));
    }
    let knn: Vec<f64> = embeddings
        .iter()
        .map(|e| knn_accuracy(e, &labels, 5))
        .collect();

    let panel = |name: &str, e: &[(f64, f64)], knn: f64| {
        (
            format!("{name} (5-NN accuracy in 2-D: {:.1} %)", 100.0 * knn),
            e.iter()
                .zip(&labels)
                .map(|(&(x, y), &l)| (x, y, l))
                .collect::<Vec<_>>(),
        )
    };
    let plot = out_dir.join("tsne.png");
    mnist_report::plot::scatter_panels(
        &plot,
        &format!(
            "t-SNE of the last hidden layer ({}), {} test images",
            config.layers(),
            shown.len()
        ),
        &[
            panel("untrained", &embeddings[0], knn[0]),
            panel(
                &format!(
                    "after {} epoch{} (test accuracy {:.2} %)",
                    training.epochs,
                    if training.epochs == 1 { "" } else { "s" },
                    100.0 * test_accuracy
                ),
                &embeddings[1],
                knn[1],
            ),
        ],
    )?;

    let mut csv = String::from("index,label,untrained_x,untrained_y,trained_x,trained_y\n");
    for (i, label) in labels.iter().enumerate() {
        let (a, b) = (embeddings[0][i], embeddings[1][i]);
        let _ = writeln!(csv, "{i},{label},{},{},{},{}", a.0, a.1, b.0, b.1);
    }
    write(&out_dir.join("tsne.csv"), &csv)?;
    let seconds = start.elapsed().as_secs_f64();
    let md = format!(
        "# t-SNE of the last hidden layer\n\n\
         Network {} {}, SGD lr {}, momentum {}, batch {}, {} epochs on the course split \
         (seed {}); test accuracy of the trained network {:.2} %.\n\n\
         The first {} test images, through the untrained network and through the trained one, \
         embedded in 2-D by Barnes–Hut t-SNE (crate `bhtsne`; perplexity {}, {} iterations, \
         θ = {}, seeded initial embedding), coloured by digit: [tsne.png](tsne.png); \
         the coordinates are in [tsne.csv](tsne.csv).\n\n\
         | network | 5-NN accuracy in the 2-D embedding |\n|---|---|\n\
         | untrained | {:.2} % |\n| trained | {:.2} % |\n\n\
         Total time {seconds:.0} s.\n",
        config.layers(),
        config.activation_name(),
        config.learning_rate,
        config.momentum,
        config.batch_size,
        training.epochs,
        options.seed,
        100.0 * test_accuracy,
        shown.len(),
        options.perplexity,
        options.iterations,
        options.theta,
        100.0 * knn[0],
        100.0 * knn[1],
    );
    write(&out_dir.join("tsne.md"), &md)?;
    Ok(TsneSummary {
        images: shown.len(),
        epochs: training.epochs,
        test_accuracy,
        knn_untrained: knn[0],
        knn_trained: knn[1],
        seconds,
        plot,
    })
}

fn write(path: &Path, text: &str) -> Result<(), ReportError> {
    mnist_data::files::write_bytes_atomically(path, text.as_bytes())?;
    Ok(())
}
