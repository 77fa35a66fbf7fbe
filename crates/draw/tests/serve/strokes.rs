//! A 28×28 MNIST digit as pen strokes, the way a person would draw it: the
//! ink is thinned to a one-pixel skeleton (Zhang–Suen), and the skeleton is
//! traced into paths, each started at a loose end when there is one.

/// Pixels at or above this level (of 255) are ink.
const INK: u8 = 128;

/// The digit's strokes, as pixel centres (x, y) in the 28×28 field.
pub fn strokes(pixels: &[u8]) -> Vec<Vec<(f64, f64)>> {
    let ink: Vec<bool> = pixels.iter().map(|&p| p >= INK).collect();
    trace(&thin(ink))
        .into_iter()
        .map(|path| {
            path.into_iter()
                .map(|i| ((i % SIDE) as f64 + 0.5, (i / SIDE) as f64 + 0.5))
                .collect()
        })
        .collect()
}

const SIDE: usize = 28;

/// The eight neighbours of `i` clockwise from north (P2 … P9 in Zhang and
/// Suen's paper), `None` off the field.
fn around(i: usize) -> [Option<usize>; 8] {
    let (x, y) = ((i % SIDE) as i64, (i / SIDE) as i64);
    let at = |dx: i64, dy: i64| {
        let (x, y) = (x + dx, y + dy);
        ((0..SIDE as i64).contains(&x) && (0..SIDE as i64).contains(&y))
            .then(|| y as usize * SIDE + x as usize)
    };
    [
        at(0, -1),
        at(1, -1),
        at(1, 0),
        at(1, 1),
        at(0, 1),
        at(-1, 1),
        at(-1, 0),
        at(-1, -1),
    ]
}

/// Zhang–Suen thinning: peels boundary pixels in two alternating passes
/// until only a skeleton one pixel wide is left.
fn thin(mut ink: Vec<bool>) -> Vec<bool> {
    loop {
        let mut changed = false;
        for pass in 0..2 {
            let peel: Vec<usize> = (0..ink.len())
                .filter(|&i| ink[i])
                .filter(|&i| {
                    let p = around(i).map(|n| n.is_some_and(|n| ink[n]));
                    let neighbours = p.iter().filter(|&&b| b).count();
                    let transitions = (0..8).filter(|&k| !p[k] && p[(k + 1) % 8]).count();
                    let (n, e, s, w) = (p[0], p[2], p[4], p[6]);
                    // Pass 1 peels south-east boundaries and north-west
                    // corners, pass 2 the opposite.
                    let side = if pass == 0 {
                        !(e && s && (n || w))
                    } else {
                        !(n && w && (e || s))
                    };
                    (2..=6).contains(&neighbours) && transitions == 1 && side
                })
                .collect();
            changed |= !peel.is_empty();
            for i in peel {
                ink[i] = false;
            }
        }
        if !changed {
            return ink;
        }
    }
}

/// Paths through the skeleton, each pixel once. A path starts where the
/// fewest untraced neighbours are (a loose end), top first, and follows
/// untraced neighbours (straight before diagonal); where it ends or starts
/// beside ink already traced, it joins it, as a pen closing a loop would.
fn trace(skeleton: &[bool]) -> Vec<Vec<usize>> {
    let mut traced = vec![false; skeleton.len()];
    let neighbours = |i: usize| around(i).into_iter().flatten().filter(|&n| skeleton[n]);
    let mut paths = Vec::new();
    loop {
        let untraced_around =
            |i: usize, traced: &[bool]| neighbours(i).filter(|&n| !traced[n]).count();
        let Some(start) = (0..skeleton.len())
            .filter(|&i| skeleton[i] && !traced[i])
            .min_by_key(|&i| (untraced_around(i, &traced), i))
        else {
            return paths;
        };
        let mut path = Vec::new();
        if let Some(joined) = neighbours(start).find(|&n| traced[n]) {
            path.push(joined);
        }
        let mut at = start;
        loop {
            traced[at] = true;
            path.push(at);
            let straight = |n: usize| n % SIDE == at % SIDE || n / SIDE == at / SIDE;
            let next = neighbours(at)
                .filter(|&n| !traced[n])
                .min_by_key(|&n| !straight(n));
            match next {
                Some(n) => at = n,
                None => {
                    let recent = &path[path.len().saturating_sub(4)..];
                    if let Some(joined) =
                        neighbours(at).find(|&n| traced[n] && !recent.contains(&n))
                    {
                        path.push(joined);
                    }
                    break;
                }
            }
        }
        paths.push(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thick_bar_thins_to_one_stroke_along_it() {
        // A vertical bar 3 pixels wide, rows 5..=22.
        let mut pixels = vec![0u8; SIDE * SIDE];
        for y in 5..=22 {
            for x in 12..=14 {
                pixels[y * SIDE + x] = 255;
            }
        }
        let strokes = strokes(&pixels);
        assert_eq!(strokes.len(), 1, "{strokes:?}");
        let stroke = &strokes[0];
        assert!(stroke.iter().all(|&(x, _)| x == 13.5), "{stroke:?}");
        let (top, bottom) = (stroke[0].1, stroke[stroke.len() - 1].1);
        assert!(top < 8.0 && bottom > 19.0, "{stroke:?}");
    }

    #[test]
    fn a_ring_is_drawn_closed() {
        let mut pixels = vec![0u8; SIDE * SIDE];
        for y in 0..SIDE {
            for x in 0..SIDE {
                let r = ((x as f64 - 13.5).powi(2) + (y as f64 - 13.5).powi(2)).sqrt();
                if (6.0..8.5).contains(&r) {
                    pixels[y * SIDE + x] = 255;
                }
            }
        }
        let strokes = strokes(&pixels);
        assert_eq!(strokes.len(), 1, "{strokes:?}");
        let stroke = &strokes[0];
        let (first, last) = (stroke[0], stroke[stroke.len() - 1]);
        assert!(
            (first.0 - last.0).abs() <= 1.0 && (first.1 - last.1).abs() <= 1.0,
            "ends {first:?} and {last:?} meet"
        );
    }
}
