"""Opening a file a user wrote (a plan, a standard, a calendar, a roster) as text.

Files come from Windows PCs as often as from editors: Chinese Excel saves CSV as GBK, Notepad
adds a BOM to UTF-8. So a file is read as UTF-8 (with or without BOM), else as GB18030 (which
contains GBK); anything else is refused with the file, the line of the first byte that is not
text in those encodings, and what to do about it. Every reading problem is a ``Problem``, so a
loader reports it beside the file's other problems.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from houqin.errors import Problem, ValidationFailed

ENCODINGS = "UTF-8 (with or without BOM), GBK or GB18030"
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
# What no GBK text holds, but a file in another encoding read as GB18030 often does: control
# characters and the private-use area (GBK's user-defined code points).
_NOT_TEXT = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff]")
_SAVE_AS = 'save it as UTF-8 (in Excel: "CSV UTF-8"; in Notepad: "UTF-8")'


def read_text(path: Path, shown: str | None = None) -> str:
    """The text of ``path``; raises ValidationFailed naming ``shown`` (default: the path)."""
    shown = str(path) if shown is None else shown
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ValidationFailed([Problem(shown, None, "", f"cannot read: {exc.strerror}")]) from None
    return decode(data, shown)


def decode(data: bytes, shown: str) -> str:
    """``data`` as text in one of ENCODINGS, or ValidationFailed with the line where it is not."""
    for wide_bom, name in _WIDE_BOMS:
        if data.startswith(wide_bom):
            message = f"the file is saved as {name}, which Houqin does not read; {_SAVE_AS}"
            raise ValidationFailed([Problem(shown, 1, "", message)])
    if b"\x00" in data:  # valid UTF-8 and GB18030 both, but never in a text file
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        message = f"the file holds NUL bytes, so it is not {ENCODINGS} text; {_SAVE_AS}"
        raise ValidationFailed([Problem(shown, line, "", message)])
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        first_bad = bom + exc.start
    if not bom:  # a UTF-8 BOM says what the file meant to be: no second guess
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            pass
        else:
            if not _NOT_TEXT.search(text):
                return text
    line = data[:first_bad].count(b"\n") + 1
    message = (
        f"the file's encoding is not {ENCODINGS} (byte 0x{data[first_bad]:02x} is not text in "
        f"them); {_SAVE_AS}"
    )
    raise ValidationFailed([Problem(shown, line, "", message)])
