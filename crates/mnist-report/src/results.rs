//! A part's table of runs: `results.csv` (one row per run, upserted by run
//! name, so re-running a run replaces its row) and `results.md`, regenerated
//! from the CSV after every change so the two never disagree.
//!
//! Columns of `results.csv`, in order:
//! 1. always: `run, model, status, backend, device, seed, epochs, batch_size,
//!    learning_rate, momentum, val_accuracy, test_accuracy,
//!    epoch_seconds_median, wall_seconds, commit, date`;
//! 2. only once some run of the part needs them: `test_accuracy_second,
//!    test_accuracy_both` (two-headed runs), `tested_epoch` (runs whose test
//!    measured an earlier epoch's model than the last; their `val_accuracy`
//!    is that epoch's) and `diverged_epoch` (diverged runs); rows without a
//!    value leave them empty;
//! 3. the part's own extra columns, in order of first appearance.
//!
//! Accuracies are fractions (0..1); `results.md` shows them as percentages.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{ReportError, Result};
use crate::metrics::RunStatus;

/// Columns every `results.csv` has, in this order.
pub const BASE_COLUMNS: [&str; 16] = [
    "run",
    "model",
    "status",
    "backend",
    "device",
    "seed",
    "epochs",
    "batch_size",
    "learning_rate",
    "momentum",
    "val_accuracy",
    "test_accuracy",
    "epoch_seconds_median",
    "wall_seconds",
    "commit",
    "date",
];

/// Standard columns that appear only once some run needs them.
pub const OPTIONAL_COLUMNS: [&str; 4] = [
    "test_accuracy_second",
    "test_accuracy_both",
    "tested_epoch",
    "diverged_epoch",
];

/// One run as recorded in `results.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// The run's name (unique within a part).
    pub run: String,
    /// Whether the run completed or diverged (and at which epoch).
    pub status: RunStatus,
    /// Every column of the row, `run` and `status` included; empty cells are
    /// stored as empty strings.
    pub columns: BTreeMap<String, String>,
}

impl ResultRow {
    /// The cell in `column`, `None` when the column is missing or empty.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.columns
            .get(column)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The cell in `column` as a number, `None` when missing, empty or not
    /// a number.
    pub fn get_f64(&self, column: &str) -> Option<f64> {
        self.get(column)?.parse().ok()
    }

    /// True when the run completed (a sweep can skip it).
    pub fn is_completed(&self) -> bool {
        self.status == RunStatus::Completed
    }
}

/// Reads `results.csv`. Fails, naming the file (and the line where known),
/// when it is missing, is not CSV with one cell per column, lacks the `run`
/// or `status` column, or has an unknown status.
pub fn read_results(path: &Path) -> Result<Vec<ResultRow>> {
    Ok(ResultsTable::read(path)?.rows)
}

/// The whole table: header order plus rows, as kept on disk.
#[derive(Debug, Default)]
pub(crate) struct ResultsTable {
    pub header: Vec<String>,
    pub rows: Vec<ResultRow>,
}

impl ResultsTable {
    /// Reads the table at `path` (see [`read_results`]).
    pub fn read(path: &Path) -> Result<Self> {
        let malformed = |line: Option<u64>, message: String| ReportError::MalformedResults {
            path: path.to_path_buf(),
            line,
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|source| ReportError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| malformed(csv_line(&e), e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        for required in ["run", "status"] {
            if !header.iter().any(|h| h == required) {
                return Err(malformed(
                    Some(1),
                    format!("the header has no `{required}` column"),
                ));
            }
        }
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| malformed(csv_line(&e), e.to_string()))?;
            let line = record.position().map(|p| p.line());
            let columns: BTreeMap<String, String> = header
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_string))
                .collect();
            let cell = |name: &str| columns.get(name).cloned().unwrap_or_default();
            let status = match cell("status").as_str() {
                "completed" => RunStatus::Completed,
                "diverged" => RunStatus::Diverged {
                    epoch: cell("diverged_epoch").parse().map_err(|_| {
                        malformed(line, "a diverged run needs its `diverged_epoch`".into())
                    })?,
                },
                other => {
                    return Err(malformed(
                        line,
                        format!("unknown status `{other}` (expected completed or diverged)"),
                    ));
                }
            };
            let run = cell("run");
            if run.is_empty() {
                return Err(malformed(line, "empty run name".into()));
            }
            rows.push(ResultRow {
                run,
                status,
                columns,
            });
        }
        Ok(Self { header, rows })
    }

    /// Reads the table, or starts an empty one when the file does not exist.
    pub fn read_or_empty(path: &Path) -> Result<Self> {
        if path.exists() {
            Self::read(path)
        } else {
            Ok(Self::default())
        }
    }

    /// Replaces the row with the same run name (keeping its place) or appends
    /// the row, then recomputes the header. `order` lists the row's columns
    /// in the order new ones should be added.
    pub fn upsert(&mut self, row: ResultRow, order: &[String]) {
        let mut new_columns: Vec<String> = self.header.clone();
        for name in order.iter().chain(row.columns.keys()) {
            if !new_columns.contains(name) {
                new_columns.push(name.clone());
            }
        }
        // Replace every row of this run (normally one) by the new row, at the
        // place of the first.
        let at = self.rows.iter().position(|r| r.run == row.run);
        self.rows.retain(|r| r.run != row.run);
        let at = at.unwrap_or(self.rows.len()).min(self.rows.len());
        self.rows.insert(at, row);
        self.header = ordered_header(&new_columns);
    }

    /// Writes the table atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                self.header
                    .iter()
                    .map(|h| r.columns.get(h).cloned().unwrap_or_default())
                    .collect()
            })
            .collect();
        crate::metrics::write_csv(path, &self.header, &rows)
    }

    /// Writes `results.md` for the part whose directory is `root`.
    pub fn write_markdown(&self, root: &Path, path: &Path) -> Result<()> {
        let text = self.markdown(root);
        mnist_data::files::write_bytes_atomically(path, text.as_bytes())?;
        Ok(())
    }

    /// The Markdown report: provenance first, then the table of runs, then
    /// links to each run's files.
    pub fn markdown(&self, root: &Path) -> String {
        let part = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "results".into());
        let distinct = |column: &str| -> Vec<String> {
            let mut values: Vec<String> = Vec::new();
            for r in &self.rows {
                if let Some(v) = r.get(column)
                    && !values.iter().any(|x| x == v)
                {
                    values.push(v.to_string());
                }
            }
            values
        };
        let list = |values: &[String]| -> String {
            if values.is_empty() {
                "unknown".into()
            } else {
                values
                    .iter()
                    .map(|v| format!("`{}`", escape(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let (commits, backends, devices) =
            (distinct("commit"), distinct("backend"), distinct("device"));
        let mut dates = distinct("date");
        dates.sort();
        let date = match (dates.first(), dates.last()) {
            (Some(first), Some(last)) if first != last => format!("{first} to {last}"),
            (Some(first), _) => first.clone(),
            _ => "unknown".into(),
        };
        let wall: f64 = self
            .rows
            .iter()
            .filter_map(|r| r.get_f64("wall_seconds"))
            .sum();

        let mut md = String::new();
        let _ = writeln!(md, "# {part}: results\n");
        let _ = writeln!(md, "Provenance:\n");
        let _ = writeln!(md, "- commit: {}", list(&commits));
        let _ = writeln!(
            md,
            "- backend: {}; device: {}",
            list(&backends),
            list(&devices)
        );
        let _ = writeln!(md, "- date (UTC): {date}");
        let _ = writeln!(
            md,
            "- total wall time: {} ({} run{})",
            human_duration(wall),
            self.rows.len(),
            if self.rows.len() == 1 { "" } else { "s" }
        );
        let _ = writeln!(
            md,
            "\n_Generated from `results.csv` by mnist-report; accuracies in percent._\n"
        );

        // The table: standard columns, then two-head columns and per-run
        // backend/device when they vary, then the part's extra columns.
        type Cell = fn(&ResultRow, &str) -> String;
        let mut columns: Vec<(&str, String, Cell)> = vec![
            ("Run", "run".into(), text_cell),
            ("Model", "model".into(), text_cell),
            ("Status", "status".into(), status_cell),
        ];
        if backends.len() > 1 || devices.len() > 1 {
            columns.push(("Backend", "backend".into(), text_cell));
            columns.push(("Device", "device".into(), text_cell));
        }
        columns.extend([
            ("Seed", "seed".into(), text_cell as Cell),
            ("Epochs", "epochs".into(), text_cell),
            ("Batch size", "batch_size".into(), text_cell),
            ("Learning rate", "learning_rate".into(), text_cell),
            ("Momentum", "momentum".into(), text_cell),
            ("Val accuracy", "val_accuracy".into(), percent_cell),
            ("Test accuracy", "test_accuracy".into(), percent_cell),
        ]);
        if self.header.iter().any(|h| h == "test_accuracy_second") {
            columns.push(("Test (second)", "test_accuracy_second".into(), percent_cell));
        }
        if self.header.iter().any(|h| h == "test_accuracy_both") {
            columns.push(("Test (both)", "test_accuracy_both".into(), percent_cell));
        }
        if self.header.iter().any(|h| h == "tested_epoch") {
            columns.push(("Tested epoch", "tested_epoch".into(), text_cell));
        }
        columns.push((
            "Epoch s (median)",
            "epoch_seconds_median".into(),
            seconds_cell,
        ));
        columns.push(("Wall s", "wall_seconds".into(), seconds_cell));
        let extras: Vec<&String> = self.header.iter().filter(|h| !is_standard(h)).collect();
        for extra in extras {
            columns.push(("", extra.clone(), text_cell));
        }

        let titles: Vec<String> = columns
            .iter()
            .map(|(title, key, _)| {
                if title.is_empty() {
                    escape(key)
                } else {
                    title.to_string()
                }
            })
            .collect();
        let _ = writeln!(md, "| {} |", titles.join(" | "));
        let _ = writeln!(md, "|{}", "---|".repeat(titles.len()));
        for row in &self.rows {
            let cells: Vec<String> = columns
                .iter()
                .map(|(_, key, cell)| cell(row, key))
                .collect();
            let _ = writeln!(md, "| {} |", cells.join(" | "));
        }

        let _ = writeln!(md, "\n## Plots\n");
        for row in &self.rows {
            let _ = writeln!(
                md,
                "- **{}**: {}",
                escape(&row.run),
                run_links(root, &row.run)
            );
        }
        md
    }
}

/// Puts the standard columns first, in their fixed order, then the others in
/// the order given.
fn ordered_header(columns: &[String]) -> Vec<String> {
    let mut header: Vec<String> = BASE_COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend(
        OPTIONAL_COLUMNS
            .iter()
            .filter(|c| columns.iter().any(|x| x == *c))
            .map(|c| c.to_string()),
    );
    header.extend(columns.iter().filter(|c| !is_standard(c)).cloned());
    header
}

/// True for the columns this crate fills in (as opposed to a part's extras).
pub fn is_standard(column: &str) -> bool {
    BASE_COLUMNS.contains(&column) || OPTIONAL_COLUMNS.contains(&column)
}

/// Links to the files of one run: config, metrics and every PNG plot in its
/// directory (so plots a part adds itself are listed too).
fn run_links(root: &Path, run: &str) -> String {
    let dir: PathBuf = root.join(run);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|name| !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let link = |name: &str| {
        let label = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        format!("[{label}]({}/{name})", link_path(run))
    };
    let mut links: Vec<String> = ["config.json", "metrics.csv"]
        .iter()
        .filter(|f| files.iter().any(|x| x == *f))
        .map(|f| link(f))
        .collect();
    links.extend(
        files
            .iter()
            .filter(|f| f.ends_with(".png"))
            .map(|f| link(f)),
    );
    if links.is_empty() {
        "(no files)".into()
    } else {
        links.join(" · ")
    }
}

/// A run name as a relative link target (spaces and parentheses escaped).
fn link_path(run: &str) -> String {
    run.replace('%', "%25")
        .replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29")
}

fn text_cell(row: &ResultRow, key: &str) -> String {
    row.get(key).map_or_else(|| "–".into(), escape)
}

fn status_cell(row: &ResultRow, _key: &str) -> String {
    match row.status {
        RunStatus::Completed => "completed".into(),
        RunStatus::Diverged { epoch } => format!("**diverged** (epoch {epoch})"),
    }
}

fn percent_cell(row: &ResultRow, key: &str) -> String {
    match row.get_f64(key) {
        Some(v) if v.is_finite() => format!("{:.2}%", 100.0 * v),
        _ => "–".into(),
    }
}

fn seconds_cell(row: &ResultRow, key: &str) -> String {
    match row.get_f64(key) {
        Some(v) if v.is_finite() => format!("{v:.1}"),
        _ => "–".into(),
    }
}

/// Escapes the characters that would break a Markdown table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// `42.0 s`, `3 min 12 s`, `2 h 05 min`.
fn human_duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 60.0 {
        return format!("{seconds:.1} s");
    }
    let s = seconds.round() as u64;
    if s < 3600 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{} h {:02} min", s / 3600, s % 3600 / 60)
    }
}

fn csv_line(err: &csv::Error) -> Option<u64> {
    err.position().map(|p| p.line())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(42.04), "42.0 s");
        assert_eq!(human_duration(192.0), "3 min 12 s");
        assert_eq!(human_duration(7500.0), "2 h 05 min");
    }

    #[test]
    fn header_puts_standard_columns_first() {
        let cols: Vec<String> = ["loss", "run", "test_accuracy_both", "activation"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let header = ordered_header(&cols);
        assert_eq!(&header[..16], &BASE_COLUMNS.map(String::from)[..]);
        assert_eq!(&header[16..], ["test_accuracy_both", "loss", "activation"]);
    }
}
