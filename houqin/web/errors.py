"""What a refused request looks like: a page with a clear message, in the reader's language.

Routes raise; the handlers here render. Because the per-request unit of work (``deps.db``) sees
the exception first and rolls back, a refused request never changes anything.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from houqin.errors import NotFound, UserError
from houqin.links import LinkError


class WebError(Exception):
    """A refusal with a status and a message in both languages."""

    status = 400

    def __init__(
        self, zh: str, en: str | None = None, *, status: int | None = None, back: str | None = None
    ):
        super().__init__(en or zh)
        self.zh, self.en, self.back = zh, en or zh, back
        if status is not None:
            self.status = status


class Forbidden(WebError):
    status = 403

    def __init__(
        self,
        zh: str = "您没有权限查看或修改此内容。",
        en: str = "You are not allowed to see or change this.",
    ):
        super().__init__(zh, en)


class BadInput(WebError):
    status = 400


class TooLarge(WebError):
    status = 413


class Throttled(WebError):
    status = 429


class LoginRequired(Exception):
    """No valid session: go to the login page and come back."""


def _page(request: Request, status: int, zh: str, en: str, back: str | None = None) -> Response:
    from houqin.web.render import render

    return render(
        request, "error.html.j2", status_code=status, code=status, zh=zh, en=en, back=back
    )


def install(app: FastAPI) -> None:
    async def web_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WebError)
        return _page(request, exc.status, exc.zh, exc.en, exc.back)

    async def login_required(request: Request, exc: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = "/"
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    async def user_error(request: Request, exc: Exception) -> Response:
        # Errors of the ledger core (an item changed under us, a missing dependency, ...)
        if isinstance(exc, LinkError):  # "english / 中文"
            en, _, zh = str(exc).partition(" / ")
            return _page(request, 400, zh or en, en)
        if isinstance(exc, NotFound):
            return _page(request, 404, "找不到该内容。", str(exc))
        return _page(
            request, 400, f"未能完成，未做任何更改：{exc}", f"Not done, nothing changed: {exc}"
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return _page(request, 404, "找不到该页面。", "Page not found.")
        if exc.status_code == 405:
            return _page(request, 405, "不支持此操作。", "Method not allowed.")
        return _page(
            request, exc.status_code, f"请求无效：{exc.detail}", f"Bad request: {exc.detail}"
        )

    async def invalid(request: Request, exc: Exception) -> Response:
        return _page(
            request,
            400,
            "请求格式不正确（地址或表单有误）。",
            "Malformed request (the address or the form is not valid).",
        )

    app.add_exception_handler(WebError, web_error)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(UserError, user_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
