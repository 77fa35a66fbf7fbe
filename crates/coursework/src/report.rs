//! The grade sheet in the terminal: per part, one line per exercise with
//! its points, and under each failing one what failed and the hint.

use std::fmt::Write;

use crate::grade::ExerciseResult;
use crate::gradescope::{feedback, hidden_summary};

pub fn sheet(results: &[ExerciseResult]) -> String {
    parts(results) + &total(results)
}

/// The lines of each part's exercises.
pub fn parts(results: &[ExerciseResult]) -> String {
    let mut out = String::new();
    let mut parts: Vec<u8> = results.iter().map(|r| r.part).collect();
    parts.dedup();
    for part in parts {
        let in_part: Vec<_> = results.iter().filter(|r| r.part == part).collect();
        let earned: u32 = in_part.iter().map(|r| r.earned()).sum();
        let possible: u32 = in_part.iter().map(|r| r.possible()).sum();
        let _ = writeln!(out, "Part {part}: {earned}/{possible} points");
        for r in in_part {
            let mark = if r.solved() {
                "✓"
            } else if r.waiting_for.is_empty() {
                "✗"
            } else {
                "…"
            };
            let _ = writeln!(
                out,
                "  {mark} {:<28} {:>2}/{:<2} {}",
                r.id,
                r.earned(),
                r.possible(),
                r.title
            );
            if !r.solved() {
                for line in feedback(r).lines().chain(hidden_summary(r).as_deref()) {
                    let _ = writeln!(out, "      {line}");
                }
            }
            if r.hidden_elsewhere > 0 {
                let _ = writeln!(
                    out,
                    "      (+{} points of hidden tests, graded on submission)",
                    r.hidden_elsewhere
                );
            }
        }
    }
    out
}

/// The total line.
pub fn total(results: &[ExerciseResult]) -> String {
    let mut out = String::new();
    let earned: u32 = results.iter().map(ExerciseResult::earned).sum();
    let possible: u32 = results.iter().map(ExerciseResult::possible).sum();
    let solved = results.iter().filter(|r| r.solved()).count();
    let _ = writeln!(
        out,
        "Total: {earned}/{possible} points, {solved} of {} exercises solved",
        results.len()
    );
    out
}
