//! The server without a browser: the page, answers to drawings, and errors.

use std::process::Command;

use image::GrayImage;

use crate::server::{Server, canvas_png, post, test_set};

#[test]
fn the_page_is_served_whole_with_nothing_fetched_from_elsewhere() {
    let server = Server::start();
    let response = ureq::get(&server.url).call().expect("GET / answers");
    assert_eq!(response.status(), 200);
    assert_eq!(response.content_type(), "text/html");
    let policy = response
        .header("Content-Security-Policy")
        .expect("a content security policy")
        .to_string();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    let page = response.into_string().expect("the page is text");
    for part in [
        "<canvas id=\"pad\"",
        "id=\"clear\"",
        "id=\"digit\"",
        "id=\"bars\"",
    ] {
        assert!(page.contains(part), "the page lacks {part}");
    }
    // No CDN, no fonts, no scripts from elsewhere.
    assert!(!page.contains("http://") && !page.contains("https://"));
    assert!(!page.contains("src=") && !page.contains("<link"));
}

#[test]
fn mnist_test_digits_sent_as_drawings_are_read() {
    let server = Server::start();
    let test = test_set();
    let count = 20;
    let mut right = 0;
    for i in 0..count {
        let (status, answer) = post(&server.predict_url(), &canvas_png(test.images.image(i)));
        assert_eq!(status, 200, "{answer}");
        let digit = answer["digit"].as_u64().expect("a digit");
        let probabilities: Vec<f64> = answer["probabilities"]
            .as_array()
            .expect("probabilities")
            .iter()
            .map(|p| p.as_f64().expect("a number"))
            .collect();
        assert_eq!(probabilities.len(), 10, "{answer}");
        let sum: f64 = probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-3, "probabilities sum to {sum}");
        let best = (0..10)
            .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
            .expect("ten probabilities");
        assert_eq!(digit, best as u64, "the digit is the most probable one");
        let ms = answer["ms"].as_f64().expect("the time taken");
        assert!(ms > 0.0, "{answer}");
        right += usize::from(digit == u64::from(test.labels.of(i)[0]));
    }
    // The committed model reads 99 % of the test set.
    assert!(right >= count - 1, "{right} of {count} read right");
}

#[test]
fn bad_requests_get_400_with_a_message_and_the_server_keeps_serving() {
    let server = Server::start();
    let url = server.predict_url();
    let white = GrayImage::from_pixel(280, 280, image::Luma([255]));
    let huge = GrayImage::new(5000, 5000);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "garbage",
            b"this is not a PNG at all".to_vec(),
            "not a readable image",
        ),
        ("an empty body", Vec::new(), "empty request"),
        (
            "a truncated PNG",
            canvas_png(test_set().images.image(0))[..100].to_vec(),
            "not a readable image",
        ),
        ("a blank drawing", crate::server::png(&white), "blank"),
        (
            "a 5000x5000 image",
            crate::server::png(&huge),
            "5000x5000 pixels",
        ),
        ("an oversized body", vec![0x55; 300 * 1024], "at most"),
    ];
    for (what, body, message) in cases {
        let (status, answer) = post(&url, &body);
        assert_eq!(status, 400, "{what}: {answer}");
        let error = answer["error"].as_str().expect("an error message");
        assert!(error.contains(message), "{what}: {error}");
    }
    // Wrong method and path: not found rather than a crash.
    let get = ureq::get(&url).call();
    assert!(matches!(get, Err(ureq::Error::Status(405, _))), "{get:?}");
    let elsewhere = ureq::post(&format!("{}nowhere", server.url)).send_bytes(b"x");
    assert!(matches!(elsewhere, Err(ureq::Error::Status(404, _))));

    let (status, answer) = post(&url, &canvas_png(test_set().images.image(0)));
    assert_eq!(status, 200, "still serving: {answer}");
    assert_eq!(answer["digit"], 7);
}

fn draw(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_draw"))
        .args(args)
        .output()
        .expect("the draw binary runs")
}

#[test]
fn draw_explains_its_flags_and_fails_clearly() {
    let help = draw(&["--help"]);
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in ["--port", "--host", "--model", "--backend"] {
        assert!(help.contains(flag), "{help}");
    }
    assert!(help.contains("127.0.0.1"), "loopback by default: {help}");

    let dir = tempfile::tempdir().expect("a temporary folder");
    let no_model = draw(&["--port", "0", "--model", &dir.path().to_string_lossy()]);
    assert!(!no_model.status.success());
    let stderr = String::from_utf8_lossy(&no_model.stderr);
    assert!(stderr.contains("--model: no trained model in"), "{stderr}");

    // A port in use: the flag and the reason, not a panic.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = taken.local_addr().expect("its address").port().to_string();
    let busy = draw(&["--port", &port]);
    assert!(!busy.status.success());
    let stderr = String::from_utf8_lossy(&busy.stderr);
    assert!(
        stderr.contains(&format!("--port {port}: cannot listen")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let host = draw(&["--host", "localhost.invalid"]);
    assert!(!host.status.success());
    let stderr = String::from_utf8_lossy(&host.stderr);
    assert!(stderr.contains("--host"), "{stderr}");
}
