//! One parameter's SGD update, `θ ← θ − lr · d`, where the direction `d` is
//! the gradient `g`, or with momentum μ the velocity `v ← g + μ·v` (the
//! first step's velocity is `g`), or with Nesterov `g + μ·v`. These are
//! Burn's `Sgd` and `Momentum` with no dampening, operation for operation:
//! [`burn_update`] runs Burn's operations in Burn's order, and
//! [`update_f32`] the same arithmetic in one pass over the values, so both
//! give the same bits.

use burn::tensor::Scalar;
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;

/// SGD's momentum: μ, and whether the step follows Nesterov's direction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdMomentum {
    pub momentum: f64,
    pub nesterov: bool,
}

/// The updated parameter, and the velocity to keep if there is momentum.
pub type Updated<B> = (FloatTensor<B>, Option<FloatTensor<B>>);

/// The update with Burn's tensor operations, on any backend.
pub fn burn_update<B: Backend>(
    param: FloatTensor<B>,
    grad: FloatTensor<B>,
    velocity: Option<FloatTensor<B>>,
    learning_rate: f64,
    momentum: Option<SgdMomentum>,
) -> Updated<B> {
    let (direction, velocity) = match momentum {
        None => (grad, None),
        Some(SgdMomentum { momentum, nesterov }) => {
            // Burn keeps μ as the backend's float element.
            let mu = || Scalar::Float(f64::from(momentum as f32));
            let velocity = match velocity {
                Some(v) => B::float_add(grad.clone(), B::float_mul_scalar(v, mu())),
                None => grad.clone(),
            };
            let direction = if nesterov {
                B::float_add(B::float_mul_scalar(velocity.clone(), mu()), grad)
            } else {
                velocity.clone()
            };
            (direction, Some(velocity))
        }
    };
    let step = B::float_mul_scalar(direction, Scalar::Float(learning_rate));
    (B::float_sub(param, step), velocity)
}

/// Values below which one thread updates a parameter alone.
const PARALLEL_MIN: usize = 1 << 15;

/// [`burn_update`] on f32 values in place: `param` is updated and, with
/// momentum, `velocity` too. Without a velocity yet (the first step) the
/// velocity is the gradient itself, which the caller keeps.
pub fn update_f32(
    param: &mut [f32],
    grad: &[f32],
    velocity: Option<&mut [f32]>,
    learning_rate: f32,
    momentum: Option<SgdMomentum>,
) {
    use rayon::prelude::*;

    assert_eq!(param.len(), grad.len(), "a gradient per parameter value");
    let chunk = if param.len() < PARALLEL_MIN {
        param.len().max(1)
    } else {
        param.len().div_ceil(rayon::current_num_threads())
    };
    let lr = learning_rate;
    match (momentum, velocity) {
        (None, _) => {
            param
                .par_chunks_mut(chunk)
                .zip(grad.par_chunks(chunk))
                .for_each(|(p, g)| {
                    for (p, &g) in p.iter_mut().zip(g) {
                        *p -= g * lr;
                    }
                });
        }
        (Some(SgdMomentum { momentum, nesterov }), None) => {
            let mu = momentum as f32;
            param
                .par_chunks_mut(chunk)
                .zip(grad.par_chunks(chunk))
                .for_each(|(p, g)| {
                    for (p, &g) in p.iter_mut().zip(g) {
                        let direction = if nesterov { g * mu + g } else { g };
                        *p -= direction * lr;
                    }
                });
        }
        (Some(SgdMomentum { momentum, nesterov }), Some(velocity)) => {
            assert_eq!(velocity.len(), grad.len(), "a velocity per parameter value");
            let mu = momentum as f32;
            param
                .par_chunks_mut(chunk)
                .zip(grad.par_chunks(chunk))
                .zip(velocity.par_chunks_mut(chunk))
                .for_each(|((p, g), v)| {
                    for ((p, &g), v) in p.iter_mut().zip(g).zip(v) {
                        *v = g + *v * mu;
                        let direction = if nesterov { *v * mu + g } else { *v };
                        *p -= direction * lr;
                    }
                });
        }
    }
}
