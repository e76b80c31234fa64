"""Honest orchestration (issue 14): launches that downtime delays but never loses, runs that
end Failed naming the schools that failed, on the session's Prefect test server."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from houqin.cli import main
from houqin.db import transaction
from houqin.models import PlanRun, School
from houqin.settings import get_settings
from tests import loopback
from tests.conftest import PREFECT_CLIENT_LEAK
from tests.factories import make_person, make_school, staff_school

pytestmark = pytest.mark.prefect
TZ = "Asia/Shanghai"
ALL_ROLES = ("exam_patrol",)  # the one role zhongkao_security names beyond staff_school's


def launched(template: str) -> list[tuple[str, str]]:
    with transaction(get_settings()) as s:
        rows = s.execute(
            select(School.code, PlanRun.period)
            .join(School, School.id == PlanRun.school_id)
            .where(PlanRun.template_key == template)
            .order_by(School.code)
        )
        return [(code, period) for code, period in rows]


def test_due_launches_are_the_passed_launch_times_a_school_lacks(database_url: str) -> None:
    from calendars import load_book
    from houqin import clock
    from houqin.plan_templates import load_builtin_templates
    from houqin.schedules import due_launches

    templates = load_builtin_templates().values()
    with transaction(get_settings()) as s:
        staff_school(s, "demo")
        day = date(2027, 5, 10)
        before = due_launches(s, templates, load_book(), clock.moment(day, "07:59", TZ))
        after = due_launches(s, templates, load_book(), clock.moment(day, "08:00", TZ))
    assert "gaokao_security" not in {d.template for d in before}
    assert [(d.template, d.school, d.period) for d in after if d.template == "gaokao_security"] == [
        ("gaokao_security", "demo", "2026-2027")
    ]
    # a period that is over is not launched late: the 2026-2027 autumn term ended in January
    assert not [d for d in after if d.period == "2026-2027/1"]


@PREFECT_CLIENT_LEAK
def test_a_launch_missed_while_the_system_was_down_is_made_by_the_next_due_run(
    prefect_harness: None, async_flow_runs: None, database_url: str, capsys
) -> None:
    with transaction(get_settings()) as s:
        staff_school(s, "demo", ALL_ROLES)
        staff_school(s, "east", ALL_ROLES)
    # the evening before gaokao_security's launch (Mon 2027-05-10 08:00): it is not due yet
    assert main(["launch", "--due", "--today", "2027-05-09"]) == 0
    assert launched("gaokao_security") == []
    # down over 08:00 on 05-10 (its one-time schedule is dropped); back up the next morning
    assert main(["launch", "--due", "--preview", "--today", "2027-05-11"]) == 0
    shown = capsys.readouterr().out
    assert "due: gaokao_security · demo · 2026-2027 (since 2027-05-10 08:00)" in shown
    assert main(["launch", "--due", "--today", "2027-05-11"]) == 0
    assert "demo: launched gaokao_security for demo 2026-2027" in capsys.readouterr().out
    assert launched("gaokao_security") == [("demo", "2026-2027"), ("east", "2026-2027")]
    # level-triggered and idempotent: the next check finds nothing to do
    assert main(["launch", "--due", "--today", "2027-05-12"]) == 0
    assert "0 launches due at 2027-05-12 08:00" in capsys.readouterr().out


@PREFECT_CLIENT_LEAK
def test_a_due_run_with_a_bad_school_ends_failed_naming_it_and_launches_the_others(
    prefect_harness: None, async_flow_runs: None, database_url: str
) -> None:
    from flows.launch_due import run_launch_due

    with transaction(get_settings()) as s:
        staff_school(s, "good", ALL_ROLES)
        lonely = make_school(s, "lonely")
        make_person(s, lonely, "zhang", "张主任", roles=("logistics_head",))
    state = run_launch_due(today=date(2027, 5, 11))
    assert state.is_failed()
    assert state.message.startswith("launch due failed for 1: lonely: ")
    assert "gaokao_security 2026-2027: " in state.message and "no one bound" in state.message
    assert ("good", "2026-2027") in launched("gaokao_security")


@PREFECT_CLIENT_LEAK
def test_launching_for_every_school_when_every_school_fails_ends_failed(
    prefect_harness: None, async_flow_runs: None, database_url: str
) -> None:
    from flows.launch_plan import run_launch_plan

    with transaction(get_settings()) as s:
        staff_school(s, "a")
        staff_school(s, "b")
    # a period with no calendar file: every school fails, and the run says so
    state = run_launch_plan(template="safety_month", period="2030-2031", today=date(2027, 4, 1))
    assert state.is_failed()
    assert state.message.startswith("launch safety_month 2030-2031 failed for 2: a: ")
    assert "b: " in state.message and "2030-2031.yaml" in state.message


http_receiver = loopback.http_receiver


@PREFECT_CLIENT_LEAK
def test_a_failed_run_engines_or_recorded_is_posted_to_the_alert_webhook_by_the_automation(
    prefect_harness: None, async_flow_runs: None, database_url: str, http_receiver
) -> None:
    import time

    from flows.alerts import NAME, apply_alerts
    from flows.launch_plan import run_launch_plan

    with transaction(get_settings()) as s:
        staff_school(s, "demo", ALL_ROLES)
    first = apply_alerts(http_receiver.url + "/alert")
    assert apply_alerts(http_receiver.url + "/alert") != first  # replaced, not doubled
    # The server's trigger service picks a new automation up within seconds: fail a run until
    # the first alert arrives (bounded), then read what it says.
    deadline = time.monotonic() + 120
    while not http_receiver.requests and time.monotonic() < deadline:
        state = run_launch_plan(template="safety_month", period="2030-2031", school="demo")
        assert state.is_failed()
        wait = time.monotonic() + 5
        while not http_receiver.requests and time.monotonic() < wait:
            time.sleep(0.2)
    assert http_receiver.requests, f"the automation {NAME} never fired"
    text = http_receiver.requests[0].json()["text"]
    assert "Houqin: launch-plan run 'launch safety_month · demo · 2030-2031' failed" in text
    assert "launch safety_month 2030-2031 failed for 1: demo: " in text

    # a run the terminal records through the REST API (flows/recorded_run.py) alerts the same way
    from prefect.settings import PREFECT_API_URL

    from flows.recorded_run import RecordedRun

    recorded = RecordedRun.start(
        str(PREFECT_API_URL.value()),
        flow="launch-plan",
        name="launch routine_duties · demo · 2026-2027",
        parameters={"template": "routine_duties"},
        tags=["houqin"],
    )
    recorded.fail(RuntimeError("disk full (test)"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
        "routine_duties" in r.json()["text"] for r in http_receiver.requests
    ):
        time.sleep(0.2)
    texts = [r.json()["text"] for r in http_receiver.requests]
    alert = next(t for t in texts if "routine_duties" in t)
    assert "launch-plan run 'launch routine_duties · demo · 2026-2027' failed" in alert
    assert "RuntimeError: disk full (test)" in alert


def test_a_sweep_that_could_send_nothing_ends_failed_and_says_why(
    prefect_harness: None, database_url: str
) -> None:
    from flows.runs import summary_of
    from flows.sweep import sweep
    from tests.test_sweep import seed

    # the mail server is down (nothing listens on port 9): every message waits for a retry
    seed({"email": {"host": "127.0.0.1", "port": 9, "sender": "houqin@demo.example"}}, items=2)
    state = sweep(today=date(2027, 5, 28), at="07:30", return_state=True)
    assert state.is_failed()
    assert "nothing sent, 1 to retry (is the mail server down?)" in (state.message or "")
    assert summary_of(state)["sent"] == 0


def test_the_weekly_digest_goes_past_a_school_that_fails_and_names_it(
    prefect_harness: None, database_url: str, tmp_path
) -> None:
    from flows.overdue_digest import overdue_digest
    from flows.runs import summary_of

    with transaction(get_settings()) as s:
        staff_school(s, "a-good")
        broken = make_school(s, "b-broken")
        broken.timezone = "Mars/Phobos"  # its digest cannot say what day it is
        staff_school(s, "c-good")
    state = overdue_digest(
        sent=True, today=date(2027, 6, 7), out_dir=str(tmp_path), return_state=True
    )
    assert state.is_failed()
    assert (state.message or "").startswith("overdue digest failed for 1: b-broken: ")
    assert set(summary_of(state)) == {"a-good", "c-good"}  # the school after it got its digest


def test_a_scheduled_sweep_that_starts_late_acts_as_of_its_scheduled_time(
    prefect_harness: None, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pendulum
    from prefect.runtime import flow_run

    from flows.sweep import sweep

    # what prefect.runtime reports for a deployment run scheduled for Fri 07:30 (its env override
    # refuses this attribute): the run starts now, long after, and acts as of 07:30
    scheduled = pendulum.datetime(2027, 5, 27, 23, 30, tz="UTC")
    monkeypatch.setattr(flow_run, "scheduled_start_time", scheduled, raising=False)
    summary = sweep()
    assert summary["now"] == "2027-05-28T07:30:00+08:00"
