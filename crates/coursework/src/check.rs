//! `coursework check-tests`: the graded tests, tested.
//!
//! One instrumented edition (see [`crate::edition::write_instrumented`]) is
//! built once; every check runs it with other runtime switches:
//!
//! - **reference**: with no switch, every exercise scores full marks;
//! - **mutants**: each wrong solution of the catalogue makes its exercise
//!   lose points;
//! - **spoofs**: submissions that attack the grader (fake output, exit,
//!   abort, stack overflow, endless loop) score 0 for their exercise, with
//!   the reason they name, and cost no other exercise a point;
//! - **alone**: with one exercise and its prerequisites solved (every other
//!   block a stub), it scores full marks and every other exercise 0;
//! - **parts**: with one part's exercises (and what its program needs)
//!   solved, the part's program trains a `--quick` run and writes its report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::grade::{self, BuildOptions, ExerciseResult, Outcome, RunOptions};
use crate::manifest::{Exercise, Manifest};
use crate::mutants::{self, Mutant};
use crate::{edition, target};

/// The checks, by name.
pub const SECTIONS: &[&str] = &["mutants", "spoofs", "alone", "parts"];

pub struct CheckOptions {
    /// The reference workspace.
    pub workspace: PathBuf,
    /// Where the instrumented edition is written (default: in the target
    /// folder).
    pub work: Option<PathBuf>,
    pub features: Option<String>,
    /// Longest one graded test may run.
    pub timeout: Duration,
    /// Longest a spoof's test may run (the endless loop runs this long).
    pub spoof_timeout: Duration,
    /// The exercises checked (all by default).
    pub exercises: BTreeSet<String>,
    /// The checks to run (all by default).
    pub sections: BTreeSet<String>,
    pub verbose: bool,
}

/// What failed, one line each; empty when every check passed.
pub type Problems = Vec<String>;

pub fn check_tests(manifest: &Manifest, options: &CheckOptions) -> Result<Problems> {
    let workspace = options.workspace.canonicalize()?;
    let catalogue = mutants::load(&workspace, manifest)?;
    let layout = target::layout(&workspace, None)?;
    let work = options
        .work
        .clone()
        .unwrap_or_else(|| layout.target.join("coursework-check").join("instrumented"));
    let started = Instant::now();
    let written = edition::write_instrumented(&workspace, &work, manifest, &catalogue)?;
    println!(
        "Instrumented edition in {} ({} files, {} changed since the last check); building it …",
        work.display(),
        written.files,
        written.changed
    );
    let build_options = BuildOptions {
        workspace: work.clone(),
        features: options.features.clone(),
        verbose: options.verbose,
        target_dir: Some(layout.target.clone()),
    };
    let selected: Vec<&Exercise> = manifest
        .exercises
        .iter()
        .filter(|e| options.exercises.is_empty() || options.exercises.contains(&e.id))
        .collect();
    // The crates that grade the selected exercises and what they build on.
    let mut needed: BTreeSet<String> = BTreeSet::new();
    for e in &selected {
        needed.insert(e.id.clone());
        needed.extend(manifest.prerequisites(&e.id));
    }
    let crates: BTreeSet<&str> = manifest
        .exercises
        .iter()
        .filter(|e| needed.contains(&e.id))
        .map(|e| e.krate.as_str())
        .collect();
    let wants = |section: &str| options.sections.is_empty() || options.sections.contains(section);
    let built = grade::build_tests(
        &crates,
        grade::workspace_wide(manifest, &crates),
        &build_options,
    )?;
    if let Some(error) = &built.error {
        bail!("the instrumented edition does not build: {error}");
    }
    // The programs of the parts checked; a test build makes some of them.
    let mut built_programs = built.programs.clone();
    if wants("parts") {
        let missing: BTreeSet<&str> = (manifest.parts.iter())
            .filter(|part| selected.iter().any(|e| e.part == part.number))
            .map(|part| part.krate.as_str())
            .filter(|krate| !built_programs.contains_key(*krate))
            .collect();
        if !missing.is_empty() {
            built_programs.extend(grade::build_programs(&missing, &build_options)?);
        }
    }
    // Kept apart from the folder the next build links to.
    let programs = keep_programs(&built_programs, &work)?;
    println!("built in {:.0} s", started.elapsed().as_secs_f64());

    let all: Vec<&Exercise> = manifest
        .exercises
        .iter()
        .filter(|e| crates.contains(e.krate.as_str()))
        .collect();
    let run = |variants: Vec<String>, exercises: &[&Exercise], stop: bool, timeout: Duration| {
        let run_options = RunOptions {
            timeout,
            variants,
            stop_at_first_failure: stop,
        };
        let mut results = grade::run_graded(exercises, &built, &work, &run_options)?;
        grade::mark_waiting(manifest, &mut results);
        Ok::<_, anyhow::Error>(results)
    };
    let mut problems = Problems::new();

    // The reference.
    let reference = run(Vec::new(), &selected, false, options.timeout)?;
    for r in &reference {
        if !r.solved() {
            problems.push(format!(
                "the reference fails {}: {}",
                r.id,
                first_failure(r).unwrap_or_default()
            ));
        }
    }
    println!(
        "\nReference: {}/{} exercises score full marks",
        reference.iter().filter(|r| r.solved()).count(),
        reference.len()
    );

    if wants("mutants") {
        check_mutants(&catalogue, &selected, &mut problems, &|key, e| {
            run(vec![key.to_string()], &[e], true, options.timeout)
        })?;
    }
    if wants("spoofs") {
        println!("\nSpoofing submissions, one at a time:");
        for m in catalogue
            .iter()
            .filter(|m| m.is_spoof() && selected.iter().any(|e| e.id == m.exercise))
        {
            let part = manifest.get(&m.exercise).map(|e| e.part);
            let in_part: Vec<&Exercise> = all
                .iter()
                .copied()
                .filter(|e| Some(e.part) == part)
                .collect();
            let results = run(vec![m.key()], &in_part, false, options.spoof_timeout)?;
            check_spoof(manifest, m, &results, &mut problems);
        }
    }
    if wants("alone") {
        println!("\nEach exercise with only its prerequisites solved:");
        for e in &selected {
            let mut solved = manifest.prerequisites(&e.id);
            solved.insert(e.id.clone());
            let results = run(
                stubs_except(manifest, &solved),
                &all,
                false,
                options.timeout,
            )?;
            check_alone(&e.id, &solved, &results, &mut problems);
        }
    }
    if wants("parts") {
        println!("\nEach part's program with only what it needs solved:");
        for part in &manifest.parts {
            if !selected.iter().any(|e| e.part == part.number) {
                continue;
            }
            let Some(program) = programs.get(&part.krate) else {
                problems.push(format!(
                    "part {}: no program {} was built",
                    part.number, part.krate
                ));
                continue;
            };
            let mut solved = BTreeSet::new();
            for e in manifest.exercises.iter().filter(|e| e.part == part.number) {
                solved.insert(e.id.clone());
                solved.extend(manifest.prerequisites(&e.id));
            }
            for id in &part.requires {
                solved.insert(id.clone());
                solved.extend(manifest.prerequisites(id));
            }
            let reports = work.join("part-runs").join(&part.krate);
            let _ = std::fs::remove_dir_all(&reports);
            let outcome = run_program(
                program,
                &work,
                &part.quick,
                &reports,
                &stubs_except(manifest, &solved),
                Duration::from_secs(1800),
            );
            match outcome {
                Ok(seconds) => println!(
                    "  ✓ Part {} ({} {}): trained and reported in {seconds:.0} s",
                    part.number,
                    part.krate,
                    part.quick.join(" ")
                ),
                Err(why) => {
                    println!("  ✗ Part {}: {why:#}", part.number);
                    problems.push(format!("part {}'s program: {why:#}", part.number));
                }
            }
        }
    }
    println!("\nChecked in {:.0} s", started.elapsed().as_secs_f64());
    Ok(problems)
}

/// Every exercise block but those of `solved` turned into its stub.
fn stubs_except(manifest: &Manifest, solved: &BTreeSet<String>) -> Vec<String> {
    manifest
        .exercises
        .iter()
        .filter(|e| !solved.contains(&e.id))
        .map(|e| format!("stub:{}", e.id))
        .collect()
}

fn first_failure(result: &ExerciseResult) -> Option<String> {
    result.tests.iter().find_map(|t| match &t.outcome {
        Outcome::Failed { message, .. } => Some(format!("{}: {message}", t.name)),
        Outcome::Passed => None,
    })
}

type RunOne<'a> = dyn Fn(&str, &Exercise) -> Result<Vec<ExerciseResult>> + 'a;

fn check_mutants(
    catalogue: &[Mutant],
    selected: &[&Exercise],
    problems: &mut Problems,
    run: &RunOne,
) -> Result<()> {
    println!("\nWrong solutions (the catalogue in {}):", mutants::FOLDER);
    let mut table: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for e in selected {
        let of_exercise: Vec<&Mutant> = catalogue
            .iter()
            .filter(|m| m.exercise == e.id && !m.is_spoof())
            .collect();
        let entry = table.entry(e.id.as_str()).or_default();
        for m in &of_exercise {
            let results = run(&m.key(), e)?;
            let result = results.first().context("a result")?;
            entry.0 += 1;
            if result.solved() {
                println!("  SURVIVED {} ({}): {}", m.key(), m.family, m.what);
                problems.push(format!("mutant {} keeps full marks: {}", m.key(), m.what));
            } else {
                entry.1 += 1;
                if let Some(why) = first_failure(result) {
                    println!("  caught   {} ({}) by {why}", m.key(), m.family);
                }
            }
        }
        if of_exercise.len() < 3 {
            problems.push(format!(
                "{} has {} mutants in the catalogue (at least 3)",
                e.id,
                of_exercise.len()
            ));
        }
    }
    println!("\n| exercise | mutants | caught |\n|---|---|---|");
    let (mut total, mut caught) = (0, 0);
    for e in selected {
        let (n, c) = table.get(e.id.as_str()).copied().unwrap_or_default();
        total += n;
        caught += c;
        println!("| {} | {n} | {c} |", e.id);
    }
    println!("| all | {total} | {caught} |");
    Ok(())
}

/// A spoof scores 0, every test failing with its reason; the exercises of
/// its part that do not build on it keep full marks.
fn check_spoof(
    manifest: &Manifest,
    m: &Mutant,
    results: &[ExerciseResult],
    problems: &mut Problems,
) {
    let reason = m.reason.as_deref().unwrap_or_default();
    let mut wrong = Vec::new();
    let mut quoted = String::new();
    for r in results {
        if r.id == m.exercise {
            quoted = first_failure(r).unwrap_or_default();
            let every_test_names_it = r.tests.iter().all(|t| match &t.outcome {
                Outcome::Failed { message, .. } => message.contains(reason),
                Outcome::Passed => false,
            });
            if r.earned() > 0 || !every_test_names_it {
                wrong.push(format!(
                    "it scores {}/{} or fails without the reason {reason:?}: {quoted}",
                    r.earned(),
                    r.possible()
                ));
            }
        } else if !manifest.prerequisites(&r.id).contains(&m.exercise) && !r.solved() {
            wrong.push(format!(
                "{} loses points beside it: {}",
                r.id,
                first_failure(r).unwrap_or_default()
            ));
        }
    }
    if wrong.is_empty() {
        println!(
            "  ✓ {} ({}): 0 points, {quoted}; the others keep theirs",
            m.key(),
            m.what
        );
    }
    for w in wrong {
        println!("  ✗ {}: {w}", m.key());
        problems.push(format!("spoof {}: {w}", m.key()));
    }
}

fn check_alone(
    id: &str,
    solved: &BTreeSet<String>,
    results: &[ExerciseResult],
    problems: &mut Problems,
) {
    let mut wrong = Vec::new();
    for r in results {
        let expected_full = solved.contains(&r.id);
        if expected_full && !r.solved() {
            wrong.push(format!(
                "{} (solved) scores {}/{}: {}",
                r.id,
                r.earned(),
                r.possible(),
                first_failure(r).unwrap_or_default()
            ));
        } else if !expected_full && r.earned() > 0 {
            wrong.push(format!(
                "{} (a stub) scores {}/{}",
                r.id,
                r.earned(),
                r.possible()
            ));
        }
    }
    if wrong.is_empty() {
        let others = results.len() - solved.len();
        println!(
            "  ✓ {id}: full marks with {} solved; the {others} others 0",
            match solved.len() - 1 {
                0 => "nothing else".to_string(),
                1 => "its 1 prerequisite".to_string(),
                n => format!("its {n} prerequisites"),
            }
        );
    } else {
        for w in &wrong {
            println!("  ✗ {id}: {w}");
            problems.push(format!("with only {id} and its prerequisites solved, {w}"));
        }
    }
}

/// Hard links (or copies) of the built part programs, so that a later build
/// in the same target folder cannot swap them.
fn keep_programs(
    built: &BTreeMap<String, PathBuf>,
    work: &Path,
) -> Result<BTreeMap<String, PathBuf>> {
    let folder = work.join("programs");
    std::fs::create_dir_all(&folder)?;
    let mut kept = BTreeMap::new();
    for (krate, exe) in built {
        let Some(name) = exe.file_name() else {
            continue;
        };
        let copy = folder.join(name);
        let _ = std::fs::remove_file(&copy);
        if std::fs::hard_link(exe, &copy).is_err() {
            std::fs::copy(exe, &copy).with_context(|| format!("{}: cannot copy", exe.display()))?;
        }
        kept.insert(krate.clone(), copy);
    }
    Ok(kept)
}

/// Runs a part's program with `args`, its reports in `reports`; the
/// seconds it took, or why it failed.
fn run_program(
    program: &Path,
    workspace: &Path,
    args: &[String],
    reports: &Path,
    variants: &[String],
    timeout: Duration,
) -> Result<f64> {
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .arg("--reports")
        .arg(reports)
        .current_dir(workspace)
        .env(grade::VARIANTS_VAR, variants.join(","))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("{}: cannot run", program.display()))?;
    let stderr = child.stderr.take().context("its stderr")?;
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut text);
        text
    });
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            bail!("still running after {} s", timeout.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let errors = errors.join().unwrap_or_default();
    if !status.success() {
        let last = errors
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        bail!("{} failed: {last}", program.display());
    }
    let mut kinds = BTreeSet::new();
    visit(reports, &mut |p| {
        if let Some(e) = p.extension() {
            kinds.insert(e.to_string_lossy().into_owned());
        }
    });
    for kind in ["md", "csv"] {
        if !kinds.contains(kind) {
            bail!("no .{kind} report in {}", reports.display());
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

fn visit(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            visit(&path, f);
        } else {
            f(&path);
        }
    }
}
