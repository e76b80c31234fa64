"""A generated district on PostgreSQL: schools, rosters, and every built-in plan launched.

Schools, people and role bindings are written with a few set-based INSERTs (setup, not
measured). Items are made the way production makes them, through ``houqin.launch.launch``, one
transaction per school; that is the launch measurement, and its baseline copies the same rows
with one ``INSERT ... SELECT`` into a table with the same indexes and foreign keys.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pendulum
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url

from calendars import CalendarBook
from houqin.db import make_engine, unit_of_work
from houqin.launch import launch
from houqin.migrate import upgrade
from houqin.models import Item, School
from houqin.plan_specs import PlanTemplate
from houqin.reminders import steps_for
from houqin.roles import ROLES
from houqin.school_profiles import applies_to

DISTRICT = "bench"
TZ = "Asia/Shanghai"
YEARS = ("2026-2027", "2027-2028")  # the school years the calendar files hold
LAUNCHED_AT = pendulum.datetime(2026, 8, 3, 8, 0, tz=TZ)
# every school the demo's profile: a 完全中学 that is a 高考 site with boarders and a canteen
KIND, FACTS = "complete", '["gaokao_site", "boarding", "canteen"]'
LEADER, VICE, HEAD = "principal", "vice_principal_logistics", "logistics_head"


def create_database(admin_url: str, template: str | None = None) -> str:
    name = f"houqin_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        copied = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copied}'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def role_keys(templates: dict[str, PlanTemplate]) -> list[str]:
    keys = set(ROLES)
    for template in templates.values():
        keys.update(template.role_keys())
    return sorted(keys)


def build_rosters(engine: Engine, schools: int, roles: list[str]) -> None:
    """Schools and one person per role each; staff report to the head, the head to the
    vice-principal, the vice-principal to the principal. Three statements, whatever the size."""
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO school (code, name, district, timezone, quiet_start, quiet_end, "
                "channels, kind, facts) SELECT 's' || lpad(g::text, 5, '0'), '第' || g || '中学', "
                ":district, :tz, '22:00', '07:00', '{}'::json, :kind, CAST(:facts AS json) "
                "FROM generate_series(1, :n) g"
            ),
            {"district": DISTRICT, "tz": TZ, "n": schools, "kind": KIND, "facts": FACTS},
        )
        conn.execute(
            text(
                "INSERT INTO person (school_id, code, name, addresses, lang, active) "
                "SELECT s.id, r.key, r.key || '@' || s.code, "
                "json_build_object('email', r.key || '@' || s.code || '.bench.example'), "
                "'zh-CN', true FROM school s CROSS JOIN unnest(CAST(:roles AS text[])) r(key)"
            ),
            {"roles": roles},
        )
        conn.execute(
            text(
                "UPDATE person p SET supervisor_id = boss.id FROM person boss "
                "WHERE boss.school_id = p.school_id AND p.code <> :leader AND boss.code = "
                "CASE p.code WHEN :vice THEN :leader WHEN :head THEN :vice ELSE :head END"
            ),
            {"leader": LEADER, "vice": VICE, "head": HEAD},
        )
        conn.execute(
            text(
                "INSERT INTO role_binding (school_id, role_key, person_id) "
                "SELECT school_id, code, id FROM person"
            )
        )


def launch_all(
    engine: Engine, templates: dict[str, PlanTemplate], book: CalendarBook
) -> tuple[int, float]:
    """Every built-in plan that applies to a school (houqin/school_profiles.py), for every school
    and school year; one transaction per school."""
    with unit_of_work(engine) as s:
        ids = list(s.scalars(select(School.id).order_by(School.id)))
    items = 0
    start = time.perf_counter()
    for school_id in ids:
        with unit_of_work(engine) as s:
            school = s.get_one(School, school_id)
            for period in YEARS:
                for key in sorted(templates):
                    if not applies_to(templates[key], school):
                        continue
                    result = launch(
                        s,
                        template=templates[key],
                        school=school,
                        period=period,
                        book=book,
                        by="bench",
                        now=LAUNCHED_AT,
                    )
                    items += result.items
    return items, time.perf_counter() - start


def copy_items_baseline(engine: Engine) -> tuple[int, float]:
    """The physical limit of writing the same rows: one INSERT ... SELECT into a twin table."""
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_item_copy"))
        conn.execute(text("CREATE TABLE bench_item_copy (LIKE item INCLUDING ALL)"))
        for column, target in (
            ("run_id", "plan_run"),
            ("school_id", "school"),
            ("owner_id", "person"),
            ("completed_by_id", "person"),
        ):
            conn.execute(
                text(
                    f"ALTER TABLE bench_item_copy ADD FOREIGN KEY ({column}) "
                    f"REFERENCES {target} (id)"
                )
            )
    start = time.perf_counter()
    with engine.begin() as conn:
        rows = conn.execute(text("INSERT INTO bench_item_copy SELECT * FROM item")).rowcount
    seconds = time.perf_counter() - start
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_item_copy"))
    return rows, seconds


def busiest_day(engine: Engine, book: CalendarBook) -> date:
    """The working day of the first school year on which most reminder/escalation steps fall."""
    with unit_of_work(engine) as s:
        first = s.scalar(select(School.id).order_by(School.id).limit(1))
        rows = s.execute(
            select(Item.due_at, Item.remind, Item.escalate).where(Item.school_id == first)
        ).all()
    year = book.school_year(YEARS[0])
    days: Counter[date] = Counter()
    for due_at, remind, escalate in rows:
        due_day = pendulum.instance(due_at).in_tz(TZ).date()
        for step in steps_for(due_day, remind, escalate, book):
            if year.first_day <= step.day <= year.last_day and book.is_workday(step.day):
                days[step.day] += 1
    return max(days, key=lambda d: (days[d], -d.toordinal()))


def age_the_ledger(engine: Engine, *, today: date, open_share: int) -> tuple[int, int]:
    """Close most items whose deadline is more than a week before ``today`` (done on time);
    every ``open_share``-th stays open and overdue. Returns (done, still open)."""
    cut = pendulum.datetime(today.year, today.month, today.day, tz=TZ) - timedelta(days=7)
    with engine.begin() as conn:
        done = conn.execute(
            text(
                "UPDATE item SET status = 'done', completed_at = due_at - interval '1 hour', "
                "completed_by_id = owner_id, late = false, revision = revision + 1 "
                "WHERE due_at < :cut AND id % :share <> 0"
            ),
            {"cut": cut, "share": open_share},
        ).rowcount
        still = conn.execute(text("SELECT count(*) FROM item WHERE status = 'open'")).scalar_one()
    analyze(engine)
    return done, still


def analyze(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


@dataclass
class District:
    url: str
    engine: Engine
    schools: int
    people: int
    items: int
    day: date

    def moment(self, hhmm: str) -> datetime:
        hour, minute = (int(x) for x in hhmm.split(":"))
        d = self.day
        return pendulum.datetime(d.year, d.month, d.day, hour, minute, tz=TZ)


def connect(url: str) -> Engine:
    return make_engine(url)
