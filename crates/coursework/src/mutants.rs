//! The catalogue of wrong solutions (`crates/coursework/mutants/*.toml`):
//! plausible mistakes, each an edit of one exercise's reference blocks, that
//! the exercise's graded tests must catch. `spoofs.toml` holds submissions
//! that attack the grader instead (print fake results, exit, abort, overflow
//! the stack, never end); each must score 0 with the reason it names.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::manifest::Manifest;

/// The catalogue's folder inside the workspace.
pub const FOLDER: &str = "crates/coursework/mutants";

/// The families of mistakes a mutant may belong to.
pub const FAMILIES: &[&str] = &[
    "wrong-constant",
    "term-left-out",
    "state-carried-over",
    "shared-parameter",
    "unstable-formula",
    "wrong-index",
    "wrong-operator",
    "spoof",
    "other",
];

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mutant {
    pub exercise: String,
    /// Unique within its exercise.
    pub name: String,
    pub family: String,
    /// The mistake, in one line.
    pub what: String,
    /// Text of the exercise's blocks (found exactly once in them) …
    pub replace: String,
    /// … and what the mutant has instead.
    pub with: String,
    /// For spoofs: what the grader's one-line reason must contain.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(rename = "mutant", default)]
    mutants: Vec<Mutant>,
}

impl Mutant {
    /// The runtime switch that turns it on in the instrumented edition.
    pub fn key(&self) -> String {
        format!("{}/{}", self.exercise, self.name)
    }

    /// `replace` and `with` without their surrounding newlines.
    pub fn edit(&self) -> (&str, &str) {
        (
            self.replace.trim_matches('\n'),
            self.with.trim_matches('\n'),
        )
    }

    pub fn is_spoof(&self) -> bool {
        self.reason.is_some()
    }
}

/// Every mutant of the catalogue in `workspace`, in file order, checked
/// against the manifest (the edits themselves are checked when the
/// instrumented edition is written).
pub fn load(workspace: &Path, manifest: &Manifest) -> Result<Vec<Mutant>> {
    let folder = workspace.join(FOLDER);
    let mut paths: Vec<_> = std::fs::read_dir(&folder)
        .with_context(|| format!("{}: cannot list the catalogue", folder.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut mutants = Vec::new();
    let mut keys = BTreeSet::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let file: File = toml::from_str(&text)
            .with_context(|| format!("{}: not a catalogue", path.display()))?;
        for m in file.mutants {
            let at = || format!("{}: mutant {}", path.display(), m.key());
            if manifest.get(&m.exercise).is_none() {
                bail!("{}: {} is not an exercise", at(), m.exercise);
            }
            let well_formed = !m.name.is_empty()
                && m.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !well_formed {
                bail!("{}: names are lowercase letters, digits and dashes", at());
            }
            if !FAMILIES.contains(&m.family.as_str()) {
                bail!(
                    "{}: family {:?} is not one of {}",
                    at(),
                    m.family,
                    FAMILIES.join(", ")
                );
            }
            let (replace, with) = m.edit();
            if replace.trim().is_empty() || replace == with {
                bail!("{}: the edit changes nothing", at());
            }
            if !keys.insert(m.key()) {
                bail!("{}: listed twice", at());
            }
            mutants.push(m);
        }
    }
    Ok(mutants)
}
