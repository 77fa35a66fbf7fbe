//! The course's toy network, small enough to follow by hand: 2 inputs →
//! 3 ReLU units → 1 linear output, every weight 1 and every bias 0 at the
//! start, trained by per-sample SGD (batch 1, in order) on four points of
//! y = 3x₁ + 4x₂ with learning rate 0.001 for 10 epochs. On the diagonal
//! x₁ = x₂ that plane is y = 7x₁, which is what the network must predict.
//!
//! The loss is ½(ŷ − y)² (`LinearMse` with one sample), so the error signal
//! at the output is simply ŷ − y. All three hidden units start equal and get
//! equal updates, so they stay equal: the network is effectively
//! ŷ = 3v·relu(w₁x₁ + w₂x₂ + b) + c, linear wherever the unit is active.

use ndarray::{Array2, array};

use crate::activation::Activation;
use crate::data::Samples;
use crate::error::Result;
use crate::init::Init;
use crate::loss::Output;
use crate::network::{Mlp, Spec, Workspace};
use crate::sgd::{Clip, Sgd, Trainer};

/// The training points ((x₁, x₂), y).
pub const POINTS: [([f64; 2], f64); 4] = [
    ([2.0, 1.0], 10.0),
    ([3.0, 3.0], 21.0),
    ([4.0, 5.0], 32.0),
    ([6.0, 6.0], 42.0),
];

/// The points (x, x) the trained network is asked about; the answer is 7x.
pub const QUERIES: [f64; 5] = [1.0, 2.0, 3.0, 5.0, 10.0];

pub const LEARNING_RATE: f64 = 0.001;
pub const EPOCHS: usize = 10;
/// How far from 7x a prediction on the diagonal may be.
pub const TOLERANCE: f64 = 0.1;

pub fn spec() -> Spec {
    Spec {
        sizes: vec![2, 3, 1],
        hidden: Activation::Relu,
        output: Output::LinearMse,
        init: Init::Constant(1.0),
    }
}

/// The untrained toy network (the constant initialisation draws nothing).
pub fn network() -> Result<Mlp<f64>> {
    Mlp::new(&spec(), &mut mnist_data::split::seeded_rng(0))
}

pub fn samples() -> Result<Samples<f64>> {
    let x = Array2::from_shape_fn((POINTS.len(), 2), |(i, j)| POINTS[i].0[j]);
    let y = Array2::from_shape_fn((POINTS.len(), 1), |(i, _)| POINTS[i].1);
    Samples::regression(x, y)
}

/// Trains the toy network; returns it with the mean loss of every epoch.
pub fn train() -> Result<(Mlp<f64>, Vec<f64>)> {
    let mut net = network()?;
    let samples = samples()?;
    let sgd = Sgd {
        learning_rate: LEARNING_RATE,
        batch_size: 1,
        clip: Clip::None,
        shuffle: false,
    };
    let mut trainer = Trainer::new(&net, &samples, sgd, 0)?;
    let mut losses = Vec::with_capacity(EPOCHS);
    for _ in 0..EPOCHS {
        losses.push(trainer.epoch(&mut net, &samples, |_| {})?.loss);
    }
    Ok((net, losses))
}

/// The network's output at (x₁, x₂).
pub fn predict(net: &Mlp<f64>, x1: f64, x2: f64) -> Result<f64> {
    let mut ws = Workspace::new(net, 1);
    let out = net.forward(&mut ws, array![[x1, x2]].view())?;
    Ok(out[[0, 0]])
}

/// Trains the toy network and prints its setting, its training points, the
/// loss of every epoch, its predictions against 7x and its final weights.
pub fn print_run() -> Result<()> {
    let spec = spec();
    let sizes = &spec.sizes;
    println!(
        "Toy network: {} inputs → {} {} → {} {}, init {}, biases 0, \
         per-sample SGD, lr {LEARNING_RATE}, {EPOCHS} epochs",
        sizes[0],
        sizes[1],
        spec.hidden,
        sizes[2],
        spec.output.activation_name(),
        spec.init
    );
    println!("training points (x₁, x₂) → y:");
    for ([x1, x2], y) in POINTS {
        println!("  ({x1}, {x2}) → {y}");
    }
    let (net, losses) = train()?;
    for (epoch, loss) in losses.iter().enumerate() {
        println!(
            "Epoch {:>2}/{EPOCHS}  mean loss ½(ŷ−y)² {loss:.6}",
            epoch + 1
        );
    }
    println!("\n  (x, x)      predicted   7·x   error");
    let mut worst: f64 = 0.0;
    for x in QUERIES {
        let y = predict(&net, x, x)?;
        let error = y - 7.0 * x;
        worst = worst.max(error.abs());
        println!("  ({x:>2}, {x:>2})  {y:>9.4}  {:>5}   {error:+.4}", 7.0 * x);
    }
    println!(
        "\nlargest error {worst:.4} ({} the course's {TOLERANCE})",
        if worst < TOLERANCE {
            "within"
        } else {
            "OUTSIDE"
        }
    );
    for (l, layer) in net.layers.iter().enumerate() {
        println!(
            "layer {}: W = {:.4}, b = {:.4}",
            l + 1,
            layer.weights,
            layer.biases
        );
    }
    Ok(())
}
