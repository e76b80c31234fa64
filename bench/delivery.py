"""Delivery: ``gather`` then ``deliver`` to a local SMTP sink, against raw ``smtplib``.

The sink runs in its own process, so its work does not share our interpreter. The baseline sends
the same messages, already built as MIME bytes, over one SMTP connection: what the sink can
take. Houqin sends over one connection per run and server too, and per message also checks
its lines again, composes it and commits "sending" before the send (one statement that also
records the previous outcome); the same messages sent with a connection each are reported as
well, for scale.

``python -m bench.delivery [--schools N] [--cap M] [--repeat R]`` runs this part alone on a
district of its own (a fresh database, dropped afterwards); ``--repeat`` measures R times, each
on a fresh copy of that district, and prints the median ratio and its spread (the machine is
shared: one ratio says little).
"""

from __future__ import annotations

import json
import os
import secrets
import smtplib
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from bench.proc import MARK
from houqin.db import unit_of_work
from houqin.delivery import deliver
from houqin.messages import gather
from houqin.models import Delivery, Person
from houqin.settings import Settings

SENDER = "后勤处 <houqin@bench.example>"


@dataclass
class DeliveryFigures:
    messages: int
    outbox_rows: int
    compose_s: float
    deliver_s: float
    sent: int
    failed: int
    received: int
    raw_s: float
    raw_per_connection_s: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Sink:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.smtp_sink", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "READY":
            self.proc.kill()
            raise RuntimeError("the SMTP sink did not start")

    def stop(self) -> int:
        out, _ = self.proc.communicate("stop\n", timeout=30)
        for line in out.splitlines():
            if line.startswith(MARK):
                return int(json.loads(line[len(MARK) :])["messages"])
        raise RuntimeError("the SMTP sink gave no count")


def limit_to(engine: Engine, now: datetime, cap: int) -> None:
    """Keep the run bounded: only the first ``cap`` recipients' rows are due now."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE outbox SET next_attempt_at = CAST(:later AS timestamptz) "
                "WHERE recipient_id NOT IN (SELECT DISTINCT recipient_id FROM outbox "
                "WHERE status = 'pending' ORDER BY recipient_id LIMIT :cap)"
            ),
            {"later": now.replace(year=now.year + 1), "cap": cap},
        )


def _built(engine: Engine) -> list[tuple[str, bytes]]:
    """The sent deliveries as MIME bytes, built the way the e-mail channel builds them."""
    found = []
    with unit_of_work(engine) as s:
        rows = s.execute(
            select(Delivery, Person)
            .join(Person, Person.id == Delivery.recipient_id)
            .where(Delivery.status == "sent")
            .order_by(Delivery.id)
        )
        for d, person in rows:
            mail = EmailMessage()
            mail["Subject"], mail["From"] = d.subject, SENDER
            mail["To"] = Address(display_name=person.name, addr_spec=person.addresses["email"])
            mail.set_content(d.body, cte="base64")
            if d.html is not None:
                mail.add_alternative(d.html, subtype="html", cte="base64")
            found.append((person.addresses["email"], mail.as_bytes(policy=SMTP)))
    return found


def _raw(port: int, mails: list[tuple[str, bytes]], *, per_connection: bool) -> float:
    start = time.perf_counter()
    if per_connection:
        for to, data in mails:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                smtp.sendmail("houqin@bench.example", [to], data)
    else:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            for to, data in mails:
                smtp.sendmail("houqin@bench.example", [to], data)
    return time.perf_counter() - start


def measure(engine: Engine, settings: Settings, *, now: datetime, cap: int) -> DeliveryFigures:
    sink = Sink()
    try:
        channels = {
            "email": {"host": "127.0.0.1", "port": sink.port, "sender": SENDER, "timeout": 30}
        }
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE school SET channels = CAST(:c AS json)"), {"c": json.dumps(channels)}
            )
        limit_to(engine, now, cap)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT count(*) FROM outbox WHERE status = 'pending' "
                    "AND next_attempt_at <= :now"
                ),
                {"now": now},
            ).scalar_one()
        start = time.perf_counter()
        with unit_of_work(engine) as s:
            made = gather(s, now=now)
        compose_s = time.perf_counter() - start
        start = time.perf_counter()
        report = deliver(engine, now=now, settings=settings)
        deliver_s = time.perf_counter() - start
        mails = _built(engine)
        raw_s = _raw(sink.port, mails, per_connection=False)
        raw_conn_s = _raw(sink.port, mails, per_connection=True)
    finally:
        received = sink.stop()
    return DeliveryFigures(
        messages=made,
        outbox_rows=rows,
        compose_s=compose_s,
        deliver_s=deliver_s,
        sent=report.sent,
        failed=report.failed,
        received=received - 2 * len(mails),
        raw_s=raw_s,
        raw_per_connection_s=raw_conn_s,
    )


def _copy(admin_url: str, url: str) -> str:
    """A fresh database copied from ``url``'s (a template copy: a second or two)."""
    from bench import district

    copy = district.create_database(admin_url, template=make_url(url).database)
    return copy


def _ratio_line(f: DeliveryFigures, schools: int) -> str:
    houqin_s = f.compose_s + f.deliver_s
    return (
        f"{f.sent} messages ({f.outbox_rows} outbox rows) for {schools} schools: "
        f"gather {f.compose_s:.2f} s + deliver {f.deliver_s:.2f} s = {houqin_s:.2f} s "
        f"({f.sent / houqin_s:.0f} msg/s); raw smtplib over one connection {f.raw_s:.2f} s "
        f"({f.sent / f.raw_s:.0f} msg/s): {houqin_s / f.raw_s:.2f}x; one connection per "
        f"message {f.raw_per_connection_s:.2f} s; failed {f.failed}; the sink received "
        f"{f.received}; load average {os.getloadavg()[0]:.1f}"
    )


def main(argv: list[str] | None = None) -> None:
    """Build a small district, plan its busiest morning, and measure delivery alone
    (``--repeat N``: N times, each on a fresh copy of the same database; the median ratio)."""
    import argparse
    import statistics

    from bench import district
    from bench.config import ADMIN_URL
    from calendars import load_book
    from houqin.plan_templates import load_builtin_templates
    from houqin.reminders import plan_reminders

    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=main.__doc__)
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--cap", type=int, default=2000, help="recipients whose messages go out")
    parser.add_argument("--repeat", type=int, default=1, help="measurements, each on a copy")
    args = parser.parse_args(argv)
    url = district.create_database(ADMIN_URL)
    engine = district.connect(url)
    ratios: list[float] = []
    try:
        templates, book = load_builtin_templates(), load_book()
        district.build_rosters(engine, args.schools, district.role_keys(templates))
        district.launch_all(engine, templates, book)
        day = district.busiest_day(engine, book)
        district.age_the_ledger(engine, today=day, open_share=5)
        d = district.District(url, engine, args.schools, 0, 0, day)
        with unit_of_work(engine) as s:
            plan_reminders(s, now=d.moment("07:30"), book=book)
        engine.dispose()
        for _ in range(args.repeat):
            copy = _copy(ADMIN_URL, url)
            copied = district.connect(copy)
            try:
                settings = Settings(
                    database_url=copy, secret_key=secrets.token_urlsafe(32), _env_file=None
                )
                f = measure(copied, settings, now=d.moment("07:30"), cap=args.cap)
            finally:
                copied.dispose()
                district.drop_database(ADMIN_URL, copy)
            ratios.append((f.compose_s + f.deliver_s) / f.raw_s)
            print(_ratio_line(f, args.schools), flush=True)
    finally:
        engine.dispose()
        district.drop_database(ADMIN_URL, url)
    if len(ratios) > 1:
        print(
            f"{len(ratios)} runs: median {statistics.median(ratios):.2f}x, "
            f"min {min(ratios):.2f}x, max {max(ratios):.2f}x"
        )


if __name__ == "__main__":
    main()
