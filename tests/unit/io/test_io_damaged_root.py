"""A damaged ROOT file is a DataError naming it, whatever uproot raises inside."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neyman import io
from neyman.exceptions import DataError
from neyman.table import Table

uproot = pytest.importorskip("uproot")
pytest.importorskip("awkward")

DAMAGED = r"cannot read .*{name} as a ROOT file: .*truncated, corrupt or not a ROOT file"


def _rntuple(path: Path) -> dict[str, int]:
    """Write a small RNTuple and return the places of its header and footer envelopes."""
    if not hasattr(uproot.WritableDirectory, "mkrntuple"):
        pytest.skip("this uproot cannot write RNTuples")
    with uproot.recreate(path) as f:
        f.mkrntuple("Events", {"x": np.arange(500.0), "n": np.arange(500, dtype=np.int32)})
    anchor = uproot.open(path)["Events"]
    return {name: int(anchor.member(name)) for name in ("fSeekHeader", "fNBytesHeader", "fSeekFooter", "fNBytesFooter")}


def _flipped(good: bytes, at: int, path: Path) -> Path:
    data = bytearray(good)
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _readers(path: Path) -> list:
    return [
        lambda: io.read(path),
        lambda: list(io.iterate(path, step_size=100)),
        lambda: io.num_entries(path),
        lambda: io.available_columns(path),
    ]


def test_a_damaged_rntuple_header_is_a_data_error(tmp_path):
    good = tmp_path / "good.root"
    places = _rntuple(good)
    assert len(io.read(good)) == 500
    # the first byte of the header envelope is its type: uproot asserts on it (env_type_id=...)
    bad = _flipped(good.read_bytes(), places["fSeekHeader"], tmp_path / "bad.root")
    for read in _readers(bad):
        with pytest.raises(DataError, match=DAMAGED.format(name=r"bad\.root")) as info:
            read()
        assert info.value.__cause__ is not None


@pytest.mark.parametrize("envelope", ["Header", "Footer"])
def test_any_damage_to_an_rntuple_envelope_is_read_or_a_data_error(tmp_path, envelope):
    good = tmp_path / "good.root"
    places = _rntuple(good)
    raw = good.read_bytes()
    start, size = places[f"fSeek{envelope}"], places[f"fNBytes{envelope}"]
    failures = 0
    for at in range(start, start + size):
        bad = _flipped(raw, at, tmp_path / "bad.root")
        try:
            io.read(bad)
        except DataError as exc:
            assert "bad.root" in str(exc)
            failures += 1
    assert failures > 0


def test_a_damaged_ttree_is_a_data_error(tmp_path):
    table = Table({"x": np.arange(2000.0), "n": np.arange(2000, dtype=np.int32)})
    raw = io.write(table, tmp_path / "tree.root").read_bytes()
    bad = tmp_path / "cut.root"
    bad.write_bytes(raw[: len(raw) * 2 // 3])
    with pytest.raises(DataError, match=DAMAGED.format(name=r"cut\.root")):
        io.read(bad)


def test_a_truncated_tree_is_named_with_what_is_missing(tmp_path):
    good = io.write(Table({"x": np.arange(50_000.0)}), tmp_path / "good.root", tree="events")
    cut = tmp_path / "cut.root"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataError, match=DAMAGED.format(name=r"cut\.root")) as info:
        io.read(cut, tree="events")
    # uproot says it in two lines ('expected Chunk of length N,' / 'received M bytes'): both are kept
    assert "expected Chunk of length" in str(info.value) and "received" in str(info.value)
    assert ",." not in str(info.value)
