"""The completion report of one plan run: how the work went, item by item and in total.

Items are read in one streamed pass (``yield_per``: a server-side cursor on PostgreSQL) and
counted as they arrive; evidence and audit rows are streamed the same way. Only the run's own
rows are kept, for the item table of the spreadsheet.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from houqin.errors import NotFound
from houqin.models import AuditEvent, Evidence, Item, Person, PlanRun, PlanTemplateVersion, School
from houqin.reports.lateness import bucket, days_late, empty_buckets

YIELD_PER = 500
STATUS_KEYS = ("done_on_time", "done_late", "open_overdue", "open", "waived")
THUMBNAIL_PX = 160


@dataclass
class Tally:
    """Items by outcome: done on time, done late, open past due, open not yet due, waived."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUS_KEYS, 0))

    def add(self, status: str) -> None:
        self.counts[status] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def on_time_rate(self) -> float | None:
        """Done on time as a percentage of the items that were not waived."""
        counted = self.total - self.counts["waived"]
        return round(100 * self.counts["done_on_time"] / counted, 1) if counted else None


@dataclass(frozen=True)
class ItemRow:
    id: int
    phase: str
    title: str
    owner: str
    due_at: datetime
    completed_at: datetime | None
    status: str  # one of STATUS_KEYS
    days_late: int  # done: how late it was done; open: how long it has been overdue
    waive_reason: str | None


@dataclass(frozen=True)
class EvidenceRow:
    item_id: int
    item_title: str
    kind: str  # note | number | photo
    text: str  # the note, the number, or the photo's file name
    actor: str
    at: datetime
    thumbnail: str | None = None  # data: URI of a small JPEG, when the photo file exists


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor: str
    action: str  # item.waive | item.reassign
    item_id: int | None
    item_title: str
    details: dict[str, str | None]


@dataclass
class CompletionReport:
    run_id: int
    plan_key: str
    plan_title: str
    period: str
    school_code: str
    school_name: str
    timezone: str
    now: datetime
    totals: Tally = field(default_factory=Tally)
    by_phase: dict[str, Tally] = field(default_factory=dict)  # in plan order
    by_owner: dict[str, Tally] = field(default_factory=dict)
    lateness: dict[str, int] = field(default_factory=empty_buckets)  # done items
    overdue_age: dict[str, int] = field(default_factory=lambda: empty_buckets(False))
    rows: list[ItemRow] = field(default_factory=list)
    evidence: list[EvidenceRow] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)


def classify(status: str, late: bool | None, due_at: datetime, now: datetime) -> str:
    if status == "done":
        return "done_late" if late else "done_on_time"
    if status == "waived":
        return "waived"
    return "open_overdue" if due_at < now else "open"


def build(
    session: Session, *, run_id: int, now: datetime, photo_root: Path | None = None
) -> CompletionReport:
    """The report of plan run ``run_id`` as of ``now``; photos are looked up under photo_root."""
    head = session.execute(
        select(
            PlanRun.template_key,
            PlanRun.period,
            PlanTemplateVersion.title_zh,
            School.code,
            School.name,
            School.timezone,
        )
        .join(PlanTemplateVersion, PlanTemplateVersion.id == PlanRun.template_id)
        .join(School, School.id == PlanRun.school_id)
        .where(PlanRun.id == run_id)
    ).one_or_none()
    if head is None:
        raise NotFound(f"no plan run {run_id}")
    report = CompletionReport(run_id, head[0], head[2], head[1], head[3], head[4], head[5], now)
    titles = _count_items(session, report)
    report.evidence = list(_evidence(session, run_id, titles, photo_root))
    report.audit = list(_audit(session, run_id, titles))
    return report


def _count_items(session: Session, report: CompletionReport) -> dict[int, str]:
    stmt = (
        select(
            Item.id,
            Item.phase_zh,
            Item.title_zh,
            Person.name,
            Item.due_at,
            Item.completed_at,
            Item.status,
            Item.late,
            Item.waive_reason,
        )
        .join(Person, Person.id == Item.owner_id)
        .where(Item.run_id == report.run_id)
        .order_by(Item.position, Item.id)
        .execution_options(yield_per=YIELD_PER)
    )
    titles: dict[int, str] = {}
    for item_id, phase, title, owner, due_at, done_at, status, late, reason in session.execute(
        stmt
    ):
        key = classify(status, late, due_at, report.now)
        for tally in (
            report.totals,
            report.by_phase.setdefault(phase, Tally()),
            report.by_owner.setdefault(owner, Tally()),
        ):
            tally.add(key)
        days = 0
        if key.startswith("done"):
            days = days_late(due_at, done_at or due_at)
            report.lateness[bucket(days)] += 1
        elif key == "open_overdue":
            days = days_late(due_at, report.now)
            report.overdue_age[bucket(days)] += 1
        titles[item_id] = title
        report.rows.append(
            ItemRow(item_id, phase, title, owner, due_at, done_at, key, days, reason)
        )
    return titles


def _evidence(
    session: Session, run_id: int, titles: dict[int, str], photo_root: Path | None
) -> list[EvidenceRow]:
    stmt = (
        select(Evidence)
        .join(Item, Item.id == Evidence.item_id)
        .where(Item.run_id == run_id)
        .order_by(Item.position, Evidence.id)
        .execution_options(yield_per=YIELD_PER)
    )
    rows = []
    for ev in session.scalars(stmt):
        if ev.kind == "photo" and ev.path:
            text, thumb = Path(ev.path).name, thumbnail(ev.path, photo_root)
        elif ev.kind == "number":
            text, thumb = f"{ev.number:g}" if ev.number is not None else "", None
        else:
            text, thumb = ev.note or "", None
        rows.append(
            EvidenceRow(
                ev.item_id,
                titles.get(ev.item_id, ""),
                ev.kind,
                text,
                ev.actor,
                ev.created_at,
                thumb,
            )
        )
    return rows


def _audit(session: Session, run_id: int, titles: dict[int, str]) -> list[AuditRow]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.run_id == run_id, AuditEvent.action.in_(("item.waive", "item.reassign")))
        .order_by(AuditEvent.at, AuditEvent.id)
        .execution_options(yield_per=YIELD_PER)
    )
    return [
        AuditRow(
            ev.at,
            ev.actor,
            ev.action,
            ev.item_id,
            titles.get(ev.item_id or 0, ""),
            {k: ev.details.get(k) for k in ("from", "to", "reason")},
        )
        for ev in session.scalars(stmt)
    ]


def thumbnail(path: str, root: Path | None = None) -> str | None:
    """A small JPEG of the photo as a data: URI, or None when the file is missing or no image."""
    candidates = (
        [Path(path)]
        if Path(path).is_absolute()
        else [*([root / path] if root is not None else []), Path(path)]
    )
    for candidate in candidates:
        if not candidate.is_file():
            continue
        try:
            with Image.open(candidate) as img:
                img.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
                buf = io.BytesIO()
                img.convert("RGB").save(buf, "JPEG", quality=80)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):  # a broken file
            return None
        return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    return None
