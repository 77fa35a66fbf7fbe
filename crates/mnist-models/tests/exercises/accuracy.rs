use super::*;
use mnist_models::evaluate::accuracy_per_head;

#[test]
fn counts_each_head_against_its_own_labels() {
    let _graded = graded_test::start();
    let mut rng = seeded_rng(6);
    for _ in 0..20 {
        let (images, heads) = (1 + below(&mut rng, 300), 1 + below(&mut rng, 3));
        let truth: Vec<u8> = (0..images * heads)
            .map(|_| below(&mut rng, 10) as u8)
            .collect();
        let mut predicted = truth.clone();
        let mut wrong = vec![0usize; heads];
        for (i, p) in predicted.iter_mut().enumerate() {
            if below(&mut rng, 3) == 0 {
                *p = (*p + 1 + below(&mut rng, 9) as u8) % 10;
                wrong[i % heads] += 1;
            }
        }
        let accuracy =
            accuracy_per_head(&Labels::new(heads, predicted), &Labels::new(heads, truth));
        assert_eq!(accuracy.len(), heads, "one accuracy per head");
        for (head, (&a, &w)) in accuracy.iter().zip(&wrong).enumerate() {
            assert!(
                (a - (images - w) as f64 / images as f64).abs() < 1e-12,
                "head {head} of {heads}, {images} images: not the fraction of right digits"
            );
        }
    }
}
