//! The confusion matrix on small known examples.

use mnist_report::{CLASSES, ConfusionMatrix, ReportError};

#[test]
fn counts_and_accuracies_of_a_known_example() {
    // True:      0 0 0 1 1 2 2 2 2 9
    // Predicted: 0 0 1 1 1 2 2 3 2 4
    let truth = [0, 0, 0, 1, 1, 2, 2, 2, 2, 9];
    let predicted = [0, 0, 1, 1, 1, 2, 2, 3, 2, 4];
    let m = ConfusionMatrix::from_predictions(&truth, &predicted).unwrap();

    assert_eq!(m.total(), 10);
    assert_eq!(m.correct(), 7);
    assert_eq!(m.count(0, 0), 2);
    assert_eq!(m.count(0, 1), 1);
    assert_eq!(m.count(1, 1), 2);
    assert_eq!(m.count(2, 2), 3);
    assert_eq!(m.count(2, 3), 1);
    assert_eq!(m.count(9, 4), 1);
    assert_eq!(m.count(4, 9), 0, "rows are true labels");
    assert_eq!(m.count(10, 0), 0);
    assert!((m.accuracy() - 0.7).abs() < 1e-12);

    let per_class = m.per_class_accuracy();
    assert_eq!(per_class.len(), CLASSES);
    assert!((per_class[0].unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(per_class[1], Some(1.0));
    assert_eq!(per_class[2], Some(0.75));
    assert_eq!(per_class[9], Some(0.0));
    assert_eq!(per_class[5], None, "no examples of 5");

    let row_sums: Vec<u64> = m.counts().iter().map(|r| r.iter().sum()).collect();
    assert_eq!(row_sums, [3, 2, 4, 0, 0, 0, 0, 0, 0, 1]);
}

#[test]
fn add_counts_one_prediction_at_a_time() {
    let mut m = ConfusionMatrix::new();
    assert_eq!(m.accuracy(), 0.0, "empty matrix");
    m.add(3, 3).unwrap();
    m.add(3, 5).unwrap();
    assert_eq!(m.count(3, 5), 1);
    assert_eq!(m.accuracy(), 0.5);
}

#[test]
fn bad_labels_and_lengths_are_errors() {
    let mut m = ConfusionMatrix::new();
    assert!(matches!(m.add(10, 0), Err(ReportError::InvalidInput(_))));
    assert_eq!(m.total(), 0);
    let err = ConfusionMatrix::from_predictions(&[1, 2], &[1]).unwrap_err();
    assert!(
        err.to_string().contains("2 true labels but 1 predictions"),
        "{err}"
    );
}
