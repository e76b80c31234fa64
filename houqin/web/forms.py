"""Reading fields from a posted form, with messages a person can act on.

Routes take the form from ``csrf.checked_form`` and read it here rather than through FastAPI's
``Form()`` parameters, whose failures are JSON for machines, not pages for people.
"""

from __future__ import annotations

import math

from starlette.datastructures import FormData, UploadFile

from houqin.bilingual import Bilingual
from houqin.web.errors import BadInput


def text(
    form: FormData,
    name: str,
    *,
    required: bool = False,
    max_len: int = 2000,
    label: Bilingual | None = None,
) -> str | None:
    value = form.get(name)
    if value is not None and not isinstance(value, str):
        raise BadInput(f"表单字段 {name} 格式不正确。", f"Form field {name} is malformed.")
    value = (value or "").strip()
    zh, en = (label.zh, label.label("en")) if label else (name, name)
    if not value:
        if required:
            raise BadInput(f"请填写：{zh}。", f"Please fill in: {en}.")
        return None
    if len(value) > max_len:
        raise BadInput(f"{zh}太长（最多 {max_len} 字）。", f"{en} is too long (max {max_len}).")
    return value


def integer(form: FormData, name: str, *, required: bool = True) -> int | None:
    value = text(form, name, required=required, max_len=12)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise BadInput(f"{name} 应为整数。", f"{name} must be a whole number.") from None


def number(form: FormData, name: str, *, label: Bilingual) -> float | None:
    value = text(form, name, max_len=30, label=label)
    if value is None:
        return None
    try:
        result = float(value.replace(",", ""))
    except ValueError:
        result = math.nan
    if not math.isfinite(result):
        en = label.label("en")
        raise BadInput(
            f"「{value}」不是数字：请填写数字，例如 12。",
            f"{en} must be a number, e.g. 12 (not “{value}”).",
        )
    return result


def files(form: FormData, name: str) -> list[UploadFile]:
    """Uploaded files of a field; an empty file input sends one nameless part, ignored."""
    found = []
    for value in form.getlist(name):
        if isinstance(value, str):
            if value:
                raise BadInput("照片应以文件形式上传。", "Photos must be uploaded as files.")
            continue
        if value.filename or (value.size or 0) > 0:
            found.append(value)
    return found


def ints(form: FormData, name: str) -> list[int]:
    out = []
    for value in form.getlist(name):
        if not isinstance(value, str) or not value.isdigit() or len(value) > 6:
            raise BadInput(f"表单字段 {name} 格式不正确。", f"Form field {name} is malformed.")
        out.append(int(value))
    return out
