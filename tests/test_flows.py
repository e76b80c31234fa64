"""The Prefect flows themselves, on the session's Prefect test server."""

from __future__ import annotations

from datetime import date

import pytest

from houqin.db import transaction
from houqin.settings import get_settings
from tests.factories import make_person, make_school, staff_school

pytestmark = pytest.mark.prefect


def test_a_scheduled_launch_for_every_school_skips_a_school_with_an_unbound_role(
    prefect_harness: None, database_url: str
) -> None:
    from flows.launch_plan import launch_plan

    with transaction(get_settings()) as s:
        staff_school(s, "good")
        lonely = make_school(s, "lonely")
        make_person(s, lonely, "zhang", "张主任", roles=("logistics_head",))
    results = launch_plan(
        template="safety_month", school="*", period="2026-2027", today=date(2027, 4, 1)
    )
    assert results["good"]["created"] is True and results["good"]["items"] == 18
    assert "no one bound" in results["lonely"]["error"]
    again = launch_plan(
        template="safety_month", school="*", period="2026-2027", today=date(2027, 4, 2)
    )
    assert again["good"]["created"] is False
