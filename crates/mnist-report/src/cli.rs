//! The command line every part shares: the flags that mean the same thing in
//! all four parts, and how a binary ends on an error.
//!
//! Each part flattens [`PartArgs`] into its own `clap` parser (the Burn
//! parts add `--backend` and the optimiser's flags on top), so `--quick`,
//! `--seed`, `--epochs`, `--limit`, `--reports` and `--data` read alike
//! everywhere.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use mnist_data::Mnist;

use crate::paths::{committed_reports_dir, smoke_reports_dir};

/// What `--quick` means in every part: a smoke run of this many training
/// images,
pub const QUICK_TRAIN_IMAGES: usize = 3_000;
/// this many validation and test images each,
pub const QUICK_EVAL_IMAGES: usize = 500;
/// and this many epochs.
pub const QUICK_EPOCHS: usize = 1;

fn quick_help() -> String {
    format!(
        "A smoke run: {QUICK_TRAIN_IMAGES} training images, {QUICK_EVAL_IMAGES} validation and \
         test images, {QUICK_EPOCHS} epoch; reported in target/runs/<part> unless --reports is \
         given"
    )
}

/// The flags every part takes.
#[derive(Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct PartArgs {
    /// Epochs (default: the part's).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub epochs: Option<u64>,
    /// Seed for the split, the shuffles, the initial weights and dropout
    /// (default: the part's).
    #[arg(long)]
    pub seed: Option<u64>,
    #[arg(long, help = quick_help())]
    pub quick: bool,
    /// Train on at most this many images (validation and test stay whole);
    /// reported in target/runs/<part> unless --reports is given.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Folder for reports and checkpoints (default: reports/<part> for full
    /// runs, target/runs/<part> for smoke runs and runs on --data).
    #[arg(long, value_name = "DIR")]
    pub reports: Option<PathBuf>,
    /// Train and test on the MNIST in this folder instead of the committed
    /// files: the four IDX files, or Hugging Face's train-*.parquet and
    /// test-*.parquet (there or in its mnist/ folder); reported in
    /// target/runs/<part> unless --reports is given.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

impl PartArgs {
    /// `--epochs`, else one epoch for `--quick`, else `default`.
    pub fn epochs_or(&self, default: usize) -> usize {
        match (self.epochs, self.quick) {
            (Some(epochs), _) => epochs as usize,
            (None, true) => QUICK_EPOCHS,
            (None, false) => default,
        }
    }

    /// `--seed`, else `default`.
    pub fn seed_or(&self, default: u64) -> u64 {
        self.seed.unwrap_or(default)
    }

    /// Whether this is a smoke run (`--quick` or `--limit`), whose reports
    /// stay out of `reports/`.
    pub fn is_smoke_run(&self) -> bool {
        self.quick || self.limit.is_some()
    }

    /// MNIST from `--data`, else the committed files.
    pub fn load_mnist(&self) -> mnist_data::Result<Mnist> {
        match &self.data {
            Some(dir) => Mnist::load(dir),
            None => Mnist::load_default(),
        }
    }

    /// What a run's report records of its data: where `--data` read it
    /// from; nothing for the committed files.
    pub fn data_record(&self, mnist: &Mnist) -> Option<String> {
        self.data.as_ref().map(|_| mnist.source.to_string())
    }

    /// (training images, evaluation images) at most: `--quick` and `--limit`.
    pub fn limits(&self) -> (usize, usize) {
        let limit = self.limit.map(|l| l as usize);
        match (self.quick, limit) {
            (true, limit) => (limit.unwrap_or(QUICK_TRAIN_IMAGES), QUICK_EVAL_IMAGES),
            (false, Some(limit)) => (limit, usize::MAX),
            (false, None) => (usize::MAX, usize::MAX),
        }
    }

    /// Where the part's runs are reported: `--reports` if given; smoke runs
    /// and runs on other data (`--data`) in `target/runs/<part>`; full runs
    /// in `reports/<part>`.
    pub fn reports_dir(&self, part: &str) -> PathBuf {
        match &self.reports {
            Some(dir) => dir.clone(),
            None if self.is_smoke_run() || self.data.is_some() => smoke_reports_dir(part),
            None => committed_reports_dir(part),
        }
    }
}

/// Every binary's `main`: parses the command line as `P` and runs `main`
/// with it. A bad command line, like any error, ends as one `error: …` line
/// and a non-zero exit status; `--help` and `--version` print and exit.
pub fn run<P: Parser>(main: impl FnOnce(P) -> anyhow::Result<()>) -> ExitCode {
    match P::try_parse() {
        Ok(cli) => exit(main(cli)),
        Err(e) if e.use_stderr() => exit(Err(one_line(&e))),
        Err(e) => e.exit(),
    }
}

/// Every part's command line: its subcommands `C`, or none, which runs the
/// default command (training) with its flags `D`, given on their own:
/// `cargo run -p cnn -- --quick`.
#[derive(Parser, Debug)]
#[command(version, args_conflicts_with_subcommands = true)]
pub struct PartCli<C: Subcommand, D: Args> {
    #[command(subcommand)]
    pub command: Option<C>,
    #[command(flatten)]
    pub default: D,
}

/// A part's `main`: parses its command line and runs `main` with the
/// subcommand, if one was given, and the default command's flags. `--help`
/// names the part (`name`), says what it does (`about`: its first line is
/// the short help) and ends with `examples`. Ends as [`run`] does.
pub fn run_part<C: Subcommand, D: Args>(
    name: &'static str,
    about: String,
    examples: &'static str,
    main: impl FnOnce(Option<C>, D) -> anyhow::Result<()>,
) -> ExitCode {
    let short = about
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_string();
    let help = |cli: clap::Command| {
        cli.name(name)
            .about(short)
            .long_about(about)
            .after_help(examples)
    };
    run_part_with(help, main)
}

/// [`run_part`], with the part's own changes to its command line (`help`).
/// A panic in an exercise's stub ends the run with one line naming the
/// exercise (see [`install_stub_hook`]).
pub fn run_part_with<C: Subcommand, D: Args>(
    help: impl FnOnce(clap::Command) -> clap::Command,
    main: impl FnOnce(Option<C>, D) -> anyhow::Result<()>,
) -> ExitCode {
    install_stub_hook();
    let parsed = help(PartCli::<C, D>::command())
        .try_get_matches()
        .and_then(|matches| PartCli::<C, D>::from_arg_matches(&matches));
    match parsed {
        Ok(cli) => exit(main(cli.command, cli.default)),
        Err(e) if e.use_stderr() => exit(Err(one_line(&e))),
        Err(e) => e.exit(),
    }
}

/// clap's message and tips on one line, without its usage lines.
fn one_line(e: &clap::Error) -> anyhow::Error {
    let text = e.to_string();
    let lines: Vec<&str> = (text.lines().map(str::trim))
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect();
    anyhow::anyhow!(
        "{} (see --help)",
        lines.join("; ").trim_start_matches("error: ")
    )
}

/// How every binary ends: `error: …` on one line (with its causes) and a
/// non-zero exit status, or success.
pub fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The exercise a stub's panic message names: the learner edition's
/// exercise bodies are `todo!("p1.relu: <hint>")`, whose message reads
/// `not yet implemented: p1.relu: <hint>`; this returns `p1.relu`.
pub fn stub_exercise(message: &str) -> Option<&str> {
    const TODO: &str = "not yet implemented: ";
    message.match_indices(TODO).find_map(|(at, _)| {
        let (id, _hint) = message[at + TODO.len()..].split_once(": ")?;
        let (part, name) = id.strip_prefix('p')?.split_once('.')?;
        let part_ok = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        (part_ok && name_ok).then_some(id)
    })
}

/// The one line a run that reached the stub of exercise `id` ends with.
pub fn stub_message(id: &str) -> String {
    format!(
        "error: this run needs exercise {id}, still a stub here \
         (see `cargo run -p coursework -- show {id}`)"
    )
}

/// A panic hook for the parts' binaries: a panic in an exercise's stub ends
/// the process with [`stub_message`] and a non-zero exit status instead of
/// the panic's dump; any other panic goes to the hook that was there before.
pub fn install_stub_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        match info.payload_as_str().and_then(stub_exercise) {
            Some(id) => {
                eprintln!("{}", stub_message(id));
                std::process::exit(STUB_EXIT_STATUS);
            }
            None => previous(info),
        }
    }));
}

/// The exit status of a run that reached an exercise's stub.
pub const STUB_EXIT_STATUS: i32 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stubs_panic_names_its_exercise() {
        let hint = "apply returns the larger of 0 and z";
        assert_eq!(
            stub_exercise(&format!("not yet implemented: p1.relu: {hint}")),
            Some("p1.relu")
        );
        assert_eq!(
            stub_exercise("not yet implemented: p4.two-digit-loss: the mean of the heads"),
            Some("p4.two-digit-loss")
        );
        assert_eq!(
            stub_exercise("worker panicked: not yet implemented: p2.mlp: flatten, then linear"),
            Some("p2.mlp")
        );
    }

    #[test]
    fn other_panics_name_no_exercise() {
        for message in [
            "not yet implemented",
            "not yet implemented: ",
            "not yet implemented: a plain todo",
            "not yet implemented: p1.relu",
            "not yet implemented: px.relu: hint",
            "not yet implemented: p.relu: hint",
            "not yet implemented: p1.: hint",
            "not yet implemented: p1.ReLU: hint",
            "not yet implemented: p1.relu and more: hint",
            "p1.relu: hint",
            "index out of bounds: the len is 3 but the index is 3",
        ] {
            assert_eq!(stub_exercise(message), None, "{message:?}");
        }
    }

    #[test]
    fn the_stub_message_is_one_line_naming_the_exercise() {
        let line = stub_message("p1.relu");
        assert_eq!(
            line,
            "error: this run needs exercise p1.relu, still a stub here \
             (see `cargo run -p coursework -- show p1.relu`)"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn quick_means_the_same_smoke_run_everywhere() {
        let quick = PartArgs {
            quick: true,
            ..PartArgs::default()
        };
        assert_eq!(quick.limits(), (QUICK_TRAIN_IMAGES, QUICK_EVAL_IMAGES));
        assert_eq!(quick.epochs_or(10), QUICK_EPOCHS);
        assert_eq!(quick.reports_dir("cnn"), smoke_reports_dir("cnn"));
        let full = PartArgs::default();
        assert_eq!(full.epochs_or(10), 10);
        assert_eq!(full.limits(), (usize::MAX, usize::MAX));
        assert_eq!(full.reports_dir("cnn"), committed_reports_dir("cnn"));
        let limited = PartArgs {
            limit: Some(700),
            epochs: Some(3),
            ..PartArgs::default()
        };
        assert_eq!(limited.limits(), (700, usize::MAX));
        assert_eq!(limited.epochs_or(10), 3);
        assert!(limited.is_smoke_run());
    }

    #[test]
    fn runs_on_other_data_are_reported_outside_the_committed_reports() {
        let other = PartArgs {
            data: Some(PathBuf::from("/data/mnist")),
            ..PartArgs::default()
        };
        assert!(!other.is_smoke_run());
        assert_eq!(other.limits(), (usize::MAX, usize::MAX));
        assert_eq!(other.reports_dir("cnn"), smoke_reports_dir("cnn"));
        let chosen = PartArgs {
            reports: Some(PathBuf::from("/tmp/reports")),
            ..other
        };
        assert_eq!(chosen.reports_dir("cnn"), PathBuf::from("/tmp/reports"));
    }
}
