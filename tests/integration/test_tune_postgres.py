"""Two `neyman tune` processes join one study on a real PostgreSQL server.

The fixture starts Debian's PostgreSQL (``apt-get install postgresql``) on the
loopback interface with a free port, in a temporary data directory, as an
unprivileged user (the server refuses to run as root), and stops it afterwards.
"""

import contextlib
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from neyman.table import LABEL
from neyman.testing import write_labelled_file
from neyman.tuning import open_storage


def _postgres_bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    return Path(on_path).parent if on_path and shutil.which("initdb") else None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_url():
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found (Debian: apt-get install postgresql)")
    pytest.importorskip("psycopg", reason="the PostgreSQL driver psycopg is not installed (neyman[tune])")
    root = Path(tempfile.mkdtemp(prefix="neyman-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL does not run as root: use its own system user, else nobody
        user = next((u for u in ("postgres", "nobody") if _user_exists(u)), None)
        if user is None or shutil.which("runuser") is None:
            shutil.rmtree(root)
            pytest.skip("running as root without a 'postgres'/'nobody' user or runuser to start PostgreSQL")
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        prefix = ["runuser", "-u", user, "--"]
    data = root / "data"
    log = root / "server.log"
    subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "neyman", "--auth=trust", "--no-sync", "-E", "UTF8"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = _free_port()
    with open(log, "wb") as log_file:
        server = subprocess.Popen(
            [
                *prefix,
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-k",
                str(root),
                "-c",
                "fsync=off",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"postgresql://neyman@127.0.0.1:{port}/postgres"
    try:
        _wait_until_ready(bindir, port, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(root, ignore_errors=True)


def _user_exists(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _wait_until_ready(bindir, port, server, log):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited ({server.returncode}):\n{log.read_text()}")
        ready = subprocess.run(
            [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", "neyman"],
            capture_output=True,
        )
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"PostgreSQL did not accept connections within 60 s:\n{log.read_text()}")


def test_two_worker_processes_share_one_study_without_lost_or_duplicated_trials(tmp_path, postgres_url):
    import optuna

    data = write_labelled_file(tmp_path, "parquet", n_events=1000)
    config = {
        "output_dir": str(tmp_path / "runs"),
        "data": {"sources": [{"path": str(data)}], "label_column": LABEL, "features": [f"x{i:02d}" for i in range(6)]},
        "model": {"type": "mlp", "hidden": [8]},
        "training": {"epochs": 2, "batch_size": 128, "progress": False, "threads": 1},
        "tuning": {
            "space": {
                "training.optimizer.lr": {"float": [1e-3, 3e-2], "log": True},
                "model.hidden": {"categorical": [[8], [16], [8, 8]]},
            },
            "sampler": "random",
            "pruner": "none",
        },
    }
    path = tmp_path / "tune.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    command = [sys.executable, "-m", "neyman", "tune", str(path), "--trials", "3", "--storage", postgres_url]
    workers = [
        subprocess.Popen(
            [*command, "--study", "shared"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    finished = []
    try:
        finished = [proc.communicate(timeout=400) for proc in workers]
    finally:  # every worker reaped, its pipes closed, even when one failed or hung
        for proc in workers:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.communicate()
    for proc, (out, err) in zip(workers, finished, strict=True):
        assert proc.returncode == 0, f"worker failed:\n{out}\n{err}"
    outputs = [out for out, _ in finished]
    assert all("ran 3 trial(s)" in out for out in outputs)

    storage = open_storage(postgres_url)
    try:
        trials = optuna.load_study(study_name="shared", storage=storage).trials
    finally:
        storage.engine.dispose()
    assert sorted(t.number for t in trials) == list(range(6))
    assert all(t.state.name == "COMPLETE" for t in trials)
    by_worker = {}
    for t in trials:
        by_worker.setdefault(t.user_attrs["worker"], []).append(t.number)
    assert sorted(len(v) for v in by_worker.values()) == [3, 3]  # both processes ran their share
    study_dir = tmp_path / "runs" / "shared"
    assert sorted(p.name for p in study_dir.glob("trial-*")) == [f"trial-{i:04d}" for i in range(6)]
    for t in trials:
        run = study_dir / f"trial-{t.number:04d}"
        assert json.loads((run / "status.json").read_text())["state"] == "complete"
        cfg = yaml.safe_load((run / "config.yaml").read_text())
        assert cfg["training"]["optimizer"]["lr"] == t.params["training.optimizer.lr"]
        assert json.loads((run / "metrics.json").read_text())["val"]["auc"] == t.value
    # both processes wrote the study's outputs from the shared storage
    assert (study_dir / "best.yaml").is_file() and len((study_dir / "trials.csv").read_text().splitlines()) >= 4
