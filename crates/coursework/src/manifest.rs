//! The exercises, described once in `exercises.toml`: what each asks, its
//! hint, the tests that grade it and their points, and what it builds on.

use std::collections::BTreeSet;

use serde::Deserialize;

/// The manifest, compiled in: the grader of an edition grades that edition.
pub const MANIFEST: &str = include_str!("../exercises.toml");

/// The graded tests a learner sees live in their crate's `tests/exercises.rs`.
pub const TEST_TARGET: &str = "exercises";

/// Instructor-only graded tests live in `tests/hidden.rs`: the learner
/// edition leaves the file out, the Gradescope bundle carries it.
pub const HIDDEN_TARGET: &str = "hidden";

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(rename = "exercise")]
    pub exercises: Vec<Exercise>,
    /// What each part's binary needs to train (`cargo run -p <crate>`).
    #[serde(rename = "part", default)]
    pub parts: Vec<Part>,
}

/// A part's program, as the checks run it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub number: u8,
    /// The part's crate, whose binary trains it.
    #[serde(rename = "crate")]
    pub krate: String,
    /// Arguments for a short training that still writes its report.
    pub quick: Vec<String>,
    /// Exercises of earlier parts that its training runs (its own part's
    /// exercises are always needed).
    #[serde(default)]
    pub requires: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// `p<part>.<name>`, as in the source's `// BEGIN EXERCISE <id>`.
    pub id: String,
    pub part: u8,
    pub title: String,
    /// The crate whose `tests/exercises.rs` grades it.
    #[serde(rename = "crate")]
    pub krate: String,
    /// Exercises whose code this one's tests run.
    #[serde(default)]
    pub requires: Vec<String>,
    /// What to write, with its maths (Markdown).
    pub statement: String,
    /// One line, shown in the stub's panic and beside every failure.
    pub hint: String,
    #[serde(rename = "test")]
    pub tests: Vec<GradedTest>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradedTest {
    /// The test's path inside `tests/exercises.rs`, e.g. `relu::slope`.
    pub name: String,
    pub points: u32,
    /// Set for hidden tests (in `tests/hidden.rs`): when Gradescope shows
    /// the learner the result, `after_published` or `hidden`.
    #[serde(default)]
    pub visibility: Option<Visibility>,
}

/// Gradescope's visibility of a hidden test's result.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    AfterPublished,
    Hidden,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::AfterPublished => "after_published",
            Visibility::Hidden => "hidden",
        }
    }
}

impl GradedTest {
    /// The test target that holds it: `exercises`, or `hidden` for the
    /// instructor-only tests.
    pub fn target(&self) -> &'static str {
        if self.visibility.is_some() {
            HIDDEN_TARGET
        } else {
            TEST_TARGET
        }
    }

    pub fn is_hidden(&self) -> bool {
        self.visibility.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("exercises.toml: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("exercises.toml: {0}")]
    Invalid(String),
}

impl Exercise {
    pub fn points(&self) -> u32 {
        self.tests.iter().map(|t| t.points).sum()
    }
}

impl Manifest {
    /// The compiled-in manifest.
    pub fn course() -> Result<Self, ManifestError> {
        Self::parse(MANIFEST)
    }

    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = toml::from_str(text)?;
        manifest.validate()?;
        Ok(manifest)
    }

    pub fn get(&self, id: &str) -> Option<&Exercise> {
        self.exercises.iter().find(|e| e.id == id)
    }

    /// Every exercise `id` builds on, directly or not.
    pub fn prerequisites(&self, id: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut todo = vec![id.to_string()];
        while let Some(next) = todo.pop() {
            for required in self
                .get(&next)
                .map(|e| e.requires.as_slice())
                .unwrap_or_default()
            {
                if found.insert(required.clone()) {
                    todo.push(required.clone());
                }
            }
        }
        found
    }

    pub fn parts(&self) -> BTreeSet<u8> {
        self.exercises.iter().map(|e| e.part).collect()
    }

    /// Ids unique and well formed, prerequisites listed earlier (so the
    /// course order is an order one can work in), hints one line, tests
    /// named once and worth points.
    fn validate(&self) -> Result<(), ManifestError> {
        let invalid = |m: String| Err(ManifestError::Invalid(m));
        let mut seen = BTreeSet::new();
        for e in &self.exercises {
            let well_formed =
                e.id.strip_prefix(&format!("p{}.", e.part))
                    .is_some_and(|name| {
                        !name.is_empty()
                            && name
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    });
            if !well_formed {
                return invalid(format!(
                    "exercise id {:?} is not p{}.<lowercase-name>",
                    e.id, e.part
                ));
            }
            for required in &e.requires {
                if !seen.contains(required) {
                    return invalid(format!(
                        "{} requires {required:?}, which is not an earlier exercise",
                        e.id
                    ));
                }
            }
            if !seen.insert(e.id.clone()) {
                return invalid(format!("exercise {} is listed twice", e.id));
            }
            if e.hint.contains(['\n', '"', '{', '}', '\\']) || e.hint.trim().is_empty() {
                return invalid(format!(
                    "{}: the hint must be one line without quotes, braces or backslashes",
                    e.id
                ));
            }
            if e.tests.is_empty() || e.tests.iter().any(|t| t.points == 0) {
                return invalid(format!("{}: every exercise needs tests worth points", e.id));
            }
            let names: BTreeSet<_> = e.tests.iter().map(|t| &t.name).collect();
            if names.len() != e.tests.len() {
                return invalid(format!("{}: a test is listed twice", e.id));
            }
        }
        let mut numbers = BTreeSet::new();
        for part in &self.parts {
            if !numbers.insert(part.number) {
                return invalid(format!("part {} is listed twice", part.number));
            }
            for required in &part.requires {
                if self.get(required).is_none_or(|e| e.part >= part.number) {
                    return invalid(format!(
                        "part {} requires {required:?}, which is not an exercise of an earlier part",
                        part.number
                    ));
                }
            }
        }
        Ok(())
    }
}
