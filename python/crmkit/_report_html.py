"""The HTML page of ``crmkit report``: one self-contained file (inline CSS, base64 PNG plots)."""

from __future__ import annotations

import base64
import html
from typing import List

import pandas as pd

from ._report_trust import render_trust

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0;
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
"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _table(frame: pd.DataFrame, rows: int) -> str:
    shown = frame.head(rows)
    return shown.to_html(float_format=lambda v: f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}",
                         na_rep="", border=0, escape=True)


def _plot(report, name: str, alt: str) -> str:
    if name not in report.plots:
        return ""
    return f'<img alt="{html.escape(alt)}" src="{_data_uri(report.plots[name])}">'


def _paragraph(text: str) -> str:
    return f'<p class="explain">{html.escape(text)}</p>'


def _percent(share: float) -> str:
    """A share in whole percent, with one decimal when it would round to 0 %."""
    if share == 0 or abs(share) >= 0.005:
        return f"{share:.0%}"
    return f"{share:.1%}" if abs(share) >= 0.0005 else "<0.1%"


def _rfm_reading(table: pd.DataFrame) -> str:
    """One plain sentence per named segment, largest revenue first."""
    items = [
        f"<li><b>{html.escape(str(name).replace('_', ' ').capitalize())}</b> "
        f"({html.escape(row.definition)}): {row.customers:,.0f} customers "
        f"({_percent(row.share)}), {_percent(row.revenue_share)} of revenue and "
        f"{_percent(row.clv_share)} of the expected value; on average last bought "
        f"{row.weeks_since_last:.0f} weeks ago, {row.purchases:.1f} purchases of "
        f"{row.mean_spend:,.0f} each.</li>"
        for name, row in zip(table.index, table.itertuples(index=False))]
    return '<ul class="reading">' + "".join(items) + "</ul>"


def abc_tiers(tiers: pd.DataFrame) -> pd.DataFrame:
    """The rows of the first split of the value-tier table (A, B, C)."""
    return tiers[tiers["split"] == tiers["split"].iloc[0]]


def _tier_reading(tiers: pd.DataFrame) -> str:
    abc = abc_tiers(tiers)
    sentences = [f"Tier {name}: {row.customers:,.0f} customers ({_percent(row.customer_share)}) "
                 f"hold {_percent(row.clv_share)} of the expected value and brought "
                 f"{_percent(row.revenue_share)} of past revenue."
                 for name, row in zip(abc.index, abc.itertuples(index=False))]
    return _paragraph(" ".join(sentences))


def render_html(report, title: str, source: str, rows: int) -> str:
    """The report page: headline cards, then one section per question a manager asks."""
    tables = report.tables
    parts: List[str] = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(source)}</p></header><main>",
        '<section id="headline"><h2>Headline numbers</h2><div class="cards">',
    ]
    for label, value in report.headline.items():
        parts.append(f'<div class="card"><div class="label">{html.escape(label)}</div>'
                     f'<div class="value">{html.escape(value)}</div></div>')
    parts.append("</div></section>")

    rfm = tables["rfm_segments"]
    parts += [
        '<section id="rfm"><h2>Who the customers are: named segments</h2>',
        _paragraph(
            f"Every customer gets three scores from 1 to {rfm.attrs.get('bins', 5)} against the "
            "others: R for how recently they bought (higher is more recent), F for how many "
            "purchases they made and M for how much they spend per purchase. Named segments "
            "are ranges of these scores (in brackets). Largest revenue first:"),
        _rfm_reading(rfm),
        _plot(report, "rfm_segments", "RFM segment sizes and revenue"),
        _table(rfm, rows), "</section>",
    ]
    segments = tables["segments"]
    parts += [
        '<section id="segments"><h2>Who the customers are: data-driven segments</h2>',
        _paragraph(
            f"Customers were grouped by k-means into {len(segments)} segments by how recently "
            "they bought (weeks since the last purchase), how often (purchases) and how much "
            "(mean spend per purchase), after log-scaling and standardising. The number of "
            "segments is the one with the best silhouette score (table below). Segments are "
            "numbered by their mean expected value over the next 12 months, C1 the highest."),
        _table(segments, rows),
        _plot(report, "segments", "segment sizes and value"),
        _plot(report, "segment_profiles", "segment profiles"),
        "<h3>Choosing the number of segments</h3>",
        _paragraph("Higher silhouette and Calinski-Harabasz, lower Davies-Bouldin are better."),
        _table(tables["kmeans_quality"], rows), "</section>",
    ]
    parts += [
        '<section id="value"><h2>Who is worth most</h2>',
        _paragraph(
            "Expected value over the next 12 months (CLV): the BG/NBD model's expected purchases, "
            "discounted 1% per month, times the Gamma-Gamma model's expected spend per purchase. "
            "The curve shows how concentrated value is; its dots mark the ends of value tiers A "
            "and B. Tier A is the most valuable customers who together hold 80% of the expected "
            "value, tier B the next ones up to 95%, tier C the rest; high / medium / low are "
            "the top 20%, the next 30% and the other half of customers ranked by value."),
        _tier_reading(tables["value_tiers"]),
        _plot(report, "value_curve", "value concentration and tiers"),
        _table(tables["value_tiers"], rows),
        "<h3>The most valuable customers</h3>",
        _table(tables["top_customers"][["rfm_segment", "segment", "value_tier", "purchases",
                                        "revenue", "p_alive", "clv"]],
               rows),
        "</section>",
    ]
    warning = tables["early_warning"]
    parts += [
        '<section id="slipping"><h2>Who is slipping away</h2>',
        _paragraph(
            f"{len(warning):,} customers with three or more purchases have a probability between "
            "10% and 50% of still being active: they have been silent for longer than their own "
            "buying rhythm suggests, but are probably not lost yet. Ranked by value at risk (past revenue times the chance they "
            "are gone); the full list is in early_warning.csv."),
        _table(warning, rows),
        _plot(report, "probability_alive", "probability alive by frequency and recency"),
        "</section>",
    ]
    if "lifecycle_stages" in tables:
        parts += [
            '<section id="lifecycle"><h2>Where each customer stands: lifecycle stages</h2>',
            _paragraph(
                "Stages from each customer's own buying rhythm: new, developing, stable, at risk "
                "(silent for longer than usual or buying less), churned, reactivated (back after "
                "churning), refined by the purchase model's P(alive). The heat map shows where "
                "the customers of each stage a quarter ago are now."),
            _table(tables["lifecycle_stages"], rows),
            _plot(report, "stage_migration", "lifecycle migration"),
            "<h3>Retention of acquisition cohorts</h3>",
            _paragraph("Share of each month's new customers who bought again k months later."),
            _plot(report, "cohort_retention", "cohort retention"), "</section>"]
    if "nps_by_segment" in tables:
        parts += ['<section id="satisfaction"><h2>How satisfaction moves</h2>',
                  _paragraph("Net Promoter Score (share of 9-10 answers minus share of 0-6, in "
                             "points) with adjusted-Wald 95% intervals; cells with fewer than 30 "
                             "answers are flagged small_sample."),
                  _plot(report, "nps_trend", "NPS trend"),
                  "<h3>NPS by segment</h3>",
                  _table(tables["nps_by_segment"][["n", "nps", "lower", "upper",
                                                   "share_promoters", "share_detractors",
                                                   "small_sample"]], rows)]
        for by, heading in (("rfm_segment", "named (RFM) segment"), ("value_tier", "value tier")):
            parts += [f"<h3>NPS by {heading}</h3>",
                      _table(tables[f"nps_by_{by}"][["n", "nps", "lower", "upper",
                                                     "small_sample"]], rows)]
        if "nps_by_stage" in tables:
            parts += ["<h3>NPS by lifecycle stage</h3>",
                      _table(tables["nps_by_stage"][["n", "nps", "lower", "upper",
                                                     "small_sample"]], rows)]
        for by, heading in (("segment", "segment"), ("rfm_segment", "named segment")):
            if f"csat_by_{by}" in tables:
                parts += [f"<h3>CSAT (share answering 4-5 of 5) by {heading}</h3>",
                          _table(tables[f"csat_by_{by}"][["n", "share", "share_lower",
                                                          "share_upper", "mean_score"]], rows)]
        parts.append("</section>")
    parts += [
        '<section id="models"><h2>How far to trust the predictions</h2>',
        _paragraph(
            "The purchase model was fitted on the earlier part of the log and checked against the "
            "later part (holdout): the closer the lines, the better the predictions."),
        '<div class="grid2">', _plot(report, "calibration_vs_holdout", "calibration vs holdout"),
        _plot(report, "cumulative_transactions", "cumulative transactions"),
        _plot(report, "repeat_purchases", "repeat purchases"),
        _plot(report, "frequency_recency", "expected purchases by frequency and recency"),
        "</div>", _table(tables["model_parameters"], rows), "</section>",
    ]
    parts.append(render_trust(getattr(report, "trust", None), lambda frame: _table(frame, rows)))
    if report.notes:
        parts.append('<section id="notes"><h2>Notes</h2><ul class="notes">')
        parts += [f"<li>{html.escape(note)}</li>" for note in report.notes]
        parts.append("</ul></section>")
    files = ", ".join(f"{name}.csv" for name in tables)
    parts += [f'<section id="files"><h2>Files</h2>{_paragraph("Every table in full: " + files)}'
              "</section>", "</main></body></html>"]
    return "\n".join(parts)
