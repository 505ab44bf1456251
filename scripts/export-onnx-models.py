#!/usr/bin/env python3
"""Exports the ONNX test models of crates/risk/tests/data with scikit-learn and skl2onnx.

A data scientist's path into Rialto: train on payment features (the names of
rialto_risk::features::PAYMENT_FEATURES), export with skl2onnx (zipmap=False, so the
probabilities are a plain [N, 2] tensor), upload to POST /v1/risk/models with type "onnx".

The data here is synthetic (seeded): the point is a real exported model and the
probabilities scikit-learn itself gives, which the Rust tests compare against.

    python3 -m pip install --target /tmp/pyonnx scikit-learn skl2onnx onnx
    PYTHONPATH=/tmp/pyonnx python3 scripts/export-onnx-models.py
"""
import json
import pathlib

import numpy as np
from skl2onnx import to_onnx
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

FEATURES = ["amount_log", "count_1h", "new_device", "distance_km", "merchant_risk"]
OUT = pathlib.Path(__file__).resolve().parent.parent / "crates" / "risk" / "tests" / "data"

rng = np.random.default_rng(7)
n = 4000
x = np.column_stack([
    rng.normal(8.0, 1.5, n),          # amount_log
    rng.poisson(0.5, n),              # count_1h
    rng.integers(0, 2, n),            # new_device
    rng.exponential(50.0, n),         # distance_km
    rng.beta(1, 20, n),               # merchant_risk
]).astype(np.float32)
logit = -9.0 + 0.6 * x[:, 0] + 0.8 * x[:, 1] + 1.5 * x[:, 2] + 0.004 * x[:, 3] + 6.0 * x[:, 4]
y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)

models = {
    "fraud_lr": LogisticRegression(max_iter=1000).fit(x, y),
    "fraud_forest": RandomForestClassifier(n_estimators=20, max_depth=5, random_state=7).fit(x, y),
}
probe = np.array([
    [6.0, 0, 0, 1.0, 0.01],
    [8.0, 1, 0, 20.0, 0.05],
    [10.0, 3, 1, 400.0, 0.2],
    [12.0, 6, 1, 2000.0, 0.5],
], dtype=np.float32)
expected = {"features": FEATURES, "rows": probe.tolist(), "positives": int(y.sum()), "n": n}
for name, model in models.items():
    onx = to_onnx(model, x[:1], options={id(model): {"zipmap": False}}, target_opset={"": 13, "ai.onnx.ml": 3})
    (OUT / f"{name}.onnx").write_bytes(onx.SerializeToString())
    expected[name] = model.predict_proba(probe)[:, 1].tolist()
(OUT / "onnx_expected.json").write_text(json.dumps(expected, indent=1) + "\n")
print(json.dumps(expected, indent=1))
