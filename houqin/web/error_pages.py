"""What a refused request looks like: a page with a clear message, in the reader's language.

Routes raise (``houqin.web.errors`` and the core's ``UserError``); the handlers here render.
Because the per-request unit of work (``deps.db``) sees the exception first and rolls back, a
refused request never changes anything.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from houqin.bilingual import Bilingual
from houqin.errors import NotFound, UserError
from houqin.web.catalogue import explain
from houqin.web.errors import LoginRequired, WebError
from houqin.web.render import render


def _page(request: Request, status: int, message: Bilingual, back: str | None = None) -> Response:
    return render(
        request, "error.html.j2", status_code=status, code=status, message=message, back=back
    )


def install(app: FastAPI) -> None:
    async def web_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WebError)
        return _page(request, exc.status, exc.text, exc.back)

    async def login_required(request: Request, exc: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = "/"
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    async def user_error(request: Request, exc: Exception) -> Response:
        # Errors of the ledger core (an item changed under us, a missing dependency, ...)
        assert isinstance(exc, UserError)
        return _page(request, 404 if isinstance(exc, NotFound) else 400, explain(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return _page(request, 404, Bilingual("找不到该页面。", "Page not found."))
        if exc.status_code == 405:
            return _page(request, 405, Bilingual("不支持此操作。", "Method not allowed."))
        message = Bilingual("请求无效，未做任何更改。", f"Bad request: {exc.detail}")
        return _page(request, exc.status_code, message)

    async def invalid(request: Request, exc: Exception) -> Response:
        message = Bilingual(
            "请求格式不正确（地址或表单有误）。",
            "Malformed request (the address or the form is not valid).",
        )
        return _page(request, 400, message)

    app.add_exception_handler(WebError, web_error)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(UserError, user_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
