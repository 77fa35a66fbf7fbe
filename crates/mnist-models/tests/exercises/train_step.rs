use super::*;
use mnist_data::split::shuffle;
use mnist_models::OptimizerConfig;
use mnist_models::batch::batch;
use mnist_models::evaluate::evaluate;
use mnist_models::loss::cross_entropy;
use mnist_models::optimizer::ModelOptimizer;
use mnist_models::step::train_step;

fn loss_on(model: &Model<B>, set: &Dataset, indices: &[usize]) -> f32 {
    let b = batch::<B>(set, indices, &Default::default());
    cross_entropy(&model.forward(b.images), &b.targets).into_scalar()
}

#[test]
fn returns_the_batch_loss_and_lowers_it() {
    let _graded = graded_test::start();
    let device = Default::default();
    B::seed(&device, 3);
    let set = mnist().train.take(64);
    let indices: Vec<usize> = (0..64).collect();
    let model: Model<B> = MlpConfig::new(vec![32]).init::<B>(&device).into();
    let before = loss_on(&model, &set, &indices);
    let mut optimizer = ModelOptimizer::<B>::new(&OptimizerConfig::sgd(0.05, 0.0, false));
    let step = train_step(
        model,
        &mut optimizer,
        batch::<B>(&set, &indices, &device),
        0.05,
    );
    let reported: f32 = step.loss.into_scalar();
    assert!(
        (reported - before).abs() < 1e-4 * before.abs().max(1.0),
        "the step should return the batch's cross-entropy before the update"
    );
    assert_eq!(
        step.logits.len(),
        1,
        "the step returns the logits of every head"
    );
    let after = loss_on(&step.model, &set, &indices);
    assert!(
        after < before,
        "one step of gradient descent should lower the batch's loss"
    );
}

#[test]
fn moves_each_parameter_by_the_learning_rate_times_its_gradient() {
    let _graded = graded_test::start();
    let device = Default::default();
    B::seed(&device, 7);
    let set = mnist().train.take(48);
    let indices: Vec<usize> = (0..48).collect();
    let model: Model<B> = MlpConfig::new(vec![16, 12]).init::<B>(&device).into();
    let Model::Mlp(mlp) = &model else {
        unreachable!("an MLP was built")
    };
    // ∂L/∂θ of the batch's cross-entropy, with the model as it is.
    let b = batch::<B>(&set, &indices, &device);
    let grads = cross_entropy(&model.forward(b.images), &b.targets).backward();
    let learning_rate = 0.05;
    // The optimiser is made with another rate: the step's argument counts.
    let mut optimizer = ModelOptimizer::<B>::new(&OptimizerConfig::sgd(0.7, 0.0, false));
    let stepped = train_step(
        model.clone(),
        &mut optimizer,
        batch::<B>(&set, &indices, &device),
        learning_rate,
    )
    .model;
    let Model::Mlp(new) = &stepped else {
        unreachable!("the step keeps the model's kind")
    };
    let pairs = [
        (&mlp.hidden[0].weight, &new.hidden[0].weight),
        (&mlp.hidden[1].weight, &new.hidden[1].weight),
        (&mlp.heads[0].weight, &new.heads[0].weight),
    ];
    for (layer, (old, new)) in pairs.into_iter().enumerate() {
        let grad = old.grad(&grads).expect("every weight gets a gradient");
        let moved = old.val().inner() - new.val().inner();
        let error: f32 = (moved - grad.clone() * learning_rate)
            .abs()
            .max()
            .into_scalar();
        let scale: f32 = grad.abs().max().into_scalar();
        assert!(
            error <= 1e-4 * scale * learning_rate as f32 + 1e-7,
            "weight {layer}: plain SGD (no momentum) must move every parameter by minus the \
             learning rate times the batch loss's gradient"
        );
    }
    let bias_moved = max_difference(
        mlp.hidden[0].bias.as_ref().expect("biases").val(),
        new.hidden[0].bias.as_ref().expect("biases").val(),
    );
    assert!(bias_moved > 0.0, "the step must move the biases too");
}

#[test]
fn follows_the_learning_rate() {
    let _graded = graded_test::start();
    let device = Default::default();
    let set = mnist().train.take(32);
    let indices: Vec<usize> = (0..32).collect();
    B::seed(&device, 4);
    let model: Model<B> = MlpConfig::new(vec![16]).init::<B>(&device).into();
    let x = images(3, 28, 28);
    let _ = model.forward(x.clone());
    let change = |lr: f64| {
        let mut optimizer = ModelOptimizer::<B>::new(&OptimizerConfig::sgd(0.1, 0.0, false));
        let stepped = train_step(
            model.clone(),
            &mut optimizer,
            batch::<B>(&set, &indices, &device),
            lr,
        )
        .model;
        let (a, b) = (model.forward(x.clone()), stepped.forward(x.clone()));
        max_difference(a[0].clone(), b[0].clone())
    };
    assert!(
        change(0.0) == 0.0,
        "a learning rate of 0 must leave the model as it was"
    );
    let (small, large) = (change(1e-3), change(1e-2));
    assert!(small > 0.0, "a step must change the parameters");
    assert!(
        large > 3.0 * small,
        "a step ten times larger should move the outputs further"
    );
}

#[test]
fn trains_an_mlp_to_85_percent_on_3000_images() {
    let _graded = graded_test::start();
    let device = Default::default();
    B::seed(&device, 5);
    let m = mnist();
    let (train_set, validation) = (m.train.take(3_000), m.test.take(1_000));
    let mut model: Model<B> = MlpConfig::new(vec![64]).init::<B>(&device).into();
    let mut optimizer = ModelOptimizer::<B>::new(&OptimizerConfig::sgd(0.1, 0.9, false));
    // Four epochs of batches of 32, each in a fresh shuffled order.
    let mut rng = seeded_rng(5);
    for _epoch in 0..4 {
        let mut order: Vec<usize> = (0..train_set.len()).collect();
        shuffle(&mut order, &mut rng);
        for indices in order.chunks_exact(32) {
            let step = train_step(
                model,
                &mut optimizer,
                batch::<B>(&train_set, indices, &device),
                0.1,
            );
            model = step.model;
        }
    }
    let accuracy = evaluate(&model.valid(), &validation, &device).accuracy[0];
    assert!(
        accuracy >= 0.85,
        "after 4 epochs on 3,000 images the MLP should reach 85 % ({:.1} %)",
        100.0 * accuracy
    );
}
