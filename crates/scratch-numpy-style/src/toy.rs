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
//!
//! The network is here twice: written out by hand, one number at a time
//! ([`ToyNetwork`], the course's exercise, which the `toy` command runs), and
//! as the general network of `network.rs` ([`network`], [`train`]). Trained
//! alike, the two agree to rounding.

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

/// The course's exercise: the toy network written out by hand, one sample
/// at a time, with the same numbers as [`network`]:
///
/// - hidden units zⱼ = w_j0 x₁ + w_j1 x₂ + bⱼ, hⱼ = relu(zⱼ), j = 0, 1, 2,
///   with w_ji = `input_to_hidden[j][i]`;
/// - output ŷ = Σⱼ vⱼ hⱼ + c (linear);
/// - loss ½(ŷ − y)², so ∂L/∂ŷ = ŷ − y.
#[derive(Clone, Debug, PartialEq)]
pub struct ToyNetwork {
    /// Row j: the weights (w_j0, w_j1) from the inputs (x₁, x₂) into hidden
    /// unit j.
    pub input_to_hidden: [[f64; 2]; 3],
    /// bⱼ, one per hidden unit.
    pub hidden_biases: [f64; 3],
    /// vⱼ, from hidden unit j to the output.
    pub hidden_to_output: [f64; 3],
    /// c, the output's bias.
    pub output_bias: f64,
    pub learning_rate: f64,
}

impl Default for ToyNetwork {
    /// The course's start: every weight 1, every bias 0.
    fn default() -> Self {
        Self {
            input_to_hidden: [[1.0; 2]; 3],
            hidden_biases: [0.0; 3],
            hidden_to_output: [1.0; 3],
            output_bias: 0.0,
            learning_rate: LEARNING_RATE,
        }
    }
}

impl ToyNetwork {
    /// ŷ at (x₁, x₂).
    pub fn predict(&self, x1: f64, x2: f64) -> f64 {
        self.output(self.hidden(x1, x2))
    }

    /// The hidden layer's activations hⱼ = relu(w_j0 x₁ + w_j1 x₂ + bⱼ).
    pub fn hidden(&self, x1: f64, x2: f64) -> [f64; 3] {
        // BEGIN EXERCISE p1.toy-predict uses x1, x2
        let relu = Activation::Relu;
        std::array::from_fn(|j| {
            let [w1, w2] = self.input_to_hidden[j];
            relu.apply(w1 * x1 + w2 * x2 + self.hidden_biases[j])
        })
        // END EXERCISE
    }

    /// The linear output ŷ = Σⱼ vⱼ hⱼ + c from the hidden activations.
    pub fn output(&self, hidden: [f64; 3]) -> f64 {
        // BEGIN EXERCISE p1.toy-predict uses hidden
        let weighted: f64 = hidden
            .iter()
            .zip(&self.hidden_to_output)
            .map(|(h, v)| h * v)
            .sum();
        weighted + self.output_bias
        // END EXERCISE
    }

    /// One step of SGD on the sample ((x₁, x₂), y): forward pass,
    /// backpropagation, and every parameter θ ← θ − lr · ∂L/∂θ. Returns the
    /// loss ½(ŷ − y)² before the step.
    pub fn train(&mut self, x1: f64, x2: f64, y: f64) -> f64 {
        // BEGIN EXERCISE p1.toy-train uses x1, x2, y
        // Forward, keeping the hidden activations for the backward pass.
        let h = self.hidden(x1, x2);
        let error = self.output(h) - y;
        // Backward: the error at the output, then at each hidden unit
        // through vⱼ (before it moves) and the ReLU's slope.
        let lr = self.learning_rate;
        for (j, &h) in h.iter().enumerate() {
            let slope = Activation::Relu.derivative_from_output(h);
            let delta = error * self.hidden_to_output[j] * slope;
            self.hidden_to_output[j] -= lr * error * h;
            self.input_to_hidden[j][0] -= lr * delta * x1;
            self.input_to_hidden[j][1] -= lr * delta * x2;
            self.hidden_biases[j] -= lr * delta;
        }
        self.output_bias -= lr * error;
        0.5 * error * error
        // END EXERCISE
    }
}

/// Trains the hand-written toy network as the course does (per-sample SGD
/// over [`POINTS`] in order, [`EPOCHS`] times); returns it with the mean
/// loss of every epoch.
pub fn train_by_hand() -> (ToyNetwork, Vec<f64>) {
    let mut net = ToyNetwork::default();
    let losses = (0..EPOCHS)
        .map(|_| {
            let total: f64 = POINTS
                .iter()
                .map(|&([x1, x2], y)| net.train(x1, x2, y))
                .sum();
            total / POINTS.len() as f64
        })
        .collect();
    (net, losses)
}

/// Trains the hand-written toy network and prints its setting, its training
/// points, the loss of every epoch, its predictions against 7x (and how far
/// the general network of `network.rs`, trained alike, lands from them) and
/// its final weights.
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
    let (net, losses) = train_by_hand();
    for (epoch, loss) in losses.iter().enumerate() {
        println!(
            "Epoch {:>2}/{EPOCHS}  mean loss ½(ŷ−y)² {loss:.6}",
            epoch + 1
        );
    }
    let (general, _) = train()?;
    println!("\n  (x, x)      predicted   7·x   error     general network − this");
    let mut worst: f64 = 0.0;
    for x in QUERIES {
        let y = net.predict(x, x);
        let error = y - 7.0 * x;
        worst = worst.max(error.abs());
        let other = predict(&general, x, x)?;
        println!(
            "  ({x:>2}, {x:>2})  {y:>9.4}  {:>5}   {error:+.4}   {:+.1e}",
            7.0 * x,
            other - y
        );
    }
    println!(
        "\nlargest error {worst:.4} ({} the course's {TOLERANCE})",
        if worst < TOLERANCE {
            "within"
        } else {
            "OUTSIDE"
        }
    );
    println!(
        "hidden layer: W = {:.4?}, b = {:.4?}",
        net.input_to_hidden, net.hidden_biases
    );
    println!(
        "output: v = {:.4?}, c = {:.4}",
        net.hidden_to_output, net.output_bias
    );
    Ok(())
}
