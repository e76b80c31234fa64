"""Errors a user can act on: each names the file, line and field, or the thing not found."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from houqin.bilingual import Bilingual


class UserError(Exception):
    """A problem with the user's input; the CLI prints it on one line and exits 2.

    Raised with a ``Bilingual`` message (a reminder link's refusal, read on a phone in either
    language), it keeps it as ``text`` for the web page; otherwise ``text`` is None.
    """

    def __init__(self, message: str | Bilingual = "") -> None:
        self.text = message if isinstance(message, Bilingual) else None
        super().__init__(str(message))


class SetupError(UserError):
    """The installation, not the command's input, is wrong (a ledger at another schema, a
    missing font or calendar file): the CLI prints it on one line and exits 1."""


class NotFound(UserError):
    """A school, person, plan, item or calendar that the input names does not exist."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, located as precisely as the input allows."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ValidationFailed(UserError):
    """Input rejected as a whole: nothing of it was stored. Lists every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
