"""Logging in: signed HttpOnly session cookies, throttled failures, sessions that end."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from houqin.accounts import set_password
from houqin.models import Account, AuditEvent
from houqin.web import auth
from houqin.web.middleware import cookie_flags
from tests.factories import NOW
from tests.web.conftest import Live, csrf_of, logged_in, login
from tests.web.seed import FAST_HASHER


def test_a_login_sets_a_signed_http_only_same_site_cookie_and_lands_on_the_roles_home(
    live: Live,
) -> None:
    for username, home in [
        ("li", "/my"),
        ("zhang", "/head"),
        ("wang", "/review"),
        ("district", "/review"),
    ]:
        with live.client() as client:
            response = login(client, username)
            assert response.status_code == 303 and response.headers["location"] == home
            cookie = next(
                c
                for c in response.headers.get_list("set-cookie")
                if c.startswith(f"{auth.COOKIE}=")
            )
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
            assert "Secure" not in cookie  # base_url is http://127.0.0.1 here
            assert client.get(home).status_code == 200


def test_cookies_are_secure_when_the_site_is_served_over_https() -> None:
    assert "; Secure" in cookie_flags(True)
    assert "; Secure" not in cookie_flags(False)


def test_a_wrong_password_says_so_and_is_recorded(live: Live) -> None:
    with live.client() as client:
        response = login(client, "li", "wrong password")
    assert response.status_code == 401 and "用户名或密码不正确" in response.text
    with live.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "login.failed"))
        assert event is not None and event.actor == "li" and event.details["ip"] == "127.0.0.1"


def test_five_failures_lock_the_username_for_this_address_with_429(live: Live) -> None:
    with live.client() as client:
        for _ in range(auth.MAX_FAILURES):
            assert login(client, "li", "guess").status_code == 401
        locked = login(client, "li")  # even the right password, for now
        assert locked.status_code == 429 and "分钟后再试" in locked.text
        assert login(client, "zheng").status_code == 303  # another username is not locked
    with live.session() as s:
        failures = s.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")).all()
        assert len(failures) == auth.MAX_FAILURES  # the refused attempt changed nothing


def test_the_lock_ends_when_the_window_has_passed(live: Live) -> None:
    from houqin.web.deps import get_now

    with live.client() as client:
        for _ in range(auth.MAX_FAILURES):
            login(client, "li", "guess")
        live.app.dependency_overrides[get_now] = lambda: NOW + auth.WINDOW + timedelta(minutes=1)
        assert login(client, "li").status_code == 303


def test_logging_out_ends_the_session(live: Live) -> None:
    with logged_in(live, "li") as client:
        token = csrf_of(client.get("/my").text)
        out = client.post("/logout", data={"csrf": token})
        assert out.status_code == 303
        assert client.get("/my").status_code == 303  # back to the login page


def test_a_password_change_ends_the_sessions_made_with_the_old_one(live: Live) -> None:
    with logged_in(live, "li") as client:
        assert client.get("/my").status_code == 200
        with live.session() as s, s.begin():
            account = s.scalar(select(Account).where(Account.username == "li"))
            assert account is not None
            set_password(s, account, "另一个密码-2026", now=NOW, actor="li", hasher=FAST_HASHER)
        assert client.get("/my").status_code == 303


def test_a_tampered_session_cookie_is_ignored(live: Live) -> None:
    with logged_in(live, "li") as client:
        value = client.cookies[auth.COOKIE]
        client.cookies.set(auth.COOKIE, value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
        assert client.get("/my").status_code == 303


def test_pages_carry_protective_headers(live: Live) -> None:
    with live.client() as client:
        headers = client.get("/login").headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"  # link and feed tokens stay on the site
    assert "script-src 'self'" in headers["content-security-policy"]
