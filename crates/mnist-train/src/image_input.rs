//! Photos and drawings of digits made to look like MNIST, the way MNIST
//! itself was made: greyscale, ink bright on a dark background, cropped to
//! the ink, scaled (keeping the aspect ratio, anti-aliased) to fit 20×20,
//! and placed in a 28×28 field so that the ink's centre of mass is at the
//! centre.

use std::path::Path;

use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};

/// A pixel counts as ink above this level (of 255) when cropping.
const INK: u8 = 32;

#[derive(Debug, thiserror::Error)]
pub enum ImageInputError {
    #[error("{path}: cannot read the image: {message}")]
    Read { path: String, message: String },
    #[error("{path}: the image is blank: no digit to read")]
    Blank { path: String },
}

/// Why an encoded image gives no digit.
#[derive(Debug, thiserror::Error)]
pub enum DigitError {
    #[error("not a readable image: {0}")]
    NotImage(String),
    #[error("the image is {width}x{height} pixels; at most {max}x{max} are read")]
    TooLarge { width: u32, height: u32, max: u32 },
    #[error("the image is blank: no digit to read")]
    Blank,
}

/// Reads an image file (PNG, or any format the `image` crate knows by its
/// content) and prepares it as a 28×28 MNIST-style digit.
pub fn load_digit(path: &Path) -> Result<Vec<u8>, ImageInputError> {
    let bytes = std::fs::read(path).map_err(|e| read_error(path, e))?;
    // Photos of any size will do (within the decoder's own memory limit).
    digit_from_bytes(&bytes, u32::MAX).map_err(|e| match e {
        DigitError::Blank => ImageInputError::Blank {
            path: path.display().to_string(),
        },
        DigitError::NotImage(message) => read_error(path, message),
        e => read_error(path, e),
    })
}

/// Decodes an encoded image (PNG, or any format the `image` crate knows by
/// its content) and prepares it as a 28×28 MNIST-style digit: what
/// `predict` does with an image file and `serve` with a drawing. Images
/// more than `max_side` pixels wide or high are refused before decoding:
/// a small compressed file can ask for gigabytes.
pub fn digit_from_bytes(bytes: &[u8], max_side: u32) -> Result<Vec<u8>, DigitError> {
    let reader = || {
        image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| DigitError::NotImage(e.to_string()))
    };
    let (width, height) = reader()?
        .into_dimensions()
        .map_err(|e| DigitError::NotImage(e.to_string()))?;
    if width > max_side || height > max_side {
        return Err(DigitError::TooLarge {
            width,
            height,
            max: max_side,
        });
    }
    let image = reader()?
        .decode()
        .map_err(|e| DigitError::NotImage(e.to_string()))?;
    mnist_style(&image.to_luma8()).ok_or(DigitError::Blank)
}

/// The MNIST preprocessing of a greyscale image; `None` if it has no ink.
pub fn mnist_style(gray: &GrayImage) -> Option<Vec<u8>> {
    let mut gray = gray.clone();
    if background_is_light(&gray) {
        imageops::invert(&mut gray);
    }
    // Crop to the ink's bounding box.
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in gray.enumerate_pixels() {
        if p[0] > INK {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    if x0 > x1 {
        return None;
    }
    let crop = imageops::crop_imm(&gray, x0, y0, x1 - x0 + 1, y1 - y0 + 1).to_image();
    // Fit into 20×20, keeping the aspect ratio.
    let (w, h) = crop.dimensions();
    let scale = 20.0 / w.max(h) as f32;
    let (sw, sh) = (
        ((w as f32 * scale).round() as u32).clamp(1, 20),
        ((h as f32 * scale).round() as u32).clamp(1, 20),
    );
    let digit = imageops::resize(&crop, sw, sh, FilterType::Triangle);
    // Centre of mass of the ink → centre of the 28×28 field.
    let (mut mass, mut cx, mut cy) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y, p) in digit.enumerate_pixels() {
        let m = f64::from(p[0]);
        mass += m;
        cx += m * f64::from(x);
        cy += m * f64::from(y);
    }
    if mass == 0.0 {
        return None;
    }
    let left = (14.0 - cx / mass).round() as i64;
    let top = (14.0 - cy / mass).round() as i64;
    let mut field = GrayImage::from_pixel(28, 28, Luma([0]));
    imageops::overlay(&mut field, &digit, left, top);
    Some(field.into_raw())
}

/// True when the border is mostly light: a dark digit on white paper.
fn background_is_light(gray: &GrayImage) -> bool {
    let (w, h) = gray.dimensions();
    let border = gray
        .enumerate_pixels()
        .filter(|(x, y, _)| *x == 0 || *y == 0 || *x + 1 == w || *y + 1 == h);
    let (sum, count) = border.fold((0u64, 0u64), |(s, c), (_, _, p)| {
        (s + u64::from(p[0]), c + 1)
    });
    count > 0 && sum / count > 127
}

fn read_error(path: &Path, e: impl std::fmt::Display) -> ImageInputError {
    ImageInputError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}
