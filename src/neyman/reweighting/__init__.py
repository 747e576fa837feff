"""Per-event weights that make one sample look like another.

Modules
-------
ratio
    The likelihood-ratio trick: a classifier's score turned into a calibrated,
    clipped, normalised weight ``w = p_T / p_S``.
boosting
    A gradient-boosted reweighter (trees that move weight where the samples differ).
parametrised
    The fit of a generator parameter with a parametrised reweighter (DCTR).
positive
    Positive weights for a sample with signed ones: the regressed local mean weight.
twosample
    The classifier two-sample test of a reweighted sample against its target.
"""

from __future__ import annotations

from neyman.reweighting.boosting import BoostedReweighter, ReweightTree
from neyman.reweighting.parametrised import ParameterFit, fit_parameter_loss, fit_parameter_scan
from neyman.reweighting.positive import FloorReport, PositiveWeights, fit_positive_weights
from neyman.reweighting.ratio import ClipReport, RatioWeights, fit_ratio_weights, logit
from neyman.reweighting.twosample import two_sample_auc

__all__ = [
    "BoostedReweighter",
    "ClipReport",
    "FloorReport",
    "ParameterFit",
    "PositiveWeights",
    "RatioWeights",
    "ReweightTree",
    "fit_parameter_loss",
    "fit_parameter_scan",
    "fit_positive_weights",
    "fit_ratio_weights",
    "logit",
    "two_sample_auc",
]
