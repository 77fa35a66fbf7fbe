//! Hostile and broken clients: slow senders, half-open connections, other
//! sites' pages, and Ctrl-C while they hold the server.

use std::io::Write;
use std::thread::sleep;
use std::time::{Duration, Instant};

use draw::serve::{BODY_TIMEOUT, GRACE, HEADER_TIMEOUT};

use crate::server::{Server, canvas_png, post, test_set, trickle};

/// Slack for a busy machine on top of the server's own limits.
const SLACK: Duration = Duration::from_secs(3);

#[test]
fn a_client_sending_its_head_byte_by_byte_is_cut_off() {
    let server = Server::start();
    let mut stream = server.connect();
    let head = format!(
        "POST /predict HTTP/1.1\r\nHost: {}\r\nX-Slow: {}",
        server.address(),
        "a".repeat(1000)
    );
    let limit = HEADER_TIMEOUT + SLACK + SLACK;
    let (read, open) = trickle(
        &mut stream,
        head.as_bytes(),
        Duration::from_millis(200),
        limit,
    );
    assert!(open < HEADER_TIMEOUT + SLACK, "open for {open:?}: {read:?}");
    assert!(open >= HEADER_TIMEOUT / 2, "cut off after only {open:?}");
}

#[test]
fn a_body_sent_byte_by_byte_gets_408() {
    let server = Server::start();
    let mut stream = server.connect();
    let head = format!(
        "POST /predict HTTP/1.1\r\nHost: {}\r\nContent-Type: image/png\r\n\
         Content-Length: 1000\r\n\r\n",
        server.address()
    );
    stream.write_all(head.as_bytes()).expect("the head is sent");
    let limit = BODY_TIMEOUT + SLACK + SLACK;
    let (read, open) = trickle(
        &mut stream,
        &[0x55; 1000],
        Duration::from_millis(200),
        limit,
    );
    assert!(open < BODY_TIMEOUT + SLACK, "open for {open:?}: {read:?}");
    assert!(read.starts_with("HTTP/1.1 408"), "{read:?}");
    assert!(read.contains(r#"{"error":"#), "{read:?}");
}

#[test]
fn half_open_connections_beyond_the_file_limit_leave_the_server_reachable() {
    let server = Server::start_with_open_files(256);
    // Each sends part of a request's head and waits.
    let half_open: Vec<_> = (0..300)
        .map(|_| {
            let mut stream = server.connect();
            let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: ");
            stream
        })
        .collect();
    // Connections over the cap are answered and closed within a second.
    sleep(Duration::from_secs(1));

    // Busy at first: a quick 503 rather than a hang.
    let start = Instant::now();
    let (status, answer) = ureq_post(&server, Duration::from_secs(2));
    assert_eq!(status, Some(503), "{answer}");
    assert!(answer.contains("busy"), "{answer}");
    assert!(start.elapsed() < Duration::from_secs(2));

    // The half-open ones are cut off, and drawings are read again.
    let deadline = Instant::now() + HEADER_TIMEOUT + SLACK;
    loop {
        let (status, answer) = ureq_post(&server, Duration::from_secs(2));
        if status == Some(200) {
            break;
        }
        assert!(Instant::now() < deadline, "still {status:?}: {answer}");
        sleep(Duration::from_millis(250));
    }
    drop(half_open);
}

/// A drawing POSTed with a timeout: the status, if any came, and the body
/// or the error.
fn ureq_post(server: &Server, timeout: Duration) -> (Option<u16>, String) {
    let png = canvas_png(test_set().images.image(0));
    match ureq::post(&server.predict_url())
        .set("Content-Type", "image/png")
        .timeout(timeout)
        .send_bytes(&png)
    {
        Ok(response) => (
            Some(response.status()),
            response.into_string().unwrap_or_default(),
        ),
        Err(ureq::Error::Status(status, response)) => {
            (Some(status), response.into_string().unwrap_or_default())
        }
        Err(e) => (None, e.to_string()),
    }
}

#[test]
fn drawings_are_answered_while_slow_clients_hold_connections() {
    let server = Server::start();
    let slow: Vec<_> = (0..100)
        .map(|_| {
            let mut stream = server.connect();
            let _ = stream.write_all(b"POST /predict HTTP/1.1\r\nHost: ");
            stream
        })
        .collect();
    let test = test_set();
    for i in 0..10 {
        let start = Instant::now();
        let (status, answer) = post(&server.predict_url(), &canvas_png(test.images.image(i)));
        assert_eq!(status, 200, "{answer}");
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }
    drop(slow);
}

fn get_with_host(server: &Server, host: &str) -> (u16, String) {
    server.raw(format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
}

#[test]
fn on_loopback_only_this_machine_s_names_are_answered() {
    let server = Server::start();
    let port = server.port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let (status, body) = get_with_host(&server, &host);
        assert_eq!(status, 200, "{host}: {body}");
        assert!(body.contains("<canvas"), "{host}");
    }
    for host in [
        format!("rebound.example:{port}"),
        format!("localhost.rebound.example:{port}"),
        "localhost".to_string(),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        format!("192.168.1.2:{port}"),
    ] {
        let (status, body) = get_with_host(&server, &host);
        assert_eq!(status, 421, "{host}: {body}");
        let answer: serde_json::Value = serde_json::from_str(&body).expect("a JSON error");
        let error = answer["error"].as_str().expect("an error message");
        assert!(error.contains("not this server"), "{host}: {error}");
    }
    // Drawings too: a rebound page cannot read the model's answers.
    let png = canvas_png(test_set().images.image(0));
    let mut request = format!(
        "POST /predict HTTP/1.1\r\nHost: rebound.example:{port}\r\nContent-Type: image/png\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        png.len()
    )
    .into_bytes();
    request.extend_from_slice(&png);
    let (status, body) = server.raw(&request);
    assert_eq!(status, 421, "{body}");
    assert!(!body.contains("digit"), "{body}");
}

#[test]
fn drawings_must_come_as_png() {
    let server = Server::start();
    let png = canvas_png(test_set().images.image(0));
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("image/jpeg"),
        None,
    ] {
        let mut request = ureq::post(&server.predict_url());
        if let Some(content_type) = content_type {
            request = request.set("Content-Type", content_type);
        }
        let result = request.send_bytes(&png);
        let Err(ureq::Error::Status(status, response)) = result else {
            panic!("{content_type:?}: {result:?}");
        };
        assert_eq!(status, 415, "{content_type:?}");
        let answer: serde_json::Value = response.into_json().expect("a JSON error");
        let error = answer["error"].as_str().expect("an error message");
        assert!(error.contains("image/png"), "{content_type:?}: {error}");
    }
    let response = ureq::post(&server.predict_url())
        .set("Content-Type", "Image/PNG; charset=binary")
        .send_bytes(&png)
        .expect("image/png with a parameter is a drawing");
    assert_eq!(response.status(), 200);
}

#[test]
fn the_page_posts_its_drawing_as_png() {
    let page = draw::serve::PAGE;
    assert!(
        page.contains(r#"pad.toBlob(resolve, "image/png")"#),
        "the canvas as a PNG"
    );
    assert!(
        page.contains(r#""Content-Type": "image/png""#),
        "sent as image/png"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_server_despite_a_half_sent_request() {
    let mut server = Server::start();
    // Answered: the server is up and listens for Ctrl-C.
    let (status, _) = get_with_host(&server, server.address());
    assert_eq!(status, 200);
    let mut half_sent = server.connect();
    half_sent
        .write_all(b"POST /predict HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: 5000\r\n")
        .expect("half a head is sent");
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("the server's status") {
            break status;
        }
        assert!(
            start.elapsed() < GRACE + SLACK,
            "still running {:?} after Ctrl-C",
            start.elapsed()
        );
        sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    // The half-sent request's connection is closed.
    let (read, open) = trickle(&mut half_sent, b"", Duration::from_millis(100), SLACK);
    assert!(open < SLACK, "still open: {read:?}");
}
