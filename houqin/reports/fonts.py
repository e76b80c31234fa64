"""The CJK font reports need, found through fontconfig whatever matplotlib has cached.

WeasyPrint (PDF) asks fontconfig itself; matplotlib (charts) builds its own font list once and
caches it, never looking again. A first run before fonts-noto-cjk was installed (`make demo`
before `make test` on a fresh machine, a school installing fonts later) left a list without
CJK fonts and every chart drew boxes for Chinese. So the font's files are asked of fontconfig
and given to matplotlib each time, and when there is no such font both stop with one message
naming the Debian package, instead of boxes (matplotlib) or a crash (Pango, with no fonts).
"""

from __future__ import annotations

import functools
import shutil
import subprocess

from houqin.errors import SetupError

FONT = "Noto Sans CJK SC"
PACKAGE = "fonts-noto-cjk"


@functools.cache
def cjk_font_files() -> tuple[str, ...]:
    """The files fontconfig names for the CJK font; SetupError if it names none."""
    files: set[str] = set()
    fc_list = shutil.which("fc-list")
    if fc_list is not None:
        found = subprocess.run(
            [fc_list, "--format", "%{file}\\n", FONT],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        files = {line for line in found.stdout.splitlines() if line}
    if not files:
        raise SetupError(
            f"no {FONT} font is installed, so reports would show boxes instead of Chinese: "
            f"install Debian's {PACKAGE} (apt-get install {PACKAGE})"
        )
    return tuple(sorted(files))


@functools.cache
def matplotlib_cjk_font() -> str:
    """The CJK font's family, registered with matplotlib if its cached font list lacks it."""
    from matplotlib import font_manager  # deliberate: matplotlib is loaded only to draw charts

    files = cjk_font_files()
    if not any(f.name == FONT for f in font_manager.fontManager.ttflist):
        for path in files:
            font_manager.fontManager.addfont(path)
    return FONT
