//! Just enough of the W3C WebDriver protocol (HTTP + JSON) to drive
//! headless Chromium through Debian's `chromedriver`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key of an element reference in WebDriver's JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// A slow CI machine may take this long to start a browser.
const START: Duration = Duration::from_secs(120);

/// The browser and its driver, found where Debian installs them (or on
/// PATH); the test fails, never skips, without them.
pub fn browser_and_driver() -> (PathBuf, PathBuf) {
    let find = |name: &str| {
        let on_path: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|path| {
                std::env::split_paths(&path)
                    .map(|dir| dir.join(name))
                    .collect()
            })
            .unwrap_or_default();
        std::iter::once(Path::new("/usr/bin").join(name))
            .chain(on_path)
            .find(|p| p.is_file())
    };
    match (find("chromium"), find("chromedriver")) {
        (Some(browser), Some(driver)) => (browser, driver),
        (browser, driver) => panic!(
            "this test drives a real browser and needs Chromium ({}) and chromedriver ({}): \
             install them with `apt-get install chromium chromium-driver` (Debian; ./run_tests.sh \
             does this)",
            if browser.is_some() {
                "found"
            } else {
                "missing"
            },
            if driver.is_some() { "found" } else { "missing" },
        ),
    }
}

/// A chromedriver process on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(program: &Path) -> Driver {
        // The port is free when asked for; another process may take it
        // before chromedriver does, so a driver that dies is tried again.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let child = Command::new(program)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts");
            let mut driver = Driver {
                child,
                url: format!("http://127.0.0.1:{port}"),
            };
            let deadline = Instant::now() + START;
            while Instant::now() < deadline {
                if matches!(driver.child.try_wait(), Ok(Some(_))) {
                    break;
                }
                let status = ureq::get(&format!("{}/status", driver.url))
                    .timeout(Duration::from_secs(5))
                    .call();
                if let Ok(status) = status
                    && let Ok(body) = status.into_json::<Value>()
                    && body["value"]["ready"] == true
                {
                    return driver;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("chromedriver ({}) did not start", program.display());
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser session; the browser closes when it is dropped.
pub struct Session {
    base: String,
    // Held for its drop, which kills chromedriver after the session is
    // deleted (`Session::drop` runs before its fields drop).
    _driver: Driver,
    _profile: tempfile::TempDir,
}

/// An element of the page.
#[derive(Clone)]
pub struct Element(String);

impl Element {
    fn json(&self) -> Value {
        json!({ ELEMENT: self.0 })
    }
}

impl Session {
    /// Starts headless Chromium with the flags a closed network needs (no
    /// background connections) and a fresh profile.
    pub fn start() -> Session {
        let (browser, driver_program) = browser_and_driver();
        let driver = Driver::start(&driver_program);
        let profile = tempfile::tempdir().expect("a temporary profile folder");
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--no-first-run".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": browser, "args": args},
        }}});
        let created = call(
            "POST",
            &format!("{}/session", driver.url),
            Some(&capabilities),
        )
        .unwrap_or_else(|e| panic!("Chromium ({}) did not start: {e}", browser.display()));
        let id = created["sessionId"]
            .as_str()
            .expect("a new session has an id");
        Session {
            base: format!("{}/session/{id}", driver.url),
            _driver: driver,
            _profile: profile,
        }
    }

    fn command(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        call(method, &format!("{}{path}", self.base), body)
            .unwrap_or_else(|e| panic!("WebDriver: {e}"))
    }

    pub fn set_window_size(&self, width: u32, height: u32) {
        self.command(
            "POST",
            "/window/rect",
            Some(&json!({"width": width, "height": height})),
        );
    }

    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(&json!({ "url": url })));
    }

    pub fn find(&self, css: &str) -> Element {
        let found = self.command(
            "POST",
            "/element",
            Some(&json!({"using": "css selector", "value": css})),
        );
        Element(
            found[ELEMENT]
                .as_str()
                .unwrap_or_else(|| panic!("no element {css}"))
                .to_string(),
        )
    }

    pub fn click(&self, element: &Element) {
        self.command(
            "POST",
            &format!("/element/{}/click", element.0),
            Some(&json!({})),
        );
    }

    pub fn text(&self, element: &Element) -> String {
        let text = self.command("GET", &format!("/element/{}/text", element.0), None);
        text.as_str().expect("an element's text").to_string()
    }

    /// Runs `script` (a function body) in the page; its return value.
    pub fn execute(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(&json!({"script": script, "args": []})),
        )
    }

    /// Polls `script` until it returns true.
    pub fn wait_until(&self, script: &str, timeout: Duration, what: &str) {
        let deadline = Instant::now() + timeout;
        while self.execute(script) != true {
            assert!(Instant::now() < deadline, "waited {timeout:?} for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Draws `strokes` (points in CSS pixels from the element's centre)
    /// with a pointer of `pointer_type` ("mouse", "pen"), pressing,
    /// moving for `step_ms` per point, and lifting, stroke by stroke.
    pub fn draw(
        &self,
        on: &Element,
        pointer_type: &str,
        strokes: &[Vec<(i64, i64)>],
        step_ms: u64,
    ) {
        let mut actions = Vec::new();
        for stroke in strokes {
            let Some(&(x, y)) = stroke.first() else {
                continue;
            };
            actions.push(
                json!({"type": "pointerMove", "duration": 0, "origin": on.json(), "x": x, "y": y}),
            );
            actions.push(json!({"type": "pointerDown", "button": 0}));
            for &(x, y) in &stroke[1..] {
                actions.push(json!({"type": "pointerMove", "duration": step_ms, "origin": on.json(), "x": x, "y": y}));
            }
            actions.push(json!({"type": "pointerUp", "button": 0}));
        }
        let pointer = json!({"actions": [{
            "type": "pointer",
            "id": "hand",
            "parameters": {"pointerType": pointer_type},
            "actions": actions,
        }]});
        self.command("POST", "/actions", Some(&pointer));
        self.command("DELETE", "/actions", None);
    }

    /// A PNG of the window.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let encoded = self.command("GET", "/screenshot", None);
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("a base64 screenshot"))
            .expect("a screenshot is base64")
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closes the browser.
        let _ = call("DELETE", &self.base, None);
    }
}

/// One WebDriver command: its `value`, or the driver's error message.
fn call(method: &str, url: &str, body: Option<&Value>) -> Result<Value, String> {
    let request = ureq::request(method, url).timeout(START);
    let response = match body {
        Some(body) => request.send_json(body),
        None => request.call(),
    };
    match response {
        Ok(response) => {
            let mut body: Value = response
                .into_json()
                .map_err(|e| format!("{method} {url}: {e}"))?;
            Ok(body["value"].take())
        }
        Err(ureq::Error::Status(status, response)) => {
            let body: Value = response.into_json().unwrap_or_default();
            Err(format!(
                "{method} {url}: {status} {}: {}",
                body["value"]["error"], body["value"]["message"]
            ))
        }
        Err(e) => Err(format!("{method} {url}: {e}")),
    }
}
