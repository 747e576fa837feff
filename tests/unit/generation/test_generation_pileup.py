"""Pile-up overlay, its density estimate, area-median subtraction and charged-hadron subtraction."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from neyman.generation.detector import Detector, simulate
from neyman.generation.pileup import event_density, overlay, subtract
from neyman.physics.kinematics import mass


def _particles(pt: np.ndarray, y: np.ndarray, phi: np.ndarray, charge: np.ndarray, counts: np.ndarray) -> ak.Array:
    flat = ak.zip(
        {
            "E": pt * np.cosh(y),
            "px": pt * np.cos(phi),
            "py": pt * np.sin(phi),
            "pz": pt * np.sinh(y),
            "charge": charge.astype(np.float64),
            "pdg_id": np.where(charge != 0, 211, 22).astype(np.int32),
        }
    )
    return ak.unflatten(flat, counts)


def _uniform(n: int, rng: np.random.Generator, y_max: float = 4.0) -> tuple[np.ndarray, ...]:
    return rng.exponential(0.5, n) + 0.05, rng.uniform(-y_max, y_max, n), rng.uniform(-np.pi, np.pi, n)


def test_overlay_appends_each_events_pileup_and_marks_its_vertex() -> None:
    rng = np.random.default_rng(0)
    hard = _particles(*_uniform(5, rng), np.ones(5), np.array([2, 3]))
    pileup = _particles(*_uniform(9, rng), np.zeros(9), np.array([4, 0, 5]))
    merged = overlay(hard, pileup, np.array([1, 2]))  # event 0 gets pile-up event 0, event 1 gets events 1 and 2
    assert ak.to_list(ak.num(merged, axis=1)) == [6, 8]
    assert ak.to_list(merged.vertex) == [[0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1, 1]]
    assert ak.to_list(merged.E[0][:2]) == ak.to_list(hard.E[0])


def test_event_density_estimates_a_uniform_pileup() -> None:
    """Particles of known pT density per unit area: the grid median finds it, a hard jet barely moves it."""
    rng = np.random.default_rng(1)
    n_events, per_event = 40, 4000
    pt, y, phi = _uniform(n_events * per_event, rng)
    true_rho = per_event * pt.mean() / (8.0 * 2 * np.pi)
    events = _particles(pt, y, phi, np.zeros(pt.size), np.full(n_events, per_event))
    assert np.median(event_density(events)) == pytest.approx(true_rho, rel=0.05)


def test_area_subtraction_restores_a_jets_momentum_and_mass() -> None:
    """A 500 GeV, 80 GeV-mass jet plus uniform soft particles over its disc: subtraction gives it back."""
    rng = np.random.default_rng(2)
    radius, rho, n_jets = 0.8, 25.0, 200
    restored_mass, restored_pt, raw_mass = [], [], []
    for _ in range(n_jets):
        # the jet: two prongs
        prong = np.array([[250.0, 0.25, 0.1], [250.0, -0.25, -0.1]])
        pts, ys, phis = prong[:, 0], prong[:, 1], prong[:, 2]
        n_soft = rng.poisson(rho * np.pi * radius**2 / 0.5)  # soft particles of mean pT 0.5 GeV
        r, a = radius * np.sqrt(rng.random(n_soft)), rng.uniform(0, 2 * np.pi, n_soft)
        soft_pt, soft_y, soft_phi = rng.exponential(0.5, n_soft), r * np.cos(a), r * np.sin(a)
        all_pt, all_y, all_phi = (np.concatenate(p) for p in ((pts, soft_pt), (ys, soft_y), (phis, soft_phi)))
        px, py = (all_pt * np.cos(all_phi)).sum(), (all_pt * np.sin(all_phi)).sum()
        pz, e = (all_pt * np.sinh(all_y)).sum(), (all_pt * np.cosh(all_y)).sum()
        raw_mass.append(mass(e, px, py, pz))
        spx, spy, spz, se = subtract(
            np.array([px]), np.array([py]), np.array([pz]), np.array([e]), np.array([rho]), radius
        )
        restored_mass.append(mass(se, spx, spy, spz)[0])
        restored_pt.append(np.hypot(spx, spy)[0])
    truth_e = (pts * np.cosh(ys)).sum()
    truth_mass = mass(truth_e, (pts * np.cos(phis)).sum(), (pts * np.sin(phis)).sum(), (pts * np.sinh(ys)).sum())
    assert np.median(raw_mass) > 1.15 * truth_mass  # pile-up inflates the mass
    assert np.median(restored_mass) == pytest.approx(truth_mass, rel=0.02)
    assert np.median(restored_pt) == pytest.approx(
        np.hypot(*[(pts * f(phis)).sum() for f in (np.cos, np.sin)]), rel=0.01
    )


def test_charged_hadron_subtraction_drops_pileup_tracks() -> None:
    rng = np.random.default_rng(3)
    n = 4000
    pt, y, phi = np.full(n, 5.0), rng.uniform(-2, 2, n), rng.uniform(-np.pi, np.pi, n)
    hard = _particles(pt[:2000], y[:2000], phi[:2000], np.ones(2000), np.array([2000]))
    pileup = _particles(pt[2000:], y[2000:], phi[2000:], np.ones(2000), np.array([2000]))
    merged = overlay(hard, pileup, np.array([1]))
    detector = Detector(track_efficiency=1.0)
    out = simulate(merged, detector, rng=np.random.default_rng(4))
    assert int(ak.sum(out.charge != 0)) == 2000  # only the hard vertex's tracks
    without = simulate(merged, Detector(track_efficiency=1.0, chs=False), rng=np.random.default_rng(4))
    assert int(ak.sum(without.charge != 0)) == 4000


def test_pileup_takes_the_beams_of_the_hard_process_with_user_overrides() -> None:
    """``--set pythia.Beams:eCM=13000`` must hold for the overlaid minimum-bias events too."""
    from neyman.generation.pileup import MINIMUM_BIAS_SETTINGS, minimum_bias_settings
    from neyman.generation.processes import get_process
    from neyman.generation.pythia import ChunkTask, instance_for

    hard = ("Beams:eCM = 14000.", "HardQCD:all = on", "24:onMode = off", "beams:ecm = 13000", "Tune:pp = 21")
    hard += ("PhaseSpace:pTHatMin = 500.", "MultipartonInteractions:pT0Ref = 2.5", "310:mayDecay = off")
    shared = ("Beams:eCM = 14000.", "beams:ecm = 13000", "Tune:pp = 21", "MultipartonInteractions:pT0Ref = 2.5")
    assert minimum_bias_settings(hard) == (*shared, "310:mayDecay = off", *MINIMUM_BIAS_SETTINGS)
    settings = ("Beams:eCM = 13000", "MultipartonInteractions:pT0Ref = 2.5")
    task = ChunkTask(get_process("top_vs_qcd"), 0, 0, 10, seed=1, settings=settings, pileup=5.0)
    pythia = instance_for(task, minimum_bias=True).pythia
    assert pythia.parm("Beams:eCM") == pytest.approx(13000.0)
    assert pythia.parm("MultipartonInteractions:pT0Ref") == pytest.approx(2.5)
    assert not pythia.flag("HardQCD:all")
    assert pythia.flag("SoftQCD:nonDiffractive")
