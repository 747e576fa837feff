"""``neyman export``."""

from __future__ import annotations

from pathlib import Path

import typer

from neyman.cli.guard import run_guarded
from neyman.cli.output import output_console

__all__ = ["register"]

EXAMPLES = """
[bold]Examples[/]

  neyman export runs/mlp-binary --format onnx

  neyman export runs/bdt-kfold --fold 2 --out tagger_fold2.onnx
"""


def register(app: typer.Typer) -> None:
    @app.command(epilog=EXAMPLES)
    def export(
        run: Path = typer.Argument(..., help="Run directory."),
        fmt: str = typer.Option("onnx", "--format", help="Export format (onnx)."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Output file (default RUN/model.onnx)."),
        fold: int = typer.Option(0, "--fold", help="k-fold runs: the fold whose model is exported."),
        opset: int = typer.Option(17, "--opset", help="ONNX opset."),
        force: bool = typer.Option(False, "--force", help="Replace an existing .onnx file at --out."),
    ) -> None:
        """Export a model (preprocessing folded in) and verify it against the run before writing."""
        from neyman.workflows.export import export as export_workflow

        def body() -> None:
            r = export_workflow(run, format=fmt, out=out, fold=fold, opset=opset, force=force)
            console = output_console()
            console.print(
                f"wrote [bold]{r.path}[/] (ONNX Runtime matches the run to {r.max_relative_difference:.1e} relative)"
            )
            if r.uncertainty_left_out:
                console.print(
                    f"  the graph computes the scores only: {', '.join(r.uncertainty_left_out)} (the model's "
                    f"uncertainty) come from neyman predict {run}"
                )

        run_guarded(body)
