"""The overdue digest for leadership (weekly, and on demand), as text, HTML and PDF.

Delivery is the caller's: the returned subject, text body and file paths go to the channels.
With ``sent=True`` the digest is recorded, so the next one says what changed since this one;
pass it only when the digest really goes out.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from prefect import State, flow, task
from prefect.runtime import flow_run
from sqlalchemy import select

from flows.runs import every_school, outcome
from houqin import clock, delivery, messages
from houqin.db import make_engine, transaction, unit_of_work
from houqin.leadership import leaders_of_scope
from houqin.models import Person, School
from houqin.reports import output, overdue
from houqin.settings import get_settings


def _run_name() -> str:
    given = flow_run.parameters
    school, district = given.get("school"), given.get("district")
    scope = district or ("every school" if every_school(school) else school)
    return f"overdue digest · {scope}"


@flow(name="overdue-digest", log_prints=True, flow_run_name=_run_name)
def overdue_digest(
    school: str | None = None,
    district: str | None = None,
    sent: bool = False,
    lang: Literal["zh-CN", "en"] = "zh-CN",
    today: date | None = None,
    out_dir: str | None = None,
    deliver: bool = False,
) -> dict[str, Any] | State[Any]:
    """Build the digest of a school or a district; write HTML and PDF; return text and paths.

    With neither (or school "*", as older deployments say) each school gets its own digest, in
    a task named for the school: a school whose digest fails is named in the run's Failed
    state and the schools after it still get theirs. With ``deliver=True`` (the weekly
    deployment) it also goes to leadership — the school's 分管副校长 and 校长, or those of
    every school of the district — with the PDF attached.
    """
    settings = get_settings()
    if district is None and every_school(school):
        with transaction(settings) as session:
            codes = list(session.scalars(select(School.code).order_by(School.code)))
        results: dict[str, Any] = {}
        failures: dict[str, str] = {}
        for code in codes:
            try:
                results[code] = school_digest(code, sent, lang, today, out_dir, deliver)
            except Exception as exc:  # the task run is Failed with its traceback
                failures[code] = str(exc)
        return outcome(results, failures, "overdue digest")
    return _digest(school, district, sent, lang, today, out_dir, deliver)


@task(name="school-digest", task_run_name="{school}", retries=1, retry_delay_seconds=10)
def school_digest(
    school: str, sent: bool, lang: str, today: date | None, out_dir: str | None, deliver: bool
) -> dict[str, Any]:
    """One school's digest (a retry is safe: a message's key is per leader and day)."""
    return _digest(school, None, sent, lang, today, out_dir, deliver)


def _digest(
    school: str | None,
    district: str | None,
    sent: bool,
    lang: str,
    today: date | None,
    out_dir: str | None,
    deliver: bool,
) -> dict[str, Any]:
    settings = get_settings()
    now = clock.moment(today, "08:00", settings.timezone) if today else clock.now(settings.timezone)
    scope = overdue.scope_of(school=school, district=district)
    engine = make_engine(settings)
    try:
        with unit_of_work(engine) as session:
            digest = overdue.build(session, scope=scope, now=now, sent=sent)
    finally:
        engine.dispose()  # a flow run is short: leave no pooled connections behind
    subject, text = output.digest_text(digest, lang)
    folder = Path(out_dir) if out_dir else settings.data_dir / "reports"
    stem = f"overdue-{scope.replace(':', '-')}-{clock.as_local(now, digest.timezone):%Y%m%d}"
    html_path = output.write(digest, "html", folder / f"{stem}.html", lang)
    pdf_path = output.write(digest, "pdf", folder / f"{stem}.pdf", lang)
    print(f"{scope}: {digest.total} overdue, {digest.newly_count} new, sent={sent}")
    if deliver:
        queued = _deliver(
            settings, scope, subject, text, output.html(digest, lang), str(pdf_path), now
        )
        print(f"digest queued for {queued} leaders and delivered")
    return {
        "scope": scope,
        "subject": subject,
        "text": text,
        "html": output.html(digest, lang),
        "html_path": str(html_path),
        "pdf_path": str(pdf_path),
        "total": digest.total,
        "newly": digest.newly_count,
        "resolved": digest.resolved_count,
        "sent": sent,
    }


def _deliver(
    settings: Any, scope: str, subject: str, text: str, html: str, pdf: str, now: Any
) -> int:
    engine = make_engine(settings)
    try:
        with unit_of_work(engine) as session:
            leaders = leaders_of_scope(session, scope)
            for person in session.scalars(select(Person).where(Person.id.in_(leaders))):
                # a leader who cannot be reached gets a failed message in the outbox, and the
                # others (and the schools after this one) still get theirs
                messages.queue_message(
                    session,
                    person=person,
                    subject=subject,
                    text=text,
                    html=html,
                    key=f"digest:{scope}:{now:%Y-%m-%d}:{person.id}",
                    now=now,
                    attachments=(pdf,),
                )
        delivery.deliver(engine, now=now, settings=settings)
    finally:
        engine.dispose()
    return len(leaders)
