//! Grading a class on Gradescope: the autograder bundle (a learner edition
//! with `setup.sh` and `run_autograder`) and its `results.json`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::json;
use zip::write::SimpleFileOptions;

use crate::edition;
use crate::grade::{self, ExerciseResult, Outcome, TestResult};
use crate::manifest::{HIDDEN_TARGET, Manifest, TEST_TARGET, Visibility};
use crate::submission::EXERCISE_FILES;

/// Gradescope's results format: one visible entry per exercise, and one
/// more per visibility for its hidden tests (their outcomes only, never
/// their messages). The score sums every test.
pub fn results_json(results: &[ExerciseResult]) -> serde_json::Value {
    let mut tests = Vec::new();
    for r in results {
        let visible: Vec<&TestResult> = r.tests.iter().filter(|t| t.visibility.is_none()).collect();
        if !visible.is_empty() || r.tests.is_empty() {
            tests.push(json!({
                "name": format!("{} (Part {}): {}", r.id, r.part, r.title),
                "number": r.id,
                "score": earned(&visible),
                "max_score": possible(&visible),
                "output": feedback(r),
                "visibility": "visible",
            }));
        }
        let groups = hidden_groups(r);
        let both = groups.len() > 1;
        for (visibility, hidden) in groups {
            let name = match (both, visibility) {
                (true, Visibility::AfterPublished) => {
                    "hidden tests, shown when grades are published"
                }
                _ => "hidden tests",
            };
            tests.push(json!({
                "name": format!("{} (Part {}): {name}", r.id, r.part),
                "number": format!("{}.{}", r.id, visibility.as_str()),
                "score": earned(&hidden),
                "max_score": possible(&hidden),
                "output": hidden_feedback(&r.id, &hidden),
                "visibility": visibility.as_str(),
            }));
        }
    }
    let score: u32 = results.iter().map(ExerciseResult::earned).sum();
    let max: u32 = results.iter().map(ExerciseResult::possible).sum();
    let any_hidden = results
        .iter()
        .flat_map(|r| &r.tests)
        .any(|t| t.visibility.is_some());
    json!({
        "score": score,
        "max_score": max,
        "output": format!("{score} of {max} points"),
        "visibility": "visible",
        // The printed sheet counts the hidden tests' points.
        "stdout_visibility": if any_hidden { "hidden" } else { "visible" },
        "tests": tests,
    })
}

fn earned(tests: &[&TestResult]) -> u32 {
    tests
        .iter()
        .filter(|t| t.outcome == Outcome::Passed)
        .map(|t| t.points)
        .sum()
}

fn possible(tests: &[&TestResult]) -> u32 {
    tests.iter().map(|t| t.points).sum()
}

/// An exercise's hidden tests, by visibility.
fn hidden_groups(result: &ExerciseResult) -> Vec<(Visibility, Vec<&TestResult>)> {
    [Visibility::AfterPublished, Visibility::Hidden]
        .into_iter()
        .map(|v| {
            let tests: Vec<&TestResult> = result
                .tests
                .iter()
                .filter(|t| t.visibility == Some(v))
                .collect();
            (v, tests)
        })
        .filter(|(_, tests)| !tests.is_empty())
        .collect()
}

/// Whether a hidden test failed because the edition has no such test (the
/// learner edition leaves `tests/hidden.rs` out).
fn missing(test: &TestResult) -> bool {
    matches!(&test.outcome, Outcome::Failed { message, .. }
        if message.contains(&format!("tests/{HIDDEN_TARGET}.rs")))
}

/// One line per hidden test: the exercise, the test and whether it passed.
/// A failure's message may hold the expected value, so it is never shown;
/// the stub a test ran into is.
pub fn hidden_feedback(id: &str, tests: &[&TestResult]) -> String {
    tests
        .iter()
        .map(|t| {
            let how = match &t.outcome {
                Outcome::Passed => "passed".to_string(),
                _ if missing(t) => format!("not run: this edition has no tests/{HIDDEN_TARGET}.rs"),
                Outcome::Failed {
                    stub: Some(stub), ..
                } => {
                    format!("failed (it ran into the todo!() of {stub})")
                }
                Outcome::Failed { stub: None, .. } => "failed".to_string(),
            };
            format!("{id}: hidden test {}: {how}", t.name)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a learner reads about one exercise's visible tests: each failed
/// test's first line, then the hint, or what it waits for.
pub fn feedback(result: &ExerciseResult) -> String {
    let visible: Vec<&TestResult> = result
        .tests
        .iter()
        .filter(|t| t.visibility.is_none())
        .collect();
    if visible.iter().all(|t| t.outcome == Outcome::Passed) {
        return if visible.len() == result.tests.len() {
            "all tests pass".into()
        } else {
            "all visible tests pass".into()
        };
    }
    let waiting = !result.waiting_for.is_empty();
    let mut lines: Vec<String> = visible
        .iter()
        .filter_map(|t| match &t.outcome {
            Outcome::Failed { message, .. } => Some(format!("{}: {message}", t.name)),
            Outcome::Passed => None,
        })
        .collect();
    if waiting {
        lines.insert(0, format!("waiting for {}", result.waiting_for.join(", ")));
    } else {
        lines.push(format!("hint: {}", result.hint));
    }
    lines.join("\n")
}

/// The hidden tests' outcomes for the terminal, without their messages.
pub fn hidden_summary(result: &ExerciseResult) -> Option<String> {
    let hidden: Vec<&TestResult> = result
        .tests
        .iter()
        .filter(|t| t.visibility.is_some())
        .collect();
    if hidden.is_empty() {
        return None;
    }
    let passed = hidden
        .iter()
        .filter(|t| t.outcome == Outcome::Passed)
        .count();
    let missing = hidden.iter().filter(|t| missing(t)).count();
    Some(if missing == hidden.len() {
        format!(
            "hidden tests: {} not in this edition (Gradescope runs them)",
            hidden.len()
        )
    } else {
        format!("hidden tests: {passed} of {} pass", hidden.len())
    })
}

/// Where Gradescope unpacks the bundle's learner edition.
pub const GRADESCOPE_SOURCE: &str = "/autograder/source";

const SETUP: &str = r#"#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image:
# install Rust if missing, then build the learner edition's graded tests so
# that each submission compiles only what it changed.
set -euo pipefail
root=${AUTOGRADER_ROOT:-/autograder}
cd "$root/source"
if ! command -v cargo >/dev/null && [[ ! -x $HOME/.cargo/bin/cargo ]]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl build-essential >/dev/null
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi
export PATH=$HOME/.cargo/bin:$PATH
cargo build -q -p coursework
"#;

const RUN: &str = r#"#!/usr/bin/env bash
# Gradescope runs this for every submission: `coursework submit` installs
# the exercise files it finds in the upload (at their workspace paths, under
# folders, inside a .zip, or by name) into the learner edition, then the
# grader writes results/results.json. An upload that cannot be installed,
# or a grader that fails, still gets a results.json that says why.
set -euo pipefail
root=${AUTOGRADER_ROOT:-/autograder}
results="$root/results/results.json"
export PATH=$HOME/.cargo/bin:$PATH
mkdir -p "$root/results"
rm -f "$results"
cd "$root/source"
not_graded() {
    [[ -s $results ]] ||
        printf '{"score": 0, "output": "%s", "visibility": "visible", "stdout_visibility": "visible"}\n' "$1" >"$results"
    exit 0
}
cargo run -q -p coursework -- submit --from "$root/submission" --json "$results" \
    --log "$root/results/submitted.txt" ||
    not_graded "Not graded: the upload could not be installed (see the autograder output)."
"#;

/// The hidden tests of the workspace at `root`: `crates/<crate>/tests/hidden.rs`.
pub fn hidden_test_files(root: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let crates = root.join("crates");
    for entry in
        std::fs::read_dir(&crates).with_context(|| format!("{}: cannot list", crates.display()))?
    {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let rel = format!("crates/{name}/tests/{HIDDEN_TARGET}.rs");
        if root.join(&rel).is_file() {
            found.push(rel);
        }
    }
    found.sort();
    Ok(found)
}

/// `setup.sh`'s build of the graded tests, and `run_autograder`'s grading,
/// for the whole course or one part.
fn scripts(manifest: &Manifest, part: Option<u8>, hidden: &[String]) -> (String, String) {
    let crates: BTreeSet<&str> = manifest
        .exercises
        .iter()
        .filter(|e| part.is_none_or(|p| e.part == p))
        .map(|e| e.krate.as_str())
        .collect();
    let hidden_here = hidden.iter().any(|h| {
        crates
            .iter()
            .any(|c| h.starts_with(&format!("crates/{c}/")))
    });
    let targets = if hidden_here {
        format!("--test {TEST_TARGET} --test {HIDDEN_TARGET}")
    } else {
        format!("--test {TEST_TARGET}")
    };
    // The builds the grader makes, in the same form (see
    // `grade::workspace_wide`), so that grading finds them made.
    let workspace = r#"--workspace ${COURSEWORK_FEATURES:+--features "$COURSEWORK_FEATURES"}"#;
    let packages = if grade::workspace_wide(manifest, &crates) {
        workspace.to_string()
    } else {
        crates
            .iter()
            .map(|c| format!("-p {c}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let grade_args = part.map_or_else(String::new, |p| format!("--part {p} "));
    // The grader builds the first part's crate alone before the rest (its
    // results show before Burn builds): prebuild that build too.
    let first = match (part, manifest.exercises.first()) {
        (None, Some(e)) => {
            let hidden = hidden
                .iter()
                .any(|h| h.starts_with(&format!("crates/{}/", e.krate)));
            let targets = if hidden {
                format!("--test {TEST_TARGET} --test {HIDDEN_TARGET}")
            } else {
                format!("--test {TEST_TARGET}")
            };
            format!("cargo test -q --no-run -p {} {targets}\n", e.krate)
        }
        _ => String::new(),
    };
    let setup = format!("{SETUP}{first}cargo test -q --no-run {packages} {targets}\n");
    let run = format!(
        "{RUN}cargo run -q -p coursework -- grade {grade_args}--json \"$results\" \\\n    \
         --json-note \"$root/results/submitted.txt\" ||\n    \
         not_graded \"Not graded: the grader failed (see the autograder output).\"\n"
    );
    (setup, run)
}

/// Writes the bundle for the workspace at `root` to `out` (a `.zip`): the
/// learner edition with the hidden tests put back, and the scripts, which
/// grade every part or only `part`.
pub fn write_bundle(
    root: &Path,
    out: &Path,
    manifest: &Manifest,
    part: Option<u8>,
) -> Result<usize> {
    if let Some(p) = part
        && !manifest.parts().contains(&p)
    {
        bail!("the course has no Part {p}");
    }
    let staging = tempfile::tempdir().context("cannot make a temporary folder")?;
    let edition_dir = staging.path().join("source");
    // Versioned for the folder Gradescope unpacks it in, so that the
    // grader keeps setup.sh's builds.
    let home = edition::suffix_for(Path::new(GRADESCOPE_SOURCE));
    edition::write_for(root, &edition_dir, manifest, &BTreeSet::new(), &home)?;
    let mut files = edition::workspace_files(&edition_dir)?;
    let exercise_files: Vec<String> = edition::workspace_files(root)?
        .into_iter()
        .filter(|f| {
            std::fs::read_to_string(root.join(f)).is_ok_and(|t| edition::holds_exercises(f, &t))
        })
        .collect();
    let hidden = hidden_test_files(root)?;
    let (setup, run) = scripts(manifest, part, &hidden);

    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("{}: cannot write in this folder", out.display()))?;
    {
        let mut zip = zip::ZipWriter::new(tmp.as_file_mut());
        let plain = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o644);
        let script = plain.unix_permissions(0o755);
        zip.start_file("setup.sh", script)?;
        zip.write_all(setup.as_bytes())?;
        zip.start_file("run_autograder", script)?;
        zip.write_all(run.as_bytes())?;
        zip.start_file(EXERCISE_FILES, plain)?;
        zip.write_all((exercise_files.join("\n") + "\n").as_bytes())?;
        files.retain(|f| f != "setup.sh" && f != "run_autograder" && f != EXERCISE_FILES);
        for file in &files {
            zip.start_file(file.as_str(), plain)?;
            let bytes = std::fs::read(edition_dir.join(file))?;
            zip.write_all(&bytes)?;
        }
        for file in &hidden {
            zip.start_file(file.as_str(), plain)?;
            let bytes =
                std::fs::read(root.join(file)).with_context(|| format!("{file}: cannot read"))?;
            zip.write_all(&bytes)?;
        }
        zip.finish()?;
    }
    tmp.persist(out)
        .with_context(|| format!("{}: cannot write", out.display()))?;
    Ok(files.len() + hidden.len() + 3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::TestResult;

    fn test(name: &str, visibility: Option<Visibility>, outcome: Outcome) -> TestResult {
        TestResult {
            name: name.into(),
            points: 1,
            visibility,
            outcome,
        }
    }

    fn failed(message: &str) -> Outcome {
        Outcome::Failed {
            message: message.into(),
            stub: crate::grade::stub_id(message),
        }
    }

    fn result(tests: Vec<TestResult>) -> ExerciseResult {
        ExerciseResult {
            id: "p1.softmax".into(),
            part: 1,
            title: "Softmax".into(),
            hint: "exponentiate and normalise".into(),
            tests,
            waiting_for: Vec::new(),
            hidden_elsewhere: 0,
        }
    }

    #[test]
    fn hidden_tests_have_their_own_entries_without_their_messages() {
        let r = result(vec![
            test("softmax::sums_to_one", None, Outcome::Passed),
            test(
                "hidden::large_logits",
                Some(Visibility::AfterPublished),
                failed("assertion `left == right` failed: left: 0.25, right: 0.5"),
            ),
            test(
                "hidden::shift",
                Some(Visibility::AfterPublished),
                Outcome::Passed,
            ),
            test("hidden::secret", Some(Visibility::Hidden), Outcome::Passed),
        ]);
        let json = results_json(&[r]);
        assert_eq!(json["score"], 3);
        assert_eq!(json["max_score"], 4);
        assert_eq!(json["stdout_visibility"], "hidden");
        let tests = json["tests"].as_array().expect("tests");
        assert_eq!(tests.len(), 3);
        assert_eq!(tests[0]["visibility"], "visible");
        assert_eq!(
            (tests[0]["score"].clone(), tests[0]["max_score"].clone()),
            (1.into(), 1.into())
        );
        assert_eq!(tests[0]["output"], "all visible tests pass");
        assert_eq!(tests[1]["visibility"], "after_published");
        assert_eq!(
            (tests[1]["score"].clone(), tests[1]["max_score"].clone()),
            (1.into(), 2.into())
        );
        let output = tests[1]["output"].as_str().expect("output");
        assert!(
            output.contains("p1.softmax: hidden test hidden::large_logits: failed"),
            "{output}"
        );
        assert!(
            !output.contains("0.5") && !output.contains("left"),
            "{output}"
        );
        assert!(
            tests[1]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("p1.softmax (Part 1): hidden tests"))
        );
        assert_eq!(tests[2]["visibility"], "hidden");
        assert_ne!(tests[1]["number"], tests[2]["number"]);
    }

    #[test]
    fn missing_hidden_tests_say_so_and_visible_ones_keep_their_feedback() {
        let r = result(vec![
            test(
                "softmax::sums_to_one",
                None,
                failed("not yet implemented: p1.softmax: exponentiate"),
            ),
            test(
                "hidden::shift",
                Some(Visibility::Hidden),
                failed("no test hidden::shift in crates/scratch-numpy-style/tests/hidden.rs"),
            ),
        ]);
        let json = results_json(std::slice::from_ref(&r));
        let tests = json["tests"].as_array().expect("tests");
        let visible = tests[0]["output"].as_str().expect("output");
        assert!(
            visible.contains("softmax::sums_to_one: not yet implemented"),
            "{visible}"
        );
        assert!(
            visible.contains("hint: exponentiate and normalise"),
            "{visible}"
        );
        assert!(!visible.contains("hidden::shift"), "{visible}");
        let hidden = tests[1]["output"].as_str().expect("output");
        assert!(hidden.contains("not run"), "{hidden}");
        assert_eq!(
            hidden_summary(&r).as_deref(),
            Some("hidden tests: 1 not in this edition (Gradescope runs them)")
        );
        let json = results_json(&[result(vec![test("a", None, Outcome::Passed)])]);
        assert_eq!(json["stdout_visibility"], "visible");
        assert_eq!(json["tests"][0]["output"], "all tests pass");
    }

    #[test]
    fn a_part_bundle_builds_and_grades_that_part_only() {
        let manifest = Manifest::course().expect("the manifest");
        let hidden = vec!["crates/scratch-numpy-style/tests/hidden.rs".to_string()];
        let (setup, run) = scripts(&manifest, Some(1), &hidden);
        assert!(
            setup.contains(
                "cargo test -q --no-run -p scratch-numpy-style --test exercises --test hidden\n"
            ),
            "{setup}"
        );
        assert!(run.contains("grade --part 1 --json"), "{run}");
        let (setup, run) = scripts(&manifest, Some(3), &hidden);
        assert!(
            setup.contains(
                "--no-run --workspace ${COURSEWORK_FEATURES:+--features \"$COURSEWORK_FEATURES\"} \
                 --test exercises\n"
            ),
            "{setup}"
        );
        assert!(!setup.contains("--test hidden"), "{setup}");
        assert!(run.contains("grade --part 3 --json"), "{run}");
        let (setup, run) = scripts(&manifest, None, &[]);
        assert!(
            setup.contains("cargo test -q --no-run --workspace ${COURSEWORK_FEATURES"),
            "{setup}"
        );
        assert!(run.contains("grade --json"), "{run}");
    }
}
