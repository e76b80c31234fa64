"""Per-request state set before any route runs: the CSRF secret, the language, safe headers.

A plain ASGI middleware (not BaseHTTPMiddleware) so uploads stream through untouched.
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from houqin.web import i18n

CSRF_COOKIE = "houqin_csrf"
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # reminder-link and feed URLs carry secrets: never leak them to other sites
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self'; form-action 'self'; frame-ancestors 'none'",
    ),
]


def cookie_flags(secure: bool, *, http_only: bool = True, max_age: int | None = None) -> str:
    flags = "; Path=/; SameSite=Lax"
    if http_only:
        flags += "; HttpOnly"
    if secure:
        flags += "; Secure"
    if max_age is not None:
        flags += f"; Max-Age={max_age}"
    return flags


class RequestState:
    def __init__(self, app: ASGIApp, *, secure: bool):
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        new_cookies: list[str] = []
        secret = cookies.get(CSRF_COOKIE, "")
        if not (20 <= len(secret) <= 100):
            secret = secrets.token_urlsafe(32)
            new_cookies.append(f"{CSRF_COOKIE}={secret}{cookie_flags(self.secure)}")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        asked = i18n.normalize(query.get("lang", [""])[0])
        if asked:
            new_cookies.append(
                f"{i18n.COOKIE}={asked}{cookie_flags(self.secure, max_age=365 * 86400)}"
            )
        state = scope.setdefault("state", {})
        state["csrf_secret"] = secret
        state["lang"] = asked or i18n.normalize(cookies.get(i18n.COOKIE)) or i18n.DEFAULT

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in present]
                headers += [(b"set-cookie", c.encode()) for c in new_cookies]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is treated as no cookies
                continue
    return {k: m.value for k, m in jar.items()}
