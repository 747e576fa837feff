"""``neyman evaluate``, ``neyman report`` and ``neyman compare``."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from neyman.cli.guard import run_guarded
from neyman.cli.output import output_console
from neyman.exceptions import ConfigError
from neyman.metrics import rejection_text

__all__ = ["register"]

EVALUATE_EXAMPLES = """
[bold]Examples[/]

  neyman evaluate runs/mlp-binary

  neyman evaluate runs/bdt --yields 120,45000 --sigma-b 0.1 --working-point 0.7

  neyman evaluate runs/bdt --test-data sig_2024.root:events --test-data bkg_2024.root:events

  neyman evaluate runs/tagger --variation alphas=top.parquet,qcd_as13.parquet --variation jes=top_j.parquet,qcd_j.root
"""

COMPARE_EXAMPLES = """
[bold]Example[/]

  neyman compare runs/bdt runs/mlp runs/fisher --out comparison
"""


MAX_BOOTSTRAP = 100_000
"""The most bootstrap replicas ``evaluate`` accepts (a typo of a few more zeros would run for hours)."""


def _yields(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        s, b = (float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"--yields takes two numbers 'S,B' (expected signal and background), got {text!r}") from None
    if s <= 0 or b <= 0:
        raise ConfigError(f"--yields must be positive, got {text!r}")
    return s, b


def _variations(texts: list[str]) -> dict[str, list[str]]:
    """``NAME=FILE[,FILE...]`` options as a mapping, refused when malformed."""
    out: dict[str, list[str]] = {}
    for text in texts:
        name, sep, files = text.partition("=")
        name = name.strip()
        paths = [f.strip() for f in files.split(",") if f.strip()]
        if not sep or not name or not paths:
            raise ConfigError(f"--variation takes NAME=FILE[,FILE...] (one file per training source), got {text!r}")
        if not re.fullmatch(r"[\w.+-]+", name):
            raise ConfigError(
                f"--variation name {name!r}: use letters, digits and _ . + - only (e.g. jes_up, alphas-0.127); "
                "the name labels the tables, plots and variations.json"
            )
        if name in out or name == "nominal":
            raise ConfigError(f"--variation name {name!r} is given twice or is reserved; give each its own name")
        out[name] = paths
    return out


DEFAULT_EFFICIENCIES = "0.3,0.5,0.7"
"""The nominal signal efficiencies of a systematic variation's cuts."""


def _efficiencies(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--efficiencies takes numbers such as 0.3,0.5,0.7, got {text!r}") from None


def _print_variations(console: Console, summary: dict[str, Any], report: Path) -> None:
    table = RichTable(title="working points under the variations (cut fixed on nominal signal)")
    for col in ("variation", "ε_S", "Δε_S/ε_S", "Δ(1/ε_B)/(1/ε_B)", "ΔAUC"):
        table.add_column(col, justify="left" if col == "variation" else "right")

    def pct(pair: list[float]) -> str:
        if pair[0] is None or not math.isfinite(pair[0]):
            return "n/a"  # no background event passes the cut: no rejection to compare
        return f"{100 * pair[0]:+.1f} ± {100 * pair[1]:.1f} %"

    for name, v in summary["variations"].items():
        for wp in v["working_points"]:
            eff = f"{wp['target_efficiency']:.2f}"
            table.add_row(name, eff, pct(wp["signal_shift"]), pct(wp["rejection_shift"]), f"{v['auc_shift']:+.4f}")
    console.print(table)
    console.print(f"variations report: [bold]{report}[/]")


def register(app: typer.Typer) -> None:
    @app.command(epilog=EVALUATE_EXAMPLES)
    def evaluate(
        run: Path = typer.Argument(..., help="Run directory."),
        test_data: list[str] = typer.Option([], "--test-data", help="Evaluate on this file (one per training source)."),
        working_point: float | None = typer.Option(
            None, "--working-point", help="Binary: score threshold of the confusion matrix (default 0.5)."
        ),
        yields: str | None = typer.Option(
            None, "--yields", help="Binary: expected signal,background yields for the significance scan."
        ),
        sigma_b: float | None = typer.Option(
            None, "--sigma-b", help="With --yields: relative background uncertainty (Asimov significance)."
        ),
        by: str | None = typer.Option(None, "--by", help="Regression: bin bias and resolution in this feature."),
        discriminant: str | None = typer.Option(
            None, "--discriminant", help="Multi-class: ln p_S / Σ f_j p_j of this signal class, with a scan of f."
        ),
        bootstrap: int = typer.Option(200, "--bootstrap", help="Bootstrap replicas for the AUC uncertainty."),
        variation: list[str] = typer.Option(
            [], "--variation", help="Binary: NAME=FILE[,FILE] events of another generator/detector setting."
        ),
        efficiencies: str | None = typer.Option(
            None,
            "--efficiencies",
            help="With --variation: nominal signal efficiencies of the cuts [default: 0.3,0.5,0.7].",
        ),
    ) -> None:
        """Compute every metric and figure of a run and write its report.html."""
        from neyman.workflows.evaluate import evaluate as evaluate_workflow

        def body() -> None:
            if not 2 <= bootstrap <= MAX_BOOTSTRAP:
                raise ConfigError(
                    f"--bootstrap must be between 2 and {MAX_BOOTSTRAP:,} (replicas for the AUC uncertainty), got "
                    f"{bootstrap}; the default is 200, and {MAX_BOOTSTRAP:,} already estimate the uncertainty to "
                    "0.2 % (its relative error is 1/sqrt(2 R)) while the time grows with every replica"
                )
            varied = _variations(variation)
            if efficiencies is not None and not varied:
                raise ConfigError(
                    "--efficiencies gives the cuts of --variation NAME=FILE and does nothing without it; the "
                    "evaluation's own working point is --working-point"
                )
            v = None
            if varied:
                from neyman.workflows.variations import variations

                cuts = _efficiencies(DEFAULT_EFFICIENCIES if efficiencies is None else efficiencies)
                v = variations(run, varied, test_data=test_data, efficiencies=cuts)
            r = evaluate_workflow(
                run,
                test_data=test_data,
                working_point=working_point,
                yields=_yields(yields),
                sigma_b=sigma_b,
                by=by,
                n_bootstrap=bootstrap,
                discriminant=discriminant,
            )
            console = output_console()
            m = r.metrics
            if "auc" in m:
                spread = f" ± {m['auc_uncertainty']:.4f}" if "auc_uncertainty" in m else ""
                console.print(f"AUC {m['auc']:.4f}{spread}")
            if m.get("max_sic") is not None:
                console.print(f"max SIC {m['max_sic']:.2f}")
            console.print(f"{len(r.figures)} figures, report: [bold]{r.report}[/] ({r.seconds:.1f} s)")
            if v is not None:
                _print_variations(console, v.summary, v.report)

        run_guarded(body)

    @app.command(epilog="[bold]Example[/]\n\n  neyman report runs/mlp-binary\n")
    def report(run: Path = typer.Argument(..., help="Run directory.")) -> None:
        """Write the self-contained report.html of a run (inputs, training, output, ROC, importance, provenance).

        The evaluation is repeated with the options of the run's previous one (e.g. its --yields).
        """
        from neyman.workflows.evaluate import evaluate as evaluate_workflow

        def body() -> None:
            r = evaluate_workflow(run, same_options=True)
            output_console().print(f"report: [bold]{r.report}[/]")

        run_guarded(body)

    @app.command(epilog=COMPARE_EXAMPLES)
    def compare(
        runs: list[Path] = typer.Argument(..., help="Run directories; the first is the reference."),
        out: Path = typer.Option(Path("comparison"), "--out", help="Directory for the figure and the table."),
        force: bool = typer.Option(False, "--force", help="Replace an earlier comparison in --out."),
    ) -> None:
        """Put several runs on one ROC (with a ratio panel) and tabulate AUC, rejections, time, size."""
        from neyman.workflows.compare import compare as compare_workflow

        def body() -> None:
            r = compare_workflow(runs, out=out, force=force)
            table = RichTable(title="test-split comparison")
            for col in ("run", "model", "AUC", "1/ε_B(0.3)", "1/ε_B(0.5)", "train s", "size kB"):
                table.add_column(col, justify="left" if col in ("run", "model") else "right")
            for row in r.rows:
                table.add_row(
                    row["run"],
                    row["model"],
                    f"{row['auc']:.4f} ± {row['auc_uncertainty']:.4f}",
                    rejection_text(row["rejection_at_eff_0.3"], bool(row["rejection_at_eff_0.3_is_bound"])),
                    rejection_text(row["rejection_at_eff_0.5"], bool(row["rejection_at_eff_0.5_is_bound"])),
                    f"{row['training_seconds']:.1f}",
                    f"{row['model_bytes'] / 1024:.0f}",
                )
            console = output_console()
            console.print(table)
            console.print(f"figure: {r.figures[0]}  table: {r.table}")

        run_guarded(body)
