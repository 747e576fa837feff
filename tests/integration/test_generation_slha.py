"""A real Pythia 8 run of pp -> chargino pairs at 8 TeV with the SLHA spectrum neyman writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neyman.exceptions import ConfigError
from neyman.generation.slha import (
    CHARGINO_ID,
    NEUTRALINO_ID,
    chargino_spectrum_text,
    mixing_matrices,
    write_chargino_spectrum,
)

pythia8mc = pytest.importorskip("pythia8mc")
ak = pytest.importorskip("awkward")

N_EVENTS = 50
_MB_TO_PB = 1e9


@pytest.fixture(scope="session")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    path = write_chargino_spectrum(tmp_path_factory.mktemp("slha") / "chargino.slha")
    pythia = pythia8mc.Pythia("", False)
    settings = [
        f"SLHA:file = {path}",
        "Beams:eCM = 8000.",
        "SUSY:qqbar2chi+chi- = on",
        f"SUSY:idA = {CHARGINO_ID}",
        f"SUSY:idB = {CHARGINO_ID}",
        "24:onMode = off",
        "24:onIfAny = 11 13",
        "PartonLevel:MPI = off",
        "HadronLevel:all = off",
        "Print:quiet = on",
        "SLHA:verbose = 0",
        "Random:setSeed = on",
        "Random:seed = 4308",
    ]
    for line in settings:
        assert pythia.readString(line), line
    assert pythia.init()
    return pythia, pythia.nextBatch(N_EVENTS)


def test_spectrum_file_is_written_atomically_and_complete(tmp_path: Path) -> None:
    path = write_chargino_spectrum(tmp_path / "sub" / "spectrum.slha", chargino_mass=300.0, neutralino_mass=50.0)
    text = path.read_text()
    assert text == chargino_spectrum_text(chargino_mass=300.0, neutralino_mass=50.0)
    assert [p.name for p in path.parent.iterdir()] == ["spectrum.slha"]
    for block in ("MODSEL", "SMINPUTS", "MINPAR", "MASS", "NMIX", "UMIX", "VMIX", "HMIX", "GAUGE", "ALPHA"):
        assert f"BLOCK {block}" in text
    assert f"DECAY  {CHARGINO_ID}" in text and f"DECAY  {NEUTRALINO_ID}" in text
    for matrix in mixing_matrices().values():
        np.testing.assert_allclose(matrix @ matrix.T, np.eye(len(matrix)), atol=1e-12)
        assert abs(np.diag(matrix)).min() < 1.0  # genuinely mixed


def test_spectrum_rejects_unordered_masses() -> None:
    with pytest.raises(ConfigError, match="neutralino_mass"):
        chargino_spectrum_text(chargino_mass=100.0, neutralino_mass=150.0)


def test_each_event_has_two_charginos_decaying_to_w_and_lsp(run: tuple[Any, Any]) -> None:
    _, batch = run
    prt = batch.prt
    assert len(prt) == N_EVENTS
    ids = prt.id
    is_chargino = abs(ids) == CHARGINO_ID
    # the last copy of each chargino (after recoils from initial-state radiation) is the one that decays
    first_daughter = ak.where(prt.daughter1 > 0, prt.daughter1, 0)
    daughter_is_chargino = abs(ids[first_daughter]) == CHARGINO_ID
    decaying = is_chargino & ~daughter_is_chargino
    assert ak.all(ak.sum(decaying, axis=1) == 2)
    assert ak.all(ak.sum(ids[decaying], axis=1) == 0)  # one chi+ and one chi-
    for event in range(N_EVENTS):
        event_ids = ak.to_numpy(ids[event])
        d1 = ak.to_numpy(prt.daughter1[event])
        d2 = ak.to_numpy(prt.daughter2[event])
        for index in np.flatnonzero(ak.to_numpy(decaying[event])):
            daughters = sorted(abs(event_ids[d1[index] : d2[index] + 1]).tolist())
            assert daughters == [24, NEUTRALINO_ID], (event, index, daughters)


def test_exactly_two_charged_leptons_from_w_decays(run: tuple[Any, Any]) -> None:
    _, batch = run
    prt = batch.prt
    for event in range(N_EVENTS):
        ids = ak.to_numpy(prt.id[event])
        status = ak.to_numpy(prt.status[event])
        mother = ak.to_numpy(prt.mother1[event])
        leptons = np.flatnonzero((status > 0) & np.isin(abs(ids), (11, 13)))
        from_w = 0
        for index in leptons:
            # walk up through the lepton's own copies (photon radiation) to its origin
            ancestor = index
            while abs(ids[mother[ancestor]]) == abs(ids[index]):
                ancestor = mother[ancestor]
            from_w += int(abs(ids[mother[ancestor]]) == 24)
        assert from_w == 2, event
        lsp = np.flatnonzero((status > 0) & (ids == NEUTRALINO_ID))
        assert len(lsp) == 2, event


def test_cross_section_is_positive(run: tuple[Any, Any]) -> None:
    pythia, _ = run
    info = pythia.infoPython()
    sigma_pb = info.sigmaGen() * _MB_TO_PB
    assert sigma_pb > 0.0
    # electroweak wino-like pair production at 8 TeV: far below the nb range of QCD
    assert sigma_pb < 100.0
