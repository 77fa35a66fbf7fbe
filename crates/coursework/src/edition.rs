//! The learner edition: the workspace with every exercise's blocks replaced
//! by stubs, and nothing that holds the solutions.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::manifest::Manifest;
use crate::markers::{self, BEGIN};
use crate::mutants::Mutant;

/// What the learner edition leaves out, and why.
pub const LEFT_OUT: &[(&str, &str)] = &[
    (".git/", "the reference's history holds the solutions"),
    (".ci/", "CI of the reference edition"),
    (
        "crates/coursework/tests/editions.rs",
        "checks the editions against the reference blocks",
    ),
    (
        "/reference/",
        "the PyTorch scripts are the solutions in another framework",
    ),
    (
        "crates/coursework/mutants/",
        "the wrong solutions are edits of the reference's blocks",
    ),
    (
        "*/tests/hidden.rs",
        "the instructor-only graded tests (the Gradescope bundle carries them)",
    ),
];

/// Lists the files of every edition it writes, to tidy the next one.
const FILE_LIST: &str = ".learner-edition";

fn left_out(path: &str) -> bool {
    LEFT_OUT.iter().any(|(pattern, _)| {
        if let Some(tail) = pattern.strip_prefix('*') {
            path.ends_with(tail)
        } else if let Some(inner) = pattern.strip_prefix('/') {
            path.contains(&format!("/{inner}"))
        } else if pattern.ends_with('/') {
            path.starts_with(pattern)
        } else {
            path == *pattern
        }
    })
}

/// The files of the workspace at `root`, relative: git's tracked and
/// untracked-but-not-ignored files, or (outside git) everything but
/// `target/`.
pub fn workspace_files(root: &Path) -> Result<Vec<String>> {
    // git answers for a repository's top folder only (an edition written
    // inside `target/` would otherwise list as ignored, i.e. empty).
    let git = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .output();
    let mut files: Vec<String> = match git {
        Ok(out) if out.status.success() && root.join(".git").exists() => {
            String::from_utf8_lossy(&out.stdout)
                .split('\0')
                .filter(|p| !p.is_empty() && root.join(p).is_file())
                .map(str::to_string)
                .collect()
        }
        _ => {
            let mut found = Vec::new();
            walk(root, root, &mut found)?;
            found
        }
    };
    files.retain(|f| !left_out(f) && f != FILE_LIST);
    files.sort();
    files.dedup();
    Ok(files)
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            if name != "target" && name != ".git" {
                walk(root, &path, found)?;
            }
        } else if let Ok(rel) = path.strip_prefix(root) {
            found.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// Whether `rel` is reference code with marked blocks (the coursework
/// crate's own sources only speak of markers).
pub fn holds_exercises(rel: &str, text: &str) -> bool {
    rel.ends_with(".rs") && !rel.starts_with("crates/coursework/") && text.contains(BEGIN)
}

/// What [`write`] did.
#[derive(Debug, Default)]
pub struct Written {
    pub files: usize,
    pub changed: usize,
    pub stubs: usize,
}

/// Writes the learner edition of the workspace at `root` to `out`, with the
/// exercises in `solved` left as they are (for tests and partial editions).
/// Files whose contents did not change keep their times, so Cargo rebuilds
/// only what changed.
pub fn write(
    root: &Path,
    out: &Path,
    manifest: &Manifest,
    solved: &BTreeSet<String>,
) -> Result<Written> {
    let hint = |id: &str| manifest.get(id).map(|e| e.hint.clone());
    let keep = |id: &str| solved.contains(id);
    let mut stubs = 0;
    let mut marked = BTreeSet::new();
    let suffix = learner_suffix(out)?;
    let mut written = write_edition(root, out, &suffix, &left_out, &mut |rel, text| {
        Ok(if holds_exercises(rel, text) {
            for block in markers::blocks(Path::new(rel), text)? {
                stubs += usize::from(!keep(&block.id));
                marked.insert(block.id);
            }
            Some(markers::stub_out(Path::new(rel), text, &keep, &hint)?)
        } else if rel == "README.md" {
            Some(format!("{EDITION_NOTE}{text}"))
        } else if rel == "run_tests.sh" {
            Some(LEARNER_RUN_TESTS.to_string())
        } else {
            None
        })
    })?;
    check_all_marked(manifest, &marked)?;
    written.stubs = stubs;
    Ok(written)
}

/// Writes the instrumented edition of the workspace at `root` to `out`:
/// every exercise block behind runtime switches (`COURSEWORK_VARIANTS`) for
/// its reference code, its stub (`stub:<id>`) and each mutant of `mutants`
/// (`<id>/<name>`). The coursework checks build it once and run it in every
/// configuration. Its crates are versioned `<version>-check`.
pub fn write_instrumented(
    root: &Path,
    out: &Path,
    manifest: &Manifest,
    mutants: &[Mutant],
) -> Result<Written> {
    let hint = |id: &str| manifest.get(id).map(|e| e.hint.clone());
    let mut found = vec![0usize; mutants.len()];
    let mut marked = BTreeSet::new();
    let only_git = |path: &str| path.starts_with(".git/") || path.starts_with(".ci/");
    let written = write_edition(root, out, "-check", &only_git, &mut |rel, text| {
        if !holds_exercises(rel, text) {
            return Ok(None);
        }
        let mut variants = |block: &markers::Block, body: &str| {
            marked.insert(block.id.clone());
            let mut variants = Vec::new();
            for (n, m) in mutants.iter().enumerate() {
                let (replace, with) = m.edit();
                if m.exercise != block.id {
                    continue;
                }
                let count = body.matches(replace).count();
                found[n] += count;
                if count == 1 {
                    variants.push(markers::Variant {
                        key: m.key(),
                        body: body.replacen(replace, with, 1),
                    });
                }
            }
            variants
        };
        Ok(Some(markers::instrument(
            Path::new(rel),
            text,
            &mut variants,
            &hint,
        )?))
    })?;
    check_all_marked(manifest, &marked)?;
    for (m, count) in mutants.iter().zip(found) {
        if count != 1 {
            bail!(
                "mutant {}: its `replace` text is found {count} times in {}'s blocks (it must be found once)",
                m.key(),
                m.exercise
            );
        }
    }
    Ok(written)
}

fn check_all_marked(manifest: &Manifest, marked: &BTreeSet<String>) -> Result<()> {
    let unmarked: Vec<_> = manifest
        .exercises
        .iter()
        .filter(|e| !marked.contains(&e.id))
        .map(|e| e.id.as_str())
        .collect();
    if !unmarked.is_empty() {
        bail!("no BEGIN EXERCISE block for {}", unmarked.join(", "));
    }
    Ok(())
}

/// Writes an edition of `root` to `out`: every workspace file but those
/// `skip` names, through `transform` (None: unchanged), with the crates
/// versioned `<version><suffix>`.
fn write_edition(
    root: &Path,
    out: &Path,
    suffix: &str,
    skip: &dyn Fn(&str) -> bool,
    transform: &mut dyn FnMut(&str, &str) -> Result<Option<String>>,
) -> Result<Written> {
    let root = root
        .canonicalize()
        .with_context(|| format!("{}: no such workspace", root.display()))?;
    if !root.join("crates/coursework/exercises.toml").is_file() {
        bail!(
            "{}: not the course's workspace (no crates/coursework/exercises.toml)",
            root.display()
        );
    }
    if out.exists() {
        let out_abs = out.canonicalize()?;
        if out_abs.starts_with(&root) && !out_abs.starts_with(root.join("target")) {
            bail!(
                "{}: the edition cannot go inside the workspace it is made from",
                out.display()
            );
        }
        let empty = fs::read_dir(out)?.next().is_none();
        if !empty && !out.join(FILE_LIST).is_file() {
            bail!(
                "{}: not empty and not an edition written here before: choose a new folder",
                out.display()
            );
        }
    }
    let files: Vec<String> = workspace_files(&root)?
        .into_iter()
        .filter(|f| !skip(f))
        .collect();
    let mut written = Written::default();
    for rel in &files {
        let source = root.join(rel);
        let bytes =
            fs::read(&source).with_context(|| format!("{}: cannot read", source.display()))?;
        let bytes = match std::str::from_utf8(&bytes) {
            Ok(text) if rel == "Cargo.toml" => edition_manifest(text, suffix).into_bytes(),
            Ok(text) if rel == "Cargo.lock" => edition_lock(text, suffix).into_bytes(),
            Ok(text) => match transform(rel, text)? {
                Some(changed) => changed.into_bytes(),
                None => bytes,
            },
            Err(_) => bytes,
        };
        let target = out.join(rel);
        if fs::read(&target).ok().as_deref() != Some(&bytes[..]) {
            write_atomically(&target, &bytes)?;
            written.changed += 1;
        }
        written.files += 1;
    }
    // Files the last edition had and this one has not.
    if let Ok(previous) = fs::read_to_string(out.join(FILE_LIST)) {
        let current: BTreeSet<&str> = files.iter().map(String::as_str).collect();
        for stale in previous.lines().filter(|p| !current.contains(p)) {
            let _ = fs::remove_file(out.join(stale));
        }
    }
    write_atomically(&out.join(FILE_LIST), files.join("\n").as_bytes())?;
    Ok(written)
}

/// A learner edition's crates are versioned `<version>-learner-<id>`, the id
/// made from the edition's folder. Cargo names a workspace crate's build by
/// its name, version and path inside the workspace, so two editions of one
/// version built in one target folder would share builds, and Cargo could
/// take one's test binary for up to date with the other's sources (see
/// [`crate::target`] for copies of one edition).
fn learner_suffix(out: &Path) -> Result<String> {
    fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    let path = out.canonicalize()?;
    // FNV-1a: the same id for the same folder, whatever the toolchain.
    let mut hash: u32 = 0x811c_9dc5;
    for byte in path.to_string_lossy().bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    Ok(format!("-learner-{hash:08x}"))
}

/// `line` with the edition's version, if it is a `version = "…"` line.
fn edition_version(line: &str, suffix: &str) -> Option<String> {
    let version = line.strip_prefix("version = \"")?.strip_suffix('"')?;
    Some(format!("version = \"{version}{suffix}\""))
}

/// The workspace's `Cargo.toml` with the edition's version.
fn edition_manifest(text: &str, suffix: &str) -> String {
    let mut in_package = false;
    let mut out = String::with_capacity(text.len() + suffix.len());
    for line in text.lines() {
        if line.starts_with('[') {
            in_package = line.trim() == "[workspace.package]";
        }
        let edition = in_package.then(|| edition_version(line, suffix)).flatten();
        out.push_str(edition.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// `Cargo.lock` with the edition's version for the workspace's own crates
/// (the packages without a `source`).
fn edition_lock(text: &str, suffix: &str) -> String {
    let blocks: Vec<String> = text
        .split("\n\n")
        .map(|block| {
            let own = block.starts_with("[[package]]") && !block.contains("\nsource = ");
            if !own {
                return block.to_string();
            }
            block
                .lines()
                .map(|line| edition_version(line, suffix).unwrap_or_else(|| line.to_string()))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    blocks.join("\n\n")
}

/// The learner edition's `./run_tests.sh`: the reference's checks clippy,
/// formatting and every crate's tests, which the stubs fail by design.
const LEARNER_RUN_TESTS: &str = r#"#!/usr/bin/env bash
# The learner edition's test command: grades your exercises (the same as
# `cargo run -p coursework -- grade`; add `--part 1`, an exercise id, or
# `--watch`). Plain `cargo test` also runs, but fails wherever a stub is left.
set -euo pipefail
cd "$(dirname "$0")"
exec cargo run -q -p coursework -- grade "$@"
"#;

const EDITION_NOTE: &str = "> **Learner edition.** The exercises are stubs (`todo!`) for you to \
fill in: start with [COURSE.md](COURSE.md), and grade your work with \
`cargo run -p coursework -- grade`.\n\n";

/// Writes `bytes` to `path` through a temporary file in the same folder.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("{}: cannot write", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{edition_lock, edition_manifest, left_out};

    #[test]
    fn the_learner_edition_versions_only_the_workspace_crates() {
        let manifest = "[workspace]\nmembers = []\n\n[workspace.package]\nversion = \"0.1.0\"\n\n[workspace.dependencies]\nburn = { version = \"=0.21.0\" }\n";
        let learner = edition_manifest(manifest, "-learner-00c0ffee");
        assert!(learner.contains("[workspace.package]\nversion = \"0.1.0-learner-00c0ffee\"\n"));
        assert!(learner.contains("burn = { version = \"=0.21.0\" }"));
        let lock = "version = 4\n\n[[package]]\nname = \"anyhow\"\nversion = \"1.0.100\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"cnn\"\nversion = \"0.1.0\"\ndependencies = [\n \"anyhow\",\n]\n";
        let learner = edition_lock(lock, "-learner-00c0ffee");
        assert!(learner.contains("name = \"cnn\"\nversion = \"0.1.0-learner-00c0ffee\""));
        assert!(learner.contains("name = \"anyhow\"\nversion = \"1.0.100\""));
        assert!(
            learner.starts_with("version = 4\n"),
            "the lock file's own version stays"
        );
    }

    #[test]
    fn reference_material_is_left_out() {
        assert!(left_out(".git/config"));
        assert!(left_out("crates/cnn/reference/course_cnn.py"));
        assert!(left_out("crates/coursework/tests/editions.rs"));
        assert!(left_out("crates/cnn/tests/hidden.rs"));
        assert!(left_out("crates/coursework/mutants/part1.toml"));
        assert!(!left_out("crates/cnn/tests/exercises.rs"));
        assert!(!left_out("crates/cnn/src/lib.rs"));
        assert!(!left_out("datasets/mnist/t10k-images-idx3-ubyte.gz"));
    }
}
