"""``neyman tune``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table as RichTable

from neyman.cli.guard import run_guarded
from neyman.cli.output import output_console
from neyman.exceptions import ModelError

__all__ = ["register"]

EXAMPLES = """
[bold]Examples[/]

  neyman tune configs/tune.yaml --trials 20

  neyman tune configs/tune.yaml --trials 40 --workers 2 --study mlp-lr

  neyman tune configs/tune.yaml --trials 10 --storage postgresql://user:pw@dbhost/optuna   [dim]# each machine[/]

  neyman tune configs/tune.yaml --trials 20 --track   [dim]# and log to MLflow[/]

[bold]The tuning: section[/]

  tuning:
    space:
      training.optimizer.lr: {float: [1.0e-4, 1.0e-2], log: true}
      model.dropout: {float: [0.0, 0.5]}
      model.hidden: {layers: {n: [1, 4], width: {int: [32, 512], log: true}}}
      training.batch_size: {categorical: [256, 512, 1024]}
    objective: val.auc          [dim]# any number in metrics.json[/]
    sampler: tpe                [dim]# tpe | random | grid | cmaes | nsga2[/]
    pruner: median              [dim]# none | median | hyperband[/]
"""


def _every_trial_failed(table: Path | None, ran: int) -> str:
    """The message of a study whose trials all failed: how many, and the errors trials.csv records."""
    import csv

    errors: dict[str, list[str]] = {}
    if table is not None and table.is_file():
        with table.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.get("state") == "FAIL":
                    errors.setdefault(row.get("user_attrs_error") or "no error recorded", []).append(row["number"])
    said = "; ".join(
        f"trial {', '.join(numbers[:3])}{' ...' if len(numbers) > 3 else ''}: {error}"
        for error, numbers in errors.items()
    )
    return (
        f"no trial of the study has completed: the {ran} trial(s) run now failed ({said or 'see trials.csv'}); "
        "fix the configuration or the search space (tuning.space) and run the study again"
    )


def register(app: typer.Typer) -> None:
    @app.command(epilog=EXAMPLES)
    def tune(
        config: Path = typer.Argument(..., help="YAML run configuration with a tuning: section."),
        trials: int | None = typer.Option(
            None, "--trials", "-n", help="Trials to run now (added to the study; default tuning.trials)."
        ),
        workers: int | None = typer.Option(
            None, "--workers", "-w", help="Trials in parallel on this machine (Dask processes)."
        ),
        storage: str | None = typer.Option(
            None, "--storage", help="Optuna storage URL (default sqlite:///OUTPUT_DIR/STUDY/study.db)."
        ),
        study: str | None = typer.Option(None, "--study", help="Study name (default tuning.study, else NAME-study)."),
        set_: list[str] = typer.Option([], "--set", help="Override a key: section.key=value (repeatable)."),
        track: bool = typer.Option(False, "--track", help="Log the study and every trial to MLflow."),
    ) -> None:
        """Search hyper-parameters with Optuna: every trial is a training run; the best becomes best.yaml."""
        from neyman.workflows.tune import tune as tune_workflow

        console = output_console()

        def body() -> None:
            result = tune_workflow(
                config, overrides=set_, trials=trials, workers=workers, storage=storage, study=study, track=track
            )
            states = ", ".join(f"{n} {s.lower()}" for s, n in sorted(result.states.items()))
            console.print(
                f"study [bold]{result.study}[/] ({result.storage}): ran {len(result.trials_run)} trial(s) "
                f"in {result.seconds:.1f} s; the study holds {states}"
            )
            if result.best_trial is not None and result.best_value is not None:
                # on a line of its own: as the table's title it wrapped to the narrow table's width
                console.print(f"best trial {result.best_trial}: {result.objective} = {result.best_value:.5g}")
                table = RichTable()
                table.add_column("key")
                table.add_column("value", justify="right")
                for key, value in result.best_values.items():
                    table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
                console.print(table)
                console.print(f"best configuration: [bold]{result.best_config}[/]")
            else:
                console.print("[yellow]no trial has completed yet[/]")
            console.print(f"report: [bold]{result.report}[/]   trials: {result.trials_table}")
            if result.trials_run and not result.states.get("COMPLETE") and result.states.get("FAIL"):
                raise ModelError(_every_trial_failed(result.trials_table, len(result.trials_run)))

        run_guarded(body)
