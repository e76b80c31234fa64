"""No page, action or file without the right role: 403 (or the login page), and nothing changes."""

from __future__ import annotations

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from houqin.models import AuditEvent, Delivery, Item
from houqin.web import board, head, ical, links, login, offline, outbox, review, staff, ticks
from houqin.web.csrf import checked_form, checked_upload
from houqin.web.deps import require_viewer
from houqin.web.links import signed_claim
from houqin.web.offline import link_claim
from tests.web.conftest import Live, form_token, logged_in


def audit_count(live: Live) -> int:
    with live.session() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent)) or 0


def revision(live: Live, item_id: int) -> tuple[str, int, int]:
    with live.session() as s:
        item = s.get(Item, item_id)
        assert item is not None
        return item.status, item.revision, item.owner_id


POSTS = [
    route
    for module in (board, head, ical, links, login, offline, outbox, review, staff, ticks)
    for route in module.router.routes
    if isinstance(route, APIRoute) and "POST" in route.methods
]
FORMS = (checked_form, checked_upload)


def calls_in_order(dependant: Dependant) -> list[object]:
    """What FastAPI calls for a route, in its order: each dependency after its own."""
    calls: list[object] = []
    for sub in dependant.dependencies:
        calls += [*calls_in_order(sub), sub.call]
    return calls


def test_every_post_route_checks_the_csrf_token() -> None:
    assert len(POSTS) >= 12
    for route in POSTS:
        assert any(f in [d.call for d in route.dependant.dependencies] for f in FORMS), route.path


def test_only_the_routes_that_take_photos_accept_multipart() -> None:
    uploads = {r.path for r in POSTS if checked_upload in calls_in_order(r.dependant)}
    assert uploads == {
        "/items/{item_id}/tick",
        "/l/{token}",
        "/sync/items/{item_id}",  # a tick-off queued on a phone
        "/sync/l/{token}",
    }


def test_every_post_route_knows_who_is_asking_before_it_reads_the_form() -> None:
    """The login (or the reminder link) is checked first: a stranger's body is never parsed."""
    for route in POSTS:
        calls = calls_in_order(route.dependant)
        form_at = next(i for i, call in enumerate(calls) if call in FORMS)
        if route.path in ("/login", "/logout"):
            continue  # whoever is asking: small urlencoded forms only
        assert {require_viewer, signed_claim, link_claim} & set(calls[:form_at]), route.path


def test_pages_need_a_login(live: Live) -> None:
    with live.client() as client:
        for path in (
            "/my",
            "/team",
            "/head",
            "/review",
            "/outbox",
            "/people",
            "/runs/1",
            "/items/1",
            "/photos/1",
            "/calendar",
            "/launch",
        ):
            response = client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next="), path


def test_staff_cannot_open_the_head_or_leadership_pages(live: Live) -> None:
    with logged_in(live, "li") as client:
        for path in (
            "/head",
            "/people",
            "/outbox",
            "/review",
            "/team",
            "/runs/{run}",
            "/launch?template=safety_month&period=2026-2027",
        ):
            response = client.get(path.format(run=live.world.run_id))
            assert response.status_code == 403, path
            assert "没有权限" in response.text


def test_staff_cannot_act_on_another_persons_item(live: Live) -> None:
    item_id = live.world.items["cooking_contest"]  # zheng's
    before, events = revision(live, item_id), audit_count(live)
    with logged_in(live, "li") as client:
        token = form_token(client, "/my")
        for path, data in [
            ("tick", {"note": "x"}),
            ("steps/1", {"done": "1"}),
            ("untick", {}),
            ("reassign", {"to": "li"}),
            ("waive", {"reason": "x"}),
        ]:
            response = client.post(f"/items/{item_id}/{path}", data={"csrf": token, **data})
            assert response.status_code == 403, path
    assert revision(live, item_id) == before
    assert audit_count(live) == events + 1  # only the login


def test_an_item_id_that_does_not_exist_is_refused_like_one_that_is_not_yours(live: Live) -> None:
    with logged_in(live, "li") as client:
        assert client.get("/items/999999").status_code == 403


def test_a_supervisor_sees_and_ticks_their_peoples_items_but_not_others(live: Live) -> None:
    mine = live.world.items["canteen_experience_day"]  # zheng's; chen supervises zheng
    not_mine = live.world.items["opening_ceremony"]  # zhang's; zhang supervises chen
    with logged_in(live, "chen") as client:
        assert "食堂体验日" in client.get("/team").text
        token = form_token(client, f"/items/{mine}")
        assert (
            client.post(f"/items/{mine}/steps/1", data={"csrf": token, "done": "1"}).status_code
            == 303
        )
        assert client.get(f"/items/{not_mine}").status_code == 403
    with live.session() as s:
        item = s.get(Item, mine)
        assert item is not None and item.steps[0]["by"] == "chen"  # who really did it


def test_leadership_reads_the_school_but_cannot_change_items(live: Live) -> None:
    item_id = live.world.items["cooking_contest"]
    before = revision(live, item_id)
    with logged_in(live, "wang") as client:
        assert client.get(f"/items/{item_id}").status_code == 200
        assert client.get(f"/runs/{live.world.run_id}").status_code == 200
        assert client.get(f"/items/{live.world.other_item_id}").status_code == 403  # other school
        token = form_token(client, "/review")
        for path in ("tick", "waive", "reassign"):
            response = client.post(
                f"/items/{item_id}/{path}",
                data={"csrf": token, "note": "x", "reason": "x", "to": "li"},
            )
            assert response.status_code == 403
        assert client.get("/head").status_code == 403
        assert client.get("/outbox").status_code == 403
    assert revision(live, item_id) == before


def test_a_district_account_reads_every_school_of_its_district_and_changes_nothing(
    live: Live,
) -> None:
    with logged_in(live, "district") as client:
        assert client.get(f"/items/{live.world.other_item_id}").status_code == 200
        review_page = client.get("/review").text
        assert "另一所学校" in review_page and "示范中学" in review_page
        token = form_token(client, "/review")
        response = client.post(f"/runs/{live.world.run_id}/signoff", data={"csrf": token})
        assert response.status_code == 403


def test_a_head_cannot_manage_another_schools_items_or_messages(live: Live) -> None:
    other = live.world.other_item_id
    before = revision(live, other)
    with logged_in(live, "zhang") as client:
        token = form_token(client, "/head")
        assert client.get(f"/items/{other}").status_code == 403
        assert (
            client.post(f"/items/{other}/waive", data={"csrf": token, "reason": "x"}).status_code
            == 403
        )
    assert revision(live, other) == before


def test_an_outsider_cannot_resend_the_schools_messages(live: Live) -> None:
    failed = live.world.deliveries["failed"]
    with logged_in(live, "outsider") as client:
        token = form_token(client, "/my")
        assert client.post(f"/outbox/{failed}/resend", data={"csrf": token}).status_code == 403
    with live.session() as s:
        delivery = s.get(Delivery, failed)
        assert delivery is not None and delivery.status == "failed"


def test_only_leadership_signs_off_a_plan_run(live: Live) -> None:
    with logged_in(live, "zhang") as head_client:
        token = form_token(head_client, "/head")
        assert (
            head_client.post(f"/runs/{live.world.run_id}/signoff", data={"csrf": token}).status_code
            == 403
        )
    with logged_in(live, "wang") as client:
        token = form_token(client, f"/runs/{live.world.run_id}")
        response = client.post(
            f"/runs/{live.world.run_id}/signoff", data={"csrf": token, "note": "同意，抓紧逾期事项"}
        )
        assert response.status_code == 303
        assert "同意，抓紧逾期事项" in client.get(f"/runs/{live.world.run_id}").text
    with live.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "plan.signoff"))
        assert event is not None and event.actor == "wang"
        assert event.details["overdue"] == 16  # nothing done yet: 16 items past due on 11-23


def test_an_open_redirect_after_login_is_not_possible(live: Live) -> None:
    from tests.web.conftest import csrf_of
    from tests.web.seed import PASSWORD

    with live.client() as client:
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login",
            data={"csrf": token, "username": "li", "password": PASSWORD, "next": "//evil.example/"},
        )
    assert response.headers["location"] == "/my"
