//! A `draw` process on a free port, killed when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the server may take to load its model on a busy machine.
const START: Duration = Duration::from_secs(120);

pub struct Server {
    pub child: Child,
    /// The page's URL, as printed: `http://127.0.0.1:PORT/`.
    pub url: String,
}

impl Server {
    /// Starts `draw --port 0` with the committed model and waits for
    /// the URL it prints.
    pub fn start() -> Server {
        Self::spawn(Command::new(env!("CARGO_BIN_EXE_draw")).args(["--port", "0"]))
    }

    /// Starts the server as [`Server::start`] does, allowed at most `files`
    /// open file descriptors.
    pub fn start_with_open_files(files: u32) -> Server {
        Self::spawn(
            Command::new("sh")
                .arg("-c")
                .arg(format!("ulimit -n {files} && exec \"$0\" --port 0"))
                .arg(env!("CARGO_BIN_EXE_draw")),
        )
    }

    fn spawn(command: &mut Command) -> Server {
        let mut child = command
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
                panic!("`draw` printed no URL within {START:?}; stderr:\n{stderr}");
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

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> &str {
        self.url.trim_start_matches("http://").trim_end_matches('/')
    }

    pub fn port(&self) -> u16 {
        let (_, port) = self.address().rsplit_once(':').expect("a port in the URL");
        port.parse().expect("a port number")
    }

    /// A connection to the server.
    pub fn connect(&self) -> TcpStream {
        TcpStream::connect(self.address()).expect("the server accepts a connection")
    }

    /// Sends `request` (head and body, as bytes) on a connection of its
    /// own: the status and the response's body.
    pub fn raw(&self, request: &[u8]) -> (u16, String) {
        let mut stream = self.connect();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a read timeout");
        stream.write_all(request).expect("the request is sent");
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|status| status.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP status in {response:?}"));
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

/// Reads from `stream` until the server closes it or `limit` passes,
/// writing one byte of `trickle` every `every` meanwhile: what was read and
/// how long the connection stayed open.
pub fn trickle(
    stream: &mut TcpStream,
    trickle: &[u8],
    every: Duration,
    limit: Duration,
) -> (String, Duration) {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(every))
        .expect("a read timeout");
    let mut read = Vec::new();
    let mut buffer = [0; 4096];
    let mut bytes = trickle.iter();
    while start.elapsed() < limit {
        if let Some(byte) = bytes.next() {
            // Once the server has closed, writes fail; the read tells.
            let _ = stream.write_all(&[*byte]);
        }
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => read.extend_from_slice(&buffer[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    (String::from_utf8_lossy(&read).into_owned(), start.elapsed())
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
    draw::serve::drawing_png(pixels).expect("an MNIST digit is 28x28")
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
