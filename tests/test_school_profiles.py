"""School profiles: kinds and facts in the roster, plans and standards chosen by them, and one
item per school for a task several plans reach."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from houqin import shared_tasks
from houqin.cli import main
from houqin.db import transaction
from houqin.errors import ValidationFailed
from houqin.launch import launch
from houqin.models import AuditEvent, Item, ItemShare, PlanRun, School
from houqin.people import import_roster
from houqin.plan_templates import load_template_file
from houqin.school_profiles import NotApplicable, applicable, applies_to
from houqin.settings import get_settings
from houqin.standards import NoStandard, standard_for
from tests.conftest import PREFECT_CLIENT_LEAK
from tests.factories import NOW, make_person, make_school, staff_school

ROOT = Path(__file__).resolve().parent.parent

ROSTER = """\
school:
  code: p1
  name: 实验小学
  kind: {kind}
  facts: [{facts}]
people:
  - {{code: zhang, name: 张主任, roles: [logistics_head]}}
"""


def roster(tmp_path: Path, kind: str = "小学", facts: str = "食堂") -> Path:
    path = tmp_path / "roster.yaml"
    path.write_text(ROSTER.format(kind=kind, facts=facts), encoding="utf-8")
    return path


def local(moment) -> str:  # type: ignore[no-untyped-def]
    return pendulum.instance(moment).in_tz("Asia/Shanghai").format("YYYY-MM-DD HH:mm")


# -- the roster ----------------------------------------------------------------------------------


def test_the_roster_says_the_schools_kind_and_facts_and_a_re_import_updates_them(
    session: Session, tmp_path: Path
) -> None:
    import_roster(session, roster(tmp_path), school_code=None, now=NOW, actor="t")
    school = session.scalars(select(School)).one()
    assert (school.kind, school.facts) == ("primary", ["canteen"])
    # English keys are accepted as well as the Chinese names
    path = roster(tmp_path, kind="nine_year", facts="食堂, boarding")
    import_roster(session, path, school_code=None, now=NOW, actor="t")
    assert (school.kind, school.facts) == ("nine_year", ["canteen", "boarding"])


@pytest.mark.parametrize(
    ("kind", "facts", "expected"),
    [
        ("高仲", "食堂", "4: school.kind: unknown school kind '高仲' (did you mean '高中'?)"),
        (
            "小学",
            "高考考场",
            "5: school.facts[0]: unknown school fact '高考考场' (did you mean '高考考点'?)",
        ),
    ],
)
def test_an_unknown_kind_or_fact_is_refused_at_its_line_with_a_suggestion(
    session: Session, tmp_path: Path, kind: str, facts: str, expected: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        import_roster(session, roster(tmp_path, kind, facts), school_code=None, now=NOW, actor="t")
    [problem] = caught.value.problems
    assert expected in str(problem)
    assert session.scalar(select(func.count()).select_from(School)) == 0


def test_a_plans_applies_to_is_checked_with_file_line_and_field(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "data" / "plans" / "exam_week.yaml").read_text(encoding="utf-8")
    path = tmp_path / "exam_week.yaml"
    path.write_text(
        text.replace(
            "season: june\n", "season: june\napplies_to: {kinds: [高中], facts: [考点]}\n"
        ),
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as caught:
        load_template_file(path)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (str(path), 7, "applies_to.facts[0]")
    assert "unknown fact '考点'" in problem.message and "高考考点 (gaokao_site)" in problem.message


# -- which plans a school gets -------------------------------------------------------------------


def test_the_builtin_plans_a_primary_school_and_the_demo_school_get(templates) -> None:
    primary = School(code="p1", name="实验小学", kind="primary", facts=["canteen"])
    demo = School(code="demo", name="示范中学", kind="complete", facts=["gaokao_site"])
    unsaid = School(code="x", name="某校", kind=None, facts=[])
    for_primary = {t.key for t in applicable(templates.values(), primary)}
    assert "gaokao_security" not in for_primary and "zhongkao_security" not in for_primary
    assert "primary_school_term" in for_primary and "routine_duties" in for_primary
    for_demo = {t.key for t in applicable(templates.values(), demo)}
    assert "gaokao_security" in for_demo and "primary_school_term" not in for_demo
    # a school that has not said its kind gets only the plans for every school
    assert not applies_to(templates["primary_school_term"], unsaid)
    assert applies_to(templates["safety_month"], unsaid)


def test_launching_a_plan_for_a_school_it_is_not_for_is_refused_and_writes_nothing(
    session: Session, book, templates
) -> None:
    people = staff_school(session, extra_roles=("exam_patrol",))
    school = people["school"]
    school.kind, school.facts = "primary", ["canteen"]
    with pytest.raises(NotApplicable) as caught:
        launch(
            session,
            template=templates["gaokao_security"],
            school=school,
            period="2026-2027",
            book=book,
            by="zhang",
            now=NOW,
        )
    # one text per language (a page shows its reader's), both on the command line
    assert caught.value.text is not None
    assert caught.value.text.zh == (
        "未启动：gaokao_security 只适用于高考考点，学校 demo不是"
        "（在名册的 school: 中写明 kind/facts 后运行 houqin people import）"
    )
    assert caught.value.text.en == (
        "not launched: gaokao_security needs 高考考点 (a gaokao exam site); school 'demo' does "
        "not say so (set kind and facts under the roster's school: and run `houqin people import`)"
    )
    assert str(caught.value) == f"{caught.value.text.zh} / {caught.value.text.en}"
    assert session.scalar(select(func.count()).select_from(PlanRun)) == 0
    with pytest.raises(
        NotApplicable, match="只适用于小学、九年一贯制、十二年一贯制，学校 demo是初中"
    ):
        school.kind = "junior"
        plan = templates["primary_school_term"]
        launch(session, template=plan, school=school, period="2026-2027/1", book=book,
               by="zhang", now=NOW)  # fmt: skip


def test_houqin_launch_refuses_a_primary_school_gaokao_in_one_bilingual_line(
    database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["people", "import", str(roster(tmp_path))]) == 0
    capsys.readouterr()
    for extra in ([], ["--preview"]):
        args = ["launch", "gaokao_security", "--school", "p1", "--period", "2026-2027", *extra]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "gaokao_security 只适用于高考考点，学校 p1不是" in err
        assert "gaokao_security needs 高考考点 (a gaokao exam site)" in err
        assert "Traceback" not in err


@PREFECT_CLIENT_LEAK
@pytest.mark.prefect
def test_a_launch_for_every_school_launches_only_where_the_plan_applies(
    prefect_harness: None, async_flow_runs: None, database_url: str
) -> None:
    from flows.launch_plan import run_launch_plan

    with transaction(get_settings()) as s:
        staff_school(s, "site", extra_roles=("exam_patrol",))
        primary = make_school(s, "p1", kind="primary", facts=["canteen"])
        make_person(s, primary, "zhang", "张主任", roles=("logistics_head",))
    results = run_launch_plan(
        template="gaokao_security", school="*", period="2026-2027", today=date(2027, 5, 6)
    ).result()
    assert results["site"]["created"] is True
    assert "只适用于高考考点" in results["p1"]["skipped"] and "error" not in results["p1"]
    with transaction(get_settings()) as s:
        runs = s.scalars(select(PlanRun.school_id)).all()
        assert len(runs) == 1


# -- one item per shared task --------------------------------------------------------------------


def test_a_task_two_plans_reach_is_one_item_with_the_earlier_deadline_on_both_boards(
    session: Session, book, templates
) -> None:
    school = staff_school(session)["school"]

    def run(key: str, period: str) -> PlanRun:
        return launch(session, template=templates[key], school=school, period=period,
                      book=book, by="zhang", now=NOW).run  # fmt: skip

    # the term's asset count: term_end_assets (term.end - 3 workdays: 07-06) first, then
    # annual_logistics (month 6: 06-30), whose earlier deadline wins
    assets = run("term_end_assets", "2026-2027/2")
    annual = run("annual_logistics", "2026-2027")
    [count] = session.scalars(select(Item).where(Item.shared == "asset_count")).all()
    assert count.run_id == assets.id and local(count.due_at) == "2027-06-30 18:00"
    assert session.scalar(select(func.count()).select_from(Item).where(
        Item.run_id == annual.id, Item.key == "jun_asset_count")) == 0  # fmt: skip
    moved = session.scalars(select(AuditEvent).where(AuditEvent.action == "item.shared_deadline"))
    assert [e.item_id for e in moved] == [count.id]
    # shown on both boards: the annual run's board lists it with its own items
    on_annual = set(
        session.scalars(select(Item.id).where(Item.id.in_(shared_tasks.reaching(annual.id))))
    )
    assert on_annual >= {count.id}
    # staff on duty before the spring term: annual_logistics and spring_opening, one item
    spring = run("spring_opening", "2026-2027/2")
    on_duty = session.scalars(select(Item).where(Item.shared == "staff_on_duty")).all()
    assert len(on_duty) == 1 and local(on_duty[0].due_at) == "2027-02-15 09:00"
    assert session.scalar(select(ItemShare.key).where(ItemShare.run_id == spring.id,
        ItemShare.item_id == on_duty[0].id)) == "staff_on_duty"  # fmt: skip


def test_one_summers_contracts_and_lamp_check_are_one_item_across_school_years(
    session: Session, book, templates
) -> None:
    school = staff_school(session)["school"]
    for key, period in [
        ("summer_maintenance", "2026-2027"),  # 签订用工合同 summer_break.end - 10 workdays
        ("annual_logistics", "2026-2027"),  # month 8: 2027-08-31
        ("autumn_opening", "2027-2028/1"),  # the next year's term.start - 10 workdays
    ]:
        launch(session, template=templates[key], school=school, period=period, book=book,
               by="zhang", now=NOW)  # fmt: skip
    [contracts] = session.scalars(select(Item).where(Item.shared == "staff_contracts")).all()
    assert local(contracts.due_at) == "2027-08-17 18:00"
    assert session.scalar(select(func.count()).select_from(ItemShare).where(
        ItemShare.item_id == contracts.id)) == 2  # fmt: skip
    lamps = session.scalars(select(Item).where(Item.shared == "lamp_fan_check")).all()
    assert len(lamps) == 1  # summer_maintenance's, before the autumn term of 2027
    # the autumn 2026 staff on duty (autumn_opening 2026-2027/1) is another occasion
    launch(session, template=templates["autumn_opening"], school=school, period="2026-2027/1",
           book=book, by="zhang", now=NOW)  # fmt: skip
    assert len(session.scalars(select(Item).where(Item.shared == "staff_on_duty")).all()) == 3


# -- the standard by kind ------------------------------------------------------------------------


def test_the_standard_is_chosen_by_the_schools_kind_and_none_is_forced_on_a_middle_school() -> None:
    primary = School(code="p1", name="实验小学", kind="primary", facts=[])
    assert standard_for(primary).key == "primary_school"
    assert standard_for(School(code="n", name="九年制", kind="nine_year", facts=[])).key == (
        "primary_school"
    )
    with pytest.raises(NoStandard) as caught:
        standard_for(School(code="demo", name="示范中学", kind="complete", facts=[]))
    message = str(caught.value)
    assert message.startswith("学校 demo 是完全中学，没有适用的考核标准，未评分。")
    assert "no assessment standard is for school 'demo'" in message
    assert "primary_school (小学、九年一贯制、十二年一贯制)" in message
    assert "--standard KEY" in message
    with pytest.raises(NoStandard, match="未写明学校类型"):
        standard_for(School(code="x", name="某校", kind=None, facts=[]))


def test_houqin_report_assessment_for_a_middle_school_scores_nothing_and_says_why(
    database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["people", "import", str(ROOT / "examples" / "demo-school.yaml")]) == 0
    capsys.readouterr()
    args = ["report", "assessment", "--school", "demo", "--period", "2027Q1",
            "--out", str(tmp_path / "a.html"), "--today", "2027-04-01"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "没有适用的考核标准，未评分" in err and not (tmp_path / "a.html").exists()
    # on purpose, by another kind's standard: scored, and still 数据不足 without data
    assert main([*args, "--standard", "primary_school"]) == 0
    assert "数据不足" in capsys.readouterr().out


def test_an_item_for_a_canteen_is_not_made_for_a_school_without_one(
    session: Session, book, templates
) -> None:
    with_canteen = staff_school(session, "c1")["school"]
    without = staff_school(session, "c2")["school"]
    without.facts = []
    for school in (with_canteen, without):
        launch(session, template=templates["routine_duties"], school=school,
               period="2026-2027", book=book, by="zhang", now=NOW)  # fmt: skip

    def keys(school: School) -> set[str]:
        found = session.scalars(select(Item.key).where(Item.school_id == school.id)).all()
        return {k.partition("@")[0] for k in found}

    canteen = {"canteen_fire_exit_spot_check", "cooks_study", "canteen_staff_assessment"}
    assert canteen <= keys(with_canteen)
    assert keys(without) == keys(with_canteen) - canteen


def test_a_shared_items_deadline_is_the_earliest_of_every_plan_that_reaches_it(
    session: Session, book, templates
) -> None:
    # what re-planning reads: the claims of a run, and the earliest deadline of a shared item
    school = staff_school(session)["school"]
    first = launch(session, template=templates["spring_opening"], school=school,
                   period="2026-2027/2", book=book, by="zhang", now=NOW).run  # fmt: skip
    second = launch(session, template=templates["annual_logistics"], school=school,
                    period="2026-2027", book=book, by="zhang", now=NOW).run  # fmt: skip
    claims = shared_tasks.claims(session, second.id)
    assert "feb_staff_on_duty" in claims and "jun_asset_count" not in claims
    item = claims["feb_staff_on_duty"].item
    assert item.run_id == first.id
    later = pendulum.datetime(2027, 2, 19, 18, tz="Asia/Shanghai")
    assert shared_tasks.earliest(session, item, later) == claims["feb_staff_on_duty"].due_at


def test_re_planning_keeps_a_shared_item_at_the_earliest_deadline_of_its_plans(
    session: Session, book, templates
) -> None:
    from houqin.replan import replan

    school = staff_school(session)["school"]
    for key, period in [("term_end_assets", "2026-2027/2"), ("annual_logistics", "2026-2027")]:
        launch(session, template=templates[key], school=school, period=period, book=book,
               by="zhang", now=NOW)  # fmt: skip
    [count] = session.scalars(select(Item).where(Item.shared == "asset_count")).all()
    assert local(count.due_at) == "2027-06-30 18:00"  # annual_logistics' month 6, not 07-06
    # nothing in the calendar changed: re-planning moves nothing, the shared item included
    report = replan(session, book=book, now=NOW, apply=True)
    assert report.moves == [] and local(count.due_at) == "2027-06-30 18:00"
