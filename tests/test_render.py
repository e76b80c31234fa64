"""The per-person digest: grouping, local deadlines, overdue days, escalation owner, escaping."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from notifications import DigestGroup, DigestLine, format_deadline, render_digest

# 2026-11-23 08:00 in Shanghai (UTC+8): the morning sweep.
NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
GAOKAO = "2027年高考安全保障"
HEATING = "冬季供暖设备检修"


def line(title: str, due: datetime, kind: str, owner: str = "李明", **extra: bool) -> DigestLine:
    slug = zlib.crc32(title.encode()) % 10_000
    return DigestLine(title, due, kind, owner, f"https://houqin.school.example/i/{slug}", **extra)


def groups() -> list[DigestGroup]:
    return [
        DigestGroup(
            GAOKAO,
            "第一中学",
            (
                # 16:30 UTC on the 25th is 00:30 on the 26th in Shanghai.
                line(
                    "考场电路检修",
                    datetime(2026, 11, 25, 16, 30, tzinfo=UTC),
                    "remind",
                    provisional=True,
                ),
                line("消防器材检查", datetime(2026, 11, 21, 10, 0, tzinfo=UTC), "overdue"),
                line(
                    "门卫来访登记",
                    datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
                    "escalation",
                    owner="王强",
                ),
            ),
        ),
        DigestGroup(
            HEATING,
            "第一中学",
            (line("锅炉压力表校验", datetime(2026, 11, 23, 10, 0, tzinfo=UTC), "due_today"),),
        ),
    ]


def test_zh_subject_counts_own_items_overdue_and_escalations() -> None:
    subject, _, _ = render_digest(recipient="李明", lang="zh-CN", groups=groups(), now=NOW)

    assert subject == "【后勤提醒】您有 3 项待办，其中 1 项已逾期；另有 1 项逾期事项需您督办"


def test_zh_subject_without_overdue_items() -> None:
    only_due = [DigestGroup(HEATING, "第一中学", groups()[1].lines)]

    subject, _, _ = render_digest(recipient="李明", lang="zh", groups=only_due, now=NOW)

    assert subject == "【后勤提醒】您有 1 项待办"


def test_supervisor_with_only_escalations_gets_a_follow_up_subject() -> None:
    escalations = [DigestGroup(GAOKAO, "第一中学", (groups()[0].lines[2],))]

    zh, _, _ = render_digest(recipient="张主任", lang="zh-CN", groups=escalations, now=NOW)
    en, _, _ = render_digest(recipient="Zhang", lang="en", groups=escalations, now=NOW)

    assert zh == "【后勤督办】1 项逾期事项需您督办"
    assert en == "[Houqin] 1 overdue item to follow up"


def test_en_subject_counts_items_with_plurals() -> None:
    subject, _, _ = render_digest(recipient="Li Ming", lang="en", groups=groups(), now=NOW)

    assert subject == "[Houqin] 3 items due, 1 overdue; 1 overdue item to follow up"


def test_zh_text_groups_items_by_plan_earliest_deadline_first() -> None:
    _, text, _ = render_digest(recipient="李明", lang="zh-CN", groups=groups(), now=NOW)

    assert text.startswith("李明，您好：\n\n截至 2026-11-23(周一)08:00，您有 3 项待办")
    gaokao, heating = text.index(f"■ {GAOKAO}（第一中学）"), text.index(f"■ {HEATING}（第一中学）")
    assert gaokao < heating
    in_gaokao = text[gaokao:heating]
    assert (
        in_gaokao.index("门卫来访登记")
        < in_gaokao.index("消防器材检查")
        < in_gaokao.index("考场电路检修")
    )
    assert "锅炉压力表校验" in text[heating:]


def test_zh_text_shows_deadline_in_shanghai_time_overdue_days_owner_and_provisional() -> None:
    _, text, _ = render_digest(recipient="李明", lang="zh-CN", groups=groups(), now=NOW)

    # The UTC instant 2026-11-25 16:30 is already the 26th in Shanghai.
    assert "截止：2026-11-26(周四)00:30（日期暂定），还有 3 天" in text
    assert "截止：2026-11-21(周六)18:00，已逾期 2 天" in text
    assert "门卫来访登记（负责人：王强）\n     截止：2026-11-20(周五)18:00，已逾期 3 天" in text
    assert "截止：2026-11-23(周一)18:00，今天到期" in text
    assert "消防器材检查（负责人" not in text  # own items do not name their owner
    assert "办理：https://houqin.school.example/i/" in text


def test_en_text_shows_the_same_facts_in_english() -> None:
    _, text, _ = render_digest(recipient="Li Ming", lang="en", groups=groups(), now=NOW)

    assert text.startswith("Hello Li Ming,\n\nAs of Mon 2026-11-23 08:00, you have 3 items due")
    assert f"* {GAOKAO} (第一中学)" in text
    assert "Due: Thu 2026-11-26 00:30 (provisional date), 3 days left" in text
    assert "Due: Sat 2026-11-21 18:00, 2 days overdue" in text
    assert "门卫来访登记 (owner: 王强)\n     Due: Fri 2026-11-20 18:00, 3 days overdue" in text
    assert "Due: Mon 2026-11-23 18:00, due today" in text


def test_overdue_days_count_calendar_days_in_the_school_time_zone() -> None:
    # Due 23:00 on the 21st in Shanghai; at 07:00 on the 23rd that is 2 calendar days, although
    # only 32 hours have passed.
    due = datetime(2026, 11, 21, 23, 0, tzinfo=timezone(timedelta(hours=8)))
    now = datetime(2026, 11, 23, 7, 0, tzinfo=timezone(timedelta(hours=8)))
    digest = [DigestGroup(GAOKAO, "第一中学", (line("消防器材检查", due, "overdue"),))]

    _, text, _ = render_digest(recipient="李明", lang="zh-CN", groups=digest, now=now)

    assert "已逾期 2 天" in text


def test_overdue_on_the_due_day_says_past_the_deadline() -> None:
    due = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 today in Shanghai; now is 10:00
    digest = [DigestGroup(GAOKAO, "第一中学", (line("消防器材检查", due, "overdue"),))]

    _, zh, _ = render_digest(
        recipient="李明", lang="zh-CN", groups=digest, now=due + timedelta(hours=1)
    )
    _, en, _ = render_digest(recipient="Li", lang="en", groups=digest, now=due + timedelta(hours=1))

    assert "已过截止时间" in zh and "past the deadline" in en


def test_html_escapes_titles_and_links_but_keeps_its_own_markup() -> None:
    evil = DigestLine(
        '<script>alert("x")</script>检修',
        datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        "remind",
        "李明",
        "https://houqin.school.example/i/7?sig=a&b=c",
    )
    digest = [DigestGroup("<b>计划</b>", "第一中学", (evil,))]

    _, text, html = render_digest(recipient="李明", lang="zh-CN", groups=digest, now=NOW)

    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;检修" in html
    assert "&lt;b&gt;计划&lt;/b&gt;" in html
    assert 'href="https://houqin.school.example/i/7?sig=a&amp;b=c"' in html
    assert html.lstrip().startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in html
    assert '<script>alert("x")</script>检修' in text  # plain text is not HTML: left as is


def test_html_carries_grouping_deadline_owner_and_markers() -> None:
    _, _, zh = render_digest(recipient="李明", lang="zh-CN", groups=groups(), now=NOW)
    _, _, en = render_digest(recipient="Li Ming", lang="en", groups=groups(), now=NOW)

    assert zh.count("<h3") == 2 and GAOKAO in zh and HEATING in zh
    assert "2026-11-26(周四)00:30<em>（日期暂定）</em>" in zh
    assert "（负责人：王强）" in zh and "已逾期 3 天" in zh
    assert "Thu 2026-11-26 00:30 <em>(provisional date)</em>" in en
    assert "(owner: 王强)" in en and "3 days overdue" in en


def test_text_has_no_trailing_spaces_or_template_residue() -> None:
    for lang in ("zh-CN", "en"):
        _, text, _ = render_digest(recipient="李明", lang=lang, groups=groups(), now=NOW)

        assert all(ln == ln.rstrip() for ln in text.splitlines())
        assert "{{" not in text and "{%" not in text
        assert "\n\n\n" not in text


@pytest.mark.parametrize(
    ("moment", "lang", "expected"),
    [
        (datetime(2027, 6, 4, 10, 0, tzinfo=UTC), "zh-CN", "2027-06-04(周五)18:00"),
        (datetime(2027, 6, 4, 10, 0, tzinfo=UTC), "en", "Fri 2027-06-04 18:00"),
        (datetime(2027, 6, 6, 16, 0, tzinfo=UTC), "zh-CN", "2027-06-07(周一)00:00"),
    ],
)
def test_format_deadline(moment: datetime, lang: str, expected: str) -> None:
    assert format_deadline(moment, lang) == expected


def test_naive_times_are_refused() -> None:
    naive = [DigestGroup(GAOKAO, "第一中学", (line("x", datetime(2026, 11, 25, 10), "remind"),))]

    with pytest.raises(ValueError, match="time-zone aware"):
        render_digest(recipient="李明", lang="zh-CN", groups=naive, now=NOW)
    with pytest.raises(ValueError, match="time-zone aware"):
        render_digest(recipient="李明", lang="zh-CN", groups=groups(), now=datetime(2026, 11, 23))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lang": "fr"}, "unsupported language 'fr'"),
        ({"groups": [DigestGroup(GAOKAO, "第一中学", ())]}, "no lines"),
        (
            {"groups": [DigestGroup(GAOKAO, "一中", (line("x", NOW, "later"),))]},
            "unknown digest line kind 'later'",
        ),
    ],
)
def test_bad_input_is_refused(change: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"recipient": "李明", "lang": "zh-CN", "groups": groups()}

    with pytest.raises(ValueError, match=message):
        render_digest(**(arguments | change), now=NOW)  # type: ignore[arg-type]
