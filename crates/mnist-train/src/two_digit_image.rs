//! Pictures of two digits, one above the other, made to look like part 4's
//! composed images (42×28: the first digit on rows 0–27, the second on rows
//! 14–41): greyscale, ink bright on a dark background. A 42×28 picture is
//! taken as it is. Any other (a photo or a drawing of two stacked digits,
//! usually larger and with margins) loses its paper's shade and is cropped
//! to its ink; then, if a blank row parts the digits, as on a learner's
//! paper, each digit is made MNIST-like and the two are composed as part 4
//! composes them; if they touch, the ink is scaled keeping its aspect ratio
//! to fit the box two composed digits fill, and centred.

use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use mnist_data::two_digit::{HEIGHT, WIDTH, compose_pair};

use crate::image_input::{INK, crop_to_ink, ink_bright, mnist_style};

const FIELD_WIDTH: u32 = WIDTH as u32;
const FIELD_HEIGHT: u32 = HEIGHT as u32;

/// The box the ink of a composed image fills: an MNIST digit fits 20×20
/// and the second digit starts 14 rows below the first.
const INK_WIDTH: u32 = 20;
const INK_HEIGHT: u32 = 34;

/// A greyscale picture of two digits as a 42×28 two-digit image; `None` if
/// it has no ink.
pub fn two_digit_style(gray: &GrayImage) -> Option<Vec<u8>> {
    let gray = ink_bright(gray);
    if gray.dimensions() == (FIELD_WIDTH, FIELD_HEIGHT) {
        // Blank unless some pixel is ink.
        crop_to_ink(&gray)?;
        return Some(gray.into_raw());
    }
    let ink = crop_to_ink(&without_paper_shade(&gray))?;
    match gap_between_digits(&ink) {
        Some(gap) => each_digit_mnist_style(&ink, gap),
        None => Some(fitted(&ink)),
    }
}

/// Two digits written apart: each made MNIST-like (as `predict` does with
/// one digit) and the two composed as part 4 composes its images.
fn each_digit_mnist_style(ink: &GrayImage, gap: u32) -> Option<Vec<u8>> {
    let first = mnist_style(&in_black_margin(ink, 0, gap))?;
    let second = mnist_style(&in_black_margin(ink, gap, ink.height()))?;
    let mut canvas = vec![0; HEIGHT * WIDTH];
    compose_pair(&first, &second, &mut canvas);
    Some(canvas)
}

/// Two digits that touch (an enlarged composed image): the ink scaled,
/// keeping its aspect ratio, to fit the box two composed digits fill, and
/// centred.
fn fitted(ink: &GrayImage) -> Vec<u8> {
    let (w, h) = ink.dimensions();
    let scale = (INK_WIDTH as f32 / w as f32).min(INK_HEIGHT as f32 / h as f32);
    let (sw, sh) = (
        ((w as f32 * scale).round() as u32).clamp(1, INK_WIDTH),
        ((h as f32 * scale).round() as u32).clamp(1, INK_HEIGHT),
    );
    // Shrinking averages each output pixel's area, which keeps strokes as
    // thin as they are; a smoother filter would thicken them.
    let digits = if sw <= w && sh <= h {
        imageops::thumbnail(ink, sw, sh)
    } else {
        imageops::resize(ink, sw, sh, FilterType::Triangle)
    };
    let mut field = GrayImage::from_pixel(FIELD_WIDTH, FIELD_HEIGHT, Luma([0]));
    let left = i64::from((FIELD_WIDTH - sw) / 2);
    let top = i64::from((FIELD_HEIGHT - sh) / 2);
    imageops::overlay(&mut field, &digits, left, top);
    field.into_raw()
}

/// A row without ink in the middle third of the picture, the nearest to
/// its middle: where the upper digit ends, if the digits are apart.
fn gap_between_digits(ink: &GrayImage) -> Option<u32> {
    let (w, h) = ink.dimensions();
    let empty = |y: u32| (0..w).all(|x| ink.get_pixel(x, y)[0] <= INK);
    let middle = h / 2;
    (h / 3..=2 * h / 3)
        .filter(|&y| y > 0 && y < h && empty(y))
        .min_by_key(|&y| y.abs_diff(middle))
}

/// Rows `top..bottom` of the image in a black margin, so that the border
/// of each digit's picture is background.
fn in_black_margin(ink: &GrayImage, top: u32, bottom: u32) -> GrayImage {
    let rows = imageops::crop_imm(ink, 0, top, ink.width(), bottom - top).to_image();
    let mut framed = GrayImage::new(rows.width() + 4, rows.height() + 4);
    imageops::overlay(&mut framed, &rows, 2, 2);
    framed
}

/// The picture with its background black and its brightest ink white: a
/// photo of paper is grey where the paper is, which the border's mean level
/// measures.
fn without_paper_shade(gray: &GrayImage) -> GrayImage {
    let (w, h) = gray.dimensions();
    let border: Vec<u32> = gray
        .enumerate_pixels()
        .filter(|(x, y, _)| *x == 0 || *y == 0 || *x + 1 == w || *y + 1 == h)
        .map(|(_, _, p)| u32::from(p[0]))
        .collect();
    let paper = border.iter().sum::<u32>() / (border.len() as u32).max(1);
    let brightest = gray.pixels().map(|p| u32::from(p[0])).max().unwrap_or(0);
    if brightest <= paper {
        return GrayImage::new(w, h);
    }
    let mut clean = gray.clone();
    for p in clean.pixels_mut() {
        let ink = u32::from(p[0]).saturating_sub(paper);
        p[0] = (ink * 255 / (brightest - paper)) as u8;
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two bars, one above the other, bright on black in a 42×28 image.
    fn two_bars() -> GrayImage {
        GrayImage::from_fn(FIELD_WIDTH, FIELD_HEIGHT, |x, y| {
            let ink = (10..18).contains(&x) && ((5..20).contains(&y) || (24..38).contains(&y));
            Luma([if ink { 200 + (x + y) as u8 % 50 } else { 0 }])
        })
    }

    #[test]
    fn a_42x28_image_comes_through_unchanged_in_either_polarity() {
        let bars = two_bars();
        assert_eq!(two_digit_style(&bars), Some(bars.as_raw().clone()));
        let mut on_paper = bars.clone();
        imageops::invert(&mut on_paper);
        assert_eq!(two_digit_style(&on_paper), Some(bars.into_raw()));
    }

    #[test]
    fn touching_digits_are_scaled_to_fit_and_centred() {
        // A "7"-like hook (a bar 16 wide over a stroke 33 high), three times
        // larger, dark on grey paper, with wide margins.
        let touching = GrayImage::from_fn(FIELD_WIDTH, FIELD_HEIGHT, |x, y| {
            let ink =
                (10..18).contains(&x) && (5..38).contains(&y) || (6..22).contains(&x) && y == 5;
            Luma([if ink { 220 } else { 0 }])
        });
        let large = imageops::resize(&touching, 84, 126, FilterType::Nearest);
        let mut photo = GrayImage::from_pixel(400, 300, Luma([190]));
        for (x, y, p) in large.enumerate_pixels() {
            photo.put_pixel(150 + x, 90 + y, Luma([190 - p[0] / 4 * 3]));
        }
        let out = two_digit_style(&photo).expect("ink");
        let field = GrayImage::from_raw(FIELD_WIDTH, FIELD_HEIGHT, out).expect("42x28");
        let crop = crop_to_ink(&field).expect("ink");
        assert_eq!(crop.height(), INK_HEIGHT);
        let first_row = (0..FIELD_HEIGHT)
            .find(|&y| (0..FIELD_WIDTH).any(|x| field.get_pixel(x, y)[0] > INK))
            .expect("ink");
        assert_eq!(first_row, (FIELD_HEIGHT - INK_HEIGHT) / 2);
        // The paper is black.
        assert_eq!(field.get_pixel(0, 0)[0], 0);
    }

    #[test]
    fn digits_apart_are_each_made_mnist_like_and_composed() {
        // A "7" and a "1", each on its own, then one above the other with a
        // blank band between them, in a larger picture.
        let seven = GrayImage::from_fn(60, 80, |x, y| {
            let bar = y < 10;
            let stroke = (x as i64 - (60 - y as i64 * 5 / 8)).abs() < 5;
            Luma([if bar || stroke { 255 } else { 0 }])
        });
        let one = GrayImage::from_fn(30, 80, |x, _| {
            Luma([if (8..22).contains(&x) { 255 } else { 0 }])
        });
        let mut picture = GrayImage::new(200, 300);
        imageops::overlay(&mut picture, &seven, 70, 40);
        imageops::overlay(&mut picture, &one, 90, 150);

        let mut expected = vec![0; HEIGHT * WIDTH];
        compose_pair(
            &mnist_style(&seven).expect("ink"),
            &mnist_style(&one).expect("ink"),
            &mut expected,
        );
        assert_eq!(two_digit_style(&picture), Some(expected));
    }

    #[test]
    fn a_blank_picture_has_no_digits() {
        assert_eq!(two_digit_style(&GrayImage::new(28, 42)), None);
        assert_eq!(
            two_digit_style(&GrayImage::from_pixel(300, 200, Luma([180]))),
            None
        );
    }
}
