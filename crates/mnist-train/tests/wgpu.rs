//! The wgpu backend, for real: on CI's software Vulkan device (Mesa's
//! lavapipe) or any GPU. Built with `--features test-wgpu` (run_tests.sh does).
#![cfg(feature = "test-wgpu")]
mod common;

use burn::tensor::backend::AutodiffBackend;
use common::{Flex, learn_separable};
use mnist_train::model::MlpConfig;

type Wgpu = burn::backend::Autodiff<burn::backend::Wgpu>;

#[test]
fn wgpu_learns_a_separable_problem() {
    let (first, last, accuracy) = learn_separable::<Wgpu>(&Default::default());
    assert!(last < first / 4.0, "loss {first} -> {last}");
    assert!(accuracy >= 0.99, "accuracy {accuracy}");
}

/// The same few SGD steps from the same weights on flex and on wgpu give the
/// same losses, within float tolerance.
#[test]
fn wgpu_agrees_with_flex() {
    use burn::module::AutodiffModule;
    use burn::optim::{GradientsParams, Optimizer, SgdConfig};
    use burn::prelude::ElementConversion;
    use mnist_train::Classifier;
    use mnist_train::batch::batch;
    use mnist_train::checkpoint::{load_model, save_model};
    use mnist_train::loss::cross_entropy;

    fn losses<B: AutodiffBackend, M>(mut model: M, device: &B::Device) -> Vec<f64>
    where
        M: AutodiffModule<B> + Classifier<B>,
    {
        let set = &common::mnist().train;
        let mut optimizer = SgdConfig::new().init::<B, M>();
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

    // Both start from one saved set of weights (Burn initialises parameters
    // lazily, so a model's weights exist only once it is used or saved).
    let config = MlpConfig::new(vec![32]);
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("start.mpk");
    save_model(&config.init::<Flex>(&Default::default()), &weights).unwrap();
    let flex_model = load_model(
        config.init::<Flex>(&Default::default()),
        &weights,
        &Default::default(),
    )
    .unwrap();
    let wgpu_device = Default::default();
    let wgpu_model = load_model(config.init::<Wgpu>(&wgpu_device), &weights, &wgpu_device).unwrap();

    let on_flex = losses::<Flex, _>(flex_model, &Default::default());
    let on_wgpu = losses::<Wgpu, _>(wgpu_model, &wgpu_device);
    assert!(on_flex[7] < on_flex[0], "loss falls on flex: {on_flex:?}");
    assert!(on_wgpu[7] < on_wgpu[0], "loss falls on wgpu: {on_wgpu:?}");
    for (f, w) in on_flex.iter().zip(&on_wgpu) {
        assert!(
            (f - w).abs() < 1e-3 * f.abs().max(1.0),
            "flex {on_flex:?} vs wgpu {on_wgpu:?}"
        );
    }
}
