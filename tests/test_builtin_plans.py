"""The built-in plans read against the seeds: the text a user sees, and dates that follow 开学."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from houqin.due_rules import resolve_due
from houqin.plan_templates import PlanTemplate

SCHOOL_YEARS = ("2026-2027", "2027-2028")

# A month and day kept from a seed's own year: 3月11日, 3.11, 3月12日 …
SEED_DATE = re.compile(
    r"\d{1,2}月\d{1,2}日|(?<![\d.])(?:1[0-2]|[1-9])\.(?:[12]\d|3[01]|[1-9])(?![\d.])"
)
# The seeds' redaction placeholder (xx中街, 20xx年) and the seed schools' own places and firms.
SEED_PLACES = re.compile(
    r"xx|人民北路|芳邻楼|成美楼|西校区|东校区|东西校区|二学部|两部|本部|罗湖|东门派出所|宣城|文正|博大|"
    r"九龙湖|Middle Street|Renmin|Fanglin|Chengmei|west campus|east campus|west-campus|east-campus|"
    r"in the seed",
    re.IGNORECASE,
)
# 000 篇5 2月1 writes 物质保障; the word is 物资保障 (supplies).
SEED_TYPOS = ("物质保障",)


def shown_text(template: PlanTemplate) -> Iterator[tuple[str, str]]:
    """(where, text) for every text a user sees: titles, phases, roles the file adds, steps."""
    yield "title", template.title_zh
    yield "title.en", template.title_en or ""
    for role_key, role in template.roles.items():
        yield f"roles.{role_key}", f"{role.zh} {role.en or ''}"
    for phase in template.phases:
        yield f"phases.{phase.key}", f"{phase.title_zh} {phase.title_en or ''}"
    for item in template.items:
        yield f"{item.key}.title", f"{item.title_zh} {item.title_en or ''}"
        for n, step in enumerate(item.steps):
            yield f"{item.key}.steps[{n}]", f"{step.zh} {step.en or ''}"


def test_no_built_in_plan_shows_a_seeds_date_placeholder_place_name_or_typo(templates) -> None:
    found = [
        f"{key}: {where}: {text}"
        for key, template in sorted(templates.items())
        for where, text in shown_text(template)
        if SEED_DATE.search(text) or SEED_PLACES.search(text) or any(t in text for t in SEED_TYPOS)
    ]

    assert found == []


def test_the_seed_typo_is_corrected_in_item_sources_too(templates) -> None:
    sources = [i.source or "" for t in templates.values() for i in t.items]

    assert [s for s in sources if "物质" in s] == []


def test_the_patterns_catch_what_the_seeds_wrote() -> None:
    # the checks above must be able to fail: the titles the seed review removed
    for text in (
        "考前一晚（3月11日）夜间考场巡查",
        "xx中街设置路障",
        "布置西校区考生家长休息场地",
        "Night exam-room patrol on the eve (3.11 in the seed)",
    ):
        assert SEED_DATE.search(text) or SEED_PLACES.search(text), text
    assert not SEED_DATE.search("水电费收缴(4-5月份)，30%，每日巡查不少于1次，0.5")


def due_date(template: PlanTemplate, key: str, school_year: str, book, term: int | None) -> date:  # type: ignore[no-untyped-def]
    spec = next(i for i in template.items if i.key == key)
    year = book.school_year(school_year)
    return resolve_due(
        spec.due, school_year=year, book=book, term=term, default_time=template.due_time
    ).date


# 000 篇5 2月1, 2月2, 2月4: 后勤员工到岗、开学前期工作 (环境整理、设备维修、物资保障),
# 制度与分工, 两个会议.
FEBRUARY_PREPARATION = {
    "annual_logistics": [
        "feb_staff_on_duty",
        "feb_rules_plan",
        "feb_supervisors_meeting",
        "feb_all_staff_meeting",
        "feb_opening_prep",
    ],
    "spring_opening": [
        "staff_on_duty",
        "rules_and_plan",
        "supervisors_meeting",
        "all_staff_meeting",
        "environment_tidy",
        "equipment_repair",
        "supplies",
    ],
}


@pytest.mark.parametrize("school_year", SCHOOL_YEARS)
@pytest.mark.parametrize("plan", sorted(FEBRUARY_PREPARATION))
def test_february_preparation_is_due_before_the_spring_term_starts(
    templates, book, plan: str, school_year: str
) -> None:
    template = templates[plan]
    term = 2 if template.period == "spring_term" else None
    opening = book.school_year(school_year).anchor("spring_term.start")

    late = {
        key: due
        for key in FEBRUARY_PREPARATION[plan]
        if (due := due_date(template, key, school_year, book, term)) >= opening
    }

    assert late == {}, f"开学 {opening}"


@pytest.mark.parametrize("school_year", SCHOOL_YEARS)
def test_the_annual_plan_and_spring_opening_give_the_same_seed_items_the_same_deadline(
    templates, book, school_year: str
) -> None:
    # 000 篇5 2月 is the source of both; until one seed task is one item, they at least agree
    pairs = {
        "feb_staff_on_duty": "staff_on_duty",
        "feb_rules_plan": "rules_and_plan",
        "feb_supervisors_meeting": "supervisors_meeting",
        "feb_all_staff_meeting": "all_staff_meeting",
        "feb_registration": "registration_vehicles",
        "feb_boarding_meal_check": "boarding_meal_check",
        "feb_energy_report": "energy_report",
        "feb_greening": "greening",
        "feb_parking_survey": "parking_survey",
    }
    annual, spring = templates["annual_logistics"], templates["spring_opening"]

    for a, s in pairs.items():
        assert due_date(annual, a, school_year, book, None) == due_date(
            spring, s, school_year, book, 2
        ), a


def test_registration_is_on_the_first_school_day_2027(templates, book) -> None:
    annual = templates["annual_logistics"]

    # spring term 2026-2027 opens Mon 2027-02-22; staff report 5 working days before
    assert due_date(annual, "feb_registration", "2026-2027", book, None) == date(2027, 2, 22)
    assert due_date(annual, "feb_staff_on_duty", "2026-2027", book, None) == date(2027, 2, 15)


@pytest.mark.parametrize("school_year", SCHOOL_YEARS)
def test_the_self_inspection_steps_before_the_01_11_submission_fall_on_working_days(
    templates, book, school_year: str
) -> None:
    # 000 篇15 dates only the submission (1.11); the steps before it are ours (01-08 was a
    # Saturday in 2028)
    plan = templates["district_self_inspection"]

    off = [
        (i.key, due)
        for i in plan.items
        if str(i.due) != "01-11"
        and not book.is_workday(due := due_date(plan, i.key, school_year, book, None))
    ]

    assert off == []


# -- recurrence, school profiles and shared tasks (issue 15) -------------------------------------

# The seed tasks several plans reach: one shared key each, so a school gets one item.
SHARED = {
    "staff_contracts": {
        ("annual_logistics", "summer_staff_contracts"),
        ("autumn_opening", "staff_contracts"),
        ("summer_maintenance", "staff_contracts"),
    },
    "staff_on_duty": {
        ("annual_logistics", "feb_staff_on_duty"),
        ("spring_opening", "staff_on_duty"),
        ("autumn_opening", "staff_on_duty"),
    },
    "asset_count": {
        ("annual_logistics", "jun_asset_count"),
        ("term_end_assets", "asset_count_report"),
    },
    "stock_count": {("term_end_assets", "stock_count"), ("primary_school_term", "stock_count")},
    "lamp_fan_check": {
        ("autumn_opening", "lamp_fan_check"),
        ("spring_opening", "lamp_fan_check"),
        ("primary_school_term", "lamp_fan_check"),
        ("summer_maintenance", "lamp_fan_check"),
    },
}


def test_every_seed_task_several_plans_reach_has_one_shared_key(templates) -> None:
    found: dict[str, set[tuple[str, str]]] = {}
    for key, template in templates.items():
        for item in template.items:
            if item.shared:
                found.setdefault(item.shared, set()).add((key, item.key))
    assert {k: v for k, v in found.items() if not k.startswith("spring_")} == SHARED
    # 000 篇5 2月: every pair annual_logistics / spring_opening shares its key
    assert all(len(v) == 2 for k, v in found.items() if k.startswith("spring_"))
    assert len([k for k in found if k.startswith("spring_")]) == 8


@pytest.mark.parametrize(
    ("plan", "event"), [("gaokao_security", "gaokao"), ("zhongkao_security", "zhongkao")]
)
def test_the_exam_day_duties_repeat_on_each_exam_day(
    templates, book, plan: str, event: str
) -> None:
    from houqin.launch import deadlines

    template = templates[plan]
    on_the_day = [i for i in template.items if i.phase == "exam" or i.phase == "after"]
    daily = {i.key for i in on_the_day if i.repeat and str(i.repeat) == f"each day of {event}"}
    # what stays one item covers the whole exam (zhongkao: the dorm bedtime rounds, 服从安排)
    assert {i.key for i in on_the_day} - daily <= {"dorm_bedtime", "serve_arrangements"}
    assert "open_rooms" in daily and "night_patrol" in daily and "after_exam_inspection" in daily
    steps = [s.zh for i in template.items for s in i.steps]
    assert not [s for s in steps if "以后各考试日" in s or "多于两天" in s]
    year = book.school_year("2026-2027")
    days = (year.anchor(f"{event}.end") - year.anchor(f"{event}.start")).days + 1
    opening = [(o, d) for s, o, d in deadlines(template, year, book, None) if s.key == "open_rooms"]
    assert len(opening) == days == 3
    first = year.anchor(f"{event}.start")
    assert [(o.label, f"{d.date} {d.time:%H:%M}") for o, d in opening if o] == [
        (f"day{n}", f"{first + timedelta(days=n - 1)} 07:00") for n in range(1, days + 1)
    ]


@pytest.mark.parametrize("school_year", SCHOOL_YEARS)
def test_every_recurring_builtin_item_has_occurrences_with_their_own_keys(
    templates, book, school_year: str
) -> None:
    from houqin.launch import deadlines
    from houqin.periods import TERM_OF

    year = book.school_year(school_year)
    for key, template in templates.items():
        made = list(deadlines(template, year, book, TERM_OF.get(template.period)))
        labels = [(s.key, o.label) for s, o, _ in made if o is not None]
        assert len(set(labels)) == len(labels), key
        for spec in template.items:
            if spec.repeat is not None:
                assert any(s == spec.key for s, _ in labels), (key, spec.key)


def test_the_plans_for_some_schools_say_so(templates) -> None:
    said = {k: t.applies.to_dict() for k, t in templates.items() if t.applies is not None}
    assert said == {
        "gaokao_security": {"kinds": [], "facts": ["gaokao_site"]},
        "zhongkao_security": {"kinds": [], "facts": ["zhongkao_site"]},
        "primary_school_term": {"kinds": ["primary", "nine_year", "twelve_year"], "facts": []},
    }
