//! Sweeps: the baseline learns; a diverging configuration is recorded and
//! the sweep finishes the others; a sweep run again skips what finished; the
//! results table reads back.
mod common;

use common::{course, data, options, sweep};
use fc_tuning::studies::batch_size_study;
use fc_tuning::sweep::Outcome;
use fc_tuning::tables::{BatchSizeCurves, course_table_markdown};
use mnist_report::{RunStatus, read_results};

#[test]
fn the_baseline_trained_on_a_subset_reaches_85_percent() {
    // 5,000 training images, 5 epochs; tested on 1,000 test images it never saw.
    let data = data(5_000, 1_000);
    let dir = tempfile::tempdir().unwrap();
    let baseline = course("h10-baseline");
    let runs = sweep(&[baseline], &data, &options(dir.path(), Some(5)));
    let Outcome::Completed { test_accuracy, .. } = runs[0].outcome else {
        panic!("{:?}", runs[0].outcome)
    };
    assert!(test_accuracy >= 0.85, "test accuracy {test_accuracy}");
}

#[test]
fn a_diverging_configuration_is_recorded_and_the_sweep_goes_on() {
    let data = data(960, 200);
    let dir = tempfile::tempdir().unwrap();
    // At lr 1e4 ReLU units die and the loss stays finite; 1e30 overflows.
    let mut too_fast = course("h10-baseline");
    too_fast.name = "lr-1e30".into();
    too_fast.learning_rate = 1e30;
    let configs = [course("h10-baseline"), too_fast, course("h10-batch-64")];
    let runs = sweep(&configs, &data, &options(dir.path(), Some(2)));
    let outcomes: Vec<&Outcome> = runs.iter().map(|r| &r.outcome).collect();
    assert!(
        matches!(outcomes[0], Outcome::Completed { .. }),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcomes[1], Outcome::Diverged { epoch: 1 }),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcomes[2], Outcome::Completed { .. }),
        "{outcomes:?}"
    );

    let rows = read_results(&dir.path().join("results.csv")).unwrap();
    let status: Vec<(&str, RunStatus)> = rows.iter().map(|r| (r.run.as_str(), r.status)).collect();
    assert_eq!(
        status,
        vec![
            ("h10-baseline", RunStatus::Completed),
            ("lr-1e30", RunStatus::Diverged { epoch: 1 }),
            ("h10-batch-64", RunStatus::Completed),
        ]
    );
    assert_eq!(rows[1].get("test_accuracy"), None);
    // Better than chance (10 %) after 30 steps.
    assert!(
        rows[2].get_f64("test_accuracy").is_some_and(|a| a > 0.2),
        "{rows:?}"
    );
    // The diverged run has its own report too.
    assert!(dir.path().join("lr-1e30").join("metrics.csv").is_file());
}

#[test]
fn a_sweep_run_again_skips_what_finished_and_runs_the_rest() {
    let data = data(640, 100);
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), Some(1));
    let (a, b, c) = (
        course("h10-baseline"),
        course("h10-lr-0.01"),
        course("h10-leaky-relu"),
    );
    // "Interrupted" after two runs.
    let first = sweep(&[a.clone(), b.clone()], &data, &opts);
    assert!(
        first
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Completed { .. }))
    );
    let csv = dir.path().join("results.csv");
    let dates = |run: &str| {
        read_results(&csv)
            .unwrap()
            .into_iter()
            .find(|r| r.run == run)
            .and_then(|r| r.get("date").map(String::from))
    };
    let metrics = dir.path().join("h10-baseline").join("metrics.csv");
    std::fs::write(&metrics, "left alone\n").unwrap();
    let a_date = dates("h10-baseline");

    let again = sweep(&[a.clone(), b.clone(), c.clone()], &data, &opts);
    let outcomes: Vec<&Outcome> = again.iter().map(|r| &r.outcome).collect();
    assert!(
        matches!(
            outcomes[0],
            Outcome::Skipped {
                test_accuracy: Some(_)
            }
        ),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcomes[1], Outcome::Skipped { .. }),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcomes[2], Outcome::Completed { .. }),
        "{outcomes:?}"
    );
    assert_eq!(std::fs::read_to_string(&metrics).unwrap(), "left alone\n");
    assert_eq!(dates("h10-baseline"), a_date);
    assert_eq!(read_results(&csv).unwrap().len(), 3);

    // Other settings (here, epochs) are a different run: not skipped.
    let more = sweep(&[a], &data, &options(dir.path(), Some(2)));
    assert!(
        matches!(more[0].outcome, Outcome::Completed { .. }),
        "{:?}",
        more[0].outcome
    );
    let row = read_results(&csv)
        .unwrap()
        .into_iter()
        .find(|r| r.run == "h10-baseline")
        .unwrap();
    assert_eq!(row.get("epochs"), Some("2"));
}

#[test]
fn the_results_table_reads_back() {
    let data = data(640, 100);
    let dir = tempfile::tempdir().unwrap();
    let mut configs = vec![course("h10-baseline"), course("h128-leaky-relu")];
    let mut per_epoch = batch_size_study()[4].clone(); // batch 256
    per_epoch.epochs = 2;
    configs.push(per_epoch.clone());
    let runs = sweep(&configs, &data, &options(dir.path(), None));
    assert!(
        runs.iter()
            .all(|r| matches!(r.outcome, Outcome::Completed { .. })),
        "{runs:?}"
    );

    let rows = read_results(&dir.path().join("results.csv")).unwrap();
    assert_eq!(rows.len(), 3);
    for (row, run) in rows.iter().zip(&runs) {
        assert_eq!(row.run, run.config.name);
        assert_eq!(row.get("layers"), Some(run.config.layers().as_str()));
        assert_eq!(row.get("activation"), Some(run.config.activation_name()));
        assert_eq!(row.get("study"), Some(run.config.study));
        let recorded = row.get_f64("test_accuracy").unwrap();
        assert!((recorded - run.outcome.test_accuracy().unwrap()).abs() < 1e-12);
        let Outcome::Completed { val_accuracy, .. } = run.outcome else {
            unreachable!()
        };
        let recorded = row.get_f64("val_accuracy").unwrap();
        assert!((recorded - val_accuracy).abs() < 1e-12, "{row:?}");
    }
    assert_eq!(rows[1].get("activation"), Some("leaky-relu"));

    // The course table: a line per recorded run, with its references.
    let md = course_table_markdown(&rows, &fc_tuning::studies::course_table());
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines.len(), 4, "{md}");
    assert!(
        lines[2].starts_with("| h10-baseline | 784-10-10 relu | baseline | completed |"),
        "{md}"
    );
    assert!(
        lines[2].contains("93.71 %") && lines[2].contains("92.05 %"),
        "{md}"
    );
    let test = rows[0].get_f64("test_accuracy").unwrap();
    assert!(lines[2].contains(&format!("{:.2} %", 100.0 * test)), "{md}");

    // MLP-for-MNIST's protocol: the test set after every epoch, the last epoch reported.
    let curves = BatchSizeCurves::read(dir.path(), &[per_epoch.clone()]).unwrap();
    assert_eq!(curves.curves.len(), 1);
    let (batch, curve) = &curves.curves[0];
    assert_eq!((*batch, curve.len()), (256, 2));
    assert_eq!(rows[2].get("tested_epoch"), Some("2"));
    assert!((curve[1].1 - rows[2].get_f64("test_accuracy").unwrap()).abs() < 1e-9);
    curves
        .write(dir.path(), &rows, &[per_epoch], (640, 100))
        .unwrap();
    for plot in [
        "batch-sizes-accuracy-vs-epoch.png",
        "batch-sizes-final-accuracy.png",
        "batch-sizes-heatmap.png",
        "batch-sizes.md",
    ] {
        let len = std::fs::metadata(dir.path().join(plot)).unwrap().len();
        assert!(len > 500, "{plot}: {len} bytes");
    }
}

#[test]
fn a_run_interrupted_after_its_last_checkpoint_resumes_instead_of_training_again() {
    let data = data(640, 100);
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), Some(2));
    let config = course("h10-baseline");
    sweep(std::slice::from_ref(&config), &data, &opts);
    let metrics = dir.path().join("h10-baseline").join("metrics.csv");
    // Killed after the checkpoint, before the report: no row in results.csv.
    std::fs::remove_file(dir.path().join("results.csv")).unwrap();
    std::fs::remove_file(&metrics).unwrap();
    // Mark the checkpointed history, to tell a resumed run from a new one.
    let last = dir.path().join("h10-baseline/checkpoints/last.json");
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&last).unwrap()).unwrap();
    saved["state"]["history"][0]["seconds"] = serde_json::json!(1234.5);
    std::fs::write(&last, saved.to_string()).unwrap();

    let again = sweep(&[config], &data, &opts);
    assert!(
        matches!(again[0].outcome, Outcome::Completed { .. }),
        "{again:?}"
    );
    // Resumed: the epochs (and their timings) come from the checkpoint.
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(text.contains("1234.500"), "{text}");
    assert_eq!(
        read_results(&dir.path().join("results.csv")).unwrap().len(),
        1
    );
}
