//! Dev and test builds only: the CPU backends' copies of the generic entry
//! points (training run, prediction, benchmarks), compiled once, here.
//!
//! Everything in this crate is generic over the backend, so each part binary
//! and test binary would compile its own copy of the whole training loop for
//! flex and ndarray. At opt-level 1 (dev and test builds of the workspace,
//! see `Cargo.toml`) rustc shares generic instances between crates: a crate
//! that needs `run::<Autodiff<Flex>>` links the copy an upstream crate has
//! compiled. This function makes this crate compile them. Release builds
//! (opt-level 3, no sharing) leave it out, and so does this crate's own
//! unit-test build, which would only compile them again.

use crate::bench::{cnn_layer_times, time_steps, time_steps_in_rounds};
use crate::inference::TrainedModel;
use crate::model::TrainBackend;
use crate::run::run;

/// The instances' addresses: taking them makes this crate compile them.
/// Nothing calls this.
#[doc(hidden)]
pub fn cpu_backend_instances() -> Vec<usize> {
    fn entry_points<B: TrainBackend>() -> Vec<usize> {
        vec![
            run::<B> as fn(_, _, _, _) -> _ as usize,
            TrainedModel::<B>::load as fn(_, _) -> _ as usize,
            TrainedModel::<B>::predict as fn(_, _, _) -> _ as usize,
            TrainedModel::<B::InnerBackend>::load as fn(_, _) -> _ as usize,
            TrainedModel::<B::InnerBackend>::predict as fn(_, _, _) -> _ as usize,
            time_steps::<B> as fn(_, _, _, _, _) -> _ as usize,
            time_steps_in_rounds::<B> as fn(_, _, _, _, _, _) -> _ as usize,
            cnn_layer_times::<B> as fn(_, _, _, _, _) -> _ as usize,
        ]
    }
    let mut addresses = Vec::new();
    #[cfg(feature = "flex")]
    addresses.extend(entry_points::<burn::backend::Autodiff<burn::backend::Flex>>());
    #[cfg(feature = "ndarray")]
    addresses.extend(entry_points::<
        burn::backend::Autodiff<burn::backend::NdArray>,
    >());
    addresses
}
