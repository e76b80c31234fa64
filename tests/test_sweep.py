"""Reminders, escalations and their delivery over a real SMTP server and HTTP receiver on loopback.

Days are replayed: 2027-06-02 (Wed) is the deadline of the items below. Its reminder days are
T-3 = Fri 05-28, T-1 = Tue 06-01 and the due morning; escalation to the supervisor comes one
working day after (Thu 06-03), to leadership three after (Mon 06-07).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date
from unittest.mock import patch

import pendulum
import pytest
from sqlalchemy import event, func, insert, select

from calendars import load_book
from houqin import clock, delivery, outbox, reminders
from houqin.db import make_engine, transaction
from houqin.models import Delivery, Item, Outbox, PlanRun, School
from houqin.settings import get_settings
from tests import loopback
from tests.factories import make_item, make_person, make_run, make_school

smtp_sink = loopback.smtp_sink
http_receiver = loopback.http_receiver
BOOK = load_book()
DUE = pendulum.datetime(2027, 6, 2, 18, 0, tz="Asia/Shanghai")


def at(day: str, hhmm: str = "07:30") -> pendulum.DateTime:
    return clock.moment(date.fromisoformat(day), hhmm, "Asia/Shanghai")


def seed(channels: dict, *, items: int = 2, li_email: str = "li@demo.example") -> None:
    """A school: li (staff) reports to zhang (head) who reports to zhao; wang is principal."""
    with transaction(get_settings()) as s:
        school = make_school(s, "demo", channels=channels)
        wang = make_person(
            s,
            school,
            "wang",
            "王校长",
            roles=("principal",),
            addresses={"email": "wang@demo.example", "webhook": "wang"},
        )
        zhao = make_person(
            s,
            school,
            "zhao",
            "赵副校长",
            wang,
            roles=("vice_principal_logistics",),
            addresses={"email": "zhao@demo.example"},
        )
        zhang = make_person(
            s,
            school,
            "zhang",
            "张主任",
            zhao,
            roles=("logistics_head",),
            addresses={"email": "zhang@demo.example"},
        )
        li = make_person(s, school, "li", "李师傅", zhang, addresses={"email": li_email})
        run = make_run(s, school, "gaokao_security")
        for n in range(items):
            make_item(
                s,
                run,
                li,
                due=DUE,
                key=f"k{n}",
                position=n,
                title_zh=f"考场检查{n}",
                remind=[3, 1, 0],
                escalate=[1, 3],
            )


def sweep(now: pendulum.DateTime) -> delivery.DeliverReport:
    settings = get_settings()
    with transaction(settings) as s:
        reminders.plan_reminders(s, now=now, book=BOOK)
    engine = make_engine(settings)
    try:
        return delivery.deliver(engine, now=now, settings=settings)
    finally:
        engine.dispose()


def recipients(sink: loopback.SmtpSink) -> list[str]:
    return sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in sink.messages)


def test_the_right_people_get_the_right_messages_on_the_replayed_days(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    seed({"email": smtp_sink.client_config()})
    expected = {
        "2027-05-27": [],  # nothing before T-3
        "2027-05-28": ["li@demo.example"],  # T-3
        "2027-05-31": [],  # T-3 already sent; T-1 is tomorrow
        "2027-06-01": ["li@demo.example"],  # T-1
        "2027-06-02": ["li@demo.example"],  # due morning
        "2027-06-03": ["zhang@demo.example"],  # L1: li's supervisor
        "2027-06-04": [],
        "2027-06-07": ["wang@demo.example", "zhao@demo.example"],  # L2: leadership
        "2027-06-08": [],  # nothing more after the last escalation
    }
    for day, who in expected.items():
        before = len(smtp_sink.messages)
        report = sweep(at(day))
        new = smtp_sink.messages[before:]
        assert sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in new) == who, day
        assert report.failed == 0
    # one message per person per sweep: li's two items arrive together
    first = smtp_sink.messages[0]
    body = first.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "考场检查0" in body and "考场检查1" in body
    assert "2 项" in str(first["Subject"])


def test_an_escalation_says_whose_item_is_overdue(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    seed({"email": smtp_sink.client_config()}, items=1)
    sweep(at("2027-06-03"))
    [message] = smtp_sink.messages
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "张主任" in str(message["To"]) and "李师傅" in body and "逾期" in body
    assert "/l/" in body  # the signed link that opens the item


def test_quiet_hours_hold_messages_until_the_morning(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    seed({"email": smtp_sink.client_config()}, items=1)
    night = at("2027-05-27", "23:30")  # T-3 is tomorrow: nothing due yet
    sweep(night)
    assert smtp_sink.messages == []
    late = at("2027-05-28", "06:30")  # T-3 day, but still inside 22:00–07:00
    sweep(late)
    assert smtp_sink.messages == []
    with transaction(get_settings()) as s:
        assert s.scalar(select(func.count()).select_from(Outbox)) == 1  # queued, not dropped
    sweep(at("2027-05-28", "07:05"))
    assert recipients(smtp_sink) == ["li@demo.example"]


def test_smtp_down_during_a_sweep_is_retried_and_delivered_once_it_is_back(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    seed({"email": smtp_sink.client_config()}, items=1)
    smtp_sink.stop()
    report = sweep(at("2027-05-28"))
    assert (report.sent, report.retrying) == (0, 1)
    report = sweep(at("2027-05-28", "07:30").add(seconds=30))  # before the backoff: not yet
    assert report.retrying == 0 and report.sent == 0
    smtp_sink.start()
    report = sweep(at("2027-05-28", "07:32"))
    assert report.sent == 1
    for minutes in (40, 50):
        sweep(at("2027-05-28", "07:30").add(minutes=minutes))
    assert recipients(smtp_sink) == ["li@demo.example"]  # none twice
    with transaction(get_settings()) as s:
        d = s.scalar(select(Delivery))
        assert d is not None and (d.status, d.attempts) == ("sent", 2)


def test_a_sweep_killed_between_send_and_record_sends_nothing_twice_after_restart(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    seed({"email": smtp_sink.client_config()}, items=1)

    def die(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("killed after sending, before recording")

    with patch("houqin.outbox.record", die), pytest.raises(KeyboardInterrupt):
        sweep(at("2027-05-28"))
    assert len(smtp_sink.messages) == 1
    sweep(at("2027-05-28", "07:35"))  # restart within the lease: the message is left alone
    sweep(at("2027-05-28", "09:00"))  # after the lease: in doubt, shown, not resent
    assert len(smtp_sink.messages) == 1
    with transaction(get_settings()) as s:
        d = s.scalar(select(Delivery))
        assert d is not None and d.status == "unconfirmed" and "resend" in (d.last_error or "")
        outbox.act(s, delivery_id=d.id, action="resend", now=at("2027-05-28", "09:05"), by="zhang")
    sweep(at("2027-05-28", "09:06"))  # a person decided: sent again, on purpose
    assert len(smtp_sink.messages) == 2


def test_a_bad_address_fails_that_person_only_and_names_person_and_channel(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    seed({"email": smtp_sink.client_config()}, items=1, li_email="li-at-demo")
    report = sweep(at("2027-06-03"))  # L1 goes to zhang (good address)
    assert recipients(smtp_sink) == ["zhang@demo.example"]
    with transaction(get_settings()) as s:
        make_item(
            s,
            s.scalar(select(PlanRun)),
            _li(s),
            due=DUE.add(days=7),  # type: ignore[arg-type]
            key="later",
            position=9,
            remind=[3, 1, 0],
            escalate=[1, 3],
        )
    report = sweep(at("2027-06-04"))  # T-3 of 06-09 is 06-04: li's message cannot be sent
    assert report.failed == 1
    assert "李师傅" in report.errors[0] and "email" in report.errors[0]
    assert recipients(smtp_sink) == ["zhang@demo.example"]


def _li(s):  # type: ignore[no-untyped-def]
    from houqin.models import Person

    return s.scalar(select(Person).where(Person.code == "li"))


def test_bad_channel_settings_fail_with_the_channel_named_and_other_schools_still_get_mail(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    seed({"email": smtp_sink.client_config()}, items=1)
    with transaction(get_settings()) as s:
        other = make_school(s, "other", channels={"wecom": {"base_url": "http://127.0.0.1:9"}})
        person = make_person(s, other, "wu", "吴老师", addresses={"wecom": "13800000000"})
        make_item(s, make_run(s, other), person, due=DUE, remind=[3, 1, 0], escalate=[1, 3])
    report = sweep(at("2027-05-28"))
    assert report.sent == 1 and report.failed == 1
    assert (
        "吴老师" in report.errors[0] and "wecom" in report.errors[0] and "key" in report.errors[0]
    )


def test_a_webhook_school_gets_one_json_post_per_person(
    database_url: str, http_receiver: loopback.HttpReceiver
) -> None:
    seed({"webhook": {"url": f"{http_receiver.url}/hook"}})
    sweep(at("2027-06-07"))
    bodies = [r.json() for r in http_receiver.requests]
    assert sorted(b["recipient"] for b in bodies) == ["王校长", "赵副校长"]
    assert all("考场检查0" in b["text"] for b in bodies)


def test_two_sweeps_at_once_send_no_duplicate(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    seed({"email": smtp_sink.client_config()}, items=3)
    with transaction(get_settings()) as s:
        school = s.scalar(select(School))
        assert school is not None
        for n in range(20):
            person = make_person(s, school, f"p{n}", f"员工{n}")
            make_item(
                s,
                make_run(s, school, f"plan{n}"),
                person,
                due=DUE,
                remind=[3, 1, 0],
                escalate=[1, 3],
            )
    errors: list[BaseException] = []

    def go() -> None:
        try:
            sweep(at("2027-05-28"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    counts = Counter(recipients(smtp_sink))
    assert len(counts) == 21 and set(counts.values()) == {1}


@pytest.mark.parametrize("items", [1_000, 10_000])
def test_planning_a_sweep_issues_the_same_number_of_queries_for_any_number_of_items(
    session, items: int
) -> None:
    school = make_school(session, "big")
    owner = make_person(session, school, "li", "李师傅")
    run = make_run(session, school)
    session.execute(
        insert(Item),
        [
            {
                "run_id": run.id,
                "school_id": school.id,
                "key": f"i{n}",
                "position": n,
                "phase_key": "p",
                "phase_zh": "阶段",
                "title_zh": f"事项{n}",
                "role_key": "x",
                "owner_id": owner.id,
                "due_at": DUE,
                "status": "open",
                "steps": [],
                "remind": [3, 1, 0],
                "escalate": [1, 3],
                "depends_on": [],
                "revision": 1,
                "evidence_kind": "none",
            }
            for n in range(items)
        ],
    )
    statements: list[str] = []
    conn = session.connection()
    event.listen(conn, "before_execute", lambda *a, **k: statements.append(str(a[1])[:40]))
    report = reminders.plan_reminders(session, now=at("2027-05-28"), book=BOOK)
    assert report.written == items
    # schools, leadership, the streamed candidate SELECT and one batched INSERT
    assert len(statements) == 4, statements


def test_the_weekly_overdue_digest_reaches_leadership_with_its_pdf(
    database_url: str, smtp_sink: loopback.SmtpSink, tmp_path
) -> None:
    from flows.overdue_digest import overdue_digest

    seed({"email": smtp_sink.client_config()}, items=2)
    result = overdue_digest.fn(
        school="demo", sent=True, deliver=True, today=date(2027, 6, 7), out_dir=str(tmp_path)
    )
    assert result["total"] == 2
    assert recipients(smtp_sink) == ["wang@demo.example", "zhao@demo.example"]
    for message in smtp_sink.messages:
        [pdf] = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
        assert pdf.get_content().startswith(b"%PDF")
    # the same week's digest is not sent twice
    overdue_digest.fn(
        school="demo", sent=True, deliver=True, today=date(2027, 6, 7), out_dir=str(tmp_path)
    )
    assert len(smtp_sink.messages) == 2


def test_the_scheduled_digest_for_every_school_goes_to_each_schools_own_leadership(
    database_url: str, smtp_sink: loopback.SmtpSink, tmp_path
) -> None:
    from flows.overdue_digest import overdue_digest

    seed({"email": smtp_sink.client_config()}, items=1)
    with transaction(get_settings()) as s:
        make_school(s, "quiet")  # no leadership, nothing overdue: no digest mail
    results = overdue_digest.fn(
        school="*", sent=True, deliver=True, today=date(2027, 6, 7), out_dir=str(tmp_path)
    )
    assert set(results) == {"demo", "quiet"}
    assert results["demo"]["total"] == 1 and results["quiet"]["total"] == 0
    assert recipients(smtp_sink) == ["wang@demo.example", "zhao@demo.example"]
