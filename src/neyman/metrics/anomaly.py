"""How well an anomaly score finds a signal it never saw: SIC and the Dark Machines working points.

An anomaly score is judged like a classifier's once labelled events are at hand:
the ROC curve of ``score >= t`` with the signal as the positive class.  Searches
care about the tightest cuts, so besides the AUC the field quotes the
significance improvement ``SIC = ε_S / √ε_B`` and the signal efficiency at fixed,
small background efficiencies (``ε_B = 10⁻², 10⁻³, 10⁻⁴``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neyman.metrics.classification import RocCurve, roc_curve, signal_efficiency_at
from neyman.metrics.closure import effective_sample_size

__all__ = ["BACKGROUND_EFFICIENCIES", "AnomalySummary", "anomaly_summary", "sic_curve"]

BACKGROUND_EFFICIENCIES = (1e-2, 1e-3, 1e-4)
"""The working points of the Dark Machines anomaly score comparison."""
MIN_BACKGROUND = 10.0
"""Effective background events a SIC point needs above its cut (fewer: a statistical fluctuation)."""


def sic_curve(
    roc: RocCurve, n_background: float, *, min_background: float = MIN_BACKGROUND
) -> tuple[np.ndarray, np.ndarray]:
    """The significance improvement along a ROC curve, where enough background passes.

    Parameters
    ----------
    roc
        The anomaly score's ROC curve (signal positive).
    n_background
        Effective number of background events the curve was made of
        (:func:`neyman.metrics.effective_sample_size`).
    min_background
        Points whose cut keeps fewer effective background events,
        ``ε_B · n_B < min_background``, are left out.

    Returns
    -------
    tuple of numpy.ndarray
        ``(ε_S, SIC)`` at the kept points.

    Notes
    -----
    :math:`\\mathrm{SIC} = \\varepsilon_S / \\sqrt{\\varepsilon_B}`: the factor by which
    a cut multiplies the significance :math:`S/\\sqrt B` of a counting experiment.
    Without the floor on :math:`\\varepsilon_B n_B` its maximum is reached on the last
    few background events and is noise.
    """
    eps_s, eps_b = roc.signal_efficiency, roc.background_efficiency
    keep = (eps_b * n_background >= min_background) & (eps_b > 0)
    return eps_s[keep], eps_s[keep] / np.sqrt(eps_b[keep])


@dataclass(frozen=True)
class AnomalySummary:
    """The numbers of an anomaly score on labelled events.

    Attributes
    ----------
    auc
        Area under the ROC curve (0.5: the score ignores the signal).
    max_sic
        Largest SIC with at least ``min_background`` effective background events
        above the cut (``nan`` when no cut keeps that many).
    signal_efficiency
        ``ε_B → ε_S`` at :data:`BACKGROUND_EFFICIENCIES`; ``None`` where the test
        sample holds fewer than ``1/ε_B`` effective background events.
    n_background, n_signal
        Effective numbers of background and signal events.
    """

    auc: float
    max_sic: float
    signal_efficiency: dict[float, float | None]
    n_background: float
    n_signal: float

    def as_dict(self) -> dict[str, float | None]:
        """Flat, JSON-ready numbers (``eps_s_at_1e-03`` and so on)."""
        out: dict[str, float | None] = {"auc": self.auc, "max_sic": self.max_sic}
        out.update({f"eps_s_at_{e:.0e}": v for e, v in self.signal_efficiency.items()})
        out.update({"n_background": self.n_background, "n_signal": self.n_signal})
        return out


def anomaly_summary(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    sample_weight: npt.ArrayLike | None = None,
    min_background: float = MIN_BACKGROUND,
) -> tuple[AnomalySummary, RocCurve]:
    """AUC, maximum SIC and ``ε_S`` at the Dark Machines working points of an anomaly score.

    Parameters
    ----------
    scores
        Anomaly scores, larger meaning more anomalous.
    labels
        1 for the signal (the anomaly), 0 for the background.
    sample_weight
        Event weights; unit weights when None.
    min_background
        See :func:`sic_curve`.

    Returns
    -------
    tuple
        The :class:`AnomalySummary` and the ROC curve it was read from.

    Notes
    -----
    :math:`\\varepsilon_S(\\varepsilon_B)` is read off the ROC curve by linear
    interpolation (:func:`neyman.metrics.signal_efficiency_at`).
    """
    y = np.asarray(labels).astype(np.int64)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    roc = roc_curve(scores, y, sample_weight=w)
    n_b, n_s = effective_sample_size(w[y == 0]), effective_sample_size(w[y == 1])
    _, sic = sic_curve(roc, n_b, min_background=min_background)
    efficiencies = {e: (signal_efficiency_at(roc, e) if e * n_b >= 1 else None) for e in BACKGROUND_EFFICIENCIES}
    summary = AnomalySummary(
        auc=roc.auc(),
        max_sic=float(sic.max()) if len(sic) else float("nan"),
        signal_efficiency=efficiencies,
        n_background=n_b,
        n_signal=n_s,
    )
    return summary, roc
