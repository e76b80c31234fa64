"""The Prefect flows themselves, on the session's Prefect test server."""

from __future__ import annotations

from datetime import date

import pytest

from houqin.db import transaction
from houqin.settings import get_settings
from tests.conftest import PREFECT_CLIENT_LEAK
from tests.factories import make_person, make_school, staff_school

pytestmark = pytest.mark.prefect


@PREFECT_CLIENT_LEAK
def test_a_scheduled_launch_for_every_school_skips_a_school_with_an_unbound_role(
    prefect_harness: None, async_flow_runs: None, database_url: str
) -> None:
    from flows.launch_plan import run_launch_plan
    from flows.runs import summary_of

    with transaction(get_settings()) as s:
        staff_school(s, "good")
        lonely = make_school(s, "lonely")
        make_person(s, lonely, "zhang", "张主任", roles=("logistics_head",))
    state = run_launch_plan(
        template="safety_month", school="*", period="2026-2027", today=date(2027, 4, 1)
    )
    assert state.is_failed()  # a school failed: the run says so, and which, and why
    assert "lonely: safety_month 2026-2027: " in state.message and "no one bound" in state.message
    results = summary_of(state)
    assert results["good"]["created"] is True and results["good"]["items"] == 18
    assert "no one bound" in results["lonely"]["error"]
    again = run_launch_plan(
        template="safety_month", school=None, period="2026-2027", today=date(2027, 4, 2)
    )
    assert summary_of(again)["good"]["created"] is False


def test_the_sweep_that_sees_a_plan_runs_last_item_closed_writes_its_completion_report(
    prefect_harness: None, database_url: str, tmp_path
) -> None:
    from calendars import load_book
    from flows.sweep import sweep
    from houqin import items
    from houqin.launch import launch
    from houqin.plan_templates import load_builtin_templates
    from tests.factories import NOW

    with transaction(get_settings()) as s:
        people = staff_school(s, "demo")
        run = launch(
            s,
            template=load_builtin_templates()["safety_month"],
            school=people["school"],
            period="2026-2027",
            book=load_book(),
            by="zhang",
            now=NOW,
        ).run
        for item in items.list_items(s, items.ItemFilter(run_id=run.id)):
            items.waive(s, item=item, by="zhang", now=NOW, reason="本校另有安排")
        run_id = run.id
    summary = sweep(today=date(2026, 11, 24), at="07:30")
    assert summary["completed_plans"] == 1
    paths = summary["reports"][run_id]
    assert sorted(paths) == ["html", "pdf", "xlsx"]
    with open(paths["pdf"], "rb") as fh:
        assert fh.read(4) == b"%PDF"
    again = sweep(today=date(2026, 11, 25), at="07:30")
    assert again["completed_plans"] == 0  # announced once


def test_the_delivery_run_ends_failed_naming_a_school_whose_settings_are_unusable(
    prefect_harness: None, database_url: str
) -> None:
    from sqlalchemy import select

    from flows.deliver import deliver
    from houqin import reminders
    from houqin.models import School
    from tests.test_sweep import BOOK, at, seed

    seed({"email": {"host": "127.0.0.1", "port": 9, "sender": "a@b.cn"}}, items=1)
    with transaction(get_settings()) as s:
        reminders.plan_reminders(s, now=at("2027-05-28"), book=BOOK)
        school = s.scalar(select(School))
        assert school is not None
        school.timezone = "Mars/Phobos"

    state = deliver(now=at("2027-05-28", "07:31"), return_state=True)

    assert state.is_failed()
    assert "school demo: timezone: 'Mars/Phobos' is not a time zone" in (state.message or "")


def test_a_quiet_delivery_run_completes_with_its_summary(
    prefect_harness: None, database_url: str
) -> None:
    from flows.deliver import deliver
    from tests.test_sweep import at

    summary = deliver(now=at("2027-05-28", "07:31"))

    assert summary["sent"] == 0 and summary["waiting_for_a_person"] == 0
