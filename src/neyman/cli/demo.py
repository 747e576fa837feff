"""``neyman demo``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table as RichTable

from neyman.cli.guard import run_guarded
from neyman.cli.output import output_console
from neyman.metrics import rejection_text

__all__ = ["register"]

EXAMPLES = """
[bold]Example[/]

  neyman demo --out neyman-demo
"""


def register(app: typer.Typer) -> None:
    @app.command(epilog=EXAMPLES)
    def demo(
        out: Path = typer.Option(Path("neyman-demo"), "--out", help="Directory for the data and the runs."),
        events: int = typer.Option(20_000, "--events", help="Jets to generate (half top, half QCD; cached)."),
        seed: int = typer.Option(1, "--seed", help="Seed of the generation and the training."),
        workers: int | None = typer.Option(None, "--workers", help="Generation workers (default: up to 2)."),
        no_progress: bool = typer.Option(False, "--no-progress", help="Hide the progress bars."),
    ) -> None:
        """Generate top and QCD jets with Pythia 8, then train, evaluate and compare a BDT, an MLP and a PFN."""
        from neyman.workflows.demo import DEMO_FEATURES
        from neyman.workflows.demo import demo as demo_workflow

        console = output_console()

        def body() -> None:
            console.print(
                f"neyman demo: {events} jets of top_vs_qcd (Pythia 8 + detector + FastJet, generated once and "
                f"cached), a BDT (XGBoost) and an MLP on {', '.join(DEMO_FEATURES)}, and a Particle Flow "
                "Network on the constituents; 60/20/20 train/val/test"
            )
            result = demo_workflow(out, n_jets=events, seed=seed, workers=workers, progress=not no_progress)
            table = RichTable(title="test split: AUC and QCD rejection 1/ε_B at top efficiency ε_S")
            for col in ("tagger", "AUC", "1/ε_B(0.5)", "1/ε_B(0.3)"):
                table.add_column(col, justify="left" if col == "tagger" else "right")
            for r in result.rows:
                table.add_row(
                    r["model"],
                    f"{r['auc']:.4f}±{r['auc_uncertainty']:.4f}",
                    rejection_text(r["rejection_at_eff_0.5"], r["rejection_at_eff_0.5_is_bound"]),
                    rejection_text(r["rejection_at_eff_0.3"], r["rejection_at_eff_0.3_is_bound"]),
                )
            for name, auc in result.baselines.items():
                table.add_row(name, f"{auc:.4f}", "", "")
            console.print(table)
            console.print(f"jets: {result.data}")
            for r in result.rows:
                console.print(f"{r['model']}: trained in {r['seconds']:.1f} s, run directory {r['run_dir']}")
            for name, report in result.reports.items():
                console.print(f"report of {name}: [bold]{report}[/]")
            console.print(f"ROC comparison: {result.comparison}")
            console.print(f"runs and data are in [bold]{result.directory}[/]")

        run_guarded(body)
