"""Logging in: signed HttpOnly session cookies, throttled failures, sessions that end."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from houqin.accounts import set_active, set_password
from houqin.links import make_token
from houqin.models import Account, AuditEvent
from houqin.secret_key import rotate_key
from houqin.web import auth
from houqin.web.middleware import cookie_flags
from tests.factories import NOW
from tests.web.conftest import Live, csrf_of, form_token, logged_in, login
from tests.web.seed import FAST_HASHER, PASSWORD


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


# --- issue 16, finding 3: a session ends everywhere -------------------------------------------


def copied_cookie(client: httpx.Client) -> httpx.Client:
    """Another browser holding the same session cookie (as the probe's copied cookie)."""
    other = httpx.Client(base_url=str(client.base_url), follow_redirects=False, timeout=20)
    other.cookies.set(auth.COOKIE, client.cookies[auth.COOKIE])
    return other


def test_logging_out_ends_every_session_of_the_account_a_copied_cookie_too(live: Live) -> None:
    with (
        logged_in(live, "li") as phone,
        logged_in(live, "li") as desktop,
        copied_cookie(phone) as thief,
    ):
        assert thief.get("/my").status_code == 200
        phone.post("/logout", data={"csrf": csrf_of(phone.get("/my").text)})
        assert thief.get("/my").status_code == 303
        assert desktop.get("/my").status_code == 303
    with live.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "account.logout"))
        assert event is not None and event.actor == "li" and event.details["ip"] == "127.0.0.1"


def test_the_other_device_is_told_its_session_ended_in_its_language(live: Live) -> None:
    with logged_in(live, "li") as phone, logged_in(live, "li") as desktop:
        phone.post("/logout", data={"csrf": csrf_of(phone.get("/my").text)})
        page = desktop.get("/login")
        assert "您的登录已结束" in page.text
        assert f"{auth.COOKIE}=;" in page.headers["set-cookie"]  # the dead cookie is dropped
        assert "您的登录已结束" not in desktop.get("/login").text  # said once
    with logged_in(live, "li") as phone, logged_in(live, "li") as desktop:
        phone.post("/logout", data={"csrf": csrf_of(phone.get("/my").text)})
        assert "Your session has ended" in desktop.get("/login?lang=en").text


def test_disabling_an_account_ends_its_sessions_at_once(live: Live) -> None:
    with logged_in(live, "li") as client:
        with live.session() as s, s.begin():
            account = s.scalar(select(Account).where(Account.username == "li"))
            assert account is not None
            set_active(s, account, False, now=NOW, actor="zhang")
            set_active(s, account, True, now=NOW, actor="zhang")  # enabled again: still ended
        assert client.get("/my").status_code == 303


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["user", "password", "li", "--password-stdin"], "account li: new password"),
        (["user", "logout", "li"], "account li: every session ended"),
    ],
)
def test_the_cli_ends_every_session_of_an_account(
    live: Live,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    says: str,
) -> None:
    from houqin.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("新的密码-2026-11\n"))
    with logged_in(live, "li") as client:
        assert main(command) == 0
        assert says in capsys.readouterr().out
        assert client.get("/my").status_code == 303


# --- issue 16, finding 1: the key signs sessions and forms; a new key voids them --------------


def test_a_session_or_form_signed_with_another_key_is_refused(live: Live) -> None:
    item_id = live.world.items["repair_training"]
    with logged_in(live, "li") as client:
        token = form_token(client, f"/items/{item_id}")
        live.reconfigure(secret_key=SecretStr("another-key-" + "x" * 32))
        assert client.get("/my").status_code == 303  # the cookie's signature is not ours
    with logged_in(live, "li") as client:
        refused = client.post(f"/items/{item_id}/tick", data={"csrf": token, "note": "x"})
        assert refused.status_code == 403 and "CSRF" in refused.text


def test_rotating_the_key_file_ends_sessions_and_links_without_a_restart(live: Live) -> None:
    live.reconfigure(secret_key=None)  # the key in <data dir>/secret_key, as after houqin init
    item_id = live.world.items["repair_training"]
    link = make_token(live.settings, item_id=item_id, person_id=live.world.people["li"], now=NOW)
    with logged_in(live, "li") as client:
        assert client.get(f"/l/{link}").status_code == 200
        rotate_key(live.settings)
        assert client.get("/my").status_code == 303
        refused = client.get(f"/l/{link}")
        assert refused.status_code == 400 and "链接无效" in refused.text


# --- issue 16, finding 4: the throttle cannot be stepped around --------------------------------


def fail(client: httpx.Client, username: str, address: str | None = None) -> int:
    page = client.get("/login")
    headers = {"X-Forwarded-For": address} if address else {}
    data = {"username": username, "password": "guess", "csrf": csrf_of(page.text)}
    return client.post("/login", data=data, headers=headers).status_code


def test_a_rotated_forwarded_for_header_does_not_escape_the_throttle(live: Live) -> None:
    """No trusted proxy by default: X-Forwarded-For is the client's word, and ignored."""
    with live.client() as client:
        for n in range(auth.MAX_FAILURES):
            assert fail(client, "li", f"203.0.113.{n}") == 401
        assert fail(client, "li", "203.0.113.99") == 429
    with live.session() as s:
        ips = {e.details["ip"] for e in s.scalars(select(AuditEvent)) if "ip" in e.details}
    assert ips == {"127.0.0.1"}


def test_forwarded_for_is_believed_from_a_trusted_proxy_only(live: Live) -> None:
    live.reconfigure(trusted_proxies="127.0.0.1")
    with live.client() as client:
        assert fail(client, "li", "203.0.113.7") == 401
    with live.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "login.failed"))
        assert event is not None and event.details["ip"] == "203.0.113.7"


def test_one_username_is_locked_across_addresses(live: Live) -> None:
    live.reconfigure(trusted_proxies="127.0.0.1")  # each request from its own address
    with live.client() as client:
        for n in range(auth.MAX_ACCOUNT_FAILURES):
            assert fail(client, "li", f"203.0.113.{n}") == 401
        page = client.get("/login")
        right = {"username": "li", "password": PASSWORD, "csrf": csrf_of(page.text)}
        locked = client.post("/login", data=right, headers={"X-Forwarded-For": "198.51.100.1"})
        assert locked.status_code == 429 and "分钟后再试" in locked.text
        assert login(client, "zheng").status_code == 303  # other accounts are not


def test_one_address_is_locked_across_usernames(live: Live) -> None:
    """One password tried against many accounts (some that exist, most that do not)."""
    with live.client() as client:
        for n in range(auth.MAX_ADDRESS_FAILURES):
            assert fail(client, ("zheng", "chen", "wang")[n] if n < 3 else f"user{n}") == 401
        assert login(client, "li").status_code == 429
    live.reconfigure(trusted_proxies="127.0.0.1")
    with live.client() as client:  # the same accounts from elsewhere
        page = client.get("/login")
        right = {"username": "li", "password": PASSWORD, "csrf": csrf_of(page.text)}
        elsewhere = client.post("/login", data=right, headers={"X-Forwarded-For": "198.51.100.2"})
        assert elsewhere.status_code == 303
