"""A body is read only once the request may be answered: a stranger's, another site's or an
oversized upload is refused from its headers, and the server closes the connection instead of
reading the rest (issue 16, finding 5)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from playwright.sync_api import Page, expect

from houqin.web import auth
from houqin.web.csrf import MAX_FORM_BYTES, URLENCODED
from houqin.web.middleware import BodyLimit
from tests.web.conftest import Live, csrf_of, form_token, logged_in, serving
from tests.web.images import png
from tests.web.seed import PASSWORD
from tests.web.test_bad_input import PHOTO_ITEM, snapshot

HUGE = 300 * 2**20  # the probe's 300 MB
UNDER_THE_CAP = 40 * 2**20  # an upload the cap allows, from someone who may not send it


@contextmanager
def raw(live: Live) -> Iterator[socket.socket]:
    host, port = live.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        yield conn


def head(path: str, length: int | None, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines.append("Content-Type: multipart/form-data; boundary=x")
    lines.append(
        f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    )
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer_without_the_body(conn: socket.socket, request: bytes) -> tuple[str, bytes]:
    """Send only the headers: the answer must come without the body (a server that waited for
    it would time out here). Returns the status line and the rest of the answer's head."""
    conn.sendall(request)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = conn.recv(65536)
        assert chunk, "closed without an answer"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(
        next(
            v
            for k, v in (h.split(b": ", 1) for h in head.split(b"\r\n")[1:])
            if k.lower() == b"content-length"
        )
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        assert chunk, "closed in the middle of the answer"
        body += chunk
    status_line, _, rest = received.partition(b"\r\n")
    return status_line.decode(), head + b"\r\n\r\n" + body


def closed_by_the_server(conn: socket.socket) -> bool:
    """After the answer, the server closes: it will not read the body it was told about (one
    that meant to read it would keep the connection open, and this would time out)."""
    while conn.recv(65536):
        pass
    return True


def cookies(client: httpx.Client) -> str:
    jar = client.cookies
    return "; ".join(f"{name}={jar[name]}" for name in (auth.COOKIE, "houqin_csrf") if name in jar)


def test_a_300_mb_upload_from_a_stranger_is_refused_unread(live: Live) -> None:
    item_id = live.world.items[PHOTO_ITEM]
    before = snapshot(live, item_id)
    with raw(live) as conn:
        status, rest = answer_without_the_body(conn, head(f"/items/{item_id}/tick", HUGE))
        assert status == "HTTP/1.1 303 See Other" and b"location: /login" in rest
        assert b"connection: close" in rest.lower() and closed_by_the_server(conn)
    assert snapshot(live, item_id) == before


def test_an_upload_below_the_cap_is_refused_before_it_is_parsed_without_a_login(
    live: Live,
) -> None:
    item_id = live.world.items[PHOTO_ITEM]
    with raw(live) as conn:
        status, _ = answer_without_the_body(conn, head(f"/items/{item_id}/tick", UNDER_THE_CAP))
    assert status == "HTTP/1.1 303 See Other"  # the login was checked before the form


def test_a_logged_out_phone_sending_photos_gets_the_login_page_not_a_reset(live: Live) -> None:
    """The early answer to a body within the cap lets the sender finish: the server reads and
    drops the rest instead of closing under it, so the browser can show where to go."""
    item_id = live.world.items[PHOTO_ITEM]
    with live.client() as client:
        token = csrf_of(client.get("/login").text)
        response = client.post(
            f"/items/{item_id}/tick",
            data={"csrf": token, "note": "x"},
            files=[("photos", ("a.png", png() + b"0" * 3 * 2**20, "image/png"))],
        )
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
        assert client.get("/login").status_code == 200  # and the connection goes on


def test_an_upload_by_a_forged_link_is_refused_before_it_is_parsed(live: Live) -> None:
    with raw(live) as conn:
        forged = "WzEsMiwiYWJjIl0.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb"
        status, rest = answer_without_the_body(conn, head(f"/l/{forged}", UNDER_THE_CAP))
    assert status == "HTTP/1.1 400 Bad Request" and "链接无效".encode() in rest


def test_a_300_mb_upload_after_a_login_is_refused_as_too_large_unread(live: Live) -> None:
    item_id = live.world.items[PHOTO_ITEM]
    with logged_in(live, "li") as client:
        token = form_token(client, f"/items/{item_id}")
        request = head(f"/items/{item_id}/tick", HUGE, Cookie=cookies(client))
        with raw(live) as conn:
            status, rest = answer_without_the_body(conn, request)
            assert closed_by_the_server(conn)
    assert status == "HTTP/1.1 413 Request Entity Too Large"
    assert "上传内容太大（每次最多 45 MB）".encode() in rest
    assert token  # a valid form was open: size alone refused it


def test_a_client_that_sends_the_300_mb_anyway_is_cut_off_early(live: Live) -> None:
    """Loopback buffers hold a few MB; a server that drained the body would take all 300."""
    item_id = live.world.items[PHOTO_ITEM]
    sent = 0
    with raw(live) as conn:
        conn.sendall(head(f"/items/{item_id}/tick", HUGE))
        block = b"x" * 2**20
        with pytest.raises(OSError):  # reset or broken pipe once the server has closed
            while sent < HUGE:
                sent += conn.send(block)
    assert sent < 64 * 2**20, f"the server read {sent // 2**20} MB"


def test_a_post_another_site_made_the_browser_send_is_refused_before_it_is_parsed(
    live: Live,
) -> None:
    """Fetch metadata and Origin are checked from the headers, before the body."""
    item_id = live.world.items[PHOTO_ITEM]
    with logged_in(live, "li") as client:
        jar = cookies(client)
        for headers in (
            {"Sec-Fetch-Site": "same-site"},
            {"Sec-Fetch-Site": "cross-site"},
            {"Origin": "http://evil.example"},
            {"Origin": "null"},
        ):
            with raw(live) as conn:
                request = head(f"/items/{item_id}/tick", UNDER_THE_CAP, Cookie=jar, **headers)
                status, rest = answer_without_the_body(conn, request)
            assert status == "HTTP/1.1 403 Forbidden", headers
            assert b"CSRF" in rest


def test_a_form_from_this_site_passes_the_origin_check(live: Live) -> None:
    with logged_in(live, "li") as client:
        token = form_token(client, "/calendar")
        for headers in ({"Sec-Fetch-Site": "same-origin"}, {"Origin": live.url}, {}):
            response = client.post(
                "/calendar", data={"csrf": token, "action": "revoke"}, headers=headers
            )
            assert response.status_code == 200, (headers, response.text)


def test_a_chunked_form_is_cut_off_at_its_limit(live: Live) -> None:
    """No Content-Length to refuse by: the body is counted as it comes. The client sees the
    413 page, or a reset if the server closed while more was on the way; never a login."""
    with live.client() as client:
        token = csrf_of(client.get("/login").text)
        body = [f"csrf={token}&username=li&password=".encode()]
        body += [b"a" * 65536] * (4 * MAX_FORM_BYTES // 65536)
        try:
            response = client.post(  # an iterator goes chunked
                "/login", content=iter(body), headers={"Content-Type": URLENCODED}
            )
        except httpx.TransportError:
            return
    assert response.status_code == 413 and "表单内容太长（最多 256 KB）" in response.text


def test_a_form_without_photos_is_refused_as_multipart(live: Live) -> None:
    with live.client() as client:
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login",
            data={"csrf": token, "username": "li", "password": "x"},
            files=[("f", ("a.txt", b"x", "text/plain"))],
        )
    assert response.status_code == 400 and "表单格式不正确" in response.text


def test_the_app_caps_any_body_it_reads_at_the_setting() -> None:
    """BodyLimit on its own, over an app that reads whatever comes: past the cap, the app's
    next read fails, so it never holds more than the cap (plus the chunk that crossed it)."""
    read: list[int] = []

    async def reader(scope, receive, send):  # type: ignore[no-untyped-def]
        read.append(0)
        while True:
            message = await receive()
            read[-1] += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read"})

    limit = 256 * 1024
    with serving(BodyLimit(reader, limit=limit), lifespan="off") as url:
        small = httpx.post(url, content=iter([b"a" * 1000]), timeout=10)
        try:
            large = httpx.post(url, content=iter([b"a" * 65536] * 160), timeout=10)
        except httpx.TransportError:  # closed while the client was still sending
            large = None
    assert small.status_code == 200 and read[0] == 1000
    assert read[1] <= limit, read  # 10 MB were sent
    if large is not None:
        assert large.status_code == 413 and "请求内容太大" in large.text


def test_chromium_refuses_to_let_another_site_post_a_photo_form(page: Page, live: Live) -> None:
    """Another origin on the same host (the same site, so Lax cookies go along) submits the
    tick form with a photo, even with this browser's own CSRF token (as if it had leaked):
    Chromium says ``Sec-Fetch-Site: same-site`` and the form is refused; nothing changes."""
    item_id = live.world.items[PHOTO_ITEM]
    before = snapshot(live, item_id)
    page.goto(f"{live.url}/login")
    page.fill("#username", "li")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("我的事项")
    page.goto(f"{live.url}/items/{item_id}")
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    attack = (
        f'<form method="post" action="{live.url}/items/{item_id}/tick" '
        f'enctype="multipart/form-data"><input name="csrf" value="{token}">'
        '<input name="note" value="done"><input type="file" name="photos">'
        "<button>go</button></form>"
    ).encode()

    async def other_site(scope, receive, send):  # type: ignore[no-untyped-def]
        html = [(b"content-type", b"text/html; charset=utf-8")]
        await send({"type": "http.response.start", "status": 200, "headers": html})
        await send({"type": "http.response.body", "body": attack})

    with serving(other_site, lifespan="off") as other:
        page.goto(other)
        photo = {"name": "a.png", "mimeType": "image/png", "buffer": png()}
        page.set_input_files("input[type=file]", files=[photo])
        with page.expect_navigation():
            page.click("button")
    expect(page.locator("[role=alert]")).to_contain_text("CSRF 校验失败")
    assert snapshot(live, item_id) == before
