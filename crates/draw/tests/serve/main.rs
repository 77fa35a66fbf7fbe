//! `draw` end to end: its HTTP API (`api.rs`) and the drawing page in
//! a real browser, headless Chromium driven over WebDriver (`browser.rs`).

mod api;
mod browser;
mod hostile;
mod load;
mod server;
mod strokes;
mod webdriver;
