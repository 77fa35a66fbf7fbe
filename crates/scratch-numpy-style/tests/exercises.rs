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
        check_slope(Activation::Relu);
    }
}

mod activations {
    use super::*;
    use scratch_numpy_style::activation::sigmoid;

    #[test]
    fn sigmoid_is_a_symmetric_squashing_function() {
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
    }

    #[test]
    fn slopes_match_finite_differences() {
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
    }

    #[test]
    fn cross_entropy_gradient_is_its_slope() {
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
    use scratch_numpy_style::gradcheck::check;
    use scratch_numpy_style::{Mlp, Spec};

    #[test]
    fn gradients_match_finite_differences() {
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
        let mut zero = start.clone();
        zero.step(&Gradients::zeros_like(&start), 0.1);
        assert!(zero == start, "a zero gradient changes nothing");
    }

    #[test]
    fn clipping_by_norm_keeps_the_direction() {
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
}

mod he_init {
    use super::*;

    #[test]
    fn has_mean_zero_and_variance_two_over_fan_in() {
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
