"""The inputs a configuration asks for: its events, their representation and their preprocessing."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from neyman import io
from neyman.config import RunConfig
from neyman.exceptions import ConfigError, DataError, NeymanWarning
from neyman.models.families import check_columns, get_family
from neyman.preprocessing import build_preprocessor, check_finite, check_split_classes, marker_values
from neyman.representations import (
    DEFAULT_PARTICLE_FEATURES,
    KINEMATIC_PARTICLE_FEATURES,
    ImageScaling,
    ImageSpec,
    ParticleArrays,
    ParticleScaler,
    ParticleSpec,
    RepresentationSpec,
    build_inputs,
)
from neyman.runs import InputPreprocessor, ModelInput
from neyman.table import EVENT_ID, LABEL, RESERVED, TARGET, WEIGHT
from neyman.tasks import make_task
from neyman.workflows.steps.data import (
    SOURCE,
    Events,
    check_test_disjoint,
    held_out,
    load_events,
    resolve_features,
    warn_copied_events,
)

__all__ = ["decorrelation_columns", "input_preprocessor", "read_inputs", "representation_spec"]


def representation_spec(cfg: RunConfig) -> RepresentationSpec | None:
    """The particle or image spec of ``cfg`` (``None`` for tabular inputs)."""
    data = cfg.data
    if data.representation == "particles":
        p = data.particles
        return ParticleSpec(p.n_constituents, tuple(p.features or _default_particle_features(cfg)), p.prefix)
    if data.representation == "image":
        return ImageSpec(**data.image.model_dump())
    return None


def _default_particle_features(cfg: RunConfig) -> tuple[str, ...]:
    """The default particle features, or the kinematic ones where the first input holds no particle ids."""
    path, tree = io.parse_source(cfg.data.sources[0].path)
    prefix = cfg.data.particles.prefix
    try:
        held = set(io.available_columns(path, tree=cfg.data.sources[0].tree or tree, format=cfg.data.format))
    except DataError:
        return DEFAULT_PARTICLE_FEATURES  # the file's own error comes when it is read
    ids = {prefix + "charge", prefix + "pdg_id"}
    return DEFAULT_PARTICLE_FEATURES if ids <= held else KINEMATIC_PARTICLE_FEATURES


def decorrelation_columns(cfg: RunConfig) -> list[str]:
    """The column a decorrelated run carries beside its inputs (``training.decorrelate.variable``).

    Raises
    ------
    ConfigError
        The variable is one of the reserved columns a run builds itself.
    """
    deco = cfg.training.decorrelate
    if deco is None:
        return []
    reserved = (*RESERVED, SOURCE, "score")
    if deco.variable in reserved:
        raise ConfigError(
            f"training.decorrelate.variable {deco.variable!r} is a column neyman builds itself "
            f"({', '.join(reserved)}); name a column of the input files"
        )
    return [deco.variable]


def _warn_empty_jets(x: Any, where: str) -> None:
    """Warn for jets without constituents (an image without a deposit): the model can only learn one score for them."""
    mask = x.mask if isinstance(x, ParticleArrays) else np.asarray(x).reshape(len(x), -1) != 0
    empty = int(np.count_nonzero(~mask.any(axis=1)))
    if empty:
        warnings.warn(
            f"{where}: {empty} of the {len(mask)} jets have no constituents: the model gives all of them the score "
            "of an empty set, which says nothing of the jet, and they count in every metric; select jets with "
            "constituents (data.selection, e.g. on a constituent count)",
            NeymanWarning,
            stacklevel=3,
        )


def _check_decorrelation_values(cfg: RunConfig, events: Events) -> None:
    """The decorrelation variable must be finite for every event (it enters the loss or the weights) and vary
    among the background events (label 0), which are decorrelated from it."""
    files = ", ".join(s.path for s in cfg.data.sources)
    for column in decorrelation_columns(cfg):
        values = np.asarray(events.table[column], dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{files}: training.decorrelate.variable {column!r} holds "
                f"{int(bad.sum())} missing or infinite values (the first in event {first + 1}: {values[first]}); "
                f"select the events that have it (data.selection: '{column} > ...') or fix the file"
            )
        background = values[np.asarray(events.table[LABEL]) == 0] if LABEL in events.table else values
        if len(background) and np.ptp(background) == 0:
            raise DataError(
                f"{files}: training.decorrelate.variable {column!r} holds the one value {background[0]:g} in every "
                "background event (label 0): there is nothing to decorrelate from; name the column that varies "
                "(the jet mass, say) or leave training.decorrelate out"
            )
        deco = cfg.training.decorrelate
        if deco is not None and deco.method == "adversary" and deco.resolved_bins() * 10 > len(background):
            warnings.warn(
                NeymanWarning(
                    f"training.decorrelate.bins = {deco.resolved_bins()} classes of {column!r} for "
                    f"{len(background)} background events: fewer than 10 per class (before the split), so the "
                    "adversary learns noise; "
                    f"use at most {max(2, len(background) // 10)}"
                ),
                stacklevel=3,
            )


EXACT_FLOAT64 = 2**53
"""Integers beyond this magnitude are not all representable in float64 (the inputs' type)."""

PRECISION_SAMPLE = 100_000
"""Events on which a feature's distinct values are counted in float32."""


def _warn_lost_precision(cfg: RunConfig, events: Events, matrix: np.ndarray) -> None:
    """Warn for features whose values the models' number type cannot tell apart.

    Every input is read as float64, exact for integers up to 2^53; XGBoost bins its
    inputs in float32 (24 bits), so a feature such as 2^26 + label reaches its trees as a
    constant.  A feature whose float32 values keep at most half of its distinct values
    (on up to :data:`PRECISION_SAMPLE` events) is named, with the counts; ``matrix`` holds the
    features as read (float64).
    """
    for name in events.features:
        raw = np.asarray(events.table[name])
        if np.issubdtype(raw.dtype, np.integer) and raw.size and int(np.abs(raw).max()) > EXACT_FLOAT64:
            warnings.warn(
                NeymanWarning(
                    f"feature {name!r} holds integers beyond 2^53 (up to {int(np.abs(raw).max())}), which the "
                    "models' float64 inputs cannot all tell apart; subtract an offset in the file"
                ),
                stacklevel=3,
            )
    if cfg.model.type != "xgboost":
        return
    merged = []
    for j, name in enumerate(events.features):
        column = matrix[:PRECISION_SAMPLE, j][np.isfinite(matrix[:PRECISION_SAMPLE, j])]
        wide, narrow = np.unique(column).size, np.unique(column.astype(np.float32)).size
        if wide >= 2 and narrow <= wide / 2:
            merged.append(f"{name!r} keeps {narrow} of its {wide} (from {column.min():.10g} to {column.max():.10g})")
    if merged:
        shown = "; ".join(merged[:10]) + (f"; and {len(merged) - 10} more" if len(merged) > 10 else "")
        warnings.warn(
            NeymanWarning(
                f"XGBoost reads its inputs as float32, which merges distinct values of features: {shown}; subtract "
                "an offset in the file, or train --model lightgbm or mlp (double precision)"
            ),
            stacklevel=3,
        )


def _warn_negative_weights_unbounded(cfg: RunConfig, events: Events) -> None:
    """Warn when negative weights enter a likelihood or reconstruction fit, whose loss they leave unbounded.

    With :math:`w_i < 0` the term :math:`-w_i \\ln p(x_i)` of a density falls without bound
    as :math:`p(x_i) \\to 0` (and a reconstruction error's :math:`w_i e_i` as
    :math:`e_i \\to \\infty`): where negative events cluster the model carves a hole (a
    test: ln p = -11.7 against -5.4 for 150 events of weight -1 among 3000).
    """
    task = make_task(cfg.task.type)
    if task.objective not in ("density", "reconstruction", "generation") or WEIGHT not in events.table:
        return
    w = np.asarray(events.table[WEIGHT], dtype=np.float64)
    if (negative := int(np.count_nonzero(w < 0))) == 0:
        return
    warnings.warn(
        NeymanWarning(
            f"{negative} of the {len(w)} events have negative weights: a {task.name} fit with them has no lower "
            "bound on its loss, and where they cluster the model learns a hole; give it positive weights first "
            "(neyman reweight --positive FILE --weight COLUMN)"
        ),
        stacklevel=3,
    )


def _automatic_features(cfg: RunConfig) -> list[str] | None:
    """The features chosen from the columns, less the decorrelation variable (None: the usual choice).

    The variable a tagger is decorrelated from is left out like the label: a tagger that
    reads it undoes the decorrelation.  Listed among ``data.features`` it stays (with a warning).
    """
    deco = cfg.training.decorrelate
    if cfg.data.features or deco is None or deco.method == "none":
        return None
    features = [c for c in resolve_features(cfg.data, cfg.data.sources[0]) if c != deco.variable]
    if not features:
        raise DataError(
            f"the only numeric column is training.decorrelate.variable {deco.variable!r}, which the tagger must "
            "not read: add the features to the files, or list them (data.features)"
        )
    return features


def _warn_decorrelated_feature(cfg: RunConfig, features: list[str]) -> None:
    deco = cfg.training.decorrelate
    if deco is not None and deco.method != "none" and deco.variable in features:
        warnings.warn(
            NeymanWarning(
                f"training.decorrelate.variable {deco.variable!r} is also an input feature: the tagger can read it "
                "and undo the decorrelation; remove it from data.features"
            ),
            stacklevel=3,
        )


LABEL_LIKE_AUC = 0.9995
"""A feature that alone separates a class from the rest this well is taken for one derived from the label."""


def _warn_label_like_features(x: np.ndarray, labels: np.ndarray, features: list[str], classes: list[str]) -> None:
    """Warn about features that alone tell a class from the rest: most often a leak of the label.

    A per-class weight column, event numbers assigned class by class or a truth flag make
    every figure of merit meaningless.  The area under the ROC curve of feature :math:`j`
    for class :math:`k` is the Mann-Whitney statistic
    :math:`(R_k - n_k(n_k + 1)/2) / (n_k (n - n_k))` with :math:`R_k` the sum of the class's
    mid-ranks; it is computed on at most 200,000 events spread through the sample.  A
    feature of few distinct values (a flavour code, a category) is also judged as a category:
    its values ordered by their share of class :math:`k` (:func:`_category_auc`), which
    catches a code like a parton's PDG id that tells the classes apart by value, not by order.
    """
    from scipy.stats import rankdata

    take = np.unique(np.linspace(0, len(labels) - 1, min(len(labels), 200_000)).astype(np.int64))
    y = labels[take]
    counts = np.bincount(y, minlength=len(classes))
    valid = [k for k in range(len(classes)) if 0 < counts[k] < len(y)]
    judged = valid[-1:] if len(classes) == 2 else valid  # two classes: one comparison says it
    found = []
    for j, name in enumerate(features):
        ranks = rankdata(x[take, j])
        for k in judged:
            n_k = counts[k]
            auc = (ranks[y == k].sum() - n_k * (n_k + 1) / 2) / (n_k * (len(y) - n_k))
            auc = max(auc, 1 - auc, _category_auc(x[take, j], y == k))
            if auc >= LABEL_LIKE_AUC:
                found.append(
                    f"{name!r} (class {classes[k]!r}: AUC {auc:.4f} on its own{_unit_hint(x[take, j], y == k)})"
                )
                break
    if found:
        warnings.warn(
            f"feature {', '.join(found[:5])}{f' and {len(found) - 5} more' if len(found) > 5 else ''} alone "
            f"separate{'s' if len(found) == 1 else ''} a class from the rest: a "
            "column derived from the label (a per-class weight, event numbers given class by class, a truth flag) "
            "makes every result meaningless; check it, or leave it out of the features",
            NeymanWarning,
            stacklevel=3,
        )


def _unit_hint(values: np.ndarray, is_class: np.ndarray) -> str:
    """A note when the class's typical size is 1000 times the rest's or a thousandth (MeV against GeV)."""
    inside, rest = np.median(np.abs(values[is_class])), np.median(np.abs(values[~is_class]))
    if not (inside > 0 and rest > 0):
        return ""
    ratio = float(inside / rest)
    if 500 < ratio < 2000 or 500 < 1 / ratio < 2000:  # 1000, times the classes' own difference
        return f"; its median size is {ratio:.3g} times the rest's: MeV in one file and GeV in another?"
    return ""


CATEGORY_EVENTS = 50
"""Events per distinct value a feature needs to be judged as a category (at most 64 values)."""


def _category_auc(values: np.ndarray, is_class: np.ndarray) -> float:
    r"""The AUC of a feature used as a category: its values ranked by their share of the class.

    Notes
    -----
    With :math:`s_v` and :math:`b_v` the class's and the rest's events at value :math:`v`,
    ordered by :math:`s_v / (s_v + b_v)` from the highest,
    :math:`\mathrm{AUC} = \sum_v s_v (B_{<v} + b_v / 2) / (S B)`, :math:`B_{<v}` the rest's
    events at the values ranked below :math:`v`.  0 for a feature with more than 64 values
    or fewer than :data:`CATEGORY_EVENTS` events per value, which is judged by its order alone.
    """
    if len(np.unique(values[:2000])) > 64:  # most features: many values already among the first events
        return 0.0
    held, index = np.unique(values, return_inverse=True)
    if len(held) > 64 or len(values) < CATEGORY_EVENTS * len(held):
        return 0.0
    s = np.bincount(index, weights=is_class.astype(np.float64), minlength=len(held))
    b = np.bincount(index, minlength=len(held)) - s
    order = np.argsort(-s / (s + b), kind="stable")
    s, b = s[order], b[order]
    below = b.sum() - np.cumsum(b)
    return float(np.sum(s * (below + b / 2)) / (s.sum() * b.sum()))


TARGET_LIKE_RANK_CORRELATION = 0.9999
"""A feature whose rank correlation with the regression target reaches this is taken for a copy of it."""


def _warn_target_like_features(x: np.ndarray, target: np.ndarray, features: list[str]) -> None:
    """Warn about features that are the regression target up to a monotone map (its copy, its logarithm).

    Spearman's :math:`\\rho` (:func:`scipy.stats.spearmanr`) on at most 200,000 events spread
    through the sample; :math:`|\\rho| \\geq` :data:`TARGET_LIKE_RANK_CORRELATION` names the feature.
    """
    from scipy.stats import spearmanr

    take = np.unique(np.linspace(0, len(target) - 1, min(len(target), 200_000)).astype(np.int64))
    if take.size < 10 or np.ptp(target[take]) == 0:
        return
    found = []
    for j, name in enumerate(features):
        if np.ptp(x[take, j]) > 0:
            rho = float(spearmanr(x[take, j], target[take]).statistic)
            if abs(rho) >= TARGET_LIKE_RANK_CORRELATION:
                found.append(f"{name!r} (rank correlation {rho:+.5f})")
    if found:
        warnings.warn(
            f"feature {', '.join(found[:5])} {'is' if len(found) == 1 else 'are'} the regression target up to a "
            "monotone map: a copy of the target (its truth value, its logarithm) makes the regression trivial and its "
            "resolution meaningless; check it, or leave it out of the features",
            NeymanWarning,
            stacklevel=3,
        )


def input_preprocessor(cfg: RunConfig, features: list[str]) -> InputPreprocessor:
    """The unfitted preprocessing of ``cfg``'s inputs."""
    rep = cfg.data.representation
    if rep == "particles":
        return ParticleScaler(clip=cfg.data.particles.clip)
    if rep == "image":
        return ImageScaling()
    p = cfg.preprocessing
    family = get_family(cfg.model.type)
    network = family.neural and not family.own_scaling
    return build_preprocessor(
        features,
        scaler=_scaler(cfg),
        log=list(p.log),
        clip={k: list(v) for k, v in p.clip.items()},
        standard_clip=p.standard_clip,
        residualize=network if p.residualize is None else p.residualize,
    )


def _scaler(cfg: RunConfig) -> str:
    family = get_family(cfg.model.type)
    return cfg.preprocessing.scaler or ("gaussian" if family.neural and not family.own_scaling else "none")


def _warn_markers(cfg: RunConfig, x: np.ndarray, features: list[str]) -> None:
    """Warn about stand-ins for undefined values (-999) where the model takes them at face value.

    Trees cut around such a value and the Gaussianising scaler maps it next to the
    feature's smallest (or largest) values; a linear model, a density or a network on
    linearly scaled inputs is dominated by it.
    """
    if get_family(cfg.model.type).export in ("trees", "reweight_trees") or _scaler(cfg) == "gaussian":
        return
    if found := marker_values(x, features):
        warnings.warn(
            f"{'; '.join(found[:5])}{f'; and {len(found) - 5} more' if len(found) > 5 else ''}: a stand-in for "
            f"an undefined value? {cfg.model.type} with scaler {_scaler(cfg)!r} takes it for a measured one, far "
            "from the rest; select the events without it (data.selection), use a tree model, or set "
            "preprocessing.scaler: gaussian",
            NeymanWarning,
            stacklevel=3,
        )


def _sources_of_nonfinite(cfg: RunConfig, events: Events, matrix: np.ndarray) -> str:
    """The source files holding the events with a NaN or infinite feature (every source when unknown)."""
    paths = [s.path for s in cfg.data.sources]
    if cfg.data.fill_value is not None or len(paths) == 1 or SOURCE not in events.table:
        return ", ".join(paths)  # nothing is refused, or there is one file to name
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        paths = list(dict.fromkeys(paths[int(i)] for i in np.unique(np.asarray(events.table[SOURCE])[bad])))
    return ", ".join(paths)


def read_inputs(cfg: RunConfig) -> tuple[Events, ModelInput]:
    """Read the events of ``cfg`` and their unpreprocessed model inputs, and check the split.

    Tabular runs get the feature matrix with the configured NaN/inf policy;
    constituent-based runs get particle sets or images (the table then keeps the
    per-event columns only).  A split by event number (parity, k-fold) that leaves a
    class out of a part is refused here, before a run directory exists.
    """
    spec = representation_spec(cfg)
    carry = decorrelation_columns(cfg)
    if spec is None:
        events = load_events(cfg.data, task=cfg.task.type, features=_automatic_features(cfg), carry=carry)
        _warn_decorrelated_feature(cfg, events.features)
        matrix = events.table.to_numpy(events.features, dtype=np.float64)
        x: Any = check_finite(
            matrix, events.features, fill_value=cfg.data.fill_value, source=_sources_of_nonfinite(cfg, events, matrix)
        )
        for option, names in cfg.model.named_columns().items():
            check_columns(option, names, events.features)
            if option == "condition" and set(events.features) <= set(names):
                raise ConfigError(
                    f"model.condition names every feature ({', '.join(events.features)}): a conditional density "
                    "needs at least one variable to model; add it to data.features or condition on fewer"
                )
        make_task(cfg.task.type).check_inputs(x, events.features, given=cfg.model.named_columns().get("condition", []))
        _warn_negative_weights_unbounded(cfg, events)
        _warn_lost_precision(cfg, events, matrix)
        _warn_markers(cfg, x, events.features)
        if events.classes and x.ndim == 2:
            _warn_label_like_features(x, np.asarray(events.table[LABEL]), events.features, events.classes)
        elif TARGET in events.table and x.ndim == 2:
            _warn_target_like_features(x, np.asarray(events.table[TARGET], dtype=np.float64), events.features)
    else:
        chosen = cfg.data.particles.features is None
        if isinstance(spec, ParticleSpec) and chosen and spec.features == KINEMATIC_PARTICLE_FEATURES:
            warnings.warn(
                f"{cfg.data.sources[0].path} holds no particle ids ({spec.prefix}charge, {spec.prefix}pdg_id), as "
                f"the top-tagging data set's layout: the particle features are the kinematic ones "
                f"({', '.join(spec.features)}); name them with data.particles.features to choose",
                NeymanWarning,
                stacklevel=2,
            )
        events = load_events(cfg.data, task=cfg.task.type, features=[], carry=[*spec.columns, *carry])
        x = build_inputs(events.table, spec)
        _warn_empty_jets(x, ", ".join(s.path for s in cfg.data.sources))
        events = Events(events.table.drop([c for c in spec.columns if c not in carry]), [], events.classes)
    _check_decorrelation_values(cfg, events)
    check_test_disjoint(cfg, events.table, x if spec is None else np.empty((len(events.table), 0)))
    if spec is None:
        truth = next((np.asarray(events.table[c]) for c in (LABEL, TARGET) if c in events.table), None)
        warn_copied_events(cfg, events.table, x, truth)
    eid, reads = np.asarray(events.table[EVENT_ID]), make_task(cfg.task.type).reads_labels
    classified = reads == "required"
    labels = np.asarray(events.table[LABEL]) if classified else np.zeros(len(eid), dtype=np.int64)
    split = cfg.split
    check_split_classes(
        eid,
        labels,
        events.classes if classified else [],
        method=split.method,
        kfold=split.kfold,
        fractions=(split.train, split.val, split.test),
        seed=cfg.seed,
        held_out=held_out(cfg, events.table),
    )
    if reads == "optional" and LABEL in events.table:
        labels = np.asarray(events.table[LABEL])
        if len(labels) and not (labels == 0).any():
            named = events.classes[int(labels[0])] if events.classes else str(labels[0])
            raise DataError(
                f"{', '.join(s.path for s in cfg.data.sources)}: no background event (label 0) to learn from, "
                f"every event is labelled {named!r}; task {cfg.task.type} learns the background alone and "
                "scores the labelled signal as a check: give the background a source (or label 0)"
            )
    return events, x
