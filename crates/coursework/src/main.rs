//! `cargo run -p coursework -- <command>`: make the learner edition, grade
//! either edition, watch while you work, or bundle the grader for Gradescope.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use coursework::check::{self, CheckOptions};
use coursework::grade::{self, BuildOptions, ExerciseResult, RunOptions};
use coursework::{Exercise, Manifest, edition, gradescope, report, submission};

#[derive(Parser)]
#[command(
    about = "The course's coursework: exercises, the learner edition and the autograder",
    after_help = "Start with COURSE.md. Examples:\n  \
        cargo run -p coursework -- grade --part 1\n  \
        cargo run -p coursework -- grade p1.relu --watch\n  \
        cargo run -p coursework -- learner-edition --out ../mnist-course-learner\n  \
        cargo run -p coursework -- gradescope --out autograder.zip --part 1\n  \
        cargo run -p coursework -- submit --from /autograder/submission"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the exercises in course order, with their points and prerequisites.
    List,
    /// Print one exercise's statement and hint.
    Show { id: String },
    /// Run the graded tests and print points per part and exercise.
    Grade(GradeArgs),
    /// Write the learner edition: this workspace with every exercise a stub.
    LearnerEdition {
        /// The new edition's folder (new, empty, or an earlier edition).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Leave these exercises solved (for instructors' partial editions).
        #[arg(long, value_name = "ID")]
        solved: Vec<String>,
    },
    /// Test the graded tests: every wrong solution of the catalogue
    /// (crates/coursework/mutants/) must lose points, spoofs must score 0,
    /// every exercise must grade with only its prerequisites solved, and
    /// every part's program must train with only its exercises solved.
    CheckTests(CheckArgs),
    /// Write Gradescope's autograder bundle (setup.sh, run_autograder, the
    /// learner edition and the hidden tests).
    Gradescope {
        #[arg(long, value_name = "FILE.zip")]
        out: PathBuf,
        /// Grade one part only (an assignment per part).
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=4))]
        part: Option<u8>,
    },
    /// Install a learner's upload into this edition: each exercise file found
    /// in DIR replaces this edition's, and nothing else is written.
    ///
    /// The upload may hold the files at their workspace paths
    /// (crates/scratch-numpy-style/src/loss.rs), the same under any folders,
    /// the whole workspace as a .zip, or the files alone: a file alone goes by
    /// its name, and a name two exercise files share (loss.rs) by which one's
    /// text it holds. An upload with no exercise file, or a file that fits
    /// none for certain, is an error that says how to upload.
    Submit {
        /// The upload (Gradescope's /autograder/submission).
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// On an error, write Gradescope's results.json here: score 0 and why.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Also write what went where to this file.
        #[arg(long, value_name = "FILE")]
        log: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct GradeArgs {
    /// Exercises to grade (default: all, or those of --part).
    ids: Vec<String>,
    /// Grade one part only.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=4))]
    part: Option<u8>,
    /// Also write Gradescope's results.json here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Text to put before the points in results.json's output (what
    /// `submit --log` wrote).
    #[arg(long, value_name = "FILE", requires = "json")]
    json_note: Option<PathBuf>,
    /// Regrade the current exercise whenever a source file changes.
    #[arg(long)]
    watch: bool,
    /// Cargo features for the build when every part is graded, so that it
    /// shares the test build's artifacts [default: $COURSEWORK_FEATURES].
    #[arg(long)]
    features: Option<String>,
    /// Longest one graded test may run, in seconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Show Cargo's output while it builds the tests.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Exercises to check (default: all, or those of --part).
    ids: Vec<String>,
    /// Check one part's exercises only.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=4))]
    part: Option<u8>,
    /// Run only these checks (default: all).
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(check::SECTIONS))]
    only: Vec<String>,
    /// Folder for the instrumented edition [default: <target>/coursework-check/instrumented].
    #[arg(long, value_name = "DIR")]
    work: Option<PathBuf>,
    /// Cargo features for its build [default: $COURSEWORK_FEATURES].
    #[arg(long)]
    features: Option<String>,
    /// Longest one graded test may run, in seconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Longest a spoof's test may run, in seconds (one spoof never ends).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    spoof_timeout: u64,
    /// Show Cargo's output while it builds.
    #[arg(long, short)]
    verbose: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace this binary grades: the nearest folder above the current
/// one with the course's manifest.
fn workspace() -> Result<PathBuf> {
    let cwd = std::env::current_dir()?;
    cwd.ancestors()
        .find(|d| d.join("crates/coursework/exercises.toml").is_file())
        .map(Path::to_path_buf)
        .context("run this inside the course's workspace (no crates/coursework/exercises.toml above here)")
}

fn run(command: Command) -> Result<()> {
    let manifest = Manifest::course()?;
    match command {
        Command::List => {
            for e in &manifest.exercises {
                let requires = if e.requires.is_empty() {
                    String::new()
                } else {
                    format!("  (after {})", e.requires.join(", "))
                };
                println!(
                    "{:<28} {:>2} points  {}{requires}",
                    e.id,
                    e.points(),
                    e.title
                );
            }
        }
        Command::Show { id } => {
            let e = manifest.get(&id).with_context(|| unknown(&id))?;
            println!(
                "{} (Part {}, {} points): {}\n",
                e.id,
                e.part,
                e.points(),
                e.title
            );
            println!("{}\nHint: {}", e.statement.trim_end(), e.hint);
        }
        Command::LearnerEdition { out, solved } => {
            let solved: BTreeSet<String> = solved.into_iter().collect();
            let written = edition::write(&workspace()?, &out, &manifest, &solved)?;
            println!(
                "Learner edition in {}: {} files ({} changed), {} exercise blocks made stubs. \
                 Learners start with COURSE.md.",
                out.display(),
                written.files,
                written.changed,
                written.stubs
            );
        }
        Command::Gradescope { out, part } => {
            if out.extension().is_none_or(|e| e != "zip") {
                bail!("--out {}: the bundle is a .zip file", out.display());
            }
            let files = gradescope::write_bundle(&workspace()?, &out, &manifest, part)?;
            let graded = part.map_or("every part".to_string(), |p| format!("Part {p}"));
            println!(
                "Gradescope bundle in {} ({files} files, grading {graded}): upload it as the \
                 assignment's autograder (Ubuntu image); learners submit their workspace \
                 (folder or zip) or the files they changed.",
                out.display()
            );
        }
        Command::Submit { from, json, log } => submit(&from, json.as_deref(), log.as_deref())?,
        Command::Grade(args) => grade_command(&manifest, args)?,
        Command::CheckTests(args) => {
            let exercises = select(&manifest, &args.ids, args.part)?
                .into_iter()
                .map(|e| e.id.clone())
                .collect();
            let options = CheckOptions {
                workspace: workspace()?,
                work: args.work,
                features: args
                    .features
                    .or_else(|| std::env::var("COURSEWORK_FEATURES").ok()),
                timeout: Duration::from_secs(args.timeout),
                spoof_timeout: Duration::from_secs(args.spoof_timeout),
                exercises,
                sections: args.only.into_iter().collect(),
                verbose: args.verbose,
            };
            let problems = check::check_tests(&manifest, &options)?;
            if !problems.is_empty() {
                println!("\n{} problems:", problems.len());
                for p in &problems {
                    println!("  {p}");
                }
                bail!("the graded tests failed {} checks", problems.len());
            }
            println!("\nEvery check passed.");
        }
    }
    Ok(())
}

/// Installs the upload at `from` into this edition; on an error, writes the
/// error as Gradescope's results to `json` before failing.
fn submit(from: &Path, json: Option<&Path>, log: Option<&Path>) -> Result<()> {
    let installed = workspace().and_then(|root| {
        let files = submission::exercise_files(&root)?;
        let plan = submission::plan(from, &root, &files)?;
        submission::install(&root, &plan)?;
        Ok(plan.describe(&files))
    });
    match installed {
        Ok(description) => {
            print!("{description}");
            if let Some(log) = log {
                edition::write_atomically(log, description.as_bytes())?;
            }
            Ok(())
        }
        Err(error) => {
            if let Some(json) = json {
                let text =
                    serde_json::to_string_pretty(&submission::error_json(&format!("{error:#}")))?;
                edition::write_atomically(json, text.as_bytes())?;
            }
            Err(error)
        }
    }
}

fn unknown(id: &str) -> String {
    format!("{id} is not an exercise (see `cargo run -p coursework -- list`)")
}

fn select<'m>(
    manifest: &'m Manifest,
    ids: &[String],
    part: Option<u8>,
) -> Result<Vec<&'m Exercise>> {
    for id in ids {
        manifest.get(id).with_context(|| unknown(id))?;
    }
    let selected: Vec<&Exercise> = manifest
        .exercises
        .iter()
        .filter(|e| ids.is_empty() || ids.contains(&e.id))
        .filter(|e| part.is_none_or(|p| e.part == p))
        .collect();
    if selected.is_empty() {
        bail!("no exercise matches (see `cargo run -p coursework -- list`)");
    }
    Ok(selected)
}

fn grade_command(manifest: &Manifest, args: GradeArgs) -> Result<()> {
    let build = BuildOptions {
        workspace: workspace()?,
        features: args
            .features
            .clone()
            .or_else(|| std::env::var("COURSEWORK_FEATURES").ok()),
        verbose: args.verbose || args.watch,
        target_dir: None,
    };
    let run = RunOptions {
        timeout: Duration::from_secs(args.timeout),
        variants: Vec::new(),
        stop_at_first_failure: false,
    };
    if let Some(json) = &args.json {
        let dir = json
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.is_dir() {
            bail!(
                "--json {}: the folder {} does not exist",
                json.display(),
                dir.display()
            );
        }
    }
    let selected = select(manifest, &args.ids, args.part)?;
    let results = grade::grade(manifest, &selected, &build, &run, &mut |batch| {
        print!("{}", report::parts(batch));
    })?;
    print!("{}", report::total(&results));
    save_progress(&build.workspace, &results);
    if let Some(json) = &args.json {
        let mut value = gradescope::results_json(&results);
        if let Some(note) = &args.json_note {
            let note = std::fs::read_to_string(note)
                .with_context(|| format!("--json-note {}: cannot read", note.display()))?;
            let summary = value["output"].as_str().unwrap_or_default().to_string();
            value["output"] = format!("{}\n{summary}", note.trim_end()).into();
        }
        let text = serde_json::to_string_pretty(&value)?;
        edition::write_atomically(json, text.as_bytes())?;
        println!("Gradescope results in {}", json.display());
    }
    if args.watch {
        watch(manifest, &selected, &results, &build, &run)?;
    }
    Ok(())
}

/// Solved exercises, kept between runs (rustlings keeps its progress too).
const PROGRESS: &str = ".coursework-progress";

fn save_progress(workspace: &Path, results: &[ExerciseResult]) {
    let mut solved: BTreeSet<String> = std::fs::read_to_string(workspace.join(PROGRESS))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    for r in results {
        if r.solved() {
            solved.insert(r.id.clone());
        } else {
            solved.remove(&r.id);
        }
    }
    let text: Vec<String> = solved.into_iter().collect();
    let _ = edition::write_atomically(
        &workspace.join(PROGRESS),
        (text.join("\n") + "\n").as_bytes(),
    );
}

/// The newest modification time of the sources a learner edits.
fn newest_source(workspace: &Path) -> SystemTime {
    fn visit(dir: &Path, newest: &mut SystemTime) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    visit(&path, newest);
                }
            } else if path.extension().is_some_and(|e| e == "rs" || e == "toml")
                && let Ok(modified) = entry.metadata().and_then(|m| m.modified())
            {
                *newest = (*newest).max(modified);
            }
        }
    }
    let mut newest = SystemTime::UNIX_EPOCH;
    visit(&workspace.join("crates"), &mut newest);
    newest
}

/// Regrades the first unsolved exercise of `selected` on every save, moving
/// on when it is solved.
fn watch(
    manifest: &Manifest,
    selected: &[&Exercise],
    first: &[ExerciseResult],
    build: &BuildOptions,
    run: &RunOptions,
) -> Result<()> {
    let mut unsolved: Vec<&Exercise> = selected
        .iter()
        .zip(first)
        .filter(|(_, r)| !r.solved())
        .map(|(e, _)| *e)
        .collect();
    let mut seen = newest_source(&build.workspace);
    while let Some(current) = unsolved.first().copied() {
        println!(
            "\nWatching for changes: now {} ({}). Ctrl-C to stop.",
            current.id, current.title
        );
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let newest = newest_source(&build.workspace);
            if newest > seen {
                seen = newest;
                break;
            }
        }
        let results = grade::grade(manifest, &[current], build, run, &mut |_| ())?;
        print!("{}", report::sheet(&results));
        save_progress(&build.workspace, &results);
        if results.iter().all(ExerciseResult::solved) {
            unsolved.remove(0);
        }
    }
    println!("\nEvery exercise graded here is solved.");
    Ok(())
}
