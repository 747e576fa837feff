"""Atomic writes: a killed writer's temporaries are cleaned by the next writer of the same output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from neyman.atomic import atomic_path, remove_stale, write_text


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
