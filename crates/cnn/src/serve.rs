//! `cnn serve`: a page to draw a digit on, and the model's live answer.
//!
//! The page (`draw.html`, built into the binary) posts the canvas as a PNG
//! to `POST /predict`; the server makes it MNIST-like with the same code as
//! `cnn predict` on an image file ([`digit_from_bytes`]), classifies it and
//! answers JSON: `{"digit", "probabilities", "ms"}`, or a 400 with
//! `{"error"}` for input that is not a drawing.
//!
//! Burn's models are not `Sync`, and inference is CPU work that must not
//! stall the async executor: one worker — the thread that calls [`serve`]
//! and owns the model — answers the drawings in turn, fed through a bounded
//! queue; the HTTP side runs on a Tokio runtime in a thread of its own.

use std::future::Future;
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use image::imageops::{self, FilterType};
use image::{GrayImage, ImageFormat};
use mnist_data::Images;
use mnist_train::burn::tensor::backend::Backend;
use mnist_train::image_input::{DigitError, digit_from_bytes};
use mnist_train::inference::TrainedModel;
use mnist_train::model::CnnOps;
use serde::Serialize;
use tokio::sync::oneshot;

/// The drawing page: HTML, CSS and script in one file, nothing fetched from
/// elsewhere.
pub const PAGE: &str = include_str!("draw.html");

/// The largest request body read. The page's 280×280 canvas is a PNG of a
/// few kilobytes.
pub const MAX_BODY: usize = 256 * 1024;

/// The page's canvas side, in pixels.
pub const CANVAS: u32 = 280;

/// The largest drawing decoded, in pixels on either side.
pub const MAX_SIDE: u32 = 2048;

/// Drawings waiting for the worker; more get a 503. The page sends one at a
/// time, so only many pages at once fill it.
const QUEUE: usize = 16;

/// The page's pixels must not reach anything but this server.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
    style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:";

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

/// A trained one-digit model on a backend, as [`Classify`].
pub struct DigitModel<B: Backend> {
    model: TrainedModel<B>,
    device: B::Device,
}

impl<B: CnnOps> DigitModel<B> {
    /// Loads the model in `checkpoints` (model.json and model.mpk), which
    /// must read one 28×28 digit, and runs it once so that the first
    /// drawing does not pay for the backend's start.
    pub fn load(checkpoints: &Path, device: B::Device) -> Result<Self, String> {
        let model = TrainedModel::<B>::load(checkpoints, &device).map_err(|e| e.to_string())?;
        let size = model.config.image_size();
        let heads = model
            .predict(
                &Images::new(1, size.0, size.1, vec![0; size.0 * size.1]),
                &device,
            )
            .heads();
        if size != (28, 28) || heads != 1 {
            return Err(format!(
                "{}: the model reads {}x{} images with {heads} answer(s); drawing needs a \
                 one-digit 28x28 model such as part 3's",
                checkpoints.display(),
                size.0,
                size.1
            ));
        }
        Ok(Self { model, device })
    }
}

impl<B: CnnOps> Classify for DigitModel<B> {
    fn classify(&mut self, pixels: &[u8]) -> [f32; 10] {
        let image = Images::new(1, 28, 28, pixels.to_vec());
        self.model.predict(&image, &self.device).probabilities(0, 0)
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
/// `shutdown` completes. The calling thread is the worker that runs the
/// model; it returns once the HTTP side has stopped.
pub fn serve(
    listener: TcpListener,
    mut model: impl Classify,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let (jobs, queue) = mpsc::sync_channel::<Job>(QUEUE);
    let http = std::thread::Builder::new()
        .name("http".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            // The router, and with it the queue's sender, is dropped when
            // the runtime stops: that ends the worker's loop below.
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                axum::serve(listener, router(jobs))
                    .with_graceful_shutdown(shutdown)
                    .await
            })
        })?;
    for job in queue {
        // The client may have gone; its answer is then not needed.
        let _ = job.reply.send(answer(&job.image, &mut model));
    }
    http.join()
        .map_err(|_| std::io::Error::other("the HTTP thread panicked"))?
}

fn router(jobs: SyncSender<Job>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/predict", post(predict))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(jobs)
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

async fn predict(
    State(jobs): State<SyncSender<Job>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // The issue asks for a 400 for oversized input too, not axum's 413.
    let image = match body {
        Ok(image) if image.is_empty() => {
            return error(
                StatusCode::BAD_REQUEST,
                "empty request: POST the drawing as a PNG image".into(),
            );
        }
        Ok(image) => image,
        Err(rejection) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "cannot read the request (at most {MAX_BODY} bytes): {}",
                    rejection.body_text()
                ),
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
