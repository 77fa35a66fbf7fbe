//! Writing runs: the files of one run, the results table (upsert, extra
//! columns, diverged runs) and its Markdown rendering.

mod common;

use std::path::Path;

use common::*;
use mnist_report::results::BASE_COLUMNS;
use mnist_report::{
    ConfusionMatrix, EpochMetrics, PartReport, ReportError, RunStatus, TestMetrics, read_results,
};

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).expect("open csv");
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("record").iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn one_head_confusion() -> ConfusionMatrix {
    let truth: Vec<u8> = (0..200).map(|i| (i % 10) as u8).collect();
    let predicted: Vec<u8> = truth
        .iter()
        .enumerate()
        .map(|(i, &t)| if i % 17 == 0 { (t + 1) % 10 } else { t })
        .collect();
    ConfusionMatrix::from_predictions(&truth, &predicted).expect("valid labels")
}

#[test]
fn one_head_run_writes_every_file() {
    let tmp = tempfile::tempdir().unwrap();
    let report = PartReport::new(tmp.path().join("part2"));
    let epochs = one_head_epochs();
    let images: Vec<Vec<u8>> = (0..12).map(|i| digit_pixels(28, 28, i)).collect();
    let labels: Vec<(Vec<u8>, Vec<u8>)> = (0..12u8)
        .map(|i| (vec![i % 10], vec![(i + 3) % 10]))
        .collect();
    let misclassified = gallery_items(&images, 28, 28, &labels);

    let dir = report
        .write_run(
            &summary("mlp-baseline", 0.05),
            &epochs,
            Some(&test_metrics(0.9712)),
            &[one_head_confusion()],
            &misclassified,
            &provenance(40.0),
        )
        .unwrap();
    assert_eq!(dir, tmp.path().join("part2").join("mlp-baseline"));

    // metrics.csv: one row per epoch, one accuracy column per split.
    let (header, rows) = read_csv(&dir.join("metrics.csv"));
    assert_eq!(
        header,
        [
            "epoch",
            "train_loss",
            "train_accuracy",
            "val_loss",
            "val_accuracy",
            "seconds"
        ]
    );
    assert_eq!(rows.len(), 3);
    for (row, e) in rows.iter().zip(&epochs) {
        assert_eq!(row[0], e.epoch.to_string());
        assert_eq!(row[1].parse::<f64>().unwrap(), e.train_loss);
        assert_eq!(row[2].parse::<f64>().unwrap(), e.train_accuracy[0]);
        assert_eq!(row[3].parse::<f64>().unwrap(), e.val_loss);
        assert_eq!(row[4].parse::<f64>().unwrap(), e.val_accuracy[0]);
        assert!((row[5].parse::<f64>().unwrap() - e.seconds).abs() < 1e-3);
    }

    // config.json: hyper-parameters, the caller's config and provenance.
    let text = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(config["run"], "mlp-baseline");
    assert_eq!(config["status"], "completed");
    assert_eq!(config["learning_rate"], 0.05);
    assert_eq!(config["batch_size"], 64);
    assert_eq!(config["momentum"], 0.9);
    assert_eq!(config["seed"], 7);
    assert_eq!(config["epochs"], 3);
    assert_eq!(config["config"]["hidden"], 128);
    assert_eq!(config["config"]["optimizer"], "sgd");
    assert_eq!(config["provenance"]["commit"], "abc1234");
    assert_eq!(config["provenance"]["backend"], "ndarray");
    assert_eq!(config["provenance"]["device"], "cpu");
    assert_eq!(config["provenance"]["date"], "2026-11-22T05:10:00Z");
    assert_eq!(config["provenance"]["wall_seconds"], 40.0);
    assert_eq!(config["test"]["accuracy"][0], 0.9712);

    // The plots.
    let curves = assert_plausible_png(&dir.join("curves.png"), (800, 350));
    assert_eq!((curves.width, curves.height), (900, 400));
    assert_plausible_png(&dir.join("confusion.png"), (400, 400));
    let gallery = assert_plausible_png(&dir.join("misclassified.png"), (10 * 84, 2 * 84));
    // Every item is wrong, so the gallery is highlighted in red.
    assert!(gallery.count_in((0, 0, gallery.width, gallery.height), is_red) > 500);

    // results.csv: the standard columns first, no two-head columns.
    let (header, rows) = read_csv(&report.results_csv());
    assert_eq!(&header[..BASE_COLUMNS.len()], &BASE_COLUMNS[..]);
    assert!(!header.iter().any(|h| h == "test_accuracy_second"));
    assert_eq!(rows.len(), 1);
    let results = read_results(&report.results_csv()).unwrap();
    let row = &results[0];
    assert_eq!(row.run, "mlp-baseline");
    assert_eq!(row.status, RunStatus::Completed);
    assert_eq!(row.get("model"), Some("mlp"));
    assert_eq!(row.get("backend"), Some("ndarray"));
    assert_eq!(row.get("device"), Some("cpu"));
    assert_eq!(row.get("seed"), Some("7"));
    assert_eq!(row.get("epochs"), Some("3"));
    assert_eq!(row.get("batch_size"), Some("64"));
    assert_eq!(row.get_f64("learning_rate"), Some(0.05));
    assert_eq!(row.get_f64("momentum"), Some(0.9));
    assert_eq!(row.get_f64("val_accuracy"), Some(epochs[2].val_accuracy[0]));
    assert_eq!(row.get_f64("test_accuracy"), Some(0.9712));
    assert_eq!(row.get_f64("epoch_seconds_median"), Some(12.0));
    assert_eq!(row.get_f64("wall_seconds"), Some(40.0));
    assert_eq!(row.get("commit"), Some("abc1234"));
    assert_eq!(row.get("date"), Some("2026-11-22T05:10:00Z"));

    // results.md: provenance first, then the table and the plot links.
    let md = std::fs::read_to_string(report.results_md()).unwrap();
    let lines: Vec<&str> = md.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines[0], "# part2: results");
    assert_eq!(lines[1], "Provenance:");
    assert!(lines[2].contains("commit: `abc1234`"), "{md}");
    assert!(
        lines[3].contains("`ndarray`") && lines[3].contains("`cpu`"),
        "{md}"
    );
    assert!(lines[4].contains("2026-11-22T05:10:00Z"), "{md}");
    assert!(lines[5].contains("total wall time: 40.0 s"), "{md}");
    assert!(md.contains("| mlp-baseline | mlp | completed |"), "{md}");
    assert!(md.contains("97.12%"), "{md}");
    assert!(md.contains("(mlp-baseline/curves.png)"), "{md}");
    assert!(md.contains("(mlp-baseline/confusion.png)"), "{md}");
    assert!(md.contains("(mlp-baseline/misclassified.png)"), "{md}");
    assert!(md.find("Provenance").unwrap() < md.find("| Run |").unwrap());
}

#[test]
fn two_head_run_has_per_head_columns_and_plots() {
    let tmp = tempfile::tempdir().unwrap();
    let report = PartReport::new(tmp.path().join("part4"));
    let epochs = two_head_epochs();
    let test = TestMetrics {
        loss: 0.4,
        accuracy: vec![0.95, 0.93],
        accuracy_all_heads: 0.89,
    };
    let images: Vec<Vec<u8>> = (0..5).map(|i| digit_pixels(42, 28, i)).collect();
    let labels: Vec<(Vec<u8>, Vec<u8>)> = (0..5u8)
        .map(|i| (vec![i, 9 - i], vec![i, (9 - i + 1) % 10]))
        .collect();
    let misclassified = gallery_items(&images, 42, 28, &labels);
    let confusion = [
        one_head_confusion(),
        ConfusionMatrix::from_predictions(&[1, 2, 3], &[1, 2, 4]).unwrap(),
    ];

    let dir = report
        .write_run(
            &summary("two-digit", 0.01),
            &epochs,
            Some(&test),
            &confusion,
            &misclassified,
            &provenance(90.0),
        )
        .unwrap();

    let (header, rows) = read_csv(&dir.join("metrics.csv"));
    assert_eq!(
        header,
        [
            "epoch",
            "train_loss",
            "train_accuracy_1",
            "train_accuracy_2",
            "val_loss",
            "val_accuracy_1",
            "val_accuracy_2",
            "seconds"
        ]
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[2][3].parse::<f64>().unwrap(),
        epochs[2].train_accuracy[1]
    );
    assert_eq!(
        rows[2][6].parse::<f64>().unwrap(),
        epochs[2].val_accuracy[1]
    );

    assert_plausible_png(&dir.join("curves.png"), (800, 350));
    assert_plausible_png(&dir.join("confusion-first.png"), (400, 400));
    assert_plausible_png(&dir.join("confusion-second.png"), (400, 400));
    assert!(!dir.join("confusion.png").exists());
    let gallery = assert_plausible_png(&dir.join("misclassified.png"), (5 * 84, 126));
    assert!(gallery.height >= 42 * 3);

    let (header, _) = read_csv(&report.results_csv());
    assert_eq!(&header[..BASE_COLUMNS.len()], &BASE_COLUMNS[..]);
    assert_eq!(
        &header[BASE_COLUMNS.len()..],
        ["test_accuracy_second", "test_accuracy_both"]
    );
    let row = &read_results(&report.results_csv()).unwrap()[0];
    assert_eq!(row.get_f64("test_accuracy"), Some(0.95));
    assert_eq!(row.get_f64("test_accuracy_second"), Some(0.93));
    assert_eq!(row.get_f64("test_accuracy_both"), Some(0.89));
    assert_eq!(row.get_f64("val_accuracy"), Some(epochs[2].val_accuracy[0]));

    let md = std::fs::read_to_string(report.results_md()).unwrap();
    assert!(
        md.contains("Test (second)") && md.contains("Test (both)"),
        "{md}"
    );
    assert!(md.contains("93.00%") && md.contains("89.00%"), "{md}");
    assert!(md.contains("(two-digit/confusion-first.png)"), "{md}");
    assert!(md.contains("(two-digit/confusion-second.png)"), "{md}");
}

#[test]
fn rewriting_a_run_upserts_its_row() {
    let tmp = tempfile::tempdir().unwrap();
    let report = PartReport::new(tmp.path().join("part1"));
    let epochs = one_head_epochs();
    let write = |name: &str, lr: f64, acc: f64, extra: Vec<(String, String)>| {
        let mut s = summary(name, lr);
        s.extra = extra;
        report
            .write_run(
                &s,
                &epochs,
                Some(&test_metrics(acc)),
                &[],
                &[],
                &provenance(10.0),
            )
            .unwrap();
    };

    write("run-a", 0.1, 0.90, vec![]);
    write(
        "run-b",
        0.2,
        0.80,
        vec![
            ("loss".into(), "cross_entropy".into()),
            ("activation".into(), "relu".into()),
        ],
    );
    write("run-a", 0.3, 0.95, vec![]);

    let rows = report.results().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].run, "run-a", "the updated run keeps its place");
    assert_eq!(rows[0].get_f64("learning_rate"), Some(0.3));
    assert_eq!(rows[0].get_f64("test_accuracy"), Some(0.95));
    assert_eq!(rows[0].get("activation"), None, "missing cells are empty");
    assert_eq!(rows[1].run, "run-b");
    assert_eq!(rows[1].get_f64("learning_rate"), Some(0.2));
    assert_eq!(rows[1].get_f64("test_accuracy"), Some(0.80));
    assert_eq!(rows[1].get("loss"), Some("cross_entropy"));
    assert_eq!(rows[1].get("activation"), Some("relu"));

    let (header, csv_rows) = read_csv(&report.results_csv());
    assert_eq!(&header[BASE_COLUMNS.len()..], ["loss", "activation"]);
    assert!(csv_rows.iter().all(|r| r.len() == header.len()));

    let config = std::fs::read_to_string(report.run_dir("run-b").join("config.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["extra"]["activation"], "relu");

    let md = std::fs::read_to_string(report.results_md()).unwrap();
    assert!(md.contains("| run-a |") && md.contains("| run-b |"), "{md}");
    assert_eq!(md.matches("| run-a |").count(), 1, "{md}");
    assert!(md.contains("total wall time: 20.0 s (2 runs)"), "{md}");
    assert!(
        md.contains("| loss | activation |") && md.contains("| cross_entropy | relu |"),
        "{md}"
    );
    assert!(report.is_completed("run-a").unwrap());
    assert!(!report.is_completed("run-c").unwrap());
}

#[test]
fn diverged_run_is_recorded_as_diverged() {
    let tmp = tempfile::tempdir().unwrap();
    let report = PartReport::new(tmp.path().join("part1"));
    let mut epochs = one_head_epochs();
    epochs.truncate(2);
    epochs[1] = EpochMetrics {
        epoch: 2,
        train_loss: f64::NAN,
        train_accuracy: vec![0.1],
        val_loss: f64::INFINITY,
        val_accuracy: vec![0.098],
        seconds: 9.0,
    };
    let mut s = summary("lr-too-high", 10.0);
    s.status = RunStatus::Diverged { epoch: 2 };
    let dir = report
        .write_run(&s, &epochs, None, &[], &[], &provenance(20.0))
        .unwrap();

    let rows = read_results(&report.results_csv()).unwrap();
    assert_eq!(rows[0].status, RunStatus::Diverged { epoch: 2 });
    assert!(!rows[0].is_completed());
    assert_eq!(rows[0].get("status"), Some("diverged"));
    assert_eq!(rows[0].get("diverged_epoch"), Some("2"));
    assert_eq!(
        rows[0].get_f64("val_accuracy"),
        Some(0.098),
        "as far as known"
    );
    assert_eq!(rows[0].get("test_accuracy"), None);
    assert!(!report.is_completed("lr-too-high").unwrap());

    // The NaN loss is kept in metrics.csv; the curves still render.
    let (_, metric_rows) = read_csv(&dir.join("metrics.csv"));
    assert_eq!(metric_rows[1][1], "NaN");
    assert_eq!(metric_rows[1][3], "inf");
    assert_plausible_png(&dir.join("curves.png"), (800, 350));
    assert!(!dir.join("misclassified.png").exists());

    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["status"], "diverged");
    assert_eq!(config["diverged_epoch"], 2);

    let md = std::fs::read_to_string(report.results_md()).unwrap();
    assert!(md.contains("**diverged** (epoch 2)"), "{md}");
}

#[test]
fn malformed_results_csv_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let report = PartReport::new(tmp.path().join("part1"));
    std::fs::create_dir_all(report.root()).unwrap();
    std::fs::write(
        report.results_csv(),
        "run,status,model\na,completed,mlp\nb,completed\n",
    )
    .unwrap();

    let err = read_results(&report.results_csv()).unwrap_err();
    assert!(
        matches!(err, ReportError::MalformedResults { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("results.csv"), "{message}");
    assert!(message.contains("line 3"), "{message}");

    let err = report
        .write_run(
            &summary("c", 0.1),
            &one_head_epochs(),
            None,
            &[],
            &[],
            &provenance(1.0),
        )
        .unwrap_err();
    assert!(err.to_string().contains("results.csv"), "{err}");

    std::fs::write(report.results_csv(), "run,status\na,finished\n").unwrap();
    let err = read_results(&report.results_csv()).unwrap_err().to_string();
    assert!(
        err.contains("unknown status `finished`") && err.contains("line 2"),
        "{err}"
    );

    std::fs::write(report.results_csv(), "name,accuracy\na,0.9\n").unwrap();
    let err = read_results(&report.results_csv()).unwrap_err().to_string();
    assert!(err.contains("no `run` column"), "{err}");

    let missing = tmp.path().join("nowhere").join("results.csv");
    let err = read_results(&missing).unwrap_err().to_string();
    assert!(err.contains("nowhere"), "{err}");
}

#[test]
fn bad_run_names_and_clashing_extras_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let report = PartReport::new(tmp.path().join("part1"));
    let epochs = one_head_epochs();
    for name in ["", "..", "a/b"] {
        let err = report
            .write_run(
                &summary(name, 0.1),
                &epochs,
                None,
                &[],
                &[],
                &provenance(1.0),
            )
            .unwrap_err();
        assert!(
            matches!(err, ReportError::InvalidInput(_)),
            "{name}: {err:?}"
        );
    }
    let mut s = summary("ok", 0.1);
    s.extra = vec![("seed".into(), "1".into())];
    let err = report
        .write_run(&s, &epochs, None, &[], &[], &provenance(1.0))
        .unwrap_err();
    assert!(err.to_string().contains("seed"), "{err}");
    assert!(!report.results_csv().exists());
}

#[test]
fn empty_epochs_still_produce_a_report() {
    let tmp = tempfile::tempdir().unwrap();
    let report = PartReport::new(tmp.path().join("part1"));
    let mut s = summary("crashed-at-once", 1e6);
    s.status = RunStatus::Diverged { epoch: 1 };
    let dir = report
        .write_run(&s, &[], None, &[], &[], &provenance(0.5))
        .unwrap();
    assert!(dir.join("curves.png").exists());
    let (header, rows) = read_csv(&dir.join("metrics.csv"));
    assert_eq!(header.len(), 6);
    assert!(rows.is_empty());
    let row = &report.results().unwrap()[0];
    assert_eq!(row.get("val_accuracy"), None);
    assert_eq!(row.get("epoch_seconds_median"), None);
}

#[test]
fn provenance_collect_never_fails() {
    let p = mnist_report::Provenance::collect("ndarray", "cpu", 1.5);
    assert!(!p.commit.is_empty());
    assert_eq!(p.backend, "ndarray");
    assert_eq!(p.date.len(), "2026-11-22T05:10:00Z".len());
    assert!(p.date.ends_with('Z'));
}

#[test]
fn tested_epoch_picks_the_validation_accuracy_of_the_model_tested() {
    let tmp = tempfile::tempdir().unwrap();
    let report = PartReport::new(tmp.path());
    let epochs = one_head_epochs();
    let mut best = summary("best-of-three", 0.01);
    best.tested_epoch = Some(2);
    report
        .write_run(
            &best,
            &epochs,
            Some(&test_metrics(0.95)),
            &[],
            &[],
            &provenance(3.0),
        )
        .unwrap();
    report
        .write_run(
            &summary("last-of-three", 0.01),
            &epochs,
            Some(&test_metrics(0.95)),
            &[],
            &[],
            &provenance(3.0),
        )
        .unwrap();

    let rows = read_results(&report.results_csv()).unwrap();
    let best_row = rows.iter().find(|r| r.run == "best-of-three").unwrap();
    let last_row = rows.iter().find(|r| r.run == "last-of-three").unwrap();
    assert_eq!(
        best_row.get_f64("val_accuracy"),
        Some(epochs[1].val_accuracy[0])
    );
    assert_eq!(best_row.get("tested_epoch"), Some("2"));
    assert_eq!(
        last_row.get_f64("val_accuracy"),
        Some(epochs[2].val_accuracy[0])
    );
    assert_eq!(last_row.get("tested_epoch"), None);
    let md = std::fs::read_to_string(report.results_md()).unwrap();
    assert!(md.contains("| Tested epoch |"), "{md}");
}

#[test]
fn runs_reporting_at_once_keep_every_row() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("part");
    let epochs = one_head_epochs();
    let runs = 8;
    std::thread::scope(|scope| {
        for i in 0..runs {
            let (root, epochs) = (&root, &epochs);
            scope.spawn(move || {
                PartReport::new(root)
                    .write_run(
                        &summary(&format!("run-{i}"), 0.1),
                        epochs,
                        Some(&test_metrics(0.9)),
                        &[],
                        &[],
                        &provenance(1.0),
                    )
                    .unwrap();
            });
        }
    });
    let rows = PartReport::new(&root).results().unwrap();
    let mut names: Vec<&str> = rows.iter().map(|r| r.run.as_str()).collect();
    names.sort_unstable();
    let expected: Vec<String> = (0..runs).map(|i| format!("run-{i}")).collect();
    assert_eq!(names, expected, "every run's row is in results.csv");
    let leftovers: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn a_killed_writers_temporary_files_are_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("part");
    std::fs::create_dir_all(&root).unwrap();
    let stale = root.join(".tmp-killed");
    std::fs::write(&stale, b"half a table").unwrap();
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(an_hour_ago)
        .unwrap();
    let fresh = root.join(".tmp-live");
    std::fs::write(&fresh, b"a writer at work").unwrap();
    PartReport::new(&root)
        .write_run(
            &summary("run", 0.1),
            &one_head_epochs(),
            None,
            &[],
            &[],
            &provenance(1.0),
        )
        .unwrap();
    assert!(!stale.exists(), "a killed writer's temporary file stays");
    assert!(fresh.exists(), "a live writer's temporary file was removed");
}
