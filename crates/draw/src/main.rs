//! `draw`: serves a page to draw digits on for Part 3's trained CNN (the
//! default command), and `draw bench` times the page's requests.

use std::process::ExitCode;

use clap::Subcommand;
use draw::bench::BenchServeArgs;
use draw::serve::ServeArgs;

const EXAMPLES: &str = "Examples:
  cargo run --release -p draw                   draw digits at http://127.0.0.1:8000/
  cargo run --release -p draw -- --port 0       on a free port (the URL printed says which)
  cargo run --release -p draw -- --model DIR    with another trained CNN
  cargo run --release -p draw -- bench          time the page's requests";

#[derive(Subcommand)]
enum Command {
    /// Time the drawing page's requests: preprocessing and inference, in
    /// process and over HTTP.
    Bench(BenchServeArgs),
}

fn main() -> ExitCode {
    mnist_report::cli::run_part(
        "draw",
        "A page to draw digits on, read live by Part 3's trained CNN.\n\n\
         With no command, serves the page until Ctrl-C."
            .to_string(),
        EXAMPLES,
        |command: Option<Command>, serve: ServeArgs| match command {
            None => Ok(draw::serve::run(serve)?),
            Some(Command::Bench(args)) => draw::bench::run(args),
        },
    )
}
