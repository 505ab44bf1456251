//! ONNX binary classifiers run by tract (pure Rust): scikit-learn exports through skl2onnx
//! (`LinearClassifier`, `TreeEnsembleClassifier`) with `zipmap=False`, whose outputs are the
//! label and a `[1, 2]` probability tensor. Inputs are one row of `f32` features.

use std::sync::Arc;

use base64::Engine;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use crate::model::ModelError;

/// A loaded, optimised ONNX plan for one row of `width` features.
pub(crate) struct Plan {
    plan: Arc<TypedRunnableModel>,
    width: usize,
}

impl Plan {
    /// Loads a base64 ONNX file for `width` inputs.
    pub(crate) fn load(base64_onnx: &str, width: usize) -> Result<Plan, ModelError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(base64_onnx.trim())
            .map_err(|e| ModelError::Artifact(format!("not base64: {e}")))?;
        let artifact = |e: TractError| ModelError::Artifact(format!("{e:#}"));
        let width_i64 = i64::try_from(width).map_err(|_| ModelError::Features("too many features".into()))?;
        let model = tract_onnx::onnx().model_for_read(&mut &bytes[..]).map_err(artifact)?;
        if model.inputs.len() != 1 {
            return Err(ModelError::Artifact(format!(
                "the model has {} inputs; one row of features is one input",
                model.inputs.len()
            )));
        }
        // The graph's own width, where it says, must be the listed features'.
        let declared = model.input_fact(0).map_err(artifact)?.shape.dims().nth(1).and_then(|d| d.concretize());
        if let Some(d) = declared.and_then(|d| d.as_i64()).filter(|d| *d != width_i64) {
            return Err(ModelError::Artifact(format!("the model reads {d} features, but {width} are listed")));
        }
        let model = model
            .with_input_fact(0, f32::fact([1, width_i64 as usize]).into())
            .map_err(artifact)?
            .into_optimized()
            .map_err(artifact)?
            .into_runnable()
            .map_err(artifact)?;
        let plan = Plan { plan: model, width };
        // A model that loads but cannot answer for a row of zeros is refused now, not at a payment.
        plan.probability(&vec![0.0; width])?;
        Ok(plan)
    }

    /// The probability of class 1 for one row.
    pub(crate) fn probability(&self, x: &[f64]) -> Result<f64, ModelError> {
        if x.len() != self.width {
            return Err(ModelError::Inference(format!("expected {} features, got {}", self.width, x.len())));
        }
        let failed = |e: TractError| ModelError::Inference(format!("{e:#}"));
        #[allow(clippy::cast_possible_truncation)]
        let row: Vec<f32> = x.iter().map(|v| *v as f32).collect();
        let input = tract_ndarray::Array2::from_shape_vec((1, self.width), row)
            .map_err(|e| ModelError::Inference(e.to_string()))?;
        let outputs = self.plan.run(tvec!(Tensor::from(input).into())).map_err(failed)?;
        // The probabilities: the float output, `[1, 2]` (class 1 second) or a single value.
        for out in outputs.iter() {
            let Ok(view) = out.to_plain_array_view::<f32>() else { continue };
            let values: Vec<f32> = view.iter().copied().collect();
            return match values.as_slice() {
                [_, p1] | [p1] => Ok(f64::from(*p1)),
                other => Err(ModelError::Inference(format!(
                    "a binary classifier answers 1 or 2 values, not {}",
                    other.len()
                ))),
            };
        }
        Err(ModelError::Inference("the model has no float output".into()))
    }
}
