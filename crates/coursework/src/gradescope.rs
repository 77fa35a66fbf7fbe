//! Grading a class on Gradescope: the autograder bundle (a learner edition
//! with `setup.sh` and `run_autograder`) and its `results.json`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;
use zip::write::SimpleFileOptions;

use crate::edition;
use crate::grade::{ExerciseResult, Outcome};
use crate::manifest::Manifest;

/// Gradescope's results format: one entry per exercise.
pub fn results_json(results: &[ExerciseResult]) -> serde_json::Value {
    let tests: Vec<_> = results
        .iter()
        .map(|r| {
            json!({
                "name": format!("{} (Part {}): {}", r.id, r.part, r.title),
                "number": r.id,
                "score": r.earned(),
                "max_score": r.possible(),
                "output": feedback(r),
                "visibility": "visible",
            })
        })
        .collect();
    let score: u32 = results.iter().map(ExerciseResult::earned).sum();
    let max: u32 = results.iter().map(ExerciseResult::possible).sum();
    json!({
        "score": score,
        "max_score": max,
        "output": format!("{score} of {max} points"),
        "visibility": "visible",
        "stdout_visibility": "visible",
        "tests": tests,
    })
}

/// What a learner reads about one exercise: each failed test's first line,
/// then the hint, or what it waits for.
pub fn feedback(result: &ExerciseResult) -> String {
    if result.solved() {
        return "all tests pass".into();
    }
    let waiting = !result.waiting_for.is_empty();
    let mut lines: Vec<String> = result
        .tests
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
cargo test -q --no-run --workspace --test exercises ${COURSEWORK_FEATURES:+--features "$COURSEWORK_FEATURES"}
"#;

const RUN: &str = r#"#!/usr/bin/env bash
# Gradescope runs this for every submission: the submitted versions of the
# files that hold exercises replace the learner edition's (found at the same
# path, or by file name when the learner uploaded files alone), then the
# grader writes results/results.json.
set -euo pipefail
root=${AUTOGRADER_ROOT:-/autograder}
source_dir="$root/source"
export PATH=$HOME/.cargo/bin:$PATH
while read -r file; do
    for submitted in "$root/submission/$file" "$root/submission/$(basename "$file")"; do
        if [[ -f $submitted ]]; then
            cp "$submitted" "$source_dir/$file"
            echo "graded: $file"
            break
        fi
    done
done < "$source_dir/exercise-files.txt"
mkdir -p "$root/results"
cd "$source_dir"
cargo run -q -p coursework -- grade --json "$root/results/results.json"
"#;

/// Writes the bundle for the workspace at `root` to `out` (a `.zip`).
pub fn write_bundle(root: &Path, out: &Path, manifest: &Manifest) -> Result<usize> {
    let staging = tempfile::tempdir().context("cannot make a temporary folder")?;
    let edition_dir = staging.path().join("source");
    edition::write(root, &edition_dir, manifest, &BTreeSet::new())?;
    let mut files = edition::workspace_files(&edition_dir)?;
    let exercise_files: Vec<String> = edition::workspace_files(root)?
        .into_iter()
        .filter(|f| {
            std::fs::read_to_string(root.join(f)).is_ok_and(|t| edition::holds_exercises(f, &t))
        })
        .collect();

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
        zip.write_all(SETUP.as_bytes())?;
        zip.start_file("run_autograder", script)?;
        zip.write_all(RUN.as_bytes())?;
        zip.start_file("exercise-files.txt", plain)?;
        zip.write_all((exercise_files.join("\n") + "\n").as_bytes())?;
        files.retain(|f| f != "setup.sh" && f != "run_autograder");
        for file in &files {
            zip.start_file(file.as_str(), plain)?;
            let bytes = std::fs::read(edition_dir.join(file))?;
            zip.write_all(&bytes)?;
        }
        zip.finish()?;
    }
    tmp.persist(out)
        .with_context(|| format!("{}: cannot write", out.display()))?;
    Ok(files.len() + 3)
}
