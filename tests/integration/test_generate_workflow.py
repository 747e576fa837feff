"""``generate`` as a workflow: reproducibility, resuming, Dask, formats, cross sections, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest

pytest.importorskip("pythia8mc")
pytest.importorskip("fastjet")

from neyman import io
from neyman.exceptions import ConfigError, DataError
from neyman.generation import parallel
from neyman.io import provenance_path
from neyman.table import Table
from neyman.workflows.generate import generate

# W jets: the cheapest jet process (~0.5 s per chunk and class)
PROCESS = "w_vs_qcd"


def _same(a: Table, b: Table) -> None:
    assert a.column_names == b.column_names
    for name in a.column_names:
        assert ak.to_list(a[name]) == ak.to_list(b[name]), name


SMALL_CHUNKS = "process.chunk_events=200"  # two chunks per class for 240 rows


def _run(out: Path, rows: int = 240, **kwargs: Any) -> Table:
    overrides = [SMALL_CHUNKS, *kwargs.pop("overrides", [])]
    generate(PROCESS, rows, out, seed=kwargs.pop("seed", 7), progress=False, overrides=overrides, **kwargs)
    return io.read(out)


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Table:
    return _run(tmp_path_factory.mktemp("reference") / "w.parquet")


def test_same_seed_same_file_and_another_seed_another(reference: Table, tmp_path: Path) -> None:
    _same(reference, _run(tmp_path / "again.parquet"))
    other = _run(tmp_path / "other.parquet", seed=8)
    assert not np.array_equal(other["pt"], reference["pt"])
    assert not list(tmp_path.glob(".*chunks")), "the chunk directory is removed after a run"


def _interrupted_at(n: int, real: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``run_chunk`` that raises KeyboardInterrupt at its ``n``-th call (the earlier chunks finish)."""
    calls = {"n": 0}

    def run_chunk(task: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return real(task)

    return run_chunk


def test_an_interrupted_run_resumes_and_gives_the_same_file(
    reference: Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = parallel.run_chunk
    out = tmp_path / "w.parquet"
    monkeypatch.setattr(parallel, "run_chunk", _interrupted_at(3, real))
    with pytest.raises(KeyboardInterrupt):
        _run(out)
    assert not out.exists()
    assert len(list((tmp_path / ".w.parquet.chunks").glob("chunk-*.parquet"))) == 2
    monkeypatch.setattr(parallel, "run_chunk", real)
    result = generate(PROCESS, 240, out, seed=7, progress=False, overrides=[SMALL_CHUNKS])
    assert result.chunks_reused == 2
    _same(reference, io.read(out))


def test_chunks_of_another_request_are_not_mixed_in(
    reference: Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "w.parquet"
    monkeypatch.setattr(parallel, "run_chunk", _interrupted_at(2, parallel.run_chunk))
    with pytest.raises(KeyboardInterrupt):
        _run(out, seed=99)
    monkeypatch.undo()
    with pytest.raises(DataError, match=r"different request.*seed.*--force to discard them"):
        _run(out)
    # --force discards the other request's chunks: the file is the one this request makes alone
    _same(reference, _run(out, force=True))
    assert not list(tmp_path.glob(".*chunks"))


def test_two_worker_processes_give_the_same_file_as_one(reference: Table, tmp_path: Path) -> None:
    _same(reference, _run(tmp_path / "pool.parquet", workers=2))


def test_cross_sections_agree_with_pythia_run_directly(reference: Table, tmp_path: Path) -> None:
    import pythia8mc

    out = tmp_path / "w.parquet"
    _run(out)
    provenance = json.loads(provenance_path(out).read_text())
    assert provenance["truth_columns"] == ["parton_id"]  # the matched parton's flavour: never a default feature
    for cls in provenance["classes"]:
        pythia = pythia8mc.Pythia("", False)
        for line in (*cls["pythia_settings"], "Print:quiet = on", "Random:setSeed = on", "Random:seed = 4321"):
            assert pythia.readString(line)
        assert pythia.init()
        pythia.nextBatch(1000)
        own = pythia.infoPython().sigmaGen() * 1e9
        own_err = pythia.infoPython().sigmaErr() * 1e9
        ours = cls["cross_section"]
        pull = (ours["sigma_pb"] - own) / np.hypot(ours["sigma_err_pb"], own_err)
        assert abs(pull) < 5, (cls["name"], ours, own, own_err)
        assert ours["tried"] >= ours["accepted"] >= cls["events_used"] > 0


def test_hdf5_output_has_the_top_tagging_layout_and_root_output_reads_back(reference: Table, tmp_path: Path) -> None:
    """The .h5 file is the top-tagging data set's: read by pandas under key "table", as that data set is."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("tables")
    h5 = tmp_path / "w.h5"
    _run(h5)
    frame = pd.read_hdf(h5, key="table")
    vector_columns = [f"{name}_{i}" for i in range(200) for name in ("E", "PX", "PY", "PZ")]
    assert list(frame.columns[:800]) == vector_columns
    constituents = frame[vector_columns].to_numpy().reshape(-1, 200, 4)
    assert constituents.shape == (len(reference), 200, 4) and constituents.dtype == np.float32
    n = np.minimum(reference["n_constituents"], 200)
    first = 0
    assert np.count_nonzero(constituents[first, :, 0]) == n[first]
    np.testing.assert_allclose(constituents[first, : n[first], 0], ak.to_numpy(reference["constituent_E"][first]))
    np.testing.assert_allclose(constituents[first, : n[first], 1], ak.to_numpy(reference["constituent_px"][first]))
    np.testing.assert_array_equal(frame["is_signal_new"].to_numpy(), reference["label"])
    np.testing.assert_allclose(frame["mass"].to_numpy(), reference["mass"])
    # neyman reads the layout back itself (without pandas)
    table = io.read(h5, columns=["mass", "E_0", "PZ_199", "is_signal_new"])
    np.testing.assert_allclose(table["mass"], reference["mass"])
    np.testing.assert_allclose(table["E_0"], constituents[:, 0, 0])
    np.testing.assert_array_equal(table["is_signal_new"], reference["label"])
    # and as jagged constituents, padding dropped: particle and image models train on the layout as on Parquet
    jagged = io.read(h5, columns=["constituent_E", "constituent_pz", "constituent_eta", "constituent_phi"])
    assert "constituent_pdg_id" not in io.available_columns(h5)  # the layout holds no particle ids
    kept = ak.num(reference["constituent_E"], axis=1) <= 200
    for name in jagged.column_names:
        np.testing.assert_allclose(
            ak.to_numpy(ak.flatten(jagged[name][kept])), ak.to_numpy(ak.flatten(reference[name][kept])),
            rtol=2e-6, atol=2e-5,
        )  # fmt: skip

    pytest.importorskip("uproot")
    root = tmp_path / "w.root"
    from neyman.exceptions import NeymanWarning

    with pytest.warns(NeymanWarning, match="same seed 7"):  # the same sample in another format, beside it
        _run(root)
    back = io.read(root)
    np.testing.assert_allclose(back["tau21"], reference["tau21"])
    assert ak.to_list(back["constituent_pdg_id"][:3]) == ak.to_list(reference["constituent_pdg_id"][:3])


def test_bad_requests_fail_before_any_work_with_a_clear_message(tmp_path: Path) -> None:
    out = tmp_path / "x.parquet"
    with pytest.raises(ConfigError, match="top_vs_qcd"):
        generate("top_vs_qdc", 10, out, progress=False)
    with pytest.raises(ConfigError, match="PhaseSpace:pTHatMni"):
        generate(PROCESS, 10, out, overrides=["pythia.PhaseSpace:pTHatMni=100"], progress=False)
    with pytest.raises(ConfigError, match="had_stochastic"):
        generate(PROCESS, 10, out, overrides=["detector.had_stohastic=0.6"], progress=False)
    with pytest.raises(DataError, match=r"\.parquet, \.h5, \.root or \.npz"):
        generate(PROCESS, 10, tmp_path / "x.csv", progress=False)
    out.write_text("keep me")
    with pytest.raises(DataError, match="exists; pass --force"):
        generate(PROCESS, 10, out, progress=False)
    assert out.read_text() == "keep me"
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DataError, match="cannot write"):
        generate(PROCESS, 10, blocker / "x.parquet", progress=False)


def test_impossible_cuts_stop_with_an_error_and_leave_no_file(tmp_path: Path) -> None:
    out = tmp_path / "never.parquet"
    with pytest.raises(ConfigError, match="no 'qcd' rows passed the selection"):
        generate(
            PROCESS,
            10,
            out,
            # QCD jets of pTHat < 60 GeV never reach the 250 GeV window
            overrides=["pythia.PhaseSpace:pTHatMin=20", "pythia.PhaseSpace:pTHatMax=60"],
            progress=False,
            empty_events_limit=2000,
        )
    assert not out.exists()


def test_files_without_a_seed_share_no_events(tmp_path: Path) -> None:
    """Without --seed each file draws its own seed (recorded): no event is in both."""
    first = generate(PROCESS, 120, tmp_path / "a.parquet", seed=None, progress=False, overrides=[SMALL_CHUNKS])
    second = generate(PROCESS, 240, tmp_path / "b.parquet", seed=None, progress=False, overrides=[SMALL_CHUNKS])
    assert first.seed_drawn and second.seed_drawn and first.seed != second.seed
    a, b = io.read(first.path), io.read(second.path)
    assert not np.isin(np.asarray(a["event_id"]), np.asarray(b["event_id"])).any()
    assert not np.isin(np.asarray(a["pt"]), np.asarray(b["pt"])).any()
    recorded = json.loads(first.provenance.read_text())
    assert (recorded["seed"], recorded["seed_drawn"]) == (first.seed, True)
    # the recorded seed reproduces the file exactly (elsewhere: beside it, that is warned)
    (tmp_path / "elsewhere").mkdir()
    again = generate(
        PROCESS, 120, tmp_path / "elsewhere" / "a.parquet", seed=first.seed, progress=False, overrides=[SMALL_CHUNKS]
    )
    _same(a, io.read(again.path))


def test_a_sibling_with_the_same_seed_is_warned(reference: Table, tmp_path: Path) -> None:
    from neyman.exceptions import NeymanWarning

    _run(tmp_path / "train.parquet", rows=120)
    with pytest.warns(NeymanWarning, match=r"train\.parquet .* same seed 7: the two files share their events"):
        _run(tmp_path / "test.parquet", rows=120)


def test_an_interrupted_run_without_a_seed_resumes_with_its_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "w.parquet"
    real = parallel.run_chunk
    monkeypatch.setattr(parallel, "run_chunk", _interrupted_at(3, real))
    with pytest.raises(KeyboardInterrupt):
        _run(out, seed=None)
    monkeypatch.setattr(parallel, "run_chunk", real)
    result = generate(PROCESS, 240, out, seed=None, progress=False, overrides=[SMALL_CHUNKS])
    assert result.chunks_reused == 2 and result.seed_drawn


def test_npz_output_has_the_quark_gluon_data_set_layout(reference: Table, tmp_path: Path) -> None:
    """X = (pt, y, phi, pid) per constituent, zero-padded, and labels y, as the EFN data set's loader reads."""
    out = tmp_path / "w.npz"
    _run(out)
    with np.load(out) as data:
        x, y = data["X"], data["y"]
    n = ak.to_numpy(ak.num(reference["constituent_pt"], axis=1))
    assert x.shape == (len(reference), n.max(), 4)
    np.testing.assert_array_equal(y, reference["label"])
    first = int(np.argmax(n))
    np.testing.assert_allclose(x[first, :, 0], ak.to_numpy(reference["constituent_pt"][first]), rtol=1e-6)
    np.testing.assert_allclose(x[first, :, 3], ak.to_numpy(reference["constituent_pdg_id"][first]))
    assert np.all((x[..., 2] >= 0) & (x[..., 2] < 2 * np.pi))
    assert np.all(x[0, n[0] :] == 0)
    # the scalar pt sum of the constituents bounds the jet pt from above, within the stored precision
    assert np.all(x[..., 0].sum(axis=1) >= 0.999 * np.asarray(reference["pt"]))
    # read back as jagged constituents, padding dropped; pz from the rapidity and each id's mass
    back = io.read(out, columns=[f"constituent_{k}" for k in ("pt", "eta", "phi", "pz", "charge", "pdg_id", "E")])
    for name in ("pt", "phi", "eta", "pz", "charge", "pdg_id"):
        np.testing.assert_allclose(
            ak.to_numpy(ak.flatten(back[f"constituent_{name}"])),
            ak.to_numpy(ak.flatten(reference[f"constituent_{name}"])),
            rtol=1e-5,
            atol=1e-5,
        )  # fmt: skip (the file's float32 precision)
    # the energy takes the mass of the id (a calorimeter cell, massless, is read as a K0L): equal above a few GeV
    energy = [ak.to_numpy(ak.flatten(t["constituent_E"])) for t in (back, reference)]
    hard = energy[1] > 5.0
    assert hard.sum() > 100 and np.all(energy[0] >= energy[1] * (1 - 1e-6))
    np.testing.assert_allclose(energy[0][hard], energy[1][hard], rtol=0.005)


def test_provenance_records_user_settings_and_the_pileup_settings(tmp_path: Path) -> None:
    """A ``--set pythia.`` override shows in the description, and the pile-up's settings carry its beams."""
    out = tmp_path / "w13.parquet"
    beams = "pythia.Beams:eCM=13000"
    generate(PROCESS, 20, out, seed=3, progress=False, pileup=1.0, overrides=["process.chunk_events=40", beams])
    provenance = json.loads(provenance_path(out).read_text())
    assert provenance["description"].endswith("; with Beams:eCM = 13000")
    for cls in provenance["classes"]:
        assert cls["pythia_settings"][-2] == "Beams:eCM = 13000"
        pileup = cls["pileup_settings"]
        assert "Beams:eCM = 14000." in pileup  # the process's own beams, then the override that replaces them
        assert pileup[-3:] == ["Beams:eCM = 13000", "SoftQCD:nonDiffractive = on", "PartonLevel:MPI = on"]
