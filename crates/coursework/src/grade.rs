//! The autograder: builds the graded tests (`tests/exercises.rs` of each
//! part), runs them, and scores every exercise from its tests' points.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::manifest::{Exercise, Manifest, TEST_TARGET, Visibility};

/// What to grade and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// The workspace (either edition).
    pub workspace: PathBuf,
    /// Cargo features for the build when every part is graded (a build that
    /// shares a target folder with other builds must ask for their features).
    pub features: Option<String>,
    /// Longest run of one crate's graded tests.
    pub timeout: Duration,
    /// Show Cargo's progress and errors as they come.
    pub verbose: bool,
}

/// How one graded test went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// The first line of the failure, and the exercise whose stub it hit.
    Failed {
        message: String,
        stub: Option<String>,
    },
}

#[derive(Clone, Debug)]
pub struct TestResult {
    pub name: String,
    pub points: u32,
    /// Set for hidden tests: when Gradescope shows their result.
    pub visibility: Option<Visibility>,
    pub outcome: Outcome,
}

#[derive(Clone, Debug)]
pub struct ExerciseResult {
    pub id: String,
    pub part: u8,
    pub title: String,
    pub hint: String,
    pub tests: Vec<TestResult>,
    /// Unsolved exercises this one builds on, when it failed.
    pub waiting_for: Vec<String>,
}

impl ExerciseResult {
    pub fn earned(&self) -> u32 {
        self.tests
            .iter()
            .filter(|t| t.outcome == Outcome::Passed)
            .map(|t| t.points)
            .sum()
    }

    pub fn possible(&self) -> u32 {
        self.tests.iter().map(|t| t.points).sum()
    }

    pub fn solved(&self) -> bool {
        self.earned() == self.possible()
    }

    /// The exercises whose stubs its failing tests ran into.
    pub fn stubs_hit(&self) -> BTreeSet<String> {
        self.tests
            .iter()
            .filter_map(|t| match &t.outcome {
                Outcome::Failed { stub, .. } => stub.clone(),
                Outcome::Passed => None,
            })
            .collect()
    }
}

/// Grades `selected` (ids, in course order).
pub fn grade(
    manifest: &Manifest,
    selected: &[&Exercise],
    options: &Options,
) -> Result<Vec<ExerciseResult>> {
    let crates: BTreeSet<&str> = selected.iter().map(|e| e.krate.as_str()).collect();
    let all_crates: BTreeSet<&str> = manifest
        .exercises
        .iter()
        .map(|e| e.krate.as_str())
        .collect();
    let build = build_tests(&options.workspace, &crates, crates == all_crates, options)?;

    let mut outcomes: BTreeMap<(String, String), Outcome> = BTreeMap::new();
    for krate in &crates {
        let names: Vec<&str> = selected
            .iter()
            .filter(|e| e.krate == *krate)
            .flat_map(|e| e.tests.iter().map(|t| t.name.as_str()))
            .collect();
        let found = match build.executables.get(*krate) {
            Some((exe, dir)) => run_tests(exe, dir, &names, options.timeout)?,
            None => {
                let why = build
                    .error
                    .clone()
                    .unwrap_or_else(|| format!("crates/{krate} has no tests/{TEST_TARGET}.rs"));
                names
                    .iter()
                    .map(|n| (n.to_string(), failed(&why)))
                    .collect()
            }
        };
        for name in names {
            let outcome = found.get(name).cloned().unwrap_or_else(|| {
                failed(&format!(
                    "no test {name} in crates/{krate}/tests/{TEST_TARGET}.rs"
                ))
            });
            outcomes.insert((krate.to_string(), name.to_string()), outcome);
        }
    }

    let mut results: Vec<ExerciseResult> = selected
        .iter()
        .map(|e| ExerciseResult {
            id: e.id.clone(),
            part: e.part,
            title: e.title.clone(),
            hint: e.hint.clone(),
            tests: e
                .tests
                .iter()
                .map(|t| TestResult {
                    name: t.name.clone(),
                    points: t.points,
                    visibility: t.visibility,
                    outcome: outcomes[&(e.krate.clone(), t.name.clone())].clone(),
                })
                .collect(),
            waiting_for: Vec::new(),
        })
        .collect();
    // An exercise that fails while something it builds on is unsolved waits
    // for that (a prerequisite not graded now counts as solved).
    let unsolved: BTreeSet<String> = results
        .iter()
        .filter(|r| !r.solved())
        .map(|r| r.id.clone())
        .collect();
    for result in &mut results {
        if !result.solved() {
            let prerequisites = manifest.prerequisites(&result.id);
            result.waiting_for = manifest
                .exercises
                .iter()
                .filter(|e| prerequisites.contains(&e.id) && unsolved.contains(&e.id))
                .map(|e| e.id.clone())
                .collect();
        }
    }
    Ok(results)
}

fn failed(message: &str) -> Outcome {
    Outcome::Failed {
        message: message.to_string(),
        stub: stub_id(message),
    }
}

/// The exercise id in a stub's panic, `not yet implemented: p1.relu: …`.
pub fn stub_id(message: &str) -> Option<String> {
    let rest = &message[message.find("not yet implemented: ")? + "not yet implemented: ".len()..];
    let id = &rest[..rest.find(':')?];
    id.starts_with('p').then(|| id.to_string())
}

struct Build {
    /// Crate folder name → (test executable, crate folder).
    executables: BTreeMap<String, (PathBuf, PathBuf)>,
    /// Why the build failed, if it did.
    error: Option<String>,
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn build_tests(
    workspace: &Path,
    crates: &BTreeSet<&str>,
    everything: bool,
    options: &Options,
) -> Result<Build> {
    let mut command = cargo();
    command.current_dir(workspace).args([
        "test",
        "--no-run",
        "--message-format",
        "json-render-diagnostics",
    ]);
    if everything {
        command.arg("--workspace");
        if let Some(features) = options.features.as_deref().filter(|f| !f.is_empty()) {
            command.args(["--features", features]);
        }
    } else {
        for krate in crates {
            command.args(["-p", krate]);
        }
    }
    command.args(["--test", TEST_TARGET]);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .context("cannot run cargo (is Rust installed?)")?;
    let stderr = child.stderr.take().context("cargo's stderr")?;
    let verbose = options.verbose;
    let errors = std::thread::spawn(move || {
        let mut first_error = None;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if verbose {
                eprintln!("{line}");
            }
            if first_error.is_none() && line.starts_with("error") {
                first_error = Some(line);
            }
        }
        first_error
    });
    let mut executables = BTreeMap::new();
    let stdout = child.stdout.take().context("cargo's stdout")?;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let is_graded =
            message["reason"] == "compiler-artifact" && message["target"]["name"] == TEST_TARGET;
        if let (true, Some(exe), Some(manifest)) = (
            is_graded,
            message["executable"].as_str(),
            message["manifest_path"].as_str(),
        ) {
            let dir = Path::new(manifest)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            executables.insert(name, (PathBuf::from(exe), dir));
        }
    }
    let status = child.wait()?;
    let first_error = errors.join().unwrap_or_default();
    if !status.success() && executables.is_empty() && first_error.is_none() {
        bail!("cargo test --no-run failed in {}", workspace.display());
    }
    Ok(Build {
        executables,
        error: (!status.success()).then(|| {
            format!(
                "the code does not compile ({}): run `cargo build` to see why",
                first_error.unwrap_or_else(|| "cargo failed".into())
            )
        }),
    })
}

/// Runs the named tests of one test binary; their outcomes by name.
fn run_tests(
    exe: &Path,
    dir: &Path,
    names: &[&str],
    timeout: Duration,
) -> Result<BTreeMap<String, Outcome>> {
    let mut child = Command::new(exe)
        .args(names)
        // One thread: Burn's backends seed one generator per process, and a
        // graded test must not see another test reseed it mid-way.
        .args(["--exact", "--test-threads", "1", "--color", "never"])
        .current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("{}: cannot run", exe.display()))?;
    let mut stdout = child.stdout.take().context("test output")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let start = Instant::now();
    let timed_out = loop {
        if child.try_wait()?.is_some() {
            break false;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break true;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = reader.join().unwrap_or_default();
    let mut outcomes = parse_libtest(&text);
    if timed_out {
        for name in names {
            outcomes.entry(name.to_string()).or_insert_with(|| {
                failed(&format!(
                    "still running after {} s: an endless loop?",
                    timeout.as_secs()
                ))
            });
        }
    }
    Ok(outcomes)
}

/// Outcomes from libtest's plain output: `test NAME ... ok|FAILED` lines,
/// and for failures the `---- NAME stdout ----` section's panic message.
pub fn parse_libtest(text: &str) -> BTreeMap<String, Outcome> {
    let mut outcomes = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        if let Some(name) = rest.strip_suffix(" ... ok") {
            outcomes.insert(name.to_string(), Outcome::Passed);
        } else if let Some(name) = rest.strip_suffix(" ... FAILED") {
            outcomes.insert(name.to_string(), failed("failed"));
        }
    }
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"))
        else {
            continue;
        };
        let mut message = None;
        while let Some(next) = lines.peek() {
            if next.starts_with("---- ") || *next == "failures:" {
                break;
            }
            let next = lines.next().unwrap_or_default();
            if next.starts_with("thread '") && next.contains("panicked at") {
                message = lines.next().map(|m| m.trim().to_string());
            }
        }
        if let (Some(message), Some(outcome)) = (message, outcomes.get_mut(name)) {
            *outcome = failed(&message);
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "
running 3 tests
test relu::slope ... ok
test relu::values ... FAILED
test toy::learns ... FAILED

failures:

---- relu::values stdout ----

thread 'relu::values' panicked at crates/scratch-numpy-style/src/activation.rs:48:17:
not yet implemented: p1.relu: max of 0 and z
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

---- toy::learns stdout ----

thread 'toy::learns' panicked at crates/scratch-numpy-style/tests/exercises.rs:9:5:
the trained toy network misses 7x
by far

failures:
    relu::values
    toy::learns

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out
";

    #[test]
    fn libtest_output_gives_each_test_its_outcome_and_first_message_line() {
        let outcomes = parse_libtest(OUTPUT);
        assert_eq!(outcomes["relu::slope"], Outcome::Passed);
        assert_eq!(
            outcomes["relu::values"],
            Outcome::Failed {
                message: "not yet implemented: p1.relu: max of 0 and z".into(),
                stub: Some("p1.relu".into())
            }
        );
        assert_eq!(
            outcomes["toy::learns"],
            Outcome::Failed {
                message: "the trained toy network misses 7x".into(),
                stub: None
            }
        );
        assert_eq!(outcomes.len(), 3);
    }
}
