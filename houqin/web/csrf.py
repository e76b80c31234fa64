"""CSRF and the limits of a posted form, checked in one dependency for every POST.

Before any byte of the body is read: the declared size, the kind of form the route takes (only
routes that take photos accept multipart), and where the request comes from: a browser says so
in ``Sec-Fetch-Site`` or ``Origin`` on every POST, and a request another site made it send is
refused here (as Go's ``http.CrossOriginProtection`` does). Routes resolve the login (or the
reminder link) before the form, so a stranger's upload is refused unread too.

After the body is parsed: a signed double-submit token. The browser holds a random secret in an
HttpOnly cookie (set by ``middleware.RequestState``); each form carries that secret signed with
the server's key. A POST passes only if the signature is ours and the signed value equals the
cookie: the check that also holds for browsers that send neither header.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from houqin.secret_key import signing_key
from houqin.web.catalogue import form_refusal
from houqin.web.errors import BadInput, Forbidden, TooLarge
from houqin.web.middleware import BODY_LIMIT, BodyTooLarge

FIELD = "csrf"
SALT = "houqin.csrf"
MAX_AGE = 24 * 3600  # a form left open for a day must be reloaded
MAX_FORM_BYTES = 256 * 1024  # a form without photos: a note and some choices, never more
MAX_FILES = 5
MAX_FIELDS = 60
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(signing_key(request.app.state.settings), salt=SALT)


def token(request: Request) -> str:
    """The value of the hidden field for a form on this page."""
    return _serializer(request).dumps(request.state.csrf_secret)


def _refused() -> Forbidden:
    return Forbidden(
        "表单已失效或来源不明（CSRF 校验失败），未做任何更改。请刷新页面后重试。",
        "This form has expired or did not come from Houqin (CSRF check failed); "
        "nothing was changed. Reload the page and try again.",
    )


def check(request: Request, value: str | None) -> None:
    try:
        signed = _serializer(request).loads(value or "", max_age=MAX_AGE)
    except BadSignature:
        signed = None
    cookie = request.cookies.get("houqin_csrf", "")
    if not (isinstance(signed, str) and cookie and hmac.compare_digest(signed, cookie)):
        raise _refused()


def check_origin(request: Request) -> None:
    """Refuse a POST a browser sent on another site's behalf, from its headers alone."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site not in ("same-origin", "none"):  # "none": the person typed or bookmarked it
            raise _refused()
        return
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser of this decade: the token decides
    ours = {request.headers.get("host"), urlsplit(request.app.state.settings.base_url).netloc}
    if not urlsplit(origin).netloc or urlsplit(origin).netloc not in ours:
        raise _refused()


async def checked_form(request: Request) -> AsyncIterator[FormData]:
    """A posted form without files, after the checks above."""
    form = await _parse(request, files=False)
    try:
        yield form
    finally:
        await form.close()


async def checked_upload(request: Request) -> AsyncIterator[FormData]:
    """A posted form that may carry photos (multipart), after the checks above."""
    form = await _parse(request, files=True)
    try:
        yield form
    finally:
        await form.close()


async def _parse(request: Request, *, files: bool) -> FormData:
    check_origin(request)
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind not in (URLENCODED, MULTIPART) or (kind == MULTIPART and not files):
        raise BadInput("表单格式不正确。", "Malformed form.")
    limit = request.app.state.settings.max_body_mb * 2**20 if files else MAX_FORM_BYTES
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise _too_large(limit)
    request.scope["state"][BODY_LIMIT] = limit  # a chunked body is cut off at the same size
    try:
        form = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
    except BodyTooLarge:
        raise _too_large(limit) from None
    except HTTPException as exc:  # python-multipart refused the body
        text = form_refusal(str(exc.detail), MAX_FILES)
        raise BadInput(text.zh, text.en) from None
    value = form.get(FIELD)
    try:
        check(request, value if isinstance(value, str) else None)
    except Forbidden:
        await form.close()
        raise
    return form


def _too_large(limit: int) -> TooLarge:
    if limit >= 2**20:
        return TooLarge(
            f"上传内容太大（每次最多 {limit // 2**20} MB）。",
            f"The upload is too large (at most {limit // 2**20} MB at a time).",
        )
    return TooLarge(
        f"表单内容太长（最多 {limit // 1024} KB）。",
        f"The form is too long (at most {limit // 1024} KB).",
    )
