//! The wgpu backend, for real: on CI's software Vulkan device (Mesa's
//! lavapipe) or any GPU. Built with `--features test-wgpu` (run_tests.sh does).
#![cfg(feature = "test-wgpu")]
mod common;

use burn::module::Module;
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::prelude::ElementConversion;
use burn::tensor::backend::AutodiffBackend;
use common::{Flex, learn_separable};
use mnist_models::batch::batch;
use mnist_models::loss::cross_entropy;
use mnist_models::models::{Mlp, MlpConfig};
use mnist_train::checkpoint::{load_module, save_module};

type Wgpu = burn::backend::Autodiff<burn::backend::Wgpu>;

#[test]
fn wgpu_learns_a_separable_problem() {
    let (first, last, accuracy) = learn_separable::<Wgpu>(&Default::default());
    assert!(last < first / 4.0, "loss {first} -> {last}");
    assert!(accuracy >= 0.99, "accuracy {accuracy}");
}

/// Losses of 8 SGD steps of `model` on batches of 32 training images.
fn losses<B: AutodiffBackend>(mut model: Mlp<B>, device: &B::Device) -> Vec<f64> {
    let set = &common::mnist().train;
    let mut optimizer = SgdConfig::new().init::<B, Mlp<B>>();
    (0..8)
        .map(|step| {
            let indices: Vec<usize> = (step * 32..(step + 1) * 32).collect();
            let batch = batch::<B>(set, &indices, device);
            let loss = cross_entropy(&model.forward(batch.images), &batch.targets);
            let value = loss.clone().into_scalar().elem::<f64>();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(0.1, model.clone(), grads);
            value
        })
        .collect()
}

/// `on_wgpu` loaded with `on_flex`'s weights (Burn initialises parameters
/// lazily, so a model's weights exist only once it is used or saved).
fn same_weights<M: Module<Flex>, N: Module<Wgpu>>(on_flex: M, on_wgpu: N) -> (M, N) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let weights = dir.path().join("start.mpk");
    save_module(&on_flex, &weights).expect("the weights save");
    (
        load_module(on_flex, &weights, &Default::default()).expect("flex loads them"),
        load_module(on_wgpu, &weights, &Default::default()).expect("wgpu loads them"),
    )
}

fn assert_same_losses(on_flex: &[f64], on_wgpu: &[f64]) {
    assert!(on_flex[7] < on_flex[0], "loss falls on flex: {on_flex:?}");
    assert!(on_wgpu[7] < on_wgpu[0], "loss falls on wgpu: {on_wgpu:?}");
    for (f, w) in on_flex.iter().zip(on_wgpu) {
        assert!(
            (f - w).abs() < 1e-3 * f.abs().max(1.0),
            "flex {on_flex:?} vs wgpu {on_wgpu:?}"
        );
    }
}

/// The same few SGD steps from the same weights on flex and on wgpu give the
/// same losses, within float tolerance. (The CNN's conv blocks in Burn's
/// operations are checked against Burn's layers on ndarray, in
/// `conv_blocks`; a CNN on wgpu costs this binary minutes of build.)
#[test]
fn wgpu_agrees_with_flex() {
    let config = MlpConfig::new(vec![32]);
    let (flex, wgpu) = same_weights(
        config.init::<Flex>(&Default::default()),
        config.init::<Wgpu>(&Default::default()),
    );
    assert_same_losses(
        &losses::<Flex>(flex, &Default::default()),
        &losses::<Wgpu>(wgpu, &Default::default()),
    );
}
