"""The example configurations that ship with neyman (``neyman train --example NAME``)."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from neyman.atomic import write_text
from neyman.exceptions import ConfigError, DataError, close_matches

__all__ = ["example_names", "write_example"]


def _folder() -> resources.abc.Traversable:
    return resources.files("neyman").joinpath("configs")


def example_names() -> list[str]:
    """Names of the shipped example configurations (file names without ``.yaml``)."""
    return sorted(entry.name.removesuffix(".yaml") for entry in _folder().iterdir() if entry.name.endswith(".yaml"))


def write_example(name: str, directory: str | os.PathLike[str] = ".", *, force: bool = False) -> Path:
    """Write the shipped configuration ``name`` to ``directory/name.yaml`` and return the file.

    Raises
    ------
    ConfigError
        No example of that name (the message lists them).
    DataError
        The file exists and ``force`` is not given.
    """
    names = example_names()
    if name not in names:
        raise ConfigError(
            f"no example configuration {name!r}{close_matches(name, names)}; choose one of {', '.join(names)}"
        )
    out = Path(directory) / f"{name}.yaml"
    if out.exists() and not force:
        raise DataError(f"{out} exists; remove it or choose another directory (nothing was written)")
    return write_text(out, _folder().joinpath(f"{name}.yaml").read_text(encoding="utf-8"))
