"""The sync endpoints a phone sends its queued tick-offs to (houqin/web/offline.py): each
submission carries the phone's id, so a retry never records twice, and a submission that meets a
changed item is a conflict that keeps the evidence instead of dropping it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from houqin.items import reassign, tick, waive
from houqin.links import make_token
from houqin.models import AuditEvent, Evidence, Item, Person, Submission
from houqin.web.access_log import mask_tokens
from tests.factories import NOW
from tests.web.conftest import Live, logged_in
from tests.web.images import png
from tests.web.test_concurrency import at_once, audit_of


def _csrf(client: httpx.Client) -> str:
    response = client.get("/sync/csrf")
    assert response.status_code == 200
    return str(response.json()["csrf"])


def _send(
    client: httpx.Client, path: str, client_id: str, *, photo: bool = True, **fields: Any
) -> httpx.Response:
    data = {"csrf": _csrf(client), "client_id": client_id, **fields}
    files = [("photos", ("gate.png", png(120, 90), "image/png"))] if photo else None
    return client.post(path, data=data, files=files)


def _evidence(live: Live, item_id: int) -> list[tuple[str, str]]:
    with live.session() as s:
        rows = s.scalars(select(Evidence).where(Evidence.item_id == item_id).order_by(Evidence.id))
        return [(e.kind, e.actor) for e in rows]


def _item(live: Live, item_id: int) -> Item:
    with live.session() as s:
        item = s.get(Item, item_id)
        assert item is not None
        return item


def test_a_tick_sent_again_after_a_lost_reply_is_recorded_once_and_gets_the_first_reply(
    live: Live,
) -> None:
    item_id = live.world.items["beautify_campus"]  # li's, evidence: a photo
    client_id = str(uuid.uuid4())
    with logged_in(live, "li") as client:
        first = _send(client, f"/sync/items/{item_id}", client_id, note="花坛已修整")
        again = _send(client, f"/sync/items/{item_id}", client_id, note="花坛已修整")
    assert first.status_code == again.status_code == 200
    assert first.json()["outcome"] == "done" and first.json()["zh"] == "已完成，已记录。"
    assert again.json() == {**first.json(), "repeat": True}
    assert _item(live, item_id).status == "done"
    assert audit_of(live, item_id).count(("item.tick", "li")) == 1
    assert _evidence(live, item_id) == [("note", "li"), ("photo", "li")]
    with live.session() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 1


def test_the_same_submission_arriving_twice_at_once_is_recorded_once(live: Live) -> None:
    item_id = live.world.items["beautify_campus"]
    client_id = str(uuid.uuid4())
    with logged_in(live, "li") as one, logged_in(live, "li") as two:
        path = f"/sync/items/{item_id}"
        replies = at_once(
            lambda: _send(one, path, client_id, note="a"),
            lambda: _send(two, path, client_id, note="a"),
        )
    assert [r.status_code for r in replies] == [200, 200]
    assert sorted(r.json().get("repeat", False) for r in replies) == [False, True]
    assert audit_of(live, item_id).count(("item.tick", "li")) == 1
    assert _evidence(live, item_id).count(("photo", "li")) == 1


def test_a_queued_sub_step_is_ticked_once(live: Live) -> None:
    item_id = live.world.items["canteen_experience_day"]  # zheng's, with sub-steps
    client_id = str(uuid.uuid4())
    with logged_in(live, "zheng") as client:
        for _ in range(2):
            reply = _send(
                client, f"/sync/items/{item_id}", client_id, photo=False, step="1", done="1"
            )
            assert reply.json()["outcome"] == "step", reply.text
    assert _item(live, item_id).steps[0]["done"] is True
    assert audit_of(live, item_id).count(("step.tick", "zheng")) == 1


def test_a_tick_for_an_item_completed_by_someone_else_meanwhile_keeps_the_photo_as_evidence(
    live: Live,
) -> None:
    item_id = live.world.items["beautify_campus"]
    with live.session() as s, s.begin():
        item, zhang = s.get(Item, item_id), s.get(Person, live.world.people["zhang"])
        assert item is not None and zhang is not None
        tick(s, item=item, by=zhang, now=NOW, photos=["photos/demo/x.png"])
    with logged_in(live, "li") as client:
        reply = _send(client, f"/sync/items/{item_id}", str(uuid.uuid4()), note="花坛已修整")
    body = reply.json()
    assert body["outcome"] == "conflict"
    assert "张主任" in body["zh"] and "完成" in body["zh"]
    assert "已附在此事项上" in body["kept_zh"]
    item = _item(live, item_id)
    assert item.status == "done" and item.completed_by_id == live.world.people["zhang"]
    assert ("photo", "li") in _evidence(live, item_id) and ("note", "li") in _evidence(
        live, item_id
    )
    assert audit_of(live, item_id)[-1] == ("item.handover", "li")


def test_a_tick_for_an_item_reassigned_meanwhile_is_a_conflict_and_the_evidence_goes_with_it(
    live: Live,
) -> None:
    item_id = live.world.items["beautify_campus"]
    with live.session() as s, s.begin():
        item, zheng = s.get(Item, item_id), s.get(Person, live.world.people["zheng"])
        assert item is not None and zheng is not None
        reassign(s, item=item, to=zheng, by="zhang", now=NOW, reason="李师傅休假")
    with logged_in(live, "li") as client:
        reply = _send(client, f"/sync/items/{item_id}", str(uuid.uuid4()), note="已拍照")
        assert client.get(f"/items/{item_id}").status_code == 403  # no longer li's to read
    assert reply.json()["outcome"] == "conflict"
    assert "郑师傅" in reply.json()["zh"]
    assert _item(live, item_id).status == "open"
    assert ("photo", "li") in _evidence(live, item_id)


def test_a_tick_for_a_waived_item_is_a_conflict_that_says_why(live: Live) -> None:
    item_id = live.world.items["beautify_campus"]
    with live.session() as s, s.begin():
        item = s.get(Item, item_id)
        assert item is not None
        waive(s, item=item, by="zhang", now=NOW, reason="本学期取消")
    with logged_in(live, "li") as client:
        reply = _send(client, f"/sync/items/{item_id}", str(uuid.uuid4()), note="x")
    assert reply.json()["outcome"] == "conflict" and "本学期取消" in reply.json()["zh"]
    assert _item(live, item_id).status == "waived"


def test_someone_elses_item_or_submission_id_is_refused(live: Live) -> None:
    item_id = live.world.items["beautify_campus"]
    client_id = str(uuid.uuid4())
    with logged_in(live, "li") as client:
        assert _send(client, f"/sync/items/{item_id}", client_id, note="x").status_code == 200
        assert _send(client, f"/sync/items/{item_id}", "not-a-uuid", note="x").status_code == 400
    with logged_in(live, "zheng") as client:
        assert _send(client, f"/sync/items/{item_id}", client_id, note="x").status_code == 403
        own = live.world.items["canteen_experience_day"]
        refused = _send(client, f"/sync/items/{own}", client_id, photo=False, step="1", done="1")
        assert refused.status_code == 400  # li's id: never a way to read li's reply
    assert audit_of(live, item_id).count(("item.tick", "li")) == 1


def test_a_reminder_link_tick_syncs_within_its_validity_and_once(live: Live) -> None:
    item_id = live.world.items["repair_training"]  # li's, evidence: a note
    token = make_token(live.settings, item_id=item_id, person_id=live.world.people["li"], now=NOW)
    client_id = str(uuid.uuid4())
    with live.client() as client:  # no login
        for _ in range(2):
            reply = _send(client, f"/sync/l/{token}", client_id, photo=False, note="已培训 12 人")
            assert reply.json()["outcome"] == "done", reply.text
        other = _send(client, f"/sync/l/{token}", str(uuid.uuid4()), photo=False, note="again")
    assert other.json()["outcome"] == "conflict"  # another submission: the link is used
    assert "已由您（另一次提交）" in other.json()["zh"]
    assert audit_of(live, item_id).count(("item.tick", "li")) == 1


def test_a_reminder_link_that_expired_before_the_phone_synced_keeps_the_evidence(
    live: Live,
) -> None:
    item_id = live.world.items["beautify_campus"]
    token = make_token(
        live.settings,
        item_id=item_id,
        person_id=live.world.people["li"],
        now=NOW - timedelta(days=15),
    )
    with live.client() as client:
        reply = _send(client, f"/sync/l/{token}", str(uuid.uuid4()), note="大门已检查")
        forged = _send(client, f"/sync/l/{token}x", str(uuid.uuid4()), note="x")
    assert reply.json()["outcome"] == "conflict" and "过期" in reply.json()["zh"]
    assert _item(live, item_id).status == "open"
    assert _evidence(live, item_id) == [("note", "li"), ("photo", "li")]
    assert forged.status_code >= 400
    with live.session() as s:
        handover = s.scalars(select(AuditEvent).where(AuditEvent.action == "item.handover")).one()
        assert handover.details["why"] == "expired"
        assert handover.details["reason"] == "离线提交时提醒链接已过期"
    with logged_in(live, "zhang") as head:  # the head sees what was kept, and why
        page = head.get(f"/items/{item_id}").text
    assert "离线提交未生效，凭证已附上" in page and "离线提交时提醒链接已过期" in page
    assert "大门已检查" in page


def test_the_reminder_link_sync_path_keeps_its_token_out_of_the_access_log() -> None:
    line = '"POST /sync/l/WzE1LDUsIjkwTllneXFi.awOQEA.wPS6 HTTP/1.1" 200'
    assert mask_tokens(line) == '"POST /sync/l/WzE1*** HTTP/1.1" 200'
