//! The plots on their own: they decode as PNG, are not blank, draw their
//! text with the embedded font, and survive degenerate input.

mod common;

use common::*;
use mnist_report::plot::{self, GalleryItem};
use mnist_report::{ConfusionMatrix, EpochMetrics, ReportError};

#[test]
fn curves_draw_their_title_with_the_embedded_font() {
    let tmp = tempfile::tempdir().unwrap();
    let (titled, untitled) = (
        tmp.path().join("titled.png"),
        tmp.path().join("untitled.png"),
    );
    plot::curves(&titled, &one_head_epochs(), "Training curves of a test run").unwrap();
    plot::curves(&untitled, &one_head_epochs(), "").unwrap();

    let a = assert_plausible_png(&titled, (900, 400));
    let b = assert_plausible_png(&untitled, (900, 400));
    // The title band (top 30 rows, centre) has dark text only when titled.
    let band = (250, 0, 650, 30);
    assert!(a.count_in(band, is_dark) > 100, "no title text drawn");
    assert_eq!(b.count_in(band, is_dark), 0);
    // Axis labels and legend: the two panels hold plenty of text and lines.
    assert!(a.count_in((0, 30, 450, 400), is_dark) > 500);
    assert!(a.count_in((450, 30, 900, 400), is_dark) > 500);
}

#[test]
fn curves_with_two_heads_and_degenerate_data_render() {
    let tmp = tempfile::tempdir().unwrap();
    plot::curves(&tmp.path().join("two.png"), &two_head_epochs(), "two heads").unwrap();
    assert_plausible_png(&tmp.path().join("two.png"), (900, 400));

    // No epochs, a single epoch, and only non-finite values: no panic.
    plot::curves(&tmp.path().join("empty.png"), &[], "nothing yet").unwrap();
    decode_png(&tmp.path().join("empty.png"));
    let one = &one_head_epochs()[..1];
    plot::curves(&tmp.path().join("one.png"), one, "one epoch").unwrap();
    decode_png(&tmp.path().join("one.png"));
    let broken = [EpochMetrics {
        epoch: 1,
        train_loss: f64::NAN,
        train_accuracy: vec![f64::NAN],
        val_loss: f64::INFINITY,
        val_accuracy: vec![],
        seconds: f64::NAN,
    }];
    plot::curves(&tmp.path().join("nan.png"), &broken, "diverged").unwrap();
    decode_png(&tmp.path().join("nan.png"));
}

#[test]
fn confusion_matrix_plot_writes_counts_in_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let truth: Vec<u8> = (0..1000).map(|i| (i % 10) as u8).collect();
    let predicted: Vec<u8> = truth.iter().map(|&t| if t == 4 { 9 } else { t }).collect();
    let matrix = ConfusionMatrix::from_predictions(&truth, &predicted).unwrap();
    let path = tmp.path().join("confusion.png");
    plot::confusion(&path, &matrix, "confusion").unwrap();
    let png = assert_plausible_png(&path, (400, 400));
    // The dark-blue diagonal cells carry white count text, so the image has
    // both dark blue and white pixels inside the grid.
    let dark_blue = |[r, g, b]: [u8; 3]| r < 40 && g < 80 && b > 90;
    assert!(png.count_in((0, 0, png.width, png.height), dark_blue) > 5000);
    // An empty matrix renders too.
    plot::confusion(
        &tmp.path().join("empty.png"),
        &ConfusionMatrix::new(),
        "empty",
    )
    .unwrap();
    decode_png(&tmp.path().join("empty.png"));
}

#[test]
fn gallery_highlights_wrong_predictions_in_red() {
    let tmp = tempfile::tempdir().unwrap();
    let images: Vec<Vec<u8>> = (0..8).map(|i| digit_pixels(28, 28, i)).collect();
    let right: Vec<(Vec<u8>, Vec<u8>)> = (0..8u8).map(|i| (vec![i], vec![i])).collect();
    let mut mixed = right.clone();
    mixed[3].1 = vec![7];

    let all_right = tmp.path().join("right.png");
    plot::gallery(
        &all_right,
        &gallery_items(&images, 28, 28, &right),
        4,
        "predictions",
    )
    .unwrap();
    let one_wrong = tmp.path().join("mixed.png");
    plot::gallery(
        &one_wrong,
        &gallery_items(&images, 28, 28, &mixed),
        4,
        "predictions",
    )
    .unwrap();

    let a = assert_plausible_png(&all_right, (4 * 84, 2 * 84));
    let b = assert_plausible_png(&one_wrong, (4 * 84, 2 * 84));
    assert_eq!((a.width, a.height), (b.width, b.height));
    assert_eq!(a.count_in((0, 0, a.width, a.height), is_red), 0);
    assert!(b.count_in((0, 0, b.width, b.height), is_red) > 300);
    // Images are enlarged: the white bar of a digit spans many pixels.
    let white = |p: [u8; 3]| p == [255, 255, 255];
    let grey = |[r, g, b]: [u8; 3]| r == g && g == b && r > 0 && r < 255;
    assert!(a.count_in((0, 40, a.width, a.height), grey) > 8 * 28 * 28 * 4);
    assert!(a.count_in((0, 40, a.width, a.height), white) > 0);
}

#[test]
fn gallery_handles_unknown_truth_two_labels_and_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let pixels = digit_pixels(42, 28, 0);
    let items = [
        GalleryItem {
            pixels: &pixels,
            height: 42,
            width: 28,
            truth: None,
            predicted: vec![3, 7],
        },
        GalleryItem {
            pixels: &pixels,
            height: 42,
            width: 28,
            truth: Some(vec![3, 7]),
            predicted: vec![3, 1],
        },
    ];
    plot::gallery(&tmp.path().join("two.png"), &items, 10, "two digits").unwrap();
    let png = assert_plausible_png(&tmp.path().join("two.png"), (2 * 84, 126));
    assert!(png.count_in((0, 0, png.width, png.height), is_red) > 100);

    plot::gallery(&tmp.path().join("none.png"), &[], 10, "no mistakes").unwrap();
    assert_plausible_png(&tmp.path().join("none.png"), (300, 100));

    let short = [GalleryItem {
        pixels: &pixels[..100],
        height: 42,
        width: 28,
        truth: None,
        predicted: vec![1],
    }];
    let path = tmp.path().join("bad.png");
    let err = plot::gallery(&path, &short, 10, "bad").unwrap_err();
    assert!(matches!(err, ReportError::InvalidInput(_)), "{err:?}");
    assert!(!path.exists());
}

#[test]
fn line_chart_and_heatmap_for_sweeps() {
    let tmp = tempfile::tempdir().unwrap();
    let series: Vec<(String, Vec<(f64, f64)>)> = [16, 64, 256]
        .iter()
        .enumerate()
        .map(|(i, bs)| {
            let points = (1..=5)
                .map(|e| (e as f64, 90.0 + i as f64 + e as f64 * 0.8))
                .collect();
            (format!("batch size {bs}"), points)
        })
        .collect();
    let path = tmp.path().join("sweep.png");
    plot::line_chart(
        &path,
        "Validation accuracy by batch size",
        "epoch",
        "accuracy (%)",
        &series,
    )
    .unwrap();
    let png = assert_plausible_png(&path, (800, 400));
    // Three series in three palette colours.
    let blue = |[r, g, b]: [u8; 3]| r < 60 && (100..140).contains(&g) && b > 160;
    let orange = |[r, g, b]: [u8; 3]| r > 230 && (110..145).contains(&g) && b < 40;
    assert!(png.count_in((0, 0, png.width, png.height), blue) > 100);
    assert!(png.count_in((0, 0, png.width, png.height), orange) > 100);

    plot::line_chart(&tmp.path().join("empty-lines.png"), "empty", "x", "y", &[]).unwrap();
    let flat = vec![("flat".to_string(), vec![(1.0, 5.0)])];
    plot::line_chart(&tmp.path().join("flat.png"), "flat", "x", "y", &flat).unwrap();

    let epochs: Vec<String> = (1..=5).map(|e| e.to_string()).collect();
    let batches: Vec<String> = ["16", "64", "256"].iter().map(|s| s.to_string()).collect();
    let values: Vec<Vec<f64>> = (0..3)
        .map(|r| (0..5).map(|c| 95.0 + r as f64 + c as f64 * 0.5).collect())
        .collect();
    let path = tmp.path().join("heat.png");
    plot::heatmap(
        &path,
        "Accuracy (%)",
        "epoch",
        &epochs,
        "batch size",
        &batches,
        &values,
    )
    .unwrap();
    assert_plausible_png(&path, (400, 300));

    let ragged = vec![vec![1.0, f64::NAN], vec![]];
    plot::heatmap(
        &tmp.path().join("ragged.png"),
        "ragged",
        "x",
        &[],
        "y",
        &[],
        &ragged,
    )
    .unwrap();
    decode_png(&tmp.path().join("ragged.png"));
}
