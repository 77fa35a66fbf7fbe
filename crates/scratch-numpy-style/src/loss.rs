//! The output layer and its loss, taken together because the pair decides
//! the error signal δᴸ = ∂L/∂zᴸ that backpropagation starts from.
//!
//! Losses are means over the B samples of a batch (rows), so the learning
//! rate does not depend on the batch size:
//!
//! - softmax + cross-entropy: p = softmax(z), L = −(1/B) Σ_b Σ_k y_bk ln p_bk.
//!   With one-hot targets the softmax Jacobian and the log cancel:
//!   ∂L/∂z = (p − y) / B.
//! - sigmoid + mean squared error: a = σ(z), L = (1/B) Σ_b ½ ‖a_b − y_b‖²
//!   (Nielsen's quadratic cost; the ½ cancels the square's 2):
//!   ∂L/∂z = (a − y) ⊙ a(1 − a) / B.
//! - linear + mean squared error: a = z, same L, ∂L/∂z = (a − y) / B.

use std::fmt;
use std::str::FromStr;

use ndarray::{ArrayView2, ArrayViewMut2, Axis, Zip};
use serde::{Deserialize, Serialize};

use crate::activation::sigmoid;
use crate::float::Float;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Output {
    /// Softmax output, cross-entropy loss: for classification.
    SoftmaxCrossEntropy,
    /// Sigmoid output, mean squared error: the classic textbook pairing.
    SigmoidMse,
    /// Linear (identity) output, mean squared error: for regression.
    LinearMse,
}

impl Output {
    pub const ALL: [Output; 3] = [
        Output::SoftmaxCrossEntropy,
        Output::SigmoidMse,
        Output::LinearMse,
    ];

    /// The output activation, applied to z in place (row by row for softmax).
    pub fn activate_in_place<F: Float>(self, mut z: ArrayViewMut2<F>) {
        match self {
            Output::SoftmaxCrossEntropy => {
                for row in z.axis_iter_mut(Axis(0)) {
                    softmax_in_place(row);
                }
            }
            Output::SigmoidMse => z.mapv_inplace(sigmoid),
            Output::LinearMse => {}
        }
    }

    /// The batch's mean loss, given outputs `a` and targets `y` (same shape).
    pub fn loss<F: Float>(self, a: ArrayView2<F>, y: ArrayView2<F>) -> F {
        let batch = F::of(a.nrows() as f64);
        let mut total = F::zero();
        match self {
            Output::SoftmaxCrossEntropy => {
                // ln p is floored at the smallest normal number so a
                // confidently wrong prediction gives a large, finite loss.
                let floor = F::min_positive_value();
                Zip::from(a).and(y).for_each(|&p, &y| {
                    if y != F::zero() {
                        total -= y * p.max(floor).ln();
                    }
                });
            }
            Output::SigmoidMse | Output::LinearMse => {
                Zip::from(a).and(y).for_each(|&a, &y| {
                    total += (a - y) * (a - y);
                });
                total *= F::of(0.5);
            }
        }
        total / batch
    }

    /// δᴸ = ∂L/∂zᴸ into `delta` (see the module's derivations).
    pub fn delta<F: Float>(self, a: ArrayView2<F>, y: ArrayView2<F>, delta: ArrayViewMut2<F>) {
        let inv_batch = F::one() / F::of(a.nrows() as f64);
        let zip = Zip::from(delta).and(a).and(y);
        match self {
            Output::SoftmaxCrossEntropy | Output::LinearMse => {
                zip.for_each(|d, &a, &y| *d = (a - y) * inv_batch);
            }
            Output::SigmoidMse => {
                zip.for_each(|d, &a, &y| *d = (a - y) * a * (F::one() - a) * inv_batch);
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Output::SoftmaxCrossEntropy => "softmax-ce",
            Output::SigmoidMse => "sigmoid-mse",
            Output::LinearMse => "linear-mse",
        }
    }

    /// The loss's name alone: "cross-entropy" or "mse".
    pub fn loss_name(self) -> &'static str {
        match self {
            Output::SoftmaxCrossEntropy => "cross-entropy",
            Output::SigmoidMse | Output::LinearMse => "mse",
        }
    }

    /// The output activation's name alone.
    pub fn activation_name(self) -> &'static str {
        match self {
            Output::SoftmaxCrossEntropy => "softmax",
            Output::SigmoidMse => "sigmoid",
            Output::LinearMse => "linear",
        }
    }
}

/// p = softmax(z) = e^z / Σ e^z, in place. Subtracting max z first changes
/// nothing mathematically (the factor e^-max cancels) but keeps e^z ≤ 1.
pub fn softmax_in_place<F: Float>(z: ndarray::ArrayViewMut1<F>) {
    // BEGIN EXERCISE p1.softmax uses z
    let mut z = z;
    let max = z.fold(F::neg_infinity(), |m, &v| m.max(v));
    let mut sum = F::zero();
    z.mapv_inplace(|v| {
        let e = (v - max).exp();
        sum += e;
        e
    });
    z.mapv_inplace(|e| e / sum);
    // END EXERCISE
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Output {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Output::ALL
            .into_iter()
            .find(|o| o.name() == s)
            .ok_or_else(|| {
                format!("unknown output {s:?} (expected softmax-ce, sigmoid-mse or linear-mse)")
            })
    }
}
