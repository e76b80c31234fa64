"""What every request goes through before a route: its CSRF secret, language and safe headers
(``RequestState``), and the cap on its body (``BodyLimit``).

Plain ASGI middleware (not BaseHTTPMiddleware) so uploads stream through untouched.
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


BODY_LIMIT = "houqin.body_limit"  # key in the request's state: the bytes it may still send


class BodyTooLarge(Exception):
    """More of a request body arrived than its limit allows."""


class BodyLimit:
    """Caps every request body; a body over the cap is never read.

    The body is counted as it arrives: past the limit (the ``max_body_mb`` setting, or less where
    a route sets ``state[BODY_LIMIT]``) the app's next read raises ``BodyTooLarge``.

    A request refused before its body was read (no login, another site's form, a declared size
    over the limit) is answered at once. What then happens to the unread body: one within the
    limit is left for the server to read and discard, so the person's browser, still sending,
    gets to show the answer (a connection closed under it shows only "reset"); one over the
    limit, or of unknown length, gets ``Connection: close`` and is never read.
    """

    def __init__(self, app: ASGIApp, *, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state[BODY_LIMIT] = self.limit
        declared = _declared_length(scope)
        received, finished, started = 0, declared == 0, False

        def limit() -> int:
            return min(int(state[BODY_LIMIT]), self.limit)

        async def counted() -> Message:
            nonlocal received, finished
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit():
                    raise BodyTooLarge()
                finished = not message.get("more_body", False)
            return message

        async def closing(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                unbounded = declared is None or declared > limit() or received > limit()
                if not finished and unbounded:
                    message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        try:
            await self.app(scope, counted, closing)
        except BodyTooLarge:
            if started:
                raise
            await closing({"type": "http.response.start", "status": 413, "headers": PLAIN})
            await send({"type": "http.response.body", "body": TOO_LARGE})


PLAIN = [(b"content-type", b"text/plain; charset=utf-8")]
TOO_LARGE = (
    "请求内容太大，未做任何更改。\nThe request is too large; nothing was changed.\n".encode()
)


def _declared_length(scope: Scope) -> int | None:
    """The body's Content-Length; None if it has none (chunked) or a malformed one."""
    headers = dict(scope.get("headers", []))
    value = headers.get(b"content-length")
    if value is None:
        return None if b"transfer-encoding" in headers else 0
    return int(value) if value.isdigit() else None
