"""What a message says when it is finally sent, and one school's broken settings staying its own.

The items of tests/test_sweep.py: li's two items are due Wed 2027-06-02 18:00 (T-3 Fri 05-28,
T-1 Tue 06-01, escalation to zhang Thu 06-03, to leadership Mon 06-07).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, select, text

from houqin import delivery, outbox, reminders
from houqin.db import make_engine, transaction
from houqin.models import Delivery, Item, Outbox, Person, PlanRun
from houqin.settings import get_settings
from tests import loopback
from tests.factories import make_item, make_person, make_run, make_school
from tests.test_pacing import FakeClock
from tests.test_sweep import BOOK, DUE, at, recipients, seed, sweep

smtp_sink = loopback.smtp_sink
http_receiver = loopback.http_receiver


def plan(now) -> None:  # type: ignore[no-untyped-def]
    with transaction(get_settings()) as s:
        reminders.plan_reminders(s, now=now, book=BOOK)


def run(now, **kw) -> delivery.DeliverReport:  # type: ignore[no-untyped-def]
    settings = get_settings()
    engine = make_engine(settings)
    try:
        return delivery.deliver(engine, now=now, settings=settings, **kw)
    finally:
        engine.dispose()


def body(message) -> str:  # type: ignore[no-untyped-def]
    return str(message.get_body(("plain",)).get_content())


def write(url: str, sql: str) -> None:
    """A stored value written by hand, past the roster import's checks."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


def tick(key: str) -> None:
    with transaction(get_settings()) as s:
        item = s.scalar(select(Item).where(Item.key == key))
        assert item is not None
        item.status = "done"


def test_an_item_done_while_its_message_waited_is_left_out_and_the_counts_follow(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    seed({"email": smtp_sink.client_config()}, items=2)
    smtp_sink.stop()
    sweep(at("2027-06-03"))  # L1 to zhang about both items: the server is down
    tick("k0")
    smtp_sink.start()
    report = run(at("2027-06-03", "07:40"))

    [message] = smtp_sink.messages
    assert report.sent == 1
    assert "考场检查1" in body(message) and "考场检查0" not in body(message)
    assert "1 项逾期事项" in str(message["Subject"])
    with transaction(get_settings()) as s:
        line = s.scalar(select(Outbox).where(Outbox.status == "dropped"))
        assert line is not None and "is done" in (line.last_error or "")


def test_a_message_with_nothing_left_to_tell_is_not_sent(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    seed({"email": smtp_sink.client_config()}, items=1)
    smtp_sink.stop()
    sweep(at("2027-06-03"))
    tick("k0")
    smtp_sink.start()
    report = run(at("2027-06-03", "07:40"))

    assert smtp_sink.messages == [] and report.dropped == 1 and report.sent == 0
    with transaction(get_settings()) as s:
        assert [d.status for d in s.scalars(select(Delivery))] == ["dropped"]


def test_a_person_whose_message_waits_for_a_retry_gets_new_lines_in_it_not_a_second_one(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    seed({"email": smtp_sink.client_config()}, items=1)
    smtp_sink.stop()
    sweep(at("2027-05-28"))  # T-3 for k0 fails: retried later
    with transaction(get_settings()) as s:
        li = s.scalar(select(Person).where(Person.code == "li"))
        run_ = s.scalar(select(Item.run_id))
        assert li is not None and run_ is not None
        make_item(
            s,
            s.get(PlanRun, run_),  # type: ignore[arg-type]
            li,
            due=DUE.add(days=1),  # type: ignore[arg-type]
            key="k9",
            position=9,
            title_zh="考场检查9",
            remind=[3, 1, 0],
            escalate=[1, 3],
        )
    smtp_sink.start()
    sweep(at("2027-05-31"))  # k9's T-3 now; k0's retry is due too

    [message] = smtp_sink.messages
    assert "考场检查0" in body(message) and "考场检查9" in body(message)
    assert "2 项待办" in str(message["Subject"])


def test_an_item_held_by_two_steps_appears_once_at_its_latest(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    seed({"email": smtp_sink.client_config()}, items=1)
    with transaction(get_settings()) as s:
        zhang = s.scalar(select(Person).where(Person.code == "zhang"))
        item = s.scalar(select(Item))
        assert zhang is not None and item is not None
        # zhang owns the item and supervises himself: its reminder and its escalation both
        # go to him
        zhang.supervisor_id = zhang.id
        item.owner_id = zhang.id
    smtp_sink.stop()
    sweep(at("2027-06-02", "06:30"))  # the due-morning reminder, held until 07:00
    run(at("2027-06-02", "07:05"))  # the server is down: it waits for a retry
    plan(at("2027-06-03", "06:50"))  # the next day's escalation joins the waiting message
    smtp_sink.start()
    run(at("2027-06-03", "07:05"))

    [message] = smtp_sink.messages
    assert body(message).count("考场检查0") == 1
    assert "逾期" in body(message)  # told at its latest step: the escalation
    assert str(message["Subject"]) == "【后勤督办】1 项逾期事项需您督办"
    with transaction(get_settings()) as s:
        lines = s.scalars(select(Outbox).order_by(Outbox.id)).all()
        assert [(line.kind, line.status) for line in lines] == [
            ("remind:T0", "queued"),
            ("escalate:L1", "queued"),
        ]
        assert lines[0].delivery_id == lines[1].delivery_id


def test_a_reminder_for_an_item_reassigned_meanwhile_is_not_sent_to_the_old_owner(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    seed({"email": smtp_sink.client_config()}, items=1)
    smtp_sink.stop()
    sweep(at("2027-05-28"))
    with transaction(get_settings()) as s:
        zhang = s.scalar(select(Person).where(Person.code == "zhang"))
        item = s.scalar(select(Item))
        assert zhang is not None and item is not None
        item.owner_id = zhang.id
    smtp_sink.start()
    report = run(at("2027-05-28", "07:40"))

    assert smtp_sink.messages == [] and report.dropped == 1


def _two_schools(smtp_sink: loopback.SmtpSink) -> None:
    seed({"email": smtp_sink.client_config()}, items=1)
    with transaction(get_settings()) as s:
        other = make_school(s, "other", channels={"email": smtp_sink.client_config()})
        wu = make_person(s, other, "wu", "吴老师", addresses={"email": "wu@other.example"})
        make_item(s, make_run(s, other), wu, due=DUE, remind=[3, 1, 0], escalate=[1, 3])


def test_a_school_with_an_unusable_time_zone_fails_alone_and_says_so(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    _two_schools(smtp_sink)
    write(database_url, "UPDATE school SET timezone = 'Mars/Phobos' WHERE code = 'other'")
    with transaction(get_settings()) as s:
        planned = reminders.plan_reminders(s, now=at("2027-05-28"), book=BOOK)
    report = run(at("2027-05-28"))

    assert recipients(smtp_sink) == ["li@demo.example"]
    assert planned.school_errors == {
        "other": "school other: timezone: 'Mars/Phobos' is not a time zone (e.g. Asia/Shanghai)"
    }
    assert report.sent == 1 and report.failed == 0


def test_a_message_waiting_when_its_schools_settings_broke_fails_with_the_reason(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    _two_schools(smtp_sink)
    smtp_sink.stop()
    sweep(at("2027-05-28"))  # both schools' messages wait for a retry
    write(database_url, "UPDATE school SET quiet_start = '25:00' WHERE code = 'other'")
    smtp_sink.start()
    report = run(at("2027-05-28", "07:40"))

    assert recipients(smtp_sink) == ["li@demo.example"]
    assert report.failed == 1 and "quiet_start: '25:00'" in report.school_errors["other"]
    assert "quiet_start" in (report.trouble() or "")
    with transaction(get_settings()) as s:
        failed = s.scalar(select(Delivery).where(Delivery.status == "failed"))
        assert failed is not None and "school other: quiet_start" in (failed.last_error or "")


def test_a_leader_without_an_address_fails_alone_and_the_digest_reaches_the_others(
    database_url: str, smtp_sink: loopback.SmtpSink, tmp_path
) -> None:
    from flows.overdue_digest import overdue_digest

    seed({"email": smtp_sink.client_config()}, items=1)
    with transaction(get_settings()) as s:
        wang = s.scalar(select(Person).where(Person.code == "wang"))
        assert wang is not None
        wang.addresses = {}
        other = make_school(s, "zz-later", channels={"email": smtp_sink.client_config()})
        boss = make_person(s, other, "boss", "钱校长", roles=("principal",))
        make_item(s, make_run(s, other), boss, due=DUE, remind=[3, 1, 0], escalate=[1, 3])

    overdue_digest.fn(
        school="*", sent=True, deliver=True, today=date(2027, 6, 7), out_dir=str(tmp_path)
    )

    assert recipients(smtp_sink) == ["boss@zz-later.example", "zhao@demo.example"]
    with transaction(get_settings()) as s:
        failed = s.scalar(select(Delivery).where(Delivery.status == "failed"))
        assert failed is not None and "王校长 (wang): no address" in (failed.last_error or "")


def test_a_robot_is_paced_to_twenty_a_minute_by_waiting(
    database_url: str, http_receiver: loopback.HttpReceiver
) -> None:
    wecom = {"key": "robot-key", "base_url": http_receiver.url}
    with transaction(get_settings()) as s:
        school = make_school(s, "demo", channels={"wecom": wecom})
        run_ = make_run(s, school)
        for n in range(25):
            person = make_person(s, school, f"p{n}", addresses={"wecom": f"138000000{n:02d}"})
            make_item(s, run_, person, due=DUE, key=f"i{n}", remind=[3, 1, 0], escalate=[1, 3])
    plan(at("2027-05-28"))
    http_receiver.reply("/cgi-bin/webhook/send", json={"errcode": 0, "errmsg": "ok"})
    clock = FakeClock()  # the pacer's clock and sleep: waiting costs the test nothing

    report = run(at("2027-05-28"), sleep=clock.sleep, monotonic=clock)

    assert report.sent == 25 and len(http_receiver.requests) == 25
    # the first 20 at once, then one wait of a minute for the 21st: not an error and a retry
    assert len(clock.slept) == 1 and 60 <= clock.slept[0] <= 61
    with transaction(get_settings()) as s:
        assert outbox.counts(s) == {"sent": 25}


def test_a_message_whose_start_fails_while_its_envelope_is_open_is_not_handed_over(
    database_url: str, smtp_sink: loopback.SmtpSink
) -> None:
    """On PostgreSQL an e-mail's "sending" is committed while the server takes its envelope;
    if that start does not happen (here another run took the message meanwhile), the message
    is withheld before DATA: the server has nothing of it and it stays the other run's."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the start overlaps the envelope on PostgreSQL only")
    seed({"email": smtp_sink.client_config()}, items=1)
    plan(at("2027-05-28"))
    settings = get_settings()
    engine = make_engine(settings)

    @event.listens_for(engine, "before_cursor_execute")
    def steal(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if isinstance(parameters, dict) and "start_id" in parameters:
            write(database_url, "UPDATE delivery SET claimed_by = 'another run'")

    try:
        report = delivery.deliver(engine, now=at("2027-05-28"), settings=settings)
    finally:
        engine.dispose()

    assert report.sent == 0 and smtp_sink.messages == [] and smtp_sink.attempts == 0
    assert smtp_sink.connections == 1  # the envelope was open when the start failed
    with transaction(settings) as s:
        [(status, by)] = s.execute(select(Delivery.status, Delivery.claimed_by)).all()
    assert (status, by) == ("claimed", "another run")
