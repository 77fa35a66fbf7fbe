//! Writes the sample pictures in `datasets/two-digit-samples/`: the first
//! six images of the composed test set (what `mnist-data compose` writes
//! with its default seed, 1) as 42×28 JPEGs, and prints their labels.
//!
//! ```sh
//! cargo run -p two-digit --example two_digit_samples            # datasets/two-digit-samples
//! cargo run -p two-digit --example two_digit_samples -- /tmp/s  # elsewhere
//! ```

use std::path::PathBuf;

use anyhow::Context;
use image::GrayImage;
use image::codecs::jpeg::JpegEncoder;
use mnist_data::{Mnist, two_digit as composer};

/// How many pictures, and their JPEG quality.
const SAMPLES: usize = 6;
const QUALITY: u8 = 90;

fn main() -> anyhow::Result<()> {
    let out = match std::env::args_os().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => mnist_data::mnist::workspace_root().join("datasets/two-digit-samples"),
    };
    std::fs::create_dir_all(&out).with_context(|| out.display().to_string())?;
    let mnist = Mnist::load_default()?;
    let test = composer::course_sets(&mnist, two_digit::DATA_SEED).1;
    for i in 0..SAMPLES {
        let pixels = test.images.image(i).to_vec();
        let picture = GrayImage::from_raw(composer::WIDTH as u32, composer::HEIGHT as u32, pixels)
            .context("a 42x28 image")?;
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, QUALITY).encode_image(&picture)?;
        let file = out.join(format!("sample-{}.jpg", i + 1));
        mnist_data::files::write_bytes_atomically(&file, &jpeg)?;
        let [first, second] = test.labels.of(i) else {
            anyhow::bail!("two labels per image");
        };
        println!("{}: {first} {second}", file.display());
    }
    Ok(())
}
