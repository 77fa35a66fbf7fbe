#![allow(dead_code)]
//! What the `cnn` binary's tests share: running it, and reading what it
//! printed.

use std::path::Path;
use std::process::{Command, Output};

/// Runs the `cnn` binary with `args`.
pub fn cnn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cnn"))
        .args(args)
        .output()
        .expect("the cnn binary runs")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A temporary path as an argument.
pub fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}
