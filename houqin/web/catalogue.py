"""The one catalogue of the messages pages show for the ledger core's refusals, in both languages.

The core (periods, launch, reports, items) words its errors in English for the command line;
a page in zh-CN must never show them. Each entry here matches one core message and gives its
Chinese and English wording for a person at a form; a message the catalogue does not know
is shown in Chinese as "not done, nothing changed" (the English detail on English pages).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from houqin.bilingual import Bilingual
from houqin.errors import NotFound, UserError, ValidationFailed

TERMS = {"1": Bilingual("秋季学期", "autumn term"), "2": Bilingual("春季学期", "spring term")}
_Entry = tuple[re.Pattern[str], Callable[[re.Match[str]], Bilingual]]


def _entry(pattern: str, make: Callable[[re.Match[str]], Bilingual]) -> _Entry:
    return re.compile(pattern), make


CATALOGUE: list[_Entry] = [
    _entry(
        r"period '(.*)': expected a school year such as",
        lambda m: Bilingual(
            f"期间「{m[1]}」的写法不对：请写学年，如 2026-2027，"
            "或学期，如 2026-2027/1（秋季）、2026-2027/2（春季）。",
            f"Period '{m[1]}' is not valid: write a school year such as 2026-2027, or a term "
            "such as 2026-2027/1 (autumn) or 2026-2027/2 (spring).",
        ),
    ),
    _entry(
        r"period '(.*)': this plan runs for a whole school year",
        lambda m: Bilingual(
            f"期间「{m[1]}」：此计划按整个学年执行，请只写学年，如 2026-2027。",
            f"Period '{m[1]}': this plan runs for a whole school year; write one such as "
            "2026-2027.",
        ),
    ),
    _entry(
        r"period '(.*)': this plan is for term (\d)",
        lambda m: Bilingual(
            f"期间「{m[1]}」：此计划属于{TERMS[m[2]].zh}，请写 …/{m[2]}，如 2026-2027/{m[2]}。",
            f"Period '{m[1]}': this plan is for the {TERMS[m[2]].en}; write …/{m[2]}, such as "
            f"2026-2027/{m[2]}.",
        ),
    ),
    _entry(
        r"period '(.*)': expected a quarter such as",
        lambda m: Bilingual(
            f"期间「{m[1]}」的写法不对：请写季度，如 2027Q1，学期，如 2026-2027/1，"
            "或学年，如 2026-2027。",
            f"Period '{m[1]}' is not valid: write a quarter such as 2027Q1, a term such as "
            "2026-2027/1, or a school year such as 2026-2027.",
        ),
    ),
    _entry(
        r"school '(.*)' has no one bound to (\S+) \((.*?)\); ",
        lambda m: Bilingual(
            f"本校还没有人担任「{m[3]}」：请先在「人员与角色」页指定，再启动。未启动任何计划。",
            f"No one at this school holds the role “{m[3]}”: bind it on the People page "
            "first. Nothing was launched.",
        ),
    ),
    _entry(
        r"item \d+ was changed by someone else just now",
        lambda m: Bilingual(
            "此事项刚被其他人修改，未做任何更改。请刷新后再看。",
            "Someone else changed this item just now; nothing was changed. Reload and look again.",
        ),
    ),
    _entry(
        r"no standard '(.*)'",
        lambda m: Bilingual(
            f"没有名为「{m[1]}」的考核标准。", f"There is no assessment standard '{m[1]}'."
        ),
    ),
    _entry(
        r"(\S+) is a (\S+) value: (\S+) is outside",
        lambda m: Bilingual(
            f"分数 {m[3]} 超出了「{m[1]}」的取值范围。", f"{m[3]} is outside the range of {m[1]}."
        ),
    ),
]
NOT_DONE = Bilingual("未能完成，未做任何更改。", "Not done, nothing changed.")
NOT_FOUND = Bilingual("找不到该内容。", "Not found.")


def message(text: str) -> Bilingual:
    """The catalogue's wording of one core message; unknown: a plain Chinese refusal."""
    for pattern, make in CATALOGUE:
        found = pattern.search(text)
        if found:
            return make(found)
    return Bilingual(NOT_DONE.zh, f"{NOT_DONE.en[:-1]}: {text}" if NOT_DONE.en else text)


def explain(exc: UserError) -> Bilingual:
    """What a page says for a core refusal, in both languages."""
    if exc.text is not None:  # written in both languages where it was raised
        return exc.text
    if isinstance(exc, ValidationFailed) and exc.problems:
        parts = [message(p.message) for p in exc.problems]
        return Bilingual("".join(p.zh for p in parts), " ".join(p.label("en") for p in parts))
    if isinstance(exc, NotFound):
        return Bilingual(NOT_FOUND.zh, str(exc))
    return message(str(exc))


# python-multipart's refusals (Starlette's HTTPException details)
def form_refusal(detail: str, max_files: int) -> Bilingual:
    if detail.startswith("Too many files"):
        return Bilingual(
            f"照片太多：每次最多 {max_files} 张。未做任何更改，请少选几张再提交。",
            f"Too many photos: at most {max_files} at a time. Nothing was changed.",
        )
    if detail.startswith("Too many fields"):
        return Bilingual("表单字段太多。未做任何更改。", "The form has too many fields.")
    return Bilingual("表单格式不正确。未做任何更改。", f"Malformed form: {detail}")


REPORT_FORMAT = Bilingual(
    "没有这种报表格式：可选 html、pdf、xlsx。", "No such report format: html, pdf or xlsx."
)
