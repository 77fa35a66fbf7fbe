use super::*;
use mnist_models::loss::cross_entropy;

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
