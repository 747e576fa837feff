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


@pytest.mark.parametrize("in_place", [False, True])
def test_force_over_a_link_to_a_run_leaves_neither_the_link_nor_its_target_touched(
    tmp_path: Path, in_place: bool
) -> None:
    """`runs/lnk` leads to a run elsewhere: --force writes a run at runs/lnk, drops the link (no `.lnk.old-PID`
    left behind) and leaves the run it led to as it was."""
    elsewhere, _ = RunDirectory.create(tmp_path / "elsewhere" / "run")
    elsewhere.set_status("complete")
    (tmp_path / "runs").mkdir()
    link = tmp_path / "runs" / "lnk"
    link.symlink_to(elsewhere.path, target_is_directory=True)
    if in_place:
        new, previous = RunDirectory.create_in_place(link, force=True)
        new.set_status("complete")
        new.drop_previous(previous)
    else:
        staged, final = RunDirectory.create(link, force=True)
        staged.set_status("complete")
        staged.commit(final)
    assert link.is_dir() and not link.is_symlink()
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["lnk"]
    assert (elsewhere.path / "status.json").is_file()
