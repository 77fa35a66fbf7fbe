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

/// Scores by exercise id of the visible entries: (score, max_score,
/// output), the hidden tests' entries added into score and max_score.
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
    let mut scores: BTreeMap<String, (u64, u64, String)> = BTreeMap::new();
    for t in tests {
        assert!(t["name"].as_str().is_some_and(|n| !n.is_empty()));
        let number = t["number"].as_str().expect("number");
        let score = t["score"].as_u64().expect("score");
        let max = t["max_score"].as_u64().expect("max_score");
        let output = t["output"].as_str().expect("output");
        let visibility = t["visibility"].as_str().expect("visibility");
        let (id, hidden) = match number.rsplit_once('.') {
            Some((id, kind)) if kind == visibility && kind != "visible" => (id, true),
            _ => (number, false),
        };
        assert!(
            hidden || visibility == "visible",
            "{number}: a visible entry"
        );
        let entry = scores.entry(id.to_string()).or_default();
        entry.0 += score;
        entry.1 += max;
        if !hidden {
            entry.2 = output.to_string();
        }
    }
    scores
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

/// `text` with every learner edition's id (`-learner-<8 hex digits>`) taken
/// out: each edition's folder gives its crates their own version.
fn without_edition_id(text: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = &text[..];
    while let Some(at) = rest.find("-learner-") {
        let after = &rest[at + "-learner-".len()..];
        let id_len = after.chars().take_while(char::is_ascii_hexdigit).count();
        out.push_str(&rest[..at + "-learner".len()]);
        rest = if id_len == 8 {
            &after[8..]
        } else {
            &rest[at + "-learner".len()..]
        };
    }
    out.push_str(rest);
    out.into_bytes()
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
        let bundled = std::fs::read(source.join(&rel)).ok();
        assert_eq!(
            bundled.as_deref().map(without_edition_id),
            Some(without_edition_id(&text)),
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
            e.tests.iter().filter(|t| !t.is_hidden()).count(),
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

/// Grades Part 1 of the edition at `dir`: (earned, possible) from its
/// results.json.
fn grade_part_1(dir: &Path) -> (u64, u64) {
    let json = dir.join("part-1.json");
    run(
        Command::new(env!("CARGO_BIN_EXE_coursework"))
            .args(["grade", "--part", "1", "--json"])
            .arg(&json)
            .current_dir(dir),
        "grading Part 1",
    );
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("results.json")).expect("JSON");
    (
        results["score"].as_u64().expect("score"),
        results["max_score"].as_u64().expect("max_score"),
    )
}

/// Cargo names a workspace crate's builds by name, version and path inside
/// the workspace, and judges them fresh from the times of the files at that
/// path: editions at two places in one target folder must still each be
/// graded on their own code, in either order, as must a copy of one.
#[test]
fn editions_at_two_paths_in_one_target_folder_grade_their_own_code() {
    let manifest = Manifest::course().expect("the manifest");
    let work = target_dir().join("coursework-two-paths");
    // New files every run: builds of earlier runs are not this run's code.
    let _ = std::fs::remove_dir_all(&work);
    let part1: BTreeSet<String> = manifest
        .exercises
        .iter()
        .filter(|e| e.part == 1)
        .map(|e| e.id.clone())
        .collect();
    let solved = work.join("solved");
    let unsolved = work.join("unsolved");
    edition::write(&root(), &solved, &manifest, &part1).expect("a solved edition");
    edition::write(&root(), &unsolved, &manifest, &BTreeSet::new()).expect("a learner edition");
    let (full, max) = grade_part_1(&solved);
    assert!(
        max > 0 && full == max,
        "the solved edition scores {full}/{max}"
    );
    assert_eq!(
        grade_part_1(&unsolved).0,
        0,
        "the unsolved edition after the solved one"
    );
    assert_eq!(
        grade_part_1(&solved).0,
        max,
        "the solved edition after the unsolved one"
    );

    // A copy of the unsolved edition, solved in place: same crates, same
    // versions, another folder, files older than the solved edition's build.
    let copy = work.join("copy");
    let _ = std::fs::remove_dir_all(&copy);
    let status = Command::new("cp")
        .arg("-a")
        .arg(&unsolved)
        .arg(&copy)
        .status()
        .expect("cp");
    assert!(status.success());
    assert_eq!(grade_part_1(&unsolved).0, 0, "the unsolved edition");
    for rel in edition::workspace_files(&solved).expect("its files") {
        let text = std::fs::read(solved.join(&rel)).expect("a file");
        if rel.ends_with(".rs") && std::fs::read(copy.join(&rel)).ok() != Some(text.clone()) {
            std::fs::write(copy.join(&rel), &text).expect("solved in place");
        }
    }
    assert_eq!(grade_part_1(&copy).0, max, "the copy, solved");
    assert_eq!(
        grade_part_1(&unsolved).0,
        0,
        "the unsolved edition after its solved copy"
    );
}

/// The graded tests, tested: `coursework check-tests` (every wrong solution
/// of the catalogue caught, every spoof scored 0, every exercise graded
/// with only its prerequisites solved, every part's program trained with
/// only its exercises solved). It builds the instrumented edition in this
/// target folder, with the test build's features.
#[test]
fn the_graded_tests_catch_every_wrong_solution() {
    let out = Command::new(env!("CARGO_BIN_EXE_coursework"))
        .arg("check-tests")
        .current_dir(root())
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("check-tests");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    assert!(
        out.status.success(),
        "check-tests failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
