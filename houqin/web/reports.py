"""The same reports as ``houqin report``, as downloads: completion, overdue digest, assessment."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from houqin.models import PlanRun, School
from houqin.reports import assessment, completion, output, overdue
from houqin.standards import get_standard, standard_for
from houqin.web.catalogue import REPORT_FORMAT
from houqin.web.deps import DB, Now, User
from houqin.web.errors import WebError
from houqin.web.permissions import can_read_run, require, school_ids

router = APIRouter()
TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _download(report: output.Report, fmt: str, name: str, lang: str) -> Response:
    if fmt not in TYPES:
        raise WebError(REPORT_FORMAT.zh, REPORT_FORMAT.en, status=404)
    if fmt == "html":
        return Response(output.html(report, lang), media_type=TYPES["html"])
    with tempfile.TemporaryDirectory() as tmp:
        path = output.write(report, fmt, Path(tmp) / f"{name}.{fmt}", lang)
        body = path.read_bytes()
    disposition = f'attachment; filename="{name}.{fmt}"'
    return Response(body, media_type=TYPES[fmt], headers={"Content-Disposition": disposition})


@router.get("/runs/{run_id}/report.{fmt}")
def completion_report(
    request: Request, run_id: int, fmt: str, viewer: User, session: DB, now: Now
) -> Response:
    run = session.get(PlanRun, run_id)
    require(run is not None and can_read_run(session, viewer, run))
    settings = request.app.state.settings
    built = completion.build(session, run_id=run_id, now=now, photo_root=settings.data_dir)
    return _download(built, fmt, f"completion-{run_id}", request.state.lang)


@router.get("/review/digest.{fmt}")
def digest_report(request: Request, fmt: str, viewer: User, session: DB, now: Now) -> Response:
    """The overdue digest of the viewer's school, or of their district (a preview: not 'sent')."""
    require(bool(school_ids(session, viewer)))
    if viewer.role == "district":
        scope = overdue.scope_of(district=viewer.district)
    else:
        code = session.scalar(select(School.code).where(School.id == viewer.school_id))
        scope = overdue.scope_of(school=code)
    built = overdue.build(session, scope=scope, now=now, sent=False)
    return _download(built, fmt, f"overdue-{scope.replace(':', '-')}", request.state.lang)


@router.get("/review/assessment.{fmt}")
def assessment_report(
    request: Request,
    fmt: str,
    viewer: User,
    session: DB,
    now: Now,
    period: str,
    school: str | None = None,
    standard: str | None = None,  # default: the standard for the school's kind
) -> Response:
    """A school's assessment for a quarter (2027Q1) or a term (2026-2027/1)."""
    ids = school_ids(session, viewer)
    stmt = select(School).where(School.id.in_(ids))
    if school:
        stmt = stmt.where(School.code == school)
    target = session.scalars(stmt.order_by(School.code)).first()
    require(target is not None)
    assert target is not None
    if fmt not in TYPES:  # before the work, not after it
        raise WebError(REPORT_FORMAT.zh, REPORT_FORMAT.en, status=404)
    # a refusal (a period written wrong, say) is a page in the reader's language (catalogue)
    chosen = get_standard(standard) if standard else standard_for(target)
    result = assessment.assess(session, standard=chosen, school=target, period=period, now=now)
    return _download(
        result, fmt, f"assessment-{target.code}-{period.replace('/', '-')}", request.state.lang
    )
