"""``neyman evaluate``: the complete evaluation of a run, its figures and its report."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neyman import io, metrics
from neyman._atomic import write_json
from neyman.config import load_config
from neyman.exceptions import ConfigError, DataError
from neyman.preprocessing import TEST, TRAIN, check_finite
from neyman.table import EVENT_ID, FOLD, LABEL, SPLIT, TARGET, WEIGHT, Table
from neyman.workflows.artifacts import TrainedRun, load_run
from neyman.workflows.data import load_events
from neyman.workflows.evaluation import as_jsonable
from neyman.workflows.rundir import RunDirectory

__all__ = ["EvaluationResult", "evaluate"]

SIGNAL_EFFICIENCIES = (0.3, 0.5)
BACKGROUND_EFFICIENCIES = (0.01, 0.1, 0.3)


@dataclass(frozen=True)
class EvaluationResult:
    """Where the evaluation went and its headline numbers."""

    run_dir: Path
    metrics: dict[str, Any]
    figures: list[Path]
    report: Path | None
    seconds: float


@dataclass(frozen=True)
class _Scored:
    """Scores, truth and weights of the evaluated events, with their split and fold."""

    scores: np.ndarray
    truth: np.ndarray
    weight: np.ndarray
    split: np.ndarray
    fold: np.ndarray
    event_id: np.ndarray


def _from_predictions(run: RunDirectory, trained: TrainedRun) -> _Scored:
    preds = io.read(run.predictions)
    truth_col = LABEL if trained.task.is_classification else TARGET
    names = trained.score_names
    scores = np.stack([np.asarray(preds[n]) for n in names], axis=1)
    if trained.task.name in ("binary", "regression"):
        scores = scores[:, 0]
    return _Scored(
        scores=scores,
        truth=np.asarray(preds[truth_col]),
        weight=np.asarray(preds[WEIGHT], dtype=np.float64),
        split=np.asarray(preds[SPLIT]),
        fold=np.asarray(preds[FOLD]),
        event_id=np.asarray(preds[EVENT_ID]),
    )


def _true_log_ratio(data: Any) -> np.ndarray | None:
    """The ``true_log_lr`` column of synthetic inputs, aligned with :func:`load_events`; None elsewhere."""
    from neyman.testing import TRUE_LOG_LR
    from neyman.workflows.data import plan_sources

    parts = []
    for plan in plan_sources(data, [], classification=True) if data.label_column else []:
        if TRUE_LOG_LR not in io.available_columns(plan.path, tree=plan.tree, format=data.format):
            return None
        cols = [TRUE_LOG_LR, *(c for sel in plan.selections for c in sorted(sel.columns))]
        table = io.read(
            plan.path,
            tree=plan.tree,
            columns=list(dict.fromkeys(cols)),
            entry_stop=plan.config.max_events,
            format=data.format,
        )
        mask = np.ones(len(table), dtype=bool)
        for sel in plan.selections:
            mask &= sel.mask(table)
        parts.append(np.asarray(table[TRUE_LOG_LR])[mask])
    return np.concatenate(parts) if parts else None


def _checksum(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


class _Evaluation:
    def __init__(
        self,
        run_dir: Path,
        *,
        test_data: Sequence[str],
        working_point: float,
        yields: tuple[float, float] | None,
        sigma_b: float,
        n_bootstrap: int,
        by: str | None,
        formats: Sequence[str],
        seed: int,
    ) -> None:
        self.run = RunDirectory(run_dir)
        self.run.require_complete()
        self.trained = load_run(run_dir)
        self.cfg = load_config(self.run.config)
        self.test_data = list(test_data)
        self.working_point = working_point
        self.yields = yields
        self.sigma_b = sigma_b
        self.n_bootstrap = n_bootstrap
        self.by = by
        self.formats = tuple(formats)
        self.seed = seed
        self.out_dir = self.run.path / ("evaluation" if self.test_data else "")
        self.plots = self.out_dir / "plots"
        self.figures: list[Path] = []
        self._figs: dict[str, list[Path]] = {}
        self.true_log_ratio: np.ndarray | None = None
        self.streaming = bool(self.cfg.data.streaming)

    # -- inputs -------------------------------------------------------------------------
    def _events(self) -> tuple[Table, np.ndarray] | None:
        """The evaluated events (features and reserved columns) and their feature matrix."""
        if self.streaming and not self.test_data:
            return None  # the inputs of a streamed run do not fit in memory
        spec = self.trained.representation
        if spec is not None and not self.test_data:
            return None  # constituent-based runs: scores from predictions.parquet, no flat inputs to plot
        data = self.cfg.data
        if self.test_data:
            if len(self.test_data) != len(data.sources):
                raise ConfigError(
                    f"the run was trained on {len(data.sources)} source(s); give as many --test-data files, "
                    "in the same order (each replaces the corresponding training file)"
                )
            sources = [s.model_copy(update={"path": p}) for s, p in zip(data.sources, self.test_data, strict=True)]
            data = data.model_copy(update={"sources": sources, "streaming": False})
        if spec is not None:
            # particle sets and images are built from the constituents when the run scores the table
            events = load_events(data, task=self.cfg.task.type, features=[], carry=spec.columns)
            return events.table, np.empty((len(events.table), 0))
        events = load_events(data, task=self.cfg.task.type)
        if self.trained.task.name == "binary":
            self.true_log_ratio = _true_log_ratio(data)
        x = check_finite(
            events.table.to_numpy(self.trained.features, dtype=np.float64),
            self.trained.features,
            fill_value=data.fill_value,
            source="evaluation inputs",
        )
        return events.table, x

    def _scored(self, table: Table | None, x: np.ndarray | None) -> _Scored:
        if not self.test_data:
            return _from_predictions(self.run, self.trained)
        assert table is not None and x is not None
        scores = self.trained.score(table)
        truth = np.asarray(table[LABEL] if self.trained.task.is_classification else table[TARGET])
        n = len(table)
        return _Scored(
            scores=scores if scores.ndim == 1 or scores.shape[1] > 1 else scores[:, 0],
            truth=truth,
            weight=np.asarray(table[WEIGHT], dtype=np.float64),
            split=np.full(n, TEST, dtype=np.int8),
            fold=np.full(n, -1),
            event_id=np.asarray(table[EVENT_ID]),
        )

    # -- the pieces ---------------------------------------------------------------------
    def _save(self, fig: Any, name: str) -> list[Path]:
        from neyman import plotting

        paths = plotting.save(fig, self.plots / name, formats=self.formats)
        self.figures += paths
        return [p for p in paths if p.suffix == ".png"]

    def _binary(self, s: _Scored) -> dict[str, Any]:
        from neyman import plotting

        out: dict[str, Any] = {}
        test, train = s.split == TEST, s.split == TRAIN
        sc, y, w = s.scores[test], s.truth[test], s.weight[test]
        auc, auc_err = metrics.auc_with_uncertainty(
            sc, y, sample_weight=w, n_bootstrap=self.n_bootstrap, seed=self.seed
        )
        roc = metrics.roc_curve(sc, y, sample_weight=w)
        out["auc"], out["auc_uncertainty"] = auc, auc_err
        out.update(
            metrics.efficiency_table(
                roc, signal_efficiencies=SIGNAL_EFFICIENCIES, background_efficiencies=BACKGROUND_EFFICIENCIES
            )
        )
        out["separation"] = metrics.separation(sc, y, sample_weight=w)
        out["accuracy"] = metrics.accuracy(sc, y, threshold=self.working_point, sample_weight=w)
        cm = metrics.confusion_matrix(sc, y, threshold=self.working_point, sample_weight=w)
        out["confusion"] = _confusion_dict(cm)
        out["brier"] = metrics.brier_score(sc, y, sample_weight=w)
        folds = [f for f in np.unique(s.fold) if f >= 0]
        if folds:
            # k-fold: every number per fold, then mean ± std across folds (the values above use all
            # out-of-fold scores together)
            per = [
                self._fold_numbers(s.scores[s.fold == f], s.truth[s.fold == f], s.weight[s.fold == f]) for f in folds
            ]
            from neyman.workflows.evaluation import fold_summary

            out["folds"] = fold_summary(per)
        figs: dict[str, list[Path]] = {}
        fig, ax = plotting.figure()
        plotting.plot_roc({"test": roc}, ax=ax, kind="rejection")
        figs["roc"] = self._save(fig, "roc_rejection")
        fig, ax = plotting.figure()
        plotting.plot_roc({"test": roc}, ax=ax, kind="classic")
        figs["roc"] += self._save(fig, "roc_classic")
        fig, ax = plotting.figure()
        plotting.plot_scores(
            sc,
            y,
            sample_weight=w,
            class_names=self.trained.classes,
            ax=ax,
            train_scores=s.scores[train] if train.any() else None,
            train_labels=s.truth[train] if train.any() else None,
            train_weight=s.weight[train] if train.any() else None,
        )
        figs["scores"] = self._save(fig, "scores")
        if train.any():
            out["overtraining"] = metrics.overtraining_check(
                s.scores[train], s.truth[train], sc, y, train_weight=s.weight[train], test_weight=w
            )
        fig, ax = plotting.figure()
        plotting.plot_confusion(np.asarray(cm.matrix), self.trained.classes, normalise="true", ax=ax)
        figs["confusion"] = self._save(fig, "confusion")
        mean_pred, observed, _ = metrics.reliability_curve(sc, y, sample_weight=w)
        fig, ax = plotting.figure()
        plotting.plot_reliability(mean_pred, observed, ax=ax)
        figs["calibration"] = self._save(fig, "calibration")
        if self.true_log_ratio is not None and len(self.true_log_ratio) == len(s.truth):
            prior = 1.0 if self.cfg.task.balance_classes else float(np.sum(w[y == 1]) / np.sum(w[y == 0]))
            check = metrics.likelihood_ratio_check(sc, self.true_log_ratio[test], prior_ratio=prior, sample_weight=w)
            out["likelihood_ratio_correlation"] = float(check.correlation)
            fig, ax = plotting.figure()
            plotting.plot_likelihood_ratio(check.bin_centres, check.mean_estimate, ax=ax)
            figs["calibration"] += self._save(fig, "likelihood_ratio")
        if self.yields is not None:
            scan = metrics.significance_scan(
                sc,
                y,
                signal_yield=self.yields[0],
                background_yield=self.yields[1],
                sample_weight=w,
                sigma_b=self.sigma_b,
            )
            out["significance"] = _scan_dict(scan)
            fig, ax = plotting.figure()
            curves = {"S/√B": scan.simple, "S/√(S+B)": scan.s_over_sqrt_s_plus_b, "Asimov Z_A": scan.asimov}
            plotting.plot_significance(scan.cuts, curves, ax=ax)
            figs["significance"] = self._save(fig, "significance")
        self._figs.update(figs)
        return out

    def _fold_numbers(self, sc: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, float]:
        roc = metrics.roc_curve(sc, y, sample_weight=w)
        out = {"auc": metrics.roc_auc(sc, y, sample_weight=w)}
        out.update(
            metrics.efficiency_table(
                roc, signal_efficiencies=SIGNAL_EFFICIENCIES, background_efficiencies=BACKGROUND_EFFICIENCIES
            )
        )
        out["separation"] = metrics.separation(sc, y, sample_weight=w)
        out["accuracy"] = metrics.accuracy(sc, y, threshold=self.working_point, sample_weight=w)
        out["brier"] = metrics.brier_score(sc, y, sample_weight=w)
        return out

    def _multiclass(self, s: _Scored) -> dict[str, Any]:
        from neyman import plotting

        test = s.split == TEST
        p, y, w = s.scores[test], s.truth[test], s.weight[test]
        classes = self.trained.classes
        out: dict[str, Any] = {"accuracy": metrics.multiclass_accuracy(p, y, sample_weight=w)}
        cm = metrics.multiclass_confusion(p, y, n_classes=len(classes), sample_weight=w)
        out["confusion"] = np.asarray(cm.matrix).tolist()
        rocs = {}
        for k, name in enumerate(classes):
            is_k = (y == k).astype(np.int64)
            auc, err = metrics.auc_with_uncertainty(
                p[:, k], is_k, sample_weight=w, n_bootstrap=self.n_bootstrap, seed=self.seed
            )
            out[f"auc_{name}_vs_rest"] = auc
            out[f"auc_{name}_vs_rest_uncertainty"] = err
            rocs[f"{name} vs rest"] = metrics.roc_curve(p[:, k], is_k, sample_weight=w)
        fig, ax = plotting.figure()
        plotting.plot_roc(rocs, ax=ax, kind="classic")
        self._figs["roc"] = self._save(fig, "roc_one_vs_rest")
        fig, ax = plotting.figure()
        plotting.plot_confusion(np.asarray(cm.matrix), classes, normalise="true", ax=ax)
        self._figs["confusion"] = self._save(fig, "confusion")
        return out

    def _regression(self, s: _Scored, table: Table | None) -> dict[str, Any]:
        from neyman import plotting

        test = s.split == TEST
        pred = s.scores[test, 0] if s.scores.ndim == 2 else s.scores[test]
        sigma = s.scores[test, 1] if self.trained.task.name == "gaussian" else None
        truth, w = s.truth[test], s.weight[test]
        out: dict[str, Any] = metrics.regression_summary(pred, truth, sigma=sigma, sample_weight=w).as_dict()
        by_values, by_name = truth, "target"
        if self.by:
            if table is None or self.by not in table:
                raise DataError(f"--by {self.by!r}: no such feature among the evaluated events")
            by_values, by_name = np.asarray(table[self.by])[test], self.by
        edges = np.quantile(by_values, np.linspace(0, 1, 11))
        binned = metrics.binned_response(pred, truth, by_values, bins=edges, sample_weight=w, sigma=sigma)
        out["binned"] = {"by": by_name, **{k: np.asarray(v).tolist() for k, v in binned.items()}}
        fig, ax = plotting.figure()
        plotting.plot_binned_response(
            np.asarray(binned["bin_centre"]),
            np.asarray(binned["bias"]),
            np.asarray(binned["resolution"]),
            xlabel=by_name,
            ax=ax,
        )
        self._figs["resolution"] = self._save(fig, "binned_response")
        fig, ax = plotting.figure()
        plotting.plot_response(pred, truth, ax=ax)
        self._figs["response"] = self._save(fig, "response")
        if sigma is not None:
            fig, ax = plotting.figure()
            plotting.plot_pulls((pred - truth) / sigma, sample_weight=w, ax=ax)
            self._figs["pulls"] = self._save(fig, "pulls")
        return out

    def _inputs_and_importance(self, table: Table, x: np.ndarray, s: _Scored) -> dict[str, Any]:
        from neyman import plotting

        out: dict[str, Any] = {}
        feats = self.trained.features
        test = s.split == TEST
        w_all = np.asarray(table[WEIGHT], dtype=np.float64)
        if self.trained.task.is_classification:
            labels = np.asarray(table[LABEL])
            fig = plotting.plot_feature_distributions(
                x, labels, feats, sample_weight=w_all, class_names=self.trained.classes
            )
            self._figs["inputs"] = self._save(fig, "inputs")
            self._figs["correlations"] = []
            for k, name in enumerate(self.trained.classes):
                sel = labels == k
                corr = metrics.correlation_matrix(x[sel], sample_weight=w_all[sel])
                fig, ax = plotting.figure(figsize=(2.5 + 0.5 * len(feats), 1.8 + 0.45 * len(feats)))
                plotting.plot_correlation(corr, feats, ax=ax, title=f"correlations: {name}")
                self._figs["correlations"] += self._save(fig, f"correlation_{name}")
        # permutation importance on (at most 100k) test events: the drop of the task's headline metric
        idx = np.flatnonzero(test)
        if len(idx) > 100_000:
            idx = np.sort(np.random.default_rng(self.seed).choice(idx, 100_000, replace=False))
        sub = table.take(idx)
        truth = s.truth[idx]

        task_name = self.trained.task.name

        def predict(xm: np.ndarray) -> np.ndarray:
            scores = self.trained.score(sub.with_columns(**{f: xm[:, j] for j, f in enumerate(feats)}))
            if task_name == "multiclass":
                return np.asarray(np.argmax(scores, axis=1), dtype=np.float64)  # scored by the accuracy
            return scores[:, 0] if scores.ndim == 2 else scores  # gaussian: the predicted mean

        metric = _importance_metric(self.trained.task.name)
        imp = metrics.permutation_importance(
            predict,
            x[idx],
            truth,
            metric=metric,
            sample_weight=s.weight[idx],
            n_repeats=3,
            seed=self.seed,
            feature_names=feats,
        )
        out["permutation_importance"] = {k: {"mean": v[0], "std": v[1]} for k, v in imp.items()}
        fig, ax = plotting.figure(figsize=(6.4, 1.2 + 0.35 * len(feats)))
        plotting.plot_importance(imp, ax=ax)
        self._figs["importance"] = self._save(fig, "importance_permutation")
        native = getattr(self.trained.models[0], "feature_importance", None)
        if callable(native):
            gains = np.mean([m.feature_importance() for m in self.trained.models], axis=0)  # type: ignore[attr-defined]
            total = gains.sum() or 1.0
            out["gain_importance"] = {f: float(g / total) for f, g in zip(feats, gains, strict=True)}
            fig, ax = plotting.figure(figsize=(6.4, 1.2 + 0.35 * len(feats)))
            plotting.plot_importance({f: (float(g / total), 0.0) for f, g in zip(feats, gains, strict=True)}, ax=ax)
            self._figs["importance"] += self._save(fig, "importance_gain")
        return out

    # -- the whole ----------------------------------------------------------------------
    def execute(self) -> dict[str, Any]:
        inputs = self._events()
        table, x = inputs if inputs is not None else (None, None)
        s = self._scored(table, x)
        task = self.trained.task.name
        if task == "binary":
            result = self._binary(s)
        elif task == "multiclass":
            result = self._multiclass(s)
        else:
            result = self._regression(s, table)
        if table is not None and x is not None and self.trained.representation is None:
            result.update(self._inputs_and_importance(table, x, s))
        history = self.run.history
        if history.is_file() and not self.test_data:
            from neyman import plotting

            cols = _read_history(history)
            if cols:
                fig, ax = plotting.figure()
                plotting.plot_history(cols, ax=ax)
                self._figs["history"] = self._save(fig, "loss")
        result["task"] = task
        result["n_test_events"] = int(np.sum(s.split == TEST))
        result["test_data"] = self.test_data
        return result


def _importance_metric(task: str) -> Any:
    """The metric whose drop measures a feature's importance (scores are one value per event)."""
    if task == "binary":
        return lambda s, y, w: metrics.roc_auc(s, y, sample_weight=w)
    if task == "multiclass":  # s is the predicted class
        return lambda s, y, w: float(np.sum(w * (s == y)) / np.sum(w))
    # regression: the negative mean squared error, so that a larger drop means a more important feature
    return lambda s, y, w: -float(np.sum(w * (s - y) ** 2) / np.sum(w))


def _read_history(path: Path) -> dict[str, list[float]]:
    import csv

    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "fold" in rows[0]:
        rows = [r for r in rows if r.get("fold", "0") == "0"]
    cols: dict[str, list[float]] = {}
    for r in rows:
        for k, v in r.items():
            if v not in ("", None) and k != "fold":
                # boosted trees record iterations where networks record epochs: the same x axis
                cols.setdefault("epoch" if k == "iteration" else k, []).append(float(v))
    return cols


def _confusion_dict(cm: Any) -> dict[str, Any]:
    return {
        "threshold": float(cm.threshold),
        "matrix": np.asarray(cm.matrix).tolist(),
        "counts": np.asarray(cm.counts).tolist(),
        "sensitivity": float(cm.sensitivity),
        "specificity": float(cm.specificity),
        "purity": float(cm.purity),
    }


def _scan_dict(scan: Any) -> dict[str, Any]:
    """The best cut of each significance definition with its yields and efficiencies."""
    return {name: {k: float(v) for k, v in vars(wp).items()} for name, wp in scan.best.items()}


def evaluate(
    run: str | os.PathLike[str],
    *,
    test_data: Sequence[str] = (),
    working_point: float = 0.5,
    yields: tuple[float, float] | None = None,
    sigma_b: float = 0.0,
    n_bootstrap: int = 200,
    by: str | None = None,
    formats: Sequence[str] = ("png", "pdf"),
    report: bool = True,
    seed: int = 0,
) -> EvaluationResult:
    """Compute every metric and figure of a run and write its report.

    Parameters
    ----------
    run
        A finished run directory.
    test_data
        Evaluate on these files instead of the run's test split (one per training
        source, in the same order); results go to ``RUN/evaluation/`` (its own
        ``metrics.json``, figures and report).  Without, the evaluation is stored
        under the key ``evaluation`` of the run's ``metrics.json``.
    working_point
        Score threshold of the confusion matrix and accuracy.
    yields
        Expected signal and background yields ``(S, B)`` for the significance scan.
    sigma_b
        Relative background uncertainty in the Asimov significance.
    n_bootstrap
        Bootstrap replicas for the AUC uncertainty.
    by
        Regression: feature column to bin bias and resolution in (default: the target).
    formats
        Figure formats.
    report
        Also write ``report.html``.
    seed
        Seed of the bootstrap and the permutations.
    """
    t0 = time.perf_counter()
    ev = _Evaluation(
        Path(run),
        test_data=test_data,
        working_point=working_point,
        yields=yields,
        sigma_b=sigma_b,
        n_bootstrap=n_bootstrap,
        by=by,
        formats=formats,
        seed=seed,
    )
    from neyman import plotting

    with plotting.hep_style():
        result = ev.execute()
    if ev.test_data:
        write_json(ev.out_dir / "metrics.json", as_jsonable(result))
    else:
        # the run's metrics.json keeps its training-time numbers and gains the full evaluation
        import json

        merged = json.loads(ev.run.metrics.read_text()) if ev.run.metrics.is_file() else {}
        merged["evaluation"] = result
        write_json(ev.run.metrics, as_jsonable(merged))
    report_path = None
    if report:
        from neyman.workflows.reporting import build_report

        report_path = build_report(ev, result)
    return EvaluationResult(
        run_dir=ev.run.path, metrics=result, figures=ev.figures, report=report_path, seconds=time.perf_counter() - t0
    )
