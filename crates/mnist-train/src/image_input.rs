//! Photos and drawings of digits made to look like MNIST, the way MNIST
//! itself was made: greyscale, ink bright on a dark background, cropped to
//! the ink, scaled (keeping the aspect ratio, anti-aliased) to fit 20×20,
//! and placed in a 28×28 field so that the ink's centre of mass is at the
//! centre.

use std::io::Read;
use std::path::Path;

use image::imageops::{self, FilterType};
use image::{GrayImage, ImageFormat, Luma};

/// A pixel counts as ink above this level (of 255) when cropping.
pub(crate) const INK: u8 = 32;

/// The largest photo side read from a file, in pixels: a phone camera's
/// photos fit, and decoding one costs at most a few hundred megabytes.
pub const MAX_PHOTO_SIDE: u32 = 6000;

/// The largest image file read, in bytes.
pub const MAX_PHOTO_BYTES: u64 = 64 << 20;

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

/// The file extensions of the image formats read. Files are also
/// recognised as images by their first bytes ([`is_image_file`]).
pub const IMAGE_EXTENSIONS: [&str; 8] = ["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"];

/// Whether `path` holds an image: its first bytes are an image format's
/// signature, or its extension is one of [`IMAGE_EXTENSIONS`]. An IDX or
/// CSV file starts with no image signature, whatever its name.
pub fn is_image_file(path: &Path) -> bool {
    let named_as_image = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|i| e.eq_ignore_ascii_case(i)));
    named_as_image || starts_like_an_image(path)
}

/// Whether the file's first bytes are an image format's signature (false
/// if it cannot be read: the reader chosen then names the problem).
fn starts_like_an_image(path: &Path) -> bool {
    let mut start = Vec::with_capacity(16);
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    file.take(16).read_to_end(&mut start).is_ok() && image::guess_format(&start).is_ok()
}

/// Reads an image file (PNG, JPEG, BMP, GIF, WebP or TIFF, known by its
/// content) and prepares it as a 28×28 MNIST-style digit.
pub fn load_digit(path: &Path) -> Result<Vec<u8>, ImageInputError> {
    load_image(path, mnist_style)
}

/// Reads an image file (PNG, JPEG, BMP, GIF, WebP or TIFF, known by its
/// content) and prepares its greyscale with `prepare`, which gives `None`
/// when there is no ink: [`mnist_style`] for a digit,
/// [`two_digit_style`](crate::two_digit_image::two_digit_style) for part 4.
pub fn load_image(
    path: &Path,
    prepare: impl Fn(&GrayImage) -> Option<Vec<u8>>,
) -> Result<Vec<u8>, ImageInputError> {
    let size = std::fs::metadata(path)
        .map_err(|e| read_error(path, e))?
        .len();
    if size > MAX_PHOTO_BYTES {
        return Err(read_error(
            path,
            format!("the file has {size} bytes; at most {MAX_PHOTO_BYTES} are read"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| read_error(path, e))?;
    image_from_bytes(&bytes, MAX_PHOTO_SIDE, prepare).map_err(|e| match e {
        DigitError::Blank => ImageInputError::Blank {
            path: path.display().to_string(),
        },
        DigitError::NotImage(message) => read_error(path, message),
        e => read_error(path, e),
    })
}

/// Decodes an encoded image (any format the `image` crate is built with,
/// known by its content) and prepares it as a 28×28 MNIST-style digit:
/// what `predict` does with an image file and `serve` with a drawing.
/// Images more than `max_side` pixels wide or high are refused before
/// decoding: a small compressed file can ask for gigabytes.
pub fn digit_from_bytes(bytes: &[u8], max_side: u32) -> Result<Vec<u8>, DigitError> {
    image_from_bytes(bytes, max_side, mnist_style)
}

/// Decodes an encoded image as [`digit_from_bytes`] does and prepares its
/// greyscale with `prepare` (`None`: no ink).
pub fn image_from_bytes(
    bytes: &[u8],
    max_side: u32,
    prepare: impl Fn(&GrayImage) -> Option<Vec<u8>>,
) -> Result<Vec<u8>, DigitError> {
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
    if reader()?.format() == Some(ImageFormat::Jpeg) && !jpeg_is_complete(bytes) {
        return Err(DigitError::NotImage(
            "the JPEG data stops before the end of the image: the file is cut short".into(),
        ));
    }
    let image = reader()?
        .decode()
        .map_err(|e| DigitError::NotImage(e.to_string()))?;
    prepare(&on_white(&image)).ok_or(DigitError::Blank)
}

/// Whether a JPEG file holds its whole image: its segments, read from the
/// start, reach the end-of-image marker (FF D9). The decoder paints what is
/// missing from a file cut short grey, without an error. Bytes after the
/// marker (a phone's motion photo appends a video) do not matter, nor do
/// markers inside a segment (the thumbnail in a photo's EXIF data).
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut at = 2; // past the start-of-image marker
    while at + 1 < bytes.len() {
        if bytes[at] != 0xFF {
            at += 1; // compressed image data
            continue;
        }
        match bytes[at + 1] {
            0xD9 => return true,
            // A fill byte: the marker is the next one.
            0xFF => at += 1,
            // A zero stuffed into image data, or a marker with no segment.
            0x00 | 0x01 | 0xD0..=0xD8 => at += 2,
            // A segment: its length (which counts itself) follows.
            _ => match bytes.get(at + 2..at + 4) {
                Some(&[high, low]) => at += 2 + usize::from(u16::from_be_bytes([high, low])),
                _ => return false,
            },
        }
    }
    false
}

/// The image in grey (whatever its colours, palette or bit depth), its
/// transparent parts white: a drawing exported with a transparent
/// background is dark ink on paper, not ink on black.
fn on_white(image: &image::DynamicImage) -> GrayImage {
    if !image.color().has_alpha() {
        return image.to_luma8();
    }
    let with_alpha = image.to_luma_alpha8();
    GrayImage::from_fn(with_alpha.width(), with_alpha.height(), |x, y| {
        let [grey, alpha] = with_alpha.get_pixel(x, y).0;
        let (grey, alpha) = (u32::from(grey), u32::from(alpha));
        Luma([((grey * alpha + 255 * (255 - alpha) + 127) / 255) as u8])
    })
}

/// The MNIST preprocessing of a greyscale image; `None` if it has no ink.
pub fn mnist_style(gray: &GrayImage) -> Option<Vec<u8>> {
    let gray = ink_bright(gray);
    let crop = crop_to_ink(&gray)?;
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

// The loops over pixels below walk rows of the raw buffer rather than
// `enumerate_pixels`: they run on every drawing the page sends, and the
// per-pixel iterator is slow where this crate is built unoptimised.

/// The image with its ink bright on a dark background, inverted if its
/// background is light.
pub(crate) fn ink_bright(gray: &GrayImage) -> GrayImage {
    let mut gray = gray.clone();
    if background_is_light(&gray) {
        for p in gray.iter_mut() {
            *p = 255 - *p;
        }
    }
    gray
}

/// The image cropped to its ink's bounding box; `None` if it has no ink.
pub(crate) fn crop_to_ink(gray: &GrayImage) -> Option<GrayImage> {
    let (w, h) = gray.dimensions();
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (y, row) in (0..h).zip(gray.chunks_exact(w as usize)) {
        let Some(first) = row.iter().position(|&p| p > INK) else {
            continue;
        };
        let last = row.iter().rposition(|&p| p > INK).unwrap_or(first);
        // Row lengths are image widths, which are u32.
        let (first, last) = (first as u32, last as u32);
        (x0, y0, x1, y1) = (x0.min(first), y0.min(y), x1.max(last), y1.max(y));
    }
    if x0 > x1 {
        return None;
    }
    Some(imageops::crop_imm(gray, x0, y0, x1 - x0 + 1, y1 - y0 + 1).to_image())
}

/// True when the border is mostly light: a dark digit on white paper.
fn background_is_light(gray: &GrayImage) -> bool {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    if w == 0 || h == 0 {
        return false;
    }
    let pixels: &[u8] = gray;
    let rows = pixels.chunks_exact(w);
    let (first, last) = (&pixels[..w], &pixels[(h - 1) * w..]);
    // Top and bottom rows whole, then the two ends of each row between.
    let mut sum: u64 = first.iter().map(|&p| u64::from(p)).sum();
    let mut count = w as u64;
    if h > 1 {
        sum += last.iter().map(|&p| u64::from(p)).sum::<u64>();
        count += w as u64;
    }
    for row in rows.skip(1).take(h.saturating_sub(2)) {
        sum += u64::from(row[0]);
        count += 1;
        if w > 1 {
            sum += u64::from(row[w - 1]);
            count += 1;
        }
    }
    sum / count > 127
}

fn read_error(path: &Path, e: impl std::fmt::Display) -> ImageInputError {
    ImageInputError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, Rgba, RgbaImage};

    fn png(image: RgbaImage) -> Vec<u8> {
        let mut bytes = Vec::new();
        DynamicImage::ImageRgba8(image)
            .write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png)
            .expect("encodes");
        bytes
    }

    /// A "7" of black strokes on `background`.
    fn seven(background: Rgba<u8>) -> RgbaImage {
        let mut image = RgbaImage::from_pixel(120, 120, background);
        for x in 20..100 {
            for y in 20..30 {
                image.put_pixel(x, y, Rgba([0, 0, 0, 255]));
            }
        }
        for i in 0..80 {
            for t in 0..10 {
                image.put_pixel(90 - i * 6 / 10 + t, 30 + i, Rgba([0, 0, 0, 255]));
            }
        }
        image
    }

    /// Images of every small shape, with pixels from a fixed sequence that
    /// crosses both the ink level and mid-grey.
    fn small_images() -> impl Iterator<Item = GrayImage> {
        (1..7u32).flat_map(|w| {
            (1..7u32).flat_map(move |h| {
                (0..12u32).map(move |k| {
                    GrayImage::from_fn(w, h, |x, y| {
                        let v = (x * 7 + y * 13 + k * 29) * (k % 5 + 1) % 256;
                        // Some images have no ink at all.
                        Luma([if k % 6 == 0 {
                            (v % u32::from(INK)) as u8
                        } else {
                            v as u8
                        }])
                    })
                })
            })
        })
    }

    #[test]
    fn the_crop_and_the_background_agree_with_their_per_pixel_definitions() {
        for gray in small_images() {
            let (w, h) = gray.dimensions();
            let ink: Vec<(u32, u32)> = gray
                .enumerate_pixels()
                .filter(|(_, _, p)| p[0] > INK)
                .map(|(x, y, _)| (x, y))
                .collect();
            let expected = (!ink.is_empty()).then(|| {
                let x0 = ink.iter().map(|p| p.0).min().unwrap_or(0);
                let x1 = ink.iter().map(|p| p.0).max().unwrap_or(0);
                let y0 = ink.iter().map(|p| p.1).min().unwrap_or(0);
                let y1 = ink.iter().map(|p| p.1).max().unwrap_or(0);
                imageops::crop_imm(&gray, x0, y0, x1 - x0 + 1, y1 - y0 + 1).to_image()
            });
            assert_eq!(crop_to_ink(&gray), expected, "{w}x{h}: {:?}", gray.as_raw());

            let border: Vec<u64> = gray
                .enumerate_pixels()
                .filter(|(x, y, _)| *x == 0 || *y == 0 || *x + 1 == w || *y + 1 == h)
                .map(|(_, _, p)| u64::from(p[0]))
                .collect();
            let light = border.iter().sum::<u64>() / border.len() as u64 > 127;
            assert_eq!(
                background_is_light(&gray),
                light,
                "{w}x{h}: {:?}",
                gray.as_raw()
            );
        }
    }

    #[test]
    fn black_ink_on_a_transparent_background_is_ink_on_paper() {
        let on_paper = digit_from_bytes(&png(seven(Rgba([255, 255, 255, 255]))), 1000);
        let transparent = digit_from_bytes(&png(seven(Rgba([0, 0, 0, 0]))), 1000);
        let on_paper = on_paper.expect("a digit on paper");
        assert_eq!(
            transparent.expect("a digit on a transparent canvas"),
            on_paper
        );
    }

    #[test]
    fn a_jpeg_is_complete_only_up_to_its_end_marker() {
        let mut jpeg = Vec::new();
        DynamicImage::ImageRgba8(seven(Rgba([255, 255, 255, 255])))
            .to_rgb8()
            .write_to(&mut std::io::Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .expect("encodes");
        assert!(jpeg_is_complete(&jpeg));
        for cut in [10, 200, jpeg.len() / 2, jpeg.len() - 1] {
            assert!(!jpeg_is_complete(&jpeg[..cut]), "cut at {cut}");
        }
        let cut = &jpeg[..jpeg.len() / 2];
        let message = digit_from_bytes(cut, 1000).unwrap_err().to_string();
        assert!(message.contains("cut short"), "{message}");
        jpeg.extend_from_slice(b"a trailer after the image");
        assert!(jpeg_is_complete(&jpeg));
        assert!(digit_from_bytes(&jpeg, 1000).is_ok());
    }

    #[test]
    fn photos_larger_than_the_limit_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wide.png");
        let wide = RgbaImage::from_pixel(MAX_PHOTO_SIDE + 1, 1, Rgba([255, 255, 255, 255]));
        std::fs::write(&path, png(wide)).unwrap();
        let message = load_digit(&path).unwrap_err().to_string();
        assert!(message.contains("wide.png"), "{message}");
        assert!(
            message.contains(&format!("{}x1 pixels", MAX_PHOTO_SIDE + 1)),
            "{message}"
        );
    }
}
