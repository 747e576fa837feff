"""The neyman error hierarchy.

Every error a user can cause derives from :class:`NeymanError`.  The command line
prints such errors as one readable message (no traceback unless ``--debug``) and
exits non-zero; anything else is a bug in neyman.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

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
