//! The drawing page in headless Chromium: MNIST test digits drawn stroke by
//! stroke with a pointer, read back from the page; the clear button; a bad
//! request in between.

use std::path::PathBuf;
use std::time::Duration;

use crate::server::{Server, post, test_set};
use crate::strokes::strokes;
use crate::webdriver::Session;

/// Generous: a 2-core CI machine runs other tests beside this one.
const ANSWER: Duration = Duration::from_secs(60);
/// Milliseconds the pointer takes from one skeleton point to the next.
const STEP_MS: u64 = 15;

/// True once the displayed answer is for the drawing as it is now.
const SETTLED: &str = "const pad = document.getElementById('pad'); \
    const digit = document.getElementById('digit'); \
    return digit.dataset.for === pad.dataset.version;";
/// The canvas's pixels that are not white.
const INKED: &str = "const pad = document.getElementById('pad'); \
    const data = pad.getContext('2d').getImageData(0, 0, pad.width, pad.height).data; \
    let inked = 0; \
    for (let i = 0; i < data.length; i += 4) { \
        if (data[i] !== 255 || data[i + 1] !== 255 || data[i + 2] !== 255) inked++; \
    } \
    return inked;";

#[test]
fn digits_drawn_in_the_browser_are_read_live() {
    let server = Server::start();
    let browser = Session::start();
    browser.set_window_size(960, 800);
    browser.goto(&server.url);
    let pad = browser.find("#pad");
    let digit = browser.find("#digit");
    let clear = browser.find("#clear");
    // CSS pixels per MNIST pixel: the pad shows its 280×280 canvas larger.
    let side = browser
        .execute("return document.getElementById('pad').clientWidth;")
        .as_f64()
        .expect("the pad's width");
    let scale = side / 28.0;

    // The first test image of each digit: ten digits, none picked by hand.
    let test = test_set();
    let chosen: Vec<usize> = (0..10u8)
        .map(|d| {
            (0..test.len())
                .find(|&i| test.labels.of(i)[0] == d)
                .expect("every digit is in the test set")
        })
        .collect();
    let mut read = Vec::new();
    let mut screenshot = None;
    for (n, &index) in chosen.iter().enumerate() {
        let label = test.labels.of(index)[0];
        let paths: Vec<Vec<(i64, i64)>> = strokes(test.images.image(index))
            .into_iter()
            .map(|path| {
                // Every other skeleton point: a hand moves in longer segments.
                let mut points: Vec<(f64, f64)> = path.iter().copied().step_by(2).collect();
                if path.len() % 2 == 0 {
                    points.extend(path.last());
                }
                points
                    .into_iter()
                    .map(|(x, y)| {
                        (
                            ((x - 14.0) * scale).round() as i64,
                            ((y - 14.0) * scale).round() as i64,
                        )
                    })
                    .collect()
            })
            .collect();
        // Half the digits with a mouse, half with a pen.
        let pointer = if n % 2 == 0 { "mouse" } else { "pen" };
        browser.draw(&pad, pointer, &paths, STEP_MS);
        browser.wait_until(SETTLED, ANSWER, "the answer to the finished drawing");
        let shown = browser.text(&digit);
        println!("test image {index} (a {label}), drawn with a {pointer}: read as {shown}");
        let right = shown == label.to_string();
        read.push((index, label, shown));
        // The last digit read right is the one shown in the README.
        if right {
            screenshot = Some(browser.screenshot());
        }

        if n == 4 {
            // A bad request from elsewhere does not stop the page's answers.
            let (status, answer) = post(&server.predict_url(), b"\x89PNG but not really");
            assert_eq!(status, 400, "{answer}");
        }
        if n + 1 < chosen.len() {
            browser.click(&clear);
        }
    }
    let right = read.iter().filter(|(_, l, s)| *s == l.to_string()).count();
    assert!(
        right >= 9,
        "{right} of {} drawn digits read right: {read:?}",
        read.len()
    );

    // The screenshot of a drawn digit, its answer and the bars.
    let screenshot = screenshot.expect("a digit was read right");
    assert!(screenshot.starts_with(b"\x89PNG"), "a PNG screenshot");
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cnn-draw.png");
    std::fs::write(&path, &screenshot).expect("the screenshot is written");
    if std::env::var_os("UPDATE_SCREENSHOT").is_some_and(|v| v == "1") {
        let committed = cnn::reports_dir().join("draw.png");
        std::fs::write(&committed, &screenshot).expect("the screenshot is written");
        println!("Screenshot: {}", committed.display());
    } else {
        println!(
            "Screenshot: {} (UPDATE_SCREENSHOT=1 updates reports/cnn/draw.png)",
            path.display()
        );
    }

    // Clear: a white canvas, no digit, empty bars.
    let inked = browser.execute(INKED).as_u64().expect("a count");
    assert!(
        inked > 1000,
        "the last digit is on the canvas ({inked} pixels)"
    );
    browser.click(&clear);
    assert_eq!(
        browser.execute(INKED).as_u64(),
        Some(0),
        "the canvas is white after Clear"
    );
    assert_eq!(browser.text(&digit), "–");
    let bars = browser.execute(
        "return [...document.querySelectorAll('.bar')].map(b => b.getBoundingClientRect().width);",
    );
    let bars = bars.as_array().expect("the bars' widths");
    assert_eq!(bars.len(), 10);
    assert!(
        bars.iter().all(|w| w.as_f64() == Some(0.0)),
        "bars after Clear: {bars:?}"
    );
    browser.wait_until(SETTLED, ANSWER, "the cleared page to settle");
}
