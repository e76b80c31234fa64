"""Logging in and out, and the home page that sends each role where it works."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from houqin.accounts import authenticate, end_sessions
from houqin.bilingual import Bilingual
from houqin.web import auth, forms
from houqin.web.csrf import checked_form
from houqin.web.deps import DB, Now, User, current_viewer
from houqin.web.errors import Throttled
from houqin.web.permissions import Viewer
from houqin.web.render import render

router = APIRouter()
SESSION_ENDED = Bilingual(
    "您的登录已结束（已在某处退出、更改了密码或账号已停用），请重新登录。",
    "Your session has ended (logged out somewhere, a new password, or the account was "
    "disabled). Please log in again.",
)
HOME = {
    "staff": "/my",
    "supervisor": "/my",
    "logistics_head": "/head",
    "leadership": "/review",
    "district": "/review",
}


def _safe_next(target: str | None) -> str | None:
    """Only paths of this site: never an open redirect to another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("/")
def home(viewer: User) -> Response:
    return RedirectResponse(HOME.get(viewer.role, "/my"), status_code=303)


@router.get("/login")
def login_page(
    request: Request,
    viewer: Annotated[Viewer | None, Depends(current_viewer)],
    next: str | None = None,
) -> Response:
    if viewer is not None:
        return RedirectResponse(_safe_next(next) or HOME[viewer.role], status_code=303)
    ended = request.cookies.get(auth.COOKIE) is not None  # a cookie, but no session any more
    page = render(
        request,
        "login.html.j2",
        next=_safe_next(next) or "",
        error=None,
        username="",
        notice=SESSION_ENDED if ended else None,
    )
    if ended:
        page.headers.append("set-cookie", auth.logout_cookie(request))
    return page


@router.post("/login")
def login(
    request: Request, form: Annotated[FormData, Depends(checked_form)], session: DB, now: Now
) -> Response:
    username = (
        forms.text(
            form, "username", required=True, max_len=100, label=Bilingual("用户名", "Username")
        )
        or ""
    )
    password = (
        forms.text(
            form, "password", required=True, max_len=1000, label=Bilingual("密码", "Password")
        )
        or ""
    )
    target = _safe_next(forms.text(form, "next", max_len=500))
    address = auth.client_address(request)
    if auth.throttled(session, username, address, now):
        raise Throttled(
            f"登录失败次数过多，请 {auth.WINDOW.seconds // 60} 分钟后再试。",
            f"Too many failed logins; try again in {auth.WINDOW.seconds // 60} minutes.",
        )
    account = authenticate(session, username, password, hasher=request.app.state.hasher)
    auth.record_attempt(
        session,
        username,
        address,
        now,
        ok=account is not None,
        school_id=account.school_id if account else None,
    )
    if account is None:
        return render(
            request,
            "login.html.j2",
            status_code=401,
            next=target or "",
            username=username,
            error=("用户名或密码不正确。", "Wrong username or password."),
            notice=None,
        )
    response = RedirectResponse(target or HOME[account.role], status_code=303)
    response.headers.append("set-cookie", auth.session_cookie(request, account))
    return response


@router.post("/logout")
def logout(
    request: Request, form: Annotated[FormData, Depends(checked_form)], session: DB, now: Now
) -> Response:
    """Ends every session of the account, not only this browser's: a copied cookie too."""
    account = auth.valid_account(session, auth.read_session(request))
    if account is not None:
        end_sessions(
            session, account, now=now, actor=account.username, ip=auth.client_address(request)
        )
    response = RedirectResponse("/login", status_code=303)
    response.headers.append("set-cookie", auth.logout_cookie(request))
    return response
