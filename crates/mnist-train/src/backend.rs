//! Choosing the backend at run time. Models and the training loop are generic
//! over Burn's backend types; this file is the one place that turns a
//! `--backend` flag into a type: each binary hands its command to [`run_on`]
//! once, as a [`BackendTask`].

use std::sync::atomic::{AtomicUsize, Ordering};

use clap::ValueEnum;

use mnist_models::TrainBackend;
use mnist_models::models::ConvMethod;

/// The backends a run can ask for. Whether each is available depends on the
/// cargo features the binary was built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Burn's Flex CPU backend (SIMD + rayon): the default.
    Flex,
    /// Burn's ndarray CPU backend.
    Ndarray,
    /// wgpu (Vulkan, Metal, DX12; a software Vulkan device works too). Feature `wgpu`.
    Wgpu,
    /// NVIDIA CUDA. Feature `cuda`.
    Cuda,
    /// LibTorch (PyTorch's C++ library) on the CPU. Feature `tch`, built
    /// against an installed PyTorch (see the README).
    Tch,
}

impl BackendKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
            Self::Wgpu => "wgpu",
            Self::Cuda => "cuda",
            Self::Tch => "tch",
        }
    }

    /// The faster way to compute the CNN's conv blocks on this backend, as
    /// `cnn bench` measures it: fused on Burn's own CPU backends (flex,
    /// ndarray), whose `Conv2d` backward pass is slow; Burn's layers
    /// elsewhere, where they are the library's own convolution (LibTorch's,
    /// CubeCL's).
    pub fn fastest_conv(self) -> ConvMethod {
        match self {
            Self::Flex | Self::Ndarray => ConvMethod::Fused,
            Self::Tch | Self::Wgpu | Self::Cuda => ConvMethod::Layers,
        }
    }

    /// The backends compiled into this binary.
    pub fn compiled() -> Vec<BackendKind> {
        Self::value_variants()
            .iter()
            .copied()
            .filter(|kind| kind.is_compiled())
            .collect()
    }

    pub fn is_compiled(self) -> bool {
        match self {
            Self::Flex => cfg!(feature = "flex"),
            Self::Ndarray => cfg!(feature = "ndarray"),
            Self::Wgpu => cfg!(feature = "wgpu"),
            Self::Cuda => cfg!(feature = "cuda"),
            Self::Tch => cfg!(feature = "tch"),
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Work that runs on whichever backend the user picked.
pub trait BackendTask {
    type Output;
    /// `backend` names the backend `B` for reports.
    fn run<B: TrainBackend>(self, device: B::Device, backend: BackendKind) -> Self::Output;
}

#[derive(Debug, thiserror::Error)]
pub enum BackendUnavailable {
    #[error(
        "--backend {requested} was not compiled into this binary; available: {available} \
         (rebuild with `--features {requested}`)"
    )]
    NotCompiled {
        requested: BackendKind,
        available: String,
    },
    #[error("--backend {requested} --device {gpu}: no usable device: {message}")]
    NoDevice {
        requested: BackendKind,
        gpu: usize,
        message: String,
    },
}

impl BackendKind {
    /// An error unless this backend was compiled into the binary: checked
    /// before any work starts.
    pub fn check_compiled(self) -> Result<(), BackendUnavailable> {
        if self.is_compiled() {
            Ok(())
        } else {
            Err(self.not_compiled())
        }
    }

    fn not_compiled(self) -> BackendUnavailable {
        BackendUnavailable::NotCompiled {
            requested: self,
            available: BackendKind::compiled()
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// The GPU the GPU backends run on: `--device N`, one per process.
static GPU_ORDINAL: AtomicUsize = AtomicUsize::new(0);

/// The GPU ordinal `--device N` chose (0 unless given).
pub fn gpu_ordinal() -> usize {
    GPU_ORDINAL.load(Ordering::Relaxed)
}

/// `--device N`'s parser, which also records the choice for [`run_on`]:
/// the flag sits beside `--backend` in several commands' options, and a
/// process runs on one GPU. (So the flag has no default value for clap to
/// parse: a default of another command's options would overwrite it.)
pub fn parse_gpu_ordinal(value: &str) -> Result<usize, String> {
    let ordinal = value
        .parse::<usize>()
        .map_err(|_| format!("{value:?} is not a GPU number (0, 1, …)"))?;
    GPU_ORDINAL.store(ordinal, Ordering::Relaxed);
    Ok(ordinal)
}

/// The help of every `--device` flag.
pub const DEVICE_HELP: &str = "GPU number for --backend cuda [default: 0, the first]; for wgpu, \
     N > 0 picks the N-th discrete GPU, 0 wgpu's default adapter";

/// Runs `task` on the backend `kind`, with autodiff: on the CPU, or on GPU
/// [`gpu_ordinal`].
pub fn run_on<T: BackendTask + Send>(
    kind: BackendKind,
    task: T,
) -> Result<T::Output, BackendUnavailable>
where
    T::Output: Send,
{
    use burn::backend::Autodiff;
    match kind {
        #[cfg(feature = "flex")]
        BackendKind::Flex => Ok(on_cpu_threads(|| {
            task.run::<Autodiff<burn::backend::Flex>>(Default::default(), kind)
        })),
        #[cfg(feature = "ndarray")]
        BackendKind::Ndarray => Ok(on_cpu_threads(|| {
            task.run::<Autodiff<burn::backend::NdArray>>(Default::default(), kind)
        })),
        #[cfg(feature = "wgpu")]
        BackendKind::Wgpu => {
            use burn::backend::wgpu::WgpuDevice;
            let device = match gpu_ordinal() {
                0 => WgpuDevice::default(),
                n => WgpuDevice::DiscreteGpu(n),
            };
            probe::<burn::backend::Wgpu>(kind, device.clone())?;
            Ok(task.run::<Autodiff<burn::backend::Wgpu>>(device, kind))
        }
        #[cfg(feature = "cuda")]
        BackendKind::Cuda => {
            let device = burn::backend::cuda::CudaDevice::new(gpu_ordinal());
            probe::<burn::backend::Cuda>(kind, device.clone())?;
            Ok(task.run::<Autodiff<burn::backend::Cuda>>(device, kind))
        }
        #[cfg(feature = "tch")]
        BackendKind::Tch => Ok(task.run::<Autodiff<burn::backend::LibTorch>>(
            burn::backend::libtorch::LibTorchDevice::Cpu,
            kind,
        )),
        #[allow(unreachable_patterns)]
        requested => Err(requested.not_compiled()),
    }
}

/// Runs `work` on one of the threads that the CPU backends split their
/// operations across (rayon's). Called from another thread, each parallel
/// operation would be handed to those threads and waited for, two context
/// switches per operation, hundreds per training step.
fn on_cpu_threads<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| work())
}

/// GPU backends find out that they have no device by panicking at the first
/// operation; this runs one, quietly, and turns such a panic into an error.
#[allow(dead_code)] // used only when a GPU backend is compiled in
fn probe<B: burn::tensor::backend::Backend>(
    kind: BackendKind,
    device: B::Device,
) -> Result<(), BackendUnavailable> {
    use std::panic::{AssertUnwindSafe, catch_unwind, set_hook, take_hook};
    use std::sync::{Arc, Mutex};
    // The backend's own threads may panic first, with the real cause (no
    // driver, no such GPU), and the calling thread then with a bare
    // "channel closed": the first message is the one to show.
    let first = Arc::new(Mutex::new(None::<String>));
    let hook = take_hook();
    let record = Arc::clone(&first);
    set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        if let (Ok(mut first), Some(message)) = (record.lock(), message) {
            first.get_or_insert_with(|| message.to_string());
        }
    }));
    let result = catch_unwind(AssertUnwindSafe(|| {
        burn::tensor::Tensor::<B, 1>::zeros([1], &device).into_data()
    }));
    set_hook(hook);
    let first = first.lock().ok().and_then(|mut first| first.take());
    // The first line's first clause: CUDA's loader lists every library name
    // it tried after " - ".
    let reason = first.as_deref().unwrap_or("the backend failed to start");
    let reason = reason.lines().next().unwrap_or_default();
    let reason = reason.split(" - ").next().unwrap_or_default();
    result
        .map(|_| ())
        .map_err(|_| BackendUnavailable::NoDevice {
            requested: kind,
            gpu: gpu_ordinal(),
            message: reason.chars().take(200).collect(),
        })
}
