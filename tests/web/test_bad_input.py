"""Bad input gets a clear message and changes nothing: uploads, CSRF, links, malformed forms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from houqin.links import make_token
from houqin.models import AuditEvent, Evidence, Item, UsedLink
from houqin.web import uploads
from tests.factories import NOW
from tests.web.conftest import Live, form_token, logged_in
from tests.web.images import png

PHOTO_ITEM = "mending_second"  # li's, evidence: photos, due this week


def snapshot(live: Live, item_id: int) -> tuple[str, int, int, int, int]:
    """Everything a refused request must leave as it was."""
    with live.session() as s:
        item = s.get(Item, item_id)
        assert item is not None
        count = lambda model, col: s.scalar(select(func.count()).where(col == item_id))  # noqa: E731
        return (
            item.status,
            item.revision,
            count(AuditEvent, AuditEvent.item_id),
            count(Evidence, Evidence.item_id),
            count(UsedLink, UsedLink.item_id),
        )


def no_files_written(live: Live) -> bool:
    folder = live.settings.data_dir / "photos"
    return not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


def test_an_oversized_photo_is_refused_with_413_and_nothing_is_written(live: Live) -> None:
    item_id = live.world.items[PHOTO_ITEM]
    before = snapshot(live, item_id)
    big = png(16, 16) + b"\0" * uploads.MAX_PHOTO_BYTES  # a real PNG header, 8 MB + a bit
    with logged_in(live, "li") as client:
        token = form_token(client, f"/items/{item_id}")
        response = client.post(
            f"/items/{item_id}/tick",
            data={"csrf": token},
            files=[("photos", ("big.png", big, "image/png"))],
        )
    assert response.status_code == 413
    assert "太大" in response.text and "未做任何更改" in response.text
    assert snapshot(live, item_id) == before
    assert no_files_written(live)


@pytest.mark.parametrize(
    "name, body",
    [
        ("notes.jpg", "这不是照片".encode()),  # text named like a photo
        ("fake.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 garbage"),  # the right magic, not an image
        ("script.png", b"<script>alert(1)</script>"),
    ],
)
def test_a_file_that_is_not_an_image_is_refused_by_its_content(
    live: Live, name: str, body: bytes
) -> None:
    item_id = live.world.items[PHOTO_ITEM]
    before = snapshot(live, item_id)
    with logged_in(live, "li") as client:
        token = form_token(client, f"/items/{item_id}")
        response = client.post(
            f"/items/{item_id}/tick",
            data={"csrf": token},
            files=[("photos", (name, body, "image/jpeg"))],
        )
    assert response.status_code == 400
    assert "不是照片" in response.text and "JPEG、PNG 或 WebP" in response.text
    assert snapshot(live, item_id) == before
    assert no_files_written(live)


def test_a_good_photo_with_a_bad_one_is_refused_as_a_whole(live: Live) -> None:
    item_id = live.world.items[PHOTO_ITEM]
    before = snapshot(live, item_id)
    with logged_in(live, "li") as client:
        token = form_token(client, f"/items/{item_id}")
        files = [
            ("photos", ("ok.png", png(), "image/png")),
            ("photos", ("x.png", b"nope", "image/png")),
        ]
        response = client.post(f"/items/{item_id}/tick", data={"csrf": token}, files=files)
    assert response.status_code == 400
    assert snapshot(live, item_id) == before
    assert no_files_written(live)


def test_a_photo_item_without_a_photo_says_what_is_missing(live: Live) -> None:
    item_id = live.world.items[PHOTO_ITEM]
    before = snapshot(live, item_id)
    with logged_in(live, "li") as client:
        token = form_token(client, f"/items/{item_id}")
        response = client.post(f"/items/{item_id}/tick", data={"csrf": token, "note": "done"})
    assert response.status_code == 400
    assert "至少一张照片" in response.text
    assert snapshot(live, item_id) == before


@pytest.mark.parametrize("csrf", ["", "forged", "InZhbHVlIg.aaaa.bbbb"])
def test_a_missing_or_forged_csrf_token_is_refused_on_urlencoded_and_multipart_forms(
    live: Live, csrf: str
) -> None:
    item_id = live.world.items["repair_training"]
    before = snapshot(live, item_id)
    with logged_in(live, "li") as client:
        plain = client.post(f"/items/{item_id}/tick", data={"csrf": csrf, "note": "x"})
        upload = client.post(
            f"/items/{item_id}/tick",
            data={"csrf": csrf, "note": "x"},
            files=[("photos", ("a.png", png(), "image/png"))],
        )
    for response in (plain, upload):
        assert response.status_code == 403
        assert "CSRF" in response.text and "未做任何更改" in response.text
    assert snapshot(live, item_id) == before


def test_a_csrf_token_from_another_browser_does_not_pass(live: Live) -> None:
    """Double submit: the signed token must match this browser's own cookie."""
    item_id = live.world.items["repair_training"]
    before = snapshot(live, item_id)
    with logged_in(live, "zhang") as attacker:
        stolen = form_token(attacker, f"/items/{item_id}")
    with logged_in(live, "li") as client:
        response = client.post(f"/items/{item_id}/tick", data={"csrf": stolen, "note": "x"})
    assert response.status_code == 403
    assert snapshot(live, item_id) == before


def test_logging_in_needs_a_csrf_token_too(live: Live) -> None:
    with live.client() as client:
        client.get("/login")
        response = client.post("/login", data={"username": "li", "password": "x", "csrf": "no"})
    assert response.status_code == 403


def link(live: Live, key: str = "repair_training", *, days_ago: int = 0, person: str = "li") -> str:
    return make_token(
        live.settings,
        item_id=live.world.items[key],
        person_id=live.world.people[person],
        now=NOW - timedelta(days=days_ago),
    )


def post_link(live: Live, token: str, **data: str) -> tuple[int, str]:
    """GET the link as the phone would, then POST its form (CSRF token of this browser)."""
    with live.client() as client:
        client.get(f"/l/{token}")
        csrf = form_token(client, "/login")  # any page's token: it signs this browser's cookie
        response = client.post(f"/l/{token}", data={"csrf": csrf, **data})
        return response.status_code, response.text


def test_a_link_tick_is_one_read_and_one_write_per_row(live: Live) -> None:
    """The busiest write in Houqin stays lean: read the item (with its run, school, template and
    person) once, record the link, update the item, add the evidence and the audit event."""
    item_id = live.world.items["repair_training"]
    token = link(live)
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement.split()[0].upper())

    with live.client() as client:
        client.get(f"/l/{token}")
        csrf = form_token(client, "/login")
        event.listen(live.engine, "before_cursor_execute", seen)
        try:
            response = client.post(f"/l/{token}", data={"csrf": csrf, "note": "已培训"})
        finally:
            event.remove(live.engine, "before_cursor_execute", seen)
    assert response.status_code == 200 and "已完成，已记录" in response.text
    writes = [s for s in statements if s in ("INSERT", "UPDATE", "DELETE")]
    assert statements.count("SELECT") == 1, statements
    assert writes == ["INSERT", "UPDATE", "INSERT", "INSERT"], statements  # link, item, audit, note
    assert snapshot(live, item_id)[0] == "done"


def test_an_expired_link_is_refused_with_a_clear_message(live: Live) -> None:
    item_id = live.world.items["repair_training"]
    before = snapshot(live, item_id)
    token = link(live, days_ago=15)  # links last 14 days
    with live.client() as client:
        shown = client.get(f"/l/{token}")
    assert shown.status_code == 400 and "链接已过期" in shown.text
    status, text = post_link(live, token, note="x")
    assert status == 400 and "链接已过期" in text
    assert snapshot(live, item_id) == before


def test_a_forged_link_is_refused(live: Live) -> None:
    token = link(live)
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    with live.client() as client:
        response = client.get(f"/l/{forged}")
    assert response.status_code == 400 and "链接无效" in response.text


def test_a_used_link_cannot_tick_again_and_shows_what_it_recorded(live: Live) -> None:
    item_id = live.world.items["repair_training"]
    token = link(live)
    assert post_link(live, token, note="第一次")[0] == 200
    with live.session() as s, s.begin():  # the item is reopened; the old link must still fail
        item = s.get(Item, item_id)
        assert item is not None
        item.status, item.revision = "open", item.revision + 1
    before = snapshot(live, item_id)
    status, text = post_link(live, token, note="第二次")
    assert status == 200 and "这个链接已经用过" in text and "第二次" not in text
    assert snapshot(live, item_id) == before


def test_a_link_whose_tick_is_refused_stays_usable(live: Live) -> None:
    item_id = live.world.items["repair_training"]  # needs a note
    token = link(live)
    status, text = post_link(live, token)
    assert status == 400 and "一段文字说明" in text
    assert snapshot(live, item_id)[4] == 0  # the link was not consumed
    assert post_link(live, token, note="补上说明")[0] == 200


def test_a_link_for_an_item_moved_to_someone_else_no_longer_works(live: Live) -> None:
    token = link(live, "cooking_contest", person="li")  # zheng owns it
    with live.client() as client:
        response = client.get(f"/l/{token}")
    assert response.status_code == 410 and "转交" in response.text


@pytest.mark.parametrize(
    "path, data, message",
    [
        ("/items/{id}/steps/1", {"done": "maybe"}, "表单格式不正确"),
        ("/items/{id}/steps/99", {"done": "1"}, "没有这个步骤"),
        ("/items/{id}/steps/x", {"done": "1"}, "请求格式不正确"),
        ("/items/{id}/tick", {"steps": "abc"}, "格式不正确"),
        ("/items/{id}/tick", {"note": "x" * 2001}, "太长"),
    ],
)
def test_a_malformed_form_gets_a_clear_message_and_changes_nothing(
    live: Live, path: str, data: dict[str, str], message: str
) -> None:
    item_id = live.world.items["canteen_experience_day"]  # zheng's, six steps
    before = snapshot(live, item_id)
    with logged_in(live, "zheng") as client:
        token = form_token(client, f"/items/{item_id}")
        response = client.post(path.format(id=item_id), data={"csrf": token, **data})
    assert response.status_code == 400
    assert message in response.text
    assert snapshot(live, item_id) == before


def test_a_number_that_is_not_a_number_is_refused(live: Live) -> None:
    item_id = live.world.items["canteen_questionnaire"]  # zheng's, evidence: a number
    before = snapshot(live, item_id)
    with logged_in(live, "zheng") as client:
        token = form_token(client, f"/items/{item_id}")
        for value in ("abc", "nan", "1e999"):
            response = client.post(f"/items/{item_id}/tick", data={"csrf": token, "number": value})
            assert response.status_code == 400 and "不是数字：请填写数字" in response.text
    assert snapshot(live, item_id) == before
