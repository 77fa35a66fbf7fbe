//! Instructor-only graded tests of Part 3 (`tests/hidden.rs` is left out of
//! the learner edition; the Gradescope bundle carries it).

use mnist_train::burn::backend::{Autodiff, Flex};
use mnist_train::burn::prelude::*;
use mnist_train::burn::tensor::Distribution;
use mnist_train::models::{Cnn, CnnConfig, ConvMethod};

type B = Autodiff<Flex>;

mod cnn {
    use super::*;

    /// `x` moved `by` pixels towards the start of dimension `dim` (2: up,
    /// 3: left), zeros coming in at the other end.
    fn shifted(x: Tensor<B, 4>, dim: usize, by: usize) -> Tensor<B, 4> {
        let mut dims = x.dims();
        let side = dims[dim];
        dims[dim] = by;
        let zeros = Tensor::zeros(dims, &x.device());
        Tensor::cat(vec![x.narrow(dim, by, side - by), zeros], dim)
    }

    #[test]
    fn moving_the_image_four_pixels_moves_the_features_one_cell() {
        let _graded = graded_test::start();
        let device = Default::default();
        let config = CnnConfig::new().with_dropout(0.0);
        let mut model: Cnn<B> = config.clone().with_conv(ConvMethod::Layers).init(&device);
        model.conv = ConvMethod::Layers;
        let x = Tensor::<B, 4>::random([2, 1, 28, 28], Distribution::Uniform(0.0, 1.0), &device);
        let grid = |images: Tensor<B, 4>| model.features(images).reshape([2, 64, 5, 5]);
        let original = grid(x.clone());
        // Each 2×2 pooling halves a shift: 4 pixels are one cell after two
        // blocks. Cells 0–3 of the moved image see what cells 1–4 saw.
        for (dim, direction) in [(2, "up"), (3, "left")] {
            let moved = grid(shifted(x.clone(), dim, 4));
            let difference: f32 = (moved.narrow(dim, 0, 4) - original.clone().narrow(dim, 1, 4))
                .abs()
                .max()
                .into_scalar();
            assert!(
                difference < 1e-5,
                "p3.cnn: moving the image 4 pixels {direction} must move its features one cell \
                 {direction} (two blocks of 3×3 convolution, ReLU and 2×2 max-pooling, flattened \
                 in channel, row, column order)"
            );
        }
    }
}
