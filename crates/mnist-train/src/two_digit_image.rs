//! Pictures of two digits, one above the other, made to look like part 4's
//! composed images (42×28: the first digit on rows 0–27, the second on rows
//! 14–41): greyscale, ink bright on a dark background. A 42×28 picture is
//! taken as it is; any other (a photo or a drawing of two stacked digits,
//! usually larger and with margins) loses its paper's shade, is cropped to
//! its ink, scaled keeping its aspect ratio to fit the box two composed
//! MNIST digits fill, and centred.

use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use mnist_data::two_digit::{HEIGHT, WIDTH};

use crate::image_input::{crop_to_ink, ink_bright};

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
    let crop = crop_to_ink(&without_paper_shade(&gray))?;
    let (w, h) = crop.dimensions();
    let scale = (INK_WIDTH as f32 / w as f32).min(INK_HEIGHT as f32 / h as f32);
    let (sw, sh) = (
        ((w as f32 * scale).round() as u32).clamp(1, INK_WIDTH),
        ((h as f32 * scale).round() as u32).clamp(1, INK_HEIGHT),
    );
    let digits = imageops::resize(&crop, sw, sh, FilterType::Triangle);
    let mut field = GrayImage::from_pixel(FIELD_WIDTH, FIELD_HEIGHT, Luma([0]));
    let left = i64::from((FIELD_WIDTH - sw) / 2);
    let top = i64::from((FIELD_HEIGHT - sh) / 2);
    imageops::overlay(&mut field, &digits, left, top);
    Some(field.into_raw())
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
    fn a_larger_picture_is_cropped_scaled_and_centred_keeping_its_layout() {
        // The bars three times larger, dark on grey paper, with wide margins.
        let large = imageops::resize(&two_bars(), 84, 126, FilterType::Nearest);
        let mut photo = GrayImage::from_pixel(400, 300, Luma([190]));
        for (x, y, p) in large.enumerate_pixels() {
            photo.put_pixel(150 + x, 90 + y, Luma([190 - p[0] / 4 * 3]));
        }
        let out = two_digit_style(&photo).expect("ink");
        let field = GrayImage::from_raw(FIELD_WIDTH, FIELD_HEIGHT, out).expect("42x28");
        let crop = crop_to_ink(&field).expect("ink");
        // The ink fills the box's height, centred, and the gap between the
        // bars is still there.
        assert_eq!(crop.height(), INK_HEIGHT);
        let rows_with_ink: Vec<bool> = (0..FIELD_HEIGHT)
            .map(|y| (0..FIELD_WIDTH).any(|x| field.get_pixel(x, y)[0] > 32))
            .collect();
        let first = rows_with_ink.iter().position(|&r| r).expect("ink");
        assert_eq!(first, ((FIELD_HEIGHT - INK_HEIGHT) / 2) as usize);
        assert!(!rows_with_ink[first + INK_HEIGHT as usize / 2]);
        // The paper is black.
        assert_eq!(field.get_pixel(0, 0)[0], 0);
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
