"""Roster files as schools write them: Excel's encodings, and the school's settings checked at
import with file, line and field, nothing written when any is wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from houqin.errors import ValidationFailed
from houqin.models import Person, RoleBinding, School
from houqin.people import import_roster
from tests.factories import NOW

CSV = textwrap.dedent("""\
    code,name,roles,supervisor,email
    zhang,张主任,后勤主任,,zhang@s.example
    li,李师傅,水电工,zhang,
    """)


def imported(session: Session, path: Path) -> list[tuple[str, str]]:
    import_roster(session, path, school_code="s1", school_name="一中", now=NOW, actor="test")
    return [(p.code, p.name) for p in session.scalars(select(Person).order_by(Person.code))]


def refused(session: Session, path: Path) -> list[str]:
    """The problems of a refused import, as the CLI prints them; checks nothing was written."""
    with pytest.raises(ValidationFailed) as caught:
        import_roster(session, path, school_code="s1", school_name="一中", now=NOW, actor="t")
    for model in (School, Person, RoleBinding):
        assert session.scalar(select(func.count()).select_from(model)) == 0
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_a_csv_roster_saved_by_chinese_excel_imports_in_its_encoding(
    session: Session, tmp_path: Path, encoding: str
) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(CSV.encode(encoding))

    assert imported(session, path) == [("li", "李师傅"), ("zhang", "张主任")]


def test_a_roster_in_another_encoding_is_refused_naming_the_file_and_the_encoding(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(CSV.encode("utf-16"))

    [problem] = refused(session, path)
    assert problem.startswith(f"{path}:1: the file is saved as UTF-16")
    assert "save it as UTF-8" in problem


def test_bytes_that_are_no_chinese_encoding_are_refused_at_their_line(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(b"code,name\nzhang,Z\nmuller,M\xfcller \xe9t\xe9\n")  # Latin-1

    [problem] = refused(session, path)
    assert problem.startswith(f"{path}:3: the file's encoding is not UTF-8")


def test_an_unknown_csv_column_is_refused_with_the_closest_name(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("code,name,emial\nzhang,张主任,zhang@s.example\n", encoding="utf-8")

    assert refused(session, path) == [f"{path}:1: emial: unknown column (did you mean 'email'?)"]


SCHOOL = """\
school:
  code: s1
  name: 一中
  timezone: Asia/Shanghai
  quiet_start: 22:30
  quiet_end: "06:45"
  channels:
    email: {host: 127.0.0.1, port: 8025, sender: "后勤处 <houqin@s.example>"}
    wecom: {key: robot-key}
people:
  - {code: zhang, name: 张主任, roles: [logistics_head], addresses: {email: zhang@s.example}}
"""


def yaml_roster(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_yaml_roster_keeps_the_schools_settings_as_meant(
    session: Session, tmp_path: Path
) -> None:
    imported(session, yaml_roster(tmp_path, SCHOOL))

    school = session.scalars(select(School)).one()
    # unquoted 22:30 is a base-60 number to YAML 1.1; the time as written is what was meant
    assert (school.quiet_start, school.quiet_end) == ("22:30", "06:45")
    assert school.channels["email"]["port"] == 8025 and school.channels["wecom"] == {
        "key": "robot-key"
    }


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("Asia/Shanghai", "Asia/Peking", "4: school.timezone: unknown time zone 'Asia/Peking'"),
        (
            "quiet_start: 22:30",
            "quiet_start: 24:30",
            "5: school.quiet_start: time '24:30' does not exist",
        ),
        ('quiet_end: "06:45"', "quiet_end: soon", "6: school.quiet_end: time 'soon' is not HH:MM"),
        (
            "    wecom: {key: robot-key}",
            "    wecon: {key: robot-key}",
            "9: school.channels.wecon: unknown channel (did you mean 'wecom'?)",
        ),
        (
            "    wecom: {key: robot-key}",
            "    wecom: {token: robot-key}",
            "9: school.channels.wecom.token: unknown field",
        ),
        (
            "    wecom: {key: robot-key}",
            "    wecom: {timeout: 5}",
            "9: school.channels.wecom.key: missing",
        ),
        (
            "port: 8025",
            "port: mail",
            "8: school.channels.email.port: must be a port number, not 'mail'",
        ),
        (
            "  timezone: Asia/Shanghai",
            "  time_zone: Asia/Shanghai",
            "4: school.time_zone: unknown field 'time_zone' (did you mean 'timezone'?)",
        ),
    ],
)
def test_a_bad_school_setting_is_refused_with_file_line_and_field(
    session: Session, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in SCHOOL
    path = yaml_roster(tmp_path, SCHOOL.replace(old, new))

    [problem] = refused(session, path)
    assert problem.startswith(f"{path}:{expected}")


def test_every_problem_of_a_yaml_roster_is_reported_at_once(
    session: Session, tmp_path: Path
) -> None:
    text = SCHOOL.replace("Asia/Shanghai", "Mars/Olympus").replace(
        "people:\n", "people:\n  - {code: li, name: 李师傅, adresses: {email: li@s.example}}\n"
    )
    text += "  - {code: zhao, name: 赵, active: maybe, name: 赵副校长}\n"
    path = yaml_roster(tmp_path, text)

    found = refused(session, path)

    assert found == [
        f"{path}:4: school.timezone: unknown time zone 'Mars/Olympus'; expected an IANA time "
        "zone name such as Asia/Shanghai",
        f"{path}:11: people[0].adresses: unknown field 'adresses' (did you mean 'addresses'?)",
        f"{path}:13: people[2].name: field given twice (first at line 13)",
        f"{path}:13: people[2].active: expected yes or no",
    ]


def test_a_gbk_yaml_roster_imports(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_bytes(
        textwrap.dedent("""\
        # 花名册
        people:
          - {code: zhang, name: 张主任, roles: 后勤主任}
        """).encode("gbk")
    )

    assert imported(session, path) == [("zhang", "张主任")]
