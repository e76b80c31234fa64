"""Two people ticking the same item at once: one consistent state, every change in the audit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import anyio.to_thread
import httpx
from sqlalchemy import select

from houqin.db import make_engine
from houqin.items import tick
from houqin.links import make_token
from houqin.models import AuditEvent, Item, Person
from houqin.web.app import make_app
from houqin.web.deps import get_now
from houqin.web.shared import settle
from tests.factories import NOW
from tests.web.conftest import Live, form_token, logged_in, serving
from tests.web.seed import FAST_HASHER


def at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Run the calls in threads released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list[httpx.Response | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def audit_of(live: Live, item_id: int) -> list[tuple[str, str]]:
    with live.session() as s:
        return [
            (e.action, e.actor)
            for e in s.scalars(
                select(AuditEvent).where(AuditEvent.item_id == item_id).order_by(AuditEvent.id)
            )
        ]


def test_two_people_ticking_two_steps_of_one_item_at_once_both_count(live: Live) -> None:
    item_id = live.world.items["canteen_experience_day"]  # zheng's; chen is his supervisor
    with logged_in(live, "zheng") as zheng, logged_in(live, "chen") as chen:
        tokens = form_token(zheng, f"/items/{item_id}"), form_token(chen, f"/items/{item_id}")
        answers = at_once(
            lambda: zheng.post(f"/items/{item_id}/steps/1", data={"csrf": tokens[0], "done": "1"}),
            lambda: chen.post(f"/items/{item_id}/steps/2", data={"csrf": tokens[1], "done": "1"}),
        )
    assert [a.status_code for a in answers] == [303, 303]
    with live.session() as s:
        item = s.get(Item, item_id)
        assert item is not None
        assert [(st["done"], st.get("by")) for st in item.steps[:3]] == [
            (True, "zheng"),
            (True, "chen"),
            (False, None),
        ]
        assert item.revision == 3  # two changes, each applied once
    assert sorted(audit_of(live, item_id)) == [("step.tick", "chen"), ("step.tick", "zheng")]


def test_two_people_completing_one_item_at_once_complete_it_once(live: Live) -> None:
    item_id = live.world.items["repair_training"]  # li's, a note; chen (his supervisor) too
    with logged_in(live, "li") as li, logged_in(live, "chen") as chen:
        tokens = form_token(li, f"/items/{item_id}"), form_token(chen, f"/items/{item_id}")
        answers = at_once(
            lambda: li.post(f"/items/{item_id}/tick", data={"csrf": tokens[0], "note": "李"}),
            lambda: chen.post(f"/items/{item_id}/tick", data={"csrf": tokens[1], "note": "陈"}),
        )
    codes = sorted(a.status_code for a in answers)
    assert codes == [303, 409]
    loser = next(a for a in answers if a.status_code == 409)
    assert "刚刚已由" in loser.text and "未做任何更改" in loser.text
    events = audit_of(live, item_id)
    assert [action for action, _ in events] == ["item.tick"]
    with live.session() as s:
        item = s.get(Item, item_id)
        assert item is not None and item.status == "done" and item.revision == 2
        assert s.get(Person, item.completed_by_id).code == events[0][1]  # type: ignore[union-attr]


def test_a_step_tick_that_lost_the_race_is_applied_again_on_the_fresh_row(live: Live) -> None:
    """Deterministic version of the race: B read the item, A changed it, then B acts."""
    item_id = live.world.items["canteen_experience_day"]
    with live.session() as b:
        with b.begin():  # B reads, and keeps its (soon stale) copy: expire_on_commit=False
            stale = b.get(Item, item_id)
            chen = b.get(Person, live.world.people["chen"])
        with live.session() as a, a.begin():
            fresh = a.get(Item, item_id)
            zheng = a.get(Person, live.world.people["zheng"])
            assert fresh is not None and zheng is not None
            tick(a, item=fresh, by=zheng, now=NOW, step=1)
        assert stale is not None and chen is not None and stale.revision == 1
        with b.begin():
            settle(b, stale, lambda: tick(b, item=stale, by=chen, now=NOW, step=2))
    with live.session() as s:
        item = s.get(Item, item_id)
        assert item is not None
        assert [st["done"] for st in item.steps[:3]] == [True, True, False]
        assert item.revision == 3
    assert audit_of(live, item_id) == [("step.tick", "zheng"), ("step.tick", "chen")]


def test_a_burst_larger_than_the_thread_and_connection_pools_is_served(live: Live) -> None:
    """Two worker threads, two database connections, twelve requests at once: every request
    is answered. (Committing through the shared thread pool deadlocked here: the threads were
    routes waiting for a connection, the connections were held by requests waiting to commit.)"""
    settings = live.settings.model_copy(update={"web_threads": 2})
    engine = make_engine(settings, pool_size=2, max_overflow=0, pool_timeout=5)
    app = make_app(settings, engine=engine, hasher=FAST_HASHER)
    app.dependency_overrides[get_now] = lambda: NOW
    token = make_token(
        settings,
        item_id=live.world.items["repair_training"],
        person_id=live.world.people["li"],
        now=NOW,
    )
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        answers = at_once(*[partial(client.get, f"/l/{token}") for _ in range(12)])
    engine.dispose()
    assert [r.status_code for r in answers] == [200] * 12
    assert all("水电维修理论培训" in r.text for r in answers)


def test_each_web_process_runs_the_configured_number_of_threads(live: Live) -> None:
    app = make_app(live.settings.model_copy(update={"web_threads": 3}), engine=live.engine)

    @app.get("/_threads")
    async def threads() -> dict[str, float]:
        return {"tokens": anyio.to_thread.current_default_thread_limiter().total_tokens}

    with serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/_threads").json() == {"tokens": 3}
