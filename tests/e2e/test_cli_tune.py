"""`neyman tune` as a user runs it: a study, its best.yaml trained with `neyman train`, errors."""

import json
import os
import re
import subprocess
import sys

import yaml

from neyman.table import LABEL
from neyman.testing import write_labelled_file


def neyman(*args, cwd, check=True):
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "neyman", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"neyman {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def _write_config(tmp_path, space):
    data = write_labelled_file(tmp_path, "parquet", n_events=1200)
    config = {
        "name": "tagger",
        "data": {"sources": [{"path": data.name}], "label_column": LABEL, "features": [f"x{i:02d}" for i in range(6)]},
        "model": {"type": "mlp", "hidden": [8]},
        "training": {"epochs": 2, "batch_size": 128, "progress": False, "threads": 1},
        "tuning": {"space": space, "sampler": "tpe", "seed": 1, "objective": "val.rejection_at_eff_0.3"},
    }
    path = tmp_path / "tune.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_tune_then_train_the_best_configuration(tmp_path):
    path = _write_config(tmp_path, {"training.optimizer.lr": {"float": [1e-3, 3e-2], "log": True}})
    out = neyman("tune", path.name, "--trials", "2", "--study", "lr-scan", cwd=tmp_path).stdout
    assert "ran 2 trial(s)" in out and "best.yaml" in out
    # the objective's value on the line that names the best trial, not wrapped off it by a narrow table
    assert re.search(r"best trial \d+: val\.rejection_at_eff_0\.3 = [\d.]+", out), out
    study_dir = tmp_path / "runs" / "lr-scan"
    assert {"best.yaml", "trials.csv", "tuning.html", "study.db"} <= {p.name for p in study_dir.iterdir()}
    best = yaml.safe_load((study_dir / "best.yaml").read_text())
    assert best["name"] == "lr-scan-best" and "tuning" not in best
    # the header's command works from where the study ran, which it names
    assert f"# Train it from {tmp_path.resolve()}" in (study_dir / "best.yaml").read_text().replace(
        str(tmp_path), str(tmp_path.resolve())
    )
    assert "#   neyman train runs/lr-scan/best.yaml\n" in (study_dir / "best.yaml").read_text()

    out = neyman("train", str(study_dir / "best.yaml"), cwd=tmp_path).stdout
    assert "run directory" in out
    trained = json.loads((tmp_path / "runs" / "lr-scan-best" / "metrics.json").read_text())
    assert trained["val"]["rejection_at_eff_0.3"] > 1


def test_tune_errors_are_one_message_without_traceback(tmp_path):
    path = _write_config(tmp_path, {"training.optimizer.lr": {"float": [1e-3, 3e-2]}})
    proc = neyman("tune", path.name, "--storage", "postgres-on-my-laptop", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "is not a database URL" in proc.stderr and "Traceback" not in proc.stderr
    path = _write_config(tmp_path, {"training.optimizer.learning_rate": {"float": [1e-3, 3e-2]}})
    proc = neyman("tune", path.name, "--trials", "1", cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert "'training.optimizer.learning_rate' is not a configuration key" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "runs").exists()


def test_a_study_whose_trials_all_fail_exits_with_their_error_and_no_traceback(tmp_path):
    """Each failed trial is one line of Optuna's; the command ends with neyman's error and exit 2, not 0."""
    path = _write_config(tmp_path, {"training.optimizer.lr": {"float": [1e30, 1e35], "log": True}})
    proc = neyman("tune", path.name, "--trials", "2", cwd=tmp_path, check=False)
    shown = proc.stdout + proc.stderr
    assert proc.returncode == 2, shown
    assert "Traceback" not in shown
    assert re.search(
        r"error: no trial of the study has completed: the 2 trial\(s\) run now failed \(trial 0, 1: "
        r"ModelError: the training loss became nan",
        shown,
    ), shown
    assert (tmp_path / "runs" / "tagger-study" / "trials.csv").is_file()
