"""``neyman reweight --parameter NAME=V1,V2,...``: a reweighter parametrised by a generator parameter (DCTR).

One classifier ``f(x, θ)`` learns every ratio ``p(x|θ)/p(x|θ_0)`` at once
(arXiv:1907.08209).  Generated samples exist at a few values ``θ_j`` only; a network
shown only those values is free to jump between them, and a fit of ``θ`` then finds
the jumps.  So ``θ`` is made continuous: each event of the sample made at ``θ_j``
gets a value from the tent around ``θ_j`` (zero at the neighbouring values), which
makes the class-1 events at any ``θ`` the linear interpolation of the two nearest
samples' densities; the nominal sample (``θ_0``, class 0) gets values spread
uniformly over the range, with the same total weight.  The run is an ordinary binary run (its
report, export and ``neyman predict``), with ``reweighting.json`` naming the
parameter.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io
from neyman.config import refuse_owned_overrides
from neyman.exceptions import ConfigError, DataError, NeymanWarning
from neyman.models.families import get_family, ratio_model
from neyman.reweighting import RatioWeights
from neyman.runs import RunDirectory, write_ratio_weights
from neyman.table import RESERVED
from neyman.workflows.steps.data import SOURCE
from neyman.workflows.steps.reweighting import OWNED_KEYS, checked_weights, default_features, file_columns
from neyman.workflows.train import train

__all__ = ["DctrResult", "dctr"]

REPLICAS = "replicas"
"""The folder of a parametrised run that holds the runs trained on bootstrap replicas."""


@dataclass(frozen=True)
class DctrResult:
    """A parametrised reweighter's run.

    Attributes
    ----------
    run_dir
        The binary run; ``reweighting.json`` holds ``parameter``, ``values`` and ``nominal``
        (and ``replicas``: the runs trained on bootstrap replicas, relative to it).
    record
        That record.
    seconds
        Wall time.
    """

    run_dir: Path
    record: dict[str, Any]
    seconds: float


def _total_weight(where: tuple[str, str | None], weight: str | None, role: str) -> float:
    if weight is None:
        return float(io.num_entries(where[0], tree=where[1]))
    return float(np.sum(checked_weights(where[0], where[1], weight, role)))


def _warn_trees(model: str, parameter: str) -> None:
    """Warn that a tree family's ratio moves in steps in the parameter."""
    if get_family(model).export == "trees":
        warnings.warn(
            f"--model {model}: trees are piecewise constant in {parameter}, so w(x, {parameter}) moves in steps "
            f"between the generated values and a fit's scan is a staircase whose minimum can land anywhere on a "
            "step; a network (--model mlp, the default) interpolates smoothly",
            NeymanWarning,
            stacklevel=4,
        )


def _checked(
    source: str,
    targets: Sequence[str],
    parameter: str,
    values: Sequence[float],
    features: Sequence[str],
    weight: str | None,
    nominal: float,
) -> tuple[list[tuple[str, str | None]], list[str]]:
    """The files (nominal first) and the features, checked before anything is written."""
    if not parameter.isidentifier():
        raise ConfigError(f"--parameter name {parameter!r} must be a column name such as alphaS")
    if parameter in (*RESERVED, SOURCE):
        raise ConfigError(
            f"--parameter name {parameter!r} is a column neyman builds itself ({', '.join((*RESERVED, SOURCE))}); "
            "name the parameter after the setting, such as alphaS"
        )
    if len(targets) != len(values) or not targets:
        raise ConfigError(
            f"--parameter gives {len(values)} value(s) for {len(targets)} --target file(s); give one value per "
            "target, in order (e.g. --target as110.parquet --target as150.parquet --parameter alphaS=0.110,0.150)"
        )
    odd = [v for v in (*values, nominal) if not np.isfinite(v)]
    if odd:
        raise ConfigError(
            f"--parameter {parameter}={','.join(f'{v:g}' for v in values)} with --nominal-value {nominal:g}: "
            f"{odd[0]} is no value a sample was generated at; give finite numbers"
        )
    if len(set(values)) != len(values):
        raise ConfigError(f"--parameter values {list(values)} repeat; give each target its own value")
    if nominal not in values or len(values) < 3:
        raise ConfigError(
            f"--parameter needs at least 3 values, one of them the nominal {nominal} with an independent nominal "
            f"sample as its --target (got {list(values)}): it anchors w(x, θ0) = 1, and the network interpolates "
            "only between values it was trained on"
        )
    files = [io.parse_source(str(f)) for f in (source, *targets)]
    columns = [file_columns(*f, "source" if i == 0 else "target") for i, f in enumerate(files)]
    for f, cols in zip(files, columns, strict=True):
        if parameter in cols:
            raise DataError(f"{f[0]} already has a column {parameter!r}; name the parameter otherwise")
    features = list(features) or default_features(files[0], columns[0], {weight})
    for f, cols in zip(files, columns, strict=True):
        missing = [c for c in [*features, *([weight] if weight else [])] if c not in cols]
        if missing:
            raise DataError(f"{f[0]} has no column {missing[0]!r} (a feature or the weight); it has {cols}")
    return files, features


def _tent(nodes: np.ndarray, j: int, n: int = 101) -> tuple[list[float], float]:
    """``n`` quantiles of the tent around ``nodes[j]`` (zero at its neighbours), and its area.

    The tents of all nodes add up to one everywhere between the first and last node:
    a partition of unity, so events of sample ``j`` given ``θ`` from its tent make the
    class-1 events at any ``θ`` the linear interpolation of the two nearest samples.
    """
    left = nodes[j] - nodes[j - 1] if j > 0 else 0.0
    right = nodes[j + 1] - nodes[j] if j + 1 < len(nodes) else 0.0
    area = 0.5 * (left + right)
    out = []
    for u in (np.arange(n) + 0.5) / n * area:
        if u < 0.5 * left:  # rising side: ∫ s/left ds = s²/(2 left)
            out.append(nodes[j] - left + float(np.sqrt(2.0 * left * u)))
        else:  # falling side: ∫ (1 - s/right) ds = s - s²/(2 right)
            v = u - 0.5 * left
            out.append(nodes[j] + right - float(np.sqrt(max(right * right - 2.0 * right * v, 0.0))))
    return out, area


def _config(
    files: list[tuple[str, str | None]],
    parameter: str,
    values: Sequence[float],
    features: list[str],
    weight: str | None,
    model: str,
) -> dict[str, Any]:
    """Nominal events over the whole range (class 0), each target over its tent (class 1).

    The class-1 weight of target ``j`` is proportional to its tent's area, so both
    classes are uniform in ``θ`` between the smallest and the largest value with equal
    totals: the classifier's odds are ``p(x|θ)/p(x|θ_0)`` at every ``θ``.  A tree family
    is warned about (its odds move in steps in ``θ``).
    """
    _warn_trees(model, parameter)
    order = np.argsort(values)
    nodes = np.asarray(values, dtype=np.float64)[order]
    total = _total_weight(files[0], weight, "source")
    uniform = nodes[0] + (np.arange(1000) + 0.5) / 1000 * (nodes[-1] - nodes[0])
    nominal = {
        "path": files[0][0],
        "tree": files[0][1],
        "label": "nominal",
        "columns": {parameter: [float(v) for v in uniform]},
    }
    sources: list[dict[str, Any]] = [nominal]
    span = float(nodes[-1] - nodes[0])
    for k, j in enumerate(order):
        where = files[1 + int(j)]
        target = _total_weight(where, weight, "target")
        if not target > 0:
            raise DataError(f"target {j} ({where[0]}) has no weight")
        thetas, area = _tent(nodes, k)
        sources.append(
            {
                "path": where[0],
                "tree": where[1],
                "label": "varied",
                "columns": {parameter: thetas},
                "scale": total * area / span / target,
            }
        )
    return {
        "data": {
            "sources": sources,
            "classes": ["nominal", "varied"],
            "features": [*features, parameter],
            "weight": weight,
        },
        "task": {"type": "binary", "balance_classes": False},
        "model": ratio_model(model),
    }


def dctr(
    source: str,
    targets: Sequence[str],
    parameter: str,
    values: Sequence[float],
    *,
    nominal: float,
    features: Sequence[str] = (),
    weight: str | None = None,
    model: str = "mlp",
    kfold: int = 5,
    replicas: int = 0,
    output_dir: str = "runs",
    name: str | None = None,
    seed: int = 42,
    overrides: Sequence[str] = (),
    force: bool = False,
) -> DctrResult:
    """Train one reweighter ``w(x, θ)`` from a nominal sample to samples at several parameter values.

    Parameters
    ----------
    source
        The nominal sample, generated at ``θ = nominal``.
    targets, values
        Samples generated at several values of the parameter, and those values: at
        least three, one of them an independent sample at the nominal value (it
        anchors ``w(x, θ_0) = 1``).
    parameter
        The parameter's name: a column of that name (the value) is a model input.
    nominal
        The parameter's nominal value.
    kfold
        Folds (0: one model): the fit averages the fold models' log-odds, an
        ensemble whose learned ratio is less noisy than one model's.
    replicas
        Reweighters trained again on Poisson-bootstrap replicas of every sample
        (``data.bootstrap``; seeds ``seed + k``), kept in ``RUN/replicas/``: the
        spread of their fits (:func:`neyman.workflows.fit_parameter.fit_parameter`) is
        the uncertainty the finite generated samples give the learned ratio.
    features, weight, model, output_dir, name, seed, overrides, force
        As for :func:`neyman.workflows.reweight.reweight`.

    Notes
    -----
    Both classes are uniform in ``θ`` with equal totals, so the cross-entropy minimum
    is ``f(x, θ) = p(x|θ)/(p(x|θ) + p(x|θ_0))`` and

    .. math:: w(x, θ) = \\frac{f(x, θ)}{1 - f(x, θ)} = \\frac{p(x|θ)}{p(x|θ_0)},

    with ``p(x|θ) = (1 - t) p(x|θ_j) + t p(x|θ_{j+1})``, ``t = (θ - θ_j)/(θ_{j+1} - θ_j)``,
    between the generated values (vertical interpolation; exact at every ``θ_j``).
    ``neyman predict`` gives ``w`` for the parameter value in each event's column.
    """
    t0 = time.perf_counter()
    refuse_owned_overrides(overrides, {**OWNED_KEYS, "data.bootstrap": "--replicas"})
    files, feats = _checked(source, targets, parameter, values, features, weight, nominal)
    cfg = _config(files, parameter, values, feats, weight, model)
    if kfold == 1 or kfold < 0:
        raise ConfigError(f"--kfold must be 0 (one model) or at least 2 (got {kfold})")
    if replicas < 0 or replicas == 1:
        raise ConfigError(f"--replicas must be 0 (none) or at least 2, to have a spread (got {replicas})")
    cfg.update(name=name or f"dctr-{parameter}", output_dir=output_dir, seed=seed, split={"kfold": kfold})
    run = RunDirectory(train(cfg, overrides=overrides, force=force, made_by="reweight").run_dir)
    trained_replicas = []
    for k in range(1, replicas + 1):
        replica = {**cfg, "name": f"replica_{k}", "output_dir": str(run.path / REPLICAS), "seed": seed + k}
        replica["data"] = {**cfg["data"], "bootstrap": k}
        done = train(replica, overrides=overrides).run_dir
        trained_replicas.append(done.relative_to(run.path).as_posix())
    record = {
        "features": feats,
        "parameter": parameter,
        "values": [float(v) for v in values],
        "nominal": float(nominal),
        "weight": weight,
        "replicas": trained_replicas,
    }
    write_ratio_weights(run, RatioWeights(), record)
    return DctrResult(run.path, record, time.perf_counter() - t0)
