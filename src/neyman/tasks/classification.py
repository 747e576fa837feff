"""Classification tasks: signal vs background, and one of k classes."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from neyman.exceptions import ConfigError, NeymanWarning
from neyman.preprocessing import TEST, TRAIN
from neyman.table import LABEL
from neyman.tasks.base import (
    EvaluationOptions,
    ImportanceMetric,
    ScoredEvents,
    Task,
    TaskEvaluation,
)

if TYPE_CHECKING:
    import torch

    from neyman.metrics import RocCurve, SculptingPoint

__all__ = [
    "BinaryEvaluation",
    "BinaryTask",
    "DiscriminantEvaluation",
    "MulticlassEvaluation",
    "MulticlassTask",
    "discriminant_scores",
]

FRACTION_SCAN = np.linspace(0.0, 1.0, 11)
"""Fractions of the first background class scanned in the discriminant."""

SIGNAL_EFFICIENCIES = (0.3, 0.5)
"""ε_S at which the background rejection 1/ε_B is reported."""
BACKGROUND_EFFICIENCIES = (0.01, 0.1, 0.3)
"""ε_B at which the signal efficiency is reported."""


@dataclass(frozen=True)
class ClassifierOutput:
    """Scores, labels and weights of one split of a binary classifier."""

    scores: np.ndarray
    labels: np.ndarray
    weights: np.ndarray


@dataclass(frozen=True)
class BinaryEvaluation(TaskEvaluation):
    """A binary classifier's evaluation and the data of its figures.

    Attributes
    ----------
    roc
        ROC curve of the test events.
    test, train
        The classifier output on test and (when there are any) training events.
    classes
        Class names (background, signal).
    confusion
        Weighted confusion matrix at the working point.
    reliability
        ``(mean predicted, observed)`` signal fraction per score bin.
    reliability_balanced
        The reliability curve weighs the classes equally, as the classifier was trained
        (``task.balance_classes``): its score is calibrated for that mix, not the sample's.
    likelihood_ratio
        ``(bin centres, mean estimate)`` of the likelihood-ratio check, when the
        true ratio is known.
    significance
        ``(cuts, {definition: curve})`` of the significance scan, when yields were given.
    sculpting
        ``(variable, points)``: the background's distribution of the variable
        before and after cuts at ε_S = 0.3, 0.5, 0.7, when it was asked for.
    uncertainty_profile
        ``(score bin centres, {column: mean})`` of the model's uncertainty
        (``score_std``, ``logit_std``) against the score, for a model that has one.
    """

    roc: RocCurve | None = None
    test: ClassifierOutput | None = None
    train: ClassifierOutput | None = None
    classes: tuple[str, ...] = ()
    confusion: np.ndarray | None = None
    reliability: tuple[np.ndarray, np.ndarray] | None = None
    reliability_balanced: bool = False
    likelihood_ratio: tuple[np.ndarray, np.ndarray] | None = None
    significance: tuple[np.ndarray, dict[str, np.ndarray]] | None = None
    sculpting: tuple[str, list[SculptingPoint]] | None = None
    uncertainty_profile: tuple[np.ndarray, dict[str, np.ndarray]] | None = None


@dataclass(frozen=True)
class DiscriminantEvaluation:
    """The multi-class discriminant ``D = ln p_S / Σ_j f_j p_j`` of one signal class.

    Attributes
    ----------
    signal
        The signal class.
    rocs
        ROC curve of ``D``: signal against the whole background mixture of the test
        events, and against each background class alone.
    scan
        ``(f, AUC)``: the fraction ``f`` of the first background class in ``D`` (the
        others share ``1 - f`` in their configured proportions) against the AUC of
        signal versus all background events.
    """

    signal: str
    rocs: dict[str, RocCurve]
    scan: tuple[np.ndarray, np.ndarray] | None


@dataclass(frozen=True)
class MulticlassEvaluation(TaskEvaluation):
    """A multi-class classifier's evaluation: one-vs-rest ROC curves, the confusion matrix and,
    when asked for, the discriminant of one class against a mixture of the others."""

    rocs: dict[str, RocCurve] | None = None
    confusion: np.ndarray | None = None
    classes: tuple[str, ...] = ()
    discriminant: DiscriminantEvaluation | None = None


@dataclass(frozen=True)
class BinaryTask(Task):
    """Signal vs background with the weighted binary cross-entropy.

    Notes
    -----
    The network outputs a logit ``a(x)``; the score is ``s = 1 / (1 + e^{-a})`` and
    the loss per event is

    .. math:: \\ell = -[y \\log s + (1 - y) \\log(1 - s)].

    Minimising it makes ``s(x) / (1 - s(x))`` an estimate of the likelihood ratio
    ``p_S(x) / p_B(x)`` times the ratio of class priors, so ``a(x)`` is the log
    likelihood ratio up to a constant.
    """

    name: ClassVar[str] = "binary"
    is_classification: ClassVar[bool] = True
    reads_labels: ClassVar[str] = "required"
    truth_column: ClassVar[str] = LABEL
    target_dtype: ClassVar[type[np.generic]] = np.int64
    output_head: ClassVar[str] = "sigmoid"
    fixed_classes: ClassVar[tuple[str, ...]] = ("background", "signal")
    summary: ClassVar[str] = "separates signal from background"
    ranking_metric: ClassVar[tuple[str, bool]] = ("auc", True)
    evaluation_options: ClassVar[frozenset[str]] = frozenset({"working_point", "yields", "sigma_b"})
    importance_change: ClassVar[str] = "the drop of the weighted AUC"

    @property
    def n_outputs(self) -> int:
        return 1

    @property
    def n_classes(self) -> int:
        return 2

    def score_names(self, classes: Sequence[str] = ()) -> list[str]:
        return ["score"]

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        per_event = F.binary_cross_entropy_with_logits(outputs[:, 0], targets.to(outputs.dtype), reduction="none")
        return (weights * per_event).mean()

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        logits = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)[:, 0]
        # 1/(1 + e^{-z}) as e^{-log(1 + e^{-z})}: no overflow warning for logits below -709
        return np.asarray(np.exp(-np.logaddexp(0.0, -logits)))

    def uncertainty_names(self, classes: Sequence[str] = ()) -> list[str]:
        """``score_std`` (spread of the probability) and ``logit_std`` (spread of the logit)."""
        return ["score_std", "logit_std"]

    def uncertainty(self, draws: np.ndarray) -> np.ndarray:
        """The spread over draws of the score and of the logit.

        Notes
        -----
        ``score_std`` :math:`= \\mathrm{std}_t\\, \\sigma(a_t(x))` is what a cut on the
        score feels; it shrinks where the score saturates at 0 or 1, also far from
        the training data.  ``logit_std`` :math:`= \\mathrm{std}_t\\, a_t(x)` does not
        saturate and grows away from the training data (measured: 4-6 times on
        inputs scaled ×4 out of the training support).
        """
        logits = np.stack([np.asarray(d, dtype=np.float64).reshape(d.shape[0], -1)[:, 0] for d in draws])
        return np.stack([(1.0 / (1.0 + np.exp(-logits))).std(axis=0), logits.std(axis=0)], axis=1)

    def _headline(
        self, scores: np.ndarray, truth: np.ndarray, weights: np.ndarray, classes: Sequence[str]
    ) -> dict[str, float]:
        """Weighted cross-entropy ``loss``, ``accuracy``, ``auc`` and 1/ε_B at ε_S = 0.3, 0.5.

        Where no background event passes, 1/ε_B is its lower bound and
        ``rejection_at_eff_<ε_S>_is_bound`` is 1 (:func:`neyman.metrics.bounded_rejection`).
        """
        from neyman import metrics

        out = {
            "loss": metrics.binary_cross_entropy(scores, truth, sample_weight=weights),
            "accuracy": metrics.accuracy(scores, truth, sample_weight=weights),
        }
        if len(np.unique(truth)) == 2:
            roc = metrics.roc_curve(scores, truth, sample_weight=weights)
            out["auc"] = metrics.roc_auc(scores, truth, sample_weight=weights)
            for eff in SIGNAL_EFFICIENCIES:
                key = f"rejection_at_eff_{eff}"
                out[key], is_bound = metrics.bounded_rejection(roc, eff)
                if is_bound:  # no background event passes: the value is a lower bound
                    out[f"{key}_is_bound"] = 1.0
        return {k: float(v) for k, v in out.items()}

    def overtraining(self, events: ScoredEvents) -> dict[str, float]:
        """Training and test AUC and their difference (with both classes in both splits).

        Notes
        -----
        ``Δ = AUC_train − AUC_test``; a large positive Δ flags a model that learned
        fluctuations of its training sample.  The full check is the
        Kolmogorov–Smirnov test of :meth:`evaluate`.
        """
        from neyman import metrics

        if not (events.split == TEST).any():
            return {}
        out: dict[str, float] = {}
        for name, code in (("train", TRAIN), ("test", TEST)):
            sc, y, w = events.part(code)
            if len(sc) and len(np.unique(y)) == 2:
                out[f"auc_{name}"] = metrics.roc_auc(sc, y, sample_weight=w)
        if len(out) == 2:
            out["auc_train_minus_test"] = out["auc_train"] - out["auc_test"]
        return out

    def fold_numbers(
        self, scores: np.ndarray, truth: np.ndarray, weights: np.ndarray, working_point: float
    ) -> dict[str, float]:
        """The numbers of one fold: AUC, the efficiency table, separation, accuracy and Brier score."""
        from neyman import metrics

        roc = metrics.roc_curve(scores, truth, sample_weight=weights)
        out = {"auc": metrics.roc_auc(scores, truth, sample_weight=weights)}
        out.update(
            metrics.efficiency_table(
                roc, signal_efficiencies=SIGNAL_EFFICIENCIES, background_efficiencies=BACKGROUND_EFFICIENCIES
            )
        )
        out["separation"] = metrics.separation(scores, truth, sample_weight=weights)
        out["accuracy"] = metrics.accuracy(scores, truth, threshold=working_point, sample_weight=weights)
        out["brier"] = metrics.brier_score(scores, truth, sample_weight=weights)
        return out

    def evaluate(self, events: ScoredEvents, options: EvaluationOptions) -> BinaryEvaluation:
        """TMVA's numbers on the test events, with k-fold spreads and optional checks.

        Notes
        -----
        The AUC carries a bootstrap uncertainty; the efficiency table gives 1/ε_B at
        ε_S = 0.3, 0.5 and ε_S at ε_B = 1%, 10%, 30%; the separation is
        ``<S²> = ½ ∫ (ŷ_S - ŷ_B)² / (ŷ_S + ŷ_B)``; the overtraining check is a
        weighted Kolmogorov–Smirnov test of training against test scores per class.
        With a known likelihood ratio the classifier's ``f/(1-f)`` is compared with
        it (the prior ratio is 1 for balanced training, ``Σw_S / Σw_B`` otherwise).
        """
        from neyman import metrics

        sc, y, w = events.part(TEST)
        train = ClassifierOutput(*events.part(TRAIN))
        auc, auc_err = metrics.auc_with_uncertainty(
            sc, y, sample_weight=w, n_bootstrap=options.n_bootstrap, seed=options.seed
        )
        roc = metrics.roc_curve(sc, y, sample_weight=w)
        numbers = self.fold_numbers(sc, y, w, options.working_point)
        out: dict[str, Any] = {"auc": auc, "auc_uncertainty": auc_err}
        out.update({k: v for k, v in numbers.items() if k != "auc"})
        cm = metrics.confusion_matrix(sc, y, threshold=options.working_point, sample_weight=w)
        out["confusion"] = confusion_numbers(cm)
        folds = [f for f in np.unique(events.fold) if f >= 0]
        if folds:
            # k-fold: every number per fold, then mean ± std across folds (the values above use all
            # out-of-fold scores together)
            per = [
                self.fold_numbers(
                    events.scores[events.fold == f],
                    events.truth[events.fold == f],
                    events.weight[events.fold == f],
                    options.working_point,
                )
                for f in folds
            ]
            out["folds"] = metrics.fold_summary(per)
        if len(train.scores):
            out["overtraining"] = metrics.overtraining_check(
                train.scores, train.labels, sc, y, train_weight=train.weights, test_weight=w
            )
        balanced = options.balanced and np.sum(w[y == 1]) > 0 and np.sum(w[y == 0]) > 0
        # a classifier trained at equal class weights is calibrated for that mix: judged at the sample's
        # (1 signal in 10), a calibrated score looked over-confident in every bin
        shares = np.where(y == 1, 1 / np.sum(w[y == 1]), 1 / np.sum(w[y == 0])) if balanced else 1.0
        mean_pred, observed, _ = metrics.reliability_curve(sc, y, sample_weight=w * shares)
        lr = None
        if options.true_log_ratio is not None and len(options.true_log_ratio) == len(events.truth):
            prior = 1.0 if options.balanced else float(np.sum(w[y == 1]) / np.sum(w[y == 0]))
            check = metrics.likelihood_ratio_check(
                sc, options.true_log_ratio[events.split == TEST], prior_ratio=prior, sample_weight=w
            )
            out["likelihood_ratio_correlation"] = float(check.correlation)
            lr = (check.bin_centres, check.mean_estimate)
        significance = None
        if options.yields is not None:
            scan = metrics.significance_scan(
                sc,
                y,
                signal_yield=options.yields[0],
                background_yield=options.yields[1],
                sample_weight=w,
                sigma_b=options.sigma_b,
            )
            out["significance"] = {n: {k: float(v) for k, v in vars(wp).items()} for n, wp in scan.best.items()}
            curves = {"S/√B": scan.simple, "S/√(S+B)": scan.s_over_sqrt_s_plus_b, "Asimov Z_A": scan.asimov}
            significance = (scan.cuts, curves)
        sculpted = None
        if options.sculpted is not None:
            name, values = options.sculpted
            points = metrics.sculpting(sc, y, values[events.split == TEST], w)
            bkg = (y == 0) & (w > 0)
            out["sculpting"] = {
                "variable": name,
                "points": [p.numbers() for p in points],
                "distance_correlation": metrics.distance_correlation(
                    sc[bkg], values[events.split == TEST][bkg], w[bkg]
                ),
            }
            sculpted = (name, points)
        _flag_out_of_range(out)
        profile = None
        if options.model_uncertainty is not None and len(sc):
            spread = np.asarray(options.model_uncertainty, dtype=np.float64).reshape(len(sc), -1)
            names = self.uncertainty_names()
            curves = {n: metrics.binned_mean(sc, spread[:, j])[1] for j, n in enumerate(names)}
            centres = metrics.binned_mean(sc, spread[:, 0])[0]
            out["model_uncertainty"] = {
                **{f"mean_{n}": float(np.mean(spread[:, j])) for j, n in enumerate(names)},
                "profile": {"score": centres.tolist(), **{n: c.tolist() for n, c in curves.items()}},
            }
            profile = (centres, curves)
        return BinaryEvaluation(
            numbers=out,
            sculpting=sculpted,
            uncertainty_profile=profile,
            roc=roc,
            test=ClassifierOutput(sc, y, w),
            train=train if len(train.scores) else None,
            classes=tuple(options.classes),
            confusion=np.asarray(cm.matrix),
            reliability=(mean_pred, observed),
            reliability_balanced=bool(balanced),
            likelihood_ratio=lr,
            significance=significance,
        )

    def core_evaluation(self, events: ScoredEvents, options: EvaluationOptions) -> BinaryEvaluation:
        """The test ROC curve (when both classes are present) and the test and training outputs."""
        from neyman import metrics

        sc, y, w = events.part(TEST)
        train = ClassifierOutput(*events.part(TRAIN))
        roc = metrics.roc_curve(sc, y, sample_weight=w) if len(np.unique(y)) == 2 else None
        return BinaryEvaluation(
            roc=roc,
            test=ClassifierOutput(sc, y, w) if len(sc) else None,
            train=train if len(train.scores) else None,
            classes=tuple(options.classes),
        )

    def importance_metric(self) -> ImportanceMetric:
        """The weighted AUC."""
        from neyman import metrics

        return lambda s, y, w: metrics.roc_auc(s, y, sample_weight=w)


PROBABILITIES = ("auc", "accuracy", "brier", "separation")
"""Numbers of the test events that lie in [0, 1] for any positive weights (with the confusion's rates)."""


def _flag_out_of_range(out: dict[str, Any]) -> None:
    """Name, in ``out["out_of_range"]`` and a warning, the numbers that negative weights put outside [0, 1].

    Notes
    -----
    With negative weights an efficiency :math:`\\sum_{s > c} w / \\sum w` is no probability:
    it can fall below 0 or rise above 1, and with it every number built from the ROC curve.
    The effective-sample-size warning of the data fires only when most weight cancels; a
    quarter of the events at :math:`w = -1` in the signal-like tail gave an AUC of 1.10.
    """
    rates = {f"confusion.{k}": out["confusion"][k] for k in ("sensitivity", "specificity", "purity")}
    found = {k: float(v) for k, v in {**{k: out.get(k) for k in PROBABILITIES}, **rates}.items() if v is not None}
    off = {k: v for k, v in found.items() if np.isfinite(v) and not 0.0 <= v <= 1.0}
    if not off:
        return
    out["out_of_range"] = sorted(off)
    warnings.warn(
        f"negative weights of the test events put {', '.join(f'{k} = {v:.4g}' for k, v in off.items())} outside "
        "[0, 1]: with them an efficiency is no probability, and neither these numbers nor the efficiencies and "
        "rejections read from the ROC curve mean what they say; judge the model on positive weights "
        "(neyman reweight --positive) or on events without negative weights",
        NeymanWarning,
        stacklevel=3,
    )


def confusion_numbers(cm: Any) -> dict[str, Any]:
    """A binary confusion matrix as ``metrics.json`` stores it."""
    return {
        "threshold": float(cm.threshold),
        "matrix": np.asarray(cm.matrix).tolist(),
        "counts": np.asarray(cm.counts).tolist(),
        "sensitivity": float(cm.sensitivity),
        "specificity": float(cm.specificity),
        "purity": float(cm.purity),
    }


@dataclass(frozen=True)
class MulticlassTask(Task):
    """One of ``k`` classes with the weighted softmax cross-entropy.

    Notes
    -----
    ``p_k(x) = softmax(a(x))_k`` and ``l = -log p_y(x)``.  Scores are the class
    probabilities; a two-class discriminant such as the X→bb̄ tagger's
    ``log(p_A / (f p_B + (1-f) p_C))`` is built from them
    (:func:`neyman.metrics.multiclass_discriminant`).
    """

    k: int = 3
    name: ClassVar[str] = "multiclass"
    is_classification: ClassVar[bool] = True
    reads_labels: ClassVar[str] = "required"
    truth_column: ClassVar[str] = LABEL
    target_dtype: ClassVar[type[np.generic]] = np.int64
    output_head: ClassVar[str] = "softmax"
    summary: ClassVar[str] = "assigns one of k classes"
    ranking_metric: ClassVar[tuple[str, bool]] = ("auc", True)
    evaluation_options: ClassVar[frozenset[str]] = frozenset({"discriminant"})
    importance_change: ClassVar[str] = "the drop of the weighted accuracy of the predicted class"

    def __post_init__(self) -> None:
        if self.k < 2:
            raise ConfigError(f"a multiclass task needs at least 2 classes, got {self.k}")

    @property
    def n_outputs(self) -> int:
        return self.k

    @property
    def n_classes(self) -> int:
        return self.k

    def score_names(self, classes: Sequence[str] = ()) -> list[str]:
        if classes:
            return [f"score_{c}" for c in classes]
        return [f"score_{k}" for k in range(self.k)]

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        per_event = F.cross_entropy(outputs, targets.long(), reduction="none")
        return (weights * per_event).mean()

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        a = np.asarray(outputs, dtype=np.float64)
        a = a - a.max(axis=1, keepdims=True)
        e = np.exp(a)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def _headline(
        self, scores: np.ndarray, truth: np.ndarray, weights: np.ndarray, classes: Sequence[str]
    ) -> dict[str, float]:
        """Cross-entropy ``loss``, ``accuracy``, one-vs-rest AUC per class and their mean ``auc``."""
        from neyman import metrics

        out = {
            "loss": metrics.multiclass_cross_entropy(scores, truth, sample_weight=weights),
            "accuracy": metrics.multiclass_accuracy(scores, truth, sample_weight=weights),
        }
        aucs = []
        for k, name in enumerate(classes):
            is_k = (truth == k).astype(np.int64)
            if 0 < is_k.sum() < len(is_k):
                auc = metrics.roc_auc(scores[:, k], is_k, sample_weight=weights)
                out[f"auc_{name}_vs_rest"] = auc
                aucs.append(auc)
        if aucs:
            out["auc"] = float(np.mean(aucs))
        return {k: float(v) for k, v in out.items()}

    def evaluate(self, events: ScoredEvents, options: EvaluationOptions) -> MulticlassEvaluation:
        """Accuracy, the confusion matrix and each class's one-vs-rest AUC with its uncertainty."""
        from neyman import metrics

        p, y, w = events.part(TEST)
        classes = options.classes
        out: dict[str, Any] = {"accuracy": metrics.multiclass_accuracy(p, y, sample_weight=w)}
        cm = metrics.multiclass_confusion(p, y, n_classes=len(classes), sample_weight=w)
        out["confusion"] = np.asarray(cm.matrix).tolist()
        rocs = {}
        for k, name in enumerate(classes):
            is_k = (y == k).astype(np.int64)
            auc, err = metrics.auc_with_uncertainty(
                p[:, k], is_k, sample_weight=w, n_bootstrap=options.n_bootstrap, seed=options.seed
            )
            out[f"auc_{name}_vs_rest"] = auc
            out[f"auc_{name}_vs_rest_uncertainty"] = err
            rocs[f"{name} vs rest"] = metrics.roc_curve(p[:, k], is_k, sample_weight=w)
        disc = None
        if options.discriminant is not None:
            disc = discriminant_evaluation(p, y, w, classes, *options.discriminant)
            out["discriminant"] = discriminant_numbers(disc)
        return MulticlassEvaluation(
            numbers=out, rocs=rocs, confusion=np.asarray(cm.matrix), classes=tuple(classes), discriminant=disc
        )

    def importance_metric(self) -> ImportanceMetric:
        """The weighted accuracy of the predicted class."""
        return lambda s, y, w: float(np.average(s == y, weights=w))

    def importance_scores(self, scores: np.ndarray) -> np.ndarray:
        """The predicted class (the most probable one)."""
        return np.asarray(np.argmax(scores, axis=1), dtype=np.float64)


def _mixture(
    classes: Sequence[str], signal: str, backgrounds: Mapping[str, float], first_fraction: float | None = None
) -> dict[int, float]:
    """Class index → fraction; with ``first_fraction`` the first background gets it and the
    others share the rest in their given proportions."""
    if signal not in classes or not set(backgrounds) <= set(classes) or signal in backgrounds:
        raise ConfigError(
            f"the discriminant's classes ({signal!r} against {sorted(backgrounds)}) must be distinct classes "
            f"of the run: {list(classes)}"
        )
    names = list(backgrounds)
    fractions = dict(backgrounds)
    if first_fraction is not None and len(names) > 1:
        rest = sum(fractions[n] for n in names[1:])
        share = [(fractions[n] / rest) if rest > 0 else 1 / (len(names) - 1) for n in names[1:]]
        fractions = {
            names[0]: first_fraction,
            **{n: (1 - first_fraction) * s for n, s in zip(names[1:], share, strict=True)},
        }
    return {classes.index(n): f for n, f in fractions.items()}


def discriminant_scores(
    p: np.ndarray,
    classes: Sequence[str],
    signal: str,
    backgrounds: Mapping[str, float],
    first_fraction: float | None = None,
) -> np.ndarray:
    """``D = ln p_S / Σ_j f_j p_j`` of class probabilities ``p``, with the classes named.

    Raises
    ------
    ConfigError
        A class that the run does not have, or the signal among the backgrounds.
    DataError
        Fractions that are negative or do not sum to one
        (:func:`neyman.metrics.multiclass_discriminant`).
    """
    from neyman import metrics

    mixture = _mixture(classes, signal, backgrounds, first_fraction)
    return metrics.multiclass_discriminant(p, signal=list(classes).index(signal), backgrounds=mixture)


def discriminant_evaluation(
    p: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    classes: Sequence[str],
    signal: str,
    backgrounds: Mapping[str, float],
) -> DiscriminantEvaluation:
    """ROC curves of ``D = ln p_S / Σ f_j p_j`` and the scan of the first background's fraction.

    Notes
    -----
    With true class posteriors ``D`` is monotonic in the likelihood ratio of the
    signal to the background mixture ``Σ f_j p(x | j)``, so it is optimal for that
    mixture; the scan shows how much the choice of ``f`` matters for the actual
    background composition of the test events.
    """
    from neyman import metrics

    s = classes.index(signal)
    d = discriminant_scores(p, classes, signal, backgrounds)
    in_mix = np.isin(y, [s, *(classes.index(b) for b in backgrounds)])
    rocs = {"all backgrounds": metrics.roc_curve(d[in_mix], (y[in_mix] == s).astype(np.int64), sample_weight=w[in_mix])}
    for name in backgrounds:
        sel = (y == s) | (y == classes.index(name))
        rocs[f"vs {name}"] = metrics.roc_curve(d[sel], (y[sel] == s).astype(np.int64), sample_weight=w[sel])
    scan = None
    if len(backgrounds) > 1:
        aucs = []
        for f in FRACTION_SCAN:
            df = discriminant_scores(p, classes, signal, backgrounds, f)
            aucs.append(metrics.roc_auc(df[in_mix], (y[in_mix] == s).astype(np.int64), sample_weight=w[in_mix]))
        scan = (FRACTION_SCAN.copy(), np.asarray(aucs))
    return DiscriminantEvaluation(signal=signal, rocs=rocs, scan=scan)


def discriminant_numbers(disc: DiscriminantEvaluation) -> dict[str, Any]:
    """AUC and the efficiency table of each discriminant ROC, and the fraction scan, for ``metrics.json``."""
    from neyman import metrics

    out: dict[str, Any] = {"signal": disc.signal}
    for label, roc in disc.rocs.items():
        out[label] = {"auc": roc.auc(), **metrics.efficiency_table(roc)}
    if disc.scan is not None:
        out["fraction_scan"] = {"fraction": disc.scan[0].tolist(), "auc": disc.scan[1].tolist()}
    return out
