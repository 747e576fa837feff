from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from neyman.physics import delta_phi, delta_r, eta, mass, phi, pt


def test_pt_eta_phi_of_known_vector() -> None:
    px, py, pz = np.array([3.0]), np.array([4.0]), np.array([0.0])
    assert pt(px, py)[0] == pytest.approx(5.0)
    assert eta(px, py, pz)[0] == pytest.approx(0.0)
    assert phi(px, py)[0] == pytest.approx(np.arctan2(4.0, 3.0))
    # eta = arsinh(pz / pt)
    assert eta(np.array([1.0]), np.array([0.0]), np.array([np.sinh(1.3)]))[0] == pytest.approx(1.3)


def test_eta_along_beam_is_finite() -> None:
    value = eta(np.array([0.0]), np.array([0.0]), np.array([-5.0]))
    assert np.isfinite(value).all() and value[0] < -100


def test_mass_of_two_massless_particles_by_hand() -> None:
    # two massless 100 GeV particles at 90 degrees opening: m^2 = 2 E1 E2 (1 - cos theta)
    e = np.array([100.0, 100.0])
    px, py, pz = np.array([100.0, 0.0]), np.array([0.0, 100.0]), np.zeros(2)
    total = mass(e.sum(), px.sum(), py.sum(), pz.sum())
    assert total == pytest.approx(np.sqrt(2 * 100 * 100 * (1 - 0.0)))
    # almost back-to-back (theta = 170 degrees)
    theta = np.radians(170.0)
    m = mass(50.0 + 80.0, 50.0 + 80.0 * np.cos(theta), 80.0 * np.sin(theta), 0.0)
    assert m == pytest.approx(np.sqrt(2 * 50 * 80 * (1 - np.cos(theta))))


def test_mass_clips_negative_square() -> None:
    assert mass(np.array([1.0]), np.array([1.0 + 1e-12]), np.array([0.0]), np.array([0.0]))[0] == 0.0


def test_delta_phi_wraps_and_delta_r() -> None:
    assert delta_phi(np.pi - 0.1, -np.pi + 0.1) == pytest.approx(-0.2)
    assert delta_phi(-np.pi + 0.1, np.pi - 0.1) == pytest.approx(0.2)
    assert delta_r(0.3, np.pi - 0.1, -0.1, -np.pi + 0.1) == pytest.approx(np.hypot(0.4, 0.2))


def test_functions_work_on_jagged_awkward_arrays() -> None:
    px = ak.Array([[3.0, 1.0], [], [0.0]])
    py = ak.Array([[4.0, 0.0], [], [2.0]])
    result = pt(px, py)
    assert isinstance(result, ak.Array)
    assert ak.to_list(result) == [[5.0, 1.0], [], [2.0]]
    assert ak.to_list(ak.num(eta(px, py, px), axis=1)) == [2, 0, 1]
