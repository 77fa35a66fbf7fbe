//! Batches straight from the u8 data: one pass over the chosen images into a
//! flat f32 buffer, one tensor per batch. No per-sample tensors, so the
//! run's speed is Burn's kernels, not data handling.

use burn::prelude::*;
use mnist_data::{Dataset, Images};

pub struct Batch<B: Backend> {
    /// `[batch, 1, height, width]`, pixels in [0, 1].
    pub images: Tensor<B, 4>,
    /// One `[batch]` tensor of labels per head.
    pub targets: Vec<Tensor<B, 1, Int>>,
}

/// The images at `indices` as one `[n, 1, height, width]` tensor.
pub fn images_tensor<B: Backend>(
    images: &Images,
    indices: impl ExactSizeIterator<Item = usize>,
    device: &B::Device,
) -> Tensor<B, 4> {
    let n = indices.len();
    let mut pixels = Vec::with_capacity(n * images.image_len());
    for i in indices {
        pixels.extend(images.image(i).iter().map(|&p| f32::from(p) / 255.0));
    }
    Tensor::from_data(
        TensorData::new(pixels, [n, 1, images.height, images.width]),
        device,
    )
}

/// The samples at `indices`, with their labels.
pub fn batch<B: Backend>(set: &Dataset, indices: &[usize], device: &B::Device) -> Batch<B> {
    let targets = (0..set.labels.heads)
        .map(|head| {
            let labels: Vec<i64> = indices
                .iter()
                .map(|&i| i64::from(set.labels.of(i)[head]))
                .collect();
            Tensor::from_data(TensorData::new(labels, [indices.len()]), device)
        })
        .collect();
    Batch {
        images: images_tensor(&set.images, indices.iter().copied(), device),
        targets,
    }
}
