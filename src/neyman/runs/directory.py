"""The run directory: layout, status and the never-overwrite rule."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neyman.atomic import changed_files, file_sha256, pid_alive, remove_stale, stale_siblings, write_json, write_text
from neyman.exceptions import ModelError, NeymanWarning, RunDirectoryError
from neyman.runs.guard import RUN_MARKER, RUN_STATES, check_folders_above, enclosing_run, is_run

__all__ = ["HUNT_FILE", "RunDirectory"]

STATUS_FILE = RUN_MARKER

HUNT_FILE = "hunt.json"
"""The summary every hunt run holds; it lists each window's models."""

NESTED_RUN_FOLDERS = ("windows", "replicas")
"""The folders of a run where neyman keeps runs of its own: a hunt's windows, a DCTR fit's replicas."""


@dataclass(frozen=True)
class RunDirectory:
    """Paths of one run (see DESIGN.md, "The run directory").

    ``status.json`` says ``running`` while a training is under way and
    ``complete`` when every artefact is written, so a half-written run is
    recognisable (and resumable with ``neyman train --resume``).
    """

    path: Path

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def inputs(self) -> Path:
        """The input files as the run found them when it started (:mod:`neyman.runs.sources`)."""
        return self.path / "inputs.json"

    @property
    def model(self) -> Path:
        return self.path / "model"

    @property
    def preprocessing(self) -> Path:
        return self.path / "preprocessing.json"

    @property
    def metadata(self) -> Path:
        return self.path / "model" / "metadata.json"

    @property
    def history(self) -> Path:
        return self.path / "history.csv"

    @property
    def predictions(self) -> Path:
        return self.path / "predictions.parquet"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.json"

    @property
    def plots(self) -> Path:
        return self.path / "plots"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    def status(self) -> str:
        """``complete``, ``running``/``failed`` (resumable), or ``missing``."""
        if not (self.path / STATUS_FILE).is_file():
            return "missing"
        state = self._status_record().get("state")
        return state if state in RUN_STATES else "unknown"  # not JSON, not a record, or no state neyman writes

    def made_by(self) -> str:
        """The neyman command that made the run (``train`` where the status does not say)."""
        verb = self._status_record().get("made_by")
        return verb if isinstance(verb, str) else "train"

    def running_pid(self) -> int | None:
        """The process training the run now: the pid its ``running`` status records, if that process lives."""
        record = self._status_record()
        pid = record.get("pid")
        if record.get("state") != "running" or not isinstance(pid, int) or pid == os.getpid():
            return None
        return pid if pid_alive(pid) else None

    def _status_record(self) -> dict[str, Any]:
        """``status.json`` as a record (empty when it is missing, not JSON or not a record)."""
        try:
            record = json.loads((self.path / STATUS_FILE).read_text())
        except (OSError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    def _again(self) -> str:
        """How to finish or redo this unfinished run: resume a training, rerun another command's."""
        verb = self.made_by()
        if verb == "train":
            return f"finish it with neyman train --resume {self.path}, or train it again with --force"
        return f"run neyman {verb} again with --force"

    def set_status(self, state: str, **extra: object) -> None:
        """Record the run's state with a timestamp (keeping the command that made it, ``made_by``)."""
        made_by = extra.pop("made_by", None) or self.made_by()
        write_json(
            self.path / STATUS_FILE,
            {"state": state, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "made_by": made_by, **extra},
        )

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        force: bool = False,
        resumable: bool = True,
        inputs: Sequence[str] = (),
    ) -> tuple[RunDirectory, RunDirectory | None]:
        """Prepare a new run at ``path``.

        Returns the directory to write into and, when ``force`` replaces an
        existing run, the final location: the new run is written beside the old
        one and swapped in only when complete (:meth:`commit`), so a failed
        training never leaves a half-overwritten run.  ``resumable``: whether an
        interrupted run of this kind can be resumed (``neyman train --resume``);
        the error for an existing unfinished run says so.  ``inputs``: the files
        the new run reads (``file.root:tree`` allowed); a run holding one of them is
        never replaced, as that would delete the file.
        """
        final = cls(Path(path))
        if final._replaceable(force=force, resumable=resumable, inputs=inputs):
            staging = cls(final.path.with_name(f".{final.path.name}.new-{os.getpid()}"))
            if staging.path.exists():
                shutil.rmtree(staging.path)
            staging.path.mkdir(parents=True)
            return staging, final
        final.path.mkdir(parents=True, exist_ok=True)
        return final, None

    @classmethod
    def check_creatable(cls, path: str | os.PathLike[str], *, force: bool = False, inputs: Sequence[str] = ()) -> None:
        """Raise as :meth:`create` would for ``path``, without creating it: to check several runs before any starts."""
        cls(Path(path))._replaceable(force=force, resumable=True, inputs=inputs)

    @classmethod
    def create_in_place(
        cls, path: str | os.PathLike[str], *, force: bool = False, inputs: Sequence[str] = ()
    ) -> tuple[RunDirectory, Path | None]:
        """Prepare a new run written at its final path, for runs that hold runs of their own.

        A hunt's window classifiers are runs that record their own paths, so the hunt
        cannot be written under a temporary name and renamed. With ``force`` the earlier
        run is moved aside to ``.NAME.old-PID`` and its path returned:
        :meth:`drop_previous` removes it once the new run is complete,
        :meth:`fail` puts it back when the new run fails.  ``inputs`` as for :meth:`create`.
        """
        final = cls(Path(path))
        if not final._replaceable(force=force, resumable=False, inputs=inputs):
            final.path.mkdir(parents=True, exist_ok=True)
            return final, None
        previous = final.path.with_name(f".{final.path.name}.old-{os.getpid()}")
        if previous.exists():
            shutil.rmtree(previous)
        os.replace(final.path, previous)
        final.path.mkdir()
        return final, previous

    def drop_previous(self, previous: Path | None) -> None:
        """Remove the earlier run moved aside by :meth:`create_in_place` (no-op without one)."""
        if previous is not None:
            _remove(previous)

    def fail(self, exc: BaseException, previous: Path | None) -> None:
        """Record that the run failed; when it replaced an earlier run (:meth:`create_in_place`), put that back."""
        if previous is not None and previous.exists():
            shutil.rmtree(self.path, ignore_errors=True)
            os.replace(previous, self.path)
        else:
            self.set_status("failed", error=f"{type(exc).__name__}: {exc}")

    def _restore_interrupted_replacement(self) -> None:
        """Put back an earlier run that a killed ``--force`` moved aside before its replacement was complete.

        :meth:`create_in_place` and :meth:`commit` move the earlier run to ``.NAME.old-PID``.
        Left by a dead process while the run at the path is missing or unfinished, it is the
        last complete run: it replaces the unfinished one instead of being removed as stale.
        """
        for previous in stale_siblings(self.path, kinds=("old",)):
            if not previous.is_dir() or previous.is_symlink() or not is_run(previous):
                continue
            if self.path.exists() and self.status() == "complete":
                continue  # the replacement finished; the earlier run was being removed
            if self.path.exists():
                shutil.rmtree(self.path)
            os.replace(previous, self.path)
            warnings.warn(
                f"{self.path}: a process replacing this run was stopped before the new run was complete; "
                "the earlier run is put back",
                NeymanWarning,
                stacklevel=4,
            )
            return

    def _refuse_nesting(self) -> None:
        """Refuse a run inside another run, outside the folders where neyman's own runs keep theirs.

        A run replaced with ``--force`` takes everything in its folder along, and its
        model size and file checks would count the nested run.  A hunt keeps its window
        classifiers and flows under ``windows/``, a DCTR fit its replicas under
        ``replicas/`` (:data:`NESTED_RUN_FOLDERS`).
        """
        outer = enclosing_run(self.path.parent)
        if outer is None:
            return
        try:
            inner = Path(os.path.realpath(self.path)).relative_to(outer).parts
        except ValueError:  # a link out of the run: the new run lies elsewhere
            return
        if not inner or inner[0] not in NESTED_RUN_FOLDERS:
            raise RunDirectoryError(
                f"{self.path} is inside the run directory {outer}: replacing that run (--force) would delete it, "
                "and its files would be counted as that run's; give the new run an --output-dir outside the runs"
            )

    def _replaceable(self, *, force: bool, resumable: bool, inputs: Sequence[str] = ()) -> bool:
        """Whether ``force`` replaces an earlier run here; raise when the folder may not be written.

        Replacing a run deletes everything in it: an input file stored inside it is refused.
        """
        if self.path.exists() and not self.path.is_dir():
            raise RunDirectoryError(f"{self.path} is a file, not a run directory; choose another run name")
        check_folders_above(self.path)
        self._refuse_nesting()
        self._restore_interrupted_replacement()
        remove_stale(self.path)
        if self.path.exists() and any(self.path.iterdir()):
            if not is_run(self.path):
                raise RunDirectoryError(
                    f"{self.path} holds files but is not a neyman run (no {RUN_MARKER} that neyman wrote): neyman "
                    "never writes into it, and --force only replaces neyman runs; choose another name (--name) or "
                    "output directory (--output-dir)"
                )
            if not force:
                state, verb = self.status(), self.made_by()
                if (not resumable or verb != "train") and state in ("running", "failed"):
                    raise RunDirectoryError(
                        f"{self.path} already holds an unfinished run of neyman {verb} (status: {state}), which "
                        "cannot be resumed; pass --force to run it again, or choose another name (--name)"
                    )
                hint = {
                    "running": f"if it was interrupted, resume it with: neyman train --resume {self.path}",
                    "failed": (
                        f"if it was interrupted, resume it with: neyman train --resume {self.path}; if its "
                        "configuration or data were wrong, fix them and pass --force to start afresh"
                    ),
                }.get(state, "choose another name (--name) or pass --force to replace it")
                raise RunDirectoryError(f"{self.path} already holds a run (status: {state}); {hint}")
            self._refuse_inputs_inside(inputs)
            return True
        return False

    def _refuse_inputs_inside(self, inputs: Sequence[str]) -> None:
        """Refuse to replace this run while an input file of the new run lies inside it."""
        from neyman.io import parse_source

        here = self.path.resolve()
        for source in inputs:
            file = Path(parse_source(str(source))[0]).resolve()
            if file.is_relative_to(here):
                raise RunDirectoryError(
                    f"{source} lies inside the run {self.path}, which --force would replace, deleting the file: move "
                    f"it out of the run directory first (e.g. mv {source} {self.path.parent}/), or choose another name "
                    "(--name)"
                )

    def commit(self, final: RunDirectory | None) -> RunDirectory:
        """Swap a staged run into ``final`` (no-op when written in place)."""
        if final is None:
            return self
        old = final.path.with_name(f".{final.path.name}.old-{os.getpid()}")
        os.replace(final.path, old)
        os.replace(self.path, final.path)
        _remove(old)
        return final

    def write_history(self, histories: Sequence[Mapping[str, Sequence[float]] | None]) -> None:
        """Write ``history.csv``: one row per epoch (networks) or iteration (boosted trees).

        With several folds every row carries its ``fold``; models without a history
        (linear baselines) write nothing.
        """
        rows: list[dict[str, Any]] = []
        for fold, h in enumerate(histories):
            if not h:
                continue
            n = max(len(v) for v in h.values())
            for i in range(n):
                row: dict[str, Any] = {"fold": fold} if len(histories) > 1 else {}
                row.update({k: v[i] for k, v in h.items() if i < len(v)})
                if "epoch" not in row:
                    row = {"iteration": i + 1, **row}
                rows.append(row)
        if not rows:
            return
        fields = list(dict.fromkeys(k for r in rows for k in r))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        write_text(self.history, buf.getvalue())

    def read_history(self) -> dict[str, list[float]]:
        """The learning curves of ``history.csv`` (fold 0 of a k-fold run); empty without one.

        Boosted trees record iterations where networks record epochs: both come
        back under ``epoch``, the same x axis.
        """
        if not self.history.is_file():
            return {}
        with open(self.history, newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows or "fold" in rows[0]:
            rows = [r for r in rows if r.get("fold", "0") == "0"]
        cols: dict[str, list[float]] = {}
        for r in rows:
            for k, v in r.items():
                if v not in ("", None) and k != "fold":
                    cols.setdefault("epoch" if k == "iteration" else k, []).append(float(v))
        return cols

    def artefacts(self) -> list[str]:
        """The files a loaded run reads, as POSIX paths relative to the run directory.

        ``preprocessing.json``, ``predictions.parquet`` and every file under
        ``model/`` (weights, boosters, coefficients, ``model.json``, those of each
        fold) except ``model/metadata.json``, which records their checksums.
        Hidden files (temporary names of unfinished writes) are not artefacts.
        """
        files = [p for p in (self.preprocessing, self.predictions) if p.is_file()]
        if self.model.is_dir():
            files += sorted(
                p
                for p in self.model.rglob("*")
                if p.is_file()
                and p != self.metadata
                and not any(part.startswith(".") for part in p.relative_to(self.model).parts)
            )
        return [p.relative_to(self.path).as_posix() for p in files]

    def artefact_checksums(self) -> dict[str, str]:
        """The SHA-256 of every file of :meth:`artefacts`, recorded in ``model/metadata.json``
        when a training finishes and compared by :meth:`verify_artefacts` when the run is loaded."""
        return {name: file_sha256(self.path / name) for name in self.artefacts()}

    def verify_artefacts(self, checksums: Mapping[str, str], *, names: Iterable[str] | None = None) -> None:
        """Check the run's files against the SHA-256 recorded when it was written.

        Parameters
        ----------
        checksums
            The ``checksums`` of ``model/metadata.json``: path relative to the run
            directory → SHA-256.
        names
            Check only these of the recorded files (default: all of them); names
            without a recorded checksum are not checked.

        Raises
        ------
        ModelError
            A file is missing or its bytes changed since the run was written (the
            file is named): the run's model cannot be loaded as it was trained.
        RunDirectoryError
            The record itself is damaged (a name outside the run, a digest that is
            not a string).
        """
        wanted = checksums if names is None else {n: checksums[n] for n in names if n in checksums}
        try:
            changed = changed_files(self.path, wanted)
        except ValueError as exc:
            raise RunDirectoryError(
                f"{self.path} is damaged: 'checksums' of {self.metadata} is invalid: {exc} (train the run again)"
            ) from exc
        if not changed:
            return
        modified = [str(self.path / n) for n in changed if (self.path / n).is_file()]
        missing = [str(self.path / n) for n in changed if not (self.path / n).is_file()]
        what = []
        if modified:
            what.append(
                f"{', '.join(modified)} {'was' if len(modified) == 1 else 'were'} modified or damaged since the run "
                f"was written (the SHA-256 recorded in {self.metadata} no longer matches)"
            )
        if missing:
            what.append(
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing (deleted or moved since the run "
                "was written)"
            )
        files = "the file" if len(changed) == 1 else "the files"
        raise ModelError(
            f"{'; '.join(what)}: restore {files} from a copy, or train the run again (neyman train CONFIG --force)"
        )

    def read_metrics(self) -> dict[str, Any]:
        """The run's ``metrics.json`` (empty when there is none).

        Raises
        ------
        RunDirectoryError
            The file is not JSON, or not a mapping (checked before any work uses it).

        Warns
        -----
        NeymanWarning
            A complete run without the file (every training writes it): its training figures are lost.
        """
        if not self.metrics.is_file():
            if self.status() == "complete":
                warnings.warn(
                    f"{self.metrics} is missing from this complete run: the training's figures (train, val, test, "
                    "training time) are lost and are not shown; train the run again to have them",
                    NeymanWarning,
                    stacklevel=2,
                )
            return {}
        try:
            metrics = json.loads(self.metrics.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RunDirectoryError(f"{self.metrics} is damaged ({exc}); train the run again") from None
        if not isinstance(metrics, dict):
            kind = type(metrics).__name__
            raise RunDirectoryError(f"{self.metrics} holds a {kind}, not a mapping; train the run again")
        seconds = metrics.get("training_seconds", 0.0)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise RunDirectoryError(
                f"{self.metrics} is damaged: training_seconds is {seconds!r}, not a number; train the run again"
            )
        return metrics

    def require_complete(self) -> None:
        """Raise unless this is a finished run (its ``status.json``, when there is one, says ``complete``)."""
        if self.path.exists() and not self.path.is_dir():
            raise RunDirectoryError(f"{self.path} is a file, not a run directory; give the folder neyman train wrote")
        if not self.path.is_dir():
            raise RunDirectoryError(f"run directory {self.path} does not exist{self._earlier_kept()}")
        if not (self.model / "metadata.json").is_file():
            if (self.path / HUNT_FILE).is_file():
                raise RunDirectoryError(
                    f"{self.path} is a hunt: its classifiers are the runs in {self.path / 'windows'}/<window>/; "
                    f"score new events with neyman predict {self.path} --input FILE (the ensemble's anomaly score), "
                    "or give one of those classifier runs to this command"
                )
            if (self.path / "trials.csv").is_file() and any(self.path.glob("trial-*")):
                raise RunDirectoryError(
                    f"{self.path} is a tuning study: its trials are the runs {self.path}/trial-NNNN/, its report "
                    f"{self.path / 'tuning.html'}; give a trial's folder to this command, or train best.yaml"
                )
            state = self.status()
            hint = f"; {self._again()}" if state in ("running", "failed") else ""
            raise RunDirectoryError(
                f"{self.path} is not a finished neyman run (model/metadata.json is missing; status: {state}){hint}"
                f"{self._earlier_kept()}"
            )
        state = self.status()
        if state in ("running", "failed", "unknown"):
            said = "is damaged (no record of a known state)" if state == "unknown" else f"says {state!r}"
            raise RunDirectoryError(
                f"{self.path} is not a finished run (status.json {said}): its model may be incomplete; {self._again()}"
                f"{self._earlier_kept()}"
            )

    def _earlier_kept(self) -> str:
        """Where a stopped ``--force`` left the earlier, complete run (``.NAME.old-PID``), as a hint; or ``""``."""
        for previous in stale_siblings(self.path, kinds=("old",)):
            if previous.is_dir() and not previous.is_symlink() and is_run(previous):
                return (
                    f"; the earlier, complete run is kept in {previous} (a --force was stopped): the next neyman "
                    f"{self.made_by()} of this run without --force puts it back, or move it back yourself"
                )
        return ""


def _remove(path: Path) -> None:
    """Remove an earlier run moved aside: its folder, or the symbolic link that led to it (a link's
    target is left alone: it lies outside the output directory)."""
    if path.is_symlink():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)
