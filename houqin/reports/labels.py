"""Words of the reports in zh-CN and en: headings, column names, status names.

The HTML templates, the spreadsheets and the charts take their wording from here, so a label
reads the same in every format.
"""

from __future__ import annotations

from houqin.reports.lateness import BUCKET_LABELS

LANGS = ("zh-CN", "en")

_ZH = {
    "completion_title": "计划完成情况报告",
    "overdue_title": "逾期事项汇总",
    "assessment_title": "后勤管理绩效考核",
    "school": "学校", "plan": "计划", "period": "周期", "generated": "生成时间",
    "summary": "总体情况", "by_phase": "按阶段", "by_owner": "按负责人", "phase": "阶段",
    "owner": "负责人", "item": "事项", "due": "截止日期", "completed": "完成日期",
    "status": "状态", "days_late": "逾期天数", "total": "合计", "on_time_rate": "按时完成率",
    "lateness": "逾期分布", "lateness_done": "已完成事项", "overdue_open": "未完成逾期事项",
    "evidence": "完成凭证", "kind": "类型", "content": "内容", "by": "提交人", "at": "时间",
    "audit": "免除与转派记录", "action": "操作", "detail": "说明", "items": "事项清单",
    "exceptions": "需关注的事项（逾期、未完成、免除）", "none": "无",
    "done_on_time": "按时完成", "done_late": "逾期完成", "open_overdue": "逾期未完成",
    "open": "未到期", "waived": "已免除", "done": "已完成",
    "note": "备注", "number": "数值", "photo": "照片",
    "item.waive": "免除", "item.reassign": "转派", "from": "原负责人", "to": "新负责人",
    "reason": "原因", "count": "项数", "days": "天",
    "colon": "：", "sep": "；", "comma": "，", "lp": "（", "rp": "）", "stop": "。",
}  # fmt: skip

_EN = {
    "completion_title": "Plan completion report",
    "overdue_title": "Overdue items",
    "assessment_title": "Logistics performance assessment",
    "school": "School", "plan": "Plan", "period": "Period", "generated": "Generated",
    "summary": "Overview", "by_phase": "By phase", "by_owner": "By owner", "phase": "Phase",
    "owner": "Owner", "item": "Item", "due": "Due", "completed": "Completed",
    "status": "Status", "days_late": "Days late", "total": "Total", "on_time_rate": "On-time rate",
    "lateness": "Lateness", "lateness_done": "Done items", "overdue_open": "Open overdue items",
    "evidence": "Evidence", "kind": "Kind", "content": "Content", "by": "By", "at": "At",
    "audit": "Waivers and reassignments", "action": "Action", "detail": "Details",
    "items": "Items", "exceptions": "Items needing attention (late, open, waived)",
    "none": "none",
    "done_on_time": "done on time", "done_late": "done late", "open_overdue": "open, overdue",
    "open": "open, not yet due", "waived": "waived", "done": "done",
    "note": "note", "number": "number", "photo": "photo",
    "item.waive": "waived", "item.reassign": "reassigned", "from": "from", "to": "to",
    "reason": "reason", "count": "items", "days": "days",
    "colon": ": ", "sep": "; ", "comma": ", ", "lp": " (", "rp": ")", "stop": ".",
}  # fmt: skip


_ZH_DIGEST = {
    "scope": "范围", "as_of": "截至", "total_overdue": "逾期未完成", "schools": "学校数",
    "since_last": "与上次汇总相比", "previous": "上次汇总", "no_previous": "此前没有发送过汇总",
    "newly": "新增逾期", "resolved": "上次以来已解决", "still": "仍然逾期",
    "worst_plans": "逾期最严重的三个计划",
    "worst_rule": "按逾期总天数排序（天数相同按项数）", "by_age": "按逾期时长",
    "oldest": "最长逾期（天）", "total_days": "逾期总天数", "days_overdue": "逾期天数",
    "oldest_items": "逾期事项（按逾期天数）", "more": "另有 {n} 项未列出",
    "status_now": "现状态",
}  # fmt: skip

_ZH_ASSESSMENT = {
    "standard": "考核标准", "window": "考核期间", "category": "类别", "kpi": "指标",
    "inputs": "数据来源与输入", "value": "数值", "level": "等级", "weight": "权重",
    "score": "得分", "arithmetic": "计算", "subtotal": "小计", "points": "指标得分合计",
    "deducted": "扣分", "total_score": "总分", "band": "考核结果", "band_by_points": "按分数",
    "vetoes": "一票否决", "veto_fired": "已触发一票否决", "veto_clear": "未触发",
    "veto_effect": "一票否决：不论得分，结果定为", "veto_cap": "一票否决：结果不高于",
    "deductions": "扣分项", "formula": "计分方法", "levels_rule": "定级标准",
    "no_data": "数据不足", "not_scored": "不计分", "incomplete": "得分不完整",
    "data": "数据完整性", "complete": "完整", "total_range": "总分范围",
    "missing_summary": "{total} 项指标中 {n} 项无数据（权重合计 {weight}）",
    "range_text": "已有数据的指标得分 {points}，补齐数据后总分在 {low}–{high} 之间",
    "undecided": "结果取决于缺失的数据，可能为 {bands}", "or": "或",
    "decided_anyway": "缺失的数据不会改变结果",
    "line_total": "总分 {total}：{band}", "line_veto": "一票否决：{vetoes}",
    "other_entries": "本期录入但本标准不计的项目", "entries_n": "{key}（{n} 条）",
    "higher": "≥", "lower": "≤", "below": "其余", "level_n": "{n}级",
    "no_scores": "无评分", "incidents": "次数",
    "per_item": "每项扣分", "cap": "上限", "lost": "未得分",
    "percent": "%", "points_unit": "分", "count_unit": "次",
    "ledger": "台账", "inspection": "人工评分", "on_time_rate": "按时完成率",
    "late_count": "延迟次数", "repair_response": "报修响应", "repair_completion": "报修完成",
    "in_due_items": "到期事项", "in_done_on_time": "按时完成", "in_done_late": "逾期完成",
    "in_open_overdue": "逾期未完成", "in_waived": "已免除（不计）", "in_requests": "报修单",
    "in_within_limit": "时限内", "in_over_limit": "超时", "in_pending": "未到时限（不计）",
    "in_limit_minutes": "时限（分钟）", "in_mean_minutes": "平均用时（分钟）",
    "src_daily": "日常检查", "src_special": "专项督查", "src_third_party": "第三方评估",
    "n": "份", "formula_text": (
        "每项指标按数值定为 1–5 级（达到第5、4、3、2级的界限即得该级，否则为1级）；"
        "指标得分 = 权重 × 等级 ÷ 5；总分 = 各指标得分之和 − 扣分（不低于0）；按总分对照考核等次；"
        "触发一票否决项，结果不高于该项规定的等次（未规定的为最低等次）。"
        "无数据的指标为“数据不足”，不定级、不计分：缺失指标无论取何等级都不改变等次时才给出结果，"
        "否则结果为“数据不足”。"
    ),
}  # fmt: skip

_EN_DIGEST = {
    "scope": "Scope", "as_of": "As of", "total_overdue": "Open overdue", "schools": "Schools",
    "since_last": "Since the last digest", "previous": "Last digest",
    "no_previous": "no digest was sent before", "newly": "Newly overdue",
    "resolved": "Resolved since", "still": "Still overdue",
    "worst_plans": "The three most overdue plans",
    "worst_rule": "ranked by total days overdue (then by number of items)",
    "by_age": "By age", "oldest": "Oldest (days)", "total_days": "Total days overdue",
    "days_overdue": "Days overdue", "oldest_items": "Overdue items (most overdue first)",
    "more": "{n} more not listed", "status_now": "Status now",
}  # fmt: skip

_EN_ASSESSMENT = {
    "standard": "Standard", "window": "Dates", "category": "Category", "kpi": "KPI",
    "inputs": "Source and inputs", "value": "Value", "level": "Level", "weight": "Weight",
    "score": "Score", "arithmetic": "Arithmetic", "subtotal": "Subtotal",
    "points": "KPI points", "deducted": "Deductions", "total_score": "Total",
    "band": "Result", "band_by_points": "By points", "vetoes": "One-vote vetoes",
    "veto_fired": "One-vote veto fired", "veto_clear": "not fired",
    "veto_effect": "One-vote veto: whatever the points, the result is",
    "veto_cap": "One-vote veto: the result is at most",
    "deductions": "Deductions", "formula": "How the score is computed",
    "levels_rule": "Level bounds", "higher": "≥",
    "no_data": "Insufficient data", "not_scored": "not scored", "incomplete": "score incomplete",
    "data": "Data", "complete": "complete", "total_range": "Total range",
    "missing_summary": "{n} of {total} KPIs have no data (weight {weight})",
    "range_text": "{points} points from the KPIs with data; {low}–{high} once complete",
    "undecided": "the result depends on the missing data: it could be {bands}", "or": " or ",
    "decided_anyway": "the missing data cannot change the result",
    "line_total": "total {total}: {band}", "line_veto": "one-vote veto: {vetoes}",
    "other_entries": "Entered for the period but not counted by this standard",
    "entries_n": "{key} ({n})",
    "lower": "≤", "below": "otherwise", "level_n": "L{n}", "no_scores": "no scores",
    "incidents": "Count", "per_item": "Per finding",
    "cap": "Cap", "lost": "points lost", "percent": "%", "points_unit": "pts",
    "count_unit": "times",
    "ledger": "ledger", "inspection": "entered scores", "late_count": "late count",
    "repair_response": "repair response", "repair_completion": "repair completion",
    "in_due_items": "items due", "in_done_on_time": "done on time", "in_done_late": "done late",
    "in_open_overdue": "open overdue", "in_waived": "waived (not counted)",
    "in_requests": "requests", "in_within_limit": "within limit", "in_over_limit": "over limit",
    "in_pending": "pending (not counted)", "in_limit_minutes": "limit (minutes)",
    "in_mean_minutes": "mean (minutes)", "src_daily": "daily checks",
    "src_special": "special inspections", "src_third_party": "third-party evaluation",
    "n": " scores", "formula_text": (
        "Each KPI value is set to a level 1–5 (meeting the bound of level 5, 4, 3 or 2 gives that "
        "level, otherwise 1); KPI score = weight × level ÷ 5; total = sum of KPI scores − "
        "deductions (not below 0); the total is matched to the bands; a one-vote veto that fired "
        "caps the result at its band (the lowest unless it names one). A KPI without data is "
        "'insufficient data': no level, no points; the result is given only when no level of "
        "the missing KPIs could change it, otherwise it is 'insufficient data'."
    ),
}  # fmt: skip

WORDS = {
    "zh-CN": _ZH | _ZH_DIGEST | _ZH_ASSESSMENT,
    "en": _EN | _EN_DIGEST | _EN_ASSESSMENT,
}


def pick_lang(lang: str) -> str:
    if lang.lower().startswith("zh"):
        return "zh-CN"
    if lang.lower().startswith("en"):
        return "en"
    raise ValueError(f"unsupported language {lang!r} (supported: {', '.join(LANGS)})")


def words(lang: str) -> dict[str, str]:
    """All labels of ``lang``, lateness buckets included."""
    code = pick_lang(lang)
    return WORDS[code] | BUCKET_LABELS[code]
