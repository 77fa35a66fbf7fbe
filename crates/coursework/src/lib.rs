//! The course as coursework, in the manner of rustlings and nbgrader.
//!
//! - [`manifest`]: the exercises, described once in `exercises.toml`;
//! - [`markers`]: `// BEGIN EXERCISE <id>` … `// END EXERCISE` in the
//!   reference code, and the stubs that replace them;
//! - [`edition`]: the learner edition, written from the reference;
//! - [`grade`]: the autograder, which builds and runs the graded tests;
//! - [`report`]: its printout;
//! - [`gradescope`]: `results.json` and the autograder bundle;
//! - [`submission`]: a learner's upload, installed into an edition.

pub mod edition;
pub mod grade;
pub mod gradescope;
pub mod manifest;
pub mod markers;
pub mod report;
pub mod submission;

pub use manifest::{Exercise, Manifest};
