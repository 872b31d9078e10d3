"""Every word ``crmkit report`` shows, in each language it speaks: the one message catalogue.

Four tables, each keyed the same way for every language:

- ``MESSAGES``: headings, paragraphs, headline labels, notes and captions of the page, by id,
  ``{"en": ..., "zh": ...}``; ``{name}`` fields are filled by :meth:`Text.__call__`.
- ``COLUMNS``: the labels of table columns and index names in the page (the CSV files keep the
  English names). English shows the column name itself.
- ``DOMAIN``: the names of things — lifecycle stages, value tiers, RFM segments of every built-in
  rule set, k-means segment words — by kind, then by the name the library gives them (which is
  what English shows).
- ``PLOT``: the English texts of the report's figures as :mod:`crmkit.plotting` writes them
  (``{name}`` fields match any text, e.g. a number) and their translations.

A new section adds each of its strings as one entry of ``MESSAGES`` (an id and both languages)
and shows it with ``text("its.id", field=value)``; the catalogue test fails on an entry missing a
language or whose languages disagree on the fields.
"""

from __future__ import annotations

import re
from typing import Dict, Iterable, Optional

import pandas as pd

LANGUAGES = ("en", "zh")
HTML_LANG = {"en": "en", "zh": "zh-CN"}

MESSAGES: Dict[str, Dict[str, str]] = {
    "title": {"en": "Customer report", "zh": "客户分析报告"},
    "source.demo": {
        "en": "Simulated demo: {customers} customers over {weeks} weeks from {start}, seed {seed}",
        "zh": "模拟演示数据：{customers} 位客户，自 {start} 起共 {weeks} 周，随机种子 {seed}"},
    "source.transactions": {"en": "Transactions: {path}", "zh": "交易记录：{path}"},
    "source.survey": {"en": "; survey: {path}", "zh": "；调查问卷：{path}"},
    "source.order_lines": {"en": "; order lines: {path}", "zh": "；订单明细：{path}"},

    "headline.heading": {"en": "Headline numbers", "zh": "核心指标"},
    "headline.customers": {"en": "Customers", "zh": "客户数"},
    "headline.transactions": {"en": "Transactions", "zh": "交易笔数"},
    "headline.period": {"en": "Period", "zh": "时间范围"},
    "headline.period_value": {"en": "{first} to {last}", "zh": "{first}至{last}"},
    "headline.revenue": {"en": "Revenue", "zh": "销售额"},
    "headline.repeat_share": {"en": "Bought more than once", "zh": "复购客户占比"},
    "headline.active_share": {"en": "Likely still active", "zh": "可能仍活跃的客户占比"},
    "headline.expected_purchases": {"en": "Expected purchases, next {weeks} weeks",
                                    "zh": "未来 {weeks} 周预期购买次数"},
    "headline.expected_value": {"en": "Expected value, next {months} months",
                                "zh": "未来 {months} 个月预期价值"},
    "headline.top_fifth": {"en": "Value held by the top 20%", "zh": "前 20% 客户持有的价值"},
    "headline.tier_a": {"en": "Customers holding {share} of the value",
                        "zh": "持有 {share} 价值的客户占比"},
    "headline.slipping": {"en": "Valuable customers slipping away", "zh": "正在流失的高价值客户"},
    "headline.nps": {"en": "NPS", "zh": "净推荐值（NPS）"},
    "headline.nps_value": {"en": "{nps} ({lower} to {upper}, n = {n})",
                           "zh": "{nps}（{lower} 至 {upper}，n = {n}）"},

    "rfm.heading": {"en": "Who the customers are: named segments",
                    "zh": "客户是谁：RFM 命名分群"},
    "rfm.explain": {
        "en": "Every customer gets three scores from 1 to {bins} against the others: R for how "
              "recently they bought (higher is more recent), F for how many purchases they made "
              "and M for how much they spend per purchase. Named segments are ranges of these "
              "scores (in brackets). Largest revenue first:",
        "zh": "每位客户与其他客户相比得到三个 1 至 {bins} 分的评分：R 表示最近一次购买有多近（分数越高"
              "越近），F 表示购买次数，M 表示每次购买的金额。命名分群是这些评分的区间（括号内）。按销售额"
              "从高到低："},
    "rfm.reading": {
        "en": "({definition}): {customers} customers ({share}), {revenue_share} of revenue and "
              "{clv_share} of the expected value; on average last bought {weeks} weeks ago, "
              "{purchases} purchases of {spend} each.",
        "zh": "（{definition}）：{customers} 位客户（{share}），贡献 {revenue_share} 的销售额和 "
              "{clv_share} 的预期价值；平均最近一次购买在 {weeks} 周前，购买 {purchases} 次，每次 "
              "{spend}。"},
    "rfm.plot": {"en": "RFM segment sizes and revenue", "zh": "RFM 分群的规模与销售额"},
    "rfm.cells": {"en": "RFM cells ", "zh": "RFM 单元格 "},

    "segments.heading": {"en": "Who the customers are: data-driven segments",
                         "zh": "客户是谁：数据驱动的聚类分群"},
    "segments.explain": {
        "en": "Customers were grouped by k-means into {k} segments by how recently they bought "
              "(weeks since the last purchase), how often (purchases) and how much (mean spend "
              "per purchase), after log-scaling and standardising. The number of segments is the "
              "one with the best silhouette score (table below). Segments are numbered by their "
              "mean expected value over the next 12 months, C1 the highest.",
        "zh": "按最近一次购买距今的周数、购买次数和平均每次消费金额（取对数并标准化后），用 k-means "
              "将客户聚为 {k} 个客群。客群数取轮廓系数最高者（见下表）。客群按未来 12 个月的平均预期价值"
              "编号，客群1 最高。"},
    "segments.plot_sizes": {"en": "segment sizes and value", "zh": "客群规模与价值"},
    "segments.plot_profiles": {"en": "segment profiles", "zh": "客群画像"},
    "segments.choosing": {"en": "Choosing the number of segments", "zh": "如何选择客群数"},
    "segments.quality": {
        "en": "Higher silhouette and Calinski-Harabasz, lower Davies-Bouldin are better.",
        "zh": "轮廓系数和 Calinski-Harabasz 指数越高越好，Davies-Bouldin 指数越低越好。"},

    "value.heading": {"en": "Who is worth most", "zh": "谁最有价值"},
    "value.explain": {
        "en": "Expected value over the next 12 months (CLV): the {model} model's expected "
              "purchases, discounted 1% per month, times the Gamma-Gamma model's expected spend "
              "per purchase. The curve shows how concentrated value is; its dots mark the ends of "
              "value tiers A and B. Tier A is the most valuable customers who together hold 80% "
              "of the expected value, tier B the next ones up to 95%, tier C the rest; high / "
              "medium / low are the top 20%, the next 30% and the other half of customers ranked "
              "by value.",
        "zh": "未来 12 个月的预期价值（客户终身价值，CLV）：{model} 模型的预期购买次数（按每月 1% "
              "折现）乘以 Gamma-Gamma 模型的预期每次消费金额。曲线显示价值的集中程度，圆点标出 A 类和 "
              "B 类客户的边界。A 类是合计持有 80% 预期价值的最有价值客户，B 类是其后直到 95% 的客户，"
              "C 类是其余客户；高/中/低价值客户是按价值排序的前 20%、其后 30% 和其余一半客户。"},
    "value.tier_reading": {
        "en": "Tier {tier}: {customers} customers ({customer_share}) hold {clv_share} of the "
              "expected value and brought {revenue_share} of past revenue.",
        "zh": "{tier}：{customers} 位客户（{customer_share}）持有 {clv_share} 的预期价值，贡献了过去 "
              "{revenue_share} 的销售额。"},
    "value.plot": {"en": "value concentration and tiers", "zh": "价值集中度与价值分层"},
    "value.top": {"en": "The most valuable customers", "zh": "最有价值的客户"},

    "slipping.heading": {"en": "Who is slipping away", "zh": "谁正在流失"},
    "slipping.explain": {
        "en": "{n} customers with three or more purchases have a probability between 10% and "
              "50% of still being active: they have been silent for longer than their own buying "
              "rhythm suggests, but are probably not lost yet. Ranked by value at risk (past "
              "revenue times the chance they are gone); the full list is in early_warning.csv.",
        "zh": "{n} 位购买过三次及以上的客户仍然活跃的概率在 10% 到 50% 之间：他们沉默的时间已超过自身的"
              "购买节奏，但很可能尚未流失。按风险价值（过去销售额乘以已流失的概率）排序；完整名单见 "
              "early_warning.csv。"},
    "slipping.plot": {"en": "probability alive by frequency and recency",
                      "zh": "按购买频次和最近购买时间的存活概率"},

    "lifecycle.heading": {"en": "Where each customer stands: lifecycle stages",
                          "zh": "客户处于什么阶段：客户生命周期"},
    "lifecycle.explain": {
        "en": "Stages from each customer's own buying rhythm: new, developing, stable, at risk "
              "(silent for longer than usual or buying less), churned, reactivated (back after "
              "churning), refined by the purchase model's P(alive). The heat map shows where the "
              "customers of each stage a quarter ago are now.",
        "zh": "根据每位客户自身的购买节奏划分阶段：考察期、形成期、稳定期、退化期（沉默时间超过平常或购买"
              "减少）、流失客户、赢回客户（流失后再次购买），并以购买模型的存活概率 P(alive) 加以修正。"
              "热力图显示一个季度前处于各阶段的客户现在所处的阶段。"},
    "lifecycle.plot_migration": {"en": "lifecycle migration", "zh": "生命周期阶段迁移"},
    "lifecycle.cohorts": {"en": "Retention of acquisition cohorts", "zh": "获客同期群的留存"},
    "lifecycle.cohorts_explain": {
        "en": "Share of each month's new customers who bought again k months later.",
        "zh": "每月新客户中在 k 个月后再次购买的比例。"},
    "lifecycle.plot_cohorts": {"en": "cohort retention", "zh": "同期群留存"},

    "satisfaction.heading": {"en": "How satisfaction moves", "zh": "满意度如何变化"},
    "satisfaction.explain": {
        "en": "Net Promoter Score (share of 9-10 answers minus share of 0-6, in points) with "
              "adjusted-Wald 95% intervals; cells with fewer than 30 answers are flagged "
              "small_sample.",
        "zh": "净推荐值（NPS，9-10 分回答的比例减去 0-6 分回答的比例，单位为分）及调整 Wald 95% "
              "置信区间；回答少于 30 份的单元格标记为“样本偏少”。"},
    "satisfaction.plot": {"en": "NPS trend", "zh": "NPS 趋势"},
    "satisfaction.nps_by_segment": {"en": "NPS by segment", "zh": "各客群的 NPS"},
    "satisfaction.nps_by_rfm_segment": {"en": "NPS by named (RFM) segment",
                                        "zh": "各 RFM 命名分群的 NPS"},
    "satisfaction.nps_by_value_tier": {"en": "NPS by value tier", "zh": "各价值分层的 NPS"},
    "satisfaction.nps_by_stage": {"en": "NPS by lifecycle stage", "zh": "各生命周期阶段的 NPS"},
    "satisfaction.csat_by_segment": {"en": "CSAT (share answering 4-5 of 5) by segment",
                                     "zh": "各客群的 CSAT（5 分制中回答 4-5 分的比例）"},
    "satisfaction.csat_by_rfm_segment": {
        "en": "CSAT (share answering 4-5 of 5) by named segment",
        "zh": "各 RFM 命名分群的 CSAT（5 分制中回答 4-5 分的比例）"},

    "models.heading": {"en": "How far to trust the predictions", "zh": "预测有多可信"},
    "models.explain": {
        "en": "The purchase model was fitted on the earlier part of the log and checked against "
              "the later part (holdout): the closer the lines, the better the predictions.",
        "zh": "购买模型用较早一段交易记录拟合，再用较晚一段（留出期）检验：两条线越接近，预测越好。"},
    "models.fitted": {
        "en": "Purchase model: {model} ({parameters}), chosen with the report's model option "
              "(bg_nbd, mbg_nbd or pareto_nbd); P(alive), expected purchases, CLV, the holdout "
              "check and the lifecycle stages all use it. Spend per purchase: Gamma-Gamma (p, q, "
              "v).",
        "zh": "购买模型：{model}（{parameters}），由报告的模型选项（bg_nbd、mbg_nbd 或 pareto_nbd）"
              "选定；存活概率、预期购买次数、CLV、留出期检验和生命周期阶段都使用它。每次消费金额："
              "Gamma-Gamma（p、q、v）。"},
    "models.plot_holdout": {"en": "calibration vs holdout", "zh": "校准期与留出期对比"},
    "models.plot_cumulative": {"en": "cumulative transactions", "zh": "累计交易"},
    "models.plot_repeat": {"en": "repeat purchases", "zh": "重复购买"},
    "models.plot_frequency_recency": {"en": "expected purchases by frequency and recency",
                                      "zh": "按购买频次和最近购买时间的预期购买次数"},

    "notes.heading": {"en": "Notes", "zh": "说明"},
    "files.heading": {"en": "Files", "zh": "文件"},
    "files.explain": {"en": "Every table in full: {files}", "zh": "所有表格的完整数据：{files}"},
    "absent.survey": {
        "en": "Not in this report: no survey tables (nps_by_segment and the others). The cluster "
              "report was given no survey answers, or does not aggregate them yet "
              "(docs/cluster.md).",
        "zh": "本报告不含此部分：没有问卷表格（nps_by_segment 等）。集群报告未收到问卷答案，或尚未在"
              "集群上汇总问卷（docs/cluster.md）。"},
    "absent.calibration": {
        "en": "Not in this report: the holdout check (calibration_vs_holdout, "
              "cumulative_transactions) is not computed on a cluster yet (docs/cluster.md); the "
              "model below is fitted on the whole log.",
        "zh": "本报告不含留出期检验（calibration_vs_holdout、cumulative_transactions）：集群上尚未"
              "计算（docs/cluster.md）；下面的模型用全部交易记录拟合。"},
    "absent.trust": {
        "en": "Not in this report: the intervals on the headline numbers and the model "
              "comparison could not be computed (the notes say why; docs/cluster.md).",
        "zh": "本报告不含此部分：无法计算核心数字的区间和模型比较（原因见说明；docs/cluster.md）。"},

    "list.filter": {"en": "Filter rows", "zh": "筛选行"},
    "list.filter_hint": {"en": "type to keep the rows containing the text; click a column "
                               "header to sort",
                         "zh": "输入文字只保留包含它的行；点击列标题排序"},
    "list.shown": {"en": "{shown} of {total} rows", "zh": "显示 {shown} / {total} 行"},
    "list.first_rows": {"en": "The first {rows} of {total} rows; all of them are in {file}.",
                        "zh": "显示前 {rows} 行，共 {total} 行；完整名单见 {file}。"},

    "sentence_gap": {"en": " ", "zh": ""},
    "flag.true": {"en": "True", "zh": "是"},
    "flag.false": {"en": "False", "zh": "否"},

    "note.zero_spend_repeat_buyers": {"en": "Repeat buyers who spent nothing",
                                      "zh": "复购但消费为零的客户"},
    "note.fit_not_converged": {"en": "A model fit did not converge", "zh": "模型拟合未收敛"},
    "note.fit_warning": {"en": "A model fit warning", "zh": "模型拟合提示"},
    "note.log_too_short_for_calibration": {"en": "Too short for a holdout check",
                                           "zh": "记录太短，无法进行留出期检验"},
    "note.calibration_failed": {"en": "The holdout check failed", "zh": "留出期检验失败"},
    "note.lifecycle_unavailable": {"en": "No lifecycle stages", "zh": "无法划分生命周期阶段"},
    "note.lifecycle_warning": {"en": "Lifecycle stages", "zh": "生命周期阶段提示"},
    "note.survey_unknown_customers": {"en": "Survey answers from unknown customers",
                                      "zh": "来自未知客户的问卷回答"},
    "note.survey_invalid_answers": {"en": "Invalid survey answers", "zh": "无效的问卷回答"},
    "note.survey_small_sample": {"en": "Few survey answers", "zh": "问卷样本偏少"},
    "note.few_distinct_profiles": {"en": "Few distinct customers", "zh": "不同的客户画像太少"},
    "note.clv_intervals_unavailable": {"en": "No value interval for some customers",
                                       "zh": "部分客户的预期价值没有区间"},
    "trust.sure.heading": {"en": "How sure: intervals on the headline numbers",
                           "zh": "有多确定：核心指标的区间"},
    "trust.sure.explain": {
        "en": ("The models were fitted to this log, and a different draw of the same kind of "
               "customers would have given somewhat different parameters. The ranges below carry "
               "that uncertainty (delta method from the fits' covariance, {level:.0%} intervals): "
               "had the data been drawn again, the number would fall in its range about "
               "{level:.0%} of the time. They do not say how much any one customer will buy, "
               "which varies far more."),
        "zh": ("模型是用这份交易记录拟合的；换一批同类客户，参数会略有不同。下面的区间反映了这种不确定性"
               "（由拟合的协方差按 delta 方法计算，{level:.0%} 区间）：若重新抽取数据，该数字约有 "
               "{level:.0%} 的概率落在区间内。区间并不说明某一位客户会买多少，个体差异要大得多。")},
    "trust.sure.sampled": {
        "en": (" The ranges' widths were computed on a systematic sample of {sample:,} of the "
               "{customers:,} customers (a total's relative width does not depend on how many "
               "customers it adds up); their centres are the whole base's numbers."),
        "zh": ("区间宽度按 {customers:,} 位客户中的 {sample:,} 位等距样本计算（合计值的相对宽度与相加的"
               "客户数无关）；区间中心是全体客户的数值。")},
    "trust.sure.customers": {
        "en": (" Each customer's lifetime value has its own {level:.0%} interval of the same kind "
               "in customers.csv, columns clv_lower and clv_upper."),
        "zh": "customers.csv 中每位客户的预期价值也有同类的 {level:.0%} 区间（clv_lower 与 clv_upper 两列）。"},
    "trust.sure.purchases": {"en": "Expected purchases, next {weeks} weeks",
                             "zh": "未来 {weeks} 周预期购买次数"},
    "trust.sure.value": {"en": "Expected value, next {months} months",
                         "zh": "未来 {months} 个月预期价值"},
    "trust.sure.model": {
        "en": " The ranges are those of the report's purchase model, {model}, and of Gamma-Gamma.",
        "zh": "这些区间属于报告的购买模型 {model} 和 Gamma-Gamma。"},
    "trust.sure.parameters": {"en": "Model parameters with their {level:.0%} intervals",
                              "zh": "模型参数及其 {level:.0%} 区间"},
    "trust.well.heading": {"en": "How well it predicted", "zh": "预测得有多准"},
    "trust.well.tracking": {
        "en": ("Fitted on the calibration period only, the purchase model predicted the "
               "cumulative repeat purchases of the holdout weeks with a mean absolute percentage "
               "error of {mape:.1%} (counted from the start of the log; {holdout_mape:.1%} "
               "counting the holdout's purchases alone)."),
        "zh": ("仅用校准期拟合时，购买模型对留出期累计重复购买的预测平均绝对百分比误差为 {mape:.1%}"
               "（从记录开始累计；只计留出期内的购买则为 {holdout_mape:.1%}）。")},
    "trust.well.no_tracking": {
        "en": ("The log is too short for a calibration / holdout check, so there is no holdout "
               "score."),
        "zh": "记录太短，无法做校准期 / 留出期检验，因此没有留出期得分。"},
    "trust.well.comparison": {
        "en": ("Three purchase models fitted to the whole log, by information criteria (lower is "
               "better; ΔBIC above 10 is strong evidence against a model)."),
        "zh": "用全部记录拟合的三个购买模型，按信息准则比较（越低越好；ΔBIC 大于 10 是否定该模型的有力证据）。"},
    "trust.well.comparison_sampled": {
        "en": ("Three purchase models fitted to a systematic sample of {sample:,} of the "
               "{customers:,} customers, by information criteria (lower is better; ΔBIC above "
               "10 is strong evidence against a model)."),
        "zh": ("用 {customers:,} 位客户中的 {sample:,} 位等距样本拟合的三个购买模型，按信息准则比较"
               "（越低越好；ΔBIC 大于 10 是否定该模型的有力证据）。")},
    "trust.well.chosen": {"en": "Chosen: {chosen}. {reason}", "zh": "选用：{chosen}。{reason}"},
    "trust.well.kept": {
        "en": (" The report's numbers use {model}; {chosen} would fit better, so read its "
               "forecasts with that in mind."),
        "zh": "报告中的数字使用 {model}；{chosen} 拟合得更好，阅读预测时请记住这一点。"},
    "trust.well.reason_best": {"en": "It has the lowest BIC ({bic:,.1f}).",
                               "zh": "它的 BIC 最低（{bic:,.1f}）。"},
    "trust.well.reason_close": {
        "en": ("It has the lowest BIC ({bic:,.1f}); {runner_up} is within {gap:.1f}, so the "
               "data barely tell them apart."),
        "zh": "它的 BIC 最低（{bic:,.1f}）；{runner_up} 只差 {gap:.1f}，数据几乎无法区分两者。"},

    "cross_sell.heading": {"en": "What to offer whom", "zh": "向谁推荐什么"},
    "cross_sell.explain": {
        "en": ("{rules} association rules with lift above 1; the strongest product pairs first "
               "(lift: how many times more often bought together than by chance)."),
        "zh": "共 {rules} 条提升度大于 1 的关联规则；最强的商品组合排在前面（提升度：一起购买的频率是随机情况下的多少倍）。"},
    "cross_sell.rules": {"en": "Rules", "zh": "关联规则"},
    "cross_sell.offers": {
        "en": "Offers for the customers slipping away and the top-value customers",
        "zh": "为正在流失的客户和高价值客户推荐的商品"},
    "cross_sell.reasons": {"en": "Offers by reason; the full list is in offers.csv.",
                           "zh": "按推荐理由统计；完整列表见 offers.csv。"},
    "cross_sell.group_early_warning": {"en": "Customers slipping away: what to offer",
                                       "zh": "正在流失的客户：推荐什么"},
    "cross_sell.group_top_customers": {"en": "Top-value customers: what to offer",
                                       "zh": "高价值客户：推荐什么"},
    "cross_sell.no_customers": {"en": "The report lists no such customers.",
                                 "zh": "报告中没有这类客户。"},
    "cross_sell.no_offers": {
        "en": "None of these customers has order lines to recommend from.",
        "zh": "这些客户都没有可用于推荐的订单明细。"},
    "cross_sell.offers_column": {"en": "offers, best first", "zh": "推荐商品（按优先级）"},
    "cross_sell.separator": {"en": "; ", "zh": "；"},
    "cross_sell.offer": {"en": "{product} ({reason})", "zh": "{product}（{reason}）"},
    "cross_sell.reason.repurchase_due": {"en": "due for a repurchase", "zh": "到期复购"},
    "cross_sell.reason.cross_sell": {"en": "bought with {because}",
                                     "zh": "常与 {because} 一起购买"},
    "cross_sell.reason.segment_popular": {"en": "popular in the segment", "zh": "同群热销"},
    "cross_sell.reason.popular": {"en": "popular", "zh": "热销"},

    "note.warning": {"en": "Warning", "zh": "计算提示"},
    "note.no_cjk_font": {"en": "No font for the language", "zh": "缺少中文字体"},
}

COLUMNS: Dict[str, Dict[str, str]] = {
    "zh": {
        "customer_id": "客户编号", "customers": "客户数", "share": "占比",
        "weeks_since_last": "距最近购买周数", "purchases": "购买次数", "mean_spend": "平均消费",
        "revenue": "销售额", "revenue_share": "销售额占比", "p_alive": "存活概率",
        "clv": "预期价值", "total_clv": "预期价值合计", "clv_share": "预期价值占比",
        "clv_lower": "预期价值下限", "clv_upper": "预期价值上限",
        "definition": "定义", "description": "特征", "segment": "客群",
        "rfm_segment": "RFM 分群", "value_tier": "价值分层", "value_level": "价值等级",
        "stage": "生命周期阶段", "tier": "分层", "split": "分层方式",
        "customer_share": "客户占比", "lowest_clv": "最低预期价值", "k": "k",
        "inertia": "簇内平方和", "silhouette": "轮廓系数",
        "calinski_harabasz": "Calinski-Harabasz 指数", "davies_bouldin": "Davies-Bouldin 指数",
        "chosen": "选用", "last_purchase": "最近购买日期", "value_at_risk": "风险价值",
        "frequency": "重复购买次数", "recency": "最近购买时点", "T": "观察时长",
        "monetary_value": "平均复购金额", "expected_purchases_13w": "未来13周预期购买",
        "expected_spend": "预期每次消费", "r_score": "R 评分", "f_score": "F 评分",
        "m_score": "M 评分", "parameter": "参数", "model": "模型", "estimate": "估计值",
        "standard_error": "标准误", "n": "回答数", "nps": "NPS", "lower": "下限",
        "upper": "上限", "share_promoters": "推荐者占比", "share_detractors": "贬损者占比",
        "small_sample": "样本偏少", "share_lower": "占比下限", "share_upper": "占比上限",
        "mean_score": "平均分", "share_passives": "被动者占比", "promoters": "推荐者",
        "passives": "被动者", "detractors": "贬损者", "se": "标准误", "n_effective": "有效样本量",
        "is_empty": "无回答", "favourable": "满意人数", "share_se": "占比标准误", "sd": "标准差",
        "mean_se": "平均分标准误", "mean_lower": "平均分下限", "mean_upper": "平均分上限",
        "period": "月份", "cohort": "同期群", "week": "周", "all": "全部",
        "frequency_cal": "校准期重复购买次数", "frequency_holdout": "留出期实际购买",
        "model_predictions": "模型预测", "actual": "实际", "predicted": "预测", "expected": "预期",
        "stage on {day}": "{day} 时的阶段",
        "lower end": "下限", "upper end": "上限", "range as a share of the estimate": "区间宽度占估计值比例",
        "log_likelihood": "对数似然", "parameters": "参数个数", "aic": "赤池信息准则（AIC）", "bic": "贝叶斯信息准则（BIC）",
        "delta_bic": "BIC 差值（ΔBIC）",
        "pair": "商品组合", "support": "支持度", "confidence": "置信度", "lift": "提升度",
        "antecedents": "前项", "consequents": "后项", "antecedent support": "前项支持度",
        "consequent support": "后项支持度", "leverage": "杠杆度", "conviction": "确信度",
        "zhangs_metric": "Zhang 指标", "who": "客户类别", "rank": "排名",
        "product_id": "商品编号", "order_id": "订单编号", "score": "得分",
        "reason": "推荐理由", "because": "关联商品", "offers": "推荐数",
    },
}

DOMAIN: Dict[str, Dict[str, Dict[str, str]]] = {
    "stage": {"zh": {
        "prospect": "潜在客户", "new": "考察期", "developing": "形成期", "stable": "稳定期",
        "at_risk": "退化期", "churned": "流失客户", "reactivated": "赢回客户",
        "unobserved": "未观察到"}},
    "value_tier": {"zh": {"A": "A类客户", "B": "B类客户", "C": "C类客户",
                          "high": "高价值客户", "medium": "中价值客户", "low": "低价值客户"}},
    "split": {"zh": {"cumulative CLV share {a} / {b}": "按预期价值累计占比 {a} / {b}",
                     "customers ranked by CLV: top {a} / next {b} / rest":
                         "按预期价值排名：前 {a} / 其后 {b} / 其余"}},
    "rfm_segment": {"zh": {
        # rf_grid, the 10-segment R x F map
        "champions": "冠军客户", "loyal": "忠诚客户", "potential_loyalists": "潜在忠诚客户",
        "new": "新客户", "promising": "有潜力客户", "need_attention": "需要关注客户",
        "about_to_sleep": "即将沉睡客户", "at_risk": "有流失风险客户",
        "cant_loose": "不能失去的客户", "hibernating": "沉睡客户",
        # rfm_package
        "Champions": "冠军客户", "Loyal Customers": "忠诚客户",
        "Potential Loyalist": "潜在忠诚客户", "New Customers": "新客户",
        "Promising": "有潜力客户", "Need Attention": "需要关注客户",
        "About To Sleep": "即将沉睡客户", "At Risk": "有流失风险客户",
        "Can't Lose Them": "不能失去的客户", "Hibernating": "沉睡客户", "Lost": "已流失客户",
        # pymc_marketing
        "Premium Customer": "优质客户", "Repeat Customer": "重复购买客户",
        "Top Spender": "高消费客户", "At Risk Customer": "有流失风险客户",
        "Inactive Customer": "不活跃客户",
        # chinese_value: the names the rule set gives in Chinese
        "Important value": "重要价值客户", "Important development": "重要发展客户",
        "Important retention": "重要保持客户", "Important win-back": "重要挽留客户",
        "General value": "一般价值客户", "General development": "一般发展客户",
        "General retention": "一般保持客户", "General win-back": "一般挽留客户",
        "Other": "其他客户"}},
    "offer_group": {"zh": {"slipping away": "正在流失", "top value": "高价值"}},
    "offer_reason": {"en": {"repurchase_due": "due for a repurchase", "cross_sell": "cross-sell",
                            "segment_popular": "popular in the segment", "popular": "popular"},
                     "zh": {"repurchase_due": "到期复购", "cross_sell": "交叉销售",
                            "segment_popular": "同群热销", "popular": "热销"}},
    "segment_word": {"zh": {"recent": "近期有购买", "lapsed": "久未购买", "frequent": "高频",
                            "occasional": "低频", "high-spend": "高消费",
                            "low-spend": "低消费"}},
}
SEGMENT_LABEL = {"en": "{label}", "zh": "客群{number}"}
NAME_KINDS = {"rfm_segment": "rfm_segment", "segment": "segment", "value_tier": "value_tier",
              "value_level": "value_tier", "tier": "value_tier", "stage": "stage",
              "description": "description", "definition": "definition", "split": "split"}
"""The table columns that hold names of things, and the kind of names each holds."""

NOTES: Dict[str, Dict[str, str]] = {
    "zh": {
        "{table}: {small} of {cells} cells have an effective sample below 30 ({empty} are "
        "empty); see the small_sample and is_empty columns":
            "{table}：{cells} 个单元格中有 {small} 个的有效样本少于 30（{empty} 个为空）；见 "
            "small_sample 和 is_empty 列",
        "{n} customer(s) bought again but spent nothing on their repeat purchases: their "
        "expected spend is the Gamma-Gamma mean at zero observed spend":
            "{n} 位客户有复购但复购金额为零：其预期消费取 Gamma-Gamma 模型在观测消费为零时的均值",
        "the log covers {span} periods of {days} days: too short for a calibration/holdout "
        "check (needs {needed} or more)":
            "交易记录仅覆盖 {span} 个周期（每期 {days} 天）：太短，无法进行校准期/留出期检验（至少需要 "
            "{needed} 个周期）",
        "only {distinct} distinct customer profiles: k tried up to {k} instead of {k_max}":
            "只有 {distinct} 种不同的客户画像：k 最多只尝试到 {k}，而不是 {k_max}",
        "no CJK font found for the plots: install the Debian package {package} "
        "(scripts/deps.sh); the plots keep their English labels":
            "未找到可显示中文的字体，图表保留英文标签：请安装 Debian 软件包 {package}（见 "
            "scripts/deps.sh）",
        "{n} survey answers are from customers not in the transaction log (the first: answer "
        "{answer}, customer key {key}) and were left out":
            "{n} 份问卷回答来自交易记录中没有的客户（第一份：回答 {answer}，客户键 {key}），已剔除",
        "no customer has a CLV interval (clv_lower, clv_upper are empty): {reason}":
            "所有客户都没有预期价值区间（clv_lower、clv_upper 为空）：{reason}",
        "{n} customer(s) have no CLV interval (clv_lower, clv_upper are empty), the first at row "
        "{row}: their CLV is not finite at the estimate or a nearby parameter value (Gamma-Gamma's "
        "mean spend p·v/(p·x + q − 1) is infinite where p·x + q ≤ 1)":
            "{n} 位客户没有预期价值区间（clv_lower、clv_upper 为空），第一位在第 {row} 行：其预期价值在"
            "参数估计值或其邻近值处不是有限值（p·x + q ≤ 1 时 Gamma-Gamma 的平均消费 "
            "p·v/(p·x + q − 1) 为无穷大）",
    },
}

PLOT: Dict[str, Dict[str, str]] = {
    "zh": {
        "Value concentration (Pareto curve)": "价值集中度（帕累托曲线）",
        "customers, most valuable first": "客户（价值从高到低）",
        "equal value": "价值均等", "top {share} hold {held}": "前 {share} 持有 {held}",
        "share of customers": "客户占比", "share of value": "价值占比",
        "Segments: size and value": "分群：规模与价值", "share of revenue": "销售额占比",
        "share of total_clv": "预期价值占比",
        "Cluster profiles (colour: z-score across clusters; text: mean)":
            "客群画像（颜色：各客群间的 z 分数；数字：均值）",
        "z-score": "z 分数",
        "Probability Customer is Alive,\nby Frequency and Recency of a Customer":
            "客户存活概率\n按购买频次和最近购买时间",
        "Expected Number of Future Purchases for {T} Units of Time,\nby Frequency and Recency "
        "of a Customer": "未来 {T} 个时间单位的预期购买次数\n按购买频次和最近购买时间",
        "Customer's Historical Frequency": "客户历史购买频次",
        "Customer's Recency": "客户最近购买时点",
        "Frequency of Repeat Transactions": "重复购买次数分布",
        "Number of Calibration Period Transactions": "校准期内的重复购买次数",
        "Customers": "客户数", "Actual": "实际", "Model": "模型",
        "Actual Purchases in Holdout Period vs Predicted Purchases": "留出期实际购买与预测购买",
        "Purchases in calibration period": "校准期内购买次数",
        "Average of Purchases in Holdout Period": "留出期平均购买次数",
        "frequency_holdout": "留出期实际", "model_predictions": "模型预测",
        "Tracking Cumulative Transactions": "累计交易跟踪", "day": "天", "week": "周",
        "Cumulative Transactions": "累计交易数", "actual": "实际", "predicted": "预测",
        "Lifecycle migration": "生命周期阶段迁移", "stage now": "当前阶段",
        "stage before": "之前阶段", "share of row": "行内占比",
        "Cohort retention": "同期群留存", "periods since first purchase": "首次购买后的月数",
        "acquisition cohort": "获客同期群", "share active": "活跃占比",
        "Net Promoter Score over time": "净推荐值（NPS）变化趋势", "95% interval": "95% 置信区间",
        "NPS": "NPS", "points": "分",
    },
}

_FIELD = re.compile(r"\{(\w+)\}")
_NUMBER = re.compile(r"[-+\u2212]?[\d,]*\.?\d+(e[-+]?\d+)?%?", re.I)


def fields(template: str) -> set:
    """The ``{name}`` fields of a catalogue text."""
    return set(_FIELD.findall(template))


def _pattern(template: str) -> "re.Pattern[str]":
    parts = _FIELD.split(template)
    regex = "".join(re.escape(part) if k % 2 == 0 else f"(?P<{part}>.+?)"
                    for k, part in enumerate(parts))
    return re.compile(regex + r"\Z", re.S)


def _lookup(table: Dict[str, str]) -> tuple:
    """A catalogue table as exact texts and (pattern, translation) pairs for its templates."""
    return ({key: value for key, value in table.items() if not fields(key)},
            [(_pattern(key), value) for key, value in table.items() if fields(key)])


def _translated(english: str, lookup: tuple) -> Optional[str]:
    exact, templates = lookup
    if english in exact:
        return exact[english]
    for pattern, translation in templates:
        match = pattern.match(english)
        if match:
            return translation.format(**match.groupdict())
    return None


class Text:
    """The report's words and number formats in one language (``en`` or ``zh``)."""

    def __init__(self, lang: str = "en"):
        if lang not in LANGUAGES:
            raise ValueError(f"unknown report language {lang!r} (--lang); available: "
                             f"{', '.join(LANGUAGES)}")
        self.lang = lang
        self.html_lang = HTML_LANG[lang]
        self.english = lang == "en"
        self.untranslated: set = set()
        self._plot_exact, self._plot_templates = _lookup(PLOT.get(lang, {}))
        self._notes = _lookup(NOTES.get(lang, {}))
        self._columns = _lookup(COLUMNS.get(lang, {}))
        self._domains = {kind: _lookup(names.get(lang, {})) for kind, names in DOMAIN.items()}

    def __call__(self, key: str, **values) -> str:
        """The catalogue's text `key`, its fields filled with `values`."""
        return MESSAGES[key][self.lang].format(**values)

    def template(self, key: str) -> str:
        """The catalogue's text `key` with its fields unfilled (for the page's script)."""
        return MESSAGES[key][self.lang]

    def date(self, day: pd.Timestamp) -> str:
        if self.lang == "zh":
            return f"{day.year}年{day.month}月{day.day}日"
        return f"{day:%Y-%m-%d}"

    def column(self, name) -> str:
        """A table column's label in the page (English: the name itself)."""
        translated = _translated(name, self._columns) if isinstance(name, str) else None
        return name if translated is None else translated

    def domain(self, kind: str, name):
        """The name of a stage, tier, segment, ... (English: the library's name itself, or the
        words for a code where the catalogue has English ones, as for offer reasons)."""
        if not isinstance(name, str):
            return name
        if self.english:
            return DOMAIN.get(kind, {}).get("en", {}).get(name, name)
        if kind == "segment":
            match = re.fullmatch(r"C(\d+)", name)
            return SEGMENT_LABEL[self.lang].format(number=match.group(1)) if match else name
        if kind == "description":
            words = DOMAIN["segment_word"][self.lang]
            return "，".join(words.get(word, word) for word in name.split(", "))
        if kind == "definition":
            english = MESSAGES["rfm.cells"]["en"]
            if name.startswith(english):
                return self("rfm.cells") + name[len(english):]
            return name
        translated = _translated(name, self._domains[kind]) if kind in self._domains else None
        return name if translated is None else translated

    def csv_columns(self, table: str, columns: list) -> list:
        """A library table's columns (``AnalysisResult.take_columns``: name, kind, values,
        labels) with the column names and the names of things in this language, for its CSV
        file (English: the columns themselves). Numbers and dates stay as they are."""
        if self.english:
            return columns
        translated = []
        for name, kind, values, labels in columns:
            names_of = "stage" if table == "stage_migration" else NAME_KINDS.get(name)
            if kind == "text" and names_of is not None:
                labels = [self.domain(names_of, label) for label in labels]
            shown = self.column(name)
            if table == "stage_migration" and shown == name:  # its columns are stages
                shown = self.domain("stage", name)
            translated.append((shown, kind, values, labels))
        return translated

    def note(self, english: str) -> Optional[str]:
        """A note of the library in this language, when the catalogue knows its form."""
        return english if self.english else _translated(english, self._notes)

    def flag(self, value: bool) -> str:
        return self("flag.true") if value else self("flag.false")

    def plot(self, english: str) -> str:
        """A figure's English text in this language (a table column's name: its label); texts
        without letters and numbers stay, and texts the catalogue lacks stay English and are
        remembered in :attr:`untranslated`."""
        if self.english or not re.search(r"[A-Za-z]", english) or _NUMBER.fullmatch(english):
            return english
        translated = _translated(english, (self._plot_exact, self._plot_templates))
        if translated is not None:
            return translated
        if english in self._columns[0]:
            return self._columns[0][english]
        if english not in self._known_names():
            self.untranslated.add(english)
        return english

    def _known_names(self) -> set:
        """Names already translated before they reach a figure (segment and stage labels)."""
        return {value for kinds in DOMAIN.values() for value in kinds.get(self.lang, {}).values()}

    def labelled(self, frame: pd.DataFrame, index_kind: Optional[str] = None,
                 column_kind: Optional[str] = None,
                 value_kinds: Optional[Dict[str, str]] = None) -> pd.DataFrame:
        """A copy of a small table with its labels in this language (English: the table itself):
        the index values as names of `index_kind`, the column names as `column_kind` names (or
        as column labels), the cells of the columns in `value_kinds` as names of their kind, and
        flags as yes/no."""
        if self.english:
            return frame
        shown = frame.copy()
        for column, kind in (value_kinds or {}).items():
            if column in shown.columns:
                shown[column] = [self.domain(kind, value) for value in shown[column]]
        for column in shown.columns:
            if pd.api.types.is_bool_dtype(shown[column]):
                shown[column] = [self.flag(value) for value in shown[column]]
            elif pd.api.types.is_datetime64_any_dtype(shown[column]):
                shown[column] = [self.date(value) if pd.notna(value) else ""
                                 for value in shown[column]]
        if index_kind is not None:
            shown.index = pd.Index([self.domain(index_kind, value) for value in shown.index],
                                   name=shown.index.name)
        shown.columns = [self.domain(column_kind, name) if column_kind else self.column(name)
                         for name in shown.columns]
        shown.index.names = [self.column(name) for name in shown.index.names]
        return shown
