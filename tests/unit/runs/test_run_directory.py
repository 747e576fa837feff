"""What an existing run folder's error tells the user to do next."""

from __future__ import annotations

from pathlib import Path

import pytest

from neyman.exceptions import RunDirectoryError
from neyman.runs.directory import RunDirectory


def _unfinished(tmp_path: Path, state: str) -> Path:
    run, final = RunDirectory.create(tmp_path / "run")
    assert final is None
    run.set_status(state)
    return run.path


@pytest.mark.parametrize("state", ["running", "failed"])
def test_an_unfinished_training_points_to_resume(tmp_path: Path, state: str) -> None:
    path = _unfinished(tmp_path, state)
    with pytest.raises(RunDirectoryError, match=rf"status: {state}.*neyman train --resume {path}"):
        RunDirectory.create(path)


@pytest.mark.parametrize("state", ["running", "failed"])
def test_an_unfinished_run_that_cannot_resume_points_to_force(tmp_path: Path, state: str) -> None:
    path = _unfinished(tmp_path, state)
    with pytest.raises(RunDirectoryError) as err:
        RunDirectory.create(path, resumable=False)
    assert "cannot be resumed" in str(err.value) and "--force" in str(err.value)
    assert "--resume" not in str(err.value)
    staged, final = RunDirectory.create(path, resumable=False, force=True)  # --force still replaces it
    assert final is not None and final.path == path and staged.path != path
