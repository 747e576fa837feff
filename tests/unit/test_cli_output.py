"""The results' console: a log or a pipe gets whole table headers."""

from __future__ import annotations

import pytest
from rich.table import Table

from neyman.cli.output import LOG_COLUMNS, output_console


def _printed(console_width_env: str | None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    if console_width_env is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", console_width_env)
    table = Table()
    for name in ("split", "loss", "accuracy", "auc", "rejection_at_eff_0.3", "rejection_at_eff_0.5", "max_sic"):
        table.add_column(name)
    table.add_row("test", "0.4290", "0.8333", "0.9123", "> 12", "> 12", "3.1")
    output_console().print(table)
    return capsys.readouterr().out


def test_a_table_written_to_a_pipe_keeps_its_headers_whole(monkeypatch, capsys):
    out = _printed(None, monkeypatch, capsys)
    assert "rejection_at_eff_0.3" in out and "rejection_at_eff_0.5" in out and "…" not in out
    assert max(len(line) for line in out.splitlines()) <= LOG_COLUMNS


def test_columns_in_the_environment_still_decide(monkeypatch, capsys):
    out = _printed("60", monkeypatch, capsys)
    assert max(len(line) for line in out.splitlines()) <= 60


def test_a_rename_blocked_by_a_folder_names_the_folder_on_one_line(capsys):
    """A folder named report.html in a run: the error named only the temporary file, and wrapped."""
    import typer

    from neyman.cli.guard import run_guarded

    def body() -> None:
        raise IsADirectoryError(21, "Is a directory", "runs/r/.report.html.tmp-1", None, "runs/r/report.html")

    with pytest.raises(typer.Exit) as stopped:
        run_guarded(body)
    assert stopped.value.exit_code == 2
    err = capsys.readouterr().err
    assert "error: Is a directory: runs/r/report.html (writing runs/r/.report.html.tmp-1 there)" in err


def test_an_output_folder_that_refuses_writes_names_the_output_not_its_temporary_name(capsys):
    """An export into a folder that cannot be written named only `.m.onnx.tmp-PID`."""
    import typer

    from neyman.cli.guard import run_guarded

    def body() -> None:
        raise PermissionError(1, "Operation not permitted", "/data/ro/.m.onnx.tmp-29299")

    with pytest.raises(typer.Exit) as stopped:
        run_guarded(body)
    assert stopped.value.exit_code == 2
    assert "error: Operation not permitted: /data/ro/m.onnx" in capsys.readouterr().err
