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
