"""The command line as a user runs it: train → predict, help texts, error messages."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neyman import io
from neyman.testing import write_labelled_file, write_signal_background

VERBS = ["generate", "train", "tune", "predict", "evaluate", "report", "compare", "export", "demo"]


def neyman(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "neyman", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"neyman {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_help_of_every_verb_has_an_example(tmp_path):
    top = neyman("--help", cwd=tmp_path).stdout
    for verb in VERBS:
        assert verb in top
        text = neyman(verb, "--help", cwd=tmp_path).stdout
        assert "Example" in text and f"neyman {verb}" in text


def test_root_signal_background_train_then_predict_root_to_root(tmp_path):
    sig, bkg = write_signal_background(tmp_path, "root", n_events=3000)
    out = neyman(
        "train",
        "--signal",
        f"{sig}:events",
        "--background",
        f"{bkg}:events",
        "--features",
        "x00,x01,x02,x03,x04,x05",
        "--model",
        "xgboost",
        "--set",
        "model.n_estimators=40",
        "--name",
        "bdt",
        cwd=tmp_path,
    )
    assert "run directory" in out.stdout and "auc" in out.stdout
    run = tmp_path / "runs" / "bdt"
    assert json.loads((run / "metrics.json").read_text())["test"]["auc"] > 0.7
    out = neyman(
        "predict",
        str(run),
        "--input",
        f"{sig}:events",
        "--output",
        str(tmp_path / "scored.root"),
        cwd=tmp_path,
    )
    assert "provenance in" in out.stdout and (tmp_path / "scored.root.provenance.json").is_file()
    import uproot

    with uproot.open(tmp_path / "scored.root") as f:
        tree = f["events"]
        assert {"x00", "score"} <= set(tree.keys())
        scores = tree["score"].array(library="np")
    assert len(scores) == io.num_entries(sig) and ((scores >= 0) & (scores <= 1)).all()


def test_config_file_with_overrides_and_regression_flags(tmp_path):
    path = write_labelled_file(tmp_path, "csv", n_events=1500)
    (tmp_path / "run.yaml").write_text(
        "name: cfg\n"
        "data:\n  sources:\n    - path: labelled.csv\n  label_column: label\n  features: [x00, x01, x02]\n"
        "model:\n  type: mlp\n  hidden: [16]\n"
        "training:\n  epochs: 2\n  progress: false\n"
    )
    neyman("train", "run.yaml", "--set", "model.activation=tanh", cwd=tmp_path)
    saved = (tmp_path / "runs" / "cfg" / "config.yaml").read_text()
    assert "activation: tanh" in saved and "optimizer:" in saved  # resolved config, defaults filled in
    neyman(
        "train",
        "--data",
        str(path),
        "--target",
        "x05",
        "--features",
        "x00,x01",
        "--model",
        "lightgbm",
        "--set",
        "model.n_estimators=20",
        "--name",
        "reg",
        cwd=tmp_path,
    )
    assert "resolution" in json.loads((tmp_path / "runs" / "reg" / "metrics.json").read_text())["test"]


def test_a_table_of_many_metrics_is_printed_a_metric_per_row_on_a_narrow_terminal(tmp_path):
    path = write_labelled_file(tmp_path, "csv", n_events=1500)
    args = ("train", "--data", str(path), "--target", "x05", "--features", "x00,x01", "--task", "gaussian")
    out = subprocess.run(
        [sys.executable, "-m", "neyman", *args, "--set", "training.epochs=2", "--name", "narrow"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1"},
        timeout=600,
    ).stdout  # fmt: skip
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") >= 4}
    assert {"rmse", "pull_width", "coverage_68"} <= set(rows), out
    assert all("…" not in line for line in rows.values())  # every number whole at 80 columns


@pytest.mark.parametrize(
    "args,needle",
    [
        (
            ["train", "--signal", "missing.root:events", "--background", "b.root:events"],
            "missing.root does not exist",
        ),
        (["train", "run.yaml", "--set", "model.hiden=[3]"], "did you mean 'hidden'"),
        (["train", "--data", "labelled.parquet", "--label-column", "labl"], "did you mean 'label'"),
        (
            ["predict", "nowhere", "--input", "labelled.parquet", "--output", "x.parquet"],
            "does not exist",
        ),
        (["train"], "nothing to train"),
    ],
)
def test_errors_are_one_message_without_traceback(tmp_path, args, needle):
    write_labelled_file(tmp_path, "parquet", n_events=300)
    (tmp_path / "run.yaml").write_text("data:\n  sources:\n    - path: labelled.parquet\n  label_column: label\n")
    proc = neyman(*args, cwd=tmp_path, check=False)
    assert proc.returncode == 2, proc.stderr
    assert needle in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr
    debug = neyman("--debug", *args, cwd=tmp_path, check=False)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_existing_output_is_kept_without_force(tmp_path):
    path = write_labelled_file(tmp_path, "parquet", n_events=600)
    neyman(
        "train",
        "--data",
        str(path),
        "--label-column",
        "label",
        "--model",
        "logistic",
        "--name",
        "lr",
        cwd=tmp_path,
    )
    target = tmp_path / "scored.parquet"
    target.write_bytes(b"precious")
    proc = neyman(
        "predict",
        "runs/lr",
        "--input",
        str(path),
        "--output",
        str(target),
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 2 and "--force" in proc.stderr
    assert target.read_bytes() == b"precious"
    # --force does not replace a file that is not earlier predictions either
    forced = neyman(
        "predict", "runs/lr", "--input", str(path), "--output", str(target), "--force", cwd=tmp_path, check=False
    )
    assert forced.returncode == 2 and "replaces only earlier predictions" in forced.stderr
    assert target.read_bytes() == b"precious"
    earlier = tmp_path / "earlier.parquet"
    neyman("predict", "runs/lr", "--input", str(path), "--output", str(earlier), cwd=tmp_path)
    neyman("predict", "runs/lr", "--input", str(path), "--output", str(earlier), "--force", cwd=tmp_path)
    assert np.isfinite(np.asarray(io.read(earlier)["score"])).all()


def test_resume_from_the_command_line(tmp_path):
    path = write_labelled_file(tmp_path, "parquet", n_events=800)
    args = ["train", "--data", str(path), "--label-column", "label", "--name", "m", "--set", "training.epochs=2"]
    neyman(*args, "--set", "training.progress=false", cwd=tmp_path)
    run = tmp_path / "runs" / "m"
    before = io.read(run / "predictions.parquet")
    # make the run look interrupted after its last checkpoint: status failed, artefacts gone
    (run / "status.json").write_text('{"state": "failed"}')
    (run / "metrics.json").unlink()
    proc = neyman("train", "--resume", str(run), cwd=tmp_path)
    assert "run directory" in proc.stdout
    assert json.loads((run / "status.json").read_text())["state"] == "complete"
    after = io.read(run / "predictions.parquet")
    assert np.array_equal(np.asarray(before["score"]), np.asarray(after["score"]))
    proc = neyman("train", "--resume", str(run), cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "already complete" in proc.stderr


def test_evaluate_report_and_compare_from_the_command_line(tmp_path):
    path = write_labelled_file(tmp_path, "parquet", n_events=2000)
    for name, model in (("bdt", "xgboost"), ("lin", "mlp")):
        neyman(
            "train",
            "--data",
            str(path),
            "--label-column",
            "label",
            "--model",
            model,
            "--name",
            name,
            "--features",
            "x00,x01,x02,x03",
            "--set",
            "training.progress=false",
            *(["--set", "training.epochs=5"] if model == "mlp" else []),
            cwd=tmp_path,
        )
    out = neyman("evaluate", "runs/bdt", "--yields", "20,2000", "--bootstrap", "30", cwd=tmp_path).stdout
    assert "AUC" in out and (tmp_path / "runs" / "bdt" / "report.html").is_file()
    neyman("report", "runs/lin", cwd=tmp_path)
    assert (tmp_path / "runs" / "lin" / "report.html").stat().st_size > 10_000
    out = neyman("compare", "runs/bdt", "runs/lin", "--out", "cmp", cwd=tmp_path).stdout
    assert "bdt" in out and "lin" in out and (tmp_path / "cmp" / "roc_comparison.png").is_file()
    bad = neyman("evaluate", "runs/bdt", "--yields", "twenty", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "--yields takes two numbers" in bad.stderr


def test_demo_generates_jets_trains_evaluates_and_compares(tmp_path):
    out = neyman("demo", "--events", "800", "--workers", "1", "--no-progress", "--out", "d", cwd=tmp_path).stdout
    assert "tau32 alone" in out and "report of mlp" in out
    for path in ("d/runs/bdt/report.html", "d/runs/mlp/report.html", "d/comparison/roc_comparison.png"):
        assert (tmp_path / path).is_file(), path
    data = tmp_path / "d/data/top_vs_qcd_800_seed1.parquet"
    assert data.is_file() and (tmp_path / "d/data/top_vs_qcd_800_seed1.parquet.provenance.json").is_file()
    for run in ("bdt", "mlp"):
        metrics = json.loads((tmp_path / f"d/runs/{run}/metrics.json").read_text())
        assert metrics["test"]["auc"] > 0.85, run  # top vs QCD on substructure (~0.9 with 480 training jets)


@pytest.mark.slow  # two demos, 60 s
def test_a_second_demo_reuses_the_generated_jets(tmp_path):
    neyman("demo", "--events", "800", "--workers", "1", "--no-progress", "--out", "d", cwd=tmp_path)
    data = tmp_path / "d/data/top_vs_qcd_800_seed1.parquet"
    stamp = data.stat().st_mtime_ns
    neyman("demo", "--events", "800", "--workers", "1", "--no-progress", "--out", "d", cwd=tmp_path)
    assert data.stat().st_mtime_ns == stamp


def test_generate_lists_processes_and_refuses_an_unknown_pythia_setting(tmp_path):
    listing = neyman("generate", "--list", cwd=tmp_path).stdout
    for name in ("top_vs_qcd", "w_vs_qcd", "quark_vs_gluon", "higgs_top_qcd", "susy_vs_ww", "dijet_resonance"):
        assert name in listing
    assert "arXiv:1902.09914" in listing
    bad = neyman("generate", "top_vs_qcd", "--events", "10", "--out", "x.parquet", "--set", "pythia.Foo:bar=1",
                 cwd=tmp_path, check=False)  # fmt: skip
    assert bad.returncode == 2 and "Foo:bar" in bad.stderr and not (tmp_path / "x.parquet").exists()


# the demo test generates and trains through the command line in every run; this one adds the
# quark/gluon sample (about 25 s)
@pytest.mark.slow
def test_a_generated_quark_gluon_file_trains(tmp_path):
    neyman("generate", "quark_vs_gluon", "--events", "300", "--out", "qg.parquet", "-q", cwd=tmp_path)
    neyman(
        "train", "--data", "qg.parquet", "--label-column", "label", "--model", "xgboost", "--name", "qg",
        "--features", "mass,n_constituents,tau21,c2,d2,softdrop_mass", "--set", "model.n_estimators=50",
        cwd=tmp_path,
    )  # fmt: skip
    metrics = json.loads((tmp_path / "runs/qg/metrics.json").read_text())
    assert metrics["test"]["auc"] > 0.6  # gluon jets are wider and have more constituents


def test_export_then_predict_with_onnx_equals_predict_with_the_run(tmp_path):
    path = write_labelled_file(tmp_path, "parquet", n_events=1500)
    neyman(
        "train",
        "--data",
        str(path),
        "--label-column",
        "label",
        "--model",
        "mlp",
        "--name",
        "m",
        "--features",
        "x00,x01,x02,x03",
        "--set",
        "training.epochs=2",
        "--set",
        "training.progress=false",
        cwd=tmp_path,
    )
    out = neyman("export", "runs/m", "--format", "onnx", cwd=tmp_path).stdout
    assert "matches the run" in out and (tmp_path / "runs/m/model.onnx").is_file()
    neyman("predict", "runs/m", "--input", str(path), "--output", "a.parquet", cwd=tmp_path)
    neyman("predict", "runs/m/model.onnx", "--input", str(path), "--output", "b.parquet", cwd=tmp_path)
    a, b = io.read(tmp_path / "a.parquet"), io.read(tmp_path / "b.parquet")
    assert np.allclose(np.asarray(a["score"]), np.asarray(b["score"]), rtol=1e-5, atol=1e-6)
    bad = neyman("export", "runs/m", "--format", "tflite", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "unknown export format" in bad.stderr


def test_sigterm_stops_a_training_as_ctrl_c_does(tmp_path):
    """A batch system's time limit sends SIGTERM: the run was left 'running' (or a partial file behind)."""
    import signal
    import time

    write_labelled_file(tmp_path, "parquet", n_events=3000)
    args = ["train", "--data", "labelled.parquet", "--label-column", "label", "--model", "mlp", "--name", "long"]
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "neyman",
            *args,
            "--set",
            "training.epochs=5000",
            "--set",
            "training.early_stopping.patience=0",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    status = tmp_path / "runs" / "long" / "status.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (status.is_file() and "running" in status.read_text()):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    time.sleep(1.0)  # inside the epochs
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "Traceback" not in err
    assert json.loads(status.read_text())["state"] == "failed"  # resumable, as after Ctrl-C
    assert not [p.name for p in (tmp_path / "runs").iterdir() if p.name.startswith(".")]
