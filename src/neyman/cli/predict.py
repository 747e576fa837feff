"""``neyman predict``."""

from __future__ import annotations

from pathlib import Path

import typer

from neyman.cli.guard import run_guarded
from neyman.cli.output import output_console

__all__ = ["register"]

EXAMPLES = """
[bold]Examples[/]

  neyman predict runs/mlp-binary --input data.root:events --output scored.root

  neyman predict runs/bdt --input new.parquet --output new_scored.parquet --step-size 500000

  neyman predict runs/bdt/model.onnx --input new.parquet --output new_scored.parquet
"""


def register(app: typer.Typer) -> None:
    @app.command(epilog=EXAMPLES)
    def predict(
        run: Path = typer.Argument(..., help="Run directory of a trained model, or an exported .onnx file."),
        input: str = typer.Option(..., "--input", "-i", help="Input file (file.root:tree for ROOT)."),
        output: Path = typer.Option(..., "--output", "-o", help="Output file; format from its extension."),
        tree: str | None = typer.Option(None, "--tree", help="Input tree (ROOT) or group (HDF5)."),
        output_tree: str | None = typer.Option(None, "--output-tree", help="Tree name in the output."),
        step_size: int = typer.Option(100_000, "--step-size", help="Events per chunk (bounds the memory)."),
        prefix: str = typer.Option(
            "", "--prefix", help="Prefix for the score column names (the output's provenance records them)."
        ),
        force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
    ) -> None:
        """Apply a trained model to a file in chunks, keeping its columns and adding scores."""
        from neyman.workflows.predict import predict as predict_workflow

        def body() -> None:
            result = predict_workflow(
                run,
                input,
                output,
                tree=tree,
                output_tree=output_tree,
                step_size=step_size,
                prefix=prefix,
                force=force,
                progress=True,
            )
            columns = ", ".join(result.score_columns)
            output_console().print(
                f"scored {result.n_events} events → [bold]{result.output}[/] (columns: {columns}); "
                f"provenance in {result.provenance}"
            )

        run_guarded(body)
