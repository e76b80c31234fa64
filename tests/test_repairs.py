"""Repair requests: reported, answered, closed, audited; and the `repair` and `score` commands."""

from __future__ import annotations

import pendulum
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from houqin import repairs
from houqin.errors import NotFound, UserError
from houqin.models import AuditEvent, InspectionScore, RepairRequest
from tests.factories import make_school

TZ = "Asia/Shanghai"
REPORTED = pendulum.datetime(2027, 3, 2, 8, 10, tz=TZ)


@pytest.fixture
def request_(session: Session) -> RepairRequest:
    school = make_school(session)
    return repairs.report(
        session,
        school=school,
        location="教学楼302",
        description="日光灯不亮",
        by="王老师",
        now=REPORTED,
    )


def test_a_reported_repair_is_audited(session: Session, request_: RepairRequest) -> None:
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "repair.report"))

    assert (request_.reported_at, request_.responded_at, request_.completed_at) == (
        REPORTED,
        None,
        None,
    )
    assert event.details == {"repair_id": request_.id, "location": "教学楼302"}


def test_answering_then_closing_records_both_times_and_minutes(session, request_) -> None:
    repairs.respond(session, repair_id=request_.id, by="li", now=REPORTED.add(minutes=15))
    done = repairs.complete(session, repair_id=request_.id, by="li", now=REPORTED.add(hours=2))

    assert done.responded_at == REPORTED.add(minutes=15)
    assert done.completed_at == REPORTED.add(hours=2)
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("repair.%")).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.details.get("minutes")) for e in events] == [
        ("repair.report", None),
        ("repair.respond", 15.0),
        ("repair.complete", 120.0),
    ]


def test_closing_on_the_first_visit_answers_at_the_same_moment(session, request_) -> None:
    done = repairs.complete(session, repair_id=request_.id, by="li", now=REPORTED.add(minutes=20))

    assert done.responded_at == done.completed_at == REPORTED.add(minutes=20)


def test_a_second_answer_or_close_is_refused_and_the_first_stands(session, request_) -> None:
    repairs.respond(session, repair_id=request_.id, by="li", now=REPORTED.add(minutes=5))
    repairs.complete(session, repair_id=request_.id, by="li", now=REPORTED.add(minutes=50))

    with pytest.raises(UserError, match="already answered"):
        repairs.respond(session, repair_id=request_.id, by="zhao", now=REPORTED.add(minutes=9))
    with pytest.raises(UserError, match="already closed"):
        repairs.complete(session, repair_id=request_.id, by="zhao", now=REPORTED.add(hours=3))
    assert session.get(RepairRequest, request_.id).responded_at == REPORTED.add(minutes=5)


def test_times_before_the_report_and_unknown_requests_are_refused(session, request_) -> None:
    with pytest.raises(UserError, match="cannot be answered or closed before"):
        repairs.respond(session, repair_id=request_.id, by="li", now=REPORTED.subtract(minutes=1))
    with pytest.raises(NotFound, match="no repair request 999999"):
        repairs.complete(session, repair_id=999999, by="li", now=REPORTED)
    with pytest.raises(UserError, match="location and a description"):
        repairs.report(
            session,
            school=make_school(session, "other"),
            location=" ",
            description="x",
            by="a",
            now=REPORTED,
        )


# -- the commands ---------------------------------------------------------------------------


@pytest.fixture
def houqin(database_url: str):  # type: ignore[no-untyped-def]
    """`houqin` on a fresh ledger with one school, demo, a 小学 (the standard is chosen by kind)."""
    from houqin.cli import main
    from houqin.db import make_engine, unit_of_work

    engine = make_engine(database_url)
    with unit_of_work(engine) as s:
        make_school(s, kind="primary", facts=["canteen"])
    yield engine, main
    engine.dispose()


def test_repair_commands_record_a_repair_from_report_to_close(houqin, capsys) -> None:
    engine, main = houqin
    day = ["--today", "2027-03-02"]

    assert (
        main(
            [
                "repair",
                "add",
                "--school",
                "demo",
                "--location",
                "食堂",
                "--description",
                "水龙头漏水",
                "--by",
                "赵阿姨",
                *day,
                "--at",
                "10:00",
            ]
        )
        == 0
    )
    assert main(["repair", "respond", "1", "--by", "li", *day, "--at", "10:25"]) == 0
    assert main(["repair", "close", "1", "--by", "li", *day, "--at", "12:00"]) == 0
    assert main(["repair", "close", "1", "--by", "li", *day, "--at", "12:30"]) == 2

    out, err = capsys.readouterr()
    assert "repair 1: reported at 2027-03-02 10:00" in out
    assert "answered after 25 minutes" in out and "closed after 2.0 hours" in out
    assert "already closed" in err


def test_score_add_enters_a_checked_score_and_refuses_a_bad_one(houqin, capsys) -> None:
    engine, main = houqin
    args = [
        "score",
        "add",
        "--school",
        "demo",
        "--period",
        "2027Q1",
        "--source",
        "daily",
        "--by",
        "督导组",
        "--today",
        "2027-03-31",
    ]

    assert main([*args, "--kpi", "facility_intact", "--score", "98.5"]) == 0
    assert main([*args, "--kpi", "facility_intact", "--score", "198.5"]) == 2
    assert main(["score", "keys", "--school", "demo"]) == 0

    out, err = capsys.readouterr()
    assert "score 1: facility_intact daily 98.5 for 2027Q1" in out
    assert "outside 0–100" in err and "food_hygiene_accident" in out
    with Session(engine) as s:
        [entry] = s.scalars(select(InspectionScore)).all()
        assert (entry.kpi, entry.score, entry.entered_by) == ("facility_intact", 98.5, "督导组")


def test_report_commands_write_their_files(houqin, capsys, tmp_path) -> None:
    engine, main = houqin
    out = tmp_path / "a.xlsx"

    assert (
        main(
            [
                "report",
                "assessment",
                "--school",
                "demo",
                "--period",
                "2026-2027/2",
                "--format",
                "xlsx",
                "--out",
                str(out),
                "--today",
                "2027-08-01",
            ]
        )
        == 0
    )
    assert main(["report", "overdue", "--school", "demo", "--today", "2027-08-01"]) == 0
    assert main(["report", "completion", "--run", "7"]) == 2
    assert main(["report", "completion", "--school", "demo"]) == 2

    printed, err = capsys.readouterr()
    # nothing measured in the term: no band (it used to print "20 points, rectify")
    assert out.exists() and f"{out}  (数据不足：12 项指标中 12 项无数据" in printed
    assert "【后勤逾期汇总】demo 中学（demo）：0 项逾期未完成" in printed
    assert "no plan run 7" in err and "give --run, or all of --school, --plan and --period" in err


def test_every_report_repair_and_score_command_is_in_docs_reports() -> None:
    from pathlib import Path

    from houqin.cli.repairs import repair
    from houqin.cli.reports import report
    from houqin.cli.scores import score

    docs = (Path(__file__).resolve().parent.parent / "docs" / "reports.md").read_text("utf-8")
    for group in (report, repair, score):
        for name in group.commands:
            assert f"houqin {group.name} {name}" in docs, (group.name, name)
