//! Gradient checking: backpropagation against finite differences.
//!
//! For every parameter θ, the central difference
//! (L(θ + ε) − L(θ − ε)) / 2ε approximates ∂L/∂θ with error O(ε²). In f64
//! with ε = 1e-6 that is far below the 1e-5 relative error we demand, so a
//! larger mismatch means a wrong derivative, not rounding.

use ndarray::ArrayView2;

use crate::error::Result;
use crate::network::{Gradients, Mlp, Workspace};

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
