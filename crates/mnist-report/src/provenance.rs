//! Where a run's numbers came from: the commit, the backend and device, the
//! date and the wall time. Reports carry this so results can be reproduced
//! and compared like for like.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Provenance of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `git rev-parse --short HEAD`, with `-dirty` when the working tree has
    /// changes, or `unknown` outside git.
    pub commit: String,
    /// Backend name as the part calls it (e.g. `ndarray`, `cuda`, `scratch`).
    pub backend: String,
    /// Device name (e.g. `cpu`, `cuda:0`).
    pub device: String,
    /// When the run finished, UTC ISO-8601 (`2026-11-22T05:10:00Z`).
    pub date: String,
    /// Wall-clock seconds of the whole run, as measured by the caller.
    pub wall_seconds: f64,
}

impl Provenance {
    /// Collects the commit and the current date; backend, device and wall
    /// time come from the caller. Never fails: without git the commit is
    /// `unknown`.
    pub fn collect(
        backend: impl Into<String>,
        device: impl Into<String>,
        wall_seconds: f64,
    ) -> Self {
        Self {
            commit: git_commit(),
            backend: backend.into(),
            device: device.into(),
            date: utc_now(),
            wall_seconds,
        }
    }
}

/// The short commit hash of the course's repository (wherever the run was
/// started), `-dirty` appended when files other than reports have
/// uncommitted changes (the reports a run writes do not make the code that
/// wrote them dirty); `unknown` when git is missing or the course is not in
/// a repository.
pub fn git_commit() -> String {
    let root = crate::paths::workspace_root();
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(hash) if !hash.is_empty() => {
            match git(&["status", "--porcelain", "--", ":/", ":(top,exclude)reports"]) {
                Some(status) if !status.is_empty() => format!("{hash}-dirty"),
                _ => hash,
            }
        }
        _ => "unknown".to_string(),
    }
}

/// The current time in UTC, ISO-8601 to the second.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_utc(secs)
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(unix_seconds: u64) -> String {
    let days = unix_seconds / 86_400;
    let rem = unix_seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, restricted to dates after 1970).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097; // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1st
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(format_utc(1_798_002_600), "2026-12-23T05:10:00Z");
    }

    #[test]
    fn now_looks_like_iso_8601() {
        let now = utc_now();
        assert_eq!(now.len(), 20);
        assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T');
    }
}
