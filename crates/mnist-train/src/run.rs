//! One run of a part, start to finish: seed, build the model, train (with
//! checkpoints), evaluate the tested model (see [`Tested`]) on the test set,
//! save it for prediction, write the report.
//! Every Burn part calls [`run`] once per configuration, on the backend its
//! `--backend` names.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mnist_data::{Dataset, course_split};
use mnist_report::lock::{remove_stale_temporaries, try_lock};
use mnist_report::{
    ConfusionMatrix, EpochMetrics, GalleryItem, PartReport, Provenance, ReportError, RunStatus,
    RunSummary, TestMetrics,
};

use crate::backend::{BackendKind, BackendTask, BackendUnavailable, run_on};
use crate::checkpoint::{CheckpointError, Checkpoints};
use crate::train::{TrainError, TrainOptions, TrainingData, train};
use mnist_models::TrainBackend;
use mnist_models::config::TrainingConfig;
use mnist_models::evaluate::{Evaluation, evaluate};
use mnist_models::models::{ConvMethod, ModelConfig};

/// Misclassified test images shown in the report's gallery.
const GALLERY_SIZE: usize = 40;

/// Training, validation and test sets of a run.
#[derive(Clone, Debug)]
pub struct Splits {
    pub train: Dataset,
    pub validation: Dataset,
    pub test: Dataset,
}

impl Splits {
    /// The course's split of a training file: the last 10 % validates, the
    /// rest trains (shuffled with `seed`); the test set is kept whole.
    pub fn course(training_file: &Dataset, test: Dataset, seed: u64) -> Self {
        let split = course_split(training_file.len(), seed);
        Self {
            train: training_file.select(&split.train),
            validation: training_file.select(&split.validation),
            test,
        }
    }

    /// The sets a smoke run (`--quick`, `--limit`) trains and tests on.
    pub fn limit_to(self, args: &mnist_report::cli::PartArgs) -> Self {
        let (train, eval) = args.limits();
        self.limit(train, eval)
    }

    /// At most `train` training images and `eval` validation and test
    /// images each: for quick runs and tests.
    pub fn limit(self, train: usize, eval: usize) -> Self {
        Self {
            train: self.train.take(train),
            validation: self.validation.take(eval),
            test: self.test.take(eval),
        }
    }
}

/// What to run and where its report goes.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// `reports/<part>`.
    pub part_dir: PathBuf,
    /// The run's name: its folder and its row in `results.csv`.
    pub run: String,
    pub model: ModelConfig,
    /// How a CNN's conv blocks are computed (the same model either way):
    /// `None` leaves it to the backend, which takes the faster
    /// ([`BackendKind::fastest_conv`]).
    pub conv: Option<ConvMethod>,
    pub training: TrainingConfig,
    pub start: Start,
    /// Progress bar and epoch lines.
    pub verbose: bool,
    /// Extra columns for the part's `results.csv`.
    pub extra: Vec<(String, String)>,
    /// Which epoch's model the test set measures.
    pub tested: Tested,
    /// Where the data came from when it is not the committed MNIST files
    /// (`--data`): recorded in the run's configuration.
    pub data: Option<String>,
}

/// How a run treats what an earlier run of the same name left.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Start {
    /// A new run: refuses to replace a completed one.
    #[default]
    Fresh,
    /// A new run replacing whatever run of this name there is (`--overwrite`).
    Overwrite,
    /// Continues from the run's last checkpoint, which must exist (`--resume`).
    Resume,
}

/// The lock a run holds on its folder while it runs.
pub const RUN_LOCK: &str = ".run.lock";

/// Which epoch's model a run tests. That model is saved as the checkpoint
/// folder's `model.mpk`, which prediction loads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tested {
    /// The epoch with the best validation accuracy.
    #[default]
    BestByValidation,
    /// The last epoch: the course's protocol (its PyTorch `train_model`
    /// saves the model after every epoch and `main` tests the final one), and
    /// the only choice for protocols that validate on the test set, so that
    /// nothing is chosen on it.
    Last,
}

impl RunSpec {
    /// A fresh run (not resumed) of `model` trained as `training` says,
    /// reported in `part_dir/run`, printing its progress.
    pub fn new(
        part_dir: PathBuf,
        run: String,
        model: ModelConfig,
        training: TrainingConfig,
        tested: Tested,
    ) -> Self {
        Self {
            part_dir,
            run,
            model,
            conv: None,
            training,
            start: Start::Fresh,
            verbose: true,
            extra: Vec::new(),
            tested,
            data: None,
        }
    }

    pub fn dir(&self) -> PathBuf {
        self.part_dir.join(&self.run)
    }

    pub fn checkpoints(&self) -> Checkpoints {
        Checkpoints::new(self.dir().join("checkpoints"))
    }

    /// Everything that defines the run, saved with it: the model, the
    /// training and, when it is not the committed MNIST, the data.
    pub fn config_json(&self) -> serde_json::Value {
        let mut config = serde_json::json!({ "model": self.model, "training": self.training });
        if let Some(data) = &self.data {
            config["data"] = data.as_str().into();
        }
        config
    }
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    pub status: RunStatus,
    pub history: Vec<EpochMetrics>,
    /// `None` when the run diverged.
    pub test: Option<TestMetrics>,
    /// The tested model's confusion matrix on the test set, one per head
    /// (empty when the run diverged).
    pub confusion: Vec<ConfusionMatrix>,
    pub report_dir: PathBuf,
    pub wall_seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Backend(#[from] BackendUnavailable),
    #[error("{0}: another run of this name is running (it holds {RUN_LOCK})")]
    Busy(PathBuf),
    #[error(
        "{dir} holds the completed run `{run}`: pass --overwrite to replace its model and \
         report, or --run NAME for a new run"
    )]
    Completed { run: String, dir: PathBuf },
    #[error("{0}")]
    Model(String),
}

/// Runs `spec` on `backend`: the plan, the training loop's epochs, the test
/// line, and the report in `spec.dir()`.
pub fn run(spec: &RunSpec, data: &Splits, backend: BackendKind) -> Result<RunOutcome, RunError> {
    struct Run<'a>(&'a RunSpec, &'a Splits);
    impl BackendTask for Run<'_> {
        type Output = Result<RunOutcome, RunError>;
        fn run<B: TrainBackend>(self, device: B::Device, backend: BackendKind) -> Self::Output {
            run_with::<B>(self.0, self.1, &device, backend)
        }
    }
    run_on(backend, Run(spec, data))?
}

/// [`run`] on backend `B`'s `device`.
pub fn run_with<B: TrainBackend>(
    spec: &RunSpec,
    data: &Splits,
    device: &B::Device,
    backend: BackendKind,
) -> Result<RunOutcome, RunError> {
    // The backend's choice of conv blocks, made here once, is what the run
    // records and trains.
    let conv = spec.conv.unwrap_or(backend.fastest_conv());
    let spec = &RunSpec {
        model: spec.model.clone().with_conv(conv),
        ..spec.clone()
    };
    spec.model.validate().map_err(RunError::Model)?;
    let _lock = claim_run_folder(spec)?;
    if spec.verbose {
        print_plan(spec, data, backend);
    }
    B::seed(device, spec.training.seed);
    let model = spec.model.init::<B>(device);
    let start = Instant::now();
    // The commit the run starts from: code committed while it trains
    // is not the code that trained.
    let commit = mnist_report::provenance::git_commit();
    let checkpoints = spec.checkpoints();
    let options = TrainOptions {
        checkpoints: Some(&checkpoints),
        resume: spec.start == Start::Resume,
        run_config: spec.config_json(),
        verbose: spec.verbose,
    };
    let training_data = TrainingData {
        train: &data.train,
        validation: &data.validation,
    };
    checkpoints.save_model_config(&spec.model)?;
    // A model left by an earlier run under this name is not this run's.
    let _ = std::fs::remove_file(checkpoints.model_path());
    let trained = train(model, training_data, &spec.training, &options, device)?;

    let (tested_model, tested_epoch) = match spec.tested {
        Tested::BestByValidation => (&trained.best, trained.state.best_epoch),
        Tested::Last => (&trained.last, Some(trained.state.epochs_done)),
    };
    let test = match trained.status {
        RunStatus::Completed => Some(evaluate(tested_model, &data.test, device)),
        RunStatus::Diverged { .. } => None,
    };
    if test.is_some() {
        checkpoints.save_tested(tested_model)?;
    }
    if spec.verbose {
        match &test {
            Some(test) => print_test(test),
            None => println!("The run diverged: no test evaluation (try a lower --learning-rate)."),
        }
    }
    let wall_seconds = start.elapsed().as_secs_f64();
    let provenance = Provenance {
        commit,
        ..Provenance::collect(backend.name(), format!("{device:?}"), wall_seconds)
    };
    let test_metrics = test.as_ref().map(|t| TestMetrics {
        loss: t.loss,
        accuracy: t.accuracy.clone(),
        accuracy_all_heads: t.accuracy_all_heads,
    });
    let summary = RunSummary {
        run: spec.run.clone(),
        model: spec.model.describe(),
        status: trained.status,
        seed: spec.training.seed,
        epochs: spec.training.epochs,
        batch_size: spec.training.batch_size,
        learning_rate: spec.training.optimizer.learning_rate(),
        momentum: spec.training.optimizer.momentum(),
        tested_epoch: test.as_ref().and(tested_epoch),
        config: spec.config_json(),
        extra: spec.extra.clone(),
    };
    let (confusion, gallery) = match &test {
        Some(test) => (
            confusion_matrices(&data.test, test),
            misclassified(&data.test, test),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let report_dir = PartReport::new(&spec.part_dir).write_run(
        &summary,
        &trained.state.history,
        test_metrics.as_ref(),
        &confusion,
        &gallery,
        &provenance,
    )?;
    if spec.verbose {
        println!("Report: {} ({wall_seconds:.0} s)", report_dir.display());
    }
    Ok(RunOutcome {
        status: trained.status,
        history: trained.state.history,
        test: test_metrics,
        confusion,
        report_dir,
        wall_seconds,
    })
}

/// Locks the run's folder for this process, removes what killed runs left
/// there, and refuses to replace a completed run unless told to.
fn claim_run_folder(spec: &RunSpec) -> Result<mnist_report::lock::Lock, RunError> {
    mnist_report::report::validate_run_name(&spec.run)?;
    let dir = spec.dir();
    let lock = try_lock(&dir.join(RUN_LOCK))?.ok_or_else(|| RunError::Busy(dir.clone()))?;
    let completed = PartReport::new(&spec.part_dir).is_completed(&spec.run)?
        || spec.checkpoints().model_path().exists();
    if completed && spec.start == Start::Fresh {
        return Err(RunError::Completed {
            run: spec.run.clone(),
            dir,
        });
    }
    for folder in [&dir, &spec.checkpoints().dir] {
        remove_stale_temporaries(folder, Duration::ZERO);
    }
    Ok(lock)
}

/// What is about to be trained, on what, and where the report goes.
fn print_plan(spec: &RunSpec, data: &Splits, backend: BackendKind) {
    let (height, width) = spec.model.image_size();
    let conv = match &spec.model {
        ModelConfig::Cnn(cnn) => format!(" (conv blocks: {:?})", cnn.conv).to_lowercase(),
        ModelConfig::Mlp(_) => String::new(),
    };
    println!(
        "{}{conv} on {backend}: {}",
        spec.model.describe(),
        spec.training.describe()
    );
    println!(
        "{} training, {} validation, {} test images of {height}x{width}; report in {}",
        data.train.len(),
        data.validation.len(),
        data.test.len(),
        spec.dir().display()
    );
}

/// The course's test line.
fn print_test(test: &Evaluation) {
    let accuracies: Vec<String> = test.accuracy.iter().map(|a| format!("{a:.6}")).collect();
    print!(
        "Loss on test set: {:.6} Accuracy on test set: {}",
        test.loss,
        accuracies.join(" ")
    );
    if test.accuracy.len() > 1 {
        print!(" (all digits right: {:.6})", test.accuracy_all_heads);
    }
    println!();
}

/// The test set's confusion matrix, one per head.
pub fn confusion_matrices(set: &Dataset, test: &Evaluation) -> Vec<ConfusionMatrix> {
    (0..set.labels.heads)
        .map(|head| {
            let truth = set.labels.head(head);
            let predicted = test.predictions.labels.head(head);
            let mut matrix = ConfusionMatrix::new();
            for (&t, &p) in truth.iter().zip(&predicted) {
                // Labels are 0–9 by construction of the data and the model.
                let _ = matrix.add(t, p);
            }
            matrix
        })
        .collect()
}

/// The first misclassified test images, for the report's gallery.
pub fn misclassified<'a>(set: &'a Dataset, test: &Evaluation) -> Vec<GalleryItem<'a>> {
    (0..set.len())
        .filter(|&i| test.predictions.labels.of(i) != set.labels.of(i))
        .take(GALLERY_SIZE)
        .map(|i| GalleryItem {
            pixels: set.images.image(i),
            height: set.images.height,
            width: set.images.width,
            truth: Some(set.labels.of(i).to_vec()),
            predicted: test.predictions.labels.of(i).to_vec(),
        })
        .collect()
}
