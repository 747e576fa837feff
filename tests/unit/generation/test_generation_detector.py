from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from neyman.exceptions import ConfigError
from neyman.generation.detector import (
    EM_CLUSTER_PDG_ID,
    HADRONIC_CLUSTER_PDG_ID,
    PARTICLE_FIELDS,
    Detector,
    get_detector,
    hadron_response,
    simulate,
)


def _events(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, charge: np.ndarray, pdg: np.ndarray, counts: np.ndarray
) -> ak.Array:
    e = pt * np.cosh(eta)
    flat = ak.zip(
        {
            "E": e,
            "px": pt * np.cos(phi),
            "py": pt * np.sin(phi),
            "pz": pt * np.sinh(eta),
            "charge": charge.astype(np.float64),
            "pdg_id": pdg.astype(np.int32),
        }
    )
    return ak.unflatten(flat, counts)


def _photons(n_events: int, energy: float, rng: np.random.Generator) -> ak.Array:
    eta = rng.uniform(-2.0, 2.0, n_events)
    phi = rng.uniform(-np.pi, np.pi, n_events)
    return _events(energy / np.cosh(eta), eta, phi, np.zeros(n_events), np.full(n_events, 22), np.ones(n_events, int))


def test_calorimeter_conserves_energy_on_average_with_configured_width() -> None:
    detector = Detector(em_stochastic=0.5, em_constant=0.05, em_noise=0.0, dead_material=0.0)
    energy = 100.0
    out = simulate(_photons(4000, energy, np.random.default_rng(0)), detector, rng=np.random.default_rng(1))
    measured = ak.to_numpy(ak.sum(out.E, axis=1))
    expected = np.hypot(0.5 * np.sqrt(energy), 0.05 * energy)
    assert measured.mean() == pytest.approx(energy, abs=4 * expected / np.sqrt(4000))
    assert measured.std() == pytest.approx(expected, rel=0.06)
    # a photon is an electromagnetic cluster without a track: is_photon means what it says
    assert set(ak.to_numpy(ak.flatten(out.pdg_id)).tolist()) == {EM_CLUSTER_PDG_ID}


def test_tracks_are_smeared_with_configured_width_and_keep_charge() -> None:
    detector = Detector(track_resolution=0.02, track_resolution_pt=0.0, track_efficiency=1.0)
    n = 4000
    events = _events(np.full(n, 50.0), np.zeros(n), np.zeros(n), np.ones(n), np.full(n, 211), np.ones(n, int))
    out = simulate(events, detector, rng=np.random.default_rng(2))
    pt = np.hypot(ak.to_numpy(ak.flatten(out.px)), ak.to_numpy(ak.flatten(out.py)))
    assert pt.size == n
    assert pt.mean() == pytest.approx(50.0, rel=0.003)
    assert pt.std() / 50.0 == pytest.approx(0.02, rel=0.06)
    assert set(ak.to_numpy(ak.flatten(out.pdg_id)).tolist()) == {211}


def test_neutrinos_removed_and_forward_charged_go_to_calorimeter() -> None:
    pdg = np.array([12, -14, 211, 22, 211, 16])
    charge = np.array([0, 0, 1, 0, -1, 0])
    eta = np.array([0.0, 1.0, 0.5, 0.5, 3.5, 0.0])
    counts = np.array([4, 0, 2])
    events = _events(np.full(6, 20.0), eta, np.linspace(-2, 2, 6), charge, pdg, counts)
    for detector in (Detector(), None):
        out = simulate(events, detector, rng=np.random.default_rng(3))
        ids = ak.to_list(out.pdg_id)
        assert len(ids) == 3 and ids[1] == []
        assert not any(abs(i) in (12, 14, 16) for event in ids for i in event)
    out = simulate(events, Detector(track_efficiency=1.0), rng=np.random.default_rng(3))
    # event 0: one track (211) + the photon's cell; event 2: the forward pion lands in a hadronic cell
    assert ak.to_list(out.pdg_id) == [[211, EM_CLUSTER_PDG_ID], [], [HADRONIC_CLUSTER_PDG_ID]]
    assert set(ak.fields(out)) == set(PARTICLE_FIELDS)


def _mixture(n: int, rng: np.random.Generator) -> ak.Array:
    """Charged pions, kaons, protons, electrons, muons and neutral hadrons of 0.1-20 GeV."""
    species = np.array([211, -211, 321, -321, 2212, -2212, 11, -13, 130, 2112, 22])
    charges = np.array([1, -1, 1, -1, 1, -1, -1, 1, 0, 0, 0])
    pick = rng.integers(0, species.size, n)
    pt = np.exp(rng.uniform(np.log(0.1), np.log(20.0), n))
    return _events(pt, rng.uniform(-2.4, 2.4, n), rng.uniform(-np.pi, np.pi, n), charges[pick], species[pick], [n])


@pytest.mark.parametrize("name", ["cms-like", "atlas-like", "simple"])
def test_detector_objects_carry_reconstructed_types_only(name: str) -> None:
    """No pi/K/p distinction and no true neutral species: tracks are e, mu or charged hadrons."""
    out = simulate(_mixture(20_000, np.random.default_rng(4)), get_detector(name), rng=np.random.default_rng(5))
    ids = set(np.abs(ak.to_numpy(ak.flatten(out.pdg_id))).tolist())
    assert ids <= {11, 13, 211, EM_CLUSTER_PDG_ID, HADRONIC_CLUSTER_PDG_ID}
    assert {EM_CLUSTER_PDG_ID, HADRONIC_CLUSTER_PDG_ID} <= ids
    tracks = ak.to_numpy(ak.flatten(out.charge)) != 0
    pdg = np.abs(ak.to_numpy(ak.flatten(out.pdg_id)))
    assert not np.isin(pdg[tracks], (321, 2212)).any()
    assert np.isin(pdg[~tracks], (EM_CLUSTER_PDG_ID, HADRONIC_CLUSTER_PDG_ID)).all()


def test_tracking_efficiency_turns_on_above_threshold() -> None:
    detector = get_detector("cms-like")
    assert detector is not None
    n = 20_000
    for pt, expected in ((0.3, 0.0), (5.0, detector.track_efficiency)):
        events = _events(np.full(n, pt), np.zeros(n), np.zeros(n), np.ones(n), np.full(n, 211), np.ones(n, int))
        out = simulate(events, detector, rng=np.random.default_rng(6))
        found = int(np.sum(ak.to_numpy(ak.flatten(out.charge)) != 0))
        assert found / n == pytest.approx(expected, abs=0.01), pt


def test_hadrons_respond_below_one_rising_with_energy() -> None:
    """Single neutral hadrons: the mean measured energy follows Groom's R(E) (non-compensation)."""
    detector = get_detector("atlas-like")
    assert detector is not None
    means = []
    for energy in (5.0, 50.0, 500.0):
        n = 3000
        rng = np.random.default_rng(int(energy))
        eta = rng.uniform(-1.0, 1.0, n)
        events = _events(
            energy / np.cosh(eta), eta, rng.uniform(-3, 3, n), np.zeros(n), np.full(n, 130), np.ones(n, int)
        )
        measured = ak.to_numpy(ak.sum(simulate(events, detector, rng=rng).E, axis=1))
        expected = hadron_response(np.array([energy]), detector.h_over_e, detector.groom_m)[0]
        means.append(measured.mean() / energy)
        assert measured.mean() / (energy - detector.dead_material) == pytest.approx(expected, rel=0.03), energy
    assert means[0] < means[1] < means[2] < 1.0


@pytest.mark.parametrize("invisible", [1000022, 1000039, -1000012, 52])
def test_the_invisible_particles_of_new_physics_leave_no_trace(invisible: int) -> None:
    """A neutralino (susy_vs_ww) once became a hadronic cell holding ~80 % of its energy: no missing momentum."""
    pdg = np.array([211, invisible])
    events = _events(np.array([30.0, 200.0]), np.array([0.3, -0.4]), np.array([0.0, 2.0]), np.array([1, 0]), pdg, [2])
    for detector in (Detector(track_efficiency=1.0), None):
        out = simulate(events, detector, rng=np.random.default_rng(4))
        assert ak.to_list(ak.num(out, axis=1)) == [1] and ak.to_list(out.pdg_id) == [[211]]


def test_particle_level_is_unchanged_apart_from_neutrinos() -> None:
    events = _events(
        np.array([10.0, 5.0]), np.zeros(2), np.zeros(2), np.array([1, 0]), np.array([211, 12]), np.array([2])
    )
    out = simulate(events, get_detector("none"), rng=np.random.default_rng(0))
    assert ak.to_list(out.E) == [[10.0]]


def test_same_generator_seed_gives_same_output() -> None:
    events = _photons(50, 30.0, np.random.default_rng(0))
    a = simulate(events, Detector(), rng=np.random.default_rng(7))
    b = simulate(events, Detector(), rng=np.random.default_rng(7))
    assert ak.to_list(a) == ak.to_list(b)


def test_unknown_detector_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="defualt"):
        get_detector("defualt")


def test_systematic_knobs_scale_the_resolution_and_the_energy() -> None:
    nominal = Detector(em_stochastic=0.5, em_constant=0.05, em_noise=0.0, dead_material=0.0)
    photons = _photons(4000, 100.0, np.random.default_rng(0))

    def measured(detector: Detector) -> np.ndarray:
        return ak.to_numpy(ak.sum(simulate(photons, detector, rng=np.random.default_rng(1)).E, axis=1))

    base = measured(nominal)
    wider = measured(Detector(**{**nominal.as_dict(), "resolution_scale": 1.5}))
    shifted = measured(Detector(**{**nominal.as_dict(), "energy_scale": 1.02}))
    assert wider.std() / base.std() == pytest.approx(1.5, rel=0.02)  # the same random numbers, 1.5x wider
    assert wider.mean() == pytest.approx(base.mean(), rel=0.003)
    np.testing.assert_allclose(shifted, 1.02 * base, rtol=1e-12)  # a +2% jet energy scale, event by event
    with pytest.raises(ConfigError, match="energy_scale must be positive"):
        Detector(energy_scale=0.0)
