"""neyman's own version and the versions of the software a result was made with.

This is the one place that collects package versions: run metadata, tracking tags,
report provenance and generation provenance all read them from here.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterable
from importlib import metadata

__all__ = ["RUN_PACKAGES", "__version__", "environment", "package_versions"]

__version__ = "0.1.0"

RUN_PACKAGES = ("torch", "zuko", "xgboost", "xgboost-cpu", "lightgbm", "scikit-learn", "uproot", "pyarrow")
"""Distributions whose versions a trained run records (those installed)."""


def package_versions(packages: Iterable[str] = RUN_PACKAGES) -> dict[str, str]:
    """neyman's, Python's and NumPy's versions plus those of the installed ``packages``.

    Parameters
    ----------
    packages
        Distribution names; one that is not installed is left out.

    Returns
    -------
    dict[str, str]
        ``neyman``, ``python``, ``numpy`` and one entry per installed package.
    """
    import numpy as np

    out = {"neyman": __version__, "python": platform.python_version(), "numpy": np.__version__}
    for dist in packages:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def environment(packages: Iterable[str] = ("neyman", "numpy", "matplotlib")) -> dict[str, str]:
    """Versions of Python, the platform and the given packages, for a provenance table.

    Parameters
    ----------
    packages
        Distribution names; one missing is reported as ``"not installed"``.

    Returns
    -------
    dict[str, str]
        ``python``, ``platform`` and one entry per package.
    """
    info = {
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "platform": platform.platform(terse=True),
    }
    for name in packages:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = "not installed"
    return info
