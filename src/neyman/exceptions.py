"""The neyman error hierarchy.

Every error a user can cause derives from :class:`NeymanError`.  The command line
prints such errors as one readable message (no traceback unless ``--debug``) and
exits non-zero; anything else is a bug in neyman.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import fnmatch
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

__all__ = [
    "ConfigError",
    "DataError",
    "MissingDependencyError",
    "ModelError",
    "NeymanError",
    "NeymanWarning",
    "RunDirectoryError",
    "StorageError",
    "close_matches",
    "recorded_warnings",
]


class NeymanError(Exception):
    """Base class of every error caused by input rather than by a bug."""


class NeymanWarning(UserWarning):
    """A likely mistake that does not stop the work (the command line shows one ``warning:`` line)."""


class ConfigError(NeymanError):
    """A configuration value is missing, unknown or of the wrong type."""


class DataError(NeymanError):
    """An input file, column or value cannot be used as asked."""


class ModelError(NeymanError):
    """A model cannot be built, trained, saved or loaded as asked."""


class RunDirectoryError(NeymanError):
    """A run directory is missing, incomplete or would be overwritten."""


class StorageError(NeymanError):
    """A study or tracking store cannot be reached, opened or written."""


class MissingDependencyError(NeymanError, ImportError):
    """An optional dependency is not installed."""


@contextlib.contextmanager
def recorded_warnings() -> Iterator[Callable[[], list[str]]]:
    """Collect the messages of the :class:`NeymanWarning` raised inside, and raise every warning again on exit.

    A command that writes a record (an evaluation's ``metrics.json`` and report) keeps
    what it warned about there too, where a reader of the record sees it; the
    warnings still reach the console (or the caller's filters) once the block ends.

    Yields
    ------
    Callable[[], list[str]]
        The messages of neyman's warnings so far, in order.
    """
    held: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield lambda: [str(w.message) for w in caught if issubclass(w.category, NeymanWarning)]
            finally:
                held = list(caught)
    finally:
        for w in held:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


def close_matches(name: str, candidates: Iterable[str], *, n: int = 3) -> str:
    """Return a ``" (did you mean 'a', 'b'?)"`` hint, or ``""`` when nothing is close.

    Parameters
    ----------
    name
        The name the user gave.
    candidates
        The names that exist.
    n
        How many suggestions at most.
    """
    matches = difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.6)
    if not matches:
        return ""
    return " (did you mean " + ", ".join(repr(m) for m in matches) + "?)"


def missing_file(path: str | os.PathLike[str]) -> str:
    """Why a file cannot be found: ``" does not exist"`` with close names, or the broken link.

    Parameters
    ----------
    path
        A path for which :func:`os.path.exists` is false.

    Returns
    -------
    str
        Text to follow the path in a message: a dangling link names its target, a loop
        of links says so, and a missing name gets the close names of its folder (the
        name itself left out) and a missing folder.
    """
    if os.path.islink(path):
        target = "a path"
        try:
            target = os.readlink(path)
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return " is a link in a loop of links, which leads to no file; point it at the file"
        return f" is a link to {target}, which does not exist; point it at the file"
    file = Path(path)
    parent = file.parent
    nearby = sorted(p.name for p in parent.iterdir() if p.name != file.name) if parent.is_dir() else []
    where = "" if parent.is_dir() else f" (directory {parent} does not exist either)"
    if any(c in file.name for c in "*?["):
        matched = fnmatch.filter(nearby, file.name)
        more = f" and {len(matched) - 3} more" if len(matched) > 3 else ""
        held = f" (here it would match {', '.join(matched[:3])}{more})"
        return (
            f" does not exist{held if matched else ''}: neyman does not expand wildcards; leave the pattern "
            "unquoted for the shell to expand, or list the files"
        )
    return f" does not exist{close_matches(file.name, nearby)}{where}"
