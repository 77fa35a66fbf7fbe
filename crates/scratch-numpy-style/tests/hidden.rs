//! Instructor-only graded tests of Part 1 (the learner edition leaves this
//! file out). They check the same exercises as `tests/exercises.rs`, built
//! differently.

use mnist_data::split::seeded_rng;
use ndarray::{Array2, Axis};
use scratch_numpy_style::init::uniform;
use scratch_numpy_style::{Activation, Gradients, Init, Mlp, Output, Spec, Workspace};

/// Random numbers in [−scale, scale).
fn random(n: usize, scale: f64, seed: u64) -> Vec<f64> {
    let mut rng = seeded_rng(seed);
    (0..n)
        .map(|_| scale * (2.0 * uniform(&mut rng) - 1.0))
        .collect()
}

/// Every gradient, weights then biases, layer by layer.
fn flat(g: &Gradients<f64>) -> Vec<f64> {
    g.weights
        .iter()
        .flatten()
        .chain(g.biases.iter().flatten())
        .copied()
        .collect()
}

mod backpropagation {
    use super::*;

    /// The mean loss of `net` on (x, y), from the forward pass alone.
    fn loss(net: &Mlp<f64>, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
        let mut ws = Workspace::new(net, x.nrows());
        let out = net.forward(&mut ws, x.view()).expect("a forward pass");
        net.output.loss(out, y.view())
    }

    /// `net` moved by `t` along the direction `d` (in the order of `flat`).
    fn moved(net: &Mlp<f64>, d: &[f64], t: f64) -> Mlp<f64> {
        let mut net = net.clone();
        let mut d = d.iter();
        for layer in &mut net.layers {
            layer
                .weights
                .iter_mut()
                .for_each(|w| *w += t * d.next().unwrap_or(&0.0));
        }
        for layer in &mut net.layers {
            layer
                .biases
                .iter_mut()
                .for_each(|b| *b += t * d.next().unwrap_or(&0.0));
        }
        net
    }

    #[test]
    fn batch_gradient_is_the_mean_of_the_samples() {
        let _graded = graded_test::start();
        for (seed, (hidden, output)) in [
            (Activation::Tanh, Output::SoftmaxCrossEntropy),
            (Activation::Sigmoid, Output::LinearMse),
            (Activation::Tanh, Output::SigmoidMse),
        ]
        .into_iter()
        .enumerate()
        {
            let seed = seed as u64;
            let spec = Spec {
                sizes: vec![3, 7, 5, 4, 4],
                hidden,
                output,
                init: Init::Xavier,
            };
            let net: Mlp<f64> = Mlp::new(&spec, &mut seeded_rng(70 + seed)).expect("a valid spec");
            let rows = 6;
            let x = Array2::from_shape_vec((rows, 3), random(rows * 3, 1.5, 80 + seed))
                .expect("a batch");
            let mut y = Array2::zeros((rows, 4));
            for row in 0..rows {
                y[[row, (3 * row + 1) % 4]] = 1.0;
            }
            let mut batch = Workspace::new(&net, rows);
            net.loss_and_gradients(&mut batch, x.view(), y.view())
                .expect("the batch's gradients");
            let g = flat(&batch.grads);

            // The loss is a mean over the samples, so is its gradient: one
            // sample at a time, on one reused workspace.
            let mut single = Workspace::new(&net, 1);
            let mut mean = vec![0.0; g.len()];
            for row in 0..rows {
                let xs = x.select(Axis(0), &[row]);
                let ys = y.select(Axis(0), &[row]);
                net.loss_and_gradients(&mut single, xs.view(), ys.view())
                    .expect("one sample's gradients");
                for (m, s) in mean.iter_mut().zip(flat(&single.grads)) {
                    *m += s / rows as f64;
                }
            }
            let scale = g.iter().map(|v| v * v).sum::<f64>().sqrt();
            let apart = g
                .iter()
                .zip(&mean)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>();
            assert!(
                apart.sqrt() < 1e-9 * (1.0 + scale),
                "p1.backpropagation ({hidden} / {output}): the gradient of a batch is not the mean \
                 of its samples' gradients"
            );

            // Along random directions, the slope of the loss is g · d.
            for k in 0..3 {
                let d = random(g.len(), 1.0, 90 + 10 * seed + k);
                let h = 1e-5;
                let slope = (loss(&moved(&net, &d, h), &x, &y)
                    - loss(&moved(&net, &d, -h), &x, &y))
                    / (2.0 * h);
                let along: f64 = g.iter().zip(&d).map(|(a, b)| a * b).sum();
                assert!(
                    (slope - along).abs() < 1e-6 * (1.0 + slope.abs()),
                    "p1.backpropagation ({hidden} / {output}): the gradient does not give the \
                     loss's slope along a random direction of all parameters together"
                );
            }
        }
    }
}
