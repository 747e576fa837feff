"""The provenance beside a file neyman writes decides what ``--force`` may replace."""

from __future__ import annotations

import json

from neyman import io


def _ours(record: dict[str, object]) -> bool:
    return record.get("command") == "neyman predict"


def test_a_file_is_replaceable_only_while_its_provenance_describes_it(tmp_path):
    out = tmp_path / "scores.csv"
    out.write_text("score\n0.5\n")
    assert io.not_replaceable(out, _ours) == "no provenance of it"
    side = io.write_provenance(out, {"command": "neyman predict"})
    assert side == io.provenance_path(out) and json.loads(side.read_text())["file"]["bytes"] == out.stat().st_size
    assert io.not_replaceable(out, _ours) == ""
    sampled = io.not_replaceable(out, lambda record: record.get("command") == "neyman sample")
    assert sampled == "its provenance says neyman predict wrote it"
    out.write_text("score\n0.7\n")  # the same size, other bytes: the user's own file now
    assert io.not_replaceable(out, _ours) == "changed since neyman wrote it"
    out.write_text("score\n0.5\n0.25\n")
    assert io.not_replaceable(out, _ours) == "changed since neyman wrote it"
    side.write_text(json.dumps({"command": "neyman predict"}))  # written by a neyman without checksums
    assert "predates" in io.not_replaceable(out, _ours)
    io.write_provenance(out, {"command": "neyman predict"})
    out.unlink()  # a provenance without its file describes nothing there
    assert io.not_replaceable(out, _ours) == "changed since neyman wrote it"
