//! The optimiser a run trains with, as one type whatever the configuration
//! chose, so the training loop is written once.

use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{Adam, GradientsParams, Optimizer, Sgd};
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder, RecorderError};

use crate::TrainBackend;
use crate::config::OptimizerConfig;
use crate::models::Model;

type ByteRecorder = NamedMpkBytesRecorder<FullPrecisionSettings>;

/// SGD or Adam over a [`Model`].
#[derive(Clone)]
pub enum ModelOptimizer<B: TrainBackend> {
    Sgd(OptimizerAdaptor<Sgd<B::InnerBackend>, Model<B>, B>),
    Adam(OptimizerAdaptor<Adam, Model<B>, B>),
}

impl<B: TrainBackend> ModelOptimizer<B> {
    /// The optimiser `config` describes, with no state yet.
    pub fn new(config: &OptimizerConfig) -> Self {
        match config {
            OptimizerConfig::Sgd {
                momentum, nesterov, ..
            } => Self::Sgd(OptimizerConfig::burn_sgd(*momentum, *nesterov).init()),
            OptimizerConfig::Adam { .. } => Self::Adam(OptimizerConfig::burn_adam().init()),
        }
    }

    /// One step: the model moved along its gradients.
    pub fn step(
        &mut self,
        learning_rate: f64,
        model: Model<B>,
        grads: GradientsParams,
    ) -> Model<B> {
        match self {
            Self::Sgd(optimizer) => optimizer.step(learning_rate, model, grads),
            Self::Adam(optimizer) => optimizer.step(learning_rate, model, grads),
        }
    }

    /// The optimiser's state (momenta), in Burn's record format.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RecorderError> {
        let recorder = ByteRecorder::default();
        match self {
            Self::Sgd(optimizer) => recorder.record(optimizer.to_record(), ()),
            Self::Adam(optimizer) => recorder.record(optimizer.to_record(), ()),
        }
    }

    /// The state saved by [`Self::to_bytes`], loaded.
    pub fn load_bytes(self, bytes: Vec<u8>, device: &B::Device) -> Result<Self, RecorderError> {
        let recorder = ByteRecorder::default();
        Ok(match self {
            Self::Sgd(optimizer) => Self::Sgd(optimizer.load_record(recorder.load(bytes, device)?)),
            Self::Adam(optimizer) => {
                Self::Adam(optimizer.load_record(recorder.load(bytes, device)?))
            }
        })
    }
}
