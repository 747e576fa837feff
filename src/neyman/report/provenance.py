"""The provenance table of a report: what produced the results, and with which software."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from neyman.report.html import Table, format_value
from neyman.versions import environment

__all__ = ["environment", "provenance_table"]


def _flatten(mapping: Mapping[str, object], prefix: str = "") -> Iterable[tuple[str, object]]:
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            nested = list(_flatten(value, f"{name}."))
            yield from nested if nested else [(name, "")]
        else:
            yield name, value


def _cell(value: object) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return ", ".join(format_value(item) for item in items)
    return format_value(value)


def provenance_table(mapping: Mapping[str, object], *, caption: str = "Provenance") -> Table:
    """Turn a mapping of what produced a run into a two-column table.

    Parameters
    ----------
    mapping
        Item → value, e.g. run directory, seed, creation time, package versions and
        input-file checksums.  Nested mappings are flattened with dotted names
        (``{"versions": {"numpy": "2.1"}}`` → ``versions.numpy``); lists are joined
        with commas.
    caption
        Caption of the table.

    Returns
    -------
    Table
        Header ``["item", "value"]``, one row per (flattened) entry, in the mapping's
        order; every value already formatted as text, so the column stays
        left-aligned.
    """
    rows: list[list[object]] = [[name, _cell(value)] for name, value in _flatten(mapping)]
    return Table(caption, ["item", "value"], rows)
