"""The fault suite: delivery on PostgreSQL against an SMTP server and a robot that misbehave.

Each scenario counts from the receiver's own log (tests/faults.py): every expected message
delivered or in front of a person (failed or unconfirmed), none twice unless a person chose to
resend it, and no more unconfirmed than were in flight when the fault struck. Short timeouts
(1 s for SMTP, 0.5 s for the robot) keep the whole suite to well under two minutes.
``HOUQIN_FAULTS_REPORT=path`` writes the table of figures docs/reliability.md shows.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select, text

from houqin import outbox
from houqin.db import make_engine, unit_of_work
from houqin.delivery import LedgerUnavailable
from houqin.migrate import upgrade
from houqin.models import Delivery, Item
from houqin.secret_key import ensure_key
from houqin.settings import Settings
from tests import faults
from tests.conftest import PG_ADMIN_URL, create_pg_database, drop_pg_database
from tests.faults import WECOM_PATH, at, deliver, plan, seed, statuses, tally
from tests.loopback import HttpReceiver, Reply, SmtpSink

T3 = "2027-05-28"


class World:
    def __init__(self, url: str, data_dir: Path) -> None:
        self.url = url
        self.data_dir = data_dir
        self.engine: Engine = make_engine(url)
        # the key in the data directory, as after houqin init: the sender subprocesses read it
        self.settings = Settings(database_url=url, data_dir=data_dir, _env_file=None)
        ensure_key(self.settings)
        self.started = time.monotonic()

    def deliver(self, day: str = T3, hhmm: str = "07:30"):  # type: ignore[no-untyped-def]
        return deliver(self.engine, self.settings, at(day, hhmm))

    def ledger(self) -> dict[str, str]:
        return statuses(self.engine)


@pytest.fixture(scope="module", autouse=True)
def results() -> Iterator[None]:
    yield
    if os.environ.get("HOUQIN_FAULTS_REPORT"):
        faults.write_results(os.environ["HOUQIN_FAULTS_REPORT"])


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    url = create_pg_database("houqin_faults")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    w = World(url, tmp_path / "data")
    try:
        yield w
    finally:
        w.engine.dispose()
        drop_pg_database(url)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def robot() -> Iterator[HttpReceiver]:
    with HttpReceiver() as receiver:
        receiver.reply(WECOM_PATH, json={"errcode": 0, "errmsg": "ok"})
        yield receiver


def mail_to(sink: SmtpSink) -> list[str]:
    return [str(m["To"]).split("<")[-1].rstrip(">") for m in sink.messages]


def posts_to(receiver: HttpReceiver) -> list[str]:
    """The robot's log: a post it refused (an error code, HTTP 500) did not reach the group;
    one it took and then failed to answer did."""
    return [
        request.json()["text"]["mentioned_mobile_list"][0]
        for request, reply in receiver.answered
        if reply.close or (reply.status == 200 and b'"errcode": 0' in reply.body)
    ]


def email_world(world: World, smtp: SmtpSink, people: int) -> list[str]:
    expected = seed(world.engine, {"email": smtp.client_config(timeout=1)}, people)
    plan(world.engine, at(T3))
    return expected


def robot_world(world: World, robot: HttpReceiver, people: int) -> list[str]:
    wecom = {"key": "fault-robot-key", "base_url": robot.url, "timeout": 0.5}
    expected = seed(world.engine, {"wecom": wecom}, people)
    plan(world.engine, at(T3))
    return expected


def check(row: faults.Row) -> None:
    assert row.duplicates == 0, row
    assert row.lost == 0, row
    assert row.unconfirmed <= row.in_flight, row


# --- SMTP ---------------------------------------------------------------------------------------


def test_smtp_down_then_up_delivers_everything_once_at_the_backoff_time(
    world: World, smtp: SmtpSink
) -> None:
    expected = email_world(world, smtp, 6)
    smtp.stop()
    first = world.deliver()
    assert first.retrying == 6
    assert world.deliver(hhmm="07:30").sent == 0  # before the backoff: nothing tried
    smtp.start()
    assert world.deliver(hhmm="07:32").sent == 6
    world.deliver(hhmm="08:00")

    row = tally(
        "SMTP down, then up",
        "connection refused, then the server is back",
        expected=expected,
        received=mail_to(smtp),
        ledger=world.ledger(),
        in_flight=0,
        started=world.started,
    )
    check(row)
    assert row.delivered == 6


def test_smtp_451_is_retried_and_delivered_once(world: World, smtp: SmtpSink) -> None:
    expected = email_world(world, smtp, 6)
    smtp.data_replies = ["451 4.3.0 try again later"] * 3
    first = world.deliver()
    assert (first.sent, first.retrying) == (3, 3)
    world.deliver(hhmm="07:32")

    row = tally(
        "SMTP 451",
        "451 at DATA for three messages",
        expected=expected,
        received=mail_to(smtp),
        ledger=world.ledger(),
        in_flight=0,
        started=world.started,
    )
    check(row)
    assert row.delivered == 6


def test_smtp_550_fails_visibly_and_the_others_go(world: World, smtp: SmtpSink) -> None:
    expected = email_world(world, smtp, 6)
    smtp.data_replies = ["550 5.7.1 rejected"] * 2
    report = world.deliver()
    world.deliver(hhmm="08:00")

    row = tally(
        "SMTP 550",
        "550 at DATA for two messages",
        expected=expected,
        received=mail_to(smtp),
        ledger=world.ledger(),
        in_flight=0,
        started=world.started,
    )
    check(row)
    assert (row.delivered, row.failed, report.failed) == (4, 2, 2)
    assert all("550 5.7.1 rejected" in e for e in report.errors)


@pytest.mark.parametrize("fault", ["drop", "hang"])
def test_no_answer_after_data_is_unconfirmed_never_resent_and_a_person_decides(
    world: World, smtp: SmtpSink, fault: str
) -> None:
    expected = email_world(world, smtp, 6)
    smtp.after_data, smtp.after_data_times, smtp.hang_s = fault, 1, 2.0
    report = world.deliver()
    assert (report.sent, report.unconfirmed) == (5, 1)
    world.deliver(hhmm="08:00")
    world.deliver(day="2027-05-31")  # nothing is ever sent again by itself
    row = tally(
        f"SMTP {fault} after DATA",
        "connection closed after the final dot"
        if fault == "drop"
        else "no answer after the final dot (client timeout 1 s)",
        expected=expected,
        received=mail_to(smtp),
        ledger=world.ledger(),
        in_flight=1,
        started=world.started,
    )
    check(row)
    assert (row.delivered, row.unconfirmed) == (6, 1)
    with unit_of_work(world.engine) as s:  # the head checks: it did arrive
        [doubt] = s.scalars(select(Delivery).where(Delivery.status == "unconfirmed")).all()
        outbox.mark_delivered(s, doubt, now=at(T3, "09:00"), by="zhang")
    assert world.ledger() == dict.fromkeys(expected, "sent")


def test_a_resend_a_person_chose_is_the_only_duplicate(world: World, smtp: SmtpSink) -> None:
    expected = email_world(world, smtp, 3)
    smtp.after_data, smtp.after_data_times = "drop", 1
    world.deliver()
    with unit_of_work(world.engine) as s:
        [doubt] = s.scalars(select(Delivery).where(Delivery.status == "unconfirmed")).all()
        outbox.resend(s, doubt, now=at(T3, "09:00"), by="zhang")
    world.deliver(hhmm="09:01")

    row = tally(
        "resend chosen by a person",
        "drop after DATA, then the head resends",
        expected=expected,
        received=mail_to(smtp),
        ledger=world.ledger(),
        in_flight=1,
        chosen_resends=1,
        started=world.started,
    )
    check(row)
    assert len(smtp.messages) == 4 and row.unconfirmed == 0


# --- robots -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "first", "unconfirmed"),
    [
        ("errcode 45009 (rate limit)", Reply(body=b'{"errcode": 45009, "errmsg": "freq"}'), 0),
        ("HTTP 500", Reply(status=500, body=b"<h1>500</h1>", content_type="text/html"), 0),
        ("answer after the 0.5 s timeout", Reply(body=b'{"errcode": 0}', delay=1.5), 1),
        ("connection closed without an answer", Reply(close=True), 1),
    ],
    ids=["errcode", "http500", "timeout", "closed"],
)
def test_robot_faults(
    world: World, robot: HttpReceiver, fault: str, first: Reply, unconfirmed: int
) -> None:
    expected = robot_world(world, robot, 4)
    robot.script(WECOM_PATH, [first, Reply(body=b'{"errcode": 0, "errmsg": "ok"}')])
    world.deliver()
    world.deliver(hhmm="07:32")  # the retry's time
    world.deliver(day="2027-05-31")

    row = tally(
        f"WeCom robot: {fault}",
        fault,
        expected=expected,
        received=posts_to(robot),
        ledger=world.ledger(),
        in_flight=unconfirmed,
        started=world.started,
    )
    check(row)
    assert (row.delivered, row.unconfirmed) == (4, unconfirmed)


# --- the process or the database dies -------------------------------------------------------------


def test_sigkill_mid_delivery_leaves_only_the_message_in_flight_unconfirmed(
    world: World, smtp: SmtpSink
) -> None:
    expected = email_world(world, smtp, 8)
    smtp.delay = 0.4  # each answer takes 0.4 s: the kill lands while the 3rd waits for its own
    sender = faults.start_sender(world.url, world.data_dir, at(T3))
    faults.wait_for(lambda: len(smtp.messages) == 3)
    faults.kill(sender)
    smtp.delay = 0
    assert len(smtp.messages) == 3
    world.deliver(hhmm="07:35")  # within the lease: the dead run's claims are left alone
    assert len(smtp.messages) == 3
    report = world.deliver(hhmm="07:45")  # lease over: unsent claims go, the 3rd is in doubt
    assert (report.released, report.unconfirmed, report.sent) == (5, 1, 5)

    row = tally(
        "SIGKILL mid-delivery",
        "`houqin outbox send` killed while the 3rd of 8 messages waits for its answer",
        expected=expected,
        received=mail_to(smtp),
        ledger=world.ledger(),
        in_flight=1,
        started=world.started,
    )
    check(row)
    assert (row.delivered, row.unconfirmed) == (8, 1)


def _terminate_on_record(engine: Engine, *, nth: int, times: int) -> dict[str, int]:
    """Kill the ledger connection (pg_terminate_backend) as the ``nth`` outcome "sent" is
    recorded (alone, or with the next message's start), ``times`` times in a row."""
    admin = make_engine(PG_ADMIN_URL)
    seen = {"records": 0, "killed": 0}

    @event.listens_for(engine, "before_cursor_execute")
    def kill(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "UPDATE delivery SET status" not in statement or not isinstance(parameters, dict):
            return
        if "sent" not in parameters.values():
            return
        seen["records"] += 1
        if seen["records"] >= nth and seen["killed"] < times:
            seen["killed"] += 1
            with admin.connect() as c:
                c.execute(
                    text("SELECT pg_terminate_backend(:pid)"),
                    {"pid": conn.connection.dbapi_connection.info.backend_pid},
                )
            admin.dispose()

    return seen


def test_connection_terminated_mid_record_is_recorded_on_a_new_connection(
    world: World, smtp: SmtpSink
) -> None:
    expected = email_world(world, smtp, 7)
    seen = _terminate_on_record(world.engine, nth=3, times=1)
    report = world.deliver()
    assert report.sent == 7 and seen["killed"] == 1

    row = tally(
        "pg_terminate_backend mid-record",
        "ledger connection killed once while the 3rd outcome is recorded",
        expected=expected,
        received=mail_to(smtp),
        ledger=world.ledger(),
        in_flight=1,
        started=world.started,
    )
    check(row)
    assert (row.delivered, row.unconfirmed) == (7, 0)


def test_a_ledger_that_stays_unreachable_stops_the_run_clearly_and_strands_one(
    world: World, smtp: SmtpSink
) -> None:
    expected = email_world(world, smtp, 7)
    seen = _terminate_on_record(world.engine, nth=3, times=10)
    with pytest.raises(LedgerUnavailable, match="stays 'sending' and shows as unconfirmed"):
        world.deliver()
    assert seen["killed"] == 4  # the first try and three more
    world.engine.dispose()  # the next run has a ledger that answers
    world.engine = make_engine(world.url)
    report = world.deliver(hhmm="07:45")

    row = tally(
        "pg_terminate_backend, repeatedly",
        "ledger unreachable while the 3rd of 7 outcomes is recorded; the run stops",
        expected=expected,
        received=mail_to(smtp),
        ledger=world.ledger(),
        in_flight=1,
        started=world.started,
    )
    check(row)
    assert (row.delivered, row.unconfirmed, report.sent) == (7, 1, 4)


@pytest.mark.parametrize("runs", [2, 3])
def test_concurrent_delivery_runs_send_each_message_once(
    world: World, smtp: SmtpSink, runs: int
) -> None:
    expected = email_world(world, smtp, 30)
    smtp.delay = 0.02
    senders = [faults.start_sender(world.url, world.data_dir, at(T3)) for _ in range(runs)]
    outputs = [p.communicate(timeout=60)[0] for p in senders]
    assert all(p.returncode == 0 for p in senders), outputs

    row = tally(
        f"{runs} concurrent delivery runs",
        f"{runs} `houqin outbox send` processes at once",
        expected=expected,
        received=mail_to(smtp),
        ledger=world.ledger(),
        in_flight=0,
        started=world.started,
    )
    check(row)
    assert row.delivered == 30


# --- time and the items themselves ---------------------------------------------------------------


def test_quiet_hours_hold_then_release(world: World, smtp: SmtpSink) -> None:
    expected = seed(world.engine, {"email": smtp.client_config(timeout=1)}, 4)
    plan(world.engine, at(T3, "06:30"))  # T-3, inside 22:00-07:00: held until 07:00
    assert world.deliver(hhmm="06:40").sent == 0
    assert world.deliver(hhmm="07:01").sent == 4
    row = tally(
        "quiet hours: hold, then release",
        "reminders planned at 06:30, inside quiet hours",
        expected=expected,
        received=mail_to(smtp),
        ledger=world.ledger(),
        in_flight=0,
        started=world.started,
    )
    check(row)
    assert row.delivered == 4


def test_a_retry_due_in_quiet_hours_waits_for_the_morning(world: World, smtp: SmtpSink) -> None:
    expected = seed(world.engine, {"email": smtp.client_config(timeout=1)}, 4)
    plan(world.engine, at("2027-06-01", "21:58"))  # T-1, just before quiet hours
    smtp.stop()
    assert world.deliver(day="2027-06-01", hhmm="21:58").retrying == 4  # retry at 21:59
    smtp.start()
    held = world.deliver(day="2027-06-01", hhmm="22:05")
    assert (held.held, held.sent) == (4, 0)
    assert world.deliver(day="2027-06-02", hhmm="06:55").sent == 0
    assert world.deliver(day="2027-06-02", hhmm="07:01").sent == 4

    row = tally(
        "quiet hours: a retry due at night",
        "SMTP down at 21:58; the retry falls due at 22:05",
        expected=expected,
        received=mail_to(smtp),
        ledger=world.ledger(),
        in_flight=0,
        started=world.started,
    )
    check(row)
    assert row.delivered == 4


def test_an_item_ticked_during_an_outage_is_not_sent_afterwards(
    world: World, smtp: SmtpSink
) -> None:
    everyone = email_world(world, smtp, 4)
    smtp.stop()
    world.deliver()
    with unit_of_work(world.engine) as s:
        for item in s.scalars(select(Item).where(Item.key.in_(["k0", "k1"]))):
            item.status = "done"
    smtp.start()
    report = world.deliver(hhmm="07:32")
    assert (report.sent, report.dropped) == (2, 2)

    row = tally(
        "item ticked during an outage",
        "SMTP down; 2 of 4 items ticked done before it is back",
        expected=everyone[2:],
        received=mail_to(smtp),
        ledger=world.ledger(),
        in_flight=0,
        started=world.started,
    )
    check(row)
    assert sorted(mail_to(smtp)) == sorted(everyone[2:])
