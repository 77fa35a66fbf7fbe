//! The scalar type a network computes in. Training runs in `f32` (twice the
//! numbers per SIMD register, half the memory traffic); the gradient checks
//! run the very same code in `f64`, where finite differences are accurate
//! enough to compare with backpropagation to 1e-5.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use ndarray::{LinalgScalar, ScalarOperand};

/// `f32` or `f64`: everything the network's arithmetic needs.
pub trait Float:
    num_traits::Float
    + LinalgScalar
    + ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Debug
    + Display
    + Send
    + Sync
    + 'static
{
    /// `x` rounded to this type (exact for `f64`).
    fn of(x: f64) -> Self;
    /// This value as `f64` (exact for both types).
    fn as_f64(self) -> f64;
    /// The type's name, for configs and reports.
    const NAME: &'static str;
}

impl Float for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    const NAME: &'static str = "f32";
}

impl Float for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
    const NAME: &'static str = "f64";
}
