//! `mnist-data`: check the committed data, compose two-digit sets, look at a digit.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use mnist_data::{Dataset, Images, Mnist, Result, course_split, mnist, two_digit};

#[derive(Parser)]
#[command(
    version,
    about = "MNIST data for the curriculum: verify, compose two-digit sets, show digits"
)]
struct Cli {
    /// Folder with the four MNIST files (default: $MNIST_DIR, else datasets/mnist).
    #[arg(long, global = true)]
    dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load MNIST, verify its SHA-256 checksums and print what is there.
    Verify,
    /// Compose a two-digit set (42×28) and save it as IDX.
    Compose {
        /// MNIST split to draw digits from.
        #[arg(long, value_enum, default_value = "test")]
        split: SplitName,
        /// Number of images (at most 500000).
        #[arg(long, default_value_t = two_digit::TEST_COUNT)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output prefix (not a folder): writes PREFIX-images-idx3-ubyte and
        /// PREFIX-labels-idx2-ubyte.
        #[arg(long)]
        out: PathBuf,
        /// Gzip the files (adds .gz).
        #[arg(long)]
        gzip: bool,
    },
    /// Print a digit as text, with its label(s).
    Show {
        #[arg(long, value_enum, default_value = "test")]
        split: SplitName,
        /// Show from a two-digit set at this prefix instead of MNIST.
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long, default_value_t = 0)]
        index: usize,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum SplitName {
    Train,
    Test,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let dir = cli.dir.unwrap_or_else(mnist::default_dir);
    let load = || -> Result<Mnist> { Mnist::load(&dir) };
    let pick = |mnist: Mnist, split| match split {
        SplitName::Train => mnist.train,
        SplitName::Test => mnist.test,
    };
    match cli.command {
        Command::Verify => {
            let start = Instant::now();
            let mnist = load().map_err(|e| e.to_string())?;
            println!("MNIST in {}: checksums verified", dir.display());
            for (name, set) in [("train", &mnist.train), ("test", &mnist.test)] {
                println!("  {name:5} {}", describe(set));
            }
            let split = course_split(mnist.train.len(), 0);
            println!(
                "  course split of train: {} training, {} validation (last 10 %)",
                split.train.len(),
                split.validation.len()
            );
            println!("  loaded in {:.2} s", start.elapsed().as_secs_f64());
        }
        Command::Compose {
            split,
            count,
            seed,
            out,
            gzip,
        } => {
            if count == 0 || count > two_digit::MAX_COUNT {
                return Err(format!(
                    "--count {count} is out of range: give 1 to {}",
                    two_digit::MAX_COUNT
                ));
            }
            mnist_data::idx::check_prefix(&out).map_err(|e| format!("--out {e}"))?;
            let source = pick(load().map_err(|e| e.to_string())?, split);
            let stream = match split {
                SplitName::Train => 0,
                SplitName::Test => 1,
            };
            let set = two_digit::compose(&source, count, seed, stream);
            two_digit::save(&out, &set, gzip).map_err(|e| e.to_string())?;
            println!(
                "wrote {} two-digit images to {}-*",
                set.len(),
                out.display()
            );
        }
        Command::Show { split, data, index } => {
            let set = match data {
                Some(prefix) => two_digit::load(&prefix).map_err(|e| e.to_string())?,
                None => pick(load().map_err(|e| e.to_string())?, split),
            };
            if index >= set.len() {
                return Err(format!(
                    "--index {index} is out of range: the set has {} images",
                    set.len()
                ));
            }
            println!("image {index}, label {:?}", set.labels.of(index));
            print!("{}", ascii(&set.images, index));
        }
    }
    Ok(())
}

fn describe(set: &Dataset) -> String {
    let mut counts = [0usize; 10];
    for &l in &set.labels.values {
        counts[usize::from(l)] += 1;
    }
    format!(
        "{} images of {}x{}, labels per digit {:?}",
        set.len(),
        set.images.height,
        set.images.width,
        counts
    )
}

/// A digit as text, darker characters for brighter pixels.
fn ascii(images: &Images, index: usize) -> String {
    const RAMP: &[u8] = b" .:-=+*#%@";
    images
        .image(index)
        .chunks(images.width)
        .map(|row| {
            let mut line: String = row
                .iter()
                .flat_map(|&p| {
                    let c = RAMP[usize::from(p) * (RAMP.len() - 1) / 255] as char;
                    [c, c]
                })
                .collect();
            line.push('\n');
            line
        })
        .collect()
}
