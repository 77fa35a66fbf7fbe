//! `draw`: a page to draw a digit on, and the model's live answer.
//!
//! The page (`draw.html`, built into the binary) posts the canvas as a PNG
//! to `POST /predict`; the server makes it MNIST-like with the same code as
//! `cnn predict` on an image file ([`digit_from_bytes`]), classifies it and
//! answers JSON: `{"digit", "probabilities", "ms"}`, or a 400 with
//! `{"error"}` for input that is not a drawing.
//!
//! Hostile or broken clients cannot hold the server: a request's head must
//! arrive within [`HEADER_TIMEOUT`] and its body within [`BODY_TIMEOUT`],
//! at most [`MAX_CONNECTIONS`] connections are served at once (more get a
//! 503 and are closed), and on shutdown requests in flight have [`GRACE`]
//! to finish before every connection is closed. On a loopback address only
//! requests naming this machine (`Host: localhost:PORT`, `127.0.0.1:PORT`,
//! `[::1]:PORT`) are answered, and `POST /predict` takes only `image/png`.
//!
//! Burn's models are not `Sync`, and inference is CPU work that must not
//! stall the async executor: one worker — the thread that calls [`serve`]
//! and owns the model — answers the drawings in turn, fed through a bounded
//! queue; the HTTP side runs on a Tokio runtime in a thread of its own.

use std::future::Future;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::Path;
use std::pin::pin;
use std::sync::Arc;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use image::imageops::{self, FilterType};
use image::{GrayImage, ImageFormat};
use mnist_data::Images;
use mnist_train::BackendKind;
use mnist_train::cli::ModelArgs;
use mnist_train::image_input::{DigitError, digit_from_bytes};
use mnist_train::inference::NoModel;
use mnist_train::inference::{LoadError, Predictor, load_predictor};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot, watch};

use cnn::Part3;

/// The drawing page: HTML, CSS and script in one file, nothing fetched from
/// elsewhere.
pub const PAGE: &str = include_str!("draw.html");

/// The largest request body read. The page's 280×280 canvas is a PNG of a
/// few kilobytes.
pub const MAX_BODY: usize = 256 * 1024;

/// The largest request body read to its end. A body over [`MAX_BODY`] but
/// under this is read and answered with a 400; one over this is cut off
/// unread, and its client may see the connection close while it sends.
const DRAINED_BODY: usize = 4 * MAX_BODY;

/// The page's canvas side, in pixels.
pub const CANVAS: u32 = 280;

/// The largest drawing decoded, in pixels on either side.
pub const MAX_SIDE: u32 = 2048;

/// Drawings waiting for the worker; more get a 503. The page sends one at a
/// time, so only many pages at once fill it.
const QUEUE: usize = 16;

/// Time a client has to send a request's head; on a kept-alive connection
/// the time also runs while it waits for the next request.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Time a client has to send a request's body once its head is read.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections served at once. More are answered 503 and closed, so that
/// slow or idle clients cannot use up the process's file descriptors.
pub const MAX_CONNECTIONS: usize = 128;

/// Connections over [`MAX_CONNECTIONS`] that are answered 503 at once; any
/// more are closed unanswered.
const REFUSALS: usize = 32;

/// How long a refused connection is kept for the client to read its 503.
const REFUSAL_TIME: Duration = Duration::from_millis(500);

/// The longest a connection lives: then it closes after its current
/// request, and the client reconnects.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// Once shutdown starts, the time requests in flight have to finish before
/// their connections are closed.
pub const GRACE: Duration = Duration::from_secs(2);

/// The pause after a failed accept (out of file descriptors, say) before
/// the next one.
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);

/// The page's pixels must not reach anything but this server.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
    style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:";

/// `draw`'s options.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. The default is this machine only; 0.0.0.0 lets
    /// anyone on the network draw.
    #[arg(long, alias = "bind", default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free one (the URL printed tells which).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    #[command(flatten)]
    pub model: ModelArgs<Part3>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    NoModel(#[from] NoModel),
    #[error("--host {host} --port {port}: cannot listen: {message}")]
    Listen {
        host: IpAddr,
        port: u16,
        message: String,
    },
    #[error(transparent)]
    Model(#[from] DigitModelError),
    #[error("the server stopped: {0}")]
    Stopped(String),
}

/// `draw`: listens, loads the model, prints the page's URL and serves
/// until Ctrl-C.
pub fn run(args: ServeArgs) -> Result<(), ServeError> {
    let dir = args.model.checkpoints()?;
    // Listening before the model loads: a taken port fails at once.
    let listener = TcpListener::bind((args.host, args.port)).map_err(|e| ServeError::Listen {
        host: args.host,
        port: args.port,
        message: e.to_string(),
    })?;
    let model = DigitModel::load(&dir, args.model.backend)?;
    let address = listener
        .local_addr()
        .map_err(|e| ServeError::Stopped(e.to_string()))?;
    if !address.ip().is_loopback() {
        println!("Listening on {address}: anyone who can reach this machine can use the page.");
    }
    // Tests and scripts read the URL from this line.
    println!(
        "Draw a digit at http://{address}/ (model {}, {} backend; Ctrl-C stops)",
        dir.display(),
        args.model.backend
    );
    let ctrl_c = async {
        // Without a Ctrl-C handler, serve until killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    serve(listener, model, ctrl_c).map_err(|e| ServeError::Stopped(e.to_string()))
}

/// The model's answer to one drawing.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    /// The most probable digit.
    pub digit: u8,
    /// p(0) … p(9).
    pub probabilities: [f32; 10],
    /// Milliseconds the server took: decoding, preprocessing and inference.
    pub ms: f64,
}

/// Classifies one 28×28 MNIST-style image (row-major, ink bright): the ten
/// probabilities.
pub trait Classify {
    fn classify(&mut self, pixels: &[u8]) -> [f32; 10];
}

impl<C: Classify + ?Sized> Classify for &mut C {
    fn classify(&mut self, pixels: &[u8]) -> [f32; 10] {
        (**self).classify(pixels)
    }
}

/// A trained one-digit model, as [`Classify`].
pub struct DigitModel {
    model: Box<dyn Predictor>,
}

#[derive(Debug, thiserror::Error)]
pub enum DigitModelError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(
        "{dir}: the model reads {height}x{width} images with {heads} answer(s); drawing needs \
         a one-digit 28x28 model such as part 3's"
    )]
    NotOneDigit {
        dir: String,
        height: usize,
        width: usize,
        heads: usize,
    },
}

impl DigitModel {
    /// Loads the model in `checkpoints` (model.json and model.mpk) on
    /// `backend`, which must read one 28×28 digit, and runs it once so that
    /// the first drawing does not pay for the backend's start.
    pub fn load(checkpoints: &Path, backend: BackendKind) -> Result<Self, DigitModelError> {
        let model = load_predictor(checkpoints, backend)?;
        let (height, width) = model.config().image_size();
        let heads = model
            .predict(&Images::new(1, height, width, vec![0; height * width]))
            .heads();
        if (height, width) != (28, 28) || heads != 1 {
            return Err(DigitModelError::NotOneDigit {
                dir: checkpoints.display().to_string(),
                height,
                width,
                heads,
            });
        }
        Ok(Self { model })
    }
}

impl Classify for DigitModel {
    fn classify(&mut self, pixels: &[u8]) -> [f32; 10] {
        let image = Images::new(1, 28, 28, pixels.to_vec());
        self.model.predict(&image).probabilities(0, 0)
    }
}

/// Answers one encoded image (PNG): preprocessing as `cnn predict` does it,
/// then the model.
pub fn answer(image: &[u8], model: &mut impl Classify) -> Result<Answer, DigitError> {
    let start = Instant::now();
    let pixels = digit_from_bytes(image, MAX_SIDE)?;
    let probabilities = model.classify(&pixels);
    Ok(Answer {
        digit: most_probable(&probabilities),
        probabilities,
        ms: start.elapsed().as_secs_f64() * 1e3,
    })
}

fn most_probable(probabilities: &[f32; 10]) -> u8 {
    let mut best = 0;
    for (digit, p) in probabilities.iter().enumerate() {
        if *p > probabilities[best] {
            best = digit;
        }
    }
    best as u8
}

/// A drawing for the worker, and where its answer goes.
struct Job {
    image: Bytes,
    reply: oneshot::Sender<Result<Answer, DigitError>>,
}

/// Serves the page and answers drawings on `listener` with `model` until
/// `shutdown` completes: then it stops accepting, gives requests in flight
/// [`GRACE`] to finish and closes every connection. The calling thread is
/// the worker that runs the model; it returns once the HTTP side has
/// stopped.
pub fn serve(
    listener: TcpListener,
    mut model: impl Classify,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let (jobs, queue) = mpsc::sync_channel::<Job>(QUEUE);
    let app = router(jobs, address);
    let http = std::thread::Builder::new()
        .name("http".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            // The router, and with it the queue's sender, is dropped with
            // the runtime and the connections it still holds: that ends the
            // worker's loop below.
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                accept(listener, app, shutdown).await;
                Ok(())
            })
        })?;
    for job in queue {
        // The client may have gone; its answer is then not needed.
        let _ = job.reply.send(answer(&job.image, &mut model));
    }
    http.join()
        .map_err(|_| std::io::Error::other("the HTTP thread panicked"))?
}

/// Accepts connections until `shutdown` completes, then closes them within
/// [`GRACE`].
async fn accept(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()>,
) {
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let refusals = Arc::new(Semaphore::new(REFUSALS));
    let (closing, closed) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(ACCEPT_PAUSE).await;
            continue;
        };
        if let Ok(permit) = connections.clone().try_acquire_owned() {
            tokio::spawn(connection(stream, app.clone(), closed.clone(), permit));
        } else if let Ok(permit) = refusals.clone().try_acquire_owned() {
            tokio::spawn(refuse(stream, permit));
        }
    }
    drop(listener);
    closing.send_replace(());
    // Every connection ends within GRACE of the signal; the runtime drops
    // any that has not.
    let everyone = u32::try_from(MAX_CONNECTIONS).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(GRACE, connections.acquire_many(everyone)).await;
}

/// Serves one connection until the client leaves, a timeout cuts it off,
/// its lifetime ends or the server shuts down.
async fn connection(
    stream: TcpStream,
    app: Router,
    mut closing: watch::Receiver<()>,
    _slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let mut conn = pin!(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app)));
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = closing.changed() => {}
        () = tokio::time::sleep(CONNECTION_LIFETIME) => {}
    }
    // Lets the request in flight finish, then closes; a half-sent request
    // is cut off when GRACE ends.
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(GRACE, conn).await;
}

/// Answers a connection over the cap with a 503 and closes it.
async fn refuse(mut stream: TcpStream, _slot: OwnedSemaphorePermit) {
    let body = r#"{"error":"busy: too many connections; try again"}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSAL_TIME, async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await?;
        // Closing with the request unread would reset the connection, and
        // the client could lose the answer: read until it closes.
        let mut sink = [0; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
}

fn router(jobs: SyncSender<Job>, address: SocketAddr) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/predict", post(predict))
        .with_state(jobs)
        .layer(middleware::from_fn_with_state(
            HostCheck { address },
            check_host,
        ))
}

/// Which `Host` the server answers. On a loopback address, only names of
/// this machine with the server's port: a page elsewhere whose own name
/// resolves to 127.0.0.1 (DNS rebinding) sends its own name, and is refused
/// before it can read an answer. On any other address the user chose to
/// expose the server, and every name is answered.
#[derive(Clone, Copy)]
struct HostCheck {
    address: SocketAddr,
}

impl HostCheck {
    fn admits(&self, host: &str) -> bool {
        if !self.address.ip().is_loopback() {
            return true;
        }
        let (name, port) = match host.rsplit_once(':') {
            Some((name, port)) if !port.contains(']') => (name, port.parse::<u16>().ok()),
            _ => (host, Some(80)),
        };
        let loopback = name.eq_ignore_ascii_case("localhost")
            || name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        loopback && port == Some(self.address.port())
    }
}

async fn check_host(State(check): State<HostCheck>, request: Request, next: Next) -> Response {
    let host = match request.uri().authority() {
        Some(authority) => Some(authority.to_string()),
        None => request
            .headers()
            .get(header::HOST)
            .map(|host| String::from_utf8_lossy(host.as_bytes()).into_owned()),
    };
    if host.as_deref().is_some_and(|host| check.admits(host)) {
        return next.run(request).await;
    }
    if let Err(timeout) = read_body(request.into_body()).await {
        return timeout;
    }
    match host {
        Some(host) => error(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "Host {host:?} is not this server: open http://{}/",
                check.address
            ),
        ),
        None => error(
            StatusCode::MISDIRECTED_REQUEST,
            format!("no Host header: open http://{}/", check.address),
        ),
    }
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        ],
        PAGE,
    )
        .into_response()
}

/// The type `POST /predict` takes: the page sends its canvas as a PNG.
pub const DRAWING_TYPE: &str = "image/png";

/// Reads a request's body, at most [`DRAINED_BODY`] bytes within
/// [`BODY_TIMEOUT`]. Every request's body is read before it is answered: a
/// client still sending when the connection closes could lose the answer.
async fn read_body(body: Body) -> Result<Result<Bytes, axum::Error>, Response> {
    tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, DRAINED_BODY))
        .await
        .map_err(|_| {
            error(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request's body did not arrive within {} s",
                    BODY_TIMEOUT.as_secs()
                ),
            )
        })
}

async fn predict(State(jobs): State<SyncSender<Job>>, headers: HeaderMap, body: Body) -> Response {
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(timeout) => return timeout,
    };
    // A cross-site form can post text/plain without asking; it gets no
    // answer.
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let essence = content_type
        .as_deref()
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    if !essence.is_some_and(|essence| essence.eq_ignore_ascii_case(DRAWING_TYPE)) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Content-Type {}: POST the drawing as {DRAWING_TYPE}",
                content_type.as_deref().unwrap_or("missing")
            ),
        );
    }
    // Oversized input is a 400 like any unreadable drawing, not a 413.
    let image = match body {
        Ok(image) if image.is_empty() => {
            return error(
                StatusCode::BAD_REQUEST,
                "empty request: POST the drawing as a PNG image".into(),
            );
        }
        Ok(image) if image.len() > MAX_BODY => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "the request has {} bytes; at most {MAX_BODY} are read",
                    image.len()
                ),
            );
        }
        Ok(image) => image,
        Err(rejection) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request (at most {MAX_BODY} bytes): {rejection}"),
            );
        }
    };
    let (reply, answer) = oneshot::channel();
    match jobs.try_send(Job { image, reply }) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy: too many drawings waiting; try again".into(),
            );
        }
        Err(TrySendError::Disconnected(_)) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the model has stopped".into(),
            );
        }
    }
    match answer.await {
        Ok(Ok(answer)) => Json(answer).into_response(),
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the model gave no answer".into(),
        ),
    }
}

#[derive(Serialize)]
struct ErrorBody {
    error: String,
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(ErrorBody { error: message })).into_response()
}

/// An MNIST digit (28×28, ink bright) as the page's canvas sends a drawing:
/// scaled up to the canvas, dark ink on white, PNG. For benchmarks and
/// tests.
pub fn drawing_png(pixels: &[u8]) -> Result<Vec<u8>, String> {
    let digit = GrayImage::from_raw(28, 28, pixels.to_vec())
        .ok_or_else(|| format!("{} pixels are not a 28x28 digit", pixels.len()))?;
    let mut canvas = imageops::resize(&digit, CANVAS, CANVAS, FilterType::Triangle);
    imageops::invert(&mut canvas);
    let mut png = Vec::new();
    canvas
        .write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::HostCheck;

    fn admits(address: &str, host: &str) -> bool {
        let address = address.parse().expect("a socket address");
        HostCheck { address }.admits(host)
    }

    #[test]
    fn on_loopback_only_this_machine_s_names_with_the_port_are_admitted() {
        for host in [
            "127.0.0.1:8000",
            "localhost:8000",
            "LOCALHOST:8000",
            "[::1]:8000",
        ] {
            assert!(admits("127.0.0.1:8000", host), "{host}");
            assert!(admits("[::1]:8000", host), "{host}");
        }
        for host in [
            "rebound.example:8000",
            "localhost.rebound.example:8000",
            "127.0.0.1:8001",
            "127.0.0.1",
            "localhost",
            "[::1]",
            "10.0.0.2:8000",
            "user@localhost:8000",
            "localhost:",
            "",
        ] {
            assert!(!admits("127.0.0.1:8000", host), "{host}");
        }
        // Without a port, a name means port 80.
        assert!(admits("127.0.0.1:80", "localhost"));
        assert!(admits("[::1]:80", "[::1]"));
    }

    #[test]
    fn on_other_addresses_every_name_is_admitted() {
        for address in ["0.0.0.0:8000", "[::]:8000", "192.168.1.2:8000"] {
            for host in ["rebound.example:8000", "192.168.1.2:8000", "anything"] {
                assert!(admits(address, host), "{address} {host}");
            }
        }
    }
}
