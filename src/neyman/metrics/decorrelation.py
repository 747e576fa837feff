"""How much a tagger sculpts a variable it should be independent of (the jet mass).

A cut on a tagger's score that is correlated with the jet mass turns the smooth
background mass spectrum into a peak where the signal sits, and every sideband fit
or bump hunt behind the cut fails.  The measures here follow the literature of
mass-decorrelated taggers: the background's mass distribution before and after
the cut at fixed signal efficiencies, compared by the Jensen–Shannon divergence
(plotted as 1/JSD against the background rejection), and the distance correlation
between score and mass on background events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics.classification import roc_curve
from neyman.metrics.closure import comparison_edges
from neyman.metrics.confusion import threshold_at_efficiency
from neyman.metrics.inputs import binary_sample

__all__ = [
    "FrontierPoint",
    "SculptingPoint",
    "distance_correlation",
    "jensen_shannon",
    "sculpting",
    "sculpting_frontier",
]

MAX_DCORR_EVENTS = 4000
"""Events the distance correlation is computed on (a random subset of larger samples):
its cost is quadratic, ``4000²`` pairs take ~0.5 s and ~130 MB."""


def distance_correlation(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    sample_weight: npt.ArrayLike | None = None,
    *,
    max_events: int = MAX_DCORR_EVENTS,
    seed: int = 0,
) -> float:
    """Squared distance correlation of two variables, weighted.

    Parameters
    ----------
    x, y
        Two variables of the same events, shape ``(n_events,)``.
    sample_weight
        Non-negative event weights (unit weights when None).
    max_events
        Larger samples are reduced to a random subset of this size (the statistic's
        cost is quadratic in the number of events).
    seed
        Seed of that subset.

    Returns
    -------
    float
        :math:`\\mathrm{dCorr}^2 \\in [0, 1]`; 0 (up to a finite-sample bias of order
        :math:`1/n`) exactly when the variables are independent, 1 for a linear map.

    Notes
    -----
    With normalised weights :math:`p_i = w_i / \\sum_k w_k`, pairwise distances
    :math:`a_{ij} = |x_i - x_j|` are double-centred with weighted means,

    .. math::

        A_{ij} = a_{ij} - \\bar a_{i\\cdot} - \\bar a_{\\cdot j} + \\bar a_{\\cdot\\cdot},
        \\qquad \\bar a_{i\\cdot} = \\sum_j p_j a_{ij},
        \\qquad \\bar a_{\\cdot\\cdot} = \\sum_{ij} p_i p_j a_{ij},

    likewise :math:`B_{ij}` from :math:`y`, and

    .. math::

        \\mathrm{dCov}^2(x, y) = \\sum_{ij} p_i p_j A_{ij} B_{ij},
        \\qquad
        \\mathrm{dCorr}^2 = \\frac{\\mathrm{dCov}^2(x, y)}
        {\\sqrt{\\mathrm{dCov}^2(x, x)\\, \\mathrm{dCov}^2(y, y)}}

    (Székely, Rizzo & Bakirov 2007; the weighted form of the DisCo penalty of
    Kasieczka & Shih, arXiv:2001.05310).
    """
    a = np.asarray(x, dtype=np.float64).ravel()
    b = np.asarray(y, dtype=np.float64).ravel()
    w = np.ones(len(a)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    if not len(a) == len(b) == len(w):
        raise DataError(f"distance correlation: x, y and weights differ in length ({len(a)}, {len(b)}, {len(w)})")
    if len(a) < 2:
        raise DataError("distance correlation needs at least two events")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and np.all(np.isfinite(w))):
        raise DataError("distance correlation: the values and weights must be finite")
    if np.any(w < 0):
        raise DataError("distance correlation: the weights must be non-negative")
    if len(a) > max_events:
        keep = np.random.default_rng(seed).choice(len(a), size=max_events, replace=False)
        a, b, w = a[keep], b[keep], w[keep]
    if w.sum() <= 0:
        raise DataError("distance correlation: the weights sum to zero")
    p = w / w.sum()
    centred_a, centred_b = _double_centred(a, p), _double_centred(b, p)
    cov_ab = float(p @ (centred_a * centred_b) @ p)
    var_a = float(p @ (centred_a * centred_a) @ p)
    var_b = float(p @ (centred_b * centred_b) @ p)
    if var_a <= 0 or var_b <= 0:
        return 0.0  # a constant variable is independent of everything
    return float(max(0.0, cov_ab / np.sqrt(var_a * var_b)))


def _double_centred(values: np.ndarray, p: np.ndarray) -> np.ndarray:
    dist = np.abs(values[:, None] - values[None, :])
    row = dist @ p
    centred: np.ndarray = dist - row[:, None] - row[None, :] + float(p @ row)
    return centred


def jensen_shannon(p: npt.ArrayLike, q: npt.ArrayLike) -> float:
    """Jensen–Shannon divergence of two histograms, in bits.

    Parameters
    ----------
    p, q
        Non-negative bin contents of one binning (normalised here).

    Returns
    -------
    float
        JSD in ``[0, 1]``: 0 for identical shapes, 1 for disjoint ones.

    Notes
    -----
    With :math:`m = (p + q)/2`,

    .. math:: \\mathrm{JSD}(p, q) = \\tfrac12 \\sum_b p_b \\log_2 \\frac{p_b}{m_b}
              + \\tfrac12 \\sum_b q_b \\log_2 \\frac{q_b}{m_b},

    empty bins contributing 0.
    """
    hp, hq = (np.clip(np.asarray(h, dtype=np.float64), 0.0, None) for h in (p, q))
    if hp.shape != hq.shape or hp.sum() <= 0 or hq.sum() <= 0:
        raise DataError("Jensen-Shannon divergence needs two non-empty histograms of one binning")
    hp, hq = hp / hp.sum(), hq / hq.sum()
    m = 0.5 * (hp + hq)
    total = 0.0
    for h in (hp, hq):
        nz = h > 0
        total += 0.5 * float(np.sum(h[nz] * np.log2(h[nz] / m[nz])))
    return max(0.0, total)


@dataclass(frozen=True)
class SculptingPoint:
    """The background's variable distribution at one signal efficiency.

    Attributes
    ----------
    signal_efficiency
        The working point ``ε_S`` (the cut keeps this fraction of the signal weight).
    threshold
        The score cut ``s ≥ t``.
    background_efficiency
        Fraction of the background weight that passes.
    rejection
        ``1/ε_B`` (``inf`` when no background passes).
    jsd
        Jensen–Shannon divergence (bits) between the background's normalised
        distributions of the variable before and after the cut.
    edges, before, after
        The binning and both normalised histograms (for the sculpting figure).
    """

    signal_efficiency: float
    threshold: float
    background_efficiency: float
    rejection: float
    jsd: float
    edges: np.ndarray
    before: np.ndarray
    after: np.ndarray

    @property
    def inverse_jsd(self) -> float:
        """``1/JSD`` (``inf`` for no measurable sculpting)."""
        return float("inf") if self.jsd <= 0 else 1.0 / self.jsd

    def numbers(self) -> dict[str, float]:
        """The point's numbers for ``metrics.json``."""
        return {
            "signal_efficiency": self.signal_efficiency,
            "threshold": self.threshold,
            "background_efficiency": self.background_efficiency,
            "rejection": self.rejection,
            "jsd": self.jsd,
            "inverse_jsd": self.inverse_jsd,
        }


def sculpting(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    variable: npt.ArrayLike,
    sample_weight: npt.ArrayLike | None = None,
    *,
    efficiencies: tuple[float, ...] = (0.3, 0.5, 0.7),
    bins: int = 30,
) -> list[SculptingPoint]:
    """The background's distribution of ``variable`` before and after cuts on the score.

    Parameters
    ----------
    scores
        Tagger scores (larger = more signal-like), shape ``(n_events,)``.
    labels
        1 for signal, 0 for background.
    variable
        The variable the tagger should not sculpt (the jet mass), per event.
    sample_weight
        Event weights (unit weights when None).
    efficiencies
        Signal efficiencies of the cuts (fixed on the signal, as an analysis does).
    bins
        Equal bins between the 0.5% and 99.5% quantiles of the background's
        variable (values outside fall into the outer bins).

    Returns
    -------
    list[SculptingPoint]
        One point per efficiency.

    Notes
    -----
    At each cut ``s ≥ t`` with :math:`\\varepsilon_S(t) = \\varepsilon`, the
    background histograms :math:`p` (all background) and :math:`q` (passing
    background) of the variable give :math:`\\mathrm{JSD}(p, q)`
    (:func:`jensen_shannon`).  An uncorrelated tagger has :math:`q \\approx p` and a
    small JSD, limited from below by the statistical fluctuations of :math:`q`
    (of order ``bins / N_pass``), so ``1/JSD`` saturates for very small
    ``ε_B``: compare taggers on the same events and binning.
    """
    s, y, w = binary_sample(scores, labels, sample_weight)
    m = np.asarray(variable, dtype=np.float64).ravel()
    if len(m) != len(s):
        raise DataError(f"sculpting: the variable has {len(m)} values for {len(s)} scores")
    if not np.all(np.isfinite(m)):
        raise DataError("sculpting: the variable holds missing or infinite values")
    background = ~y
    mb, wb, sb = m[background], w[background], s[background]
    if not len(mb) or wb.sum() <= 0:
        raise DataError("sculpting needs background events (label 0) with a positive total weight")
    edges = comparison_edges(mb, bins=bins)
    index = np.clip(np.searchsorted(edges, mb, side="right") - 1, 0, len(edges) - 2)
    before = np.bincount(index, weights=wb, minlength=len(edges) - 1)
    points = []
    for eff in efficiencies:
        t = threshold_at_efficiency(s, y, eff, sample_weight=w)
        passed = sb >= t
        after = np.bincount(index[passed], weights=wb[passed], minlength=len(edges) - 1)
        eps_b = float(wb[passed].sum() / wb.sum())
        jsd = jensen_shannon(before, after) if after.sum() > 0 else 1.0
        points.append(
            SculptingPoint(
                signal_efficiency=float(eff),
                threshold=float(t),
                background_efficiency=eps_b,
                rejection=float("inf") if eps_b <= 0 else 1.0 / eps_b,
                jsd=jsd,
                edges=edges,
                before=before / before.sum(),
                after=after / after.sum() if after.sum() > 0 else after,
            )
        )
    return points


@dataclass(frozen=True)
class FrontierPoint:
    """The best rejection one selection can reach at a bound on its sculpting.

    Attributes
    ----------
    jsd_cap
        The bound on the Jensen–Shannon divergence (bits) of the background's
        variable distribution after the selection against before it.
    rejection
        The largest ``1/ε_B`` at the signal efficiency within that bound.
    jsd
        The JSD the best selection reaches (at most ``jsd_cap``).
    """

    jsd_cap: float
    rejection: float
    jsd: float

    @property
    def inverse_jsd(self) -> float:
        """``1/JSD`` of the best selection (``inf`` when it leaves the distribution unchanged)."""
        return float("inf") if self.jsd <= 0 else 1.0 / self.jsd


def sculpting_frontier(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    variable: npt.ArrayLike,
    sample_weight: npt.ArrayLike | None = None,
    *,
    jsd_caps: tuple[float, ...],
    efficiency: float = 0.5,
    bins: int = 30,
) -> list[FrontierPoint]:
    """The best rejection against sculpting that cuts on the score in bins of the variable reach.

    Every bin of the variable gets its own threshold on the score; at each bound on the
    JSD, the thresholds that keep the signal efficiency with the fewest background
    events are found.  Given the scores of a tagger that also reads the variable,
    whose thresholds in a narrow bin are the Neyman–Pearson cuts of that bin, the
    curve estimates the best trade-off *any* selection can reach on these events:
    where a bar asks for more, no decorrelation method can meet it.

    Parameters
    ----------
    scores, labels, variable, sample_weight
        As for :func:`sculpting` (non-negative weights).
    jsd_caps
        Bounds on the JSD (bits) of the background's variable before and after the
        selection, e.g. a tagger's own JSD divided by 10.
    efficiency
        The signal efficiency of every selection.
    bins
        The bins of :func:`sculpting` (the JSD is measured in the same ones).

    Returns
    -------
    list[FrontierPoint]
        One point per bound.

    Raises
    ------
    DataError
        Negative weights, no signal or no background, an efficiency outside (0, 1), or
        a bound that is not a positive number.

    Notes
    -----
    With background shares :math:`q_k`, signal shares :math:`w_k` and the upper
    concave hull :math:`g_k(e)` of bin :math:`k`'s ROC (signal against background
    efficiency), a selection passing the background fraction :math:`e_k` of bin
    :math:`k` has

    .. math::

        \\varepsilon_B = \\sum_k q_k e_k, \\qquad
        \\varepsilon_S = \\sum_k w_k\\, g_k(e_k), \\qquad
        p_k = q_k e_k / \\varepsilon_B,

    :math:`p` being the passing background's distribution.  At fixed
    :math:`\\varepsilon_B`, with :math:`e_k = \\varepsilon_B p_k / q_k`, the largest
    :math:`\\varepsilon_S` over

    .. math::

        \\Big\\{ p :\\ \\textstyle\\sum_k p_k = 1,\\ 0 \\le p_k \\le q_k/\\varepsilon_B,\\
        \\mathrm{JSD}(p, q) \\le J \\Big\\}

    is a concave maximisation over a convex set (the JSD is convex in :math:`p`),
    solved by SLSQP; the smallest :math:`\\varepsilon_B` whose maximum reaches the
    efficiency is found by bisection in :math:`\\ln\\varepsilon_B`.  The bounds are
    taken tightest first, each search starting from the selection of the tighter one
    (which every looser bound admits), so the rejection never falls as the bound loosens.  The thresholds
    are fitted on the events they are judged on, so the curve is slightly
    optimistic for finite samples, as an upper estimate should be.
    """
    from scipy.optimize import minimize

    s, y, w = binary_sample(scores, labels, sample_weight)
    m = np.asarray(variable, dtype=np.float64).ravel()
    if len(m) != len(s) or not np.all(np.isfinite(m)):
        raise DataError(f"sculpting frontier: the variable needs one finite value per score ({len(m)} for {len(s)})")
    if np.any(w < 0):
        raise DataError("sculpting frontier: the weights must be non-negative (the bins' ROC curves need them)")
    if not 0.0 < efficiency < 1.0:
        raise DataError(f"sculpting frontier: the signal efficiency must lie in (0, 1), got {efficiency}")
    if not all(math.isfinite(c) and c > 0 for c in jsd_caps):
        raise DataError(f"sculpting frontier: every bound on the JSD must be a positive number, got {list(jsd_caps)}")
    if w[~y].sum() <= 0 or w[y].sum() <= 0:
        raise DataError("sculpting frontier needs signal and background events with positive weight")
    edges = comparison_edges(m[~y], bins=bins)
    n_bins = len(edges) - 1
    index = np.clip(np.searchsorted(edges, m, side="right") - 1, 0, n_bins - 1)
    q = np.bincount(index[~y], weights=w[~y], minlength=n_bins) / w[~y].sum()
    share = np.bincount(index[y], weights=w[y], minlength=n_bins) / w[y].sum()
    hulls = [_roc_hull(s[index == k], y[index == k], w[index == k]) for k in range(n_bins)]
    live = q > 0  # the signal of a bin without background passes for free
    free = float(share[~live].sum())
    q, share = q[live], share[live]
    hulls = [h for h, keep in zip(hulls, live, strict=True) if keep]

    def signal(e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values, slopes = np.empty(len(e)), np.empty(len(e))
        for k, (he, hg) in enumerate(hulls):
            x = min(max(float(e[k]), 0.0), 1.0)
            j = min(max(int(np.searchsorted(he, x, side="right")) - 1, 0), len(he) - 2)
            slopes[k] = (hg[j + 1] - hg[j]) / max(he[j + 1] - he[j], 1e-15)
            values[k] = hg[j] + slopes[k] * (x - he[j])
        return values, slopes

    def jsd(p: np.ndarray) -> float:
        return jensen_shannon(p, q) if p.sum() > 0 else 1.0

    def jsd_gradient(p: np.ndarray) -> np.ndarray:
        # d JSD / d p_k = log2(p_k / m_k) / 2 with m = (p + q) / 2
        return np.asarray(0.5 * np.log2(np.maximum(p, 1e-300) / (0.5 * (p + q))))

    def best(eps_b: float, cap: float, start: np.ndarray) -> tuple[float, np.ndarray]:
        def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
            values, slopes = signal(eps_b * p / q)
            return -float(share @ values), -share * slopes * eps_b / q

        upper = np.minimum(1.0, q / eps_b)
        fit = minimize(
            loss,
            np.minimum(start, upper),
            jac=True,
            method="SLSQP",
            bounds=list(zip(np.zeros(len(q)), upper, strict=True)),
            constraints=[
                {"type": "eq", "fun": lambda p: p.sum() - 1.0, "jac": lambda p: np.ones(len(p))},
                {"type": "ineq", "fun": lambda p: cap - jsd(p), "jac": lambda p: -jsd_gradient(p)},
            ],
            options={"maxiter": 200, "ftol": 1e-10},
        )
        p = np.clip(fit.x, 0.0, None)
        p = p / p.sum()
        reached = free - loss(p)[0] if jsd(p) <= cap * 1.01 else 0.0
        return reached, p

    found: dict[int, FrontierPoint] = {}
    high, p_best = 0.0, q.copy()  # p = q (no sculpting) at eps_B = 1 passes everything
    for i in sorted(range(len(jsd_caps)), key=lambda i: jsd_caps[i]):
        # tightest bound first: its selection is within every looser bound, so it starts the
        # looser search (a local failure of SLSQP cannot then rank a looser bound below it)
        cap, low = jsd_caps[i], np.log(1e-6)
        for _ in range(16):  # ln ε_B from ln 1e-6 to at most 0, within 2e-4
            middle = 0.5 * (low + high)
            reached, p = best(float(np.exp(middle)), float(cap), p_best)
            if reached >= efficiency:
                high, p_best = middle, p
            else:
                low = middle
        found[i] = FrontierPoint(jsd_cap=float(cap), rejection=float(np.exp(-high)), jsd=jsd(p_best))
    return [found[i] for i in range(len(jsd_caps))]


def _roc_hull(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper concave hull ``(e, g)`` of one bin's weighted ROC, from (0, 0) to (1, 1).

    A bin without signal or background has no ROC; the diagonal stands in (it is only
    ever weighted by that bin's zero signal share, or the bin is left out).
    """
    if weights[~labels].sum() > 0 and weights[labels].sum() > 0:
        roc = roc_curve(scores, labels, sample_weight=weights)
        e, g = roc.background_efficiency, roc.signal_efficiency
    else:
        e, g = np.array([0.0, 1.0]), np.array([0.0, 1.0])
    points = np.unique(np.column_stack([e, g]), axis=0)
    hull: list[tuple[float, float]] = []
    for x, v in points:
        while len(hull) >= 2:
            (x1, v1), (x2, v2) = hull[-2], hull[-1]
            if (x2 - x1) * (v - v1) - (v2 - v1) * (x - x1) < 0:
                break
            hull.pop()
        hull.append((float(x), float(v)))
    h = np.asarray(hull)
    return h[:, 0], h[:, 1]
