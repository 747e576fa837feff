"""Constituent-based taggers end to end: a generated file → train → evaluate → ONNX → predict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("pythia8mc")
pytest.importorskip("fastjet")
pytest.importorskip("torch")

from neyman import io
from neyman.exceptions import ConfigError
from neyman.export.runtime import OnnxModel
from neyman.models import model_class
from neyman.table import Table
from neyman.workflows.export import export
from neyman.workflows.generate import generate
from neyman.workflows.predict import predict
from neyman.workflows.train import train

FAMILIES = ["cnn", "pfn", "efn", "particlenet", "transformer"]


@pytest.fixture(scope="module")
def jets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("jets") / "top.parquet"
    generate("top_vs_qcd", 300, out, seed=11, progress=False, overrides=["process.chunk_events=200"])
    return out


def _config(jets: Path, out: Path, family: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": family,
        "output_dir": str(out),
        "data": {
            "sources": [{"path": str(jets)}],
            "label_column": "label",
            "event_id": "event_id",
            "particles": {"n_constituents": 30},
            "image": {"size": 16},
        },
        "model": {"type": family},
        "training": {"epochs": 1, "batch_size": 64, "progress": False},
        **extra,
    }


@pytest.fixture(scope="module")
def runs(jets: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("runs")
    return {family: train(_config(jets, out, family)).run_dir for family in FAMILIES}


@pytest.mark.parametrize("family", FAMILIES)
def test_each_tagger_trains_one_epoch_from_a_generated_file(runs: dict[str, Path], family: str) -> None:
    run = runs[family]
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["test"]["auc"] <= 1.0 and np.isfinite(metrics["test"]["loss"])
    meta = json.loads((run / "model" / "metadata.json").read_text())
    assert meta["representation"]["type"] == ("image" if family == "cnn" else "particles")
    prep = json.loads((run / "preprocessing.json").read_text())["folds"][0]
    assert prep["kind"] == ("image" if family == "cnn" else "particles")
    assert (run / "checkpoints" / "last.safetensors").is_file()


@pytest.mark.parametrize("family", FAMILIES)
def test_onnx_export_is_verified_and_predicts_like_the_run(
    runs: dict[str, Path], jets: Path, tmp_path: Path, family: str
) -> None:
    result = export(runs[family])
    assert result.max_relative_difference < 1e-5
    by_run = predict(runs[family], jets, tmp_path / "run.parquet")
    by_onnx = predict(result.path, jets, tmp_path / "onnx.parquet")
    a, b = io.read(by_run.output), io.read(by_onnx.output)
    np.testing.assert_allclose(np.asarray(b["score"]), np.asarray(a["score"]), rtol=1e-5, atol=1e-6)
    # ONNX Runtime scores in chunks no larger than the family's own bound
    assert OnnxModel(result.path).metadata["inference_batch_size"] == model_class(family).inference_batch_size


def test_pfn_learns_top_tagging(jets: Path, tmp_path: Path) -> None:
    cfg = _config(jets, tmp_path, "pfn")
    cfg["training"] = {"epochs": 15, "batch_size": 32, "progress": False, "optimizer": {"lr": 3e-3}}
    metrics = train(cfg).metrics
    assert metrics["test"]["auc"] > 0.8  # ~0.9 with 180 training jets; top jets have three prongs


def test_model_and_representation_must_agree(jets: Path, tmp_path: Path) -> None:
    cfg = _config(jets, tmp_path, "pfn")
    cfg["data"]["representation"] = "image"
    with pytest.raises(ConfigError, match="reads particles"):
        train(cfg)
    cfg = _config(jets, tmp_path, "mlp")
    cfg["data"]["representation"] = "particles"
    with pytest.raises(ConfigError, match="needs a model that reads it"):
        train(cfg)


def test_particle_sets_stream_from_files_chunk_by_chunk(jets: Path, tmp_path: Path) -> None:
    table = io.read(jets)
    copies = [
        table.with_column("event_id", np.asarray(table["event_id"]) + k * 10**9) for k in range(4)
    ]  # 1200 jets: two chunks of at most 1000
    big = tmp_path / "big.parquet"
    io.write(Table.concat(copies), big)
    cfg = _config(big, tmp_path, "pfn")
    cfg["data"].update(streaming=True, step_size=1000)
    cfg["training"]["epochs"] = 2
    result = train(cfg)
    assert result.metrics["streaming"]["chunks"] == 2
    preds = io.read(result.run_dir / "predictions.parquet")
    assert len(preds) == 1200 and np.isfinite(np.asarray(preds["score"])).all()
    assert export(result.run_dir).max_relative_difference < 1e-5
