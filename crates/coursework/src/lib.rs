//! The course as coursework, in the manner of rustlings and nbgrader.
//!
//! - [`manifest`]: the exercises, described once in `exercises.toml`;
//! - [`markers`]: `// BEGIN EXERCISE <id>` … `// END EXERCISE` in the
//!   reference code, and the stubs that replace them;
//! - [`edition`]: the learner edition, written from the reference;
//! - [`grade`]: the autograder, which builds the graded tests and runs each
//!   in its own process, judged by the record it leaves ([`target`]: the
//!   builds it runs are this edition's);
//! - [`mutants`] and [`check`]: the graded tests' own test, a catalogue of
//!   wrong solutions and spoofs run on one instrumented build;
//! - [`report`]: its printout;
//! - [`gradescope`]: `results.json` and the autograder bundle;
//! - [`submission`]: a learner's upload, installed into an edition.

pub mod check;
pub mod edition;
pub mod grade;
pub mod gradescope;
pub mod manifest;
pub mod markers;
pub mod mutants;
pub mod report;
pub mod submission;
pub mod target;

pub use manifest::{Exercise, Manifest};
