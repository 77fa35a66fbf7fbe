use super::*;

fn images(batch: usize, config: &CnnConfig) -> Tensor<B, 4> {
    let device = Default::default();
    Tensor::random(
        [batch, 1, config.height, config.width],
        Distribution::Uniform(0.0, 1.0),
        &device,
    )
}

/// Your network (Burn's layers), and the same weights computed by the
/// project's fused conv blocks.
fn yours_and_fused(config: &CnnConfig) -> (Cnn<B>, Cnn<B>) {
    let device = Default::default();
    let mut yours: Cnn<B> = config.clone().with_conv(ConvMethod::Layers).init(&device);
    // Your layers whatever `init` chose (`has_the_course_layers` checks it).
    yours.conv = ConvMethod::Layers;
    // Burn initialises parameters on first use: use them before copying.
    let _ = yours.conv_features(images(1, config));
    let mut fused = config
        .clone()
        .with_conv(ConvMethod::Fused)
        .init::<B>(&device)
        .load_record(yours.clone().into_record());
    fused.conv = ConvMethod::Fused;
    (yours, fused)
}

#[test]
fn has_the_course_layers() {
    let _graded = graded_test::start();
    for config in [
        CnnConfig::new(),
        CnnConfig::new().with_height(42).with_heads(2),
    ] {
        let (yours, _) = yours_and_fused(&config);
        let x = images(3, &config);
        assert_eq!(
            yours.conv_features(x.clone()).dims(),
            [3, config.flatten_width()],
            "features() of {}×{} images",
            config.height,
            config.width
        );
        assert_eq!(
            yours.last_hidden(x).dims(),
            [3, 128],
            "the hidden layer has 128 units"
        );
        assert_eq!(yours.heads.len(), config.heads, "one head per digit");
        let convolutions = (9 + 1) * 32 + (32 * 9 + 1) * 64;
        let dense = (config.flatten_width() + 1) * 128 + config.heads * (128 + 1) * 10;
        assert!(
            yours.num_params() == convolutions + dense,
            "the parameter count is not the course CNN's: two 3×3 convolutions (32 then 64 \
             channels, with biases), a 128-unit linear layer, heads of 10"
        );
    }
}

#[test]
fn builds_what_the_configuration_says() {
    let _graded = graded_test::start();
    let device = Default::default();
    for method in [ConvMethod::Layers, ConvMethod::Fused] {
        let model: Cnn<B> = CnnConfig::new().with_conv(method).init(&device);
        assert!(
            model.conv == method,
            "init must compute the conv blocks as the configuration's `conv` says"
        );
    }
    for dropout in [0.0, 0.3] {
        let model: Cnn<B> = CnnConfig::new().with_dropout(dropout).init(&device);
        assert!(
            model.dropout.prob == dropout,
            "the dropout layer must drop with the configured probability"
        );
    }
    for heads in [1, 2, 3] {
        let config = CnnConfig::new().with_height(42).with_heads(heads);
        let model: Cnn<B> = config.init(&device);
        let mut ids = param_ids(&model);
        let count = ids.len();
        assert_eq!(
            count,
            2 * (3 + heads),
            "a weight and a bias per layer and head"
        );
        ids.sort();
        ids.dedup();
        assert!(
            ids.len() == count,
            "{heads} heads: two layers share a parameter id; every layer and head must be \
             initialised on its own"
        );
    }
}

#[test]
fn computes_what_the_fused_kernels_compute() {
    let _graded = graded_test::start();
    let device = Default::default();
    B::seed(&device, 11);
    for (batch, config) in [
        (1, CnnConfig::new()),
        (5, CnnConfig::new()),
        (4, CnnConfig::new().with_height(42).with_heads(2)),
    ] {
        let config = config.with_dropout(0.0);
        let (yours, fused) = yours_and_fused(&config);
        let x = images(batch, &config);
        let difference: f32 = (yours.conv_features(x.clone()) - fused.conv_features(x))
            .abs()
            .max()
            .into_scalar();
        assert!(
            difference < 1e-4,
            "batch of {batch} {}×{} images: your conv blocks differ from conv → ReLU → max-pool \
             computed by the project's kernels",
            config.height,
            config.width
        );
    }
}

#[test]
fn gradients_match_the_fused_kernels() {
    let _graded = graded_test::start();
    let device = Default::default();
    B::seed(&device, 12);
    let config = CnnConfig::new().with_dropout(0.0);
    let (yours, fused) = yours_and_fused(&config);
    let x = images(3, &config);
    let weights =
        Tensor::<B, 2>::random([3, config.flatten_width()], Distribution::Default, &device);
    let grad_of = |model: &Cnn<B>| {
        let objective = (model.conv_features(x.clone()) * weights.clone()).sum();
        let grads = objective.backward();
        model
            .conv1
            .weight
            .grad(&grads)
            .expect("conv1's weight gets a gradient")
    };
    let difference: f32 = (grad_of(&yours) - grad_of(&fused))
        .abs()
        .max()
        .into_scalar();
    assert!(
        difference < 1e-3,
        "the gradient reaching conv1's weights differs from the fused kernels'"
    );
}
