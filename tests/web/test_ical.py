"""The calendar feed: all-day events with alarms, read by icalendar and by Debian's khal."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy.orm import Session

from houqin import ical
from houqin.models import Item, Person
from tests.factories import NOW, make_item, make_person, make_run, make_school
from tests.web.conftest import Live, form_token, logged_in

KHAL = shutil.which("khal")


def issue(live: Live, code: str) -> str:
    with live.session() as s, s.begin():
        person = s.get(Person, live.world.people[code])
        assert person is not None
        return ical.issue_token(s, person, now=NOW, actor="test")


def events_of(body: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(body)
    return {str(e["summary"]): e for e in calendar.walk("VEVENT")}


def test_the_feed_lists_open_items_as_all_day_events_with_an_alarm(live: Live) -> None:
    token = issue(live, "li")
    with live.client() as client:
        response = client.get(f"/ical/{token}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    events = events_of(response.content)
    with live.session() as s:
        open_items = s.query(Item).filter_by(owner_id=live.world.people["li"], status="open").all()
    assert len(events) == len(open_items) == 7
    second = events["爱心缝补活动（第二次）"]  # due Wednesday 2026-11-25 18:00 in Shanghai
    assert second.decoded("dtstart") == date(2026, 11, 25)  # type: ignore[attr-defined]
    assert second.decoded("dtend") == date(2026, 11, 26)  # type: ignore[attr-defined]
    assert str(second["uid"]) == f"item-{live.world.items['mending_second']}.demo@houqin"  # type: ignore[index]
    alarms = second.walk("VALARM")  # type: ignore[attr-defined]
    assert len(alarms) == 1 and alarms[0].decoded("trigger") == -timedelta(hours=15)
    assert f"/items/{live.world.items['mending_second']}" in str(second["description"])  # type: ignore[index]


def test_uids_are_stable_and_done_items_leave_the_feed(live: Live) -> None:
    token = issue(live, "li")
    with live.client() as client:
        first = Calendar.from_ical(client.get(f"/ical/{token}.ics").content)
        with live.session() as s, s.begin():
            item = s.get(Item, live.world.items["repair_training"])
            assert item is not None
            item.status = "done"
        second = Calendar.from_ical(client.get(f"/ical/{token}.ics").content)
    uids = [str(e["uid"]) for e in first.walk("VEVENT")]
    later = [str(e["uid"]) for e in second.walk("VEVENT")]
    assert len(later) == len(uids) - 1 and set(later) < set(uids)


def test_revoking_or_reissuing_ends_the_old_url(live: Live) -> None:
    old = issue(live, "li")
    new = issue(live, "li")
    with live.client() as client:
        assert client.get(f"/ical/{old}.ics").status_code == 404
        assert client.get(f"/ical/{new}.ics").status_code == 200
        with live.session() as s, s.begin():
            person = s.get(Person, live.world.people["li"])
            assert person is not None and ical.revoke_token(s, person, now=NOW, actor="t")
        gone = client.get(f"/ical/{new}.ics")
        assert gone.status_code == 404 and "已被撤销" in gone.text
        assert client.get("/ical/not-a-token.ics").status_code == 404


def test_a_person_gets_their_feed_url_once_on_the_calendar_page_and_can_revoke_it(
    live: Live,
) -> None:
    with logged_in(live, "li") as client:
        token = form_token(client, "/calendar")
        page = client.post("/calendar", data={"csrf": token, "action": "issue"}).text
        url = page.split('id="feed-url">')[1].split("<")[0]
        assert url.startswith(f"{live.url}/ical/") and url.endswith(".ics")
        assert "webcal://" in page
        assert client.get(url).status_code == 200
        assert url not in client.get("/calendar").text  # only the hash is kept
        client.post("/calendar", data={"csrf": token, "action": "revoke"})
        assert client.get(url).status_code == 404


def test_only_the_hash_of_the_secret_is_stored(session: Session) -> None:
    person = make_person(session, make_school(session), "li")
    token = ical.issue_token(session, person, now=NOW, actor="t")
    assert token not in (person.ical_token_hash or "")
    assert ical.person_for_token(session, token) is person
    assert ical.person_for_token(session, token + "x") is None


@pytest.mark.skipif(KHAL is None, reason="Debian's khal is not installed (apt-get install khal)")
def test_khal_imports_the_feed_and_lists_the_deadlines(session: Session, tmp_path: Path) -> None:
    school = make_school(session)
    li = make_person(session, school, "li", "李师傅")
    run = make_run(session, school)
    due = NOW + timedelta(days=2)  # Wednesday 2026-11-25
    make_item(session, run, li, due=due, key="a", title_zh="爱心缝补活动（第二次）")
    make_item(session, run, li, due=due + timedelta(days=5), key="b", title_zh="美化校园")
    feed = tmp_path / "feed.ics"
    feed.write_bytes(ical.build_feed(session, li, now=NOW, base_url="http://127.0.0.1:8000"))
    config = tmp_path / "khal.conf"
    (tmp_path / "cal").mkdir()
    config.write_text(KHAL_CONFIG.format(tmp=tmp_path), encoding="utf-8")

    def khal(*args: str) -> str:
        done = subprocess.run(
            [KHAL or "khal", "-c", str(config), *args],
            capture_output=True,
            text=True,
            timeout=30,
            env={"HOME": str(tmp_path), "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"},
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "2 events found" in khal("printics", str(feed))
    khal("import", "--batch", "-a", "houqin", str(feed))
    khal("import", "--batch", "-a", "houqin", str(feed))  # a refresh: same UIDs, no duplicates
    listed = khal("list", "2026-11-23", "14d")
    assert listed.count("爱心缝补活动（第二次）") == 1 and listed.count("美化校园") == 1
    assert "2026-11-25" in listed.split("爱心缝补活动")[0]
    assert "⏰" in listed  # khal saw the alarms


KHAL_CONFIG = """
[calendars]
[[houqin]]
path = {tmp}/cal
type = calendar

[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
local_timezone = Asia/Shanghai
default_timezone = Asia/Shanghai

[default]
default_calendar = houqin

[sqlite]
path = {tmp}/khal.db
"""
