//! `two-digit predict` end to end with the committed CNN: composed test
//! images written as PNG and JPEG files read as `eval` reads the same set,
//! the same digits drawn apart on paper read about as well, the CSV's
//! format, IDX and CSV input, and one-line errors.

use std::path::{Path, PathBuf};

use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use mnist_data::{Dataset, Mnist, two_digit as composer};
use two_digit::{DATA_SEED, SetAccuracy};

mod common;
use common::{path, stderr, stdout, two_digit};

/// The composed test images used here.
const IMAGES: usize = 300;

fn test_images() -> Dataset {
    let mnist = Mnist::load_default().expect("the committed MNIST files load");
    composer::course_sets(&mnist, DATA_SEED).1.take(IMAGES)
}

fn image(set: &Dataset, i: usize) -> GrayImage {
    let pixels = set.images.image(i).to_vec();
    GrayImage::from_raw(28, 42, pixels).expect("42x28")
}

/// Writes every image of `set` with `write` as `dir/NNN.ext`, in order.
fn write_all(
    set: &Dataset,
    dir: &Path,
    ext: &str,
    write: impl Fn(&GrayImage, &Path),
) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).expect("creates the folder");
    (0..set.len())
        .map(|i| {
            let file = dir.join(format!("{i:03}.{ext}"));
            write(&image(set, i), &file);
            file
        })
        .collect()
}

fn jpeg(gray: &GrayImage, file: &Path) {
    let out = std::fs::File::create(file).expect("creates the file");
    image::codecs::jpeg::JpegEncoder::new_with_quality(out, 90)
        .encode_image(gray)
        .expect("encodes");
}

/// `two-digit predict --csv` on `files`: the CSV's rows, (first, second).
fn predict_csv(dir: &Path, files: &[PathBuf]) -> Vec<[u8; 2]> {
    let csv = dir.join("predictions.csv");
    let mut args = vec!["predict", "--csv", path(&csv)];
    args.extend(files.iter().map(|f| path(f)));
    let out = two_digit(&args);
    assert!(out.status.success(), "predict failed: {}", stderr(&out));
    let text = std::fs::read_to_string(&csv).expect("the CSV is written");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("ImageId,First,Second"));
    lines
        .enumerate()
        .map(|(i, line)| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 3, "{line}");
            assert_eq!(fields[0], (i + 1).to_string());
            let digit = |f: &str| f.parse::<u8>().expect("a digit");
            [digit(fields[1]), digit(fields[2])]
        })
        .collect()
}

/// The share of images whose two digits are both right.
fn both_right(predicted: &[[u8; 2]], set: &Dataset) -> f64 {
    assert_eq!(predicted.len(), set.len());
    let right = (0..set.len())
        .filter(|&i| predicted[i][..] == *set.labels.of(i))
        .count();
    right as f64 / set.len() as f64
}

#[test]
fn image_files_are_read_as_eval_reads_the_same_images() {
    let dir = tempfile::tempdir().unwrap();
    let set = test_images();
    let prefix = dir.path().join("set");
    composer::save(&prefix, &set, false).unwrap();
    let out = two_digit(&["eval", "--json", "--data", path(&prefix)]);
    assert!(out.status.success(), "eval failed: {}", stderr(&out));
    let eval: SetAccuracy = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");

    // PNG keeps every pixel: exactly eval's accuracy.
    let pngs = write_all(&set, &dir.path().join("png"), "png", |g, f| {
        g.save(f).expect("saves")
    });
    let png = both_right(&predict_csv(dir.path(), &pngs), &set);
    assert_eq!(png, eval.test_accuracy_both, "PNG against eval");

    // JPEG at quality 90 changes pixels a little.
    let jpegs = write_all(&set, &dir.path().join("jpeg"), "jpg", jpeg);
    let jpg = both_right(&predict_csv(dir.path(), &jpegs), &set);
    assert!(
        (jpg - eval.test_accuracy_both).abs() <= 0.02,
        "JPEG {jpg} against eval {}",
        eval.test_accuracy_both
    );

    // The IDX file itself, and the images as CSV rows (pixels only): the
    // PNGs' predictions.
    let idx = dir.path().join("set-images-idx3-ubyte");
    let rows: Vec<String> = (0..set.len())
        .map(|i| {
            let pixels: Vec<String> = set.images.image(i).iter().map(u8::to_string).collect();
            pixels.join(",") + "\n"
        })
        .collect();
    let csv = dir.path().join("set.csv");
    std::fs::write(&csv, rows.concat()).unwrap();
    let from_pngs = predict_csv(dir.path(), &pngs);
    let from_idx_and_csv = predict_csv(dir.path(), &[idx, csv]);
    assert_eq!(from_idx_and_csv[..IMAGES], from_pngs[..]);
    assert_eq!(from_idx_and_csv[IMAGES..], from_pngs[..]);

    // The same pairs of digits as a learner would draw them: three times
    // larger, dark on light grey paper, apart, with wide margins.
    let mnist = Mnist::load_default().unwrap();
    let digit = |k: usize| {
        let pixels = mnist.test.images.image(k).to_vec();
        let digit = GrayImage::from_raw(28, 28, pixels).expect("28x28");
        imageops::resize(&digit, 84, 84, FilterType::Triangle)
    };
    let pairs = composer::pair_sources(mnist.test.len(), IMAGES, DATA_SEED, 1);
    let paper_dir = dir.path().join("paper");
    std::fs::create_dir_all(&paper_dir).unwrap();
    let papers: Vec<PathBuf> = pairs
        .iter()
        .enumerate()
        .map(|(i, &[first, second])| {
            let mut paper = GrayImage::new(220, 300);
            imageops::overlay(&mut paper, &digit(first), 60, 40);
            imageops::overlay(&mut paper, &digit(second), 70, 140);
            for p in paper.pixels_mut() {
                p[0] = 210 - (u32::from(p[0]) * 190 / 255) as u8;
            }
            let file = paper_dir.join(format!("{i:03}.png"));
            paper.save(&file).expect("saves");
            file
        })
        .collect();
    let on_paper = both_right(&predict_csv(dir.path(), &papers), &set);
    assert!(
        (on_paper - eval.test_accuracy_both).abs() <= 0.03,
        "digits on paper {on_paper} against eval {}",
        eval.test_accuracy_both
    );
}

#[test]
fn predict_prints_both_digits_per_image_and_refuses_one_digit_models() {
    let dir = tempfile::tempdir().unwrap();
    let set = test_images().take(3);
    let pngs = write_all(&set, dir.path(), "png", |g, f| g.save(f).expect("saves"));
    let mut args = vec!["predict"];
    args.extend(pngs.iter().map(|f| path(f)));
    let out = two_digit(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for (line, file) in lines.iter().zip(&pngs) {
        // `FILE: 7 2 (p = 0.999 0.987)`
        let rest = line
            .strip_prefix(&format!("{}: ", file.display()))
            .unwrap_or_else(|| panic!("{line:?} names {}", file.display()));
        let (digits, p) = rest.split_once(" (p = ").expect("probabilities");
        assert_eq!(digits.split(' ').count(), 2, "{line}");
        let p: Vec<f64> = p
            .trim_end_matches(')')
            .split(' ')
            .map(|v| v.parse().expect("a probability"))
            .collect();
        assert!(
            p.len() == 2 && p.iter().all(|p| (0.0..=1.0).contains(p)),
            "{line}"
        );
    }

    // The course CNN of part 3 reads one 28x28 digit.
    let cnn = mnist_report::paths::committed_reports_dir("cnn").join("cnn/checkpoints");
    let out = two_digit(&["predict", "--model", path(&cnn), path(&pngs[0])]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("two-headed") && err.contains("42x28"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    // A file that is no image, and a blank picture.
    let broken = dir.path().join("broken.jpg");
    std::fs::write(&broken, b"not a picture").unwrap();
    let blank = dir.path().join("blank.png");
    GrayImage::from_pixel(280, 420, Luma([255]))
        .save(&blank)
        .unwrap();
    for file in [&broken, &blank] {
        let out = two_digit(&["predict", path(file)]);
        assert!(!out.status.success());
        let err = stderr(&out);
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(err.contains(name), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }

    let out = two_digit(&["predict", "--help"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("WebP"), "{}", stdout(&out));
}
