//! `draw bench`: how long the drawing page waits for an answer. MNIST
//! test digits are drawn as the page sends them (280×280 PNG, dark ink on
//! white) and answered in process (decoding and preprocessing, then
//! inference, timed apart) and over HTTP on loopback (the whole round trip
//! of `POST /predict`, with the server's worker).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Instant;

use anyhow::{Result, bail};
use mnist_data::Mnist;
use mnist_train::cli::ModelArgs;
use mnist_train::image_input::digit_from_bytes;

use crate::serve::{CANVAS, Classify, DigitModel, MAX_SIDE, answer, drawing_png, serve};
use cnn::Part3;

/// Requests answered before timing starts.
const WARM_UP: usize = 10;

/// `draw bench`'s options.
#[derive(clap::Args)]
pub struct BenchServeArgs {
    /// Drawings to time (MNIST test digits, drawn as the page sends them).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub requests: u64,
    #[command(flatten)]
    pub model: ModelArgs<Part3>,
}

/// Times the page's requests and prints the table.
pub fn run(args: BenchServeArgs) -> Result<()> {
    let dir = args.model.checkpoints()?;
    let test = Mnist::load_default()?.test;
    let count = args.requests as usize;
    if count > test.len() {
        bail!("--requests {count}: MNIST has {} test digits", test.len());
    }
    let drawings = (0..count)
        .map(|i| drawing_png(test.images.image(i)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let labels: Vec<u8> = (0..count).map(|i| test.labels.of(i)[0]).collect();
    let backend = args.model.backend;
    let mut model = DigitModel::load(&dir, backend)?;
    for png in drawings.iter().cycle().take(WARM_UP) {
        answer(png, &mut model)?;
    }

    let (mut prepare, mut infer, mut total) = (Vec::new(), Vec::new(), Vec::new());
    let mut right = 0;
    for (png, &label) in drawings.iter().zip(&labels) {
        let start = Instant::now();
        let pixels = digit_from_bytes(png, MAX_SIDE)?;
        let prepared = Instant::now();
        let probabilities = model.classify(&pixels);
        let done = Instant::now();
        prepare.push(ms(prepared - start));
        infer.push(ms(done - prepared));
        total.push(ms(done - start));
        let best = (0..10).max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]));
        right += usize::from(best == Some(usize::from(label)));
    }
    let http = over_http(&mut model, &drawings)?;

    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    println!(
        "{} drawings (MNIST test digits as {CANVAS}x{CANVAS} PNGs, as the page sends them), \
         one at a time, on {backend}; CPU threads: {threads}; {right} read right.\n",
        drawings.len()
    );
    println!(
        "{:<34} {:>9} {:>8} {:>8}",
        "per request", "median ms", "p90 ms", "max ms"
    );
    for (name, times) in [
        ("decode + MNIST preprocessing", prepare),
        ("inference", infer),
        ("in process (both)", total),
        ("POST /predict on loopback", http),
    ] {
        let (median, p90, max) = summary(times);
        println!("{name:<34} {median:>9.2} {p90:>8.2} {max:>8.2}");
    }
    Ok(())
}

/// Times `POST /predict` for every drawing, against a server on a free
/// loopback port answering with `model`.
fn over_http(model: &mut impl Classify, drawings: &[Vec<u8>]) -> Result<Vec<f64>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let drawings = drawings.to_vec();
    let client = std::thread::spawn(move || {
        let times = drawings
            .iter()
            .map(|png| {
                let start = Instant::now();
                post_png(address, png).map(|()| ms(start.elapsed()))
            })
            .collect::<Result<Vec<f64>>>();
        let _ = stop.send(());
        times
    });
    serve(listener, model, async move {
        let _ = stopped.await;
    })?;
    client
        .join()
        .map_err(|_| anyhow::anyhow!("the benchmark's client panicked"))?
}

/// One `POST /predict`, on a connection of its own; fails unless 200.
fn post_png(address: SocketAddr, png: &[u8]) -> Result<()> {
    let mut stream = TcpStream::connect(address)?;
    let head = format!(
        "POST /predict HTTP/1.1\r\nHost: {address}\r\nContent-Type: image/png\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        png.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(png)?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    if response.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        bail!(
            "POST /predict: {}",
            response.lines().next().unwrap_or("no answer")
        )
    }
}

fn ms(duration: std::time::Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// Median, 90th percentile and maximum.
fn summary(mut times: Vec<f64>) -> (f64, f64, f64) {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.9), at(1.0))
}
