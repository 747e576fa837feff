"""Chunk planning, cross-section combination, overrides, ragged indices and the chunk store (no Pythia)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest

from neyman.exceptions import ConfigError, DataError
from neyman.generation.jets import leading_jets, nearest
from neyman.generation.options import parse_overrides
from neyman.generation.parallel import ClassPlan, run_chunks
from neyman.generation.processes import get_process
from neyman.generation.pythia import ChunkResult, ChunkTask, combine_cross_sections
from neyman.generation.ragged import segments, starts
from neyman.generation.writer import ChunkStore, padded_constituents
from neyman.table import Table


class FakeEngine:
    """Finishes each chunk with ``rows_per_chunk[label]`` rows, in submission order."""

    workers = 2

    def __init__(self, rows_per_chunk: dict[int, int]) -> None:
        self.rows_per_chunk = rows_per_chunk
        self.pending: list[ChunkTask] = []
        self.submitted: list[tuple[int, int]] = []

    def submit(self, task: ChunkTask) -> ChunkTask:
        self.pending.append(task)
        self.submitted.append((task.label, task.index))
        return task

    def finished(self) -> Iterator[tuple[Any, ChunkResult]]:
        task = self.pending.pop(0)
        rows = self.rows_per_chunk[task.label]
        record = {"label": task.label, "index": task.index, "rows": rows, "events": task.n_events}
        yield task, ChunkResult(task, Table({"x": np.zeros(rows)}), record)


def _make(label: int, index: int) -> ChunkTask:
    return ChunkTask(get_process("top_vs_qcd"), label, index, 100, seed=1)


def test_run_chunks_stops_once_every_class_has_its_rows_with_little_overshoot() -> None:
    plans = [ClassPlan(1, "top", 1000, 100), ClassPlan(0, "qcd", 500, 100)]
    engine = FakeEngine({1: 40, 0: 70})
    seen: list[tuple[int, int]] = []
    run_chunks(plans, _make, engine, lambda r: seen.append((r.task.label, r.task.index)))  # type: ignore[arg-type]
    assert sorted(seen) == sorted(engine.submitted)
    assert plans[0].chunks_needed() == list(range(25)) and plans[0].complete()
    assert plans[1].chunks_needed() == list(range(8)) and plans[1].complete()
    # at most the chunks in flight (2 per worker) beyond what is needed
    assert len([s for s in seen if s[0] == 1]) <= 25 + 4
    assert len([s for s in seen if s[0] == 0]) <= 8 + 4


def test_run_chunks_skips_chunks_finished_earlier() -> None:
    plan = ClassPlan(1, "top", 100, 100)
    plan.done = {0: {"rows": 40, "events": 100}, 2: {"rows": 40, "events": 100}}
    engine = FakeEngine({1: 40})
    run_chunks([plan], _make, engine, lambda r: None)  # type: ignore[arg-type]
    assert (1, 1) in engine.submitted and (1, 0) not in engine.submitted and (1, 2) not in engine.submitted
    assert plan.complete() and plan.chunks_needed() == [0, 1, 2]


def test_run_chunks_stops_when_nothing_passes() -> None:
    plan = ClassPlan(1, "top", 10, 100)
    with pytest.raises(ConfigError, match="no 'top' rows passed the selection in 1000 events"):
        run_chunks([plan], _make, FakeEngine({1: 0}), lambda r: None, empty_events_limit=1000)  # type: ignore[arg-type]


def test_cross_sections_use_the_last_record_of_each_instance_weighted_by_tries() -> None:
    records = [
        {"instance": "a", "tried": 100, "accepted": 10, "sigma_pb": 9.0, "sigma_err_pb": 2.0},
        {"instance": "a", "tried": 300, "accepted": 30, "sigma_pb": 10.0, "sigma_err_pb": 1.0},
        {"instance": "b", "tried": 100, "accepted": 10, "sigma_pb": 14.0, "sigma_err_pb": 2.0},
    ]
    combined = combine_cross_sections(records)
    assert combined["sigma_pb"] == pytest.approx(0.75 * 10.0 + 0.25 * 14.0)
    assert combined["sigma_err_pb"] == pytest.approx(np.sqrt(0.75**2 * 1.0 + 0.25**2 * 4.0))
    assert (combined["tried"], combined["accepted"], combined["instances"]) == (400, 40, 2)


def test_overrides_are_parsed_and_bad_ones_named() -> None:
    parsed = parse_overrides(
        ["pythia.PhaseSpace:pTHatMin=450", "detector.had_stochastic=0.8", "process.signal_fraction=0.01"]
    )
    assert parsed.pythia == ("PhaseSpace:pTHatMin = 450",)
    assert parsed.detector == {"had_stochastic": 0.8} and parsed.process == {"signal_fraction": 0.01}
    for bad, message in [
        ("PhaseSpace:pTHatMin=450", "pythia.Key=value"),
        ("jets.radius=0.4", "unknown prefix 'jets'"),
        ("detector.had_stohastic=1", "had_stochastic"),
        ("detector.cell_size=fine", "not a number"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_overrides([bad])


def test_detector_switches_take_words_and_parameters_are_checked() -> None:
    from neyman.generation.options import detector_with_overrides

    parsed = parse_overrides(["detector.chs=false", "detector.particle_flow=on"])
    assert parsed.detector == {"chs": 0.0, "particle_flow": 1.0}
    detector = detector_with_overrides("default", parsed.detector)
    assert detector is not None and detector.chs is False and detector.particle_flow is True
    with pytest.raises(ConfigError, match=r"detector\.chs=maybe.*true or false"):
        parse_overrides(["detector.chs=maybe"])
    for bad, message in [
        ("detector.cell_size=0", "cell_size"),
        ("detector.track_efficiency=1.5", "track_efficiency is an efficiency"),
        ("detector.em_noise=-1", "em_noise"),
        ("detector.calo_eta_max=inf", "calo_eta_max"),
    ]:
        with pytest.raises(ConfigError, match=message):
            detector_with_overrides("default", parse_overrides([bad]).detector)


def test_ragged_helpers_and_jet_pairing() -> None:
    np.testing.assert_array_equal(starts(np.array([2, 0, 3])), [0, 2, 2])
    assert starts(np.array([], dtype=np.int64)).size == 0
    np.testing.assert_array_equal(segments(np.array([5, 0]), np.array([2, 3])), [5, 6, 0, 1, 2])

    class FakeJets:
        event = np.array([0, 0, 0, 2])
        pt = np.array([10.0, 30.0, 20.0, 5.0])

    lead = leading_jets(FakeJets(), 3, 2)  # type: ignore[arg-type]
    np.testing.assert_array_equal(lead, [[1, 2], [-1, -1], [3, -1]])

    index, distance = nearest(
        np.array([0.0, 1.0]), np.array([0.0, 3.1]), np.array([0, 1]),
        np.array([0.5, 0.1, 1.0]), np.array([0.0, 0.0, -3.1]), np.array([0, 0, 1]),
    )  # fmt: skip
    np.testing.assert_array_equal(index, [1, 2])
    assert distance[0] == pytest.approx(0.1) and distance[1] == pytest.approx(2 * np.pi - 6.2)


def test_padded_constituents_have_the_top_tagging_layout() -> None:
    table = Table(
        {f"constituent_{k}": ak.Array([[1.0, 2.0], [3.0]]) * s for s, k in enumerate(("E", "px", "py", "pz"), 1)}
    )
    padded = padded_constituents(table, 3)
    assert padded.shape == (2, 3, 4) and padded.dtype == np.float32
    np.testing.assert_array_equal(padded[0, :, 0], [1.0, 2.0, 0.0])
    np.testing.assert_array_equal(padded[1, 0], [3.0, 6.0, 9.0, 12.0])


def test_chunk_store_resumes_only_the_same_request(tmp_path: Path) -> None:
    out = tmp_path / "x.parquet"
    store = ChunkStore(out, {"seed": 1})
    assert store.open() == {}
    store.save(Table({"x": np.arange(3.0)}), {"label": 1, "index": 0, "rows": 3})
    again = ChunkStore(out, {"seed": 1})
    assert list(again.open()) == [(1, 0)]
    np.testing.assert_array_equal(again.load(1, 0)["x"], [0.0, 1.0, 2.0])
    with pytest.raises(DataError, match=r"different request.*seed"):
        ChunkStore(out, {"seed": 2}).open()
    assert ChunkStore(out, {"seed": 2}).open(replace=True) == {}
    assert ChunkStore(out, {"seed": 3}).open() == {}, "no finished chunk: another request starts afresh"
    (again.directory / "manifest.json").write_text("{damaged")
    assert ChunkStore(out, {"seed": 1}).open() == {}
    again.remove()
    assert not again.directory.exists()


def test_a_folder_of_someone_else_s_under_the_chunks_name_is_never_written_nor_deleted(tmp_path: Path) -> None:
    out = tmp_path / "gen.parquet"
    notes = tmp_path / ".gen.parquet.chunks" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("precious")
    with pytest.raises(DataError, match=r"holds files but no manifest\.json: it is not a folder of chunks neyman"):
        ChunkStore(out, {"seed": 1}).open(replace=True)
    assert [p.name for p in notes.parent.iterdir()] == ["notes.txt"] and notes.read_text() == "precious"


def test_an_error_in_a_worker_process_reaches_the_caller_and_the_workers_stop() -> None:
    from neyman.generation.parallel import executor

    bad = ChunkTask(get_process("top_vs_qcd"), 99, 0, 100, seed=1)  # refused before Pythia starts
    with pytest.raises(ConfigError, match="class labels must be in"), executor(workers=2) as engine:
        engine.submit(bad)
        for _ in engine.finished():
            pass


def test_an_interrupted_local_pool_ends_its_running_chunks_at_once(monkeypatch):
    """SIGTERM to neyman alone (a batch system's limit) waited for every running chunk before the command ended."""
    import multiprocessing
    import time

    import neyman.generation.parallel as parallel

    monkeypatch.setattr(parallel, "run_chunk", time.sleep)  # a chunk that takes 60 s
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt), parallel.executor(workers=2) as pool:
        pool.submit(60.0)  # type: ignore[arg-type]
        time.sleep(3.0)  # the worker has started it
        raise KeyboardInterrupt
    assert time.monotonic() - start < 20.0
    assert not multiprocessing.active_children()
