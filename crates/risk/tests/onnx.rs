//! ONNX models exported by scikit-learn (scripts/export-onnx-models.py) answer in Rialto what
//! they answered in Python.
#![cfg(feature = "onnx")]

use std::collections::BTreeMap;

use base64::Engine;
use rialto_risk::features::{position, PAYMENT_FEATURES};
use rialto_risk::model::{Model, ModelError, ModelKind};
use serde_json::Value;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).expect("test data")
}

fn expected() -> Value {
    serde_json::from_slice(&data("onnx_expected.json")).expect("json")
}

fn names(v: &Value) -> Vec<String> {
    v["features"].as_array().expect("features").iter().map(|f| f.as_str().expect("name").to_string()).collect()
}

fn load(file: &str, features: Vec<String>) -> Result<Model, ModelError> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(data(file));
    Model::load(ModelKind::Onnx, features, &b64, BTreeMap::new(), 0.0)
}

#[test]
fn scikit_learn_exports_score_as_in_python() {
    let e = expected();
    let features = names(&e);
    for file in ["fraud_lr", "fraud_forest"] {
        let model = load(&format!("{file}.onnx"), features.clone()).expect("loads");
        for (row, want) in e["rows"].as_array().expect("rows").iter().zip(e[file].as_array().expect("probabilities")) {
            // The model reads its features out of the full payment feature vector.
            let mut all = vec![0.0; PAYMENT_FEATURES.len()];
            for (name, v) in features.iter().zip(row.as_array().expect("row")) {
                all[position(name).expect("a payment feature")] = v.as_f64().expect("number");
            }
            let got = model.predict(&all).expect("scores").probability;
            let want = want.as_f64().expect("number");
            assert!((got - want).abs() < 1e-5, "{file}: {got} vs scikit-learn {want}");
        }
    }
}

#[test]
fn onnx_models_that_do_not_fit_are_refused() {
    let features = names(&expected());
    // Fewer features than the graph reads.
    assert!(matches!(load("fraud_lr.onnx", features[..2].to_vec()), Err(ModelError::Artifact(_))));
    // Not ONNX at all.
    let junk = base64::engine::general_purpose::STANDARD.encode(b"not a model");
    assert!(matches!(
        Model::load(ModelKind::Onnx, features.clone(), &junk, BTreeMap::new(), 0.0),
        Err(ModelError::Artifact(_))
    ));
    assert!(matches!(
        Model::load(ModelKind::Onnx, features, "%%%", BTreeMap::new(), 0.0),
        Err(ModelError::Artifact(_))
    ));
}
