"""Events exactly once, from ledger markers (issue 14): the overdue event at an item's first
escalation whatever its level, plan completion claimed by a conditional UPDATE, completed
items found by their marker rather than by audit-id order; overlapping sweeps and commits out
of order on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from houqin import items, progress, reminders
from houqin.db import make_engine, transaction
from houqin.models import AuditEvent, Item, Person
from houqin.settings import get_settings
from tests.test_sweep import BOOK, at, seed


def ids_of(rows: list[tuple[int, str, str, str]]) -> list[int]:
    return [row[0] for row in rows]


def sweep(day: str) -> progress.Progress:
    """The sweep's two ledger steps, as its tasks run them (two transactions)."""
    now = at(day)
    with transaction(get_settings()) as s:
        planned = reminders.plan_reminders(s, now=now, book=BOOK)
    with transaction(get_settings()) as s:
        return progress.collect(s, now=now, escalated=planned.escalated)


def tick(session: Session, item_id: int, day: str) -> None:
    item = session.get(Item, item_id)
    assert item is not None
    li = session.scalar(select(Person).where(Person.code == "li"))
    assert li is not None
    items.tick(session, item=item, by=li, now=at(day, "10:00"))


def item_ids() -> list[int]:
    with transaction(get_settings()) as s:
        return list(s.scalars(select(Item.id).order_by(Item.id)))


def test_the_overdue_event_comes_at_the_first_escalation_even_when_it_is_level_two(
    database_url: str,
) -> None:
    seed({}, items=1)
    # no sweep ran from the deadline (Wed 06-02) until after the second escalation day
    # (Mon 06-07, three working days after): the first escalation the item gets is L2
    first = sweep("2027-06-08")
    assert ids_of(first.overdue_items) == item_ids()
    assert sweep("2027-06-09").overdue_items == []  # announced once


def test_a_plan_completion_and_its_items_are_announced_once_by_sweeps_that_overlap(
    database_url: str,
) -> None:
    seed({}, items=2)
    with transaction(get_settings()) as s:
        for item_id in item_ids():
            tick(s, item_id, "2027-06-01")
    engine = make_engine(get_settings())
    barrier = threading.Barrier(2)
    found: list[progress.Progress] = []

    def one_sweep() -> None:
        with Session(engine) as s, s.begin():
            barrier.wait(timeout=30)  # both transactions open before either claims
            found.append(progress.collect(s, now=at("2027-06-02")))

    threads = [threading.Thread(target=one_sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    engine.dispose()
    assert len(found) == 2
    assert sorted(len(p.completed_runs) for p in found) == [0, 1]
    assert sorted(ids_of(found[0].completed_items) + ids_of(found[1].completed_items)) == (
        item_ids()
    )
    with transaction(get_settings()) as s:
        completions = s.scalar(
            select(func.count()).where(AuditEvent.action == "plan.complete")
        )
    assert completions == 1


def test_an_item_whose_tick_commits_after_a_later_one_is_still_announced(
    database_url: str,
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serializes writers: its commits cannot come out of order")
    seed({}, items=2)
    first, second = item_ids()
    engine = make_engine(get_settings())
    slow = Session(engine)
    slow.begin()
    tick(slow, first, "2027-06-01")  # its audit row gets the lower id, but commits last
    with transaction(get_settings()) as s:
        tick(s, second, "2027-06-01")
    assert ids_of(sweep("2027-06-01").completed_items) == [second]
    slow.commit()
    slow.close()
    engine.dispose()
    assert ids_of(sweep("2027-06-02").completed_items) == [first]
    assert sweep("2027-06-03").completed_items == []


def test_a_reopened_item_is_announced_again_when_it_is_done_again(database_url: str) -> None:
    seed({}, items=1)
    (only,) = item_ids()
    with transaction(get_settings()) as s:
        tick(s, only, "2027-06-01")
    assert ids_of(sweep("2027-06-01").completed_items) == [only]
    with transaction(get_settings()) as s:
        item = s.get(Item, only)
        li = s.scalar(select(Person).where(Person.code == "li"))
        assert item is not None and li is not None
        items.untick(s, item=item, by=li, now=at("2027-06-01", "11:00"))
    assert sweep("2027-06-01").completed_items == []
    with transaction(get_settings()) as s:
        tick(s, only, "2027-06-01")
    assert ids_of(sweep("2027-06-02").completed_items) == [only]


