"""Why a request is refused: the error types routes raise, each with a message in both languages.

Kept apart from the handlers that render them (``error_pages``), as datasette keeps its
exceptions apart from ``handle_exception``: forms, CSRF and permissions raise these without
importing the page renderer.
"""

from __future__ import annotations

from houqin.bilingual import Bilingual


class WebError(Exception):
    """A refusal with a status and a message in both languages."""

    status = 400

    def __init__(
        self, zh: str, en: str | None = None, *, status: int | None = None, back: str | None = None
    ):
        self.text = Bilingual(zh, en)
        self.back = back
        super().__init__(self.text.both())
        if status is not None:
            self.status = status


class Forbidden(WebError):
    status = 403

    def __init__(
        self,
        zh: str = "您没有权限查看或修改此内容。",
        en: str = "You are not allowed to see or change this.",
    ):
        super().__init__(zh, en)


class BadInput(WebError):
    status = 400


class FormRejected(BadInput):
    """A form that cannot be accepted as filled in: the page shows it again with what the
    person typed and chose (``values``), the message beside ``field``."""

    def __init__(self, text: Bilingual, *, field: str | None, values: dict[str, object]) -> None:
        super().__init__(text.zh, text.en)
        self.field = field
        self.values = values


class TooLarge(WebError):
    status = 413


class Throttled(WebError):
    status = 429


class LoginRequired(Exception):
    """No valid session: go to the login page and come back."""
