"""kill -9 at many points of train, predict, generate, tune and evaluate.

Each verb runs once undisturbed (its reference and its duration T), then again in a
fresh folder, killed with SIGKILL after a random fraction of T (four per verb, one in each
quarter of the run, from a seeded generator).  After every kill the folder
must hold either nothing or a complete result (every file parses, a run that says
``complete`` loads), and the same command again (``--resume`` for a training, ``--force``
where a complete output exists) must finish with the reference result and leave no
temporary file behind.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from neyman import io
from neyman.table import LABEL
from neyman.testing import write_labelled_file

pytestmark = pytest.mark.slow

KILLS_PER_VERB = 4
"""Kill points per verb (20 in all): random fractions of the undisturbed run's wall time."""


def _fractions(verb: str) -> list[float]:
    """Random but reproducible kill points in (0.1, 0.95) of the run time, one per quarter of it."""
    gen = np.random.default_rng(sum(map(ord, verb)))
    edges = np.linspace(0.1, 0.95, KILLS_PER_VERB + 1)
    return [float(gen.uniform(lo, hi)) for lo, hi in itertools.pairwise(edges)]


FEATURES = [f"x{i:02d}" for i in range(6)]
ENV = {**os.environ, "PYTHONHASHSEED": "0"}


def _neyman(*args: str, cwd: Path, capture: bool = True) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "neyman", *args],
        cwd=cwd,
        env=ENV,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


def _finish(args: tuple[str, ...], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = _neyman(*args, cwd=cwd)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out.decode()
    return time.perf_counter() - t0


def _kill_after(args: tuple[str, ...], cwd: Path, seconds: float) -> None:
    proc = _neyman(*args, cwd=cwd, capture=False)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def _leftovers(folder: Path) -> list[Path]:
    """Temporary names neyman writes under (``.NAME.tmp-PID``, ``.NAME.new-PID``, ``.NAME.old-PID``)."""
    return [p for p in folder.rglob(".*") if any(t in p.name for t in (".tmp-", ".new-", ".old-"))]


def _parses(folder: Path) -> None:
    """Every JSON and YAML file under ``folder`` is complete."""
    for path in folder.rglob("*"):
        if path.name.startswith("."):
            continue
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".yaml":
            yaml.safe_load(path.read_text())


def _same_scores(a: Path, b: Path) -> None:
    ta, tb = io.read(a), io.read(b)
    assert len(ta) == len(tb)
    np.testing.assert_array_equal(np.asarray(ta["score"]), np.asarray(tb["score"]))


@pytest.fixture(scope="session")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kill-data")
    return write_labelled_file(folder, "parquet", n_events=60_000)


def _train_config(folder: Path, data: Path) -> Path:
    cfg = {
        "name": "r",
        "output_dir": "runs",
        "data": {"sources": [{"path": str(data)}], "label_column": LABEL, "features": FEATURES},
        "model": {"type": "mlp", "hidden": [32, 32]},
        "training": {"epochs": 6, "batch_size": 512, "progress": False, "early_stopping": {"patience": 0}},
    }
    path = folder / "train.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _kill_points(
    tmp_path: Path,
    args: Callable[[Path], tuple[str, ...]],
    check_killed: Callable[[Path], None],
    again: Callable[[Path], tuple[str, ...]],
    check_done: Callable[[Path, Path], None],
) -> None:
    """Run once undisturbed, then kill at every fraction of its time, check, and run again."""
    reference = tmp_path / "reference"
    reference.mkdir()
    seconds = _finish(args(reference), reference)
    for fraction in _fractions(args(reference)[0]):
        folder = tmp_path / f"kill-{fraction:.3f}"
        folder.mkdir()
        _kill_after(args(folder), folder, fraction * seconds)
        check_killed(folder)
        _finish(again(folder), folder)
        check_done(reference, folder)
        assert not _leftovers(folder), _leftovers(folder)


def test_kill_train_resumes_to_the_same_run(tmp_path: Path, data: Path) -> None:
    def args(folder: Path) -> tuple[str, ...]:
        return ("train", str(_train_config(folder, data)))

    def killed(folder: Path) -> None:
        run = folder / "runs" / "r"
        if run.is_dir():
            _parses(run)

    def again(folder: Path) -> tuple[str, ...]:
        run = folder / "runs" / "r"
        status = json.loads((run / "status.json").read_text())["state"] if (run / "status.json").is_file() else None
        if status in ("running", "failed"):
            return ("train", "--resume", str(run))
        return ("train", str(_train_config(folder, data)), "--force")

    def done(reference: Path, folder: Path) -> None:
        _same_scores(reference / "runs/r/predictions.parquet", folder / "runs/r/predictions.parquet")

    _kill_points(tmp_path, args, killed, again, done)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, data: Path) -> Path:
    folder = tmp_path_factory.mktemp("kill-run")
    _finish(("train", str(_train_config(folder, data))), folder)
    return folder / "runs" / "r"


def test_kill_predict_never_leaves_a_partial_file(tmp_path: Path, data: Path, trained: Path) -> None:
    def args(folder: Path) -> tuple[str, ...]:
        return ("predict", str(trained), "--input", str(data), "--output", "scores.parquet", "--step-size", "2000")

    def killed(folder: Path) -> None:
        if (folder / "scores.parquet").exists():
            assert len(io.read(folder / "scores.parquet")) == 60_000

    def again(folder: Path) -> tuple[str, ...]:
        return (*args(folder), "--force")

    def done(reference: Path, folder: Path) -> None:
        _same_scores(reference / "scores.parquet", folder / "scores.parquet")

    _kill_points(tmp_path, args, killed, again, done)


def test_kill_generate_resumes_to_the_same_file(tmp_path: Path) -> None:
    def args(folder: Path) -> tuple[str, ...]:
        seed = ("--seed", "3")  # the file an uninterrupted run of the same command gives
        return (
            "generate",
            "w_vs_qcd",
            "-n",
            "600",
            "-o",
            "w.parquet",
            *seed,
            "--set",
            "process.chunk_events=100",
            "-q",
        )

    def killed(folder: Path) -> None:
        if (folder / "w.parquet").exists():
            assert len(io.read(folder / "w.parquet")) == 600

    def again(folder: Path) -> tuple[str, ...]:
        return (*args(folder), "--force") if (folder / "w.parquet").exists() else args(folder)

    def done(reference: Path, folder: Path) -> None:
        a, b = io.read(reference / "w.parquet"), io.read(folder / "w.parquet")
        np.testing.assert_array_equal(np.asarray(a["pt"]), np.asarray(b["pt"]))
        assert not list(folder.glob(".*chunks"))

    _kill_points(tmp_path, args, killed, again, done)


def test_kill_tune_continues_the_study(tmp_path: Path, data: Path) -> None:
    def config(folder: Path) -> Path:
        cfg = yaml.safe_load(_train_config(folder, data).read_text())
        cfg.update(name="t", model={"type": "logistic"})
        cfg["tuning"] = {"space": {"model.C": {"float": [0.01, 10.0], "log": True}}, "trials": 4, "study": "s"}
        path = folder / "tune.yaml"
        path.write_text(yaml.safe_dump(cfg))
        return path

    def args(folder: Path) -> tuple[str, ...]:
        return ("tune", str(config(folder)))

    def killed(folder: Path) -> None:
        study = folder / "runs" / "s"
        if study.is_dir():
            _parses(study)

    def done(reference: Path, folder: Path) -> None:
        trials = (folder / "runs/s/trials.csv").read_text().splitlines()
        assert sum(",COMPLETE," in line for line in trials) >= 4
        yaml.safe_load((folder / "runs/s/best.yaml").read_text())

    _kill_points(tmp_path, args, killed, args, done)


def test_kill_evaluate_keeps_the_run_usable(tmp_path: Path, data: Path, trained: Path) -> None:
    import shutil

    def args(folder: Path) -> tuple[str, ...]:
        run = folder / "r"
        if not run.exists():
            shutil.copytree(trained, run)
        return ("evaluate", str(run), "--bootstrap", "50")

    def killed(folder: Path) -> None:
        _parses(folder / "r")
        json.loads((folder / "r" / "metrics.json").read_text())

    def done(reference: Path, folder: Path) -> None:
        a = json.loads((reference / "r/metrics.json").read_text())
        b = json.loads((folder / "r/metrics.json").read_text())
        assert a["test"] == b["test"]

    _kill_points(tmp_path, args, killed, args, done)


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_workers_of_a_killed_generation_end_with_it(tmp_path: Path) -> None:
    """``kill -9`` of ``generate --workers 2`` leaves no worker process waiting for ever."""
    command = [sys.executable, "-m", "neyman", "generate", "w_vs_qcd", "-n", "5000", "-o", "w.parquet", "-q"]
    process = subprocess.Popen([*command, "--workers", "2"], cwd=tmp_path, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
        workers = {p for p in _children(process.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()}
    assert len(workers) == 2, "the two worker processes did not start"
    time.sleep(3)  # into their first chunks
    process.send_signal(signal.SIGKILL)
    process.wait()

    def running(pid: int) -> bool:  # a zombie (state Z) has ended; who reaps it is not neyman's
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 30
    while any(running(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.5)
    alive = [p for p in workers if running(p)]
    for p in alive:
        os.kill(p, signal.SIGKILL)
    assert not alive, "worker processes outlived the killed generation"
