"""Assemble ``report.html`` from an evaluation: sections like TMVA's GUI."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neyman.config import RunConfig
from neyman.metrics import rejection_text
from neyman.runs import RunDirectory, source_records

__all__ = ["build_report"]


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _rows(mapping: Mapping[str, Any]) -> list[list[str]]:
    """Name and value of every number; a rejection that is only a lower bound reads ``> N``."""
    rows = []
    for k, v in mapping.items():
        if isinstance(v, (dict, list)) or k.endswith("_is_bound"):
            continue
        rows.append([k, rejection_text(float(v), True) if mapping.get(f"{k}_is_bound") else _fmt(v)])
    return rows


def _input_sections(
    figs: Mapping[str, Sequence[Path]], meta: Mapping[str, Any], train_metrics: Mapping[str, Any]
) -> list[Any]:
    from neyman.report import Section

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
                figures=list(figs["history"]),
                tables=[],
                text=f"Training took {train_metrics.get('training_seconds', float('nan')):.1f} s.",
            )
        )
    return sections


def _measured_on(cfg: RunConfig, result: Mapping[str, Any]) -> str:
    """Which events the evaluation's numbers come from, and how they are weighted."""
    files = result.get("test_data") or []
    events = f"the events of {', '.join(map(str, files))}" if files else "the run's test events"
    columns = sorted({c for c in (cfg.data.weight, *(s.weight for s in cfg.data.sources)) if c})
    scaled = any(s.scale != 1.0 for s in cfg.data.sources)
    if columns:
        weights = f"each weighted by its {' / '.join(repr(c) for c in columns)} column{' and source scale' * scaled}"
    else:
        weights = "weighted by the sources' scales" if scaled else "unweighted (every event weight 1)"
    return f"{events}, {weights}"


def _output_sections(figs: Mapping[str, Sequence[Path]], result: Mapping[str, Any], cfg: RunConfig) -> list[Any]:
    from neyman.report import Section

    sections = []
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
    tables = [(f"Metrics on {_measured_on(cfg, result)}", ["quantity", "value"], _rows(headline))]
    folds = result.get("folds")
    if isinstance(folds, dict) and folds:
        rows = [[k, _fmt(v["mean"]), _fmt(v["std"])] for k, v in folds.items() if isinstance(v, dict) and "mean" in v]
        tables.append(
            (
                "The same numbers fold by fold: mean and standard deviation over the folds",
                ["quantity", "mean", "std"],
                rows,
            )
        )
    sections.append(
        Section(
            title="Performance",
            figures=performance,
            tables=tables,
            text="In a k-fold run the metrics below use every fold's held-out scores together." if folds else "",
        )
    )
    return sections


def _analysis_sections(figs: Mapping[str, Sequence[Path]], result: Mapping[str, Any]) -> list[Any]:
    from neyman.report import Section

    sections = []
    if figs.get("significance"):
        header = ["definition", "cut", "Z", "S", "B", "ε_S", "ε_B"]
        keys = ("cut", "significance", "signal", "background", "signal_efficiency", "background_efficiency")
        rows = [[name, *(_fmt(wp[k]) for k in keys)] for name, wp in result["significance"].items()]
        sections.append(
            Section(
                title="Efficiencies and significance",
                figures=list(figs["significance"]),
                tables=[("Optimal cut for each significance definition", header, rows)],
                text="",
            )
        )
    if figs.get("sculpting"):
        sculpt = result["sculpting"]
        header = ["ε_S", "cut", "1/ε_B", "JSD", "1/JSD"]
        point_keys = ("threshold", "rejection", "jsd", "inverse_jsd")
        rows = [[_fmt(p["signal_efficiency"]), *(_fmt(p[k]) for k in point_keys)] for p in sculpt["points"]]
        sections.append(
            Section(
                title=f"Sculpting of {sculpt['variable']}",
                figures=list(figs["sculpting"]),
                tables=[(f"Background {sculpt['variable']} after cuts on the score", header, rows)],
                text=(
                    f"The background's {sculpt['variable']} spectrum before and after cuts at fixed signal "
                    "efficiencies; the Jensen-Shannon divergence (bits) between them is 0 for a tagger that does "
                    "not sculpt it. Distance correlation² of score and variable on background: "
                    f"{_fmt(sculpt['distance_correlation'])}."
                ),
            )
        )
    if figs.get("uncertainty"):
        numbers = result["model_uncertainty"]
        rows = [[k, _fmt(v)] for k, v in numbers.items() if not isinstance(v, dict)]
        sections.append(
            Section(
                title="Model uncertainty",
                figures=list(figs["uncertainty"]),
                tables=[("The model's own uncertainty on the test events", ["quantity", "value"], rows)],
                text=(
                    "The spread of the score over ensemble members, dropout masks or weight draws. A regression's "
                    "intervals ŷ ± z sqrt(σ² + σ_model²) should cover 68.27% and 95.45% of the events in every "
                    "bin of σ_model."
                ),
            )
        )
    if figs.get("generated"):
        gen = result["generated"]
        rows = [[c, _fmt(v), _fmt(gen["wasserstein_over_std"][c])] for c, v in gen["wasserstein"].items()]
        sections.append(
            Section(
                title="Generated events",
                figures=list(figs["generated"]),
                tables=[("1-Wasserstein distance per feature", ["feature", "W1", "W1 / σ(real)"], rows)],
                text=(
                    f"{gen['n_events']} events drawn from the model against as many real test events: a boosted "
                    f"classifier tells them apart with AUC {_fmt(gen['two_sample_auc'])} (0.5: indistinguishable)"
                    + (
                        f" from their pixels, {_fmt(gen['observables_auc'])} from the jet observables below"
                        if "observables_auc" in gen
                        else ""
                    )
                    + f"; Fréchet distance of the standardised features {_fmt(gen['frechet_distance'])}."
                ),
            )
        )
    if figs.get("importance"):
        sections.append(
            Section(
                title="Feature importance",
                figures=list(figs["importance"]),
                tables=[],
                text=f"Permutation importance: {_importance_measure(result)} when a feature is shuffled.",
            )
        )
    return sections


def _importance_measure(result: Mapping[str, Any]) -> str:
    """What the permutation importance measures, as the evaluated task states it."""
    return str(result.get("permutation_importance_measures") or "the change of the task's metric")


def _latent_sections(figs: Mapping[str, Sequence[Path]]) -> list[Any]:
    """An autoencoder's latent space and reconstructed images, when the evaluation drew them."""
    from neyman.report import Section

    if not figs.get("latent"):
        return []
    text = (
        "The autoencoder's latent codes of test events on the two principal axes of the background's codes; for "
        "jet images, inputs beside their reconstructions at the median, 90th and 99th percentile of each class's "
        "anomaly score."
    )
    return [Section(title="Latent space and reconstructions", figures=list(figs["latent"]), tables=[], text=text)]


def _warning_sections(result: Mapping[str, Any]) -> list[Any]:
    """What the evaluation warned about, first in the report (a reader of the report sees no console)."""
    from neyman.report import Section

    noted = [str(m) for m in result.get("warnings") or []]
    if not noted:
        return []
    return [Section(title="Warnings", figures=[], tables=[], text="\n\n".join(f"warning: {m}" for m in noted))]


def _input_files(run: RunDirectory, cfg: RunConfig, result: Mapping[str, Any]) -> dict[str, str]:
    """The training files as the run recorded them at its start, and the files evaluated on.

    The training files' checksums are those of the bytes the run trained on (``inputs.json``),
    not of whatever the paths hold now; a run from before the records reads "not recorded".
    """
    recorded = json.loads(run.inputs.read_text()) if run.inputs.is_file() else []
    evaluated = source_records([(path, None) for path in result.get("test_data", [])])
    sources = cfg.data.sources
    roles = ["test file" if i < len(sources) and sources[i].test else "training file" for i in range(len(recorded))]
    # a test file stands in for the training source of its position: its events take that source's class
    given = [f"evaluated file (class {s.label!r})" if s.label is not None else "evaluated file" for s in sources]
    roles += [given[i] if i < len(given) else "evaluated file" for i in range(len(evaluated))]
    files = {
        f"{role} {r['path']}": f"sha256 {r['sha256'][:16]}" if r.get("sha256") else "not a regular file"
        for role, r in zip(roles, [*recorded, *evaluated], strict=True)
    }
    if not recorded:
        files["training files"] = "not recorded (a run from before neyman kept inputs.json)"
    return files


def _provenance_section(run: RunDirectory, cfg: RunConfig, meta: Mapping[str, Any], result: Mapping[str, Any]) -> Any:
    from neyman.report import Section, provenance_table

    files = _input_files(run, cfg, result)
    provenance = {
        "run": str(run.path),
        "model": meta.get("family"),
        "task": meta.get("task"),
        "seed": cfg.seed,
        "created": meta.get("created"),
        **meta.get("versions", {}),
        **files,
    }
    return Section(
        title="Configuration and provenance",
        figures=[],
        tables=[provenance_table(provenance)],
        code=run.config.read_text(),
    )


def build_report(
    run: RunDirectory,
    cfg: RunConfig,
    result: Mapping[str, Any],
    figs: Mapping[str, Sequence[Path]],
    out_dir: Path,
) -> Path:
    """Write ``out_dir/report.html`` (self-contained) from an evaluation's numbers and figures.

    Parameters
    ----------
    run, cfg
        The evaluated run and its configuration.
    result
        The evaluation's numbers (what ``metrics.json`` stores under ``evaluation``).
    figs
        Report section (``inputs``, ``history``, ``roc``, ``scores``, ...) → PNG files.
    out_dir
        Where the report goes.
    """
    from neyman.report import write_report

    meta = json.loads(run.metadata.read_text())
    train_metrics = json.loads(run.metrics.read_text()) if run.metrics.is_file() else {}
    sections = [
        *_warning_sections(result),
        *_input_sections(figs, meta, train_metrics),
        *_output_sections(figs, result, cfg),
        *_analysis_sections(figs, result),
        *_latent_sections(figs),
        _provenance_section(run, cfg, meta, result),
    ]
    return write_report(
        out_dir / "report.html",
        sections,
        title=f"neyman run {run.path.name}",
        subtitle=f"{meta.get('family')} · {meta.get('task')}",
    )
