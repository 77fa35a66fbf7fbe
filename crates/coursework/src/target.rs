//! Builds of the code in front of the grader.
//!
//! Cargo names a workspace crate's build by its name, version and path
//! *inside* the workspace, and judges it fresh from the modification times
//! of the files its dep-info lists, which for a workspace inside the target
//! folder are the files of the workspace that built it. Two copies of one
//! edition at two places, built in one target folder (`CARGO_TARGET_DIR`),
//! would share their builds, and Cargo could call one copy's test binary
//! fresh for the other's sources. So each learner edition's crates carry a
//! version made from its folder (`<version>-learner-<id>`, see
//! [`crate::edition`]), and before it builds, the grader gives an edition
//! that was copied or moved the version of the folder it is in now.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::edition;
use crate::grade::cargo;

/// A workspace as Cargo sees it.
pub struct Layout {
    pub target: PathBuf,
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
    Ok(Layout {
        target: PathBuf::from(target),
    })
}

/// Gives the learner edition at `workspace` the version of its folder, if
/// it carries another one (a copy, or a moved edition). The reference and
/// the instrumented edition are left as they are.
pub fn claim(workspace: &Path) -> Result<()> {
    let manifest_path = workspace.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("{}: cannot read", manifest_path.display()))?;
    let Some(current) = workspace_version(&manifest).and_then(edition::learner_id) else {
        return Ok(());
    };
    let own = edition::learner_suffix(workspace)?;
    if current == own {
        return Ok(());
    }
    eprintln!(
        "note: this edition was made in another folder; its crates get this folder's version \
         (…{own}) so that no build of the other folder's is taken for its own"
    );
    let relabel = |text: &str| -> String {
        text.lines()
            .map(|line| match line.strip_prefix("version = \"") {
                Some(rest) if rest.contains(current) => line.replace(current, &own),
                _ => line.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
            + if text.ends_with('\n') { "\n" } else { "" }
    };
    edition::write_atomically(&manifest_path, relabel(&manifest).as_bytes())?;
    let lock_path = workspace.join("Cargo.lock");
    if let Ok(lock) = std::fs::read_to_string(&lock_path) {
        edition::write_atomically(&lock_path, relabel(&lock).as_bytes())?;
    }
    Ok(())
}

/// The `version` of `[workspace.package]` in a workspace's `Cargo.toml`.
fn workspace_version(manifest: &str) -> Option<&str> {
    let mut in_package = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            in_package = line.trim() == "[workspace.package]";
        } else if in_package && let Some(version) = line.strip_prefix("version = \"") {
            return version.strip_suffix('"');
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copied_edition_gets_the_version_of_its_folder() {
        let dir = tempfile::tempdir().expect("a folder");
        let first = dir.path().join("first");
        let copy = dir.path().join("copy");
        let suffix = edition::learner_suffix(&first).expect("an id");
        let manifest = edition::edition_manifest(
            "[workspace]\n\n[workspace.package]\nversion = \"0.1.0\"\n",
            &suffix,
        );
        let lock = edition::edition_lock(
            "version = 4\n\n[[package]]\nname = \"cnn\"\nversion = \"0.1.0\"\n",
            &suffix,
        );
        for dir in [&first, &copy] {
            std::fs::create_dir_all(dir).expect("a folder");
            std::fs::write(dir.join("Cargo.toml"), &manifest).expect("written");
            std::fs::write(dir.join("Cargo.lock"), &lock).expect("written");
        }
        claim(&first).expect("claimed");
        claim(&copy).expect("claimed");
        let read = |p: &Path| std::fs::read_to_string(p).expect("read");
        assert_eq!(
            read(&first.join("Cargo.toml")),
            manifest,
            "the original keeps its version"
        );
        let own = edition::learner_suffix(&copy).expect("an id");
        assert_ne!(own, suffix);
        let relabelled = read(&copy.join("Cargo.toml"));
        assert!(
            relabelled.contains(&format!("version = \"0.1.0{own}\"")),
            "{relabelled}"
        );
        assert!(read(&copy.join("Cargo.lock")).contains(&format!("version = \"0.1.0{own}\"")));
        assert!(read(&copy.join("Cargo.lock")).starts_with("version = 4\n"));
    }
}
