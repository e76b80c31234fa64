"""The logistics head: launch with a preview, bind roles, reassign, waive, retry messages."""

from __future__ import annotations

from sqlalchemy import func, select

from houqin.models import AuditEvent, Delivery, Item, PlanRun, RoleBinding, School
from tests.factories import NOW
from tests.web.conftest import Live, form_token, logged_in


def count(live: Live, model: type, *where: object) -> int:
    with live.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def test_the_launch_preview_shows_items_owners_and_deadlines_and_writes_nothing(
    live: Live,
) -> None:
    runs, events = count(live, PlanRun), count(live, AuditEvent)
    with logged_in(live, "zhang") as client:
        page = client.get(
            "/launch", params={"template": "term_end_assets", "period": "2026-2027/2"}
        )
    assert page.status_code == 200
    assert "期末资产清查与收尾工作" in page.text
    assert page.text.count("<tr>") == 1 + 10  # the header and the plan's ten items
    assert "确认启动" in page.text
    assert count(live, PlanRun) == runs and count(live, AuditEvent) == events + 1  # the login


def test_confirming_launches_the_plan_once(live: Live) -> None:
    with logged_in(live, "zhang") as client:
        token = form_token(client, "/head")
        form = {"csrf": token, "template": "term_end_assets", "period": "2026-2027/2"}
        first = client.post("/launch", data=form)
        assert first.status_code == 303 and first.headers["location"].startswith("/runs/")
        again = client.post("/launch", data=form)
        assert again.headers["location"] == first.headers["location"]  # no duplicate
        preview = client.get(
            "/launch", params={"template": "term_end_assets", "period": "2026-2027/2"}
        )
        assert "已启动" in preview.text and "确认启动" not in preview.text
        board = client.get(first.headers["location"]).text
    run_id = int(first.headers["location"].rsplit("/", 1)[1])
    assert count(live, Item, Item.run_id == run_id) == 10
    assert "共 10 项" in board
    with live.session() as s:
        event = s.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "plan.launch", AuditEvent.run_id == run_id
            )
        )
        assert event is not None and event.actor == "zhang" and event.at == NOW


def test_launching_with_an_unbound_role_or_a_bad_period_explains_and_writes_nothing(
    live: Live,
) -> None:
    runs = count(live, PlanRun)
    with logged_in(live, "zhang") as client:
        unbound = client.get(
            "/launch", params={"template": "gaokao_security", "period": "2026-2027"}
        )
        assert unbound.status_code == 400 and "本校还没有人担任「" in unbound.text
        bad = client.get("/launch", params={"template": "safety_month", "period": "2026"})
        assert bad.status_code == 400 and "2026-2027" in bad.text
        token = form_token(client, "/head")
        posted = client.post(
            "/launch", data={"csrf": token, "template": "nope", "period": "2026-2027"}
        )
        assert posted.status_code == 400 and "请选择一个计划模板" in posted.text
    assert count(live, PlanRun) == runs


def test_binding_a_role_is_confirmed_with_the_open_items_it_moves_and_is_audited(
    live: Live,
) -> None:
    moved = count(live, Item, Item.role_key == "gardener", Item.status == "open")
    with logged_in(live, "zhang") as client:
        page = client.get("/people").text
        assert "李师傅" in page
        # nothing preselected, names rather than role keys
        assert page.count("selected disabled") == 2 and "vice_principal_logistics<" not in page
        assert ">分管后勤副校长" in page or "副校长" in page
        token = form_token(client, "/people")
        asked = client.post(
            "/people/bind", data={"csrf": token, "role": "gardener", "person": "zheng"}
        )
        assert asked.status_code == 200  # a confirmation first, nothing changed yet
        assert f"李师傅名下此角色的 {moved} 项未完成事项将一并转给郑师傅" in asked.text
        assert count(live, AuditEvent, AuditEvent.action == "role.bind") == 0
        response = client.post(
            "/people/bind",
            data={"csrf": token, "role": "gardener", "person": "zheng", "confirm": "1"},
        )
        assert response.status_code == 303
        bad = client.post(
            "/people/bind", data={"csrf": token, "role": "astronaut", "person": "zheng"}
        )
        assert bad.status_code == 400
    zheng = live.world.people["zheng"]
    assert (
        count(live, RoleBinding, RoleBinding.role_key == "gardener", RoleBinding.person_id == zheng)
        == 1
    )
    assert count(live, Item, Item.role_key == "gardener", Item.owner_id == zheng) == moved == 1
    assert count(live, AuditEvent, AuditEvent.action == "role.bind") == 1


def test_reassigning_and_waiving_record_the_reason(live: Live) -> None:
    reassign_id = live.world.items["window_cleaning_contest"]  # li's
    waive_id = live.world.items["convenience_services"]
    with logged_in(live, "zhang") as client:
        token = form_token(client, f"/items/{reassign_id}")
        assert (
            client.post(
                f"/items/{reassign_id}/reassign",
                data={"csrf": token, "to": "zheng", "reason": "李师傅外出培训"},
            ).status_code
            == 303
        )
        no_reason = client.post(f"/items/{waive_id}/waive", data={"csrf": token, "reason": " "})
        assert no_reason.status_code == 400 and "免除理由" in no_reason.text
        assert (
            client.post(
                f"/items/{waive_id}/waive", data={"csrf": token, "reason": "本学期不开展"}
            ).status_code
            == 303
        )
        history = client.get(f"/items/{reassign_id}").text
    assert "郑师傅" in history and "李师傅外出培训" in history
    with live.session() as s:
        moved = s.get(Item, reassign_id)
        waived = s.get(Item, waive_id)
        assert moved is not None and moved.owner_id == live.world.people["zheng"]
        assert waived is not None and waived.status == "waived"
        assert waived.waive_reason == "本学期不开展"
        events = {
            e.action: e
            for e in s.scalars(
                select(AuditEvent).where(AuditEvent.item_id.in_([reassign_id, waive_id]))
            )
        }
    assert events["item.reassign"].details["reason"] == "李师傅外出培训"
    assert events["item.waive"].actor == "zhang"


def test_the_outbox_shows_every_state_and_resends_failed_and_unconfirmed_messages(
    live: Live,
) -> None:
    ids = live.world.deliveries
    with logged_in(live, "zhang") as client:
        page = client.get("/outbox").text
        for label in (
            "已发送",
            "待发送",
            "发送失败",
            "未确认",
            "errcode 93000",
            "有 1 条消息未确认",
        ):
            assert label in page
        assert client.get("/outbox?status=failed").text.count('class="card" id="delivery-') == 1
        token = form_token(client, "/outbox")
        for state in ("failed", "unconfirmed"):
            response = client.post(f"/outbox/{ids[state]}/resend", data={"csrf": token})
            assert response.status_code == 303
        refused = client.post(f"/outbox/{ids['sent']}/resend", data={"csrf": token})
        assert refused.status_code == 409 and "只有发送失败或未确认" in refused.text
        twice = client.post(f"/outbox/{ids['failed']}/resend", data={"csrf": token})
        assert twice.status_code == 409
    with live.session() as s:
        for state in ("failed", "unconfirmed"):
            delivery = s.get(Delivery, ids[state])
            assert delivery is not None
            assert delivery.status == "pending" and delivery.next_attempt_at == NOW
        sent = s.get(Delivery, ids["sent"])
        assert sent is not None and sent.status == "sent"
        resends = s.scalars(select(AuditEvent).where(AuditEvent.action == "delivery.resend")).all()
    assert sorted(e.details["from"] for e in resends) == ["failed", "unconfirmed"]


def test_the_head_marks_an_unconfirmed_message_delivered_once_checked(live: Live) -> None:
    ids = live.world.deliveries
    with logged_in(live, "zhang") as client:
        token = form_token(client, "/outbox")
        assert (
            'action="/outbox/{}/delivered"'.format(ids["unconfirmed"]) in client.get("/outbox").text
        )
        response = client.post(f"/outbox/{ids['unconfirmed']}/delivered", data={"csrf": token})
        assert response.status_code == 303
        again = client.post(f"/outbox/{ids['unconfirmed']}/delivered", data={"csrf": token})
        assert again.status_code == 409 and "只有未确认的消息" in again.text
        failed = client.post(f"/outbox/{ids['failed']}/delivered", data={"csrf": token})
        assert failed.status_code == 409
    with live.session() as s:
        confirmed = s.get(Delivery, ids["unconfirmed"])
        assert confirmed is not None and (confirmed.status, confirmed.sent_at) == ("sent", NOW)
        [event] = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "delivery.confirmed")
        ).all()
    assert event.actor == "zhang" and event.details["delivery"] == ids["unconfirmed"]


def test_the_outbox_names_a_schools_unusable_settings(live: Live) -> None:
    with live.session() as s:
        school = s.get(School, live.world.school_id)
        assert school is not None
        school.timezone = "Mars/Phobos"
        s.commit()
    with logged_in(live, "zhang") as client:
        page = client.get("/outbox").text
    assert "本校设置有误" in page and "timezone: &#39;Mars/Phobos&#39; is not a time zone" in page


def test_the_board_shows_progress_by_phase_and_by_owner(live: Live) -> None:
    with logged_in(live, "li") as client:
        token = form_token(client, f"/items/{live.world.items['repair_training']}")
        client.post(
            f"/items/{live.world.items['repair_training']}/tick",
            data={"csrf": token, "note": "完成"},
        )
    with logged_in(live, "zhang") as client:
        board = client.get(f"/runs/{live.world.run_id}").text
    assert "按阶段" in board and "按负责人" in board
    assert "前期准备" in board and "活动评优" in board
    row = board.split(f'id="item-{live.world.items["repair_training"]}"')[1].split("</tr>")[0]
    assert 'data-status="done"' in board and "逾期完成" in row
