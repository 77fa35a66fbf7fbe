//! Gradient checking: backpropagation against finite differences.
//!
//! For every parameter θ, the central difference
//! (L(θ + ε) − L(θ − ε)) / 2ε approximates ∂L/∂θ with error O(ε²). In f64
//! with ε = 1e-6 that is far below the 1e-5 relative error we demand, so a
//! larger mismatch means a wrong derivative, not rounding.

use ndarray::{Array2, ArrayView2};

use crate::activation::Activation;
use crate::data::Samples;
use crate::error::Result;
use crate::experiments::sizes_text;
use crate::init::{self, Init};
use crate::loss::Output;
use crate::network::{Gradients, Mlp, Spec, Workspace};

/// The perturbation used for the central differences.
pub const EPSILON: f64 = 1e-6;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradCheck {
    /// ‖g_numeric − g_backprop‖ / (‖g_numeric‖ + ‖g_backprop‖).
    pub relative_error: f64,
    /// The largest |g_numeric − g_backprop| over all parameters.
    pub max_abs_difference: f64,
    pub parameters: usize,
}

/// The network of [`print_table`]: small enough to difference every
/// parameter, with two hidden layers and more than two classes.
pub const TABLE_SIZES: [usize; 4] = [5, 4, 3, 3];
/// Its batch: random inputs, labels cycling through the classes.
pub const TABLE_BATCH: usize = 6;
/// The seed of its weights and inputs.
pub const TABLE_SEED: u64 = 7;

/// Checks every hidden activation with every output and loss on the
/// [`TABLE_SIZES`] network and prints the relative errors as a table.
pub fn print_table() -> Result<()> {
    println!(
        "central differences (ε = {EPSILON:e}) against backpropagation, f64, network {}, batch {TABLE_BATCH}",
        sizes_text(&TABLE_SIZES)
    );
    println!("\n| hidden | output + loss | relative error | max abs difference |");
    println!("|---|---|---|---|");
    let (inputs, classes) = (TABLE_SIZES[0], TABLE_SIZES[TABLE_SIZES.len() - 1]);
    for hidden in Activation::ALL {
        for output in Output::ALL {
            let mut rng = mnist_data::split::seeded_rng(TABLE_SEED);
            let spec = Spec {
                sizes: TABLE_SIZES.to_vec(),
                hidden,
                output,
                init: Init::Xavier,
            };
            let mut net: Mlp<f64> = Mlp::new(&spec, &mut rng)?;
            let x = Array2::from_shape_simple_fn((TABLE_BATCH, inputs), || init::normal(&mut rng));
            let labels: Vec<u8> = (0..TABLE_BATCH).map(|i| (i % classes) as u8).collect();
            let samples = Samples::classification(x, &labels, classes)?;
            let result = check(&mut net, samples.x.view(), samples.y.view())?;
            println!(
                "| {hidden} | {output} | {:.2e} | {:.2e} |",
                result.relative_error, result.max_abs_difference
            );
        }
    }
    Ok(())
}

/// Compares backpropagation's gradient of the mean loss on (x, y) with
/// central differences over every weight and bias of `net`.
pub fn check(net: &mut Mlp<f64>, x: ArrayView2<f64>, y: ArrayView2<f64>) -> Result<GradCheck> {
    let mut ws = Workspace::new(net, x.nrows());
    net.loss_and_gradients(&mut ws, x, y)?;
    let numeric = numeric_gradients(net, x, y)?;
    Ok(compare(&numeric, &ws.grads))
}

/// ∂L/∂θ for every parameter by central differences (θ is left unchanged).
pub fn numeric_gradients(
    net: &mut Mlp<f64>,
    x: ArrayView2<f64>,
    y: ArrayView2<f64>,
) -> Result<Gradients<f64>> {
    let mut ws = Workspace::new(net, x.nrows());
    let mut numeric = Gradients::zeros_like(net);
    for l in 0..net.layers.len() {
        for idx in indices(net.layers[l].weights.dim()) {
            let slope = central_difference(net, &mut ws, x, y, |n| &mut n.layers[l].weights[idx])?;
            numeric.weights[l][idx] = slope;
        }
        for j in 0..net.layers[l].biases.len() {
            let slope = central_difference(net, &mut ws, x, y, |n| &mut n.layers[l].biases[j])?;
            numeric.biases[l][j] = slope;
        }
    }
    Ok(numeric)
}

/// The relative error between two gradients of the same network.
pub fn compare(numeric: &Gradients<f64>, backprop: &Gradients<f64>) -> GradCheck {
    let (mut diff, mut max_abs, mut parameters) = (0.0f64, 0.0f64, 0);
    let pairs = numeric
        .weights
        .iter()
        .flatten()
        .zip(backprop.weights.iter().flatten())
        .chain(
            numeric
                .biases
                .iter()
                .flatten()
                .zip(backprop.biases.iter().flatten()),
        );
    for (n, b) in pairs {
        diff += (n - b) * (n - b);
        max_abs = max_abs.max((n - b).abs());
        parameters += 1;
    }
    let scale = numeric.norm() + backprop.norm();
    GradCheck {
        relative_error: if scale == 0.0 {
            0.0
        } else {
            diff.sqrt() / scale
        },
        max_abs_difference: max_abs,
        parameters,
    }
}

/// (L(θ + ε) − L(θ − ε)) / 2ε for the parameter `param` picks; θ is restored.
fn central_difference(
    net: &mut Mlp<f64>,
    ws: &mut Workspace<f64>,
    x: ArrayView2<f64>,
    y: ArrayView2<f64>,
    param: impl Fn(&mut Mlp<f64>) -> &mut f64,
) -> Result<f64> {
    let theta = *param(net);
    *param(net) = theta + EPSILON;
    let plus = net.loss_and_gradients(ws, x, y)?;
    *param(net) = theta - EPSILON;
    let minus = net.loss_and_gradients(ws, x, y)?;
    *param(net) = theta;
    Ok((plus - minus) / (2.0 * EPSILON))
}

fn indices((rows, cols): (usize, usize)) -> impl Iterator<Item = [usize; 2]> {
    (0..rows).flat_map(move |i| (0..cols).map(move |j| [i, j]))
}
