"""Assemble ``report.html`` from an evaluation: sections like TMVA's GUI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neyman.workflows.evaluate import _Evaluation

__all__ = ["build_report"]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _rows(mapping: dict[str, Any]) -> list[list[str]]:
    return [[k, _fmt(v)] for k, v in mapping.items() if not isinstance(v, (dict, list))]


def build_report(ev: _Evaluation, result: dict[str, Any]) -> Path:
    """Write ``report.html`` (self-contained) next to the evaluation's figures."""
    from neyman.report import Section, provenance_table, write_report
    from neyman.workflows.evaluate import _checksum

    figs = ev._figs
    meta = json.loads(ev.run.metadata.read_text())
    train_metrics = json.loads(ev.run.metrics.read_text()) if ev.run.metrics.is_file() else {}
    sections = []
    if figs.get("inputs") or figs.get("correlations"):
        sections.append(
            Section(
                title="Input variables",
                figures=[*figs.get("inputs", []), *figs.get("correlations", [])],
                tables=[],
                text=f"{len(meta['features'])} features, weighted distributions per class and linear correlations.",
            )
        )
    if figs.get("history"):
        sections.append(
            Section(
                title="Training history",
                figures=figs["history"],
                tables=[],
                text=f"Training took {train_metrics.get('training_seconds', float('nan')):.1f} s.",
            )
        )
    output_figs = [*figs.get("scores", []), *figs.get("confusion", []), *figs.get("calibration", [])]
    ot = result.get("overtraining")
    ot_table = []
    if isinstance(ot, dict):
        rows = [
            [c, _fmt(ot.get(f"{c}_ks_statistic")), _fmt(ot.get(f"{c}_ks_p_value"))] for c in ("signal", "background")
        ]
        ot_table = [("Kolmogorov–Smirnov test, train vs test", ["class", "statistic", "p-value"], rows)]
    if output_figs:
        sections.append(
            Section(
                title="Classifier output and overtraining",
                figures=output_figs,
                tables=ot_table,
                text="Test events as histograms, training events as points.",
            )
        )
    headline = {k: v for k, v in result.items() if not isinstance(v, (dict, list))}
    performance = [*figs.get("roc", []), *figs.get("response", []), *figs.get("resolution", []), *figs.get("pulls", [])]
    sections.append(
        Section(
            title="Performance",
            figures=performance,
            tables=[("Metrics on the test events", ["quantity", "value"], _rows(headline))],
            text="",
        )
    )
    if figs.get("significance"):
        header = ["definition", "cut", "Z", "S", "B", "ε_S", "ε_B"]
        keys = ("cut", "significance", "signal", "background", "signal_efficiency", "background_efficiency")
        rows = [[name, *(_fmt(wp[k]) for k in keys)] for name, wp in result["significance"].items()]
        sections.append(
            Section(
                title="Efficiencies and significance",
                figures=figs["significance"],
                tables=[("Optimal cut for each significance definition", header, rows)],
                text="",
            )
        )
    if figs.get("importance"):
        sections.append(
            Section(
                title="Feature importance",
                figures=figs["importance"],
                tables=[],
                text="Permutation importance: the drop of the headline metric when a feature is shuffled.",
            )
        )
    files = {}
    for src in ev.cfg.data.sources:
        path = src.path.rsplit(":", 1)[0] if not Path(src.path).exists() else src.path
        if Path(path).is_file():
            files[path] = f"sha256 {_checksum(path)}"
    provenance = {
        "run": str(ev.run.path),
        "model": meta.get("family"),
        "task": meta.get("task"),
        "seed": ev.cfg.seed,
        "created": meta.get("created"),
        **meta.get("versions", {}),
        **files,
    }
    sections.append(
        Section(
            title="Configuration and provenance",
            figures=[],
            tables=[provenance_table(provenance)],
            code=ev.run.config.read_text(),
        )
    )
    return write_report(
        ev.out_dir / "report.html",
        sections,
        title=f"neyman run {ev.run.path.name}",
        subtitle=f"{meta.get('family')} · {meta.get('task')}",
    )
