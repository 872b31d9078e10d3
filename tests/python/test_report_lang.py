"""`crmkit report --lang`: one catalogue holds every word of the page and the plots; the zh
report shows none of the English ones, its plots draw real Chinese glyphs, and the CSV tables are
the same bytes in every language."""

import html
import re
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit import _report_plots
from crmkit.__main__ import main
from crmkit._report_input import simulate_demo
from crmkit._report_text import COLUMNS, DOMAIN, LANGUAGES, MESSAGES, NOTES, PLOT, Text, fields
from crmkit.report import PREDICTION_WEEKS, ReportInputError, build_report

CUSTOMERS = 2000
SEED = 5
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def _visible_text(page):
    """The page as a reader sees it: no style, script, embedded images or tags."""
    page = re.sub(r"<(style|script)>.*?</\1>", "", page, flags=re.S)
    page = re.sub(r'src="data:[^"]*"', "", page)
    return html.unescape(re.sub(r"<[^>]+>", "\n", page))


def _cells(page, tag):
    return [html.unescape(cell).strip() for cell in
            re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.S)]


def _order_lines():
    """Order lines of the demo's customers (ids 0..CUSTOMERS-1, as simulate_demo's), 120 days
    before its end: the report gains the "what to offer whom" section."""
    lines = crmkit.simulate_baskets(customers=CUSTOMERS, seed=SEED, days=120)["lines"]
    return lines.assign(date=pd.Timestamp("2025-08-01") + pd.to_timedelta(lines["day"], "D"))


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    log, survey = simulate_demo(CUSTOMERS, SEED)
    made = {}
    for lang in LANGUAGES:
        out = tmp_path_factory.mktemp(lang)
        report = build_report(log, str(out), survey=survey, seed=SEED, progress=None, lang=lang,
                              order_lines=_order_lines())
        with open(report.html_path, encoding="utf-8") as handle:
            made[lang] = (out, report, handle.read())
    return log, made


def test_every_catalogue_entry_has_every_language_with_the_same_fields():
    for key, texts in MESSAGES.items():
        assert set(texts) == set(LANGUAGES), key
        assert texts["en"] and (texts["zh"] or texts["en"].isspace()), key
        assert fields(texts["zh"]) == fields(texts["en"]), key
    for table in (PLOT, NOTES):
        for english, translation in table["zh"].items():
            assert fields(translation) == fields(english), english
    for kind, names in DOMAIN.items():
        for english, translation in names["zh"].items():
            assert fields(translation) == fields(english), (kind, english)
            assert CJK.search(translation), (kind, english)
    assert all(CJK.search(label) or label in ("k", "NPS") for label in COLUMNS["zh"].values())


def test_the_zh_page_shows_no_english_text_of_the_catalogue(reports):
    _, made = reports
    page = made["zh"][2]
    text = _visible_text(page)
    assert '<html lang="zh-CN">' in page
    leaked = []
    for key, texts in MESSAGES.items():
        english = texts["en"]
        if english in texts["zh"] or not re.search("[A-Za-z]{3}", english):
            continue  # the same in both (e.g. "NPS"), or no word to leak
        parts = re.split(r"\{\w+\}", english)
        pattern = ".+?".join(re.escape(part) for part in parts if part.strip())
        if re.search(pattern, text):
            leaked.append(key)
    assert leaked == []
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert "核心指标" in headings and "谁正在流失" in headings and "满意度如何变化" in headings
    assert len(headings) >= 8 and all(CJK.search(heading) for heading in headings)


def test_the_zh_tables_name_columns_stages_tiers_and_segments_in_chinese(reports):
    _, made = reports
    page = made["zh"][2]
    headers = _cells(page, "th")
    assert not set(headers) & set(COLUMNS["zh"]) - {"k"}, "an English column label"
    assert {"生命周期阶段", "存活概率", "预期价值"} <= set(headers)
    cells = set(_cells(page, "td")) | set(headers)
    english_names = {name for kind in ("stage", "value_tier", "rfm_segment")
                     for name in DOMAIN[kind]["zh"]} - {"A", "B", "C"}
    assert not cells & english_names
    assert {"考察期", "形成期", "稳定期", "退化期", "潜在客户", "流失客户", "赢回客户"} <= cells
    assert {"高价值客户", "中价值客户", "低价值客户", "冠军客户"} <= cells
    assert not {"True", "False"} & cells and {"是", "否"} <= cells
    assert any(re.fullmatch(r"客群\d", cell) for cell in cells)


def _section(page, name):
    start = page.index(f'<section id="{name}">')
    return page[start:page.index("</section>", start)]


def test_the_zh_cross_sell_section_has_no_english_headings_labels_or_reasons(reports):
    _, made = reports
    zh, en = (_section(made[lang][2], "cross_sell") for lang in ("zh", "en"))
    keys = ("cross_sell.heading", "cross_sell.rules", "cross_sell.offers",
            "cross_sell.group_early_warning", "cross_sell.group_top_customers")
    headings = re.findall(r"<h[23]>(.*?)</h[23]>", zh)
    assert headings == [MESSAGES[key]["zh"] for key in keys] and headings[0] == "向谁推荐什么"
    assert all(CJK.search(heading) for heading in headings)
    assert re.findall(r"<h[23]>(.*?)</h[23]>", en) == [MESSAGES[key]["en"] for key in keys]
    tables = made["zh"][1].tables
    english_labels = {str(name) for table in ("cross_sell_rules", "cross_sell_pairs", "offers")
                      for name in tables[table].columns} | {"offers", "reason", "pair"}
    headers = set(_cells(zh, "th"))
    assert not headers & english_labels
    assert {"商品组合", "支持度", "置信度", "提升度", "前项", "后项", "推荐理由", "客户编号",
            "推荐商品（按优先级）"} <= headers
    reasons = set(tables["offers"]["reason"].astype(str))
    assert reasons and not reasons & set(_visible_text(zh).split())
    assert all(DOMAIN["offer_reason"]["zh"][reason] in zh for reason in reasons)
    # The English page names the reasons in words as well, not by the library's codes (which
    # the English offers.csv keeps).
    assert all(DOMAIN["offer_reason"]["en"][reason] in en for reason in reasons)
    assert not {"repurchase_due", "cross_sell", "segment_popular"} & set(_visible_text(en).split())
    words = set(re.findall(r"[A-Za-z][A-Za-z.]{2,}", _visible_text(zh)))
    assert words <= {"offers.csv", "Zhang", "inf"}  # a file, a name, a conviction of 1/0
    # each group's first customer with offers is listed under its own heading
    offers = tables["offers"]
    for group, heading in (("slipping away", headings[3]), ("top value", headings[4])):
        first = offers.loc[offers["who"] == group, "customer_id"].iloc[0]
        assert zh.index(heading) < zh.index(f"<th>{first}</th>")


def test_the_zh_page_writes_dates_the_chinese_way_and_groups_thousands(reports):
    log, made = reports
    page = made["zh"][2]
    first, last = log["date"].min(), log["date"].max()
    expected = (f"{first.year}年{first.month}月{first.day}日至"
                f"{last.year}年{last.month}月{last.day}日")
    assert f'<div class="value">{expected}</div>' in page
    assert f'<div class="value">{CUSTOMERS:,}</div>' in page  # zh-CN groups by three with ","
    warning = made["zh"][1].tables["early_warning"]
    day = warning["last_purchase"].iloc[0]
    assert f"<td>{day.year}年{day.month}月{day.day}日</td>" in page
    assert f"<td>{day:%Y-%m-%d}</td>" in made["en"][2]


def test_the_en_page_has_no_chinese_and_the_tables_are_the_same_bytes_in_every_language(reports):
    _, made = reports
    assert not CJK.search(_visible_text(made["en"][2]))
    assert '<html lang="en">' in made["en"][2]
    en_out, en_report, _ = made["en"]
    zh_out, zh_report, _ = made["zh"]
    assert list(en_report.tables) == list(zh_report.tables)
    for name in en_report.tables:
        assert (en_out / f"{name}.csv").read_bytes() == (zh_out / f"{name}.csv").read_bytes(), name
    assert list(en_report.plots) == list(zh_report.plots)
    for name, png in en_report.plots.items():
        assert zh_report.plots[name] != png, name


def test_every_text_of_the_zh_plots_is_translated(reports, monkeypatch):
    _, made = reports
    tables = made["zh"][1].tables
    params = tables["model_parameters"]["estimate"]
    text = Text("zh")

    def draw(threads):
        previous = crmkit.num_threads()
        crmkit.set_num_threads(threads)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # matplotlib warns of every glyph fonts lack
                return _report_plots.PlotDrawing(
                    tables, {name: params[name] for name in ("r", "alpha", "a", "b")}, 40.0,
                    PREDICTION_WEEKS, text).result()
        finally:
            crmkit.set_num_threads(previous)

    drawn = draw(1)  # one process: every figure's texts pass through `text` here
    assert text.untranslated == set()
    assert list(drawn) == _report_plots.plot_names(tables) and len(drawn) >= 12
    if sys.platform.startswith("linux"):  # a forked child draws half of them: the same bytes
        monkeypatch.setattr(_report_plots.threading, "active_count", lambda: 1)
        assert draw(2) == drawn


def _glyph_pixels(character):
    """One character drawn by the report's zh figure settings, as a grey-level array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib import rc_context

    with rc_context({"font.family": ["DejaVu Sans", _report_plots.cjk_font()]}):
        figure = Figure(figsize=(0.6, 0.6), dpi=100)
        FigureCanvasAgg(figure)
        figure.text(0.1, 0.15, character, fontsize=30)
        figure.canvas.draw()
        return np.asarray(figure.canvas.buffer_rgba())[..., :3].mean(axis=2)


def test_the_plot_font_draws_distinct_chinese_glyphs_not_boxes():
    if _report_plots.cjk_font() is None:
        pytest.skip("no CJK font installed (Debian package fonts-noto-cjk)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        glyphs = [_glyph_pixels(character) for character in "客户流失"]
    # A missing glyph is drawn as the same empty box whatever the character: four different
    # characters must give four different images, each with ink on it.
    for k, glyph in enumerate(glyphs):
        assert (glyph < 128).sum() > 20
        for other in glyphs[k + 1:]:
            assert np.abs(glyph - other).sum() > 1000


def test_without_a_cjk_font_the_report_warns_naming_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(_report_plots, "cjk_font", lambda: None)
    log, _ = simulate_demo(1200, 2)
    with pytest.warns(RuntimeWarning, match="fonts-noto-cjk"):
        report = build_report(log, str(tmp_path / "out"), progress=None, lang="zh")
    assert any("fonts-noto-cjk" in note for note in report.notes)
    assert "no_cjk_font" in report.note_codes
    with open(report.html_path, encoding="utf-8") as handle:
        page = handle.read()
    assert "未找到可显示中文的字体，图表保留英文标签：请安装 Debian 软件包 fonts-noto-cjk" in page
    assert "<h2>核心指标</h2>" in page


def test_an_unknown_language_is_refused_with_the_choices(tmp_path, capsys):
    log, _ = simulate_demo(600, 1)
    with pytest.raises(ReportInputError, match=r"unknown report language 'fr'.*en, zh"):
        build_report(log, str(tmp_path / "out"), progress=None, lang="fr")
    with pytest.raises(SystemExit) as stop:
        main(["report", "--customers", "600", "--lang", "fr", "--out", str(tmp_path / "cli")])
    assert stop.value.code == 2
    assert "invalid choice: 'fr'" in capsys.readouterr().err


def test_the_command_line_writes_the_zh_report_with_a_chinese_source_line(tmp_path):
    out = tmp_path / "out"
    assert main(["report", "--customers", "1500", "--seed", "2", "--lang", "zh", "--out",
                 str(out), "--quiet"]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<title>客户分析报告</title>" in page
    assert "模拟演示数据：1,500 位客户，自 2024年1月1日 起共 104 周，随机种子 2" in page
    customers = pd.read_csv(out / "customers.csv", index_col=0)
    assert {"stage", "value_level", "rfm_segment"} <= set(customers.columns)
    assert set(customers["value_level"]) == {"high", "medium", "low"}  # CSV values stay English


def test_every_built_in_rfm_rule_set_has_chinese_segment_names():
    from crmkit.segment import RFMRuleSet

    text = Text("zh")
    for name in RFMRuleSet.BUILTIN:
        rules = RFMRuleSet.builtin(name)
        for rule in rules.rules:
            english = rule.english_name or rule.name
            assert CJK.search(text.domain("rfm_segment", english)), (name, english)
            if CJK.search(rule.name):  # the rule set's own Chinese name is the one shown
                assert text.domain("rfm_segment", english) == rule.name
        assert CJK.search(text.domain("rfm_segment", rules.unmatched))


def test_csv_lang_zh_names_the_columns_and_things_in_chinese_with_the_same_numbers(reports,
                                                                                   tmp_path):
    log, made = reports
    en_out = made["en"][0]
    _, survey = simulate_demo(CUSTOMERS, SEED)
    out = tmp_path / "zh-csv"
    build_report(log, str(out), survey=survey, seed=SEED, progress=None, csv_lang="zh",
                 order_lines=_order_lines())
    english = pd.read_csv(en_out / "customers.csv", index_col=0)
    chinese = pd.read_csv(out / "customers.csv", index_col=0)
    assert chinese.index.name == "客户编号"
    assert list(chinese.columns) == [COLUMNS["zh"][name] for name in english.columns]
    np.testing.assert_array_equal(chinese.index, english.index)
    text = Text("zh")
    for name, kind in (("stage", "stage"), ("value_level", "value_tier"),
                       ("rfm_segment", "rfm_segment"), ("segment", "segment")):
        expected = [text.domain(kind, value) for value in english[name]]
        assert chinese[COLUMNS["zh"][name]].tolist() == expected, name
    for name in ("clv", "p_alive", "revenue", "purchases"):
        np.testing.assert_array_equal(chinese[COLUMNS["zh"][name]], english[name])
    migration = pd.read_csv(out / "stage_migration.csv", index_col=0)
    assert list(migration.columns) == ["潜在客户", "考察期", "形成期", "稳定期", "退化期", "流失客户",
                                       "赢回客户"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} 时的阶段", migration.index.name)
    warning = pd.read_csv(out / "early_warning.csv", index_col=0)
    assert warning["最近购买日期"].iloc[0] == pd.read_csv(en_out / "early_warning.csv")[
        "last_purchase"].iloc[0]  # dates stay ISO: machine-readable
    offers = pd.read_csv(out / "offers.csv")
    english_offers = pd.read_csv(en_out / "offers.csv")
    assert list(offers.columns) == [COLUMNS["zh"][name] for name in english_offers.columns]
    assert offers["客户类别"].tolist() == [DOMAIN["offer_group"]["zh"][group]
                                       for group in english_offers["who"]]
    assert offers["推荐理由"].tolist() == [DOMAIN["offer_reason"]["zh"][reason]
                                       for reason in english_offers["reason"]]
    np.testing.assert_array_equal(offers["得分"], english_offers["score"])
