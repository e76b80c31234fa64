"""``houqin demo``: a season replayed end to end on a fresh embedded database.

A demo school and its roster, the 2026–2027 calendar, three plans launched through Prefect,
items ticked on (or after) their days and some left open, then what is overdue on a date.
Each replayed day is an explicit date: nothing here reads the wall clock.
"""

from __future__ import annotations

import os
import secrets
import shutil
import struct
import zlib
from datetime import date, timedelta
from pathlib import Path

import click
from sqlalchemy import select

from houqin import clock, tables
from houqin.accounts import create_account
from houqin.db import make_engine, unit_of_work
from houqin.errors import UserError
from houqin.items import ItemFilter, list_items, tick
from houqin.mailsink import MailSink
from houqin.migrate import upgrade
from houqin.models import Item, Person, School
from houqin.people import import_roster
from houqin.secret_key import ensure_key
from houqin.settings import get_settings
from houqin.sources import load_calendars, load_plans

ROOT = Path(__file__).resolve().parent.parent
ROSTER = ROOT / "examples" / "demo-school.yaml"
PLANS = [  # (template, period): the 高考 security plan and two others of the spring term
    ("spring_opening", "2026-2027/2"),
    ("safety_month", "2026-2027"),
    ("gaokao_security", "2026-2027"),
]
REPLAY = (date(2027, 2, 8), date(2027, 6, 10))
REVIEW_DAY = date(2027, 6, 8)  # leadership looks at what is overdue during 高考
SWEEPS_FROM = date(2027, 5, 17)  # sweeps (a Prefect flow run each) for the 高考 run-up only
# one login per role, demo only: (username, role, person code); the password is printed
ACCOUNTS = (
    ("zhang", "logistics_head", "zhang"),  # 张主任
    ("sun", "supervisor", "sun"),  # 孙队长, supervises 周门卫
    ("zhou", "staff", "zhou"),  # 周门卫
    ("li", "staff", "li"),  # 李师傅
    ("wang", "leadership", "wang"),  # 王校长
    ("district", "district", None),  # 示范区
)


def photo_png(width: int = 320, height: int = 240) -> bytes:
    """A real PNG (a sky-and-lawn picture drawn here, no network, no Pillow): the demo's
    stand-in for a phone photo, decodable by any viewer and by the upload checks."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = []
    for y in range(height):
        if y < height * 3 // 5:  # sky, lighter towards the horizon
            pixel = bytes((90 + y // 2, 150 + y // 3, 230))
        else:  # lawn with stripes
            pixel = bytes((40, 140 + (y // 6 % 2) * 30, 60))
        rows.append(b"\x00" + pixel * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def say(title: str) -> None:
    click.echo(f"\n== {title} ==")


def run_demo(out: Path, lang: str = "zh-CN") -> None:
    out.mkdir(parents=True, exist_ok=True)
    db = out / "houqin.sqlite"
    for stale in (db, out / "houqin.sqlite-wal", out / "houqin.sqlite-shm"):
        stale.unlink(missing_ok=True)
    shutil.rmtree(out / "data", ignore_errors=True)
    os.environ["HOUQIN_DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["HOUQIN_DATA_DIR"] = str(out / "data")
    get_settings.cache_clear()
    settings = get_settings()
    engine = make_engine(settings)
    tz = settings.timezone

    say(f"1. 账本 Ledger: {db}")
    upgrade(engine)
    ensure_key(settings)  # the demo's own random key: its mail links work when it is served

    say("2. 校历 School calendar 2026-2027")
    book = load_calendars(settings)
    year = book.school_year("2026-2027")
    for name in ("spring_term.start", "safety_month.start", "gaokao.start", "gaokao.end"):
        click.echo(f"  {name:20} {year.anchor(name)}")
    for issue in book.check():
        if issue.level == "warning":
            click.echo(f"  ! {issue.message}")

    say("3. 人员 Roster")
    with unit_of_work(engine) as s:
        result = import_roster(
            s,
            ROSTER,
            school_code=None,
            now=clock.moment(date(2027, 2, 1), "09:00", tz),
            actor="zhang",
            extra_roles=[r for t in load_plans(settings).values() for r in t.roles.values()],
        )
    click.echo(
        f"  {result.school}: {result.created} people, {result.bound} roles bound ({ROSTER.name})"
    )
    password = _accounts(engine, tz)  # before the replay: the head's mail offers what a head may

    say("4. 启动计划 Launch plans (Prefect flow runs)")
    from flows.launch_plan import run_launch_plan  # deliberate: Prefect loads only for the demo

    for key, period in PLANS:
        launched = run_launch_plan(
            template=key, school="demo", period=period, launched_by="zhang", today=REPLAY[0]
        ).result()
        click.echo(f"  {launched['message']}")
    again = run_launch_plan(
        template="gaokao_security",
        school="demo",
        period="2026-2027",
        launched_by="zhang",
        today=REPLAY[0],
    ).result()
    click.echo(f"  again: {again['message']}")

    say(f"5. 回放 Replay {REPLAY[0]} → {REPLAY[1]}: ticks by day, sweeps from {SWEEPS_FROM}")
    # in the photo store (data/photos/...), recorded relative to it: the web UI shows it
    photo = Path("photos") / "demo" / "photo.png"
    (settings.data_dir / photo).parent.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / photo).write_bytes(photo_png())
    with MailSink(out / "mail") as sink:
        with unit_of_work(engine) as s:
            school = s.scalar(select(School).where(School.code == "demo"))
            assert school is not None
            school.channels = {"email": {**school.channels.get("email", {}), "port": sink.port}}
        ticked = _replay(engine, photo, tz)
    click.echo(
        f"  {ticked['on_time']} items done on time, {ticked['late']} done late, "
        f"{ticked['left']} left open; {ticked['sweeps']} sweeps (Prefect flow runs) sent "
        f"{len(sink.files)} e-mails to the local SMTP sink, saved in {out / 'mail'}"
    )
    for path in sink.files[:3]:
        click.echo(f"  e.g. {path.name}: {sink.subjects[path]}")

    say(f"6. 逾期事项 Overdue as of {REVIEW_DAY} 09:00")
    now = clock.moment(REVIEW_DAY, "09:00", tz)
    with unit_of_work(engine) as s:
        overdue = list_items(s, ItemFilter(school="demo", overdue_at=now))
        rows = [tables.item_row(i, now, lang) for i in overdue]
    click.echo(tables.render([column.label(lang) for column in tables.ITEM_COLUMNS], rows))
    click.echo(
        f"  {len(rows)} overdue items. Explore: HOUQIN_DATABASE_URL=sqlite:///{db} "
        f"houqin items --school demo --overdue --today {REVIEW_DAY}"
    )

    say("7. 网页 Web UI: one account per role (demo only)")
    for username, role, person in ACCOUNTS:
        click.echo(f"  {username:10} {role:15} {person or '示范区'}")
    click.echo(f"  password (all of them): {password}   (also in {out / 'accounts.txt'})")
    (out / "accounts.txt").write_text(
        "".join(f"{u}\t{r}\n" for u, r, _ in ACCOUNTS) + f"password\t{password}\n",
        encoding="utf-8",
    )
    click.echo(
        f"  Serve the replayed season's last day (its mail links work then, not on the real "
        f"date):\n"
        f"  HOUQIN_DATABASE_URL=sqlite:///{db} HOUQIN_DATA_DIR={out / 'data'} "
        f"houqin serve --today {REPLAY[1]}"
    )


def _accounts(engine, tz: str) -> str:  # type: ignore[no-untyped-def]
    """A login for each role, with one random password printed for the demo's reader."""
    password = secrets.token_urlsafe(9)
    with unit_of_work(engine) as s:
        school = s.scalar(select(School).where(School.code == "demo"))
        assert school is not None
        for username, role, code in ACCOUNTS:
            person = (
                s.scalar(select(Person).where(Person.school_id == school.id, Person.code == code))
                if code
                else None
            )
            create_account(
                s,
                username=username,
                password=password,
                role=role,
                school=school if role != "district" else None,
                person=person,
                district=school.district if role == "district" else None,
                now=clock.moment(REPLAY[0], "09:00", tz),
                actor="demo",
            )
    return password


def _replay(engine, photo: Path, tz: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Each working morning a sweep; each day owners tick what is due, some late or never."""
    from flows.sweep import sweep  # deliberate: Prefect loads only for the demo

    counts = {"on_time": 0, "late": 0, "left": 0, "sweeps": 0}
    book = load_calendars(get_settings())
    day = REPLAY[0]
    while day <= REPLAY[1]:
        if day >= SWEEPS_FROM and book.is_workday(day):
            state = sweep(today=day, at="07:30", return_state=True)
            if state.is_failed():  # shown, as the Prefect UI shows it, and the replay goes on
                click.echo(f"  {day} sweep Failed: {state.message}")
            counts["sweeps"] += 1
        start = clock.moment(day, "00:00", tz)
        with unit_of_work(engine) as s:
            due_today = s.scalars(
                select(Item)
                .where(
                    Item.status == "open",
                    Item.due_at >= start - timedelta(days=3),
                    Item.due_at < start + timedelta(days=1),
                )
                .order_by(Item.id)
            ).all()
            for item in due_today:
                fate = item.id % 9  # deterministic: 0-1 never done, 2 done 3 days late
                days_left = clock.as_local(item.due_at, tz).date().toordinal() - day.toordinal()
                if fate <= 1 or (fate == 2 and days_left != -3) or (fate > 2 and days_left != 0):
                    continue
                owner = s.get(Person, item.owner_id)
                assert owner is not None
                for n, step in enumerate(item.steps, 1):
                    if not step["done"]:
                        tick(s, item=item, by=owner, now=clock.moment(day, "10:00", tz), step=n)
                note, number, photos = _evidence(item, photo)
                try:
                    tick(
                        s,
                        item=item,
                        by=owner,
                        now=clock.moment(day, "16:00", tz),
                        note=note,
                        number=number,
                        photos=photos,
                    )
                except UserError:  # a dependency still open: it waits, as it would for a person
                    continue
                counts["late" if fate == 2 else "on_time"] += 1
        day += timedelta(days=1)
    with unit_of_work(engine) as s:
        counts["left"] = len(s.scalars(select(Item.id).where(Item.status == "open")).all())
    return counts


def _evidence(item: Item, photo: Path) -> tuple[str | None, float | None, list[str]]:
    """(note, number, photos) as the item's evidence policy asks."""
    return (
        "已按要求完成 / done as required" if item.evidence_kind == "note" else None,
        float(item.headcount or 1) if item.evidence_kind == "number" else None,
        [photo.as_posix()] if item.evidence_kind == "photo" else [],
    )
