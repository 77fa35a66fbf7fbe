//! A learner's upload, installed into an edition: every exercise file found
//! in it replaces the edition's.
//!
//! An upload may hold the files at their workspace paths
//! (`crates/scratch-numpy-style/src/loss.rs`), the same under one or more
//! folders (`my-course/crates/…`), a whole workspace as a `.zip`, or the
//! files alone. The workspace is found where exercise files sit at the end
//! of their full paths; files alone are matched by name, and a name two
//! exercise files share by which one's text the file holds. Only the
//! edition's exercise files are ever written, at the paths the edition
//! lists; nothing of the upload names a destination.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::edition;
use crate::markers::BEGIN;

/// The bundle's list of exercise files, one workspace path a line.
pub const EXERCISE_FILES: &str = "exercise-files.txt";

/// What a learner reads after every error: how to upload.
pub const HOW_TO_UPLOAD: &str = "Upload the files at their paths inside the workspace \
(crates/…/src/loss.rs), or the whole workspace as a zip.";

/// Limits on what an upload may make the installer read.
const MAX_FILE_BYTES: u64 = 1 << 20;
const MAX_FILES_SEEN: usize = 200_000;
const MAX_DEPTH: usize = 32;
const MAX_ZIPS: usize = 16;
const MAX_CANDIDATES: usize = 2_000;
/// Folders never searched: builds, history, macOS's zip metadata.
const SKIPPED: &[&str] = &["target", ".git", "__MACOSX", "node_modules"];

/// Why an upload cannot be installed; its text is meant for the learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadError(pub String);

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{HOW_TO_UPLOAD}", self.0)
    }
}

impl std::error::Error for UploadError {}

/// How an upload's file was matched to an exercise file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// At its workspace path, under the workspace found in the upload.
    Path,
    /// By file name, the only exercise file of that name.
    Name,
    /// By file name and by which exercise file's text it holds.
    Contents,
}

/// One exercise file to install.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The exercise file's workspace path.
    pub to: String,
    /// Where it was in the upload (`a.zip:inner/path` inside a zip).
    pub from: String,
    pub by: Match,
    pub bytes: Vec<u8>,
}

/// What [`plan`] found.
#[derive(Debug, Default)]
pub struct Plan {
    pub placements: Vec<Placement>,
    /// Where the workspace sits in the upload, if files were found at their
    /// paths (`""` for the top, `a.zip:` for the top of a zip).
    pub workspace: Option<String>,
    /// Upload files of an exercise file's name that were not used, and why.
    pub ignored: Vec<String>,
}

impl Plan {
    /// What went where, one line each, then the exercise files left as the
    /// edition has them.
    pub fn describe(&self, files: &[String]) -> String {
        let mut lines = Vec::new();
        if let Some(at) = &self.workspace {
            let at = if at.is_empty() { "the top" } else { at };
            lines.push(format!("workspace found in the upload at {at}"));
        }
        for p in &self.placements {
            let how = match p.by {
                Match::Path => "",
                Match::Name => " (by its name)",
                Match::Contents => " (by its name and contents)",
            };
            lines.push(format!("{} ← {}{how}", p.to, p.from));
        }
        lines.extend(self.ignored.iter().map(|i| format!("ignored: {i}")));
        let placed: BTreeSet<&str> = self.placements.iter().map(|p| p.to.as_str()).collect();
        for file in files.iter().filter(|f| !placed.contains(f.as_str())) {
            lines.push(format!("not in the upload (left as it was): {file}"));
        }
        lines.join("\n") + "\n"
    }
}

/// The exercise files of the edition at `root`: its `exercise-files.txt`,
/// or else the files that hold exercise markers or stubs.
pub fn exercise_files(root: &Path) -> Result<Vec<String>> {
    let list = root.join(EXERCISE_FILES);
    let files: Vec<String> = if list.is_file() {
        fs::read_to_string(&list)
            .with_context(|| format!("{}: cannot read", list.display()))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    } else {
        edition::workspace_files(root)?
            .into_iter()
            .filter(|f| {
                f.ends_with(".rs")
                    && !f.starts_with("crates/coursework/")
                    && fs::read_to_string(root.join(f))
                        .is_ok_and(|t| t.contains(BEGIN) || t.contains("todo!(\"p"))
            })
            .collect()
    };
    for file in &files {
        let safe = !file.starts_with('/')
            && !file.contains('\\')
            && file
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..");
        if !safe {
            bail!(
                "{}: {file:?} is not a path inside the workspace",
                list.display()
            );
        }
    }
    if files.is_empty() {
        bail!("{}: no exercise files here", root.display());
    }
    Ok(files)
}

/// One file of the upload whose name is an exercise file's.
#[derive(Debug)]
struct Candidate {
    /// 0 for the upload's own files, k for its k-th zip.
    container: usize,
    /// Its path's components inside the container.
    parts: Vec<String>,
    shown: String,
    bytes: Vec<u8>,
}

fn base(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Finds the exercise files in the upload at `upload`; `edition` is the
/// edition they go into (its versions decide a shared name by contents).
pub fn plan(upload: &Path, edition: &Path, files: &[String]) -> Result<Plan> {
    let names: BTreeSet<&str> = files.iter().map(|f| base(f)).collect();
    let mut candidates = Vec::new();
    let mut zips = Vec::new();
    let mut seen = Vec::new();
    if !upload.is_dir() {
        return Err(UploadError(format!("no upload at {}.", upload.display())).into());
    }
    let mut count = 0;
    collect(
        upload,
        upload,
        0,
        &names,
        &mut count,
        &mut candidates,
        &mut zips,
        &mut seen,
    )?;
    for (k, zip) in zips.iter().enumerate().take(MAX_ZIPS) {
        let shown = zip
            .strip_prefix(upload)
            .unwrap_or(zip)
            .to_string_lossy()
            .into_owned();
        read_zip(zip, &shown, k + 1, &names, &mut candidates, &mut seen)?;
    }
    if candidates.len() > MAX_CANDIDATES {
        return Err(UploadError(format!(
            "the upload holds more than {MAX_CANDIDATES} files named like exercise files."
        ))
        .into());
    }
    let plan = match_files(&candidates, edition, files)?;
    if plan.placements.is_empty() {
        seen.sort();
        seen.truncate(20);
        let found = if seen.is_empty() {
            "it is empty".to_string()
        } else {
            format!("it holds {}", seen.join(", "))
        };
        return Err(UploadError(format!(
            "The upload holds none of the exercise files ({found}). The exercise files are:\n  {}",
            files.join("\n  ")
        ))
        .into());
    }
    Ok(plan)
}

#[allow(clippy::too_many_arguments)]
fn collect(
    top: &Path,
    dir: &Path,
    depth: usize,
    names: &BTreeSet<&str>,
    count: &mut usize,
    candidates: &mut Vec<Candidate>,
    zips: &mut Vec<std::path::PathBuf>,
    seen: &mut Vec<String>,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let mut entries: Vec<_> = fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list", dir.display()))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        *count += 1;
        if *count > MAX_FILES_SEEN {
            return Err(UploadError(format!(
                "the upload holds more than {MAX_FILES_SEEN} files."
            ))
            .into());
        }
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        // Links are not followed: an upload names nothing outside itself.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let rel = path
            .strip_prefix(top)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        if kind.is_dir() {
            if !SKIPPED.contains(&name.as_str()) {
                collect(top, &path, depth + 1, names, count, candidates, zips, seen)?;
            }
        } else if kind.is_file() {
            if seen.len() < 1000 {
                seen.push(rel.clone());
            }
            if name.to_ascii_lowercase().ends_with(".zip") {
                zips.push(path);
            } else if names.contains(name.as_str()) {
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                if size > MAX_FILE_BYTES {
                    continue;
                }
                let bytes = fs::read(&path).with_context(|| format!("{rel}: cannot read"))?;
                candidates.push(Candidate {
                    container: 0,
                    parts: rel.split('/').map(str::to_string).collect(),
                    shown: rel,
                    bytes,
                });
            }
        }
    }
    Ok(())
}

/// Reads the entries of a zip that are named like exercise files (nothing
/// is unpacked to disk; names that leave the zip's folder are skipped).
fn read_zip(
    zip: &Path,
    shown: &str,
    container: usize,
    names: &BTreeSet<&str>,
    candidates: &mut Vec<Candidate>,
    seen: &mut Vec<String>,
) -> Result<()> {
    let file = fs::File::open(zip).with_context(|| format!("{shown}: cannot open"))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| UploadError(format!("{shown} is not a zip file that can be read ({e}).")))?;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| UploadError(format!("{shown}: cannot read its entry {i} ({e}).")))?;
        let Some(inner) = entry.enclosed_name() else {
            continue;
        };
        if !entry.is_file() {
            continue;
        }
        let parts: Vec<String> = inner
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.iter().any(|p| SKIPPED.contains(&p.as_str())) {
            continue;
        }
        let rel = parts.join("/");
        if seen.len() < 1000 {
            seen.push(format!("{shown}:{rel}"));
        }
        let name = parts.last().map(String::as_str).unwrap_or_default();
        if !names.contains(name) || entry.size() > MAX_FILE_BYTES {
            continue;
        }
        let mut bytes = Vec::new();
        (&mut entry)
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| UploadError(format!("{shown}:{rel}: cannot unpack ({e}).")))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            continue;
        }
        candidates.push(Candidate {
            container,
            parts,
            shown: format!("{shown}:{rel}"),
            bytes,
        });
        if candidates.len() > MAX_CANDIDATES {
            break;
        }
    }
    Ok(())
}

/// A workspace in the upload: a container and the folder inside it.
type Root = (usize, Vec<String>);

fn root_name(root: &Root, candidates: &[Candidate]) -> String {
    let zip = candidates
        .iter()
        .find(|c| c.container == root.0)
        .and_then(|c| c.shown.split_once(':').map(|(z, _)| format!("{z}:")))
        .filter(|_| root.0 != 0)
        .unwrap_or_default();
    let folder = if root.1.is_empty() {
        String::new()
    } else {
        root.1.join("/") + "/"
    };
    format!("{zip}{folder}")
}

fn match_files(candidates: &[Candidate], edition: &Path, files: &[String]) -> Result<Plan> {
    let split = |f: &String| -> Vec<String> { f.split('/').map(str::to_string).collect() };
    let file_parts: Vec<Vec<String>> = files.iter().map(split).collect();
    // Every place a workspace could sit: where a file ends with an exercise
    // file's whole path.
    let mut roots: BTreeMap<Root, BTreeMap<usize, usize>> = BTreeMap::new();
    let mut at_path = BTreeSet::new();
    for (c, candidate) in candidates.iter().enumerate() {
        for (f, parts) in file_parts.iter().enumerate() {
            if candidate.parts.ends_with(parts) {
                let prefix = candidate.parts[..candidate.parts.len() - parts.len()].to_vec();
                roots
                    .entry((candidate.container, prefix))
                    .or_default()
                    .insert(f, c);
                at_path.insert(c);
            }
        }
    }
    let mut plan = Plan::default();
    let mut ranked: Vec<(&Root, &BTreeMap<usize, usize>)> = roots.iter().collect();
    ranked.sort_by_key(|(root, found)| (std::cmp::Reverse(found.len()), root.1.len(), root.0));
    if let Some(((best, found), rest)) = ranked.split_first() {
        if let Some((second, other)) = rest.first()
            && other.len() == found.len()
            && second.1.len() == best.1.len()
            && found.iter().any(|(f, c)| {
                other
                    .get(f)
                    .is_some_and(|o| candidates[*o].bytes != candidates[*c].bytes)
            })
        {
            return Err(UploadError(format!(
                "The upload holds two different workspaces, at {} and at {}: upload one.",
                root_name(best, candidates),
                root_name(second, candidates)
            ))
            .into());
        }
        plan.workspace = Some(root_name(best, candidates));
        for (f, c) in found.iter() {
            plan.placements.push(Placement {
                to: files[*f].clone(),
                from: candidates[*c].shown.clone(),
                by: Match::Path,
                bytes: candidates[*c].bytes.clone(),
            });
        }
        for (root, _) in rest {
            plan.ignored.push(format!(
                "the copy of the workspace at {} (the one at {} has more exercise files or sits higher)",
                root_name(root, candidates),
                root_name(best, candidates)
            ));
        }
    }

    // Files alone: neither at a workspace path nor inside a workspace found.
    let tops: BTreeSet<&str> = files.iter().filter_map(|f| f.split('/').next()).collect();
    let inside = |c: &Candidate| {
        roots.keys().any(|(container, prefix)| {
            *container == c.container
                && c.parts.len() > prefix.len() + 1
                && c.parts.starts_with(prefix)
                && tops.contains(c.parts[prefix.len()].as_str())
        })
    };
    let placed = |plan: &Plan, to: &str| plan.placements.iter().any(|p| p.to == to);
    let mut by_name: BTreeMap<&str, Vec<&Candidate>> = BTreeMap::new();
    for (c, candidate) in candidates.iter().enumerate() {
        if !at_path.contains(&c) && !inside(candidate) {
            let name = candidate
                .parts
                .last()
                .map(String::as_str)
                .unwrap_or_default();
            by_name.entry(name).or_default().push(candidate);
        }
    }
    let mut loose: Vec<Placement> = Vec::new();
    for (name, found) in by_name {
        let sharing: Vec<&String> = files.iter().filter(|f| base(f) == name).collect();
        for candidate in found {
            let (to, by) = if let [only] = sharing.as_slice() {
                ((*only).clone(), Match::Name)
            } else {
                let to = by_contents(name, &candidate.bytes, &sharing, edition)?;
                (to, Match::Contents)
            };
            if placed(&plan, &to) {
                plan.ignored.push(format!(
                    "{} ({to} comes from the workspace in the upload)",
                    candidate.shown
                ));
                continue;
            }
            if let Some(other) = loose.iter().find(|p| p.to == to) {
                if other.bytes != candidate.bytes {
                    return Err(UploadError(format!(
                        "{} and {} are two different versions of {to}: upload one.",
                        other.from, candidate.shown
                    ))
                    .into());
                }
                continue;
            }
            loose.push(Placement {
                to,
                from: candidate.shown.clone(),
                by,
                bytes: candidate.bytes.clone(),
            });
        }
    }
    plan.placements.extend(loose);
    let order: BTreeMap<&str, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();
    plan.placements
        .sort_by_key(|p| order.get(p.to.as_str()).copied());
    Ok(plan)
}

/// Lines that say something: trimmed, at least a few characters long.
fn telling_lines(text: &str) -> BTreeSet<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.chars().filter(|c| c.is_alphanumeric()).count() >= 4)
        .collect()
}

/// Which of the exercise files named `name` the uploaded `bytes` are: the
/// one whose own lines (those no other of them has) it keeps, when it keeps
/// at least half of that one's and almost none of the others'.
fn by_contents(name: &str, bytes: &[u8], sharing: &[&String], edition: &Path) -> Result<String> {
    let texts: Vec<String> = sharing
        .iter()
        .map(|f| {
            fs::read_to_string(edition.join(f))
                .with_context(|| format!("{}: cannot read", edition.join(f).display()))
        })
        .collect::<Result<_>>()?;
    let lines: Vec<BTreeSet<&str>> = texts.iter().map(|t| telling_lines(t)).collect();
    let uploaded = String::from_utf8_lossy(bytes);
    let uploaded = telling_lines(&uploaded);
    let shares: Vec<f64> = lines
        .iter()
        .enumerate()
        .map(|(i, own)| {
            let distinct: Vec<&&str> = own
                .iter()
                .filter(|l| {
                    !lines
                        .iter()
                        .enumerate()
                        .any(|(j, o)| j != i && o.contains(*l))
                })
                .collect();
            if distinct.is_empty() {
                return 0.0;
            }
            let kept = distinct.iter().filter(|l| uploaded.contains(**l)).count();
            kept as f64 / distinct.len() as f64
        })
        .collect();
    let best = (0..shares.len()).max_by(|a, b| shares[*a].total_cmp(&shares[*b]));
    if let Some(best) = best {
        let certain = shares[best] >= 0.5
            && shares
                .iter()
                .enumerate()
                .all(|(i, s)| i == best || *s <= 0.1);
        if certain {
            return Ok(sharing[best].clone());
        }
    }
    let listed: Vec<&str> = sharing.iter().map(|s| s.as_str()).collect();
    Err(UploadError(format!(
        "{name}: {} exercise files have this name ({}) and this {name} is not clearly either.",
        listed.len(),
        listed.join(", ")
    ))
    .into())
}

/// Writes the planned files into the edition at `root` (each only if its
/// contents change, so that Cargo rebuilds only what did).
pub fn install(root: &Path, plan: &Plan) -> Result<()> {
    for p in &plan.placements {
        let target = root.join(&p.to);
        if fs::read(&target).ok().as_deref() != Some(&p.bytes[..]) {
            edition::write_atomically(&target, &p.bytes)?;
        }
    }
    Ok(())
}

/// Gradescope's `results.json` for an upload that could not be graded.
pub fn error_json(error: &str) -> serde_json::Value {
    serde_json::json!({
        "score": 0,
        "output": format!("Not graded: {error}"),
        "visibility": "visible",
        "stdout_visibility": "visible",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: &[&str] = &[
        "crates/a/src/loss.rs",
        "crates/a/src/toy.rs",
        "crates/b/src/loss.rs",
    ];
    const A_LOSS: &str = "//! Losses of crate a.\npub fn cross_entropy(p: &[f64]) -> f64 {\n    todo!(\"p1.x: hint\")\n}\npub fn mean_squared_error(p: &[f64]) -> f64 {\n    p.iter().sum::<f64>()\n}\n";
    const B_LOSS: &str = "//! Losses of crate b, with Burn.\nuse burn::tensor::Tensor;\npub fn two_digit_loss(a: Tensor) -> Tensor {\n    todo!(\"p4.y: hint\")\n}\n";

    fn files() -> Vec<String> {
        FILES.iter().map(|s| s.to_string()).collect()
    }

    /// An edition with the three files, and an upload folder.
    fn setup(upload: &[(&str, &[u8])]) -> (tempfile::TempDir, tempfile::TempDir) {
        let edition = tempfile::tempdir().expect("a folder");
        for (rel, text) in [
            (FILES[0], A_LOSS),
            (FILES[1], "pub fn predict() {}\n"),
            (FILES[2], B_LOSS),
        ] {
            edition::write_atomically(&edition.path().join(rel), text.as_bytes()).expect("write");
        }
        let dir = tempfile::tempdir().expect("a folder");
        for (rel, bytes) in upload {
            edition::write_atomically(&dir.path().join(rel), bytes).expect("write");
        }
        (edition, dir)
    }

    fn placed(plan: &Plan) -> Vec<(String, Match, String)> {
        plan.placements
            .iter()
            .map(|p| (p.to.clone(), p.by, String::from_utf8_lossy(&p.bytes).into()))
            .collect()
    }

    fn solved_a() -> String {
        A_LOSS.replace("todo!(\"p1.x: hint\")", "-p[0].ln()")
    }

    #[test]
    fn files_at_their_paths_under_any_folder() {
        for prefix in ["", "my-course/", "x/y/"] {
            let a = format!("{prefix}crates/a/src/loss.rs");
            let b = format!("{prefix}crates/b/src/loss.rs");
            let (edition, upload) = setup(&[(&a, b"A"), (&b, b"B"), ("notes.txt", b"n")]);
            let found = plan(upload.path(), edition.path(), &files()).expect("a plan");
            assert_eq!(
                placed(&found),
                vec![
                    (FILES[0].into(), Match::Path, "A".into()),
                    (FILES[2].into(), Match::Path, "B".into())
                ]
            );
            assert_eq!(found.workspace.as_deref(), Some(prefix));
        }
    }

    #[test]
    fn a_zipped_workspace_is_read_without_unpacking_outside_it() {
        let mut bytes = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut bytes);
            let options = zip::write::SimpleFileOptions::default();
            for (name, text) in [
                ("course/crates/a/src/toy.rs", "TOY"),
                ("../crates/a/src/loss.rs", "escape"),
                ("course/target/debug/loss.rs", "built"),
            ] {
                zip.start_file(name, options).expect("entry");
                std::io::Write::write_all(&mut zip, text.as_bytes()).expect("write");
            }
            zip.finish().expect("zip");
        }
        let (edition, upload) = setup(&[("work.zip", bytes.get_ref())]);
        let found = plan(upload.path(), edition.path(), &files()).expect("a plan");
        assert_eq!(
            placed(&found),
            vec![(FILES[1].into(), Match::Path, "TOY".into())]
        );
        assert_eq!(found.workspace.as_deref(), Some("work.zip:course/"));
    }

    #[test]
    fn files_alone_go_by_name_and_a_shared_name_by_contents() {
        let solved = solved_a();
        let (edition, upload) = setup(&[("loss.rs", solved.as_bytes()), ("toy.rs", b"T")]);
        let found = plan(upload.path(), edition.path(), &files()).expect("a plan");
        assert_eq!(
            placed(&found),
            vec![
                (FILES[0].into(), Match::Contents, solved.clone()),
                (FILES[1].into(), Match::Name, "T".into())
            ]
        );
        let b = B_LOSS.replace("todo!(\"p4.y: hint\")", "a");
        let (edition, upload) = setup(&[("loss.rs", b.as_bytes())]);
        let found = plan(upload.path(), edition.path(), &files()).expect("a plan");
        assert_eq!(placed(&found)[0].0, FILES[2]);
    }

    #[test]
    fn a_shared_name_whose_contents_are_neither_is_an_error() {
        let (edition, upload) = setup(&[("loss.rs", b"fn main() {}\n"), ("toy.rs", b"T")]);
        let error = plan(upload.path(), edition.path(), &files()).expect_err("ambiguous");
        let text = error.to_string();
        assert!(text.contains("loss.rs: 2 exercise files"), "{text}");
        assert!(text.contains(HOW_TO_UPLOAD), "{text}");
        assert!(error.downcast_ref::<UploadError>().is_some());
    }

    #[test]
    fn an_upload_without_exercise_files_is_an_error() {
        for upload in [&[][..], &[("README.md", &b"hi"[..])][..]] {
            let (edition, dir) = setup(upload);
            let text = plan(dir.path(), edition.path(), &files())
                .expect_err("nothing to grade")
                .to_string();
            assert!(text.contains("none of the exercise files"), "{text}");
        }
    }

    #[test]
    fn two_different_workspaces_are_an_error_and_a_path_beats_a_name() {
        let (edition, upload) = setup(&[
            ("one/crates/a/src/toy.rs", b"1"),
            ("two/crates/a/src/toy.rs", b"2"),
        ]);
        let text = plan(upload.path(), edition.path(), &files())
            .expect_err("two workspaces")
            .to_string();
        assert!(text.contains("two different workspaces"), "{text}");

        let (edition, upload) = setup(&[("crates/a/src/toy.rs", b"P"), ("toy.rs", b"N")]);
        let found = plan(upload.path(), edition.path(), &files()).expect("a plan");
        assert_eq!(
            placed(&found),
            vec![(FILES[1].into(), Match::Path, "P".into())]
        );
        assert_eq!(found.ignored.len(), 1);
    }

    #[test]
    fn installing_writes_only_listed_files() {
        let (edition, upload) = setup(&[("toy.rs", b"T"), ("Cargo.toml", b"[package]")]);
        let found = plan(upload.path(), edition.path(), &files()).expect("a plan");
        install(edition.path(), &found).expect("installed");
        let toy = fs::read_to_string(edition.path().join(FILES[1])).expect("toy.rs");
        assert_eq!(toy, "T");
        assert!(!edition.path().join("Cargo.toml").exists());
        assert!(
            found
                .describe(&files())
                .contains("crates/a/src/toy.rs ← toy.rs (by its name)")
        );
    }
}
