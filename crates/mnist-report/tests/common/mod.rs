//! Helpers shared by the integration tests: synthetic runs and PNG checks.
#![allow(dead_code)]

use std::collections::HashSet;
use std::path::Path;

use mnist_report::{EpochMetrics, GalleryItem, Provenance, RunStatus, RunSummary, TestMetrics};

/// A decoded RGB(A) PNG.
pub struct Png {
    pub width: usize,
    pub height: usize,
    /// Bytes per pixel (3 for RGB, 4 for RGBA).
    pub channels: usize,
    pub data: Vec<u8>,
}

impl Png {
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * self.channels;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Number of distinct colours in the image.
    pub fn distinct_colours(&self) -> usize {
        let mut seen = HashSet::new();
        for y in 0..self.height {
            for x in 0..self.width {
                seen.insert(self.pixel(x, y));
            }
        }
        seen.len()
    }

    /// Pixels in the rectangle `[x0, x1) × [y0, y1)` that satisfy `test`.
    pub fn count_in(
        &self,
        (x0, y0, x1, y1): (usize, usize, usize, usize),
        test: impl Fn([u8; 3]) -> bool,
    ) -> usize {
        let mut n = 0;
        for y in y0..y1.min(self.height) {
            for x in x0..x1.min(self.width) {
                n += usize::from(test(self.pixel(x, y)));
            }
        }
        n
    }
}

pub fn is_dark([r, g, b]: [u8; 3]) -> bool {
    r < 90 && g < 90 && b < 90
}

/// The gallery's highlight red (214, 39, 40), allowing for anti-aliasing.
pub fn is_red([r, g, b]: [u8; 3]) -> bool {
    r > 180 && g < 90 && b < 90
}

/// Decodes a PNG file, panicking with the path on failure.
pub fn decode_png(path: &Path) -> Png {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder
        .read_info()
        .unwrap_or_else(|e| panic!("{} is not a PNG: {e}", path.display()));
    let mut data = vec![0; reader.output_buffer_size().expect("PNG buffer size")];
    let info = reader.next_frame(&mut data).expect("PNG frame");
    data.truncate(info.buffer_size());
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected colour type {other:?} in {}", path.display()),
    };
    Png {
        width: info.width as usize,
        height: info.height as usize,
        channels,
        data,
    }
}

/// Asserts that `path` is a PNG of at least `min` size with real content.
pub fn assert_plausible_png(path: &Path, min: (usize, usize)) -> Png {
    let png = decode_png(path);
    assert!(
        png.width >= min.0 && png.height >= min.1,
        "{} is only {}x{}",
        path.display(),
        png.width,
        png.height
    );
    assert!(
        png.width <= 4000 && png.height <= 4000,
        "{} is huge",
        path.display()
    );
    let colours = png.distinct_colours();
    assert!(
        colours >= 20,
        "{} looks blank: {colours} colours",
        path.display()
    );
    let dark = png.count_in((0, 0, png.width, png.height), is_dark);
    assert!(
        dark > 200,
        "{} has almost no dark (text/axis) pixels: {dark}",
        path.display()
    );
    png
}

/// Three epochs of a one-headed run.
pub fn one_head_epochs() -> Vec<EpochMetrics> {
    (1..=3)
        .map(|e| {
            let f = e as f64;
            EpochMetrics {
                epoch: e,
                train_loss: 1.0 / f,
                train_accuracy: vec![0.80 + 0.05 * f],
                val_loss: 1.1 / f,
                val_accuracy: vec![0.78 + 0.05 * f],
                seconds: 10.0 + f,
            }
        })
        .collect()
}

/// Three epochs of a two-headed run.
pub fn two_head_epochs() -> Vec<EpochMetrics> {
    (1..=3)
        .map(|e| {
            let f = e as f64;
            EpochMetrics {
                epoch: e,
                train_loss: 2.0 / f,
                train_accuracy: vec![0.70 + 0.05 * f, 0.60 + 0.05 * f],
                val_loss: 2.2 / f,
                val_accuracy: vec![0.68 + 0.05 * f, 0.58 + 0.06 * f],
                seconds: 20.0 + f,
            }
        })
        .collect()
}

pub fn summary(run: &str, learning_rate: f64) -> RunSummary {
    RunSummary {
        run: run.into(),
        model: "mlp".into(),
        status: RunStatus::Completed,
        seed: 7,
        epochs: 3,
        batch_size: 64,
        learning_rate,
        momentum: 0.9,
        tested_epoch: None,
        config: serde_json::json!({ "hidden": 128, "optimizer": "sgd" }),
        extra: vec![],
    }
}

pub fn test_metrics(accuracy: f64) -> TestMetrics {
    TestMetrics {
        loss: 0.25,
        accuracy: vec![accuracy],
        accuracy_all_heads: accuracy,
    }
}

pub fn provenance(wall_seconds: f64) -> Provenance {
    Provenance {
        commit: "abc1234".into(),
        backend: "ndarray".into(),
        device: "cpu".into(),
        date: "2026-11-22T05:10:00Z".into(),
        wall_seconds,
    }
}

/// A synthetic 28×28 (or any size) "digit": a bright diagonal bar.
pub fn digit_pixels(height: usize, width: usize, shift: usize) -> Vec<u8> {
    (0..height * width)
        .map(|i| {
            let (r, c) = (i / width, i % width);
            if (r + shift).abs_diff(c * height / width) < 3 {
                255
            } else {
                (r * 3) as u8
            }
        })
        .collect()
}

/// Gallery items borrowing `images` (each `height * width` pixels).
pub fn gallery_items<'a>(
    images: &'a [Vec<u8>],
    height: usize,
    width: usize,
    labels: &[(Vec<u8>, Vec<u8>)],
) -> Vec<GalleryItem<'a>> {
    images
        .iter()
        .zip(labels)
        .map(|(pixels, (truth, predicted))| GalleryItem {
            pixels,
            height,
            width,
            truth: Some(truth.clone()),
            predicted: predicted.clone(),
        })
        .collect()
}
