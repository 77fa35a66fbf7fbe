#![allow(dead_code)]
//! Shared test helpers: MNIST once per test binary, small sweeps in a
//! temporary folder.

use std::path::Path;
use std::sync::OnceLock;

use fc_tuning::studies::FcConfig;
use fc_tuning::sweep::{StudyData, SweepOptions, SweepRun, run_sweep};
use mnist_data::Mnist;
use mnist_train::BackendKind;

pub type Flex = mnist_models::burn::backend::Autodiff<mnist_models::burn::backend::Flex>;

pub fn mnist() -> &'static Mnist {
    static MNIST: OnceLock<Mnist> = OnceLock::new();
    MNIST.get_or_init(|| Mnist::load_default().expect("the committed MNIST files load"))
}

/// The course split of MNIST with at most `train` training images and `eval`
/// validation and test images.
pub fn data(train: usize, eval: usize) -> StudyData {
    StudyData::new(mnist(), 1, train, eval)
}

pub fn options(dir: &Path, epochs: Option<usize>) -> SweepOptions {
    SweepOptions {
        part_dir: dir.to_path_buf(),
        seed: 1,
        epochs,
        rerun: false,
        verbose: false,
        data: None,
    }
}

pub fn sweep(configs: &[FcConfig], data: &StudyData, options: &SweepOptions) -> Vec<SweepRun> {
    run_sweep(configs, data, options, BackendKind::Flex)
}

/// The course table's configuration `name`.
pub fn course(name: &str) -> FcConfig {
    fc_tuning::studies::course_table()
        .into_iter()
        .find(|c| c.name == name)
        .expect("a course configuration")
}
