"""The HEP look of figures (mplhep's experiment styles), scoped to a ``with`` block.

:func:`hep_style` returns a context manager; inside it matplotlib draws with the
chosen mplhep style (inward ticks on all four sides, minor ticks, axis labels at the
axis ends, TeX Gyre Heros fonts).  Nothing is changed process-wide: the previous
``rcParams`` come back when the block ends.  Without mplhep installed it is a no-op,
so code that uses it runs unchanged, only in matplotlib's default look.

matplotlib reads some style parameters only when a figure is drawn (tick labels are
created lazily), so wrap the whole life of a figure, creation to :func:`save`::

    with hep_style():
        fig, ax = figure()
        plot_roc(rocs, ax=ax)
        save(fig, "plots/roc")
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

import matplotlib.style

from neyman.exceptions import DataError, close_matches

__all__ = ["HEP_STYLES", "hep_rc", "hep_style", "mplhep_available"]

#: Names accepted by :func:`hep_style`, as mplhep calls its styles.
HEP_STYLES = ("ROOT", "ATLAS", "CMS", "LHCb2", "ALICE")

# mplhep's styles are made for a 10 × 10 inch figure; neyman's figures are about
# 6.4 × 4.8 inches, so absolute lengths (font size, tick length, line widths) are
# scaled down and the figure size and saving options are left to neyman.
_LENGTH_SCALE = 0.5
_LENGTH_SUFFIXES = (".size", ".width", ".pad", "linewidth", "markersize")
_LEFT_TO_NEYMAN = ("figure.", "savefig.")


def mplhep_available() -> bool:
    """Whether mplhep can be imported (its styles are then used by :func:`hep_style`)."""
    try:
        importlib.import_module("mplhep")
    except ImportError:
        return False
    return True


def _scaled(key: str, value: Any) -> Any:
    is_length = key.endswith(_LENGTH_SUFFIXES) and not key.startswith("legend.")
    if is_length and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) * _LENGTH_SCALE
    return value


def hep_rc(style: str = "ROOT") -> dict[str, Any]:
    """The ``rcParams`` that :func:`hep_style` applies; empty without mplhep.

    Parameters
    ----------
    style
        One of :data:`HEP_STYLES`; ``"ROOT"`` is the experiment-neutral one.

    Returns
    -------
    dict[str, Any]
        mplhep's style with the figure size and saving options removed and absolute
        lengths scaled to neyman's figure size.
    """
    if style not in HEP_STYLES:
        raise DataError(f"unknown HEP style {style!r}{close_matches(style, HEP_STYLES)}; use one of {HEP_STYLES}")
    try:
        mplhep = importlib.import_module("mplhep")
    except ImportError:
        return {}
    source = getattr(mplhep.style, style, None)
    if not isinstance(source, dict):
        # An mplhep release without this style: fall back to matplotlib's look.
        return {}
    return {key: _scaled(key, value) for key, value in source.items() if not key.startswith(_LEFT_TO_NEYMAN)}


@contextlib.contextmanager
def hep_style(style: str = "ROOT") -> Iterator[dict[str, Any]]:
    """Draw the figures made inside the ``with`` block in an mplhep style.

    Parameters
    ----------
    style
        One of :data:`HEP_STYLES`.

    Yields
    ------
    dict[str, Any]
        The parameters in force (empty when mplhep is not installed: a no-op).

    Notes
    -----
    Built on :func:`matplotlib.style.context`, so the previous parameters are restored
    on exit, also after an exception.
    """
    rc = hep_rc(style)
    with matplotlib.style.context(rc):
        yield rc
