//! Image files in every format `predict` reads: MNIST test digits written
//! as PNG (8-bit, 16-bit, palette), JPEG, BMP, GIF, WebP and TIFF, in either
//! polarity, read by the committed CNN; files recognised by their content
//! whatever their names; and one-line errors for files that are no image.
mod common;

use std::path::{Path, PathBuf};

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, ImageBuffer, ImageFormat, Luma};
use mnist_train::inference::{TrainedModel, load_images};

type Inner = burn::backend::Flex;

/// The test digits written in each format.
const DIGITS: usize = 6;

fn committed_cnn() -> TrainedModel<Inner> {
    let dir = mnist_report::paths::committed_reports_dir("cnn").join("cnn/checkpoints");
    TrainedModel::load(&dir, &Default::default()).expect("the committed CNN loads")
}

/// Test digit `i` as MNIST stores it (ink bright on black) for even `i`,
/// and for odd `i` dark on white paper drawn larger, as a photo would be.
fn digit(i: usize) -> GrayImage {
    let pixels = common::mnist().test.images.image(i).to_vec();
    let ink_on_black = GrayImage::from_raw(28, 28, pixels).expect("28x28");
    if i.is_multiple_of(2) {
        return ink_on_black;
    }
    let mut paper = imageops::resize(&ink_on_black, 84, 84, FilterType::Triangle);
    imageops::invert(&mut paper);
    paper
}

fn label(i: usize) -> u8 {
    common::mnist().test.labels.of(i)[0]
}

/// Writes `image` with the `image` crate's encoder for `format`.
fn save(image: DynamicImage, path: &Path, format: ImageFormat) -> PathBuf {
    image.save_with_format(path, format).expect("encodes");
    path.to_path_buf()
}

/// A 16-bit greyscale PNG.
fn png16(gray: &GrayImage, path: &Path) -> PathBuf {
    let wide: ImageBuffer<Luma<u16>, Vec<u16>> =
        ImageBuffer::from_fn(gray.width(), gray.height(), |x, y| {
            Luma([u16::from(gray.get_pixel(x, y)[0]) * 257])
        });
    save(DynamicImage::ImageLuma16(wide), path, ImageFormat::Png)
}

/// An indexed-colour PNG: a palette of 256 greys, one index per pixel.
fn palette_png(gray: &GrayImage, path: &Path) -> PathBuf {
    let file = std::fs::File::create(path).expect("creates");
    let mut encoder = png::Encoder::new(file, gray.width(), gray.height());
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_palette((0..=255u8).flat_map(|v| [v, v, v]).collect::<Vec<u8>>());
    let mut writer = encoder.write_header().expect("the header");
    writer.write_image_data(gray.as_raw()).expect("the pixels");
    writer.finish().expect("finishes");
    path.to_path_buf()
}

fn jpeg(gray: &GrayImage, path: &Path, quality: u8) -> PathBuf {
    let file = std::fs::File::create(path).expect("creates");
    image::codecs::jpeg::JpegEncoder::new_with_quality(file, quality)
        .encode_image(gray)
        .expect("encodes");
    path.to_path_buf()
}

/// The committed CNN's digit for the image in `path`, read as `predict`
/// reads it.
fn read_and_predict(model: &TrainedModel<Inner>, path: &Path) -> (Vec<u8>, u8) {
    let images =
        load_images(path, 28, 28).unwrap_or_else(|e| panic!("{} reads: {e}", path.display()));
    assert_eq!(images.count, 1);
    let predicted = model.predict(&images, &Default::default());
    (images.pixels, predicted.labels.of(0)[0])
}

#[test]
fn every_format_reads_as_the_same_digit_and_the_committed_cnn_reads_it_right() {
    let dir = tempfile::tempdir().unwrap();
    let model = committed_cnn();
    for i in 0..DIGITS {
        let gray = digit(i);
        let at = |name: &str| dir.path().join(format!("{i}-{name}"));
        let (reference, predicted) = read_and_predict(
            &model,
            &save(gray.clone().into(), &at("8.png"), ImageFormat::Png),
        );
        assert_eq!(predicted, label(i), "digit {i} as an 8-bit PNG");

        // Lossless formats give the very pixels the 8-bit PNG gives.
        let rgb = DynamicImage::ImageLuma8(gray.clone()).to_rgb8();
        let rgba = DynamicImage::ImageLuma8(gray.clone()).to_rgba8();
        let lossless = [
            png16(&gray, &at("16.png")),
            palette_png(&gray, &at("palette.png")),
            save(rgb.clone().into(), &at("rgb.png"), ImageFormat::Png),
            save(rgba.clone().into(), &at("rgba.png"), ImageFormat::Png),
            save(rgb.clone().into(), &at("rgb.bmp"), ImageFormat::Bmp),
            save(rgba.clone().into(), &at("rgba.webp"), ImageFormat::WebP),
            save(gray.clone().into(), &at("grey.tif"), ImageFormat::Tiff),
            save(rgb.clone().into(), &at("rgb.tiff"), ImageFormat::Tiff),
        ];
        for path in &lossless {
            let (pixels, predicted) = read_and_predict(&model, path);
            assert!(
                pixels == reference,
                "{} differs from the PNG",
                path.display()
            );
            assert_eq!(predicted, label(i), "{}", path.display());
        }

        // Lossy ones: the digit is still read right.
        let lossy = [
            jpeg(&gray, &at("90.jpg"), 90),
            jpeg(&gray, &at("75.jpeg"), 75),
            save(rgba.into(), &at("rgba.gif"), ImageFormat::Gif),
        ];
        for path in &lossy {
            let (_, predicted) = read_and_predict(&model, path);
            assert_eq!(predicted, label(i), "{}", path.display());
        }
    }
}

#[test]
fn files_are_recognised_by_their_content_whatever_their_names() {
    let dir = tempfile::tempdir().unwrap();
    let model = committed_cnn();
    // Images with no extension, or another format's.
    let gray = digit(0);
    let webp = dir.path().join("scan.dat");
    gray.save_with_format(&webp, ImageFormat::WebP).unwrap();
    let jpeg_named_png = jpeg(&gray, &dir.path().join("photo.png"), 90);
    for path in [webp, jpeg_named_png] {
        assert_eq!(read_and_predict(&model, &path).1, label(0));
    }

    // An IDX file with an odd name is still IDX.
    let test = &common::mnist().test;
    let idx = dir.path().join("some-digits.bin");
    mnist_data::idx::write_idx(&idx, &[3, 28, 28], &test.images.pixels[..3 * 784]).unwrap();
    let images = load_images(&idx, 28, 28).expect("IDX reads");
    assert_eq!(images.count, 3);
    assert_eq!(images.pixels, test.images.pixels[..3 * 784]);
}

#[test]
fn files_that_are_no_readable_image_get_a_one_line_error_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(jpeg(&digit(1), &dir.path().join("whole.jpg"), 90)).unwrap();
    let truncated = dir.path().join("truncated.jpg");
    std::fs::write(&truncated, &whole[..whole.len() / 3]).unwrap();
    let random = dir.path().join("random.jpg");
    let mut rng = mnist_data::split::seeded_rng(5);
    let noise: Vec<u8> = (0..2000)
        .map(|_| mnist_data::split::below(&mut rng, 256) as u8)
        .collect();
    std::fs::write(&random, noise).unwrap();
    let empty = dir.path().join("empty.webp");
    std::fs::write(&empty, b"").unwrap();
    // A format the image crate knows but is not built to read (PGM).
    let pgm = dir.path().join("digit.pgm");
    let mut pgm_bytes = b"P5\n28 28\n255\n".to_vec();
    pgm_bytes.extend_from_slice(common::mnist().test.images.image(0));
    std::fs::write(&pgm, pgm_bytes).unwrap();

    for path in [&truncated, &random, &empty, &pgm] {
        let err = load_images(path, 28, 28)
            .expect_err("no digit from a broken file")
            .to_string();
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(err.contains(name), "{err}");
        assert!(err.contains("cannot read the image"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
