//! The two editions checked against each other, through the real grader:
//! the reference grades full marks; the learner edition (written by the
//! Gradescope bundle, graded by its `run_autograder`) builds with clippy
//! warnings denied and grades 0 with every exercise failing through its own
//! stub or waiting for one it builds on; putting one exercise's reference
//! blocks back raises exactly that exercise's points.
//!
//! One test, because every step shares one build of the learner edition.
//! The learner edition leaves this file out (it reads the reference).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use coursework::{Manifest, edition};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace")
}

/// The target folder this test was built in, shared by every build here.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp is in target")
        .to_path_buf()
}

fn run(command: &mut Command, what: &str) -> String {
    let out = command
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect(what);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

/// Scores by exercise id: (score, max_score, output).
fn scores(json: &Path) -> BTreeMap<String, (u64, u64, String)> {
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(json).expect("results.json")).expect("JSON");
    let tests = results["tests"].as_array().expect("a tests array");
    let total: u64 = tests
        .iter()
        .map(|t| t["score"].as_u64().expect("score"))
        .sum();
    assert_eq!(
        results["score"].as_u64(),
        Some(total),
        "the total is the sum of the tests"
    );
    tests
        .iter()
        .map(|t| {
            assert_eq!(t["visibility"], "visible");
            assert!(t["name"].as_str().is_some_and(|n| !n.is_empty()));
            (
                t["number"].as_str().expect("number").to_string(),
                (
                    t["score"].as_u64().expect("score"),
                    t["max_score"].as_u64().expect("max_score"),
                    t["output"].as_str().expect("output").to_string(),
                ),
            )
        })
        .collect()
}

/// Grades the learner edition at `ag/source` with `submission` (relative
/// path → contents) through `run_autograder`.
fn autograde(ag: &Path, submission: &[(String, String)]) -> BTreeMap<String, (u64, u64, String)> {
    let dir = ag.join("submission");
    let _ = std::fs::remove_dir_all(&dir);
    for (rel, text) in submission {
        edition::write_atomically(&dir.join(rel), text.as_bytes()).expect("submission written");
    }
    run(
        Command::new("bash")
            .arg(ag.join("source/run_autograder"))
            .env("AUTOGRADER_ROOT", ag),
        "run_autograder",
    );
    scores(&ag.join("results/results.json"))
}

/// The exercise files of an edition with `solved` put back.
fn submission_with(manifest: &Manifest, ag: &Path, solved: &[&str]) -> Vec<(String, String)> {
    let out = ag.join("partial");
    let solved: BTreeSet<String> = solved.iter().map(|s| s.to_string()).collect();
    edition::write(&root(), &out, manifest, &solved).expect("a partial edition");
    std::fs::read_to_string(ag.join("source/exercise-files.txt"))
        .expect("exercise-files.txt")
        .lines()
        .map(|rel| {
            (
                rel.to_string(),
                std::fs::read_to_string(out.join(rel)).expect("an exercise file"),
            )
        })
        .collect()
}

#[test]
fn reference_and_learner_editions_grade_as_they_should() {
    let manifest = Manifest::course().expect("the manifest");
    let grader = env!("CARGO_BIN_EXE_coursework");
    let work = target_dir().join("coursework-check");
    let ag = work.join("autograder");
    std::fs::create_dir_all(&ag).expect("a work folder");

    // The reference edition: full marks.
    let reference_json = work.join("reference.json");
    run(
        Command::new(grader)
            .args(["grade", "--json"])
            .arg(&reference_json)
            .current_dir(root()),
        "grading the reference",
    );
    for (id, (score, max, output)) in scores(&reference_json) {
        assert!(
            score == max && max > 0,
            "the reference solution of {id} scores {score}/{max}: {output}"
        );
    }

    // The bundle, unpacked as Gradescope does; its learner edition is the
    // one checked from here on.
    let bundle = work.join("bundle.zip");
    run(
        Command::new(grader)
            .args(["gradescope", "--out"])
            .arg(&bundle)
            .current_dir(root()),
        "the bundle",
    );
    let source = ag.join("source");
    let _ = std::fs::remove_dir_all(&source);
    zip::ZipArchive::new(std::fs::File::open(&bundle).expect("the bundle"))
        .expect("a zip")
        .extract(&source)
        .expect("unpacked");
    // Files keep their times across checks, so reruns rebuild little: copy
    // into a stable folder only what changed.
    let learner = work.join("learner");
    edition::write(&root(), &learner, &manifest, &BTreeSet::new()).expect("the learner edition");
    for rel in edition::workspace_files(&learner).expect("its files") {
        let text = std::fs::read(learner.join(&rel)).expect("a file");
        assert_eq!(
            std::fs::read(source.join(&rel)).ok(),
            Some(text),
            "the bundle holds the learner edition ({rel})"
        );
    }
    for (rel, _) in edition::LEFT_OUT {
        assert!(
            !learner.join(rel.trim_start_matches('/')).exists(),
            "{rel} is left out"
        );
    }
    let files =
        std::fs::read_to_string(source.join("exercise-files.txt")).expect("exercise-files.txt");
    for rel in files.lines() {
        let text = std::fs::read_to_string(learner.join(rel)).expect("an exercise file");
        assert!(
            !text.contains("BEGIN EXERCISE"),
            "{rel} keeps a solution block"
        );
    }

    // The learner edition builds with clippy's warnings denied.
    let mut clippy = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    clippy
        .args(["clippy", "--workspace", "--all-targets"])
        .current_dir(&source);
    if let Ok(features) = std::env::var("COURSEWORK_CLIPPY_FEATURES") {
        clippy.args(["--features", &features]);
    }
    clippy.args(["--", "-D", "warnings"]);
    run(&mut clippy, "clippy on the learner edition");

    // Unsolved (the learner edition's own exercise files uploaded, since an
    // empty upload is not graded): 0, each exercise failing through its own
    // stub, or waiting for one it builds on and failing through theirs.
    let unsolved = autograde(&ag, &submission_with(&manifest, &ag, &[]));
    assert_eq!(unsolved.len(), manifest.exercises.len());
    for e in &manifest.exercises {
        let (score, _, output) = &unsolved[&e.id];
        assert_eq!(
            *score, 0,
            "{} scores in the learner edition: {output}",
            e.id
        );
        let mut allowed = manifest.prerequisites(&e.id);
        allowed.insert(e.id.clone());
        let failures: Vec<&str> = output
            .lines()
            .filter(|l| !l.starts_with("waiting for") && !l.starts_with("hint:"))
            .collect();
        assert_eq!(
            failures.len(),
            e.tests.len(),
            "{}: every test fails: {output}",
            e.id
        );
        for line in failures {
            let stub = coursework::grade::stub_id(line);
            assert!(
                stub.as_ref().is_some_and(|s| allowed.contains(s)),
                "{} fails outside its own or its prerequisites' stubs: {line}",
                e.id
            );
            if e.requires.is_empty() {
                assert_eq!(
                    stub.as_deref(),
                    Some(e.id.as_str()),
                    "{} fails through its own stub",
                    e.id
                );
            }
        }
    }

    // One exercise solved: exactly its points.
    let one = autograde(&ag, &submission_with(&manifest, &ag, &["p1.relu"]));
    for (id, (score, max, output)) in &one {
        let expected = if id == "p1.relu" { *max } else { 0 };
        assert_eq!(
            *score, expected,
            "with only p1.relu solved, {id} scores {score}: {output}"
        );
    }

    // All of Part 1 solved: Part 1's points, nothing else.
    let part1: Vec<&str> = manifest
        .exercises
        .iter()
        .filter(|e| e.part == 1)
        .map(|e| e.id.as_str())
        .collect();
    let solved = autograde(&ag, &submission_with(&manifest, &ag, &part1));
    for e in &manifest.exercises {
        let (score, max, output) = &solved[&e.id];
        let expected = if e.part == 1 { *max } else { 0 };
        assert_eq!(
            *score, expected,
            "with Part 1 solved, {} scores {score}: {output}",
            e.id
        );
    }
}
