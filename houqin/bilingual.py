"""Text in zh-CN and English, and the one rule for choosing between them.

zh-CN is Houqin's first language: every text has its Chinese form, the English one may be
missing (a school's own plan often has none). The rule, written only here: a language starting
with ``zh`` gets the Chinese text; any other gets the English text, or the Chinese one when there
is no English text.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGS = ("zh-CN", "en")
DEFAULT_LANG = "zh-CN"


def is_zh(lang: str) -> bool:
    return lang.lower().startswith("zh")


def pick(zh: str, en: str | None, lang: str) -> str:
    """``zh`` for a Chinese reader; ``en`` for anyone else, falling back to ``zh`` if missing."""
    return zh if is_zh(lang) or not en else en


@dataclass(frozen=True)
class Bilingual:
    """A text in both languages; ``en`` may be missing, and then English readers see ``zh``."""

    zh: str
    en: str | None = None

    def label(self, lang: str = DEFAULT_LANG) -> str:
        return pick(self.zh, self.en, lang)

    def both(self) -> str:
        """Both texts on one line, Chinese first, for a reader whose language is not known."""
        return self.zh if not self.en or self.en == self.zh else f"{self.zh} / {self.en}"

    def to_dict(self) -> dict[str, str]:
        """The form a YAML file writes: ``{zh-CN: ..., en: ...}`` (no ``en`` if missing)."""
        return {"zh-CN": self.zh} if self.en is None else {"zh-CN": self.zh, "en": self.en}

    def __str__(self) -> str:
        return self.both()
