"""The BumpHunter scan (``pybumphunter``): the most significant excess over a background estimate."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np

from neyman.optional import require

__all__ = ["BumpHunterScan", "bumphunter_scan"]


@dataclass(frozen=True)
class BumpHunterScan:
    """The most significant interval of a BumpHunter scan.

    Attributes
    ----------
    lo, hi
        The interval's edges.
    local_z
        Its local significance (Poisson p-value of the excess).
    global_p, global_z
        The scan's global p-value and significance from pseudo-experiments; with none
        as extreme as the data, ``global_p`` is 0 and ``global_z`` the lower bound
        the pseudo-experiments can give.
    pseudo
        Pseudo-experiments drawn from the background estimate.
    """

    lo: float
    hi: float
    local_z: float
    global_p: float
    global_z: float
    pseudo: int


def bumphunter_scan(
    edges: np.ndarray,
    counts: np.ndarray,
    background: np.ndarray,
    *,
    max_width: int | None = None,
    pseudo: int = 200,
    seed: int = 0,
) -> BumpHunterScan:
    """Scan ``counts`` for the most significant excess over ``background`` with BumpHunter.

    Parameters
    ----------
    edges, counts
        The binned spectrum.
    background
        The expected background per bin (e.g. a sideband fit).
    max_width
        Widest interval in bins (default: a third of the bins).
    pseudo
        Pseudo-experiments for the global p-value.
    seed
        Their seed.

    Notes
    -----
    For every interval of 1 to ``max_width`` consecutive bins, the local p-value of
    an excess is :math:`P(N \\ge n \\mid b)` for Poisson :math:`N`; the test statistic is
    :math:`t = -\\ln p_\\text{min}`, and the global p-value the fraction of
    pseudo-experiments (Poisson draws of the background) with a larger :math:`t`
    (G. Choudalakis, arXiv:1101.0390; ``pybumphunter``, L. Vaslin, J. Donini).
    """
    bh = require("pyBumpHunter", purpose="run the BumpHunter scan")
    from scipy.stats import norm

    edges = np.asarray(edges, dtype=np.float64)
    max_width = max(2, min(max_width or (len(counts) // 3), len(counts) - 1))
    hunter = bh.BumpHunter1D(
        rang=(float(edges[0]), float(edges[-1])),
        bins=edges,
        width_min=1,
        width_max=max_width,
        width_step=1,
        scan_step=1,
        npe=pseudo,
        nworker=1,
        seed=seed,
        mode="excess",
    )
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(divide="ignore", invalid="ignore"):
        hunter.bump_scan(np.asarray(counts, dtype=np.float64), np.asarray(background, dtype=np.float64), is_hist=True)
    first = int(hunter.min_loc_ar[0])
    width = int(hunter.min_width_ar[0])
    local_p = float(np.clip(hunter.min_Pval_ar[0], 1e-300, 1.0))
    return BumpHunterScan(
        lo=float(edges[first]),
        hi=float(edges[min(first + width, len(edges) - 1)]),
        local_z=max(float(norm.isf(local_p)), 0.0),
        global_p=float(hunter.global_Pval),
        global_z=float(hunter.significance),
        pseudo=pseudo,
    )
