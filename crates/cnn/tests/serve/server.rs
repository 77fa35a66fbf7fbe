//! A `cnn serve` process on a free port, killed when dropped.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the server may take to load its model on a busy machine.
const START: Duration = Duration::from_secs(120);

pub struct Server {
    child: Child,
    /// The page's URL, as printed: `http://127.0.0.1:PORT/`.
    pub url: String,
}

impl Server {
    /// Starts `cnn serve --port 0` with the committed model and waits for
    /// the URL it prints.
    pub fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cnn"))
            .args(["serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the cnn binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (lines, printed) = mpsc::channel();
        // Reads stdout to its end, so that the server never blocks on it.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut server = Server {
            child,
            url: String::new(),
        };
        loop {
            let Ok(line) = printed.recv_timeout(START) else {
                let _ = server.child.kill();
                let mut stderr = String::new();
                if let Some(mut err) = server.child.stderr.take() {
                    let _ = err.read_to_string(&mut stderr);
                }
                panic!("`cnn serve` printed no URL within {START:?}; stderr:\n{stderr}");
            };
            if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                server.url = url.to_string();
                return server;
            }
        }
    }

    pub fn predict_url(&self) -> String {
        format!("{}predict", self.url)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// MNIST's test set (committed).
pub fn test_set() -> mnist_data::Dataset {
    mnist_data::Mnist::load_default()
        .expect("the committed MNIST files load")
        .test
}

/// An MNIST digit as the page's canvas would send it.
pub fn canvas_png(pixels: &[u8]) -> Vec<u8> {
    cnn::serve::drawing_png(pixels).expect("an MNIST digit is 28x28")
}

/// `image` as a PNG.
pub fn png(image: &image::GrayImage) -> Vec<u8> {
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("a PNG encodes in memory");
    png
}

/// POSTs `body` to `url`: the status and the JSON answer.
pub fn post(url: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let response = match ureq::post(url)
        .set("Content-Type", "image/png")
        .timeout(Duration::from_secs(60))
        .send_bytes(body)
    {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(e) => panic!("POST {url}: {e}"),
    };
    let status = response.status();
    let json = response
        .into_json()
        .expect("the server answers JSON, errors included");
    (status, json)
}
