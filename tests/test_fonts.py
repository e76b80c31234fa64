"""Charts find the CJK font however old matplotlib's font cache is, or say what to install.

matplotlib builds its font list once and caches it: a first run before fonts-noto-cjk was
installed (`make demo` before `make test` on a fresh machine) left a list without CJK fonts,
and every chart then drew boxes for Chinese. These tests rebuild that situation in a private
MPLCONFIGDIR and run the chart and report paths in a fresh interpreter against it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from houqin.cli import main

ROOT = Path(__file__).resolve().parent.parent
NO_FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig></fontconfig>
"""


def stale_font_cache(tmp_path: Path) -> dict[str, str]:
    """An environment whose matplotlib font list was built as if no CJK font were installed."""
    config = tmp_path / "mplconfig"
    env = {**os.environ, "MPLCONFIGDIR": str(config)}
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, check=True)
    (cache,) = config.glob("fontlist-*.json")
    fonts = json.loads(cache.read_text(encoding="utf-8"))
    fonts["ttflist"] = [f for f in fonts["ttflist"] if "CJK" not in f["name"]]
    cache.write_text(json.dumps(fonts), encoding="utf-8")
    return env


def python(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_font_cache_built_before_the_cjk_fonts_still_draws_chinese(tmp_path: Path) -> None:
    env = stale_font_cache(tmp_path)
    done = python(
        env,
        "from matplotlib import font_manager\n"
        "from houqin.reports import charts, fonts\n"
        "assert not any(f.name == fonts.FONT for f in font_manager.fontManager.ttflist)\n"
        "svg = charts.stacked_hbars(['春季开学准备'], {'按时完成': [3]}, ['#4caf50'], '事项')\n"
        "assert '春季开学准备' in svg\n"
        "print('drawn')\n",
    )
    # -W error: matplotlib's "Glyph ... missing from font(s) DejaVu Sans" would fail it
    assert done.returncode == 0 and "drawn" in done.stdout, done.stderr[-2000:]


def test_the_report_tests_pass_against_a_font_cache_without_cjk_fonts(tmp_path: Path) -> None:
    env = stale_font_cache(tmp_path)
    chosen = [
        "tests/test_report_completion.py::test_pdf_text_has_the_chinese_figures_in_noto_sans_cjk",
        "tests/test_report_completion.py::test_html_shows_the_figures_escapes_user_text_and_inlines_the_chart",
        "tests/test_report_overdue.py::test_html_pdf_and_xlsx_show_the_digest",
        "tests/test_assessment.py::test_html_pdf_and_xlsx_show_each_kpi_so_the_arithmetic_can_be_checked",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-k", "sqlite", *chosen],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "4 passed" in done.stdout


def test_without_any_cjk_font_the_error_names_the_debian_package(tmp_path: Path) -> None:
    env = stale_font_cache(tmp_path)
    conf = tmp_path / "fonts.conf"
    conf.write_text(NO_FONTS_CONF, encoding="utf-8")
    env["FONTCONFIG_FILE"] = str(conf)  # fontconfig sees no fonts at all
    done = python(
        env,
        "from houqin.errors import SetupError\n"
        "from houqin.reports import charts, fonts\n"
        "try:\n"
        "    charts.grouped_bars(['一月'], {'逾期': [1]}, ['#e53935'], '项')\n"
        "except SetupError as e:\n"
        "    print(e)\n",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "fonts-noto-cjk" in done.stdout and "apt-get install" in done.stdout


def test_the_cli_says_in_one_line_what_to_install(tmp_path: Path, database_url: str) -> None:
    assert main(["people", "import", str(ROOT / "examples" / "demo-school.yaml")]) == 0
    env = stale_font_cache(tmp_path)
    conf = tmp_path / "fonts.conf"
    conf.write_text(NO_FONTS_CONF, encoding="utf-8")
    env["FONTCONFIG_FILE"] = str(conf)
    out = tmp_path / "overdue.pdf"
    args = ["report", "overdue", "--school", "demo", "--format", "pdf", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "houqin.cli", *args, "--today", "2027-06-08"],
        env={**env, "HOUQIN_DATABASE_URL": database_url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.strip().count("\n") == 0 and "fonts-noto-cjk" in done.stderr
    assert not out.exists()
