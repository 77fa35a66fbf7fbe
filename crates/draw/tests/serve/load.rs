//! Many good clients at once, with slow clients holding connections and bad
//! requests mixed in: every drawing is answered, and quickly.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::server::{Server, canvas_png, test_set};

const CLIENTS: usize = 8;
const REQUESTS: usize = 50;
const SLOW_CLIENTS: usize = 32;
const BAD_CLIENTS: usize = 2;
/// The whole run's bound.
const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn good_clients_are_answered_quickly_among_slow_and_bad_ones() {
    let server = Server::start();
    let address = server.address().to_string();
    let url = server.predict_url();
    let test = test_set();
    let drawings: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..REQUESTS)
            .map(|i| canvas_png(test.images.image(i)))
            .collect(),
    );
    // One warm request: the first answer pays for the backend's start.
    crate::server::post(&url, &drawings[0]);

    let slow: Vec<_> = (0..SLOW_CLIENTS)
        .map(|_| {
            let mut stream = server.connect();
            let _ = stream.write_all(b"POST /predict HTTP/1.1\r\nHost: ");
            stream
        })
        .collect();

    let done = Arc::new(AtomicBool::new(false));
    let unavailable = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let bad: Vec<_> = (0..BAD_CLIENTS)
        .map(|_| {
            let (url, address, done) = (url.clone(), address.clone(), done.clone());
            let unavailable = unavailable.clone();
            let port = address.rsplit_once(':').map(|(_, port)| port.to_string());
            thread::spawn(move || {
                let mut sent = 0;
                let port = port.unwrap_or_default();
                while !done.load(Ordering::Relaxed) && start.elapsed() < LIMIT {
                    let request = match sent % 3 {
                        0 => ureq::post(&url).set("Content-Type", "text/plain"),
                        1 => ureq::post(&url)
                            .set("Content-Type", "image/png")
                            .set("Host", &format!("rebound.example:{port}")),
                        _ => ureq::post(&url).set("Content-Type", "image/png"),
                    };
                    let status = match request.send_bytes(b"not a drawing") {
                        Ok(response) => response.status(),
                        Err(ureq::Error::Status(status, _)) => status,
                        Err(e) => panic!("a bad request gets an answer: {e}"),
                    };
                    assert!(matches!(status, 400 | 415 | 421 | 503), "{status}");
                    if status == 503 {
                        unavailable.fetch_add(1, Ordering::Relaxed);
                    }
                    sent += 1;
                    thread::sleep(Duration::from_millis(5));
                }
                sent
            })
        })
        .collect();

    let good: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (url, drawings) = (url.clone(), drawings.clone());
            thread::spawn(move || {
                // Kept-alive connections, as a browser's.
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(10))
                    .build();
                let mut answers = Vec::new();
                for png in drawings.iter() {
                    let sent = Instant::now();
                    let status = match agent
                        .post(&url)
                        .set("Content-Type", "image/png")
                        .send_bytes(png)
                    {
                        Ok(response) => response.status(),
                        Err(ureq::Error::Status(status, _)) => status,
                        Err(e) => panic!("a drawing gets an answer: {e}"),
                    };
                    answers.push((status, sent.elapsed()));
                    if start.elapsed() > LIMIT {
                        break;
                    }
                }
                answers
            })
        })
        .collect();
    let answers: Vec<(u16, Duration)> = good
        .into_iter()
        .flat_map(|client| client.join().expect("a good client finishes"))
        .collect();
    done.store(true, Ordering::Relaxed);
    let bad_sent: usize = bad
        .into_iter()
        .map(|client| client.join().expect("a bad client finishes"))
        .sum();
    let elapsed = start.elapsed();
    drop(slow);

    let mut ms: Vec<f64> = answers
        .iter()
        .map(|(_, time)| time.as_secs_f64() * 1e3)
        .collect();
    ms.sort_by(f64::total_cmp);
    let percentile = |p: f64| ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
    let (p50, p99) = (percentile(0.50), percentile(0.99));
    let good_unavailable = answers.iter().filter(|(status, _)| *status == 503).count();
    let peak = peak_memory_kib(server.child.id());
    eprintln!(
        "load: {} drawings from {CLIENTS} clients, {bad_sent} bad requests, {SLOW_CLIENTS} slow \
         clients, {elapsed:.2?}: p50 {p50:.1} ms, p99 {p99:.1} ms, max {:.1} ms; 503s: {} \
         (drawings {good_unavailable}); server peak memory {} MiB",
        answers.len(),
        ms[ms.len() - 1],
        good_unavailable + unavailable.load(Ordering::Relaxed),
        peak.map_or("unknown".into(), |kib| format!(
            "{:.1}",
            kib as f64 / 1024.0
        )),
    );

    assert_eq!(
        answers.len(),
        CLIENTS * REQUESTS,
        "every drawing within {LIMIT:?}"
    );
    // At most CLIENTS + BAD_CLIENTS drawings wait at once, fewer than the
    // server's queue holds: none is turned away.
    for (status, _) in &answers {
        assert_eq!(*status, 200);
    }
    assert!(p99 <= 50.0, "p99 {p99:.1} ms");
}

/// The server's peak resident memory, in KiB (Linux).
fn peak_memory_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
