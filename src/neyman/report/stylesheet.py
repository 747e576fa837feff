"""The inline stylesheet of the HTML report (system fonts only, print-friendly)."""

from __future__ import annotations

__all__ = ["STYLESHEET"]

STYLESHEET = """
:root {
  --ink: #1d2433;
  --muted: #5b6475;
  --line: #dfe3ea;
  --paper: #ffffff;
  --page: #f3f5f8;
  --accent: #1f5fbf;
  --accent-soft: #e8f0fc;
  --head: #16213a;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans",
          "Liberation Sans", sans-serif;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--page); color: var(--ink);
  font: 15px/1.55 var(--sans);
}
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }

.masthead { background: var(--head); color: #fff; }
.masthead .inner { max-width: 1440px; margin: 0 auto; padding: 26px 32px 22px; }
.masthead .brand {
  margin: 0 0 6px; font-size: 12px; letter-spacing: .14em; text-transform: uppercase; color: #9fb3d9;
}
.masthead h1 { margin: 0; font-size: 28px; font-weight: 650; line-height: 1.2; overflow-wrap: anywhere; }
.masthead .subtitle { margin: 6px 0 0; font-size: 16px; color: #d3dcee; }
.masthead .meta { margin: 12px 0 0; font-size: 13px; color: #9fb3d9; }

.layout {
  max-width: 1440px; margin: 0 auto; padding: 24px 32px 8px;
  display: grid; grid-template-columns: 250px minmax(0, 1fr); gap: 28px; align-items: start;
}
.toc {
  position: sticky; top: 16px; background: var(--paper); border: 1px solid var(--line);
  border-radius: 8px; padding: 14px 12px 10px;
}
.toc h2 {
  margin: 0 6px 8px; font-size: 12px; letter-spacing: .12em; text-transform: uppercase; color: var(--muted);
}
.toc ol { list-style: none; margin: 0; padding: 0; }
.toc li { margin: 0 0 2px; }
.toc a {
  display: flex; gap: 8px; padding: 5px 6px; border-radius: 5px; color: var(--ink); line-height: 1.35;
}
.toc a:hover { background: var(--accent-soft); text-decoration: none; }
.toc .number { color: var(--accent); font-weight: 600; min-width: 1.4em; font-variant-numeric: tabular-nums; }
.toc .count { display: block; margin: -2px 0 4px 2.55em; font-size: 12px; color: var(--muted); }

main { min-width: 0; }
section {
  background: var(--paper); border: 1px solid var(--line); border-radius: 8px;
  padding: 20px 24px 22px; margin: 0 0 24px; scroll-margin-top: 16px;
}
section > h2 {
  margin: 0 0 14px; padding-bottom: 10px; border-bottom: 1px solid var(--line);
  font-size: 20px; font-weight: 620; display: flex; gap: 10px; align-items: baseline;
}
section > h2 .number {
  color: var(--accent); font-variant-numeric: tabular-nums; font-weight: 650;
}
.text p { margin: 0 0 10px; white-space: pre-wrap; overflow-wrap: anywhere; max-width: 95ch; }

.figures {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); gap: 18px; margin: 14px 0 6px;
}
figure {
  margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 10px 10px 6px; background: #fff;
  display: flex; flex-direction: column; justify-content: space-between;
}
figure.wide { grid-column: 1 / -1; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { margin-top: 6px; font-size: 13px; color: var(--muted); text-align: center; overflow-wrap: anywhere; }
.label { font-weight: 600; color: var(--ink); }

.table-wrap { overflow-x: auto; margin: 16px 0 6px; }
table { border-collapse: collapse; font-size: 14px; min-width: 50%; }
caption { caption-side: top; text-align: left; padding: 0 0 8px; color: var(--muted); font-size: 13px; }
th, td { padding: 6px 14px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th {
  background: #f6f8fb; border-bottom: 2px solid #c9d1de; font-weight: 600; white-space: nowrap;
}
tbody tr:nth-child(even) td { background: #fafbfd; }
tbody tr:hover td { background: var(--accent-soft); }
td { overflow-wrap: anywhere; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.empty, p.empty { color: var(--muted); font-style: italic; }

pre.code {
  margin: 16px 0 0; padding: 14px 16px; background: #f6f8fb; border: 1px solid var(--line); border-radius: 6px;
  font: 13px/1.5 var(--mono); overflow-x: auto; white-space: pre; max-height: 640px;
}

footer {
  max-width: 1440px; margin: 0 auto; padding: 8px 32px 32px; font-size: 12px; color: var(--muted);
}

@media (max-width: 960px) {
  .layout { grid-template-columns: minmax(0, 1fr); padding: 16px; }
  .toc { position: static; }
  .figures { grid-template-columns: minmax(0, 1fr); }
  .masthead .inner, footer { padding-left: 16px; padding-right: 16px; }
}
@media print {
  body { background: #fff; font-size: 11pt; }
  .masthead { background: #fff; color: var(--ink); border-bottom: 2px solid var(--ink); }
  .masthead .brand, .masthead .subtitle, .masthead .meta { color: var(--muted); }
  .layout { display: block; padding: 0; }
  .toc { display: none; }
  section { border: none; padding: 0; margin: 0 0 18pt; break-before: auto; }
  figure, table, pre.code { break-inside: avoid; }
  pre.code { max-height: none; white-space: pre-wrap; }
}
""".strip()
