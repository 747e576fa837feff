"""``neyman sample``."""

from __future__ import annotations

from pathlib import Path

import typer

from neyman.cli.guard import run_guarded
from neyman.cli.output import output_console
from neyman.exceptions import ConfigError

__all__ = ["register"]

EXAMPLES = """
[bold]Examples[/]

  neyman sample runs/qcd-flow --events 1000000 --output qcd_fast.parquet

  neyman sample runs/jet-flow --events 10000 --condition jet_pt=500 --output jets_500.root

  neyman sample runs/jet-flow --condition pt_spectrum.parquet --output jets.h5 --seed 7

  neyman sample runs/qcd-images --events 50000 --condition pt=800 --output images_800.parquet
"""


def _condition(values: list[str]) -> dict[str, float] | str | None:
    """``COL=VALUE`` pairs as a mapping, or one file name."""
    if not values:
        return None
    pairs = [v for v in values if "=" in v]
    if not pairs:
        if len(values) > 1:
            raise ConfigError("--condition takes one file, or COL=VALUE pairs; got several files")
        return values[0]
    if len(pairs) != len(values):
        raise ConfigError("--condition takes one file, or COL=VALUE pairs; not both")
    out: dict[str, float] = {}
    for pair in pairs:
        column, _, value = pair.partition("=")
        column = column.strip()
        if not column:
            raise ConfigError(f"--condition {pair}: name the column, as in --condition COL=VALUE")
        if column in out:
            raise ConfigError(f"--condition gives {column!r} twice; give each condition column one value")
        try:
            out[column] = float(value)
        except ValueError:
            raise ConfigError(f"--condition {pair}: {value!r} is not a number") from None
    return out


def register(app: typer.Typer) -> None:
    @app.command(epilog=EXAMPLES)
    def sample(
        run: Path = typer.Argument(
            ..., help="A density run (task: density), a variational autoencoder run or a jet-image generator run."
        ),
        output: Path = typer.Option(..., "--output", "-o", help="Output file; format from its extension."),
        events: int | None = typer.Option(None, "--events", "-n", help="Events to draw."),
        condition: list[str] = typer.Option(
            [], "--condition", help="COL=VALUE (repeatable) or a file with the condition columns (one event per row)."
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of the draw (the same seed gives the same file)."),
        step_size: int = typer.Option(100_000, "--step-size", help="Events per chunk (bounds the memory)."),
        tree: str = typer.Option("events", "--tree", help="Tree (ROOT) or group (HDF5) of the output."),
        force: bool = typer.Option(False, "--force", help="Replace an earlier sample at --output."),
    ) -> None:
        """Draw events from a trained density, VAE or jet-image generator into a file (original column names; images
        as pixel_<row>_<column> columns)."""
        from neyman.workflows.sample import sample as sample_workflow

        def body() -> None:
            result = sample_workflow(
                run,
                output,
                events=events,
                condition=_condition(condition),
                seed=seed,
                step_size=step_size,
                tree=tree,
                force=force,
                progress=True,
            )
            names = result.columns
            shown = ", ".join(names if len(names) <= 12 else [*names[:3], "…", *names[-2:]])
            output_console().print(
                f"drew {result.n_events} events → [bold]{result.output}[/] ({len(names)} columns: {shown}; "
                f"provenance: {result.provenance.name})"
            )

        run_guarded(body)
