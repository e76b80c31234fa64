"""Reports as Excel workbooks: Chinese headers, real dates, frozen header rows, filters.

Overdue rows get a static fill computed from the report's date, because a ``TODAY()`` rule is
evaluated only by Excel (not by LibreOffice previews, mail viewers or openpyxl); a conditional
rule is added as well so the sheet stays right when opened later in Excel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from houqin.clock import as_local

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
HEADER_FILL = PatternFill("solid", fgColor="DCE6F0")
OVERDUE_FILL = PatternFill("solid", fgColor="FDE2E1")
BOLD = Font(bold=True)


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def table(
    wb: Workbook,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    widths: Sequence[int] | None = None,
    overdue: Iterable[bool] | None = None,
    live_overdue: tuple[str, str, str] | None = None,
) -> Worksheet:
    """A sheet with a header row, frozen below it, with a filter over all columns.

    ``overdue`` marks rows to fill now; ``live_overdue`` = (status column, due column, open
    status text) adds the Excel rule ``status = open AND due < TODAY()``.
    """
    ws = wb.create_sheet(title)
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font, cell.fill = BOLD, HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    marks = iter(overdue) if overdue is not None else None
    for row in rows:
        ws.append([_cell(v) for v in row])
        for cell, value in zip(ws[ws.max_row], row, strict=False):
            if isinstance(value, datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(value, date):
                cell.number_format = DATE_FORMAT
        if marks is not None and next(marks, False):
            for cell in ws[ws.max_row]:
                cell.fill = OVERDUE_FILL
    last = get_column_letter(len(headers))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{last}{max(ws.max_row, 2)}"
    for i, width in enumerate(widths or [14] * len(headers), 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    if live_overdue is not None and ws.max_row > 1:
        status_col, due_col, open_text = live_overdue
        ws.conditional_formatting.add(
            f"A2:{last}{ws.max_row}",
            FormulaRule(
                formula=[f'AND(${status_col}2="{open_text}",${due_col}2<TODAY())'],
                fill=OVERDUE_FILL,
            ),
        )
    return ws


def key_values(wb: Workbook, title: str, pairs: Iterable[tuple[str, Any]]) -> Worksheet:
    """A two-column sheet of labelled values (report heading, totals)."""
    ws = wb.create_sheet(title)
    for label, value in pairs:
        ws.append([label, _cell(value)])
        ws.cell(ws.max_row, 1).font = BOLD
        if isinstance(value, date) and not isinstance(value, datetime):
            ws.cell(ws.max_row, 2).number_format = DATE_FORMAT
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 40
    return ws


def local_date(instant: datetime | None, tz: str) -> date | None:
    """The local calendar date of an instant: what a 截止日期 column shows."""
    return None if instant is None else as_local(instant, tz).date()


def save(wb: Workbook, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def _cell(value: Any) -> Any:
    # openpyxl refuses aware datetimes; callers pass local dates or naive local times.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value
