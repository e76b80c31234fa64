"""Words of the reports in zh-CN and en: headings, column names, status names.

The HTML templates, the spreadsheets and the charts take their wording from here, so a label
reads the same in every format. Each word is one ``Bilingual`` pair, the Chinese beside the
English, so the two languages cannot drift apart.
"""

from __future__ import annotations

from houqin.bilingual import LANGS, Bilingual, is_zh
from houqin.reports.lateness import BUCKET_LABELS

# The completion report's words, and the ones every report shares.
_COMPLETION: dict[str, Bilingual] = {
    "completion_title": Bilingual("计划完成情况报告", "Plan completion report"),
    "overdue_title": Bilingual("逾期事项汇总", "Overdue items"),
    "assessment_title": Bilingual("后勤管理绩效考核", "Logistics performance assessment"),
    "school": Bilingual("学校", "School"),
    "plan": Bilingual("计划", "Plan"),
    "period": Bilingual("周期", "Period"),
    "generated": Bilingual("生成时间", "Generated"),
    "summary": Bilingual("总体情况", "Overview"),
    "by_phase": Bilingual("按阶段", "By phase"),
    "by_owner": Bilingual("按负责人", "By owner"),
    "phase": Bilingual("阶段", "Phase"),
    "owner": Bilingual("负责人", "Owner"),
    "item": Bilingual("事项", "Item"),
    "due": Bilingual("截止日期", "Due"),
    "completed": Bilingual("完成日期", "Completed"),
    "status": Bilingual("状态", "Status"),
    "days_late": Bilingual("逾期天数", "Days late"),
    "total": Bilingual("合计", "Total"),
    "on_time_rate": Bilingual("按时完成率", "On-time rate"),
    "lateness": Bilingual("逾期分布", "Lateness"),
    "lateness_done": Bilingual("已完成事项", "Done items"),
    "overdue_open": Bilingual("未完成逾期事项", "Open overdue items"),
    "evidence": Bilingual("完成凭证", "Evidence"),
    "kind": Bilingual("类型", "Kind"),
    "content": Bilingual("内容", "Content"),
    "by": Bilingual("提交人", "By"),
    "at": Bilingual("时间", "At"),
    "audit": Bilingual("免除与转派记录", "Waivers and reassignments"),
    "action": Bilingual("操作", "Action"),
    "detail": Bilingual("说明", "Details"),
    "items": Bilingual("事项清单", "Items"),
    "exceptions": Bilingual(
        ("需关注的事项（逾期、未完成、免除）"),
        ("Items needing attention (late, open, waived)"),
    ),
    "none": Bilingual("无", "none"),
    "done_on_time": Bilingual("按时完成", "done on time"),
    "done_late": Bilingual("逾期完成", "done late"),
    "open_overdue": Bilingual("逾期未完成", "open, overdue"),
    "open": Bilingual("未到期", "open, not yet due"),
    "waived": Bilingual("已免除", "waived"),
    "done": Bilingual("已完成", "done"),
    "note": Bilingual("备注", "note"),
    "number": Bilingual("数值", "number"),
    "photo": Bilingual("照片", "photo"),
    "item.waive": Bilingual("免除", "waived"),
    "item.reassign": Bilingual("转派", "reassigned"),
    "from": Bilingual("原负责人", "from"),
    "to": Bilingual("新负责人", "to"),
    "reason": Bilingual("原因", "reason"),
    "count": Bilingual("项数", "items"),
    "days": Bilingual("天", "days"),
    "colon": Bilingual("：", ": "),
    "sep": Bilingual("；", "; "),
    "comma": Bilingual("，", ", "),
    "lp": Bilingual("（", " ("),
    "rp": Bilingual("）", ")"),
    "stop": Bilingual("。", "."),
}

# The overdue digest's.
_DIGEST: dict[str, Bilingual] = {
    "scope": Bilingual("范围", "Scope"),
    "as_of": Bilingual("截至", "As of"),
    "total_overdue": Bilingual("逾期未完成", "Open overdue"),
    "schools": Bilingual("学校数", "Schools"),
    "since_last": Bilingual("与上次汇总相比", "Since the last digest"),
    "previous": Bilingual("上次汇总", "Last digest"),
    "no_previous": Bilingual("此前没有发送过汇总", "no digest was sent before"),
    "newly": Bilingual("新增逾期", "Newly overdue"),
    "resolved": Bilingual("上次以来已解决", "Resolved since"),
    "still": Bilingual("仍然逾期", "Still overdue"),
    "worst_plans": Bilingual("逾期最严重的三个计划", "The three most overdue plans"),
    "worst_rule": Bilingual(
        ("按逾期总天数排序（天数相同按项数）"),
        ("ranked by total days overdue (then by number of items)"),
    ),
    "by_age": Bilingual("按逾期时长", "By age"),
    "oldest": Bilingual("最长逾期（天）", "Oldest (days)"),
    "total_days": Bilingual("逾期总天数", "Total days overdue"),
    "days_overdue": Bilingual("逾期天数", "Days overdue"),
    "oldest_items": Bilingual("逾期事项（按逾期天数）", "Overdue items (most overdue first)"),
    "more": Bilingual("另有 {n} 项未列出", "{n} more not listed"),
    "status_now": Bilingual("现状态", "Status now"),
}

# The assessment report's.
_ASSESSMENT: dict[str, Bilingual] = {
    "standard": Bilingual("考核标准", "Standard"),
    "window": Bilingual("考核期间", "Dates"),
    "category": Bilingual("类别", "Category"),
    "kpi": Bilingual("指标", "KPI"),
    "inputs": Bilingual("数据来源与输入", "Source and inputs"),
    "value": Bilingual("数值", "Value"),
    "level": Bilingual("等级", "Level"),
    "weight": Bilingual("权重", "Weight"),
    "score": Bilingual("得分", "Score"),
    "arithmetic": Bilingual("计算", "Arithmetic"),
    "subtotal": Bilingual("小计", "Subtotal"),
    "points": Bilingual("指标得分合计", "KPI points"),
    "deducted": Bilingual("扣分", "Deductions"),
    "total_score": Bilingual("总分", "Total"),
    "band": Bilingual("考核结果", "Result"),
    "band_by_points": Bilingual("按分数", "By points"),
    "vetoes": Bilingual("一票否决", "One-vote vetoes"),
    "veto_fired": Bilingual("已触发一票否决", "One-vote veto fired"),
    "veto_clear": Bilingual("未触发", "not fired"),
    "veto_effect": Bilingual(
        "一票否决：不论得分，结果定为", "One-vote veto: whatever the points, the result is"
    ),
    "veto_cap": Bilingual("一票否决：结果不高于", "One-vote veto: the result is at most"),
    "deductions": Bilingual("扣分项", "Deductions"),
    "formula": Bilingual("计分方法", "How the score is computed"),
    "levels_rule": Bilingual("定级标准", "Level bounds"),
    "no_data": Bilingual("数据不足", "Insufficient data"),
    "not_scored": Bilingual("不计分", "not scored"),
    "incomplete": Bilingual("得分不完整", "score incomplete"),
    "data": Bilingual("数据完整性", "Data"),
    "complete": Bilingual("完整", "complete"),
    "total_range": Bilingual("总分范围", "Total range"),
    "missing_summary": Bilingual(
        "{total} 项指标中 {n} 项无数据（权重合计 {weight}）",
        "{n} of {total} KPIs have no data (weight {weight})",
    ),
    "range_text": Bilingual(
        "已有数据的指标得分 {points}，补齐数据后总分在 {low}–{high} 之间",
        "{points} points from the KPIs with data; {low}–{high} once complete",
    ),
    "undecided": Bilingual(
        "结果取决于缺失的数据，可能为 {bands}",
        "the result depends on the missing data: it could be {bands}",
    ),
    "or": Bilingual("或", " or "),
    "decided_anyway": Bilingual(
        "缺失的数据不会改变结果", "the missing data cannot change the result"
    ),
    "line_total": Bilingual("总分 {total}：{band}", "total {total}: {band}"),
    "line_veto": Bilingual("一票否决：{vetoes}", "one-vote veto: {vetoes}"),
    "other_entries": Bilingual(
        "本期录入但本标准不计的项目", "Entered for the period but not counted by this standard"
    ),
    "entries_n": Bilingual("{key}（{n} 条）", "{key} ({n})"),
    "higher": Bilingual("≥", "≥"),
    "lower": Bilingual("≤", "≤"),
    "below": Bilingual("其余", "otherwise"),
    "level_n": Bilingual("{n}级", "L{n}"),
    "no_scores": Bilingual("无评分", "no scores"),
    "incidents": Bilingual("次数", "Count"),
    "per_item": Bilingual("每项扣分", "Per finding"),
    "cap": Bilingual("上限", "Cap"),
    "lost": Bilingual("未得分", "points lost"),
    "percent": Bilingual("%", "%"),
    "points_unit": Bilingual("分", "pts"),
    "count_unit": Bilingual("次", "times"),
    "ledger": Bilingual("台账", "ledger"),
    "inspection": Bilingual("人工评分", "entered scores"),
    "on_time_rate": Bilingual("按时完成率", "On-time rate"),
    "late_count": Bilingual("延迟次数", "late count"),
    "repair_response": Bilingual("报修响应", "repair response"),
    "repair_completion": Bilingual("报修完成", "repair completion"),
    "in_due_items": Bilingual("到期事项", "items due"),
    "in_done_on_time": Bilingual("按时完成", "done on time"),
    "in_done_late": Bilingual("逾期完成", "done late"),
    "in_open_overdue": Bilingual("逾期未完成", "open overdue"),
    "in_waived": Bilingual("已免除（不计）", "waived (not counted)"),
    "in_requests": Bilingual("报修单", "requests"),
    "in_within_limit": Bilingual("时限内", "within limit"),
    "in_over_limit": Bilingual("超时", "over limit"),
    "in_pending": Bilingual("未到时限（不计）", "pending (not counted)"),
    "in_limit_minutes": Bilingual("时限（分钟）", "limit (minutes)"),
    "in_mean_minutes": Bilingual("平均用时（分钟）", "mean (minutes)"),
    "src_daily": Bilingual("日常检查", "daily checks"),
    "src_special": Bilingual("专项督查", "special inspections"),
    "src_third_party": Bilingual("第三方评估", "third-party evaluation"),
    "n": Bilingual("份", " scores"),
    "formula_text": Bilingual(
        (
            "每项指标按数值定为 1–5 级（达到第5、4、3、2级的界限即得该级，"
            "否则为1级）；指标得分 = 权重 × 等级 ÷ 5；总分 = 各指标得分之和 − 扣分（不低于0）"
            "；按总分对照考核等次；触发一票否决项，结果不高于该项规定的等次（未规定的为最低等次）"
            "。无数据的指标为“数据不足”，不定级、不计分：缺失指标无论取何等级都不改变等次时才给出结果，"
            "否则结果为“数据不足”。"
        ),
        (
            "Each KPI value is set to a level 1–5 (meeting the bound of level 5, 4, 3 or "
            "2 gives that level, otherwise 1); KPI score = weight × level ÷ 5; total = sum "
            "of KPI scores − deductions (not below 0); the total is matched to the bands;"
            " a one-vote veto that fired caps the result at its band (the lowest unless it "
            "names one). A KPI without data is 'insufficient data': no level, no points; "
            "the result is given only when no level of the missing KPIs could change it, "
            "otherwise it is 'insufficient data'."
        ),
    ),
}

WORDS = _COMPLETION | _DIGEST | _ASSESSMENT | BUCKET_LABELS


def pick_lang(lang: str) -> str:
    if is_zh(lang):
        return "zh-CN"
    if lang.lower().startswith("en"):
        return "en"
    raise ValueError(f"unsupported language {lang!r} (supported: {', '.join(LANGS)})")


def words(lang: str) -> dict[str, str]:
    """All labels of ``lang``, lateness buckets included."""
    code = pick_lang(lang)
    return {key: word.label(code) for key, word in WORDS.items()}
