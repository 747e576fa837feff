"""Atomic writes: a killed writer's temporaries are cleaned by the next writer of the same output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from neyman.atomic import atomic_path, remove_stale, remove_stale_below, temporary_target, write_text


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temporaries_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    final = tmp_path / "scores.parquet"
    dead, live = _dead_pid(), os.getppid()
    (tmp_path / f".scores.parquet.tmp-{dead}").write_bytes(b"half")
    (tmp_path / f".scores.parquet.tmp-{live}").write_bytes(b"another writer")
    (tmp_path / f".scores.parquet.new-{dead}").mkdir()
    (tmp_path / f".scores.parquet.new-{dead}" / "x").write_text("staged")
    (tmp_path / f".other.parquet.tmp-{dead}").write_bytes(b"not ours")
    (tmp_path / ".scores.parquet.tmp-notapid").write_bytes(b"not neyman's")
    write_text(final, "done")
    assert final.read_text() == "done"
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(
        [
            "scores.parquet",
            f".scores.parquet.tmp-{live}",
            f".other.parquet.tmp-{dead}",
            ".scores.parquet.tmp-notapid",
        ]
    )
    assert remove_stale(final) == []


def test_a_failed_write_leaves_the_old_file(tmp_path):
    final = tmp_path / "metrics.json"
    write_text(final, "old")
    with pytest.raises(RuntimeError), atomic_path(final) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert final.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_a_dead_writers_number_taken_by_a_newer_process_is_still_stale(tmp_path):
    # a busy machine hands a dead writer's PID to a new process or thread within seconds: the
    # number is alive, but its process started after the leftover was last written
    final = tmp_path / "scores.parquet"
    newer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        reused = tmp_path / f".scores.parquet.tmp-{newer.pid}"
        reused.write_bytes(b"half")
        os.utime(reused, (0, 1_000_000_000))  # written in 2001, long before the process started
        mine = tmp_path / f".scores.parquet.tmp-{os.getppid()}"
        mine.write_bytes(b"a live writer that started before writing")
        assert remove_stale(final) == [reused]
        assert mine.exists()
    finally:
        newer.kill()
        newer.wait()


def _run(path, state: str) -> None:
    from neyman.runs import RunDirectory

    path.mkdir()
    RunDirectory(path).set_status(state)
    (path / "model.txt").write_text(state)


@pytest.mark.parametrize("left", ["unfinished", "missing"])
def test_a_replacement_killed_before_it_was_complete_puts_the_earlier_run_back(tmp_path, left):
    from neyman.exceptions import NeymanWarning, RunDirectoryError
    from neyman.runs import RunDirectory

    # `--force` moved the complete run aside and was killed while writing (or swapping in) the new one
    final, dead = tmp_path / "hunt", _dead_pid()
    _run(tmp_path / f".hunt.old-{dead}", "complete")
    if left == "unfinished":
        _run(final, "running")
    # a command that only reads the run names where the earlier one is (it said only 'not a finished run')
    with pytest.raises(RunDirectoryError, match=rf"the earlier, complete run is kept in .*\.hunt\.old-{dead}"):
        RunDirectory(final).require_complete()
    with (
        pytest.warns(NeymanWarning, match=r"hunt: a process replacing this run was stopped.*put back"),
        pytest.raises(RunDirectoryError, match=r"already holds a run \(status: complete\)"),
    ):
        RunDirectory.create(final)
    assert (final / "model.txt").read_text() == "complete"
    assert [p.name for p in tmp_path.iterdir()] == ["hunt"]


def test_a_replacement_killed_while_removing_the_earlier_run_keeps_the_new_one(tmp_path):
    from neyman.runs import RunDirectory

    final, dead = tmp_path / "hunt", _dead_pid()
    _run(tmp_path / f".hunt.old-{dead}", "complete")
    (tmp_path / f".hunt.old-{dead}" / "model.txt").write_text("earlier")
    _run(final, "complete")
    staging, target = RunDirectory.create(final, force=True)
    assert target is not None and target.path == final and (final / "model.txt").read_text() == "complete"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["hunt", staging.path.name])


def test_a_sweep_removes_dead_writers_files_at_any_depth_and_keeps_live_ones(tmp_path):
    # a tuning trial killed while writing its model leaves the file where no later write looks
    model = tmp_path / "study" / "trial-0000" / "model"
    model.mkdir(parents=True)
    dead = model / ".coefficients.json.tmp-999999999"
    live = model / f".metadata.json.tmp-{os.getpid()}"
    for path in (dead, live):
        path.write_text("half")
    assert remove_stale_below(tmp_path / "study") == [dead]
    assert not dead.exists() and live.exists()
    assert remove_stale_below(tmp_path / "absent") == []


def test_a_temporary_name_leads_back_to_the_file_it_stands_for(tmp_path):
    with atomic_path(tmp_path / "m.onnx") as tmp:
        tmp.write_text("model")
        assert temporary_target(tmp) == tmp_path / "m.onnx"
    for other in ("m.onnx", ".m.onnx", ".tmp-12", ".m.onnx.tmp-", ".m.onnx.tmp-x1"):
        assert temporary_target(tmp_path / other) is None, other
