//! t-SNE: separable clusters stay separated; the study draws its plot.
mod common;

use fc_tuning::tsne::{TsneOptions, embed, knn_accuracy, tsne_study};

/// `n` points in 8-D around one of 4 well-separated centres.
fn clusters(n: usize) -> (Vec<f32>, Vec<u8>) {
    let mut rng = mnist_data::split::seeded_rng(5);
    let mut values = Vec::with_capacity(n * 8);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = (i % 4) as u8;
        for d in 0..8 {
            let centre = if d == usize::from(class) { 10.0 } else { 0.0 };
            let noise = mnist_data::split::below(&mut rng, 1000) as f32 / 1000.0;
            values.push(centre + noise);
        }
        labels.push(class);
    }
    (values, labels)
}

#[test]
fn knn_accuracy_counts_neighbours() {
    let points = [
        (0.0, 0.0),
        (0.1, 0.0),
        (0.0, 0.1),
        (5.0, 5.0),
        (5.1, 5.0),
        (5.0, 5.1),
    ];
    assert_eq!(knn_accuracy(&points, &[0, 0, 0, 1, 1, 1], 2), 1.0);
    assert!(knn_accuracy(&points, &[0, 1, 0, 1, 0, 1], 2) < 0.5);
}

/// The seed fixes the initial embedding; bhtsne's parallel sums can still
/// differ in the last bits from run to run, so two runs are compared by what
/// they show, not bit for bit.
#[test]
fn separated_clusters_stay_separated() {
    let (values, labels) = clusters(200);
    let options = TsneOptions {
        perplexity: 15.0,
        iterations: 300,
        ..TsneOptions::default()
    };
    let embedding = embed(&values, 8, &options);
    assert_eq!(embedding.len(), 200);
    assert!(embedding.iter().all(|p| p.0.is_finite() && p.1.is_finite()));
    assert!(knn_accuracy(&embedding, &labels, 5) > 0.95);
    let again = embed(&values, 8, &options);
    assert!(knn_accuracy(&again, &labels, 5) > 0.95);
}

#[test]
fn the_study_draws_untrained_against_trained() {
    let data = common::data(1_000, 300);
    let dir = tempfile::tempdir().unwrap();
    let mut config = fc_tuning::studies::tsne_model();
    config.epochs = 1;
    let options = TsneOptions {
        images: 300,
        iterations: 250,
        ..TsneOptions::default()
    };
    let summary = tsne_study::<common::Flex>(
        &config,
        &data.course.train,
        &data.course.validation,
        data.test(),
        &options,
        dir.path(),
        &Default::default(),
        false,
    )
    .unwrap();
    assert_eq!(summary.images, 300);
    assert!(summary.knn_trained > summary.knn_untrained, "{summary:?}");
    assert!(std::fs::metadata(&summary.plot).unwrap().len() > 10_000);
    let csv = std::fs::read_to_string(dir.path().join("tsne.csv")).unwrap();
    assert_eq!(csv.lines().count(), 301);
}
