"""``neyman demo``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table as RichTable

from neyman.cli.main import run_guarded

__all__ = ["register"]

EXAMPLES = """
[bold]Example[/]

  neyman demo --out neyman-demo
"""


def register(app: typer.Typer) -> None:
    @app.command(epilog=EXAMPLES)
    def demo(
        out: Path = typer.Option(Path("neyman-demo"), "--out", help="Directory for the data and the runs."),
        events: int = typer.Option(200_000, "--events", help="Events in the embedded dataset."),
        seed: int = typer.Option(1, "--seed", help="Seed of the data and the training."),
        no_progress: bool = typer.Option(False, "--no-progress", help="Hide the training progress bar."),
    ) -> None:
        """Train, evaluate and compare a BDT and an MLP on an embedded dataset with a known optimum."""
        from neyman.workflows.demo import demo as demo_workflow

        console = Console()

        def body() -> None:
            console.print(
                f"neyman demo: {events} events with a known likelihood ratio, "
                "a BDT (XGBoost) and an MLP, 60/20/20 train/validation/test"
            )
            result = demo_workflow(out, n_events=events, seed=seed, progress=not no_progress)
            table = RichTable(title="test split: AUC and background rejection 1/ε_B at signal efficiency ε_S")
            for col in ("model", "AUC", "AUC/optimal", "1/ε_B(0.5)", "1/ε_B(0.3)"):
                table.add_column(col, justify="left" if col == "model" else "right")
            for r in result.rows:
                table.add_row(
                    r["model"],
                    f"{r['auc']:.4f}±{r['auc_uncertainty']:.4f}",
                    f"{r['auc_over_optimal']:.4f}",
                    f"{r['rejection_at_eff_0.5']:.1f}",
                    f"{r['rejection_at_eff_0.3']:.1f}",
                )
            table.add_row("true likelihood ratio", f"{result.optimal_auc:.4f}", "1.0000", "", "")
            console.print(table)
            for r in result.rows:
                console.print(f"{r['model']}: trained in {r['seconds']:.1f} s, run directory {r['run_dir']}")
            for name, report in result.reports.items():
                console.print(f"report of {name}: [bold]{report}[/]")
            console.print(f"ROC comparison: {result.comparison}")
            console.print(f"runs and data are in [bold]{result.directory}[/]")

        run_guarded(body)
