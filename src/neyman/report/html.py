"""A self-contained HTML report: sections of text, figures and tables in one file.

The file needs nothing but a browser: images are embedded as base64 ``data:`` URIs,
the stylesheet is inline, there is no script and no web font, and a
Content-Security-Policy forbids loading anything from elsewhere, so the report
opens offline, can be mailed or archived with a run, and looks the same in ten
years.  Every piece of text is HTML-escaped: a feature called ``<script>`` is shown,
never run.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TypeAlias

import numpy as np
from matplotlib.figure import Figure

from neyman.atomic import write_text
from neyman.exceptions import DataError
from neyman.report.stylesheet import STYLESHEET

__all__ = [
    "Section",
    "Table",
    "TableLike",
    "format_value",
    "render_report",
    "write_report",
]

_FIGURE_DPI = 150.0
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Figures are shown at their physical size (pixels / dpi, in CSS inches of 96 px)
# or smaller: a 6.4-inch figure is 614 px wide on the page whatever dpi it was
# saved with.  PNGs without resolution metadata are taken to be at neyman's 150 dpi.
_CSS_DPI = 96.0
_ASSUMED_DPI = 150.0
# A figure wider than this (in CSS px, e.g. a grid of input distributions) gets the
# whole width of the page instead of one cell of the figure grid.
_WIDE_PX = 700
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
# Content-Security-Policy of the report: images only from data: URIs, the inline
# stylesheet, nothing else (no script, no fetch, no font, no frame).
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


class Table(NamedTuple):
    """A table of the report.

    Attributes
    ----------
    caption
        One line above the table saying what it holds.
    header
        Column titles.
    rows
        One list of cells per row, as many cells as ``header`` has titles.  Cells
        may be strings or numbers; numbers are formatted by :func:`format_value`.
    """

    caption: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]


#: A :class:`Table` or a plain ``(caption, header, rows)`` tuple.
TableLike: TypeAlias = Table | tuple[str, Sequence[str], Sequence[Sequence[object]]]
#: A figure of a section: an image file (PNG, JPEG or SVG) or a matplotlib Figure.
FigureLike: TypeAlias = Path | str | os.PathLike[str] | Figure


@dataclass(frozen=True)
class Section:
    """One section of the report, listed in its table of contents.

    Attributes
    ----------
    title
        Section heading.
    figures
        Image files (PNG, JPEG, SVG) or matplotlib Figures, embedded in this order.
        The caption of a file is its name (``roc_rejection.png`` → "roc rejection");
        that of a Figure its label (``Figure(label=...)``), else its title.
    tables
        :class:`Table` objects or ``(caption, header, rows)`` tuples.
    text
        Prose shown above the figures.  Paragraphs are separated by blank lines;
        line breaks and indentation inside a paragraph are kept.
    code
        Verbatim text shown last in a monospaced block, e.g. the resolved
        configuration (YAML) of the run.
    """

    title: str
    figures: Sequence[FigureLike] = field(default_factory=list)
    tables: Sequence[TableLike] = field(default_factory=list)
    text: str = ""
    code: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title.strip():
            raise DataError(f"a report section needs a non-empty title, got {self.title!r}")


class _Image(NamedTuple):
    mime: str
    data: bytes
    width: int | None
    height: int | None
    caption: str


# -- formatting ------------------------------------------------------------------------------


def format_value(value: object) -> str:
    """Format a table cell as plain text.

    Parameters
    ----------
    value
        A string (returned unchanged), a number, a bool, None or anything with a
        ``str``.

    Returns
    -------
    str
        Integers in full (digits grouped by thin spaces from 10 000 on); other
        floats with four significant digits, in fixed notation for
        ``10⁻³ ≤ |x| < 10⁶`` and as ``1.235 × 10⁻⁵`` outside; ``NaN``, ``∞``;
        ``—`` for None; ``yes``/``no`` for booleans.
    """
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return _group_digits(int(value))
    if isinstance(value, (float, np.floating)):
        return _format_float(float(value))
    return str(value)


def _group_digits(number: int) -> str:
    if abs(number) < 10_000:
        return str(number)
    # U+202F NARROW NO-BREAK SPACE: the SI thousands separator, never wrapped.
    return f"{number:,}".replace(",", "\u202f")


def _format_float(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == 0:
        return "0"
    magnitude = abs(x)
    if x == round(x) and magnitude < 1e15:
        return _group_digits(round(x))
    if 1e-3 <= magnitude < 1e6:
        decimals = max(0, 3 - math.floor(math.log10(magnitude)))
        text = f"{x:.{decimals}f}"
        # Rounding can carry into a new digit (9.9996 → 10.000): one decimal fewer.
        if len(text.lstrip("-").replace(".", "").lstrip("0")) > 4 and decimals > 0:
            text = f"{x:.{decimals - 1}f}"
        return text
    mantissa, exponent = f"{x:.3e}".split("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def _is_number(value: object) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return True
    if isinstance(value, str):
        text = value.strip().replace("\u202f", "").replace(" × 10", "e").translate(_FROM_SUPERSCRIPT)
        if not text:
            return False
        try:
            float(text.replace("∞", "inf"))
        except ValueError:
            return False
        return True
    return False


_FROM_SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _slug(title: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"
    slug, k = base, 2
    while slug in taken:
        slug, k = f"{base}-{k}", k + 1
    taken.add(slug)
    return slug


# -- figures ---------------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int | None, int | None]:
    """Display size of a PNG in CSS pixels (1/96 inch), from its IHDR and pHYs chunks."""
    if data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        return None, None
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    dots_per_inch = _ASSUMED_DPI
    offset = 8
    while offset + 8 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            break
        if kind == b"pHYs" and length == 9 and data[offset + 16] == 1:
            per_metre = int.from_bytes(data[offset + 8 : offset + 12], "big")
            if per_metre > 0:
                dots_per_inch = per_metre * 0.0254
        offset += 12 + length
    scale = _CSS_DPI / dots_per_inch
    return max(1, round(width * scale)), max(1, round(height * scale))


def _figure_caption(fig: Figure) -> str:
    label = fig.get_label()
    if label:
        return str(label)
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text():
        return str(suptitle.get_text())
    for ax in fig.axes:
        if ax.get_title():
            return ax.get_title()
    return ""


def _load_image(entry: FigureLike, section: str) -> _Image:
    if isinstance(entry, Figure):
        buffer = io.BytesIO()
        entry.savefig(buffer, format="png", dpi=_FIGURE_DPI, facecolor="white")
        data = buffer.getvalue()
        return _Image("image/png", data, *_png_size(data), _figure_caption(entry))
    path = Path(entry)
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        raise DataError(
            f"section {section!r}: cannot embed {path} in the report; a browser shows "
            f"{', '.join(sorted(_MIME))} images, so pass the PNG of the figure"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"section {section!r}: cannot read the figure {path}: {exc.strerror or exc}") from exc
    if mime == "image/png" and data[:8] != _PNG_SIGNATURE:
        raise DataError(f"section {section!r}: {path} does not start like a PNG image; is it complete?")
    width, height = _png_size(data) if mime == "image/png" else (None, None)
    return _Image(mime, data, width, height, path.stem.replace("_", " "))


def _figure_html(image: _Image, number: int) -> str:
    uri = f"data:{image.mime};base64,{base64.b64encode(image.data).decode('ascii')}"
    size = ""
    wide = False
    if image.width and image.height:
        size = f' width="{image.width}" height="{image.height}"'
        wide = image.width > _WIDE_PX
    caption = _escape(image.caption) if image.caption else ""
    alt = _escape(image.caption or f"figure {number}")
    css = ' class="wide"' if wide else ""
    return (
        f'<figure id="figure-{number}"{css}>'
        f'<img src="{uri}" alt="{alt}"{size}>'
        f'<figcaption><span class="label">Figure {number}.</span> {caption}</figcaption>'
        "</figure>"
    )


# -- tables ----------------------------------------------------------------------------------


def _as_table(entry: TableLike, section: str) -> Table:
    if isinstance(entry, Table):
        table = entry
    elif isinstance(entry, (tuple, list)) and len(entry) == 3:
        caption, header, rows = entry
        table = Table(str(caption), [str(h) for h in header], [list(row) for row in rows])
    else:
        raise DataError(f"section {section!r}: a table must be (caption, header, rows), got {entry!r:.80}")
    width = len(table.header)
    for k, row in enumerate(table.rows):
        if len(row) != width:
            raise DataError(
                f"section {section!r}, table {table.caption!r}: row {k} has {len(row)} cells "
                f"but the header has {width} columns ({list(table.header)})"
            )
    return table


def _table_html(table: Table, number: int) -> str:
    columns = list(zip(*table.rows, strict=True)) if table.rows else [() for _ in table.header]
    numeric = [bool(cells) and all(_is_number(c) for c in cells if c is not None and c != "") for cells in columns]
    align = [' class="num"' if is_numeric else "" for is_numeric in numeric]
    head = "".join(f'<th scope="col"{align[j]}>{_escape(str(h))}</th>' for j, h in enumerate(table.header))
    body = []
    for row in table.rows:
        cells = "".join(f"<td{align[j]}>{_escape(format_value(cell))}</td>" for j, cell in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    caption = _escape(table.caption)
    empty = "" if body else f'<tr><td colspan="{max(1, len(table.header))}" class="empty">no entries</td></tr>'
    return (
        f'<div class="table-wrap" id="table-{number}"><table>'
        f'<caption><span class="label">Table {number}.</span> {caption}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}{empty}</tbody></table></div>"
    )


# -- the page --------------------------------------------------------------------------------


def _paragraphs(text: str) -> str:
    blocks = [block.strip("\n") for block in re.split(r"\n[ \t]*\n", text.strip("\n"))]
    return "".join(f"<p>{_escape(block)}</p>" for block in blocks if block.strip())


def _counts(n_figures: int, n_tables: int) -> str:
    parts = []
    if n_figures:
        parts.append(f"{n_figures} figure{'s' if n_figures != 1 else ''}")
    if n_tables:
        parts.append(f"{n_tables} table{'s' if n_tables != 1 else ''}")
    return " · ".join(parts)


def _version() -> str:
    from neyman.versions import __version__

    return __version__


def render_report(
    sections: Sequence[Section],
    *,
    title: str = "neyman report",
    subtitle: str = "",
    generated: _dt.datetime | None = None,
) -> str:
    """Render sections as one self-contained HTML document.

    Parameters
    ----------
    sections
        The sections, in order; each gets a numbered heading and an entry in the
        table of contents.
    title
        Title of the page and of the browser tab.
    subtitle
        One line under the title (e.g. model and task).
    generated
        Time stamp shown in the footer; now (UTC) when None.

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    DataError
        If a figure cannot be read or embedded, or a table row does not match its
        header.

    Notes
    -----
    Figures and tables are numbered through the whole report.  A column of a
    table whose cells are all numbers is right-aligned with tabular digits.
    """
    stamp = (generated or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y-%m-%d %H:%M %Z").strip()
    taken: set[str] = set()
    toc: list[str] = []
    body: list[str] = []
    n_figure = n_table = 0
    for k, section in enumerate(sections, start=1):
        if not isinstance(section, Section):
            raise DataError(f"report entry {k} is a {type(section).__name__}, not a neyman.report.Section")
        slug = _slug(section.title, taken)
        parts = [f'<section id="{slug}"><h2><span class="number">{k}</span>{_escape(section.title)}</h2>']
        if section.text.strip():
            parts.append(f'<div class="text">{_paragraphs(section.text)}</div>')
        if section.figures:
            figures = []
            for item in section.figures:
                n_figure += 1
                figures.append(_figure_html(_load_image(item, section.title), n_figure))
            parts.append(f'<div class="figures">{"".join(figures)}</div>')
        for table in section.tables:
            n_table += 1
            parts.append(_table_html(_as_table(table, section.title), n_table))
        if section.code.strip():
            parts.append(f'<pre class="code"><code>{_escape(section.code.rstrip())}</code></pre>')
        parts.append("</section>")
        body.append("".join(parts))
        counts = _counts(len(section.figures), len(section.tables))
        count_html = f'<span class="count">{counts}</span>' if counts else ""
        toc.append(
            f'<li><a href="#{slug}"><span class="number">{k}</span>'
            f'<span class="name">{_escape(section.title)}</span></a>{count_html}</li>'
        )
    contents = f'<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{"".join(toc)}</ol></nav>' if toc else ""
    main = "\n".join(body) if body else '<p class="empty">This report has no sections.</p>'
    subtitle_html = f'<p class="subtitle">{_escape(subtitle)}</p>' if subtitle else ""
    version = _escape(_version())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="generator" content="neyman {version}">
<title>{_escape(title)}</title>
<style>
{STYLESHEET}
</style>
</head>
<body>
<header class="masthead"><div class="inner">
<p class="brand">neyman · report</p>
<h1>{_escape(title)}</h1>
{subtitle_html}
<p class="meta">{n_figure} figures · {n_table} tables · generated {_escape(stamp)}</p>
</div></header>
<div class="layout">
{contents}
<main>
{main}
</main>
</div>
<footer>Generated by neyman {version} on {_escape(stamp)}. This file is self-contained: \
it needs no network access and runs no code.</footer>
</body>
</html>
"""


def write_report(
    path: str | os.PathLike[str],
    sections: Iterable[Section],
    *,
    title: str,
    subtitle: str = "",
) -> Path:
    """Render the sections with :func:`render_report` and write the HTML file atomically.

    Parameters
    ----------
    path
        Destination, e.g. ``runs/<name>/report.html``; its directory is created.
    sections
        The sections, in order.
    title, subtitle
        As for :func:`render_report`.

    Returns
    -------
    pathlib.Path
        ``path``.

    Notes
    -----
    The document is rendered completely before anything is written, then written
    to a temporary file in the destination directory and renamed over ``path``
    (``os.replace``), so a reader sees the old report or the new one, never a
    partial file, and a failure leaves no temporary file behind.
    """
    document = render_report(list(sections), title=title, subtitle=subtitle)
    return write_text(path, document)
