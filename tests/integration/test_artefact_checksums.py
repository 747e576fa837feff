"""A run's files carry the SHA-256 recorded when they were written: a damaged model is an error, never NaN scores."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import neyman
from neyman import io
from neyman.atomic import changed_files, file_sha256
from neyman.cli.main import main
from neyman.exceptions import ModelError, RunDirectoryError
from neyman.models import Model
from neyman.runs import METADATA_DIGEST, load_run
from neyman.table import LABEL
from neyman.testing import write_labelled_file
from neyman.training import load_state, save_state

FEATURES = [f"x{i:02d}" for i in range(6)]
MODELS = {
    "mlp": ({"type": "mlp", "hidden": [8]}, "model/weights.safetensors"),
    "xgboost": ({"type": "xgboost", "n_estimators": 10}, "model/booster.ubj"),
}


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small CSV file and one finished run per family (plus a 3-fold Fisher run)."""
    tmp = tmp_path_factory.mktemp("checksums")
    data = write_labelled_file(tmp, "csv", n_events=1200)
    base = {
        "output_dir": str(tmp / "runs"),
        "data": {"sources": [{"path": str(data)}], "label_column": LABEL, "features": FEATURES},
        "training": {"epochs": 1, "progress": False},
    }
    out = {"data": data}
    for name, (model, _) in MODELS.items():
        out[name] = neyman.train({**base, "name": name, "model": model}).run_dir
    out["kfold"] = neyman.train({**base, "name": "kfold", "model": {"type": "fisher"}, "split": {"kfold": 3}}).run_dir
    return out


def _copy(run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    return copy


def _flip_byte(path: Path, *, offset: int = -5) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out + captured.err


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("family", sorted(MODELS))
def test_checksums_of_every_model_file_are_recorded_when_the_run_is_written(trained, family):
    run = trained[family]
    recorded = json.loads((run / "model" / "metadata.json").read_text())["checksums"]
    weights = MODELS[family][1]
    assert {weights, "model/model.json", "preprocessing.json", "predictions.parquet"} <= set(recorded)
    assert "model/metadata.json" not in recorded
    assert all(file_sha256(run / name) == digest for name, digest in recorded.items())
    assert changed_files(run, recorded) == []
    saved = json.loads((run / "model" / "model.json").read_text())
    assert saved["checksums"] == {Path(weights).name: recorded[weights]}


def test_every_fold_model_is_recorded(trained):
    recorded = json.loads((trained["kfold"] / "model" / "metadata.json").read_text())["checksums"]
    for k in range(3):
        assert {f"model/fold_{k}/model.json", f"model/fold_{k}/coefficients.json"} <= set(recorded)


@pytest.mark.parametrize("verb", ["predict", "evaluate", "export"])
@pytest.mark.parametrize("family", sorted(MODELS))
def test_a_damaged_weights_file_is_one_error_and_nothing_is_written(trained, tmp_path, capsys, family, verb):
    run = _copy(trained[family], tmp_path)
    weights = run / MODELS[family][1]
    _flip_byte(weights)
    metrics_before = (run / "metrics.json").read_bytes()
    out = tmp_path / ("scored.parquet" if verb == "predict" else "model.onnx")
    args = {
        "predict": ["--input", str(trained["data"]), "--output", str(out)],
        "evaluate": ["--bootstrap", "5"],
        "export": ["--out", str(out)],
    }[verb]
    code, output = _cli(capsys, verb, str(run), *args)
    errors = _error_lines(output)
    assert code == 2 and len(errors) == 1, output
    assert str(weights) in errors[0] and "modified or damaged since the run was written" in errors[0]
    assert "--force" in errors[0] and "restore" in errors[0]
    assert not out.exists()
    assert (run / "metrics.json").read_bytes() == metrics_before
    assert not (run / "report.html").exists() and not (run / "evaluation").exists()


@pytest.mark.parametrize("family", sorted(MODELS))
def test_an_untouched_run_still_predicts(trained, tmp_path, capsys, family):
    out = tmp_path / "scored.parquet"
    code, output = _cli(capsys, "predict", str(trained[family]), "--input", str(trained["data"]), "--output", str(out))
    assert code == 0, output
    scores = np.asarray(io.read(out)["score"])
    assert len(scores) == 1200 and np.isfinite(scores).all()


@pytest.mark.parametrize(
    "name",
    ["preprocessing.json", "model/fold_1/coefficients.json", "model/fold_2/model.json"],
)
def test_every_recorded_file_is_checked(trained, tmp_path, name):
    run = _copy(trained["kfold"], tmp_path)
    path = run / name
    path.write_text(path.read_text().replace("\n", "\n ", 1))  # still valid JSON: only the checksum tells
    with pytest.raises(ModelError, match=rf"{name} was modified or damaged since the run was written"):
        load_run(run)


def test_a_deleted_model_file_is_named(trained, tmp_path):
    run = _copy(trained["kfold"], tmp_path)
    (run / "model" / "fold_0" / "coefficients.json").unlink()
    with pytest.raises(ModelError, match=r"fold_0/coefficients\.json is missing \(deleted or moved since the run"):
        load_run(run)


def test_damaged_saved_predictions_are_refused_when_read(trained, tmp_path):
    run = _copy(trained["xgboost"], tmp_path)
    _flip_byte(run / "predictions.parquet", offset=len((run / "predictions.parquet").read_bytes()) // 2)
    loaded = load_run(run)  # predicting does not read them
    with pytest.raises(ModelError, match=r"predictions\.parquet was modified or damaged"):
        loaded.saved_predictions()


def test_a_run_written_before_checksums_still_loads(trained, tmp_path):
    run = _copy(trained["mlp"], tmp_path)
    for name in ("model/metadata.json", "model/model.json"):
        meta = json.loads((run / name).read_text())
        del meta["checksums"]
        meta.pop(METADATA_DIGEST, None)
        (run / name).write_text(json.dumps(meta))
    loaded = load_run(run)
    scores = loaded.score(io.read(trained["data"]))
    assert np.isfinite(scores).all()
    np.testing.assert_allclose(scores, load_run(trained["mlp"]).score(io.read(trained["data"])))


@pytest.mark.parametrize(
    "checksums,named",
    [
        ("abc", r"'checksums' is not a dict"),
        ({"../outside.json": "0" * 64}, r"'\.\./outside\.json' is not a path inside"),
        ({"/etc/hostname": "0" * 64}, r"is not a path inside"),
        ({"preprocessing.json": 5}, r"checksum of 'preprocessing\.json' is not a string"),
    ],
)
def test_a_damaged_checksum_record_is_an_error(trained, tmp_path, checksums, named):
    run = _copy(trained["xgboost"], tmp_path)
    meta = json.loads((run / "model" / "metadata.json").read_text())
    (run / "model" / "metadata.json").write_text(json.dumps({**meta, "checksums": checksums}))
    with pytest.raises(RunDirectoryError, match=named):
        load_run(run)


def test_model_load_checks_the_weights_it_saved(trained, tmp_path):
    model_dir = _copy(trained["mlp"], tmp_path) / "model"
    Model.load(model_dir)
    _flip_byte(model_dir / "weights.safetensors")
    with pytest.raises(ModelError, match=r"weights\.safetensors was modified or damaged since the model was saved"):
        Model.load(model_dir)


def test_a_damaged_checkpoint_is_refused(tmp_path):
    import torch

    path = save_state(tmp_path / "last.safetensors", {"model": {"w": torch.arange(16.0)}, "epoch": 3})
    assert load_state(path)["epoch"] == 3
    _flip_byte(path, offset=-3)
    with pytest.raises(ModelError, match=r"last\.safetensors was modified or damaged since it was written"):
        load_state(path)


def test_a_hand_edited_metadata_record_is_refused(trained, tmp_path):
    """Swapping the recorded feature order would score every event with the wrong columns."""
    run = _copy(trained["xgboost"], tmp_path)
    path = run / "model" / "metadata.json"
    meta = json.loads(path.read_text())
    assert meta[METADATA_DIGEST]
    load_run(run)  # the untouched record loads
    meta["features"] = meta["features"][::-1]
    path.write_text(json.dumps(meta, indent=2))
    with pytest.raises(RunDirectoryError, match=r"metadata\.json was modified after the run was written"):
        load_run(run)
