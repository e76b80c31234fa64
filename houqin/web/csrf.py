"""CSRF: a signed double-submit token, checked in one dependency for every POST.

The browser holds a random secret in an HttpOnly cookie (set by ``middleware.RequestState``);
each form carries that secret signed with the server's key. A POST passes only if the signature
is ours and the signed value equals the cookie. Because the check reads the parsed form, it covers
urlencoded forms and multipart uploads alike (header-only CSRF libraries cannot).
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from houqin.web.errors import BadInput, Forbidden, TooLarge

FIELD = "csrf"
SALT = "houqin.csrf"
MAX_AGE = 24 * 3600  # a form left open for a day must be reloaded
MAX_BODY = 45 * 1024 * 1024  # up to five 8 MB photos and the form around them
MAX_FILES = 5
MAX_FIELDS = 60


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt=SALT)


def token(request: Request) -> str:
    """The value of the hidden field for a form on this page."""
    return _serializer(request).dumps(request.state.csrf_secret)


def check(request: Request, value: str | None) -> None:
    try:
        signed = _serializer(request).loads(value or "", max_age=MAX_AGE)
    except BadSignature:
        signed = None
    cookie = request.cookies.get("houqin_csrf", "")
    if not (isinstance(signed, str) and cookie and hmac.compare_digest(signed, cookie)):
        raise Forbidden(
            "表单已失效或来源不明（CSRF 校验失败），未做任何更改。请刷新页面后重试。",
            "This form has expired or did not come from Houqin (CSRF check failed); "
            "nothing was changed. Reload the page and try again.",
        )


async def checked_form(request: Request) -> AsyncIterator[FormData]:
    """The POSTed form, parsed with limits, after its CSRF token passed."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise TooLarge(
            f"上传内容太大（每次最多 {MAX_BODY // 2**20} MB）。",
            f"The upload is too large (at most {MAX_BODY // 2**20} MB at a time).",
        )
    try:
        form = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
    except HTTPException as exc:  # python-multipart refused the body
        raise BadInput(f"表单格式不正确：{exc.detail}", f"Malformed form: {exc.detail}") from None
    try:
        value = form.get(FIELD)
        check(request, value if isinstance(value, str) else None)
        yield form
    finally:
        await form.close()
