"""The fault suite's world and its tally (tests/test_faults.py; docs/reliability.md).

A school on PostgreSQL whose staff each have one item due, so a sweep's T-3 reminders are one
message per person; an SMTP server and a robot on loopback that misbehave on command
(tests/loopback.py); delivery run in-process, or as a real ``houqin outbox send`` subprocess
where the fault is a kill. The tally counts from the receiver's own log, never from the ledger:
delivered (distinct messages the receiver got), duplicates, lost (neither received nor shown
to a person as failed or unconfirmed, or recorded sent and never received), unconfirmed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pendulum
from sqlalchemy import Engine, select

from calendars import load_book
from houqin import clock, delivery, reminders
from houqin.db import unit_of_work
from houqin.models import Delivery, Person
from houqin.settings import Settings
from tests.factories import make_item, make_person, make_run, make_school

BOOK = load_book()
DUE = pendulum.datetime(2027, 6, 2, 18, 0, tz="Asia/Shanghai")  # T-3 is Fri 2027-05-28
ROOT = Path(__file__).resolve().parent.parent
WECOM_PATH = "/cgi-bin/webhook/send"
RESULTS: list[Row] = []  # filled by each scenario, written to a table at the end (see test_faults)


def at(day: str, hhmm: str = "07:30") -> pendulum.DateTime:
    return clock.moment(date.fromisoformat(day), hhmm, "Asia/Shanghai")


def seed(engine: Engine, channels: dict[str, Any], people: int) -> list[str]:
    """A school whose ``people`` staff each own one item due ``DUE``; returns their addresses
    (e-mail, or mobile for robots), one message each expected at T-3."""
    with unit_of_work(engine) as s:
        school = make_school(s, "demo", channels=channels)
        run = make_run(s, school, "gaokao_security")
        found = []
        for n in range(people):
            mobile = f"139{n:08d}"
            person = make_person(
                s,
                school,
                f"p{n}",
                f"员工{n}",
                addresses={"email": f"p{n}@demo.example", "wecom": mobile},
            )
            make_item(s, run, person, due=DUE, key=f"k{n}", position=n, remind=[3, 1], escalate=[])
            found.append(f"p{n}@demo.example" if "email" in channels else mobile)
    return found


def plan(engine: Engine, now: pendulum.DateTime) -> int:
    with unit_of_work(engine) as s:
        return reminders.plan_reminders(s, now=now, book=BOOK).written


def deliver(engine: Engine, settings: Settings, now: pendulum.DateTime) -> delivery.DeliverReport:
    return delivery.deliver(engine, now=now, settings=settings)


def subprocess_env(url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOUQIN_")}
    return env | {"HOUQIN_DATABASE_URL": url, "HOUQIN_DATA_DIR": str(data_dir)}


def start_sender(url: str, data_dir: Path, now: pendulum.DateTime) -> subprocess.Popen[str]:
    """``houqin outbox send --now ...`` in its own process, as the scheduled run does."""
    return subprocess.Popen(
        [sys.executable, "-m", "houqin.cli", "outbox", "send", "--now", f"{now:%Y-%m-%d %H:%M}"],
        cwd=ROOT,
        env=subprocess_env(url, data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(condition: Callable[[], bool], *, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the scenario's moment")
        time.sleep(0.01)


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)


def statuses(engine: Engine) -> dict[str, str]:
    """Recipient address (e-mail or mobile) -> the ledger's status of their message."""
    with unit_of_work(engine) as s:
        rows = s.execute(
            select(Person.addresses, Delivery.channel, Delivery.status).join(
                Person, Person.id == Delivery.recipient_id
            )
        ).all()
    return {str(addresses.get(channel)): status for addresses, channel, status in rows}


@dataclass
class Row:
    scenario: str
    fault: str
    expected: int
    delivered: int
    duplicates: int
    chosen_resends: int
    lost: int
    unconfirmed: int
    in_flight: int  # messages that were in flight when the fault struck: the allowed doubt
    failed: int
    seconds: float = 0.0


def tally(
    scenario: str,
    fault: str,
    *,
    expected: Iterable[str],
    received: Iterable[str],
    ledger: dict[str, str],
    in_flight: int,
    chosen_resends: int = 0,
    started: float,
) -> Row:
    """Count from the receiver's log (``received``: one recipient per message it got)."""
    expected = list(expected)
    got = Counter(received)
    # not received, and not in front of a person either (recorded sent counts as lost too)
    lost = sum(
        1 for who in expected if who not in got and ledger.get(who) not in ("failed", "unconfirmed")
    )
    row = Row(
        scenario=scenario,
        fault=fault,
        expected=len(expected),
        delivered=len(got),
        duplicates=sum(n - 1 for n in got.values()) - chosen_resends,
        chosen_resends=chosen_resends,
        lost=lost,
        unconfirmed=sum(1 for s in ledger.values() if s == "unconfirmed"),
        in_flight=in_flight,
        failed=sum(1 for s in ledger.values() if s == "failed"),
        seconds=time.monotonic() - started,
    )
    RESULTS.append(row)
    return row


def markdown(rows: list[Row]) -> str:
    head = (
        "| scenario | fault | expected | delivered | duplicates | lost | unconfirmed | "
        "in flight at the fault | failed (shown) | s |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r.scenario} | {r.fault} | {r.expected} | {r.delivered} | {r.duplicates}"
        + (f" (+{r.chosen_resends} resent by a person)" if r.chosen_resends else "")
        + f" | {r.lost} | {r.unconfirmed} | {r.in_flight} | {r.failed} | {r.seconds:.1f} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def write_results(path: str) -> None:
    Path(path).write_text(markdown(RESULTS), encoding="utf-8")
