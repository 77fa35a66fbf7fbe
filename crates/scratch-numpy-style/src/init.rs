//! Initial weights. Biases always start at 0; weights are drawn so that the
//! variance of the signal stays roughly constant from layer to layer:
//!
//! - He (Kaiming) for ReLU-like units: W ~ N(0, 2 / n_in). ReLU zeroes half
//!   its inputs on average, so the factor 2 makes up for the lost variance.
//! - Xavier (Glorot) for sigmoid and tanh: W ~ U(−r, r) with
//!   r = √(6 / (n_in + n_out)), i.e. variance 2 / (n_in + n_out), a
//!   compromise between keeping the forward and the backward signal steady.
//! - A constant, for the course's toy network (every weight 1).
//!
//! Random numbers come from the curriculum's seeded ChaCha8 generator and are
//! turned into floats here (Box–Muller for normals), so a seed gives the same
//! network on every platform and with every library version.

use std::fmt;
use std::str::FromStr;

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::RngCore;
use serde::{Deserialize, Serialize};

use crate::float::Float;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    He,
    Xavier,
    Constant(f64),
}

impl Init {
    /// An `n_in × n_out` weight matrix.
    pub fn weights<F: Float>(self, n_in: usize, n_out: usize, rng: &mut ChaCha8Rng) -> Array2<F> {
        match self {
            Init::He => {
                // BEGIN EXERCISE p1.he-init
                let std = (2.0 / n_in as f64).sqrt();
                Array2::from_shape_simple_fn((n_in, n_out), || F::of(std * normal(rng)))
                // END EXERCISE
            }
            Init::Xavier => {
                let r = (6.0 / (n_in + n_out) as f64).sqrt();
                Array2::from_shape_simple_fn((n_in, n_out), || {
                    F::of(r * (2.0 * uniform(rng) - 1.0))
                })
            }
            Init::Constant(c) => Array2::from_elem((n_in, n_out), F::of(c)),
        }
    }

    pub fn name(self) -> String {
        match self {
            Init::He => "he".into(),
            Init::Xavier => "xavier".into(),
            Init::Constant(c) => format!("constant({c})"),
        }
    }
}

/// Uniform in [0, 1), from the top 53 bits of one 64-bit draw.
pub fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Standard normal by Box–Muller: √(−2 ln u₁) cos(2π u₂).
pub fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = 1.0 - uniform(rng); // in (0, 1], so ln is finite
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Init {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "he" => Ok(Init::He),
            "xavier" => Ok(Init::Xavier),
            _ => Err(format!(
                "unknown initialisation {s:?} (expected he or xavier)"
            )),
        }
    }
}
