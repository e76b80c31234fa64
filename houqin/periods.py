"""Periods a plan runs for: a school year ``2026-2027`` or one of its terms ``2026-2027/2``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from houqin.errors import UserError

_PERIOD = re.compile(r"^(\d{4})-(\d{4})(?:/([12]))?$")
TERM_OF = {"autumn_term": 1, "spring_term": 2}


@dataclass(frozen=True)
class Period:
    school_year: str
    term: int | None = None

    def __str__(self) -> str:
        return self.school_year if self.term is None else f"{self.school_year}/{self.term}"


def parse_period(text: str, kind: str = "school_year") -> Period:
    """Parse ``text`` for a template whose ``period`` is ``kind``.

    A term template given a bare school year takes its own term (spring_term -> /2).
    """
    match = _PERIOD.match(text.strip())
    if not match or int(match[2]) != int(match[1]) + 1:
        raise UserError(
            f"period {text!r}: expected a school year such as 2026-2027, "
            "or a term such as 2026-2027/1 (autumn) or 2026-2027/2 (spring)"
        )
    school_year = f"{match[1]}-{match[2]}"
    term = int(match[3]) if match[3] else None
    if kind == "school_year":
        if term is not None:
            raise UserError(f"period {text!r}: this plan runs for a whole school year, not a term")
        return Period(school_year)
    wanted = TERM_OF[kind]
    if term is not None and term != wanted:
        raise UserError(f"period {text!r}: this plan is for term {wanted} ({kind})")
    return Period(school_year, wanted)
