//! Which edition a target folder's builds come from.
//!
//! Cargo names a workspace crate's build by its name, version and path
//! *inside* the workspace, and judges it fresh from the modification times
//! of the files at those relative paths. Two copies of one edition at two
//! places, built in one target folder (`CARGO_TARGET_DIR`), therefore share
//! their builds, and Cargo can call one copy's test binary fresh for the
//! other's sources. Each learner edition's crates carry a version of their
//! own (see [`crate::edition`]); for copies of one edition, the grader notes
//! which workspace last built each version in a target folder and, when
//! another one did, marks every file of this workspace as modified now, so
//! that Cargo rebuilds its crates from these files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::grade::cargo;

/// A workspace as Cargo sees it.
pub struct Layout {
    pub target: PathBuf,
    /// The workspace crates' names.
    pub members: Vec<String>,
    /// Their version (the workspace's).
    pub version: String,
}

pub fn layout(workspace: &Path, target_dir: Option<&Path>) -> Result<Layout> {
    let mut command = cargo();
    if let Some(dir) = target_dir {
        command.env("CARGO_TARGET_DIR", dir);
    }
    let out = command
        .current_dir(workspace)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .context("cannot run cargo metadata (is Rust installed?)")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed in {}: {}",
            workspace.display(),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or_default()
        );
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let target = meta["target_directory"]
        .as_str()
        .context("cargo metadata: no target_directory")?;
    let packages = meta["packages"]
        .as_array()
        .context("cargo metadata: no packages")?;
    let members: Vec<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    let version = packages
        .iter()
        .find_map(|p| p["version"].as_str())
        .unwrap_or_default()
        .to_string();
    Ok(Layout {
        target: PathBuf::from(target),
        members,
        version,
    })
}

/// Makes sure the target folder's builds of this workspace's crates come
/// from this workspace, removing another copy's first.
pub fn claim(workspace: &Path, target_dir: Option<&Path>) -> Result<()> {
    let here = workspace
        .canonicalize()
        .with_context(|| format!("{}: no such workspace", workspace.display()))?;
    let layout = layout(&here, target_dir)?;
    let marker = layout
        .target
        .join("coursework")
        .join("built-from")
        .join(&layout.version);
    let previous = std::fs::read_to_string(&marker).ok();
    let here_text = here.to_string_lossy().into_owned();
    if previous.as_deref().is_some_and(|p| p != here_text) {
        eprintln!(
            "note: {} holds builds of version {} from {}; rebuilding this edition's crates so that the grade is of this code",
            layout.target.display(),
            layout.version,
            previous.as_deref().unwrap_or_default()
        );
        touch_all(&here, std::time::SystemTime::now())?;
    }
    if previous.as_deref() != Some(here_text.as_str()) {
        crate::edition::write_atomically(&marker, here_text.as_bytes())?;
    }
    Ok(())
}

/// Sets the modification time of every file of the workspace at `dir`
/// (but its `target/` and `.git/`) to `now`.
fn touch_all(dir: &Path, now: std::time::SystemTime) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if entry.file_name() != "target" && entry.file_name() != ".git" {
                touch_all(&path, now)?;
            }
        } else if kind.is_file() {
            std::fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_modified(now))
                .with_context(|| format!("{}: cannot mark as modified", path.display()))?;
        }
    }
    Ok(())
}
