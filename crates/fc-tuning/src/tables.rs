//! What the part writes beside the core's per-run reports: the course table
//! against its references (`course-table.md`) and MLP-for-MNIST's batch-size
//! plots and table, all generated from `results.csv` and the runs'
//! `metrics.csv`, never typed in.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mnist_report::{ReportError, ResultRow};

use crate::studies::{FcConfig, GOAL_POINTS, MLP_FOR_MNIST_ACCURACY, reference};

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("{path}: {message}")]
    Metrics { path: PathBuf, message: String },
}

fn pct(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or("–".into(), |v| format!("{:.2} %", 100.0 * v))
}

fn points(v: f64) -> String {
    format!("{v:+.2}")
}

/// The course table in Markdown: one line per configuration in `configs`
/// that `rows` (read from `results.csv`) records, with the references and
/// whether the goal (within 0.5 points of PyTorch here) is met.
pub fn course_table_markdown(rows: &[ResultRow], configs: &[FcConfig]) -> String {
    let mut md = String::from(
        "| run | network | change | status | val accuracy | test accuracy | PyTorch here | Δ vs PyTorch | goal (±0.5) | the course reported |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for config in configs {
        let Some(row) = rows.iter().find(|r| r.run == config.name) else {
            continue;
        };
        let test = row.get_f64("test_accuracy");
        let reference = reference(&config.name);
        let pytorch = reference.and_then(|r| r.pytorch_here);
        let (delta, goal) = match (test, pytorch) {
            (Some(t), Some(p)) => {
                let d = 100.0 * t - p;
                (
                    points(d),
                    if d.abs() <= GOAL_POINTS {
                        "met"
                    } else {
                        "missed"
                    },
                )
            }
            (None, Some(_)) => ("–".into(), "missed"),
            _ => ("".into(), ""),
        };
        let status = match row.get("diverged_epoch") {
            Some(epoch) => format!("diverged (epoch {epoch})"),
            None => row.get("status").unwrap_or("").to_string(),
        };
        let _ = writeln!(
            md,
            "| {} | {} {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            config.name,
            config.layers(),
            config.activation_name(),
            config.change,
            status,
            pct(row.get_f64("val_accuracy")),
            pct(test),
            pytorch.map_or(String::new(), |p| format!("{p:.2} %")),
            delta,
            goal,
            reference
                .and_then(|r| r.course_reported)
                .map_or(String::new(), |p| format!("{p:.2} %")),
        );
    }
    md
}

/// `val_accuracy` per epoch from a run's `metrics.csv`: `(epoch, accuracy)`.
pub fn read_val_accuracy(path: &Path) -> Result<Vec<(usize, f64)>, TableError> {
    let error = |message: String| TableError::Metrics {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| error(e.to_string()))?;
    let header = reader.headers().map_err(|e| error(e.to_string()))?.clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| error(format!("no `{name}` column")))
    };
    let (epoch_at, accuracy_at) = (column("epoch")?, column("val_accuracy")?);
    let mut points = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| error(e.to_string()))?;
        let epoch = record
            .get(epoch_at)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| error("an epoch is not a number".into()))?;
        let accuracy = record
            .get(accuracy_at)
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        points.push((epoch, accuracy));
    }
    Ok(points)
}

/// MLP-for-MNIST's study, read back from the runs' reports: per batch size, the
/// test accuracy after every epoch.
#[derive(Clone, Debug)]
pub struct BatchSizeCurves {
    pub curves: Vec<(usize, Vec<(usize, f64)>)>,
}

impl BatchSizeCurves {
    /// Reads `part_dir/<run>/metrics.csv` for each configuration that has
    /// one (a configuration that never ran is left out).
    pub fn read(part_dir: &Path, configs: &[FcConfig]) -> Result<Self, TableError> {
        let mut curves = Vec::new();
        for config in configs {
            let path = part_dir.join(&config.name).join("metrics.csv");
            if path.is_file() {
                curves.push((config.batch_size, read_val_accuracy(&path)?));
            }
        }
        Ok(Self { curves })
    }

    /// The last epoch's accuracy per batch size.
    pub fn finals(&self) -> Vec<(usize, usize, f64)> {
        self.curves
            .iter()
            .filter_map(|(b, c)| c.last().map(|&(e, a)| (*b, e, a)))
            .collect()
    }

    /// Writes the three plots of MLP-for-MNIST into `dir`:
    /// `batch-sizes-accuracy-vs-epoch.png`, `batch-sizes-final-accuracy.png`
    /// and `batch-sizes-heatmap.png`, and the table `batch-sizes.md`.
    /// `images` is (training, test) images, for the table's text.
    pub fn write(
        &self,
        dir: &Path,
        rows: &[ResultRow],
        configs: &[FcConfig],
        images: (usize, usize),
    ) -> Result<(), TableError> {
        use mnist_report::plot::{heatmap, line_chart};
        let series: Vec<(String, Vec<(f64, f64)>)> = self
            .curves
            .iter()
            .map(|(batch, curve)| {
                (
                    format!("batch {batch}"),
                    curve.iter().map(|&(e, a)| (e as f64, 100.0 * a)).collect(),
                )
            })
            .collect();
        line_chart(
            &dir.join("batch-sizes-accuracy-vs-epoch.png"),
            "784-64-64-10 ReLU, SGD: test accuracy after each epoch",
            "epoch",
            "test accuracy (%)",
            &series,
        )?;
        let finals = self.finals();
        line_chart(
            &dir.join("batch-sizes-final-accuracy.png"),
            "Final test accuracy against batch size (last epoch)",
            "log2(batch size): 4 = 16, 5 = 32, 6 = 64, 7 = 128, 8 = 256",
            "test accuracy (%)",
            &[(
                "784-64-64-10".into(),
                finals
                    .iter()
                    .map(|&(b, _, a)| ((b as f64).log2(), 100.0 * a))
                    .collect(),
            )],
        )?;
        let epochs = self
            .curves
            .iter()
            .flat_map(|(_, c)| c.iter().map(|p| p.0))
            .max()
            .unwrap_or(0);
        let x_labels: Vec<String> = (1..=epochs).map(|e| e.to_string()).collect();
        let y_labels: Vec<String> = self.curves.iter().map(|(b, _)| b.to_string()).collect();
        let values: Vec<Vec<f64>> = self
            .curves
            .iter()
            .map(|(_, c)| {
                (1..=epochs)
                    .map(|e| {
                        c.iter()
                            .find(|p| p.0 == e)
                            .map_or(f64::NAN, |p| 100.0 * p.1)
                    })
                    .collect()
            })
            .collect();
        heatmap(
            &dir.join("batch-sizes-heatmap.png"),
            "Test accuracy (%) by batch size and epoch",
            "epoch",
            &x_labels,
            "batch size",
            &y_labels,
            &values,
        )?;
        let md = self.markdown(rows, configs, images);
        mnist_data::files::write_bytes_atomically(&dir.join("batch-sizes.md"), md.as_bytes())
            .map_err(ReportError::from)?;
        Ok(())
    }

    /// The study's table: per batch size, the last epoch's test accuracy,
    /// the best epoch's, and the time per epoch.
    pub fn markdown(
        &self,
        rows: &[ResultRow],
        configs: &[FcConfig],
        (train, test): (usize, usize),
    ) -> String {
        let mut md = format!(
            "# MLP-for-MNIST's batch-size study\n\n\
             784-64-64-10 ReLU, SGD lr 0.1, trained on {train} training images and tested on \
             {test} test images after every epoch; the result is the last epoch's model \
             (nothing is selected on the test set). MLP-for-MNIST reported {MLP_FOR_MNIST_ACCURACY:.2} %.\n\n\
             | batch size | epochs | test accuracy (last epoch) | best epoch (for reference) | s/epoch (median) | Δ vs MLP-for-MNIST |\n\
             |---|---|---|---|---|---|\n"
        );
        for (batch, curve) in &self.curves {
            let Some(&(last_epoch, last)) = curve.last() else {
                continue;
            };
            let best = curve
                .iter()
                .copied()
                .filter(|p| p.1.is_finite())
                .max_by(|a, b| a.1.total_cmp(&b.1));
            let seconds = configs
                .iter()
                .find(|c| c.batch_size == *batch)
                .and_then(|c| rows.iter().find(|r| r.run == c.name))
                .and_then(|r| r.get_f64("epoch_seconds_median"));
            let _ = writeln!(
                md,
                "| {batch} | {last_epoch} | {} | {} | {} | {} |",
                pct(Some(last)),
                best.map_or("–".into(), |(e, a)| format!(
                    "{} (epoch {e})",
                    pct(Some(a))
                )),
                seconds.map_or("–".into(), |s| format!("{s:.1}")),
                points(100.0 * last - MLP_FOR_MNIST_ACCURACY),
            );
        }
        md.push_str(
            "\nPlots: [accuracy against epoch](batch-sizes-accuracy-vs-epoch.png) · \
             [final accuracy against batch size](batch-sizes-final-accuracy.png) · \
             [heatmap](batch-sizes-heatmap.png)\n",
        );
        md
    }
}
