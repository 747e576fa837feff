"""Per-event weights that make one sample look like another.

Modules
-------
ratio
    The likelihood-ratio trick: a classifier's score turned into a calibrated,
    clipped, normalised weight ``w = p_T / p_S``.
boosting
    A gradient-boosted reweighter (trees that move weight where the samples differ).
twosample
    The classifier two-sample test of a reweighted sample against its target.
"""

from __future__ import annotations

from neyman.reweighting.boosting import BoostedReweighter, ReweightTree
from neyman.reweighting.ratio import ClipReport, RatioWeights, fit_ratio_weights, logit
from neyman.reweighting.twosample import two_sample_auc

__all__ = [
    "BoostedReweighter",
    "ClipReport",
    "RatioWeights",
    "ReweightTree",
    "fit_ratio_weights",
    "logit",
    "two_sample_auc",
]
