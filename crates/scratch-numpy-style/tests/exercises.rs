//! Graded tests of Part 1's exercises (`cargo run -p coursework -- grade
//! --part 1`). Derivatives are checked against finite differences of your
//! own functions, the rest by the properties the maths promises.

use mnist_data::split::seeded_rng;
use ndarray::{Array1, Array2};
use scratch_numpy_style::init::{normal, uniform};
use scratch_numpy_style::{Activation, Init, Output};

/// Random numbers in [−scale, scale).
fn random(n: usize, scale: f64, seed: u64) -> Vec<f64> {
    let mut rng = seeded_rng(seed);
    (0..n)
        .map(|_| scale * (2.0 * uniform(&mut rng) - 1.0))
        .collect()
}

/// f'(z) by central differences of f.
fn numeric_slope(f: Activation, z: f64) -> f64 {
    let h = 1e-6;
    (f.apply(z + h) - f.apply(z - h)) / (2.0 * h)
}

/// f'(z) as the network computes it, from a = f(z), against the differences
/// (away from kinks at 0).
fn check_slope(f: Activation) {
    for z in random(200, 4.0, 3) {
        if z.abs() < 1e-3 {
            continue;
        }
        let slope = f.derivative_from_output(f.apply(z));
        assert!(
            (slope - numeric_slope(f, z)).abs() < 1e-5,
            "{f}: derivative_from_output(f(z)) is not f'(z) (checked by finite differences)"
        );
    }
}

mod relu {
    use super::*;

    #[test]
    fn keeps_positives_and_zeroes_negatives() {
        let _graded = graded_test::start();
        for z in random(200, 10.0, 1) {
            let a = Activation::Relu.apply(z);
            assert!(a >= 0.0, "ReLU is never negative");
            assert!(
                if z > 0.0 { a == z } else { a == 0.0 },
                "ReLU passes positive inputs unchanged and zeroes the rest"
            );
        }
    }

    #[test]
    fn slope_matches_finite_differences() {
        let _graded = graded_test::start();
        check_slope(Activation::Relu);
    }
}

mod activations {
    use super::*;
    use scratch_numpy_style::activation::sigmoid;

    #[test]
    fn sigmoid_is_a_symmetric_squashing_function() {
        let _graded = graded_test::start();
        for z in random(200, 30.0, 2) {
            let s: f64 = sigmoid(z);
            assert!(s > 0.0 && s < 1.0 || z.abs() > 30.0, "σ(z) lies in (0, 1)");
            assert!((sigmoid(-z) + s - 1.0).abs() < 1e-12, "σ(−z) = 1 − σ(z)");
        }
        assert!((sigmoid(0.0f64) - 0.5).abs() < 1e-15, "σ(0) is one half");
        for z in [-1000.0f64, 1000.0] {
            assert!(sigmoid(z).is_finite(), "σ(±1000) must not overflow");
        }
        assert!(
            Activation::Sigmoid.apply(1.5f64) == sigmoid(1.5),
            "Activation::Sigmoid applies sigmoid"
        );
    }

    #[test]
    fn tanh_and_leaky_relu_behave() {
        let _graded = graded_test::start();
        for z in random(200, 5.0, 4) {
            let t = Activation::Tanh.apply(z);
            assert!(
                t.abs() < 1.0 && (Activation::Tanh.apply(-z) + t).abs() < 1e-12,
                "tanh is odd and in (−1, 1)"
            );
            let l = Activation::LeakyRelu.apply(z);
            assert!(
                if z > 0.0 { l == z } else { l <= 0.0 && l > z },
                "leaky ReLU passes positives and shrinks negatives"
            );
        }
        for z in [-1000.0f64, -400.0, 400.0, 1000.0] {
            let t = Activation::Tanh.apply(z);
            assert!(
                t.is_finite() && (t - z.signum()).abs() < 1e-12,
                "tanh saturates at ±1 for large |z| and must not overflow"
            );
        }
    }

    #[test]
    fn slopes_match_finite_differences() {
        let _graded = graded_test::start();
        for f in [Activation::Sigmoid, Activation::Tanh, Activation::LeakyRelu] {
            check_slope(f);
        }
    }
}

mod softmax {
    use super::*;
    use scratch_numpy_style::loss::softmax_in_place;

    fn softmax(z: &[f64]) -> Vec<f64> {
        let mut v = Array1::from(z.to_vec());
        softmax_in_place(v.view_mut());
        v.to_vec()
    }

    #[test]
    fn gives_probabilities_in_the_order_of_the_logits() {
        let _graded = graded_test::start();
        for seed in 0..20 {
            let z = random(10, 8.0, seed);
            let p = softmax(&z);
            assert!(
                (p.iter().sum::<f64>() - 1.0).abs() < 1e-12,
                "softmax sums to 1"
            );
            assert!(p.iter().all(|&x| x > 0.0), "every probability is positive");
            for i in 0..10 {
                for j in 0..10 {
                    if z[i] > z[j] {
                        assert!(p[i] > p[j], "a larger logit gets a larger probability");
                    }
                }
            }
            let ratio = (p[0] / p[1]).ln();
            assert!(
                (ratio - (z[0] - z[1])).abs() < 1e-9,
                "ln(pᵢ / pⱼ) = zᵢ − zⱼ"
            );
        }
    }

    #[test]
    fn survives_large_logits_and_ignores_a_shift() {
        let _graded = graded_test::start();
        let z = random(10, 3.0, 7);
        let shifted: Vec<f64> = z.iter().map(|v| v + 1000.0).collect();
        let (p, q) = (softmax(&z), softmax(&shifted));
        assert!(
            q.iter().all(|v| v.is_finite()),
            "softmax of logits near 1000 must not overflow"
        );
        assert!(
            p.iter().zip(&q).all(|(a, b)| (a - b).abs() < 1e-12),
            "adding a constant to every logit changes nothing"
        );
        let lowered: Vec<f64> = z.iter().map(|v| v - 1000.0).collect();
        let r = softmax(&lowered);
        assert!(
            r.iter().all(|v| v.is_finite()),
            "softmax of logits near −1000 must not underflow to 0 / 0"
        );
        assert!(
            p.iter().zip(&r).all(|(a, b)| (a - b).abs() < 1e-12),
            "subtracting a constant from every logit changes nothing"
        );
        let wide = [-900.0, 0.0, 900.0, 899.0, -5.0];
        let w = softmax(&wide);
        assert!(
            w.iter().all(|v| v.is_finite() && *v >= 0.0)
                && (w.iter().sum::<f64>() - 1.0).abs() < 1e-12,
            "softmax of logits spread from −900 to 900 must not overflow and still sums to 1"
        );
        assert!(
            ((w[2] / w[3]).ln() - 1.0).abs() < 1e-9,
            "ln(pᵢ / pⱼ) = zᵢ − zⱼ, also for logits spread from −900 to 900"
        );
    }

    #[test]
    fn cross_entropy_gradient_is_its_slope() {
        let _graded = graded_test::start();
        // δ = ∂L/∂z of softmax + cross-entropy, against differences of L(softmax(z)).
        let out = Output::SoftmaxCrossEntropy;
        let z = Array2::from_shape_vec((3, 4), random(12, 2.0, 9)).expect("3×4");
        let mut y = Array2::zeros((3, 4));
        for (row, label) in [2, 0, 3].into_iter().enumerate() {
            y[[row, label]] = 1.0;
        }
        let loss = |z: &Array2<f64>| {
            let mut a = z.clone();
            out.activate_in_place(a.view_mut());
            out.loss(a.view(), y.view())
        };
        let mut a = z.clone();
        out.activate_in_place(a.view_mut());
        let mut delta = Array2::zeros((3, 4));
        out.delta(a.view(), y.view(), delta.view_mut());
        for i in 0..3 {
            for j in 0..4 {
                let (mut up, mut down) = (z.clone(), z.clone());
                up[[i, j]] += 1e-6;
                down[[i, j]] -= 1e-6;
                let numeric = (loss(&up) - loss(&down)) / 2e-6;
                assert!(
                    (numeric - delta[[i, j]]).abs() < 1e-6,
                    "softmax + cross-entropy's δ is not ∂L/∂z"
                );
            }
        }
    }
}

mod backpropagation {
    use super::*;
    use scratch_numpy_style::gradcheck::{check, compare, numeric_gradients};
    use scratch_numpy_style::{Mlp, Spec, Workspace};

    #[test]
    fn gradients_match_finite_differences() {
        let _graded = graded_test::start();
        for (seed, (hidden, output)) in [
            (Activation::Sigmoid, Output::SoftmaxCrossEntropy),
            (Activation::Tanh, Output::SigmoidMse),
            (Activation::Sigmoid, Output::LinearMse),
        ]
        .into_iter()
        .enumerate()
        {
            let spec = Spec {
                sizes: vec![5, 4, 3, 3],
                hidden,
                output,
                init: Init::Xavier,
            };
            let mut net: Mlp<f64> =
                Mlp::new(&spec, &mut seeded_rng(seed as u64)).expect("a valid spec");
            let x = Array2::from_shape_vec((6, 5), random(30, 1.0, 20 + seed as u64)).expect("6×5");
            let mut y = Array2::zeros((6, 3));
            for row in 0..6 {
                y[[row, row % 3]] = 1.0;
            }
            let result = check(&mut net, x.view(), y.view()).expect("gradients computed");
            assert!(
                result.relative_error < 1e-5,
                "{hidden} / {output}: backpropagation's gradients differ from finite differences"
            );
        }
    }

    /// One-hot targets, cycling through the classes from `first`.
    fn one_hot(rows: usize, classes: usize, first: usize) -> Array2<f64> {
        let mut y = Array2::zeros((rows, classes));
        for row in 0..rows {
            y[[row, (row + first) % classes]] = 1.0;
        }
        y
    }

    #[test]
    fn a_reused_workspace_gives_fresh_gradients() {
        let _graded = graded_test::start();
        for (seed, (hidden, output)) in [
            (Activation::Tanh, Output::SoftmaxCrossEntropy),
            (Activation::Sigmoid, Output::SigmoidMse),
            (Activation::LeakyRelu, Output::LinearMse),
        ]
        .into_iter()
        .enumerate()
        {
            let seed = seed as u64;
            let spec = Spec {
                sizes: vec![4, 6, 5, 4, 3],
                hidden,
                output,
                init: Init::Xavier,
            };
            let mut net: Mlp<f64> =
                Mlp::new(&spec, &mut seeded_rng(40 + seed)).expect("a valid spec");
            let batch = |s: u64| Array2::from_shape_vec((5, 4), random(20, 2.0, s)).expect("5×4");
            let (first_x, first_y) = (batch(50 + seed), one_hot(5, 3, 1));
            let (x, y) = (batch(60 + seed), one_hot(5, 3, 0));
            let mut ws = Workspace::new(&net, 5);
            net.loss_and_gradients(&mut ws, first_x.view(), first_y.view())
                .expect("a first batch");
            let loss = net
                .loss_and_gradients(&mut ws, x.view(), y.view())
                .expect("a second batch");
            let numeric = numeric_gradients(&mut net, x.view(), y.view()).expect("differences");
            assert!(
                compare(&numeric, &ws.grads).relative_error < 1e-5,
                "{hidden} / {output}, 4 layers: after a first batch, the gradients of a second \
                 batch on the same workspace differ from finite differences"
            );
            let mut fresh = Workspace::new(&net, 5);
            let out = net.forward(&mut fresh, x.view()).expect("a forward pass");
            assert!(
                (loss - output.loss(out, y.view())).abs() < 1e-12,
                "{hidden} / {output}: the returned loss is not the output's loss of this batch"
            );
        }
    }
}

mod sgd_clip {
    use super::*;
    use scratch_numpy_style::{Gradients, Mlp, Spec};

    fn net() -> Mlp<f64> {
        let spec = Spec {
            sizes: vec![3, 4, 2],
            hidden: Activation::Tanh,
            output: Output::LinearMse,
            init: Init::Xavier,
        };
        Mlp::new(&spec, &mut seeded_rng(5)).expect("a valid spec")
    }

    fn grads(net: &Mlp<f64>, seed: u64, scale: f64) -> Gradients<f64> {
        let mut g = Gradients::zeros_like(net);
        let mut values = random(100, scale, seed).into_iter();
        for w in &mut g.weights {
            w.mapv_inplace(|_| values.next().unwrap_or(0.5));
        }
        for b in &mut g.biases {
            b.mapv_inplace(|_| values.next().unwrap_or(0.5));
        }
        g
    }

    #[test]
    fn step_moves_against_the_gradient() {
        let _graded = graded_test::start();
        let start = net();
        let g = grads(&start, 1, 1.0);
        let mut one = start.clone();
        one.step(&g, 0.1);
        let mut halves = start.clone();
        halves.step(&g, 0.05);
        halves.step(&g, 0.05);
        for ((a, b), (l, dw)) in one
            .layers
            .iter()
            .zip(&halves.layers)
            .zip(start.layers.iter().zip(&g.weights))
        {
            assert!(
                (&a.weights - &b.weights).iter().all(|d| d.abs() < 1e-12),
                "two half steps equal one step"
            );
            let moved = &a.weights - &l.weights;
            let along: f64 = moved.iter().zip(dw).map(|(m, g)| m * g).sum();
            assert!(along < 0.0, "a step moves the weights against the gradient");
        }
        for ((a, b), (l, db)) in one
            .layers
            .iter()
            .zip(&halves.layers)
            .zip(start.layers.iter().zip(&g.biases))
        {
            assert!(
                (&a.biases - &b.biases).iter().all(|d| d.abs() < 1e-12),
                "two half steps move the biases as far as one step"
            );
            let moved = &a.biases - &l.biases;
            let along: f64 = moved.iter().zip(db).map(|(m, g)| m * g).sum();
            assert!(
                along < 0.0,
                "a step moves the biases against their gradient"
            );
        }
        let mut zero = start.clone();
        zero.step(&Gradients::zeros_like(&start), 0.1);
        assert!(zero == start, "a zero gradient changes nothing");
    }

    #[test]
    fn clipping_by_norm_keeps_the_direction() {
        let _graded = graded_test::start();
        let n = net();
        let original = grads(&n, 2, 3.0);
        let mut g = original.clone();
        assert!(g.norm() > 1.0);
        assert!(g.clip_norm(1.0), "a gradient longer than max is clipped");
        assert!(
            (g.norm() - 1.0).abs() < 1e-9,
            "after clipping its norm is max"
        );
        let flat = |g: &Gradients<f64>| -> Vec<f64> {
            g.weights
                .iter()
                .flatten()
                .chain(g.biases.iter().flatten())
                .copied()
                .collect()
        };
        let dot: f64 = flat(&g)
            .iter()
            .zip(flat(&original))
            .map(|(a, b)| a * b)
            .sum();
        assert!(
            (dot / original.norm() - 1.0).abs() < 1e-9,
            "clipping keeps the direction"
        );
        let mut small = original.clone();
        assert!(
            !small.clip_norm(1e6) && small == original,
            "a short gradient is left alone"
        );
    }

    #[test]
    fn clipping_by_norm_rescales_to_max() {
        let _graded = graded_test::start();
        let n = net();
        let original = grads(&n, 3, 3.0);
        for max in [0.3, 2.5] {
            let mut g = original.clone();
            assert!(g.norm() > max);
            assert!(g.clip_norm(max), "a gradient longer than max is clipped");
            assert!(
                (g.norm() / max - 1.0).abs() < 1e-9,
                "after clipping its norm is max (checked with max = {max})"
            );
        }
        // Norm exactly 5 (3² + 4² = 5²), whatever the order of the sum.
        let mut exact = Gradients::zeros_like(&n);
        exact.weights[0][[0, 0]] = 3.0;
        exact.biases[1][0] = -4.0;
        let before = exact.clone();
        assert!(
            !exact.clip_norm(5.0) && exact == before,
            "a gradient whose norm equals max is left alone (clipping is for norms above max)"
        );
    }
}

mod he_init {
    use super::*;

    #[test]
    fn has_mean_zero_and_variance_two_over_fan_in() {
        let _graded = graded_test::start();
        for (n_in, n_out, seed) in [(400, 300, 1), (50, 2000, 2)] {
            let w: Array2<f64> = Init::He.weights(n_in, n_out, &mut seeded_rng(seed));
            assert_eq!(w.dim(), (n_in, n_out), "an n_in × n_out matrix");
            let n = w.len() as f64;
            let mean = w.sum() / n;
            let variance = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            let target = 2.0 / n_in as f64;
            assert!(
                mean.abs() < 0.01 * target.sqrt() * 5.0,
                "He weights have mean 0"
            );
            assert!(
                (variance / target - 1.0).abs() < 0.03,
                "He weights have variance 2 / n_in"
            );
        }
        let (a, b): (Array2<f64>, Array2<f64>) = (
            Init::He.weights(10, 10, &mut seeded_rng(1)),
            Init::He.weights(10, 10, &mut seeded_rng(2)),
        );
        assert!(a != b, "different seeds give different weights");
        let _ = normal(&mut seeded_rng(0));
    }
}

/// A toy network with the 13 parameters `p`, in the order W¹ by rows, b¹,
/// v, c, and the course's learning rate.
fn toy_network(p: &[f64]) -> scratch_numpy_style::toy::ToyNetwork {
    scratch_numpy_style::toy::ToyNetwork {
        input_to_hidden: [[p[0], p[1]], [p[2], p[3]], [p[4], p[5]]],
        hidden_biases: [p[6], p[7], p[8]],
        hidden_to_output: [p[9], p[10], p[11]],
        output_bias: p[12],
        ..Default::default()
    }
}

mod toy_predict {
    use super::*;
    use scratch_numpy_style::toy::ToyNetwork;

    /// A toy network with random parameters in [−1, 1).
    fn random_network(seed: u64) -> ToyNetwork {
        toy_network(&random(13, 1.0, seed))
    }

    #[test]
    fn the_output_layer_is_linear() {
        let _graded = graded_test::start();
        for seed in 0..20 {
            let net = random_network(seed);
            let [x1, x2] = [random(1, 3.0, 100 + seed)[0], random(1, 3.0, 200 + seed)[0]];
            let y = net.predict(x1, x2);
            let mut shifted = net.clone();
            shifted.output_bias += 1.5;
            assert!(
                (shifted.predict(x1, x2) - y - 1.5).abs() < 1e-12,
                "the output bias is added to the output"
            );
            let mut doubled = net.clone();
            doubled.hidden_to_output = net.hidden_to_output.map(|v| 2.0 * v);
            doubled.output_bias *= 2.0;
            assert!(
                (doubled.predict(x1, x2) - 2.0 * y).abs() < 1e-12,
                "doubling the output weights and bias doubles the output (no output activation)"
            );
        }
    }

    #[test]
    fn a_hidden_unit_below_zero_adds_nothing() {
        let _graded = graded_test::start();
        for seed in 0..20 {
            let mut net = random_network(seed);
            let (x1, x2) = (0.5, -0.25);
            for j in 0..3 {
                let mut silent = net.clone();
                silent.hidden_biases[j] = -10.0;
                let before = silent.predict(x1, x2);
                silent.hidden_to_output[j] += 3.0;
                assert!(
                    (silent.predict(x1, x2) - before).abs() < 1e-12,
                    "a unit whose weighted input is negative is switched off by the ReLU"
                );
            }
            // Every unit switched on: the hidden layer passes its input on.
            net.hidden_biases = [10.0; 3];
            let base = net.predict(x1, x2);
            let up = net.predict(x1 + 0.1, x2);
            let more = net.predict(x1 + 0.2, x2);
            assert!(
                ((more - up) - (up - base)).abs() < 1e-9 && (up - base).abs() > 1e-6,
                "with every unit switched on, the output moves linearly with the inputs"
            );
        }
    }

    #[test]
    fn each_input_reaches_the_units_through_its_own_weights() {
        let _graded = graded_test::start();
        for seed in 0..20 {
            let mut net = random_network(seed);
            net.hidden_biases = [10.0; 3];
            for (input, (x1, x2)) in [(0, (0.0, 1.0)), (1, (1.0, 0.0))] {
                let before = net.predict(x1, x2);
                let mut changed = net.clone();
                for row in &mut changed.input_to_hidden {
                    row[input] += 0.5;
                }
                assert!(
                    (changed.predict(x1, x2) - before).abs() < 1e-12,
                    "input_to_hidden[j][i] weighs input x{} into unit j",
                    input + 1
                );
            }
        }
    }
}

mod toy_train {
    use super::*;
    use scratch_numpy_style::toy::{self, ToyNetwork};

    /// Every parameter of the network, in a fixed order.
    fn parameters(net: &ToyNetwork) -> Vec<f64> {
        let mut p: Vec<f64> = net.input_to_hidden.iter().flatten().copied().collect();
        p.extend(net.hidden_biases);
        p.extend(net.hidden_to_output);
        p.push(net.output_bias);
        p
    }

    fn with_parameters(net: &ToyNetwork, p: &[f64]) -> ToyNetwork {
        ToyNetwork {
            learning_rate: net.learning_rate,
            ..toy_network(p)
        }
    }

    fn loss(net: &ToyNetwork, x1: f64, x2: f64, y: f64) -> f64 {
        0.5 * (net.predict(x1, x2) - y).powi(2)
    }

    #[test]
    fn returns_the_loss_before_the_step() {
        let _graded = graded_test::start();
        let mut net = ToyNetwork::default();
        for ([x1, x2], y) in toy::POINTS {
            let expected = loss(&net, x1, x2, y);
            let returned = net.train(x1, x2, y);
            assert!(
                (returned - expected).abs() < 1e-12,
                "train returns ½(ŷ − y)² of the prediction before the step"
            );
        }
    }

    #[test]
    fn steps_against_the_numeric_gradient() {
        let _graded = graded_test::start();
        for seed in 0..20 {
            let p = random(13, 1.0, 300 + seed);
            let start = ToyNetwork {
                learning_rate: 0.01,
                ..toy_network(&p)
            };
            let x = random(3, 2.0, 400 + seed);
            let (x1, x2, y) = (x[0], x[1], 4.0 * x[2]);
            // Keep away from ReLU's kink, where the slope is not defined.
            let near_kink = (0..3).any(|j| {
                let [w1, w2] = start.input_to_hidden[j];
                (w1 * x1 + w2 * x2 + start.hidden_biases[j]).abs() < 1e-3
            });
            if near_kink {
                continue;
            }
            let mut stepped = start.clone();
            stepped.train(x1, x2, y);
            let after = parameters(&stepped);
            let h = 1e-6;
            for i in 0..p.len() {
                let (mut up, mut down) = (p.clone(), p.clone());
                up[i] += h;
                down[i] -= h;
                let slope = (loss(&with_parameters(&start, &up), x1, x2, y)
                    - loss(&with_parameters(&start, &down), x1, x2, y))
                    / (2.0 * h);
                let expected = p[i] - start.learning_rate * slope;
                assert!(
                    (after[i] - expected).abs() < 1e-7 * (1.0 + expected.abs()),
                    "parameter {i} (in the order W¹ by rows, b¹, v, c) does not move by \
                     −lr · ∂L/∂θ, the slope measured by finite differences of your predict"
                );
            }
        }
    }

    #[test]
    fn learns_seven_x_on_the_diagonal() {
        let _graded = graded_test::start();
        let (net, losses) = toy::train_by_hand();
        assert!(
            losses[losses.len() - 1] < losses[0],
            "the mean loss falls over the epochs"
        );
        for x in toy::QUERIES {
            assert!(
                (net.predict(x, x) - 7.0 * x).abs() < toy::TOLERANCE,
                "after training, ({x}, {x}) is not predicted within {} of 7·{x}",
                toy::TOLERANCE
            );
        }
    }
}

mod forward {
    use super::*;
    use scratch_numpy_style::{Layer, Mlp, Workspace};

    fn matrix(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        Array2::from_shape_vec((rows, cols), random(rows * cols, 1.0, seed)).expect("a matrix")
    }

    fn outputs(net: &Mlp<f64>, x: &Array2<f64>) -> Array2<f64> {
        let mut ws = Workspace::new(net, x.nrows());
        net.forward(&mut ws, x.view())
            .expect("the forward pass")
            .to_owned()
    }

    fn one_layer(n_in: usize, n_out: usize, seed: u64) -> Mlp<f64> {
        let layer = Layer {
            weights: matrix(n_in, n_out, seed),
            biases: Array1::from(random(n_out, 1.0, seed + 1)),
        };
        Mlp::from_layers(vec![layer], Activation::Relu, Output::LinearMse).expect("a network")
    }

    #[test]
    fn each_output_moves_with_its_own_weights_and_bias() {
        let _graded = graded_test::start();
        for (n_in, n_out, seed) in [(3, 2, 1), (5, 4, 2), (1, 3, 3)] {
            let net = one_layer(n_in, n_out, seed);
            let x = matrix(4, n_in, seed + 10);
            let base = outputs(&net, &x);
            assert_eq!(base.dim(), (4, n_out), "one row of outputs per sample");
            let eps = 0.25;
            for j in 0..n_out {
                let mut b = net.clone();
                b.layers[0].biases[j] += eps;
                let moved = outputs(&b, &x) - &base;
                for ((r, k), d) in moved.indexed_iter() {
                    let expected = if k == j { eps } else { 0.0 };
                    assert!(
                        (d - expected).abs() < 1e-12,
                        "raising bias {j} by ε moves output {j} of every sample by ε \
                         and no other output (sample {r}, output {k})"
                    );
                }
                for i in 0..n_in {
                    let mut w = net.clone();
                    w.layers[0].weights[[i, j]] += eps;
                    let moved = outputs(&w, &x) - &base;
                    for ((r, k), d) in moved.indexed_iter() {
                        let expected = if k == j { eps * x[[r, i]] } else { 0.0 };
                        assert!(
                            (d - expected).abs() < 1e-12,
                            "raising weight [{i}, {j}] by ε moves output {j} by ε times \
                             input {i} of the sample, and no other output (sample {r}, output {k})"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn samples_are_independent_rows() {
        let _graded = graded_test::start();
        let layers = vec![
            Layer {
                weights: matrix(4, 6, 20),
                biases: Array1::from(random(6, 1.0, 21)),
            },
            Layer {
                weights: matrix(6, 3, 22),
                biases: Array1::from(random(3, 1.0, 23)),
            },
        ];
        let net = Mlp::from_layers(layers, Activation::Relu, Output::LinearMse).expect("a network");
        let x = matrix(5, 4, 24);
        let batch = outputs(&net, &x);
        for r in 0..5 {
            let alone = outputs(&net, &x.select(ndarray::Axis(0), &[r]));
            assert!(
                (&alone.row(0) - &batch.row(r))
                    .iter()
                    .all(|d| d.abs() < 1e-12),
                "a sample's output does not depend on the others in its batch"
            );
        }
    }

    #[test]
    fn reusing_the_workspace_changes_nothing() {
        let _graded = graded_test::start();
        let layers = vec![
            Layer {
                weights: matrix(4, 6, 40),
                biases: Array1::from(random(6, 1.0, 41)),
            },
            Layer {
                weights: matrix(6, 5, 42),
                biases: Array1::from(random(5, 1.0, 43)),
            },
            Layer {
                weights: matrix(5, 3, 44),
                biases: Array1::from(random(3, 1.0, 45)),
            },
        ];
        let net = Mlp::from_layers(layers, Activation::Relu, Output::LinearMse).expect("a network");
        let (a, b) = (matrix(5, 4, 46), matrix(5, 4, 47));
        let mut ws = Workspace::new(&net, 5);
        let first = net
            .forward(&mut ws, a.view())
            .expect("a forward pass")
            .to_owned();
        for (x, seen_before) in [(&b, None), (&a, Some(&first)), (&a, Some(&first))] {
            let again = net
                .forward(&mut ws, x.view())
                .expect("a forward pass")
                .to_owned();
            let alone = outputs(&net, x);
            assert!(
                (&again - &alone).iter().all(|d| d.abs() < 1e-12)
                    && seen_before.is_none_or(|f| (&again - f).iter().all(|d| d.abs() < 1e-12)),
                "a forward pass on a workspace used before gives the outputs of a new workspace \
                 (the previous call's values must not leak into the next)"
            );
        }
    }

    #[test]
    fn hidden_layers_are_activated() {
        let _graded = graded_test::start();
        let hidden = Layer {
            weights: matrix(3, 4, 30),
            biases: Array1::from_elem(4, -10.0),
        };
        let top = Layer {
            weights: matrix(4, 2, 31),
            biases: Array1::from(random(2, 1.0, 32)),
        };
        let silent = Mlp::from_layers(
            vec![hidden.clone(), top.clone()],
            Activation::Relu,
            Output::LinearMse,
        )
        .expect("a network");
        let x = matrix(6, 3, 33);
        for row in outputs(&silent, &x).rows() {
            assert!(
                (&row - &top.biases).iter().all(|d| d.abs() < 1e-12),
                "hidden units whose weighted input is negative are zeroed by the hidden \
                 activation before the next layer reads them"
            );
        }
        let mut active = silent.clone();
        active.layers[0].biases.fill(10.0);
        let out = outputs(&active, &x);
        assert!(
            out.rows()
                .into_iter()
                .any(|row| (&row - &top.biases).iter().any(|d| d.abs() > 1e-6)),
            "switched-on hidden units feed the next layer"
        );
    }
}
