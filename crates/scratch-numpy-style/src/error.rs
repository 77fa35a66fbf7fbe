//! Errors. Shapes are checked where data enters the network, and a mismatch
//! names both the expected and the found size instead of panicking inside a
//! matrix product.

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("a network needs at least an input and an output size, got {sizes:?}")]
    TooFewLayers { sizes: Vec<usize> },

    #[error("layer sizes must be positive, got {sizes:?}")]
    ZeroWidth { sizes: Vec<usize> },

    #[error("layer sizes {sizes:?} make {parameters} parameters; the limit is {limit}")]
    TooLarge {
        sizes: Vec<usize>,
        parameters: usize,
        limit: usize,
    },

    #[error(
        "mismatched layer sizes: layer {layer} takes {found} inputs, \
         but the layer before it gives {expected}"
    )]
    LayerMismatch {
        layer: usize,
        expected: usize,
        found: usize,
    },

    #[error("layer {layer}: {found} biases for {expected} units")]
    BiasMismatch {
        layer: usize,
        expected: usize,
        found: usize,
    },

    #[error("input width mismatch: the network takes {expected} features per sample, got {found}")]
    InputWidth { expected: usize, found: usize },

    #[error("target width mismatch: the network gives {expected} outputs per sample, got {found}")]
    TargetWidth { expected: usize, found: usize },

    #[error("{inputs} input rows but {targets} target rows")]
    RowMismatch { inputs: usize, targets: usize },

    #[error("this workspace was made for batches of {expected}, got {found} rows")]
    BatchSize { expected: usize, found: usize },

    #[error("this workspace was made for a network of sizes {expected:?}, not {found:?}")]
    WorkspaceMismatch {
        expected: Vec<usize>,
        found: Vec<usize>,
    },

    #[error("label {label} of sample {index} does not fit {classes} output classes")]
    LabelOutOfRange {
        index: usize,
        label: u8,
        classes: usize,
    },

    #[error("no experiment named {name:?} (known: {known})")]
    UnknownExperiment { name: String, known: String },

    #[error("invalid setting: {0}")]
    Invalid(String),

    #[error(transparent)]
    Data(#[from] mnist_data::DataError),

    #[error(transparent)]
    Report(#[from] mnist_report::ReportError),
}
