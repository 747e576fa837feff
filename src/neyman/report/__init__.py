"""Self-contained HTML reports of runs.

The workflow layer assembles :class:`Section` objects (inputs, training history,
classifier output and overtraining, ROC and rejections, efficiencies and
significance, importance, configuration and provenance) and writes them with
:func:`write_report`; this package only renders.

Modules
-------
html
    ``Section``, ``Table``, ``render_report``, ``write_report``, ``format_value``.
provenance
    ``provenance_table`` and ``environment`` (software versions).
"""

from __future__ import annotations

from neyman.report.html import Section, Table, TableLike, format_value, render_report, write_report
from neyman.report.provenance import environment, provenance_table

__all__ = [
    "Section",
    "Table",
    "TableLike",
    "environment",
    "format_value",
    "provenance_table",
    "render_report",
    "write_report",
]
