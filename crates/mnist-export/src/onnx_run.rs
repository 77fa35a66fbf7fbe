//! Running an ONNX file with tract (a pure-Rust ONNX runtime): how an
//! export is checked against Burn, and what the deployment benchmark times.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mnist_data::{Images, Labels};
use tract_onnx::prelude::*;

use super::ExportError;
use mnist_models::evaluate::argmax;

/// Images per run when a whole set is predicted.
const BATCH: usize = 500;

/// An ONNX model of the course's, optimised by tract and ready to run.
pub struct OnnxModel {
    path: PathBuf,
    plan: Arc<TypedRunnableModel>,
    /// (height, width) of the images it reads.
    pub image: (usize, usize),
    pub heads: usize,
}

impl OnnxModel {
    /// Loads and optimises the model in `path` (its batch size left open).
    pub fn load(path: &Path) -> Result<Self, ExportError> {
        let failed = |e: TractError| ExportError::Runtime {
            path: path.to_path_buf(),
            message: format!("{e:#}").replace('\n', " "),
        };
        let model = tract_onnx::onnx()
            .model_for_path(path)
            .and_then(|m| m.into_typed())
            .map_err(failed)?;
        let input = model.input_fact(0).map_err(failed)?.shape.to_tvec();
        let fixed = |d: &TDim| d.as_i64().and_then(|d| usize::try_from(d).ok());
        let image = match input.as_slice() {
            [_, one, h, w] if fixed(one) == Some(1) && fixed(h).is_some() && fixed(w).is_some() => {
                (fixed(h).unwrap_or(0), fixed(w).unwrap_or(0))
            }
            _ => {
                return Err(ExportError::Runtime {
                    path: path.to_path_buf(),
                    message: format!("its input is {input:?}, not [batch, 1, height, width]"),
                });
            }
        };
        let heads = model.outputs.len();
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(failed)?;
        Ok(Self {
            path: path.to_path_buf(),
            plan,
            image,
            heads,
        })
    }

    /// Logits of images `range` of `images`: one `[n × 10]` vector per head.
    pub fn logits(
        &self,
        images: &Images,
        range: std::ops::Range<usize>,
    ) -> Result<Vec<Vec<f32>>, ExportError> {
        let failed = |e: TractError| ExportError::Runtime {
            path: self.path.clone(),
            message: format!("{e:#}").replace('\n', " "),
        };
        let (height, width) = self.image;
        let pixels = height * width;
        let scaled: Vec<f32> = images.pixels[range.start * pixels..range.end * pixels]
            .iter()
            .map(|&p| f32::from(p) / 255.0)
            .collect();
        let input =
            Tensor::from_shape(&[range.len(), 1, height, width], &scaled).map_err(failed)?;
        let outputs = self.plan.run(tvec!(input.into())).map_err(failed)?;
        outputs
            .iter()
            .map(|output| {
                let view = output.to_plain_array_view::<f32>().map_err(failed)?;
                Ok(view.iter().copied().collect())
            })
            .collect()
    }

    /// The digit each head reads in every image.
    pub fn predict(&self, images: &Images) -> Result<Labels, ExportError> {
        let mut labels = Vec::with_capacity(images.count * self.heads);
        for start in (0..images.count).step_by(BATCH) {
            let end = (start + BATCH).min(images.count);
            let heads = self.logits(images, start..end)?;
            for i in 0..end - start {
                for head in &heads {
                    labels.push(argmax(&head[i * 10..(i + 1) * 10]));
                }
            }
        }
        Ok(Labels::new(self.heads, labels))
    }
}
