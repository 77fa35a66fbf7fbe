//! Uploads as learners make them, graded by a Part-1 bundle's
//! `run_autograder` in a folder laid out as Gradescope's `/autograder`:
//! the files at their workspace paths, the same under a folder, the whole
//! edition zipped, the files alone (`loss.rs` told apart by its contents);
//! and uploads that cannot be graded, which get a results.json that says
//! why instead of a silent 0.
//!
//! One test, because every run shares one build of the learner edition.

use std::collections::BTreeSet;
use std::io::Write;
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

/// The target folder this test was built in: the learner edition's crates
/// have their own versions, so they share every dependency's build with it.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp is in target")
        .to_path_buf()
}

fn work() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("uploads")
}

/// An upload: relative path → contents.
type Upload = Vec<(String, Vec<u8>)>;

/// Every file under `dir`, relative.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        for entry in std::fs::read_dir(&next).expect("a folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                found.push(rel.to_path_buf());
            }
        }
    }
    found
}

/// Makes `to` hold the files of `from`, writing only those that differ so
/// that Cargo rebuilds only what changed.
fn sync(from: &Path, to: &Path) {
    for rel in files_under(from) {
        let bytes = std::fs::read(from.join(&rel)).expect("a file");
        if std::fs::read(to.join(&rel)).ok().as_deref() != Some(&bytes[..]) {
            edition::write_atomically(&to.join(&rel), &bytes).expect("written");
        }
    }
}

/// Runs `run_autograder` on `upload`; its results.json and its output.
fn autograde(ag: &Path, pristine: &Path, upload: &Upload) -> (Value, String) {
    sync(pristine, &ag.join("source"));
    let submission = ag.join("submission");
    let _ = std::fs::remove_dir_all(&submission);
    std::fs::create_dir_all(&submission).expect("the submission folder");
    for (rel, bytes) in upload {
        edition::write_atomically(&submission.join(rel), bytes).expect("an uploaded file");
    }
    let _ = std::fs::remove_dir_all(ag.join("results"));
    let out = Command::new("bash")
        .arg(ag.join("source/run_autograder"))
        .env("AUTOGRADER_ROOT", ag)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("run_autograder runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "run_autograder failed:\n{text}");
    let json = std::fs::read_to_string(ag.join("results/results.json"))
        .unwrap_or_else(|e| panic!("no results.json ({e}):\n{text}"));
    let json = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    (json, text)
}

fn zipped(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut bytes);
        let options = zip::write::SimpleFileOptions::default();
        for (name, data) in files {
            zip.start_file(name.as_str(), options).expect("an entry");
            zip.write_all(data).expect("written");
        }
        zip.finish().expect("the zip");
    }
    bytes.into_inner()
}

fn base(rel: &str) -> String {
    rel.rsplit('/').next().unwrap_or(rel).to_string()
}

#[test]
fn every_kind_of_upload_is_graded_or_told_how_to_upload() {
    let started = std::time::Instant::now();
    let manifest = Manifest::course().expect("the manifest");
    let grader = env!("CARGO_BIN_EXE_coursework");
    let work = work();
    std::fs::create_dir_all(&work).expect("a work folder");

    // A Part-1 bundle, unpacked as Gradescope does.
    let bundle = work.join("part1.zip");
    let made = Command::new(grader)
        .args(["gradescope", "--part", "1", "--out"])
        .arg(&bundle)
        .current_dir(root())
        .output()
        .expect("the bundle");
    assert!(made.status.success(), "{made:?}");
    let pristine = work.join("bundle");
    let _ = std::fs::remove_dir_all(&pristine);
    zip::ZipArchive::new(std::fs::File::open(&bundle).expect("the bundle"))
        .expect("a zip")
        .extract(&pristine)
        .expect("unpacked");
    let ag = work.join("autograder");
    let run = std::fs::read_to_string(pristine.join("run_autograder")).expect("run_autograder");
    assert!(run.contains("grade --part 1 "), "{run}");
    let listed: Vec<String> = std::fs::read_to_string(pristine.join("exercise-files.txt"))
        .expect("exercise-files.txt")
        .lines()
        .map(str::to_string)
        .collect();

    // Part 1 solved: the files that hold its exercises, and the whole edition.
    let part1: BTreeSet<String> = manifest
        .exercises
        .iter()
        .filter(|e| e.part == 1)
        .map(|e| e.id.clone())
        .collect();
    let full_marks: u64 = manifest
        .exercises
        .iter()
        .filter(|e| e.part == 1)
        .map(|e| u64::from(e.points()))
        .sum();
    let solved = work.join("solved");
    edition::write(&root(), &solved, &manifest, &part1).expect("a solved edition");
    let part1_files: Upload = listed
        .iter()
        .filter(|rel| rel.starts_with("crates/scratch-numpy-style/"))
        .map(|rel| {
            let bytes = std::fs::read(solved.join(rel)).expect("an exercise file");
            let stub = std::fs::read(pristine.join(rel)).expect("its stub");
            assert_ne!(bytes, stub, "{rel} is solved");
            (rel.clone(), bytes)
        })
        .collect();
    assert!(part1_files.iter().any(|(rel, _)| rel.ends_with("/loss.rs")));
    let under = |folder: &str, files: &Upload| -> Upload {
        files
            .iter()
            .map(|(rel, b)| (format!("{folder}{rel}"), b.clone()))
            .collect()
    };
    let notes = ("README.md".to_string(), b"my work".to_vec());

    let not_graded = |name: &str, upload: Upload, says: &[&str]| {
        let (json, text) = autograde(&ag, &pristine, &upload);
        assert_eq!(json["score"], 0, "{name}: {json}\n{text}");
        let output = json["output"].as_str().unwrap_or_default();
        for what in says {
            assert!(output.contains(what), "{name}: {output:?} lacks {what:?}");
        }
        assert!(
            output.contains("the whole workspace as a zip"),
            "{name}: {output}"
        );
        for rel in &listed {
            assert_eq!(
                std::fs::read(ag.join("source").join(rel)).ok(),
                std::fs::read(pristine.join(rel)).ok(),
                "{name}: {rel} is left as it was"
            );
        }
        eprintln!("{name}: not graded, as it should ({:?})", started.elapsed());
    };
    let graded = |name: &str, upload: Upload, says: &str| {
        let (json, text) = autograde(&ag, &pristine, &upload);
        let tests = json["tests"].as_array().expect("tests");
        for t in tests {
            assert_eq!(
                t["score"], t["max_score"],
                "{name}: {} scores {}: {}\n{text}",
                t["name"], t["score"], t["output"]
            );
            assert!(t["number"].as_str().is_some_and(|n| n.starts_with("p1.")));
        }
        assert_eq!(json["score"].as_u64(), Some(full_marks), "{name}: {json}");
        assert_eq!(json["max_score"].as_u64(), Some(full_marks), "{name}");
        let output = json["output"].as_str().unwrap_or_default();
        assert!(output.contains(says), "{name}: {output:?} lacks {says:?}");
        assert!(
            text.contains(says),
            "{name}: prints what went where:\n{text}"
        );
        // The grader gives the edition the version of the folder it is in
        // (here not Gradescope's): otherwise it is the bundle's.
        let source = ag.join("source").canonicalize().expect("the edition");
        let here = edition::suffix_for(&source);
        let bundled = edition::suffix_for(Path::new(coursework::gradescope::GRADESCOPE_SOURCE));
        for rel in [
            "Cargo.toml",
            "crates/scratch-numpy-style/tests/exercises.rs",
        ] {
            assert_eq!(
                std::fs::read_to_string(source.join(rel))
                    .ok()
                    .map(|text| text.replace(&here, &bundled)),
                std::fs::read_to_string(pristine.join(rel)).ok(),
                "{name}: {rel} is the bundle's"
            );
        }
        eprintln!("{name}: full marks ({:?})", started.elapsed());
    };

    not_graded(
        "an empty upload",
        Vec::new(),
        &["none of the exercise files"],
    );
    not_graded(
        "an upload without exercise files",
        vec![notes.clone(), ("main.py".into(), b"print(1)".to_vec())],
        &["none of the exercise files", "README.md"],
    );
    let mut ambiguous: Upload = part1_files
        .iter()
        .filter(|(rel, _)| !rel.ends_with("/loss.rs"))
        .map(|(rel, b)| (base(rel), b.clone()))
        .collect();
    ambiguous.push(("loss.rs".into(), b"pub fn loss() -> f64 { 0.0 }\n".to_vec()));
    not_graded(
        "a loss.rs that is neither",
        ambiguous,
        &["loss.rs", "crates/mnist-models/src/loss.rs"],
    );

    graded(
        "files at their paths",
        [part1_files.clone(), vec![notes.clone()]].concat(),
        "crates/scratch-numpy-style/src/loss.rs ← crates/scratch-numpy-style/src/loss.rs",
    );
    graded(
        "files under a folder",
        under("my-course/", &part1_files),
        "← my-course/crates/scratch-numpy-style/src/toy.rs",
    );
    // The whole edition zipped, with a Cargo.toml and graded tests that
    // must not be copied (they would not build).
    let mut whole: Upload = edition::workspace_files(&solved)
        .expect("the solved edition's files")
        .into_iter()
        .filter(|rel| !rel.starts_with("datasets/"))
        .map(|rel| {
            let bytes = std::fs::read(solved.join(&rel)).expect("a file");
            (format!("mnist-course/{rel}"), bytes)
        })
        .collect();
    for (rel, bytes) in &mut whole {
        if rel.ends_with("/Cargo.toml") || rel.ends_with("/tests/exercises.rs") {
            *bytes = b"not what the grader builds".to_vec();
        }
    }
    graded(
        "the whole edition zipped",
        vec![("mnist-course.zip".into(), zipped(&whole))],
        "mnist-course.zip:mnist-course/crates/scratch-numpy-style/src/network.rs",
    );
    graded(
        "files alone",
        part1_files
            .iter()
            .map(|(rel, b)| (base(rel), b.clone()))
            .collect(),
        "crates/scratch-numpy-style/src/loss.rs ← loss.rs (by its name and contents)",
    );
    eprintln!("every upload graded in {:?}", started.elapsed());
}
