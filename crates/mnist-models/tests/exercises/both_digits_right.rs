use super::*;
use mnist_models::evaluate::accuracy_all_heads;

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
