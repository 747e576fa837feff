"""``neyman compare``: several runs on one ROC, with a table of their figures of merit."""

from __future__ import annotations

import csv
import io as _stdio
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neyman import metrics
from neyman.atomic import write_json, write_text
from neyman.exceptions import ConfigError, NeymanWarning
from neyman.preprocessing import TEST
from neyman.runs import RunDirectory, load_run
from neyman.runs.guard import check_output_dir
from neyman.tasks import BinaryTask
from neyman.workflows.steps.data import SOURCE

__all__ = ["CompareResult", "compare"]


@dataclass(frozen=True)
class CompareResult:
    """The comparison table (one row per run) and the written files."""

    rows: list[dict[str, Any]]
    figures: list[Path]
    table: Path


def _size_bytes(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())


def _rejections(roc: metrics.RocCurve) -> dict[str, float | bool]:
    """1/ε_B at ε_S = 0.3 and 0.5, each with whether it is a lower bound (no background passes)."""
    out: dict[str, float | bool] = {}
    for eff in (0.3, 0.5):
        out[f"rejection_at_eff_{eff}"], out[f"rejection_at_eff_{eff}_is_bound"] = metrics.bounded_rejection(roc, eff)
    return out


def _refuse_repeated(runs: Sequence[str | os.PathLike[str]]) -> None:
    """Refuse a run given twice (also as another path to the same folder): its curve would be drawn twice."""
    seen: dict[str, str | os.PathLike[str]] = {}
    for path in runs:
        real = os.path.realpath(path)
        if real in seen:
            same = "" if os.fspath(seen[real]) == os.fspath(path) else f" (as {os.fspath(seen[real])})"
            raise ConfigError(f"run {os.fspath(path)} is given twice{same}; compare each run once")
        seen[real] = path


@dataclass(frozen=True)
class _Tested:
    """A run's test events: their ids, labels and weights in the order of the ids, and the files they came from."""

    ids: np.ndarray
    labels: np.ndarray
    weights: np.ndarray
    files: frozenset[tuple[str, int | None]]
    digests: frozenset[str]

    @classmethod
    def of(
        cls, event_id: np.ndarray, truth: np.ndarray, weights: np.ndarray, records: Sequence[Mapping[str, Any]]
    ) -> _Tested:
        """``records``: the training's input files as it recorded them (:mod:`neyman.runs.sources`).

        A file is known by its SHA-256 (a copy is the same file, another file of the same name
        and size is not); by its name and size for a run that recorded no checksum.
        """
        order = np.argsort(event_id, kind="stable")
        named = frozenset((Path(str(r.get("absolute") or r["path"])).name, r.get("bytes")) for r in records)
        digests = [r.get("sha256") for r in records]
        known = frozenset(str(d) for d in digests) if all(digests) else frozenset()
        return cls(np.asarray(event_id)[order], np.asarray(truth)[order], np.asarray(weights)[order], named, known)

    def other_files(self, other: _Tested) -> bool:
        """Whether the two runs read other input files (by checksum where both recorded them)."""
        if self.digests and other.digests:
            return self.digests != other.digests
        return bool(self.files and other.files and self.files != other.files)

    def weighted_alike(self, other: _Tested) -> bool:
        """Whether the same test events carry the same weights in both runs (up to one common factor)."""
        scale = np.sum(self.weights) / np.sum(other.weights) if np.sum(other.weights) != 0 else 1.0
        return bool(np.allclose(self.weights, other.weights * scale, rtol=1e-6, atol=0.0))

    def differences(self, other: _Tested) -> str | None:
        """How ``other``'s test events differ from these (None: the same)."""
        sizes = f"{self.ids.size} and {other.ids.size} test events"
        if self.other_files(other):
            # event ids of other files number other events: equal ids, or a count of ids in common, would mislead
            return f"{sizes}, from other input files"
        if np.array_equal(self.ids, other.ids) and np.array_equal(self.labels, other.labels):
            return None
        common = np.intersect1d(self.ids, other.ids).size
        relabelled = ", labelled differently" if self.ids.size == other.ids.size == common else ""
        return f"{sizes}, {common} event ids in common{relabelled}"


def _test_files(run: RunDirectory, records: Sequence[Mapping[str, Any]], test: np.ndarray) -> list[Mapping[str, Any]]:
    """The recorded input files the run's test events came from (every file for a run that kept no sources)."""
    from neyman import io

    if SOURCE not in io.available_columns(run.predictions):
        return list(records)
    sources = np.unique(np.asarray(io.read(run.predictions, columns=[SOURCE])[SOURCE])[test])
    return [records[int(i)] for i in sources if 0 <= int(i) < len(records)]


def _warn_other_test_events(tested: dict[str, _Tested]) -> list[str]:
    """Warn for each run whose test events (files, ids and labels) are not those of the first (the reference).

    Returns the warnings, which the comparison's record keeps beside its table.
    """
    (reference, first), *others = tested.items()
    said = []
    for run, events in others:
        how = first.differences(events)
        if how is None:
            if not first.weighted_alike(events):
                said.append(
                    f"{reference} and {run} weight their {events.ids.size} test events differently (an event "
                    "weight column in one run and not the other, or another one): their AUCs and ROCs differ by "
                    "the weights as well as by the models; train both with the same weight column to compare the "
                    "models alone"
                )
            continue
        said.append(
            f"{reference} and {run} were tested on different events ({how}): "
            "their AUCs and ROCs differ by the events as well as by the models; train them on the same files "
            "with the same split and seed to compare the models alone"
        )
    for message in said:
        warnings.warn(message, NeymanWarning, stacklevel=3)
    return said


def compare(
    runs: Sequence[str | os.PathLike[str]],
    *,
    out: str | os.PathLike[str] = "comparison",
    n_bootstrap: int = 200,
    seed: int = 0,
    formats: Sequence[str] = ("png", "pdf"),
    force: bool = False,
) -> CompareResult:
    """Compare binary classifiers of several runs on their test splits.

    The first run is the reference of the ratio panel.  The table holds the AUC
    with its bootstrap uncertainty, the background rejection at ε_S = 0.3 and 0.5,
    the training time and the size of the saved model.  ``out`` is a new or empty
    folder, or (with ``force``) one that holds an earlier comparison.

    Raises
    ------
    ConfigError
        Fewer than two runs, a run given twice (also as another path to it), or a run
        that is not a binary classifier.

    Warns
    -----
    NeymanWarning
        For each run tested on other events than the first (other input files, other
        event ids, or the same ids with other labels), or on the same events with other
        weights: its figures differ by the events as well as by the model.  The same
        words are kept in ``comparison.json`` (``warnings``), beside the table.
    """
    from neyman import plotting

    if len(runs) < 2:
        raise ConfigError("compare needs at least two run directories")
    _refuse_repeated(runs)
    out = check_output_dir(out, force=force, marker="comparison.json", what="the comparison")
    rows, rocs, tested = [], {}, {}  # type: list[dict[str, Any]], dict[str, metrics.RocCurve], dict[str, _Tested]
    for path in runs:
        run = RunDirectory(Path(path))
        run.require_complete()
        trained = load_run(run.path)
        if not isinstance(trained.task, BinaryTask):
            raise ConfigError(f"{run.path} is a run of task {trained.task.name!r}; compare handles binary classifiers")
        s = trained.saved_predictions(tested=True)
        test = s.split == TEST
        sc, y, w = s.part(TEST)
        auc, err = metrics.auc_with_uncertainty(sc, y, sample_weight=w, n_bootstrap=n_bootstrap, seed=seed)
        roc = metrics.roc_curve(sc, y, sample_weight=w)
        # the folder's name, else its path as given, else its full path: the labels of the figure and table differ
        candidates = (run.path.name, str(run.path), str(run.path.resolve()))
        name = next((n for n in candidates if n not in rocs), f"{run.path} ({len(rocs) + 1})")
        rocs[name] = roc
        tested[str(path)] = _Tested.of(
            s.event_id[test], s.truth[test], w, _test_files(run, trained.source_records, test)
        )
        train_metrics = run.read_metrics()
        rows.append(
            {
                "run": name,
                "model": json.loads(run.metadata.read_text())["family"],
                "auc": auc,
                "auc_uncertainty": err,
                **_rejections(roc),
                "training_seconds": float(train_metrics.get("training_seconds", float("nan"))),
                "model_bytes": _size_bytes(run.model),
                "n_test_events": int(test.sum()),
            }
        )
    cautions = _warn_other_test_events(tested)
    out = Path(out)
    with plotting.hep_style():
        fig = plotting.plot_roc_comparison(rocs, reference=next(iter(rocs)))
        figures = plotting.save(fig, out / "roc_comparison", formats=tuple(formats))
    buf = _stdio.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    table = write_text(out / "comparison.csv", buf.getvalue())
    write_json(out / "comparison.json", {"rows": rows, "reference": rows[0]["run"], "warnings": cautions})
    return CompareResult(rows=rows, figures=figures, table=table)
