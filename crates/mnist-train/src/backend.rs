//! Choosing the backend at run time. Models and the training loop are generic
//! over Burn's backend types; this file is the one place that turns a
//! `--backend` flag into a type, by calling a generic [`BackendTask`].

use crate::model::TrainBackend;
use clap::ValueEnum;

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
    #[error("--backend {requested}: no usable device: {message}")]
    NoDevice {
        requested: BackendKind,
        message: String,
    },
}

/// Runs `task` on the backend `kind`, with autodiff, on its default device.
pub fn run_on<T: BackendTask>(kind: BackendKind, task: T) -> Result<T::Output, BackendUnavailable> {
    use burn::backend::Autodiff;
    match kind {
        #[cfg(feature = "flex")]
        BackendKind::Flex => {
            Ok(task.run::<Autodiff<burn::backend::Flex>>(Default::default(), kind))
        }
        #[cfg(feature = "ndarray")]
        BackendKind::Ndarray => {
            Ok(task.run::<Autodiff<burn::backend::NdArray>>(Default::default(), kind))
        }
        #[cfg(feature = "wgpu")]
        BackendKind::Wgpu => {
            probe::<burn::backend::Wgpu>(kind)?;
            Ok(task.run::<Autodiff<burn::backend::Wgpu>>(Default::default(), kind))
        }
        #[cfg(feature = "cuda")]
        BackendKind::Cuda => {
            probe::<burn::backend::Cuda>(kind)?;
            Ok(task.run::<Autodiff<burn::backend::Cuda>>(Default::default(), kind))
        }
        #[cfg(feature = "tch")]
        BackendKind::Tch => Ok(task.run::<Autodiff<burn::backend::LibTorch>>(
            burn::backend::libtorch::LibTorchDevice::Cpu,
            kind,
        )),
        #[allow(unreachable_patterns)]
        requested => Err(BackendUnavailable::NotCompiled {
            requested,
            available: BackendKind::compiled()
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// GPU backends find out that they have no device by panicking at the first
/// operation; this runs one, quietly, and turns such a panic into an error.
#[allow(dead_code)] // used only when a GPU backend is compiled in
fn probe<B: burn::tensor::backend::Backend>(kind: BackendKind) -> Result<(), BackendUnavailable> {
    use std::panic::{AssertUnwindSafe, catch_unwind, set_hook, take_hook};
    let hook = take_hook();
    set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(|| {
        let device = B::Device::default();
        burn::tensor::Tensor::<B, 1>::zeros([1], &device).into_data()
    }));
    set_hook(hook);
    result
        .map(|_| ())
        .map_err(|panic| BackendUnavailable::NoDevice {
            requested: kind,
            message: panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("the backend failed to start")
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
        })
}
