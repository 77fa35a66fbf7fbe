//! Part 2 of the course: fully-connected networks on Burn, and how batch
//! size, learning rate, momentum, activation and width move the accuracy.
//!
//! The training core (`mnist-train`) trains, checkpoints and reports every
//! run; this part adds:
//!
//! - [`studies`]: the studies as data: the course table (10 runs), seed
//!   002's batch sizes (5 runs), the t-SNE network, and the reference numbers;
//! - [`sweep`]: the sweep runner: skips what `results.csv` records as
//!   completed with the same settings, records a diverged run and goes on,
//!   resumes an interrupted run from its checkpoint; and MLP-for-MNIST's protocol
//!   (test on the test set after every epoch, keep the last epoch);
//! - [`tables`]: the course table against its references, and MLP-for-MNIST's
//!   plots (accuracy against epoch, final accuracy against batch size, a
//!   batch size × epoch heatmap), generated from the reports;
//! - [`tsne`]: t-SNE of the last hidden layer, untrained against trained;
//! - [`bench`]: time per epoch of the 128-hidden MLP.
//!
//! `src/main.rs` is the command line (`cargo run -p fc-tuning -- --help`).

pub mod bench;
pub mod studies;
pub mod sweep;
pub mod tables;
pub mod tsne;

/// The part's folder under `reports/`.
pub const PART: &str = "fc-tuning";

/// The part's seed (split, shuffles, initial weights) unless `--seed` says
/// otherwise.
pub const SEED: u64 = 1;

/// `reports/fc-tuning` in this workspace.
pub fn reports_dir() -> std::path::PathBuf {
    mnist_report::paths::committed_reports_dir(PART)
}

/// Where `--quick` runs write, out of the committed reports:
/// `target/runs/fc-tuning`.
pub fn quick_reports_dir() -> std::path::PathBuf {
    mnist_report::paths::smoke_reports_dir(PART)
}

/// What `fc-tuning --help` says the default command does, from the studies
/// themselves.
pub fn about() -> String {
    let table = studies::course_table();
    let changes: Vec<&str> = table
        .iter()
        .skip(1)
        .take_while(|c| c.hidden == table[0].hidden)
        .map(|c| c.change.as_str())
        .collect();
    let widths: Vec<String> = table
        .iter()
        .filter(|c| c.change == table[0].change)
        .map(|c| {
            c.hidden
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect();
    format!(
        "Part 2: fully-connected networks on MNIST and the tuning study.\n\n\
         With no command, runs the course table: {} on the course split, then one change at \
         a time ({}), for hidden widths {}. Each run's report goes to reports/{PART}/<run>/, \
         the table to reports/{PART}/results.md and course-table.md. A run already completed \
         with the same settings is skipped; an interrupted one resumes from its checkpoint.",
        table[0].describe(),
        changes.join("; "),
        widths.join(" and ")
    )
}
