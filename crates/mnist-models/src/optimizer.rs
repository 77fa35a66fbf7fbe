//! The optimiser a run trains with, as one type whatever the configuration
//! chose, so the training loop is written once.

use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{Adam, GradientsParams, LearningRate, Optimizer, SimpleOptimizer};
use burn::prelude::*;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder, RecorderError};
use burn::tensor::TensorPrimitive;
use conv_blocks::SgdMomentum;

use crate::TrainBackend;
use crate::config::OptimizerConfig;
use crate::models::Model;

type ByteRecorder = NamedMpkBytesRecorder<FullPrecisionSettings>;

/// SGD or Adam over a [`Model`].
#[derive(Clone)]
pub enum ModelOptimizer<B: TrainBackend> {
    Sgd(OptimizerAdaptor<Sgd, Model<B>, B>),
    Adam(OptimizerAdaptor<Adam, Model<B>, B>),
}

impl<B: TrainBackend> ModelOptimizer<B> {
    /// The optimiser `config` describes, with no state yet.
    pub fn new(config: &OptimizerConfig) -> Self {
        match config {
            OptimizerConfig::Sgd {
                momentum, nesterov, ..
            } => Self::Sgd(Sgd::new(*momentum, *nesterov).into()),
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

/// SGD as Burn's `Sgd` with momentum and no dampening computes it, and with
/// its record (so optimiser states saved by either load in the other), each
/// parameter's update one call of the backend ([`CnnKernels::sgd_update`]).
///
/// [`CnnKernels::sgd_update`]: conv_blocks::CnnKernels::sgd_update
#[derive(Clone, Debug)]
pub struct Sgd {
    momentum: Option<SgdMomentum>,
}

impl Sgd {
    /// SGD with momentum μ (none if 0), Nesterov's or not.
    pub fn new(momentum: f64, nesterov: bool) -> Self {
        Self {
            momentum: (momentum != 0.0).then_some(SgdMomentum { momentum, nesterov }),
        }
    }
}

/// A parameter's SGD state: its velocity, if there is momentum.
#[derive(Record, Clone)]
pub struct SgdState<B: Backend, const D: usize> {
    momentum: Option<MomentumState<B, D>>,
}

#[derive(Record, Clone)]
pub struct MomentumState<B: Backend, const D: usize> {
    velocity: Tensor<B, D>,
}

impl<B: conv_blocks::CnnKernels> SimpleOptimizer<B> for Sgd {
    type State<const D: usize> = SgdState<B, D>;

    fn step<const D: usize>(
        &self,
        learning_rate: LearningRate,
        tensor: Tensor<B, D>,
        grad: Tensor<B, D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<B, D>, Option<Self::State<D>>) {
        let float = |t: Tensor<B, D>| t.into_primitive().tensor();
        let velocity = state
            .and_then(|state| state.momentum)
            .map(|state| float(state.velocity));
        let (param, velocity) = B::sgd_update(
            float(tensor),
            float(grad),
            velocity,
            learning_rate,
            self.momentum,
        );
        let tensor = |t| Tensor::from_primitive(TensorPrimitive::Float(t));
        let momentum = velocity.map(|v| MomentumState {
            velocity: tensor(v),
        });
        (tensor(param), Some(SgdState { momentum }))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &B::Device) -> Self::State<D> {
        state.momentum = state.momentum.map(|m| MomentumState {
            velocity: m.velocity.to_device(device),
        });
        state
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, Flex, NdArray};
    use burn::module::AutodiffModule;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::momentum::MomentumConfig;
    use burn::optim::{GradientsParams, Optimizer, SgdConfig};
    use burn::prelude::*;
    use burn::tensor::backend::AutodiffBackend;

    use super::*;

    /// Burn's SGD with PyTorch's semantics (no dampening), which ours
    /// must equal.
    fn burn_sgd(momentum: f64, nesterov: bool) -> SgdConfig {
        let momentum = (momentum != 0.0).then_some(MomentumConfig {
            momentum,
            dampening: 0.0,
            nesterov,
        });
        SgdConfig::new().with_momentum(momentum)
    }

    /// Two layers, the first with more values than one thread updates
    /// alone.
    #[derive(Module, Debug)]
    struct Net<B: Backend> {
        wide: Linear<B>,
        narrow: Linear<B>,
    }

    impl<B: Backend> Net<B> {
        fn new(device: &B::Device) -> Self {
            Self {
                wide: LinearConfig::new(300, 128).init(device),
                narrow: LinearConfig::new(128, 3).init(device),
            }
        }

        fn loss(&self, x: Tensor<B, 2>) -> Tensor<B, 1> {
            self.narrow
                .forward(self.wide.forward(x).tanh())
                .powi_scalar(2)
                .sum()
        }
    }

    /// `net` after `steps` steps of `optimizer`, each on its own batch.
    /// The batches are made without the backend's random generator, which
    /// tests running alongside would share.
    fn train<B: AutodiffBackend, O: Optimizer<Net<B>, B>>(
        mut net: Net<B>,
        optimizer: &mut O,
        steps: usize,
        device: &B::Device,
    ) -> Net<B> {
        for step in 0..steps {
            let values: Vec<f32> = (0..8 * 300)
                .map(|i| ((i * 7 + step * 13) as f32 * 0.37).sin())
                .collect();
            let x = Tensor::from_data(TensorData::new(values, [8, 300]), device);
            let grads = GradientsParams::from_grads(net.loss(x).backward(), &net);
            net = optimizer.step(0.05, net, grads);
        }
        net
    }

    fn values<B: AutodiffBackend>(net: &Net<B>) -> Vec<Vec<u32>> {
        let net = net.valid();
        [
            net.wide.weight.val().into_data(),
            net.wide.bias.as_ref().map(|b| b.val().into_data()).unwrap(),
            net.narrow.weight.val().into_data(),
        ]
        .iter()
        .map(|d| d.iter::<f32>().map(f32::to_bits).collect())
        .collect()
    }

    /// Our update and Burn's `Sgd` (no dampening) reach the same bits, on
    /// Flex (the one-pass kernel) and on ndarray (Burn's operations).
    fn same_bits_as_burn<B: TrainBackend>() {
        let device = Default::default();
        for (momentum, nesterov) in [(0.0, false), (0.9, false), (0.9, true), (0.5, true)] {
            let net = Net::<B>::new(&device);
            // Reading the parameters initialises them: clones made before
            // would each draw their own.
            let untrained = values(&net);
            let mut burn = burn_sgd(momentum, nesterov).init::<B, Net<B>>();
            let mut ours = OptimizerAdaptor::<Sgd, Net<B>, B>::from(Sgd::new(momentum, nesterov));
            let by_burn = train(net.clone(), &mut burn, 4, &device);
            let by_us = train(net.clone(), &mut ours, 4, &device);
            assert_ne!(values(&by_us), untrained, "the steps moved the parameters");
            assert!(
                values(&by_us) == values(&by_burn),
                "momentum {momentum}, Nesterov {nesterov}: not Burn's parameters"
            );
        }
    }

    #[test]
    fn sgd_updates_the_parameters_as_burns_sgd_does_on_flex() {
        same_bits_as_burn::<Autodiff<Flex>>();
    }

    #[test]
    fn sgd_updates_the_parameters_as_burns_sgd_does_on_ndarray() {
        same_bits_as_burn::<Autodiff<NdArray>>();
    }

    /// Velocities saved by Burn's `Sgd` load into ours and go on as
    /// Burn's would.
    #[test]
    fn sgd_states_saved_by_burn_load_and_go_on_alike() {
        type B = Autodiff<Flex>;
        let device = Default::default();
        let mut burn = burn_sgd(0.9, true).init::<B, Net<B>>();
        let net = train(Net::<B>::new(&device), &mut burn, 2, &device);
        let recorder = ByteRecorder::default();
        let bytes = recorder.record(burn.to_record(), ()).unwrap();
        let ours = OptimizerAdaptor::<Sgd, Net<B>, B>::from(Sgd::new(0.9, true));
        let mut ours = ours.load_record(recorder.load(bytes, &device).unwrap());
        let by_burn = train(net.clone(), &mut burn, 1, &device);
        let by_us = train(net.clone(), &mut ours, 1, &device);
        assert!(values(&by_us) == values(&by_burn));
    }
}
