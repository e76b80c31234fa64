"""The logistics head and the calendar: what moved, and the State Council notice pasted in.

``/replan`` lists the school's re-planned deadlines (``item.replanned`` events, newest first)
and how many open items the calendar files would move now. The notice form previews what
``houqin calendar notice --preview`` shows (the year's days off and make-up working days, the
days that differ from the files) and the school's items whose deadlines would move; confirming
writes the files as the command does and re-plans the school's open items at once (other
schools' follow with their next sweep, which notices the changed files). Logistics heads only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from calendars import CalendarBook
from calendars.entry import NoticeEntry, apply_notice, preview_notice
from calendars.notice import Notice, parse_notice
from houqin.bilingual import Bilingual
from houqin.errors import UserError, ValidationFailed
from houqin.replan import recent, replan
from houqin.web import forms
from houqin.web.csrf import checked_form
from houqin.web.deps import DB, Now, User
from houqin.web.errors import BadInput
from houqin.web.render import render
from houqin.web.shared import managed_school

router = APIRouter()
Form = Annotated[FormData, Depends(checked_form)]
MAX_NOTICE = 20_000  # characters: a notice is about a page


def _book(request: Request) -> CalendarBook:
    book: CalendarBook = request.app.state.sources.book()
    return book


@router.get("/replan")
def moved(request: Request, viewer: User, session: DB, now: Now) -> Response:
    school = managed_school(session, viewer)
    pending = replan(session, book=_book(request), now=now, school=school.code)
    rows = [
        {
            "at": event.at,
            "by": event.actor,
            "item": item,
            "old": datetime.fromisoformat(event.details["old"]),
            "new": datetime.fromisoformat(event.details["new"]),
            "old_provisional": event.details.get("old_provisional"),
            "new_provisional": event.details.get("new_provisional"),
            "cause": event.details.get("cause", []),
        }
        for event, item in recent(session, school_id=school.id)
    ]
    return render(request, "replan.html.j2", school=school, rows=rows, pending=pending)


def _notice(form: FormData) -> tuple[str, Notice]:
    text = forms.text(
        form,
        "notice",
        required=True,
        max_len=MAX_NOTICE,
        label=Bilingual("通知全文", "The notice's text"),
    )
    assert text is not None
    try:
        return text, parse_notice(text, "通知 / notice")
    except ValidationFailed as exc:
        lines = "; ".join(str(p) for p in exc.problems)
        raise BadInput(
            f"无法识别这份通知，未做任何更改：{lines}",
            f"This is not a notice Houqin can read; nothing was changed: {lines}",
            back="/replan",
        ) from None


@router.post("/replan/notice")
def notice_preview(request: Request, viewer: User, form: Form, session: DB, now: Now) -> Response:
    school = managed_school(session, viewer)
    text, notice = _notice(form)
    entry = _entered(_book(request), notice, write=False)
    after = entry.after if entry.after is not None else _book(request)
    moves = replan(session, book=after, now=now, school=school.code)
    return render(
        request,
        "notice_preview.html.j2",
        school=school,
        entry=entry,
        moves=moves,
        text=text,
    )


@router.post("/replan/notice/confirm")
def notice_confirm(request: Request, viewer: User, form: Form, session: DB, now: Now) -> Response:
    school = managed_school(session, viewer)
    _, notice = _notice(form)
    _entered(_book(request), notice, write=True)
    book = _book(request)  # read again: the file it wrote has a new stamp
    report = replan(session, book=book, now=now, school=school.code, apply=True, by=viewer.actor)
    counts = f"moved={len(report.moves)}&added={len(report.added)}"
    return RedirectResponse(f"/replan?entered={notice.year}&{counts}", 303)


def _entered(book: CalendarBook, notice: Notice, *, write: bool) -> NoticeEntry:
    try:
        return (apply_notice if write else preview_notice)(book, notice)
    except UserError as exc:  # a year chinese-calendar has, an adjustment before its year, ...
        raise BadInput(
            f"未录入，未做任何更改：{exc}", f"Not entered, nothing changed: {exc}", back="/replan"
        ) from None
