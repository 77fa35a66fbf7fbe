//! Graded tests of Part 4's exercises (`cargo run -p coursework -- grade
//! --part 4`).

use mnist_data::Labels;
use mnist_data::split::{below, seeded_rng};
use mnist_train::burn::backend::{Autodiff, Flex};
use mnist_train::burn::prelude::*;
use mnist_train::burn::tensor::Distribution;

type B = Autodiff<Flex>;

mod two_heads {
    use super::*;
    use mnist_train::models::{Cnn, CnnConfig};

    #[test]
    fn each_head_reads_the_shared_features() {
        let _graded = graded_test::start();
        let device = Default::default();
        B::seed(&device, 21);
        let config = CnnConfig::new()
            .with_height(42)
            .with_heads(2)
            .with_dropout(0.0);
        let two: Cnn<B> = config.init(&device);
        let x = Tensor::<B, 4>::random([4, 1, 42, 28], Distribution::Uniform(0.0, 1.0), &device);
        each_head_is_its_own_layer(&two, x);
    }

    #[test]
    fn more_heads_give_more_outputs() {
        let _graded = graded_test::start();
        let device = Default::default();
        B::seed(&device, 22);
        for heads in [3, 4] {
            let config = CnnConfig::new()
                .with_height(42)
                .with_heads(heads)
                .with_dropout(0.0);
            let model: Cnn<B> = config.init(&device);
            let x =
                Tensor::<B, 4>::random([3, 1, 42, 28], Distribution::Uniform(0.0, 1.0), &device);
            each_head_is_its_own_layer(&model, x);
        }
    }

    /// Every output of `two` is its own head on the shared features: the same
    /// network with only that head (Part 3's one-headed path) gives it.
    fn each_head_is_its_own_layer(two: &Cnn<B>, x: Tensor<B, 4>) {
        let batch = x.dims()[0];
        let outputs = two.forward(x.clone());
        let heads = two.heads.len();
        assert_eq!(
            outputs.len(),
            heads,
            "a network with {heads} heads gives {heads} outputs"
        );
        for (head, output) in outputs.into_iter().enumerate() {
            assert_eq!(
                output.dims(),
                [batch, 10],
                "head {head} gives 10 logits per image"
            );
            // The same network with only this head (Part 3's one-headed path).
            let mut one = two.clone();
            one.heads = vec![two.heads[head].clone()];
            let alone = one.forward(x.clone()).remove(0);
            let difference: f32 = (output - alone).abs().max().into_scalar();
            assert!(
                difference < 1e-5,
                "head {head} of {heads}: its output is not its own linear layer on the shared \
                 128 features"
            );
        }
    }
}

mod two_digit_loss {
    use super::*;
    use mnist_train::loss::cross_entropy;

    /// Logits in [-4, 4) from their own generator (the backend's is shared
    /// by every test thread).
    fn logits(seed: u64) -> Tensor<B, 2> {
        let mut rng = seeded_rng(1000 + seed);
        let values: Vec<f32> = (0..80)
            .map(|_| below(&mut rng, 8000) as f32 / 1000.0 - 4.0)
            .collect();
        Tensor::<B, 1>::from_floats(values.as_slice(), &Default::default()).reshape([8, 10])
    }

    fn targets(seed: u64) -> Tensor<B, 1, Int> {
        let mut rng = seeded_rng(seed);
        let values: Vec<i64> = (0..8).map(|_| below(&mut rng, 10) as i64).collect();
        Tensor::from_ints(values.as_slice(), &Default::default())
    }

    fn loss(heads: &[(u64, u64)]) -> f32 {
        loss_scaled(heads, 1.0)
    }

    /// The loss with every logit multiplied by `scale`.
    fn loss_scaled(heads: &[(u64, u64)], scale: f32) -> f32 {
        let l: Vec<_> = heads.iter().map(|&(l, _)| logits(l) * scale).collect();
        let t: Vec<_> = heads.iter().map(|&(_, t)| targets(t)).collect();
        cross_entropy(&l, &t).into_scalar()
    }

    #[test]
    fn two_identical_heads_cost_what_one_does() {
        let _graded = graded_test::start();
        for seed in 1..5 {
            let (one, two) = (loss(&[(seed, seed)]), loss(&[(seed, seed), (seed, seed)]));
            assert!(
                (one - two).abs() < 1e-5 * one.max(1.0),
                "a second identical head must not change the loss"
            );
        }
    }

    #[test]
    fn any_number_of_identical_heads_cost_what_one_does() {
        let _graded = graded_test::start();
        for seed in 1..4 {
            let one = loss(&[(seed, seed)]);
            for heads in [3, 4] {
                let many = loss(&vec![(seed, seed); heads]);
                assert!(
                    (one - many).abs() < 1e-5 * one.max(1.0),
                    "{heads} identical heads must cost what one of them does"
                );
            }
        }
        let (a, b, c) = ((1, 2), (3, 4), (5, 6));
        let abc = loss(&[a, b, c]);
        let (cab, aab) = (loss(&[c, a, b]), loss(&[a, a, b]));
        assert!(
            (abc - cab).abs() < 1e-5 * abc.max(1.0),
            "three heads: the loss must not depend on the order of the heads"
        );
        let (la, lb, lc) = (loss(&[a]), loss(&[b]), loss(&[c]));
        assert!(
            ((abc - aab) - (lc - la) / 3.0).abs() < 1e-5 * abc.max(1.0),
            "three heads: replacing one head must change the loss by a third of the change \
             of that head's own loss"
        );
        assert!(
            abc > la.min(lb).min(lc) && abc < la.max(lb).max(lc),
            "three heads' loss lies between their own losses"
        );
    }

    #[test]
    fn wide_logits_give_a_finite_loss() {
        let _graded = graded_test::start();
        for seed in 1..5 {
            // Logits in [-300, 300): most probabilities are far below f32's range.
            let one = loss_scaled(&[(seed, seed)], 75.0);
            let two = loss_scaled(&[(seed, seed), (seed, seed)], 75.0);
            assert!(
                two.is_finite(),
                "with logits in the hundreds the loss must stay finite (compute it from \
                 log-probabilities, not from probabilities)"
            );
            assert!(
                (one - two).abs() < 1e-4 * one.max(1.0),
                "with logits in the hundreds two identical heads must cost what one does"
            );
        }
    }

    #[test]
    fn is_symmetric_and_adds_up_head_by_head() {
        let _graded = graded_test::start();
        let (a, b, c, d) = ((1, 2), (3, 4), (5, 6), (7, 8));
        let ab = loss(&[a, b]);
        assert!(
            (ab - loss(&[b, a])).abs() < 1e-5 * ab.max(1.0),
            "the loss must not depend on the order of the heads"
        );
        // Each head contributes on its own: swapping second heads between
        // two pairs leaves the sum unchanged.
        let (cd, ad, cb) = (loss(&[c, d]), loss(&[a, d]), loss(&[c, b]));
        assert!(
            (ab + cd - ad - cb).abs() < 1e-4 * ab.max(1.0),
            "each head's cross-entropy must count on its own"
        );
        let (la, lb) = (loss(&[a]), loss(&[b]));
        assert!(
            ab > la.min(lb) && ab < la.max(lb),
            "two heads' loss lies between their own losses"
        );
    }
}

mod both_digits_right {
    use super::*;
    use mnist_train::evaluate::accuracy_all_heads;

    #[test]
    fn counts_images_with_every_digit_right() {
        let _graded = graded_test::start();
        let mut rng = seeded_rng(31);
        for _ in 0..20 {
            let (images, heads) = (1 + below(&mut rng, 300), 1 + below(&mut rng, 3));
            let truth: Vec<u8> = (0..images * heads)
                .map(|_| below(&mut rng, 10) as u8)
                .collect();
            let mut predicted = truth.clone();
            let mut wrong = vec![false; images];
            for (i, p) in predicted.iter_mut().enumerate() {
                if below(&mut rng, 4) == 0 {
                    *p = (*p + 1 + below(&mut rng, 9) as u8) % 10;
                    wrong[i / heads] = true;
                }
            }
            let right = wrong.iter().filter(|w| !**w).count();
            let accuracy =
                accuracy_all_heads(&Labels::new(heads, predicted), &Labels::new(heads, truth));
            assert!(
                (accuracy - right as f64 / images as f64).abs() < 1e-12,
                "{images} images with {heads} digits each: not the fraction with every digit right"
            );
        }
    }
}

mod compose {
    use super::*;
    use mnist_data::two_digit::{HEIGHT, SECOND_TOP, WIDTH, compose_pair};

    /// A random 28×28 "digit": a third of its pixels lit at random levels.
    fn random_digit(seed: u64) -> Vec<u8> {
        let mut rng = seeded_rng(seed);
        (0..28 * 28)
            .map(|_| {
                if below(&mut rng, 3) == 0 {
                    below(&mut rng, 256) as u8
                } else {
                    0
                }
            })
            .collect()
    }

    #[test]
    fn puts_the_first_digit_on_top_and_the_second_below() {
        let _graded = graded_test::start();
        for seed in 0..10 {
            let (first, second) = (random_digit(2 * seed), random_digit(2 * seed + 1));
            let mut canvas = vec![77u8; HEIGHT * WIDTH];
            compose_pair(&first, &second, &mut canvas);
            let row = |image: &[u8], r: usize| image[r * WIDTH..(r + 1) * WIDTH].to_vec();
            for r in 0..SECOND_TOP {
                assert_eq!(
                    row(&canvas, r),
                    row(&first, r),
                    "row {r} shows only the first digit"
                );
            }
            for r in 28..HEIGHT {
                assert_eq!(
                    row(&canvas, r),
                    row(&second, r - SECOND_TOP),
                    "row {r} shows only the second digit"
                );
            }
        }
    }

    #[test]
    fn the_canvas_is_redrawn_on_every_call() {
        let _graded = graded_test::start();
        let mut canvas = vec![0u8; HEIGHT * WIDTH];
        for seed in 40..46 {
            let (first, second) = (random_digit(2 * seed), random_digit(2 * seed + 1));
            // The same canvas for every pair, as `compose` uses it.
            compose_pair(&first, &second, &mut canvas);
            let mut fresh = vec![0u8; HEIGHT * WIDTH];
            compose_pair(&first, &second, &mut fresh);
            assert!(
                canvas == fresh,
                "pair {seed}: drawing on a canvas that held another pair must give what a blank \
                 canvas gives"
            );
        }
        let blank = vec![0u8; 28 * 28];
        let bright = vec![255u8; 28 * 28];
        compose_pair(&bright, &bright, &mut canvas);
        compose_pair(&blank, &blank, &mut canvas);
        assert!(
            canvas.iter().all(|&p| p == 0),
            "two blank digits after two white ones must give a blank image"
        );
    }

    #[test]
    fn overlapping_rows_keep_the_brighter_pixel() {
        let _graded = graded_test::start();
        for seed in 20..30 {
            let (first, second) = (random_digit(2 * seed), random_digit(2 * seed + 1));
            let mut canvas = vec![0u8; HEIGHT * WIDTH];
            compose_pair(&first, &second, &mut canvas);
            for r in SECOND_TOP..28 {
                for c in 0..WIDTH {
                    let (top, bottom, out) = (
                        first[r * WIDTH + c],
                        second[(r - SECOND_TOP) * WIDTH + c],
                        canvas[r * WIDTH + c],
                    );
                    assert!(
                        out >= top && out >= bottom && (out == top || out == bottom),
                        "row {r}, column {c}: where the digits overlap the brighter pixel wins"
                    );
                }
            }
        }
    }
}
