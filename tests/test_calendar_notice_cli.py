"""`houqin calendar notice FILE|- [--preview] [--json]` as a logistics head runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from calendars import load_book
from houqin.cli import main
from tests.test_calendar_entry import NOTICE_2027

ROOT = Path(__file__).resolve().parent.parent
NOTICES = ROOT / "tests" / "data" / "notices"


@pytest.fixture
def calendars(tmp_path: Path) -> Path:
    directory = tmp_path / "calendars"
    directory.mkdir()
    for path in (ROOT / "calendars").glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    return directory


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_preview_lists_the_year_and_the_days_that_change_and_writes_nothing(
    calendars: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notice = tmp_path / "2027.txt"
    notice.write_text(NOTICE_2027, encoding="utf-8")
    before = (calendars / "2026-2027.yaml").read_bytes()
    code, out, err = run(
        capsys, "calendar", "notice", str(notice), "--preview", "--dir", str(calendars)
    )
    assert code == 0, err
    assert "春节：放假 2027-02-05..2027-02-12（8 天）；上班 2027-01-31、2027-02-20" in out
    assert "2027-02-13 周六：上班 → 放假\n" in out  # a plain Saturday again
    assert "2027-02-20 周六：放假 → 上班（春节调休上班）" in out
    assert "nothing written" in out
    assert (calendars / "2026-2027.yaml").read_bytes() == before


def test_without_preview_the_notice_is_written_as_official(
    calendars: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notice = tmp_path / "2027.txt"
    notice.write_bytes(NOTICE_2027.encode("gb18030"))  # as Notepad saves it on a Chinese Windows
    code, out, err = run(capsys, "calendar", "notice", str(notice), "--dir", str(calendars))
    assert code == 0, err
    assert f"written: {calendars / '2026-2027.yaml'}" in out
    held = load_book(calendars).arrangement(2027)
    assert held is not None and held.status == "official" and "国办发明电〔2026〕9号" in held.source


def test_preview_json_from_standard_input(calendars: Path) -> None:
    env = {**os.environ, "HOUQIN_CALENDAR_DIR": str(calendars)}
    done = subprocess.run(
        [sys.executable, "-m", "houqin.cli", "calendar", "notice", "-", "--preview", "--json"],
        input=(NOTICES / "2026.txt").read_bytes(),
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    found = json.loads(done.stdout)
    assert found["year"] == 2026
    assert found["workdays"] == [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ]
    assert len(found["days_off"]) == 33


def test_a_notice_that_does_not_add_up_is_refused_naming_its_line_and_nothing_changes(
    calendars: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notice = tmp_path / "2027.txt"
    notice.write_text(NOTICE_2027.replace("共8天", "共9天"), encoding="utf-8")
    before = (calendars / "2026-2027.yaml").read_bytes()
    code, _, err = run(capsys, "calendar", "notice", str(notice), "--dir", str(calendars))
    assert code == 1
    assert "nothing was changed" in err and f"{notice}:6:" in err and "共9天" in err
    assert "Traceback" not in err
    assert (calendars / "2026-2027.yaml").read_bytes() == before


def test_a_notice_for_a_year_the_library_has_is_refused_in_one_line(
    calendars: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "calendar", "notice", str(NOTICES / "2026.txt"), "--dir", str(calendars)
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "already has 2026" in err
