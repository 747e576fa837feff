"""The bump fit: the dijet function recovers a smooth spectrum, the significance finds a bump and only a bump."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from neyman.exceptions import ConfigError, DataError
from neyman.resonance import (
    Window,
    binning,
    bumphunter_scan,
    cut_and_fit,
    dijet_counts,
    fit_spectrum,
    local_significance,
    parse_window,
    regions,
    scan_windows,
    spectrum_peak,
)

SQRT_S = 13000.0
WINDOW = Window(3300.0, 3700.0)
EDGES = np.linspace(2500.0, 5500.0, 61)


def falling(n: int, rng: np.random.Generator) -> np.ndarray:
    """Masses falling as m^-5 above 2400 (a dijet-like spectrum)."""
    return 2400.0 * (1.0 - rng.uniform(size=n)) ** (-1.0 / 4.0)


def test_dijet_counts_integrate_the_density() -> None:
    p = np.array([30.0, 10.0, 5.0, 0.1])
    fine = np.linspace(2500.0, 5500.0, 30001)
    x = fine / SQRT_S
    density = np.exp(p[0] + p[1] * np.log1p(-x) - (p[2] + p[3] * np.log(x)) * np.log(x))
    assert dijet_counts(EDGES, p, SQRT_S).sum() == pytest.approx(np.trapezoid(density, fine), rel=1e-6)


def test_background_fit_has_unit_pulls_and_chi2_per_ndf_near_one() -> None:
    rng = np.random.default_rng(1)
    chi2, pulls = [], []
    for _ in range(20):
        counts = np.histogram(falling(200_000, rng), bins=EDGES)[0]
        fit = fit_spectrum(EDGES, counts, sqrt_s=SQRT_S)
        assert fit.valid
        chi2.append(fit.chi2 / fit.ndf)
        gaussian = fit.background > 50  # where a Poisson pull is Gaussian
        pulls.append(((counts - fit.background) / np.sqrt(fit.background))[gaussian])
    pulls_all = np.concatenate(pulls)
    assert np.mean(chi2) == pytest.approx(1.0, abs=0.15)
    # four fitted parameters take sqrt(ndf / bins) of the width
    assert np.std(pulls_all) == pytest.approx(np.sqrt(56 / 60), abs=0.08)
    assert abs(np.mean(pulls_all)) < 0.05


def test_injected_bump_is_found_with_its_size() -> None:
    rng = np.random.default_rng(2)
    counts = np.histogram(np.r_[falling(200_000, rng), rng.normal(3500.0, 100.0, 1500)], bins=EDGES)[0]
    sig = local_significance(EDGES, counts, WINDOW, sqrt_s=SQRT_S, toys=50, seed=1)
    assert sig.z > 5
    assert sig.alternative.signal == pytest.approx(1500, abs=3 * sig.alternative.signal_error)
    assert sig.z_toys >= 2.0  # none of 50 background-only pseudo-experiments is as extreme
    assert sig.toys_as_extreme == 0 and sig.p_toys == 1 / 50  # so p_toys is the bound, and says so
    # the same bump in a window far away is not there
    elsewhere = local_significance(EDGES, counts, Window(4500.0, 4900.0), sqrt_s=SQRT_S)
    assert elsewhere.z < 2


def test_the_fit_reaches_the_minimum_of_a_spectrum_it_can_describe_exactly() -> None:
    """The expected counts of an m^-5 background and a box signal: the true parameters are the minimum.

    A signal fitted low here (333 of 400 with iminuit's default strategy and tolerance) is a
    minimiser stopping short, which would also bias every hunt's significance low.
    """
    edges = binning(WINDOW, Window(2600.0, 4500.0))
    box = np.clip(np.minimum(edges[1:], WINDOW.hi) - np.maximum(edges[:-1], WINDOW.lo), 0.0, None) / WINDOW.width
    background = dijet_counts(edges, np.array([0.0, 0.0, 5.0, 0.0]), SQRT_S)
    for events, injected in ((31_000, 400.0), (3_000, 150.0)):
        expected = background * events / background.sum() + injected * box
        sig = local_significance(edges, expected, WINDOW, sqrt_s=SQRT_S)
        assert sig.alternative.signal == pytest.approx(injected, rel=0.002)
        assert sig.alternative.chi2 == pytest.approx(0.0, abs=1e-3)
    # and on Poisson draws the fitted signal scatters around what was injected (5 of them: ±14)
    rng = np.random.default_rng(3)
    expected = background * 31_000 / background.sum() + 400.0 * box
    fitted = [
        local_significance(edges, rng.poisson(expected), WINDOW, sqrt_s=SQRT_S).alternative.signal for _ in range(5)
    ]
    assert np.mean(fitted) == pytest.approx(400.0, abs=45)


def test_a_tight_cut_that_keeps_mostly_the_bump_still_finds_it() -> None:
    """After a 2 % cut the kept spectrum is nearly all signal: the converged dijet function must not bend into
    a peak (parameters in the thousands) and call the bump background (it did: Z = 0 for 175 events in the
    window against 45 predicted from the sidebands)."""
    edges = binning(Window(3400.0, 3800.0), Window(2600.0, 4600.0))
    counts = np.array([0, 1, 2, 1, 1, 3, 0, 2, 0, 1, 0, 6, 1, 6, 13, 18, 32, 42, 45, 26, 21, 11, 2, 2, 0, 0, 0, 1,
                       0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0], dtype=float)  # fmt: skip
    sig = local_significance(edges, counts, Window(3400.0, 3800.0), sqrt_s=SQRT_S)
    assert sig.z > 10 and 120 < sig.alternative.signal < 200
    background = sig.alternative.background
    assert np.all(np.diff(np.log(background)) < 0.01)  # no peak: it falls, or at most levels off (a soft bound)


def test_null_significance_follows_the_half_chi2_distribution() -> None:
    """Without a signal q0 ~ ½δ0 + ½χ²₁: P(Z > 1) = 0.159, P(Z > 2) = 0.023 (within the counting error)."""
    rng = np.random.default_rng(3)
    z = np.array(
        [
            local_significance(EDGES, np.histogram(falling(100_000, rng), bins=EDGES)[0], WINDOW, sqrt_s=SQRT_S).z
            for _ in range(150)
        ]
    )
    assert np.mean(z > 1) == pytest.approx(0.159, abs=0.09)
    assert np.mean(z > 3) <= 0.02


@pytest.mark.slow  # 18 s of the default run (2 workers: 589 s, near the 10-minute limit); --run-slow
def test_toys_agree_with_the_asymptotic_significance() -> None:
    rng = np.random.default_rng(4)
    counts = np.histogram(np.r_[falling(100_000, rng), rng.normal(3500.0, 100.0, 250)], bins=EDGES)[0]
    sig = local_significance(EDGES, counts, WINDOW, sqrt_s=SQRT_S, toys=300, seed=2)
    assert 1.0 < sig.z < 3.0
    assert sig.z_toys == pytest.approx(sig.z, abs=0.5)
    assert sig.toys_as_extreme == round(sig.p_toys * 300) > 0  # a measured p-value, not a bound


def test_three_parameter_fit_fixes_p3() -> None:
    rng = np.random.default_rng(5)
    counts = np.histogram(falling(50_000, rng), bins=EDGES)[0]
    fit = fit_spectrum(EDGES, counts, sqrt_s=SQRT_S, parameters=3)
    assert fit.parameters[3] == 0.0
    assert fit.ndf == len(counts) - 3


def test_sqrt_s_below_the_mass_range_is_an_error() -> None:
    with pytest.raises(DataError, match="sqrt"):
        fit_spectrum(EDGES, np.ones(len(EDGES) - 1), sqrt_s=5000.0)


def test_binning_puts_edges_on_the_window() -> None:
    edges = binning(WINDOW, Window(2512.0, 5480.0))
    assert WINDOW.lo in edges and WINDOW.hi in edges
    assert np.allclose(np.diff(edges), 50.0)
    assert edges[0] <= 2512.0 + 50 and edges[-1] >= 5480.0 - 50
    with pytest.raises(ConfigError, match="contain"):
        binning(WINDOW, Window(3400.0, 5000.0))
    # the same masses in TeV: the same bins, with no second edge a rounding error beside 3.7
    tev = binning(Window(3.3, 3.7), Window(2.6, 4.5))
    np.testing.assert_allclose(tev * 1000.0, binning(WINDOW, Window(2600.0, 4500.0)), rtol=1e-12)
    assert np.diff(tev).min() > 0.0499 and tev[0] == 2.6 and tev[-1] == 4.5


def test_cut_on_a_score_sharpens_the_bump() -> None:
    """A score that prefers the signal raises the significance; the same cut on background leaves it smooth."""
    rng = np.random.default_rng(6)
    m_b, m_s = falling(200_000, rng), rng.normal(3500.0, 100.0, 600)
    mass = np.r_[m_b, m_s]
    score = np.r_[rng.normal(0, 1, len(m_b)), rng.normal(3, 1, len(m_s))]
    keep = (mass >= EDGES[0]) & (mass < EDGES[-1])
    args = (mass[keep], score[keep], WINDOW.contains(mass[keep]), WINDOW, EDGES)
    plain = cut_and_fit(*args, efficiency=1.0, sqrt_s=SQRT_S, bumphunter=False)
    cut = cut_and_fit(*args, efficiency=0.02, sqrt_s=SQRT_S, bumphunter=True, toys=20)
    assert cut.significance.z > 2 * max(plain.significance.z, 1.0)
    assert cut.bumphunter is not None and cut.bumphunter.lo < 3600 and cut.bumphunter.hi > 3400
    assert cut.sideband.chi2 / cut.sideband.ndf < 1.6


def test_a_cut_on_tied_scores_keeps_its_share_and_stays_blind_to_the_mass() -> None:
    """Scores on a coarse grid (as boosted trees give): the tie-break keeps the share asked for, at every mass alike."""
    rng = np.random.default_rng(8)
    mass = falling(200_000, rng)
    mass = mass[(mass >= EDGES[0]) & (mass < EDGES[-1])]
    score = np.round(rng.random(len(mass)), 1)  # eleven values: a tenth of the events share the top one
    inside = WINDOW.contains(mass)
    for efficiency in (0.1, 0.02, 0.005):
        cut = cut_and_fit(mass, score, inside, WINDOW, EDGES, efficiency=efficiency, sqrt_s=SQRT_S, bumphunter=False)
        assert abs(cut.kept - efficiency) <= 1 / inside.sum()
        kept_below = cut.counts[: np.searchsorted(EDGES, WINDOW.lo)].sum()
        all_below = np.histogram(mass, bins=EDGES)[0][: np.searchsorted(EDGES, WINDOW.lo)].sum()
        # the same share of the events below the window passes (binomial, 5 sigma)
        assert abs(kept_below / all_below - efficiency) < 5 * np.sqrt(efficiency / all_below)
        # the events the cut keeps, ties included by their key, are those fitted (and drawn in the sculpting check)
        np.testing.assert_array_equal(np.histogram(mass[cut.selected], bins=EDGES)[0], cut.counts)
        assert np.count_nonzero(score > cut.threshold) < cut.selected.sum() < np.count_nonzero(score >= cut.threshold)


def test_bumphunter_finds_the_excess_where_it_is() -> None:
    rng = np.random.default_rng(7)
    counts = np.histogram(np.r_[falling(200_000, rng), rng.normal(4000.0, 80.0, 800)], bins=EDGES)[0]
    background = fit_spectrum(EDGES, counts, sqrt_s=SQRT_S, exclude=Window(3800.0, 4200.0)).background
    scan = bumphunter_scan(EDGES, counts, background, pseudo=50, seed=1)
    assert scan.lo < 4000 < scan.hi
    assert scan.local_z > 5


def test_regions_default_sidebands_and_errors() -> None:
    mass = np.linspace(2000.0, 5000.0, 3000)
    found = regions(mass, WINDOW)
    assert (found.span.lo, found.span.hi) == (2900.0, 4100.0)
    assert np.count_nonzero(found.sideband(mass)) == np.count_nonzero(
        (mass >= 2900) & (mass < 4100)
    ) - np.count_nonzero(WINDOW.contains(mass))
    with pytest.raises(DataError, match="outside"):
        regions(mass, Window(6000.0, 7000.0))
    with pytest.raises(DataError, match="fewer than"):
        regions(mass, WINDOW, Window(3290.0, 3710.0))
    with pytest.raises(ConfigError, match="enclose"):
        regions(mass, WINDOW, Window(3400.0, 4000.0))
    with pytest.raises(ConfigError, match="LO,HI"):
        parse_window("3300", "--signal-region")


def test_default_sidebands_stay_above_a_cut_or_a_turn_on_of_the_spectrum() -> None:
    """Data cut at 2500 with a signal region [2600, 3000): the default lower sideband reached 2200, the fit
    read the empty bins as the falling spectrum's, and a hunt on background alone gave Z = 46."""
    rng = np.random.default_rng(3)
    mass = falling(50_000, rng)  # falls from 2400
    found = regions(mass, Window(2500.0, 2900.0))
    assert found.span.lo == float(mass.min()) and found.span.hi == 3300.0
    with pytest.raises(DataError, match=r"\[2400, 2800\) leaves no lower sideband: the events of mass start at 24"):
        regions(mass, Window(2400.0, 2800.0))
    with pytest.raises(DataError, match=r"sidebands \[2000, 3300\) start below the lowest mass of the events"):
        regions(mass, Window(2500.0, 2900.0), Window(2000.0, 3300.0))
    # a trigger turn-on up to 2600: the lower sideband starts at the spectrum's maximum, as a scan's do
    turned = np.r_[rng.uniform(2000.0, 2600.0, 20_000), falling(200_000, rng) + 200.0]
    peak = spectrum_peak(turned, 400.0)[0]
    assert regions(turned, Window(2800.0, 3200.0)).span.lo == peak > 2400.0
    with pytest.raises(DataError, match=r"rises to its maximum at 2[56]\d\d \(a trigger turn-on\)"):
        regions(turned, Window(2300.0, 2700.0))


def test_scan_windows_slide_by_half_a_width_and_keep_their_sidebands_inside() -> None:
    mass = np.linspace(2000.0, 5000.0, 30000)
    windows = scan_windows(mass, 400.0)
    assert windows[0] == Window(2400.0, 2800.0)
    assert all(b.lo - a.lo == pytest.approx(200.0) for a, b in itertools.pairwise(windows))
    assert windows[-1].hi + 400.0 <= 5000.0


@pytest.mark.parametrize("width", [-5.0, 0.0, float("nan"), float("inf"), 1e-3])
def test_a_scan_width_that_is_not_positive_or_far_too_narrow_is_refused(width: float) -> None:
    """A negative width once slid windows downwards for ever; a tiny one would train millions."""
    mass = np.linspace(2000.0, 5000.0, 30000)
    with pytest.raises(ConfigError, match="--scan"):
        scan_windows(mass, width)


def test_spectrum_peak_is_above_a_turn_on_and_scans_start_above_it() -> None:
    rng = np.random.default_rng(8)
    # a trigger turn-on up to 2600, then a falling spectrum
    mass = np.r_[rng.uniform(2000.0, 2600.0, 20_000), falling(200_000, rng) + 200.0]
    lo, hi = spectrum_peak(mass, 400.0)
    assert 2550.0 <= lo < hi <= 2700.0 and hi - lo == pytest.approx(50.0)
    assert scan_windows(mass, 400.0)[0].lo >= lo + 400.0
    # a million-fold range with a narrow window stays at 10 000 bins
    assert spectrum_peak(np.array([0.0, 1e6, 5.0]), 1e-3) == (0.0, 100.0)


def test_a_cut_that_leaves_too_few_events_outside_the_window_says_why_it_was_not_fitted() -> None:
    rng = np.random.default_rng(9)
    mass = falling(3000, rng)
    mass = mass[(mass >= EDGES[0]) & (mass < EDGES[-1])]
    inside = WINDOW.contains(mass)
    cut = cut_and_fit(mass, rng.random(len(mass)), inside, WINDOW, EDGES, efficiency=0.005, sqrt_s=SQRT_S)
    numbers = cut.summary()
    outside = int(cut.counts.sum() - cut.observed)
    assert numbers["z_local"] is None and outside < 50
    assert numbers["not_fitted"] == f"{outside} events outside the window after the cut, fewer than the 50 a fit needs"
