//! `mnist-data`: check the committed data, compose two-digit sets, write
//! digits as Hugging Face's parquet, look at a digit.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use mnist_data::{Dataset, Images, Mnist, Result, course_split, mnist, two_digit};

#[derive(Parser)]
#[command(
    version,
    about = "MNIST data for the curriculum: verify, compose two-digit sets, write parquet, show digits"
)]
struct Cli {
    /// Folder with the four MNIST files, or Hugging Face's train-*.parquet and
    /// test-*.parquet (default: $MNIST_DIR, else datasets/mnist).
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
    /// Write the first images of a split as a parquet file in Hugging Face's
    /// layout (image: struct of PNG bytes and path, label: int64).
    ToParquet {
        #[arg(long, value_enum, default_value = "test")]
        split: SplitName,
        /// Number of images (default: the whole split).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        count: Option<u64>,
        /// The parquet file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print a digit as text, with its label(s).
    Show {
        #[arg(long, value_enum, default_value = "test")]
        split: SplitName,
        /// Show from a two-digit set at this prefix, or from a parquet file,
        /// instead of MNIST.
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
            match &mnist.source {
                mnist::MnistSource::Idx(_) => {
                    println!("MNIST in {}: checksums verified", dir.display());
                }
                parquet => println!("MNIST from {parquet}: every image and label valid"),
            }
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
        Command::ToParquet { split, count, out } => {
            if out.is_dir() {
                return Err(format!("--out {}: is a folder, not a file", out.display()));
            }
            let source = pick(load().map_err(|e| e.to_string())?, split);
            let count = count.map_or(source.len(), |c| usize::try_from(c).unwrap_or(usize::MAX));
            let set = source.take(count);
            mnist_data::parquet::write_parquet(&out, &set).map_err(|e| e.to_string())?;
            println!("wrote {} images to {}", set.len(), out.display());
        }
        Command::Show { split, data, index } => {
            let set = match data {
                Some(file) if file.extension().is_some_and(|e| e == "parquet") => {
                    mnist_data::parquet::read_parquet(&file).map_err(|e| e.to_string())?
                }
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
