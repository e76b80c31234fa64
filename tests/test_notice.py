"""State Council holiday notices read from their published text (tests/data/notices/, sources in
SOURCES.md there), compared day by day with chinese-calendar's official data."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import opencc
import pytest

from calendars.arrangement import Arrangement
from calendars.notice import Notice, parse_notice
from calendars.prediction import predict
from houqin.errors import ValidationFailed

NOTICES = Path(__file__).resolve().parent / "data" / "notices"
D = date.fromisoformat
# Later notices that changed a year after its annual notice, read the same way.
AMENDMENTS = {2015: "2015-victory-day.txt", 2019: "2019-labour-day.txt"}


def read(name: str) -> Notice:
    path = NOTICES / name
    return parse_notice(path.read_text(encoding="utf-8"), str(path))


def year_as_published(year: int) -> Arrangement:
    arrangement = read(f"{year}.txt").arrangement
    if year in AMENDMENTS:
        arrangement = arrangement.amended(read(AMENDMENTS[year]).arrangement)
    return arrangement


def differing_days(year: int) -> list[date]:
    """Days of the year (and of the December the notice reaches into) answered differently."""
    this = year_as_published(year)
    following = year_as_published(year + 1) if (NOTICES / f"{year + 1}.txt").exists() else None
    start = min(this.days_off.keys() | this.workdays.keys() | {date(year, 1, 1)})
    found = []
    for i in range((date(year, 12, 31) - start).days + 1):
        d = start + timedelta(days=i)
        # a December day the next year's notice speaks for is that notice's (2018-12-29..31)
        if following is not None and (d in following.days_off or d in following.workdays):
            continue
        if this.is_workday(d) != chinese_calendar.is_workday(d):
            found.append(d)
    return found


def notice_text(arrangement: Arrangement, number: str = "") -> str:
    """An arrangement written the way the State Council writes one (for years not yet out)."""
    year = arrangement.year

    def say(d: date, after: date | None = None) -> str:
        if after is not None and (d.year, d.month) == (after.year, after.month):
            return f"{d.day}日"
        prefix = f"{d.year}年" if (after or d).year != year or d.year != year else ""
        return f"{prefix}{d.month}月{d.day}日"

    lines = [f"国务院办公厅关于{year}年部分节假日安排的通知", number]
    for i, h in enumerate(arrangement.holidays):
        first, last = h.days_off[0], h.days_off[-1]
        span = say(first) + (f"至{say(last, first)}" if last != first else "")
        worked = "、".join(f"{say(d)}（星期{'一二三四五六日'[d.weekday()]}）" for d in h.workdays)
        lines.append(
            f"{'一二三四五六七'[i]}、{h.name}：{span}放假调休，共{len(h.days_off)}天。"
            + (f"{worked}上班。" if worked else "")
        )
    return "\n".join(lines + ["国务院办公厅", f"{year - 1}年11月4日"]) + "\n"


@pytest.mark.parametrize("year", range(2027, 2041))
def test_a_prediction_written_as_a_notice_reads_back_the_same(year: int) -> None:
    # every form a year can take: ranges across months and into December, 8-day 国庆 with 中秋
    predicted = predict(year)
    read_back = parse_notice(notice_text(predicted)).arrangement
    assert read_back.as_json() == predicted.as_json()
    assert [h.name for h in read_back.holidays] == [h.name for h in predicted.holidays]


@pytest.mark.parametrize("year", [y for y in range(2015, 2027) if y != 2020])
def test_every_working_day_answer_of_the_notice_equals_the_official_data(year: int) -> None:
    assert differing_days(year) == []


def test_2020_differs_only_by_the_extension_notice_which_is_refused_by_its_line() -> None:
    # 国办发明电〔2020〕1号 extended 春节 to 02-02 (COVID-19): it says where the break ends, not
    # which days it adds, so it is refused; the library holds the extended break.
    assert differing_days(2020) == [D("2020-01-31"), D("2020-02-01")]
    with pytest.raises(ValidationFailed) as refused:
        read("2020-extension.txt")
    assert {p.line for p in refused.value.problems} == {5}
    assert "延长2020年春节假期至2月2日" in str(refused.value)


def test_the_annual_notice_gives_its_year_title_number_and_date() -> None:
    notice = read("2016.txt")  # its title is split over two lines, as on gov.cn
    assert notice.year == 2016 and not notice.amends
    assert notice.title == "国务院办公厅关于2016年部分节假日安排的通知"
    assert notice.number == "国办发明电〔2015〕18号"
    assert notice.issued == D("2015-12-10")
    assert (
        notice.source
        == "国务院办公厅关于2016年部分节假日安排的通知（国办发明电〔2015〕18号，2015-12-10）"
    )


def test_a_copy_without_its_title_is_known_by_its_opening_sentence() -> None:
    notice = read("2015.txt")  # the copy found starts at 各省、自治区…
    assert notice.year == 2015 and notice.number == "" and notice.issued == D("2014-12-16")


def test_the_2026_notice_gives_its_days_off_and_make_up_days() -> None:
    notice = read("2026.txt")
    assert notice.arrangement.as_json()["workdays"] == [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ]
    spring = {h.name: h for h in notice.arrangement.holidays}["春节"]
    assert (spring.days_off[0], spring.days_off[-1], len(spring.days_off)) == (
        D("2026-02-15"),
        D("2026-02-23"),
        9,
    )
    assert spring.line == 9


@pytest.mark.parametrize(
    ("name", "holiday", "off", "work"),
    [
        ("2017.txt", "元旦", ["2017-01-01", "2017-01-02"], []),  # 1月2日（星期一）补休
        ("2017.txt", "中秋节、国庆节", ["2017-10-01", "2017-10-08"], ["2017-09-30"]),
        ("2019.txt", "元旦", ["2018-12-30", "2019-01-01"], ["2018-12-29"]),  # reaches back
        ("2023.txt", "元旦", ["2022-12-31", "2023-01-02"], []),  # a range across the new year
        ("2025.txt", "元旦", ["2025-01-01", "2025-01-01"], []),  # 放假1天，不调休
        ("2024.txt", "端午节", ["2024-06-10", "2024-06-10"], []),  # 与周末连休
        (
            "2015-victory-day.txt",
            "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
            ["2015-09-03", "2015-09-05"],
            ["2015-09-06"],
        ),
    ],
)
def test_each_form_of_a_holiday_line_is_read(
    name: str, holiday: str, off: list[str], work: list[str]
) -> None:
    found = {h.name: h for h in read(name).arrangement.holidays}[holiday]
    assert [found.days_off[0].isoformat(), found.days_off[-1].isoformat()] == off
    assert [d.isoformat() for d in found.workdays] == work


def test_the_2024_encouragement_to_rest_on_new_years_eve_is_not_a_day_off() -> None:
    # "鼓励…安排职工在除夕（2月9日）休息": a wish, not an arrangement (the library works 02-09)
    assert D("2024-02-09") not in read("2024.txt").arrangement.days_off


def test_a_traditional_character_copy_reads_the_same_as_the_simplified() -> None:
    assert read("2023-traditional.txt").arrangement == read("2023.txt").arrangement


def test_any_script_punctuation_and_weekday_form_reads_the_same() -> None:
    text = (NOTICES / "2026.txt").read_text(encoding="utf-8")
    traditional = opencc.OpenCC("s2t").convert(text)
    half_width = text.translate(str.maketrans("（），：；", "(),:;")).replace("（", "(")
    xingqi = re.sub(r"周([一二三四五六日])", r"星期\1", text)
    expected = parse_notice(text).arrangement
    for variant in (traditional, half_width, xingqi):
        assert parse_notice(variant).arrangement == expected


def test_the_adjustment_notice_replaces_only_the_holiday_it_names() -> None:
    adjusted = year_as_published(2019)
    labour = {h.name: h for h in adjusted.holidays}["劳动节"]
    assert labour.days_off == tuple(D(f"2019-05-0{i}") for i in range(1, 5))
    assert labour.workdays == (D("2019-04-28"), D("2019-05-05"))
    assert len(adjusted.holidays) == 7
    assert read("2019-labour-day.txt").amends


# -- refused ------------------------------------------------------------------------------------

NOTICE_2026 = (NOTICES / "2026.txt").read_text(encoding="utf-8")


def refusal(text: str) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        parse_notice(text, "pasted.txt")
    return refused.value


@pytest.mark.parametrize(
    ("wrong", "right", "says"),
    [
        ("至5日（周二）放假调休，共5天", "至6日（周三）放假调休，共5天", "共5天"),  # range ≠ count
        ("1月4日（周日）上班", "1月4日（周一）上班", "周一"),  # the weekday contradicts the date
        ("5月9日（周六）上班", "5月8日上班", "5月8日"),  # a make-up day on a Friday
        ("清明节：", "清明：", "清明"),  # not a holiday the notice can name
        ("9月25日（周五）至27日（周日）", "9月27日（周日）至25日（周五）", "not a range"),
        ("6月19日（周五）", "6月31日", "6月31日"),  # no such date
        ("10月10日（周六）上班", "10月1日（周四）上班", "10月1日"),  # both off and worked
        ("端午节：", "劳动节：", "劳动节"),  # given twice
    ],
)
def test_a_notice_that_does_not_add_up_is_refused_with_the_line_that_is_wrong(
    wrong: str, right: str, says: str
) -> None:
    assert wrong in NOTICE_2026
    bad = refusal(NOTICE_2026.replace(wrong, right, 1))
    lines = NOTICE_2026.replace(wrong, right, 1).splitlines()
    problem = bad.problems[0]
    assert problem.file == "pasted.txt" and problem.line is not None
    assert right.split("（")[0] in lines[problem.line - 1]
    assert says in str(problem)


def test_不调休_with_a_make_up_day_is_refused() -> None:
    text = (NOTICES / "2025.txt").read_text(encoding="utf-8")
    bad = refusal(text.replace("放假1天，不调休。", "放假1天，不调休。1月4日（周六）上班。"))
    assert "不调休" in str(bad) and bad.problems[0].line == 9


@pytest.mark.parametrize(
    "text",
    [
        "",
        "关于2026年春节值班安排的通知\n2月15日至23日放假，共9天。",  # a school's own notice
        "Holiday schedule 2026: 1 January to 3 January off.",
    ],
)
def test_a_text_that_is_not_a_notice_is_refused(text: str) -> None:
    assert "not a State Council holiday notice" in str(refusal(text))


def test_a_notice_cut_short_is_refused_naming_the_missing_holidays() -> None:
    cut = NOTICE_2026[: NOTICE_2026.index("五、端午节")]
    assert "names no 端午节、中秋节、国庆节" in str(refusal(cut))


def test_a_holiday_line_without_its_name_is_refused() -> None:
    bad = refusal(NOTICE_2026.replace("三、清明节：", "三、"))
    assert bad.problems[0].line == 11 and "no holiday named" in str(bad.problems[0])


def test_a_notice_without_any_dated_holiday_is_refused() -> None:
    text = "国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：另行通知。\n"
    assert "no holiday with dates" in str(refusal(text))
