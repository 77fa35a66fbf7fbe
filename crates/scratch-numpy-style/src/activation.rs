//! Hidden-layer activations, a = f(z), applied element by element.
//!
//! Backpropagation needs f'(z). For every function here f'(z) can be written
//! from the output a = f(z) alone, so the network keeps only the activations
//! and never a separate copy of z:
//!
//! | f          | f(z)                   | f'(z) in terms of a    |
//! |------------|------------------------|------------------------|
//! | sigmoid    | 1 / (1 + e^-z)         | a (1 − a)              |
//! | tanh       | tanh z                 | 1 − a²                 |
//! | ReLU       | max(0, z)              | 1 if a > 0, else 0     |
//! | leaky ReLU | z if z > 0, else α z   | 1 if a > 0, else α     |
//!
//! (ReLU's kink at 0 is given the derivative 0, as everyone does.)

use std::fmt;
use std::str::FromStr;

use ndarray::{ArrayView2, ArrayViewMut2, Zip};
use serde::{Deserialize, Serialize};

use crate::float::Float;

/// Slope of leaky ReLU for negative inputs.
pub const LEAKY_SLOPE: f64 = 0.01;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    Sigmoid,
    Relu,
    LeakyRelu,
    Tanh,
}

impl Activation {
    pub const ALL: [Activation; 4] = [
        Activation::Sigmoid,
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Tanh,
    ];

    /// f(z) for one number.
    pub fn apply<F: Float>(self, z: F) -> F {
        match self {
            Activation::Sigmoid => sigmoid(z),
            Activation::Relu => {
                // BEGIN EXERCISE p1.relu
                z.max(F::zero())
                // END EXERCISE
            }
            Activation::LeakyRelu => {
                // BEGIN EXERCISE p1.activations
                if z > F::zero() {
                    z
                } else {
                    F::of(LEAKY_SLOPE) * z
                }
                // END EXERCISE
            }
            Activation::Tanh => {
                // BEGIN EXERCISE p1.activations
                z.tanh()
                // END EXERCISE
            }
        }
    }

    /// f'(z), written from a = f(z) (see the table above).
    pub fn derivative_from_output<F: Float>(self, a: F) -> F {
        match self {
            Activation::Sigmoid => {
                // BEGIN EXERCISE p1.activations uses a
                a * (F::one() - a)
                // END EXERCISE
            }
            Activation::Tanh => {
                // BEGIN EXERCISE p1.activations
                F::one() - a * a
                // END EXERCISE
            }
            Activation::Relu => {
                // BEGIN EXERCISE p1.relu
                if a > F::zero() { F::one() } else { F::zero() }
                // END EXERCISE
            }
            Activation::LeakyRelu => {
                // BEGIN EXERCISE p1.activations
                if a > F::zero() {
                    F::one()
                } else {
                    F::of(LEAKY_SLOPE)
                }
                // END EXERCISE
            }
        }
    }

    /// z ← f(z), in place.
    pub fn apply_in_place<F: Float>(self, mut z: ArrayViewMut2<F>) {
        z.mapv_inplace(|z| self.apply(z));
    }

    /// δ ← δ ⊙ f'(z), with f'(z) read from the activations a = f(z): the
    /// chain rule through an element-wise function is an element-wise product.
    pub fn backprop_in_place<F: Float>(self, delta: ArrayViewMut2<F>, a: ArrayView2<F>) {
        Zip::from(delta)
            .and(a)
            .for_each(|d, &a| *d *= self.derivative_from_output(a));
    }

    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky-relu",
            Activation::Tanh => "tanh",
        }
    }
}

/// 1 / (1 + e^-z), computed so that neither branch overflows.
pub fn sigmoid<F: Float>(z: F) -> F {
    // BEGIN EXERCISE p1.activations uses z
    if z >= F::zero() {
        F::one() / (F::one() + (-z).exp())
    } else {
        let e = z.exp();
        e / (F::one() + e)
    }
    // END EXERCISE
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Activation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Activation::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                format!("unknown activation {s:?} (expected sigmoid, relu, leaky-relu or tanh)")
            })
    }
}
