"""The HTML page of ``crmkit report``: one self-contained file (inline CSS, base64 PNG plots)."""

from __future__ import annotations

import base64
import html
from typing import List, Optional

import pandas as pd

from ._report_text import MESSAGES, NAME_KINDS, Text

CUSTOMER_ROWS_IN_HTML = 100
"""Rows of each per-customer list in the page (the CSV files hold them all)."""
from ._report_trust import render_trust

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, "PingFang SC", "Microsoft YaHei",
       "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif; margin: 0;
       background: #f4f6f9; color: #1d2733; }
header { background: #1f3b57; color: white; padding: 24px 40px; }
header h1 { margin: 0 0 6px 0; font-size: 28px; }
header p { margin: 0; opacity: 0.85; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 40px 60px 40px; }
section { background: white; border-radius: 8px; padding: 18px 24px; margin: 18px 0;
          box-shadow: 0 1px 3px rgba(0,0,0,0.08); }
h2 { margin-top: 0; color: #1f3b57; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 12px; }
.card { background: #eef3f8; border-radius: 6px; padding: 12px 14px; }
.card .label { font-size: 13px; color: #4a5a6a; }
.card .value { font-size: 22px; font-weight: 600; margin-top: 4px; }
table { border-collapse: collapse; font-size: 13px; margin: 10px 0; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e1e6ec; text-align: right; }
th { background: #f0f3f7; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; height: auto; margin: 8px 0; }
.explain { color: #4a5a6a; font-size: 14px; }
.notes li { font-size: 13px; color: #6a4a1a; }
.reading li { font-size: 14px; margin: 3px 0; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.controls { font-size: 13px; color: #4a5a6a; margin: 8px 0 0 0; }
.controls input { font: inherit; padding: 3px 6px; width: 16em; margin: 0 8px 0 4px; }
.scroll { max-height: 460px; overflow: auto; }
table.sortable thead th { position: sticky; top: 0; cursor: pointer; user-select: none; }
table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; }
table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; }
@media print {
  body { background: white; }
  header { background: none; color: black; padding: 0 0 8px 0; }
  main { max-width: none; padding: 0; }
  section { box-shadow: none; border-radius: 0; padding: 0; margin: 14px 0; }
  .controls { display: none; }
  .scroll { max-height: none; overflow: visible; }
  .grid2 { display: block; }
  h2, h3 { break-after: avoid; }
  img, .card, tr { break-inside: avoid; }
  table.sortable thead th { position: static; }
}
"""

# Sorting (click or Enter on a header; again to reverse) and filtering (rows containing the
# typed text) of the per-customer lists: numbers, dates (year, month, day in any writing) and
# text each sort as what they are.
_SCRIPT = """
(function () {
  var lang = document.documentElement.lang;
  function key(cell) {
    var t = cell.textContent.trim(), n = t.replace(/,/g, "");
    if (/^[-+]?(\\d+\\.?\\d*|\\.\\d+)(e[-+]?\\d+)?%?$/i.test(n)) return parseFloat(n);
    var d = t.match(/^(\\d{4})\\D(\\d{1,2})\\D(\\d{1,2})\\D?$/);
    return d ? d[1] * 10000 + d[2] * 100 + +d[3] : t;
  }
  function compare(x, y) {
    if (typeof x !== typeof y) return typeof x === "number" ? -1 : 1;
    return typeof x === "number" ? x - y : x.localeCompare(y, lang, {numeric: true});
  }
  document.querySelectorAll(".customer-list").forEach(function (list) {
    var body = list.querySelector("tbody"), filter = list.querySelector("input");
    var count = list.querySelector(".count"), rows = [].slice.call(body.rows);
    function show() {
      var typed = filter.value.trim().toLowerCase(), shown = 0;
      rows.forEach(function (row) {
        row.hidden = typed !== "" && row.textContent.toLowerCase().indexOf(typed) < 0;
        shown += row.hidden ? 0 : 1;
      });
      count.textContent = count.dataset.template.replace("{shown}", shown)
        .replace("{total}", rows.length);
    }
    [].forEach.call(list.querySelectorAll("thead th"), function (th, column) {
      th.tabIndex = 0;
      function sort() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        [].forEach.call(th.parentNode.cells, function (c) { c.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        rows.map(function (row) { return [key(row.cells[column]), row]; })
          .sort(function (a, b) { return ascending ? compare(a[0], b[0]) : compare(b[0], a[0]); })
          .forEach(function (pair) { body.appendChild(pair[1]); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
    });
    filter.addEventListener("input", show);
    show();
  });
})();
"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _number(value: float) -> str:
    return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"


def _table(frame: pd.DataFrame, rows: int, text: Optional[Text] = None,
           index_kind: Optional[str] = None, value_kinds: Optional[dict] = None) -> str:
    shown = frame.head(rows)
    if text is not None:
        shown = text.labelled(shown, index_kind, value_kinds=value_kinds)
    return shown.to_html(float_format=_number, na_rep="", border=0, escape=True)


def _plot(report, name: str, alt: str) -> str:
    if name not in report.plots:
        return ""
    return f'<img alt="{html.escape(alt)}" src="{_data_uri(report.plots[name])}">'


def _transaction_model(report) -> str:
    """The report's purchase model by name ("BG/NBD", "MBG/NBD", "Pareto/NBD")."""
    return getattr(report, "transaction_model", "BG/NBD")


def _fitted_model(report, text: Text) -> str:
    """The purchase model and its estimates, from the model_parameters table."""
    model = _transaction_model(report)
    table = report.tables.get("model_parameters")
    rows = [] if table is None else [(name, row["estimate"]) for name, row in table.iterrows()
                                     if row["model"] == model]
    parameters = ", ".join(f"{name} = {value:.4g}" for name, value in rows)
    return text("models.fitted", model=model, parameters=parameters)


def _paragraph(text: str) -> str:
    return f'<p class="explain">{html.escape(text)}</p>'


def _percent(share: float) -> str:
    """A share in whole percent, with one decimal when it would round to 0 %."""
    if share == 0 or abs(share) >= 0.005:
        return f"{share:.0%}"
    return f"{share:.1%}" if abs(share) >= 0.0005 else "<0.1%"


def _rfm_name(name, text: Text) -> str:
    if text.english:
        return str(name).replace("_", " ").capitalize()
    return text.domain("rfm_segment", name)


def _rfm_reading(table: pd.DataFrame, text: Text) -> str:
    """One plain sentence per named segment, largest revenue first."""
    items = [
        f"<li><b>{html.escape(_rfm_name(name, text))}</b>{text('sentence_gap')}" + html.escape(text(
            "rfm.reading", definition=text.domain("definition", row.definition),
            customers=f"{row.customers:,.0f}", share=_percent(row.share),
            revenue_share=_percent(row.revenue_share), clv_share=_percent(row.clv_share),
            weeks=f"{row.weeks_since_last:.0f}", purchases=f"{row.purchases:.1f}",
            spend=f"{row.mean_spend:,.0f}")) + "</li>"
        for name, row in zip(table.index, table.itertuples(index=False))]
    return '<ul class="reading">' + "".join(items) + "</ul>"


def abc_tiers(tiers: pd.DataFrame) -> pd.DataFrame:
    """The rows of the first split of the value-tier table (A, B, C)."""
    return tiers[tiers["split"] == tiers["split"].iloc[0]]


def _tier_reading(tiers: pd.DataFrame, text: Text) -> str:
    abc = abc_tiers(tiers)
    sentences = [text("value.tier_reading", tier=text.domain("value_tier", name),
                      customers=f"{row.customers:,.0f}",
                      customer_share=_percent(row.customer_share),
                      clv_share=_percent(row.clv_share), revenue_share=_percent(row.revenue_share))
                 for name, row in zip(abc.index, abc.itertuples(index=False))]
    return _paragraph(text("sentence_gap").join(sentences))


def _cell(value, text: Text) -> str:
    """One cell of a customer list, as the other tables show it (pandas' to_html)."""
    if value is pd.NaT:
        return ""
    if isinstance(value, float):
        return "" if value != value else _number(value)
    if isinstance(value, pd.Timestamp):
        return text.date(value)
    return html.escape(str(value))


def _customer_list(frame: pd.DataFrame, rows: int, text: Text, file: str) -> str:
    """A per-customer table the reader can sort (click a header) and filter (a text box): the
    first `rows` rows, the customer id as the first column, one header row."""
    shown = text.labelled(frame.head(rows), value_kinds=NAME_KINDS).reset_index()
    header = "".join(f"<th>{html.escape(str(name))}</th>" for name in shown.columns)
    cells = [[_cell(value, text) for value in shown[name].tolist()] for name in shown.columns]
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>\n"
                   for row in zip(*cells))
    table = (f'<table class="dataframe sortable">\n<thead><tr>{header}</tr></thead>\n'
             f"<tbody>\n{body}</tbody></table>")
    controls = (f'<div class="controls"><label>{html.escape(text("list.filter"))} '
                f'<input type="search" class="filter" '
                f'title="{html.escape(text("list.filter_hint"))}"></label> '
                f'<span class="count" data-template="{html.escape(text.template("list.shown"))}">'
                "</span></div>")
    more = (_paragraph(text("list.first_rows", rows=f"{rows:,}", total=f"{len(frame):,}",
                            file=file)) if len(frame) > rows else "")
    return (f'<div class="customer-list">{controls}<div class="scroll">{table}</div>{more}'
            "</div>")


def _absent(reason: str) -> str:
    """The visible note of a section left out, saying why."""
    return f'<ul class="notes absent"><li>{html.escape(reason)}</li></ul>'


def render_html(report, title: str, source: str, rows: int, text: Optional[Text] = None,
                customer_rows: int = CUSTOMER_ROWS_IN_HTML) -> str:
    """The report page: headline cards, then one section per question a manager asks, in the
    language of `text` (default English).

    A report may say why sections are left out (``report.absent``: ``survey``,
    ``calibration``, ``trust`` to the reason, shown where the section would be when its tables
    are missing) and name its files (``report.files``; default: one CSV per table)."""
    text = Text("en") if text is None else text
    tables = report.tables
    absent = getattr(report, "absent", None) or {}
    parts: List[str] = [
        "<!DOCTYPE html>", f'<html lang="{text.html_lang}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(source)}</p></header><main>",
        f'<section id="headline"><h2>{text("headline.heading")}</h2><div class="cards">',
    ]
    for label, value in report.headline.items():
        parts.append(f'<div class="card"><div class="label">{html.escape(label)}</div>'
                     f'<div class="value">{html.escape(value)}</div></div>')
    parts.append("</div></section>")

    rfm = tables["rfm_segments"]
    parts += [
        f'<section id="rfm"><h2>{text("rfm.heading")}</h2>',
        _paragraph(text("rfm.explain", bins=rfm.attrs.get("bins", 5))),
        _rfm_reading(rfm, text),
        _plot(report, "rfm_segments", text("rfm.plot")),
        _table(rfm, rows, text, "rfm_segment", {"definition": "definition"}), "</section>",
    ]
    segments = tables["segments"]
    parts += [
        f'<section id="segments"><h2>{text("segments.heading")}</h2>',
        _paragraph(text("segments.explain", k=len(segments))),
        _table(segments, rows, text, "segment", {"description": "description"}),
        _plot(report, "segments", text("segments.plot_sizes")),
        _plot(report, "segment_profiles", text("segments.plot_profiles")),
        f"<h3>{text('segments.choosing')}</h3>",
        _paragraph(text("segments.quality")),
        _table(tables["kmeans_quality"], rows, text), "</section>",
    ]
    parts += [
        f'<section id="value"><h2>{text("value.heading")}</h2>',
        _paragraph(text("value.explain", model=_transaction_model(report))),
        _tier_reading(tables["value_tiers"], text),
        _plot(report, "value_curve", text("value.plot")),
        _table(tables["value_tiers"], rows, text, "value_tier", {"split": "split"}),
        f"<h3>{text('value.top')}</h3>",
        _customer_list(tables["top_customers"][["rfm_segment", "segment", "value_tier",
                                                "purchases", "revenue", "p_alive", "clv"]],
                       customer_rows, text, "customers.csv"),
        "</section>",
    ]
    warning = tables["early_warning"]
    parts += [
        f'<section id="slipping"><h2>{text("slipping.heading")}</h2>',
        _paragraph(text("slipping.explain", n=f"{len(warning):,}")),
        _customer_list(warning, customer_rows, text, "early_warning.csv"),
        _plot(report, "probability_alive", text("slipping.plot")),
        "</section>",
    ]
    if "lifecycle_stages" in tables:
        parts += [
            f'<section id="lifecycle"><h2>{text("lifecycle.heading")}</h2>',
            _paragraph(text("lifecycle.explain")),
            _table(tables["lifecycle_stages"], rows, text, "stage"),
            _plot(report, "stage_migration", text("lifecycle.plot_migration")),
            f"<h3>{text('lifecycle.cohorts')}</h3>",
            _paragraph(text("lifecycle.cohorts_explain")),
            _plot(report, "cohort_retention", text("lifecycle.plot_cohorts")), "</section>"]
    if "nps_by_segment" in tables:
        parts += [f'<section id="satisfaction"><h2>{text("satisfaction.heading")}</h2>',
                  _paragraph(text("satisfaction.explain")),
                  _plot(report, "nps_trend", text("satisfaction.plot")),
                  f"<h3>{text('satisfaction.nps_by_segment')}</h3>",
                  _table(tables["nps_by_segment"][["n", "nps", "lower", "upper",
                                                   "share_promoters", "share_detractors",
                                                   "small_sample"]], rows, text, "segment")]
        for by in ("rfm_segment", "value_tier"):
            parts += [f"<h3>{text('satisfaction.nps_by_' + by)}</h3>",
                      _table(tables[f"nps_by_{by}"][["n", "nps", "lower", "upper",
                                                     "small_sample"]], rows, text, by)]
        if "nps_by_stage" in tables:
            parts += [f"<h3>{text('satisfaction.nps_by_stage')}</h3>",
                      _table(tables["nps_by_stage"][["n", "nps", "lower", "upper",
                                                     "small_sample"]], rows, text, "stage")]
        for by in ("segment", "rfm_segment"):
            if f"csat_by_{by}" in tables:
                parts += [f"<h3>{text('satisfaction.csat_by_' + by)}</h3>",
                          _table(tables[f"csat_by_{by}"][["n", "share", "share_lower",
                                                          "share_upper", "mean_score"]], rows,
                                 text, by)]
        parts.append("</section>")
    elif "survey" in absent:
        parts += [f'<section id="satisfaction"><h2>{text("satisfaction.heading")}</h2>',
                  _absent(absent["survey"]), "</section>"]
    calibration = "calibration_vs_holdout" in tables or "calibration" not in absent
    parts += [
        f'<section id="models"><h2>{text("models.heading")}</h2>',
        _paragraph(text("models.explain")) if calibration else _absent(absent["calibration"]),
        _paragraph(_fitted_model(report, text)),
        '<div class="grid2">', _plot(report, "calibration_vs_holdout", text("models.plot_holdout")),
        _plot(report, "cumulative_transactions", text("models.plot_cumulative")),
        _plot(report, "repeat_purchases", text("models.plot_repeat")),
        _plot(report, "frequency_recency", text("models.plot_frequency_recency")),
        "</div>", _table(tables["model_parameters"], rows, text), "</section>",
    ]
    parts += getattr(report, "sections", [])
    trust = render_trust(getattr(report, "trust", None),
                         lambda frame: _table(frame, rows, text), text)
    if not trust and "trust" in absent:
        trust = "\n".join(f'<section id="{name}"><h2>{html.escape(text(heading))}</h2>'
                          f'{_absent(absent["trust"])}</section>'
                          for name, heading in (("how-sure", "trust.sure.heading"),
                                                ("how-well", "trust.well.heading")))
    parts.append(trust)
    if report.notes:
        parts.append(f'<section id="notes"><h2>{text("notes.heading")}</h2><ul class="notes">')
        parts += [f"<li>{_note(note, code, text)}</li>"
                  for note, code in zip(report.notes, _note_codes(report))]
        parts.append("</ul></section>")
    files = ", ".join(getattr(report, "files", None) or [f"{name}.csv" for name in tables])
    parts += [f'<section id="files"><h2>{text("files.heading")}</h2>'
              f'{_paragraph(text("files.explain", files=files))}'
              "</section>", f"</main><script>{_SCRIPT}</script></body></html>"]
    return "\n".join(parts)


def _note_codes(report) -> List[str]:
    codes = list(getattr(report, "note_codes", []))
    return codes + ["warning"] * (len(report.notes) - len(codes))


def _note(note: str, code: str, text: Text) -> str:
    """A note in the page's language when the catalogue knows its form; else as the library
    wrote it, led by what kind of note it is in the page's language."""
    if text.english:
        return html.escape(note)
    translated = text.note(note)
    if translated is not None:
        return html.escape(translated)
    key = f"note.{code}" if f"note.{code}" in MESSAGES else "note.warning"
    return f"<b>{html.escape(text(key))}</b>：{html.escape(note)}"
