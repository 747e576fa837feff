"""The HTML report: self-contained, escaped, numbered, and written atomically."""

from __future__ import annotations

import base64
import datetime as dt
import re

import numpy as np
import pytest

from neyman.exceptions import DataError
from neyman.report import Section, Table, environment, format_value, provenance_table, render_report, write_report

PNG = b"\x89PNG\r\n\x1a\n"


def test_every_figure_is_embedded_as_a_base64_png(sections):
    page = render_report(sections, title="run")
    uris = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(uris) == 3
    for uri in uris:
        assert base64.b64decode(uri, validate=True)[:8] == PNG
    # Shown at physical size: a 6.4-inch figure saved at 150 dpi is 614 CSS pixels wide.
    assert 'width="614"' in page


def test_the_page_loads_nothing_from_elsewhere(sections):
    page = render_report(sections, title="run")
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", page)
    assert "@import" not in page and "url(" not in page
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert "default-src 'none'; img-src data:" in page  # the CSP makes the browser enforce it


def test_all_text_is_escaped(sections, hostile):
    page = render_report(sections, title=f"run {hostile}", subtitle=hostile)
    assert "<script" not in page.lower()
    escaped = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"
    # title tag, heading, subtitle, the section text and the table cell
    assert page.count(escaped) >= 5
    assert "calibration of the &lt;b&gt;test&lt;/b&gt; events" in page  # a Figure's label is its caption


def test_contents_link_to_numbered_sections(sections):
    twice = [*sections, Section(title="Classifier output", text="again")]
    page = render_report(twice, title="run")
    ids = re.findall(r'<section id="([^"]+)"', page)
    assert ids == ["classifier-output", "feature-importance-provenance", "classifier-output-2"]
    for anchor in ids:
        assert f'href="#{anchor}"' in page
    assert "Figure 3." in page and "Table 2." in page
    assert "2 figures · 1 table" in page


def test_tables_format_numbers_and_align_numeric_columns(sections):
    page = render_report(sections, title="run")
    assert '<td class="num">0.9123</td>' in page
    assert '<td class="num">123\u202f456</td>' in page
    # provenance values are text: the column stays left-aligned
    assert "<td>runs/demo</td>" in page and "<td>7</td>" in page


def test_text_paragraphs_and_verbatim_code(sections):
    page = render_report(sections, title="run")
    assert "<p>Test events.</p>" in page
    assert '<pre class="code"><code>model:\n  name: mlp\n  hidden: [64, 64]</code></pre>' in page


def test_footer_carries_the_time_stamp(sections):
    stamp = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc)
    assert "2024-05-01 12:30 UTC" in render_report(sections[:1], title="run", generated=stamp)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (True, "yes"),
        (np.bool_(False), "no"),
        (42, "42"),
        (np.int64(1234567), "1\u202f234\u202f567"),
        (0.0, "0"),
        (3.0, "3"),
        (0.912345, "0.9123"),
        (9.99996, "10.00"),
        (-12.3456, "-12.35"),
        (123456.7, "123457"),
        (1.234e-5, "1.234 × 10⁻⁵"),
        (6.02e23, "6.020 × 10²³"),
        (float("nan"), "NaN"),
        (float("-inf"), "-∞"),
        ("as given", "as given"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_provenance_table_flattens_nested_mappings():
    table = provenance_table({"run": "r", "seed": 3, "versions": {"numpy": "2.1", "torch": None}, "tags": ["a", "b"]})
    assert isinstance(table, Table)
    assert list(table.header) == ["item", "value"]
    assert [list(row) for row in table.rows] == [
        ["run", "r"],
        ["seed", "3"],
        ["versions.numpy", "2.1"],
        ["versions.torch", "—"],
        ["tags", "a, b"],
    ]
    info = environment(["numpy", "surely-not-installed-pkg"])
    assert info["numpy"] == np.__version__ and info["surely-not-installed-pkg"] == "not installed"
    assert info["python"].split()[-1].count(".") == 2


def test_write_report_is_atomic(tmp_path, sections):
    out = tmp_path / "run" / "report.html"
    assert write_report(out, sections, title="first") == out
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]
    # A failing render leaves the previous report untouched and no temporary file.
    broken = [Section(title="missing", figures=[tmp_path / "nope.png"])]
    with pytest.raises(DataError, match="cannot read the figure"):
        write_report(out, broken, title="second")
    assert "<title>first</title>" in out.read_text(encoding="utf-8")
    write_report(out, sections[:1], title="third")
    assert "<title>third</title>" in out.read_text(encoding="utf-8")
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]


def test_bad_inputs_name_the_section(tmp_path):
    pdf = tmp_path / "roc.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(DataError, match=r"section 'ROC': cannot embed .*roc\.pdf"):
        render_report([Section(title="ROC", figures=[pdf])])
    not_png = tmp_path / "roc.png"
    not_png.write_bytes(b"half")
    with pytest.raises(DataError, match="does not start like a PNG"):
        render_report([Section(title="ROC", figures=[not_png])])
    with pytest.raises(DataError, match="row 1 has 1 cells but the header has 2"):
        render_report([Section(title="T", tables=[("t", ["a", "b"], [[1, 2], [3]])])])
    with pytest.raises(DataError, match="a table must be"):
        render_report([Section(title="T", tables=["just a string"])])  # type: ignore[list-item]
    with pytest.raises(DataError, match="non-empty title"):
        Section(title=" ")
