"""ONNX export of tiny trained runs of every model family, checked with ONNX Runtime."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxmltools")

import onnx

import neyman
from neyman import io
from neyman.exceptions import ConfigError, ModelError
from neyman.export import OnnxModel, export_onnx, verify_onnx
from neyman.export.verify import fold_scores
from neyman.runs import load_run
from neyman.table import EVENT_ID, LABEL
from neyman.testing import gaussian_regression_dataset, multiclass_dataset, write_labelled_file

FEATURES = [f"x{i:02d}" for i in range(6)]
MLP = {"type": "mlp", "hidden": [16, 16]}
TRAINING = {"epochs": 2, "progress": False}
MODELS = {
    "mlp": MLP,
    "xgboost": {"type": "xgboost", "n_estimators": 200, "learning_rate": 0.3, "early_stopping_rounds": 3},
    "lightgbm": {"type": "lightgbm", "n_estimators": 200, "learning_rate": 0.3, "early_stopping_rounds": 3},
    "fisher": {"type": "fisher"},
    "logistic": {"type": "logistic"},
}


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    io.write(multiclass_dataset(1500, n_features=6, seed=1), d / "mc.parquet")
    io.write(gaussian_regression_dataset(1500, seed=2), d / "reg.parquet")
    return {
        "binary": write_labelled_file(d, "parquet", n_events=1500),
        "mc": d / "mc.parquet",
        "reg": d / "reg.parquet",
    }


def _train(tmp_path, name, path, model, **extra):
    cfg = {
        "output_dir": str(tmp_path / "runs"),
        "name": name,
        "data": {"sources": [{"path": str(path)}], "features": FEATURES, "label_column": LABEL},
        "model": model,
    }
    if model["type"] == "mlp":
        cfg["training"] = TRAINING
    for key, value in extra.items():
        if key == "data":
            cfg["data"].update(value)
        else:
            cfg[key] = value
    return neyman.train(cfg).run_dir


def _check_round_trip(run_dir, path, tmp_path):
    out = export_onnx(run_dir, tmp_path / f"{run_dir.name}.onnx")
    table = io.read(path)
    expected = load_run(run_dir).score(table)
    got = OnnxModel(out).score(table)
    assert got.shape == expected.shape
    # the graph takes float32 inputs: values near zero are judged on the output's range (as export does)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6 + 1e-5 * np.max(np.abs(expected)))
    return out, table, expected


@pytest.mark.parametrize("family", sorted(MODELS))
def test_binary_round_trip_every_family(tmp_path, files, family):
    run_dir = _train(tmp_path, family, files["binary"], MODELS[family])
    out, table, expected = _check_round_trip(run_dir, files["binary"], tmp_path)
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["task"] == "binary" and meta["family"] == family
    assert json.loads(meta["features"]) == FEATURES
    assert json.loads(meta["classes"]) == ["background", "signal"]
    assert json.loads(meta["score_names"]) == ["score"]
    assert json.loads(meta["preprocessing"])["format"] == "neyman.preprocessor"
    assert meta["neyman_version"] == neyman.__version__ and "model:" in meta["config"]
    # dynamic batch axis: one event and a thousand
    model = OnnxModel(out)
    x = load_run(run_dir).matrix(table)
    np.testing.assert_allclose(model.score(x[:1]), expected[:1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.score(x[:1000]), expected[:1000], rtol=1e-5, atol=1e-6)
    assert verify_onnx(out, run_dir, x[:200]) < 1e-5


@pytest.mark.parametrize("family", ["mlp", "xgboost"])
def test_multiclass_round_trip(tmp_path, files, family):
    run_dir = _train(
        tmp_path,
        f"mc-{family}",
        files["mc"],
        MODELS[family],
        task={"type": "multiclass"},
        data={"classes": ["qcd", "top", "higgs"]},
    )
    out, _, expected = _check_round_trip(run_dir, files["mc"], tmp_path)
    assert expected.shape[1] == 3
    assert OnnxModel(out).score_names == ["score_qcd", "score_top", "score_higgs"]


@pytest.mark.parametrize("task", ["regression", "gaussian"])
def test_regression_round_trip(tmp_path, files, task):
    run_dir = _train(
        tmp_path,
        task,
        files["reg"],
        MLP,
        task={"type": task},
        data={"target": "target", "label_column": None, "features": FEATURES[:4]},
    )
    _, _, expected = _check_round_trip(run_dir, files["reg"], tmp_path)
    assert expected.ndim == (2 if task == "gaussian" else 1)


@pytest.mark.parametrize("family", ["mlp", "xgboost"])
def test_a_regression_far_from_zero_keeps_its_resolution(tmp_path, files, family):
    """A target near 1e7 has float32 steps of 1: the graph's regression output is float64."""
    table = io.read(files["reg"])
    shifted = io.write(table.with_column("target", np.asarray(table["target"]) + 1e7), tmp_path / "far.parquet")
    data = {"target": "target", "label_column": None, "features": FEATURES[:4]}
    run_dir = _train(tmp_path, family, shifted, MODELS[family], task={"type": "regression"}, data=data)
    out = export_onnx(run_dir, tmp_path / "far.onnx")
    graph_output = onnx.load(str(out)).graph.output[0].type.tensor_type.elem_type
    assert graph_output == onnx.TensorProto.DOUBLE
    expected = load_run(run_dir).score(io.read(shifted))
    got = OnnxModel(out).score(io.read(shifted))
    assert np.max(np.abs(got - expected)) < 1e-3 * np.std(expected)  # float32 out: up to 0.5, ~0.5 sigma


def test_mlp_with_log_clip_minmax_and_fill_value(tmp_path, files):
    run_dir = _train(
        tmp_path,
        "prep",
        files["binary"],
        MLP,
        preprocessing={"scaler": "minmax", "log": ["x00"], "clip": {"x01": [-1.0, 1.0]}},
        data={"fill_value": 20.0},
    )
    out = export_onnx(run_dir)
    assert out == run_dir / "model.onnx"
    x = load_run(run_dir).matrix(io.read(files["binary"]))
    x[:5, 0] = np.nan
    run = load_run(run_dir)
    np.testing.assert_allclose(OnnxModel(out).score(x), fold_scores(run, x, 0), rtol=1e-5, atol=1e-6)


def test_kfold_exports_the_chosen_fold(tmp_path, files):
    run_dir = _train(
        tmp_path,
        "kf",
        files["binary"],
        {"type": "fisher"},
        split={"kfold": 3},
        data={"event_id": EVENT_ID},
        preprocessing={"scaler": "standard"},
    )
    out = export_onnx(run_dir, fold=2)
    assert out.name == "model_fold2.onnx"
    model = OnnxModel(out)
    assert model.metadata["fold"] == 2 and model.metadata["kfold"] == 3
    run = load_run(run_dir)
    x = run.matrix(io.read(files["binary"]))
    np.testing.assert_allclose(model.score(x), fold_scores(run, x, 2), rtol=1e-5)
    assert not np.allclose(model.score(x), fold_scores(run, x, 0))
    with pytest.raises(ConfigError, match=r"fold 3 does not exist"):
        export_onnx(run_dir, fold=3)
    single = _train(tmp_path, "one", files["binary"], {"type": "fisher"})
    with pytest.raises(ConfigError, match=r"not trained with k-fold, so it has no fold 2; drop --fold"):
        export_onnx(single, fold=2)
    assert not list(single.glob("*.onnx"))


def test_missing_or_damaged_model_file_is_a_model_error(tmp_path, files):
    run_dir = _train(tmp_path, "broken", files["binary"], {"type": "fisher"})
    coef = run_dir / "model" / "coefficients.json"
    coef.write_text("{not json")
    with pytest.raises(ModelError, match=r"coefficients\.json"):
        export_onnx(run_dir)
    coef.unlink()
    with pytest.raises(ModelError, match=r"coefficients\.json is missing"):
        export_onnx(run_dir)
    assert not list(run_dir.glob("*.onnx")) and not list(run_dir.glob(".*onnx*"))


def test_failed_verification_leaves_no_file_and_keeps_the_old_one(tmp_path, files, monkeypatch):
    run_dir = _train(tmp_path, "tamper", files["binary"], {"type": "logistic"})
    good = export_onnx(run_dir)
    before = good.read_bytes()
    import neyman.export.onnx as export_module

    real = export_module.linear_ops

    def tampered(g, x, coef, intercept, task):
        return real(g, x, coef * 1.01, intercept, task)

    monkeypatch.setattr(export_module, "linear_ops", tampered)
    with pytest.raises(ModelError, match="max relative difference"):
        export_onnx(run_dir, force=True)
    assert good.read_bytes() == before
    with pytest.raises(ModelError, match="does not reproduce"):
        export_onnx(run_dir, tmp_path / "new.onnx")
    assert not (tmp_path / "new.onnx").exists()
    assert [p.name for p in run_dir.iterdir() if "onnx" in p.name] == ["model.onnx"]


def test_onnx_model_scores_without_torch(tmp_path, files):
    run_dir = _train(tmp_path, "notorch", files["binary"], MLP)
    out = export_onnx(run_dir)
    code = (
        "import sys; from neyman import io; from neyman.export import OnnxModel; "
        f"s = OnnxModel({str(out)!r}).score(io.read({str(files['binary'])!r})); "
        "print(len(s), 'torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["1500", "False"]


def test_gaussian_inputs_fold_into_onnx_far_outside_the_training_range(tmp_path, files):
    run_dir = _train(tmp_path, "gauss", files["binary"], MLP, preprocessing={"clip": {"x01": [-1.0, 1.0]}})
    run = load_run(run_dir)
    steps = json.loads((run_dir / "preprocessing.json").read_text())["folds"][0]["steps"]
    assert [s["transform"]["name"] for s in steps] == ["clip", "residualize", "gaussian"], (
        "neural runs gaussianise by default"
    )
    out = export_onnx(run_dir, tmp_path / "gauss.onnx")
    x = run.matrix(io.read(files["binary"]))[:200].astype(np.float32).astype(np.float64)
    x[:50] *= 1e4  # far tails on both sides
    np.testing.assert_allclose(OnnxModel(out).score(x), fold_scores(run, x, 0), rtol=1e-5, atol=1e-6)


def test_residualized_inputs_fold_into_onnx(tmp_path, files):
    table = io.read(files["binary"])
    x0, x1, x2 = (np.asarray(table[c]) for c in ("x00", "x01", "x02"))
    table = table.with_column("total", x0 + 2.0 * x1).with_column("near", 100.0 * x2 + 0.05 * x1**2)
    io.write(table, tmp_path / "collinear.parquet")
    features = {"features": [*FEATURES, "total", "near"]}
    run_dir = _train(tmp_path, "resid", tmp_path / "collinear.parquet", MLP, data=features)
    steps = json.loads((run_dir / "preprocessing.json").read_text())["folds"][0]["steps"]
    assert steps[0]["transform"]["state"]["kind_"] == [0, 0, 0, 0, 0, 0, 2, 1]
    out = export_onnx(run_dir, tmp_path / "resid.onnx")
    # the graph takes float32, which moves a residual of 100 x02 by ~1e-5: judged on the same inputs
    run = load_run(run_dir)
    x = run.matrix(table).astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(OnnxModel(out).score(x), fold_scores(run, x, 0), rtol=1e-5, atol=1e-6)


def test_a_seed_ensemble_averages_its_members_logits_and_exports_as_one_graph(tmp_path, files):
    run_dir = _train(tmp_path, "ens", files["binary"], {**MLP, "ensemble": 3})
    run = load_run(run_dir)
    net = run.models[0].network
    members = [m.eval() for m in net.members]
    assert len(members) == 3
    assert not torch.equal(members[0].state_dict()["layers.0.weight"], members[1].state_dict()["layers.0.weight"])
    x = run.matrix(io.read(files["binary"]))
    z = torch.as_tensor(run.preprocessors[0].transform(x).astype(np.float32))
    with torch.no_grad():
        logits = torch.stack([m(z)[:, 0] for m in members]).mean(0).double().numpy()
    np.testing.assert_allclose(run.score(io.read(files["binary"])), 1 / (1 + np.exp(-logits)), rtol=1e-5)
    kept = sorted(p.name for p in (run_dir / "checkpoints").iterdir() if p.is_dir())
    assert kept == ["member_0", "member_1", "member_2"]
    _check_round_trip(run_dir, files["binary"], tmp_path)
