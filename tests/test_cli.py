"""The `houqin` command as a logistics head uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from houqin.cli import main
from houqin.db import make_engine
from houqin.models import (
    AuditEvent,
    Evidence,
    Item,
    Person,
    PlanRun,
    PlanTemplateVersion,
    RoleBinding,
)
from tests.conftest import PREFECT_CLIENT_LEAK

ROOT = Path(__file__).resolve().parent.parent
ROSTER = ROOT / "examples" / "demo-school.yaml"
LAUNCH_ARGS = ["launch", "gaokao_security", "--school", "demo", "--period", "2026-2027"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = {
            m.__tablename__: conn.scalar(select(func.count()).select_from(m)) or 0
            for m in (Person, RoleBinding, PlanTemplateVersion, PlanRun, Item, AuditEvent)
        }
    engine.dispose()
    return found


@pytest.mark.parametrize(
    "args",
    [
        ["launch", "gaokao_security", "--period", "2026-2027"],  # --school missing
        ["items", "--status", "finished"],
        ["tick", "abc", "--by", "li"],
        ["items", "--today", "2027-02-30"],
        ["nosuchcommand"],
    ],
)
def test_bad_arguments_exit_2_with_a_one_line_message(
    database_url: str, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "--help" in err


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (
        ["--help"],
        ["launch", "--help"],
        ["people", "import", "--help"],
        ["plans", "validate", "--help"],
        ["calendar", "check", "--help"],
        ["items", "--help"],
        ["tick", "--help"],
        ["waive", "--help"],
        ["reassign", "--help"],
        ["untick", "--help"],
        ["init", "--help"],
    ):
        code, out, _ = run(capsys, *args)
        assert code == 0 and "Usage:" in out, args


def test_roster_import_then_items_for_an_unknown_school_is_a_clear_error(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "people", "import", str(ROSTER), "--today", "2027-02-01")
    assert code == 0 and "demo: 20 people added" in out
    code, _, err = run(capsys, "reassign", "999", "--to", "li")
    assert code == 2 and "no item 999" in err


def test_a_roster_with_errors_is_rejected_whole_naming_line_and_field(
    database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        textwrap.dedent("""\
        code,name,roles,supervisor,email
        zhang,张主任,后勤主任,,zhang@school.example
        li,李师傅,maintenance_lead;cook_in_chief,zhang,li@school.example
        wu,吴阿姨,environment_lead,nobody,not-an-address
        """),
        encoding="utf-8",
    )
    before = counts(database_url)
    code, _, err = run(
        capsys, "people", "import", str(roster), "--school", "s1", "--school-name", "一中"
    )
    assert code == 1
    assert f"{roster}:3: roles: unknown role 'cook_in_chief'" in err
    assert f"{roster}:4: email: not an e-mail address" in err
    assert f"{roster}:4: supervisor: no person 'nobody'" in err
    assert counts(database_url) == before


def test_a_bad_plan_file_is_rejected_with_file_line_and_field_and_nothing_is_stored(
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from houqin.settings import get_settings

    plans = tmp_path / "plans"
    plans.mkdir()
    bad = plans / "bad.yaml"
    bad.write_text(
        textwrap.dedent("""\
        key: bad_plan
        title: {zh-CN: 有错的计划}
        period: school_year
        anchors: [gaokao.start]
        phases:
          - key: p
            title: {zh-CN: 阶段}
            items:
              - {key: a, title: {zh-CN: 甲}, role: logistics_head, due: "02-30", depends_on: [b]}
              - {key: b, title: {zh-CN: 乙}, role: head_cook, due: gaokao.start, depends_on: [a]}
              - {key: c, title: {zh-CN: 丙}, role: logistics_head, due: month 4, colour: red}
        """),
        encoding="utf-8",
    )
    assert run(capsys, "people", "import", str(ROSTER))[0] == 0
    monkeypatch.setenv("HOUQIN_PLANS_DIR", str(plans))
    get_settings.cache_clear()
    before = counts(database_url)

    code, _, err = run(capsys, "plans", "validate", str(bad))
    assert code == 1
    assert f"{bad}:9: phases.p.items.a.due:" in err and "no day 30" in err
    assert f"{bad}:10: phases.p.items.b.role: unknown role 'head_cook'" in err
    assert "a -> b -> a" in err
    assert f"{bad}:11: phases.p.items.c.colour: unknown field" in err

    # launching anything while the school's plans do not validate writes nothing
    code, _, err = run(
        capsys,
        "launch",
        "gaokao_security",
        "--school",
        "demo",
        "--period",
        "2026-2027",
        "--today",
        "2027-02-01",
    )
    assert code == 1 and "bad.yaml" in err
    assert counts(database_url) == before


def test_items_lists_overdue_work_as_of_a_replayed_day(
    database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from houqin.db import transaction
    from houqin.launch import launch
    from houqin.people import get_school
    from houqin.settings import get_settings
    from houqin.sources import get_plan, load_calendars
    from tests.factories import NOW

    assert run(capsys, "people", "import", str(ROSTER))[0] == 0
    settings = get_settings()
    with transaction(settings) as s:
        launch(
            s,
            template=get_plan(settings, "safety_month"),
            school=get_school(s, "demo"),
            period="2026-2027",
            book=load_calendars(settings),
            by="zhang",
            now=NOW,
        )
    # the leadership group is due 2027-04-20 18:00: overdue on 04-22, not yet at 09:00 on 04-20
    code, out, _ = run(capsys, "items", "--school", "demo", "--overdue", "--today", "2027-04-22")
    assert code == 0 and "已逾期" in out
    overdue = int(out.strip().splitlines()[-1].split()[0])
    assert overdue >= 1
    code, out, _ = run(capsys, "items", "--school", "demo", "--overdue", "--today", "2027-04-20")
    assert out.strip().splitlines()[-1] == "0 items"

    first_id = out and _first_item_id(database_url)
    code, out, err = run(capsys, "tick", str(first_id), "--by", "zhang", "--note", "会议纪要已归档")
    assert code == 2 and "a number is needed" in err  # the leadership group's headcount
    assert "tick step 1, 2, 3, 4 first" in err  # one rule: each sub-step ticked by someone
    for step in (1, 2, 3, 4):
        code, out, err = run(capsys, "tick", str(first_id), "--by", "zhang", "--step", str(step))
        assert code == 0, err
    photos = [tmp_path / "a.jpg", tmp_path / "b.jpg"]
    for photo in photos:
        photo.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    code, out, err = run(
        capsys,
        "tick",
        str(first_id),
        "--by",
        "zhang",
        "--number",
        "11",
        "--photo",
        str(photos[0]),
        "--photo",
        str(photos[1]),
        "--today",
        "2027-04-20",
        "--at",
        "10:00",
    )
    assert (code, out.strip()) == (0, f"item {first_id}: done"), err
    engine = make_engine(database_url)
    with engine.connect() as conn:
        stored = conn.scalars(
            select(Evidence.path).where(Evidence.item_id == first_id, Evidence.kind == "photo")
        )
        assert sorted(stored) == sorted(str(p) for p in photos)  # both photos kept
    engine.dispose()
    code, out, err = run(capsys, "waive", str(first_id), "--reason", "重复")
    assert code == 2 and "is done" in err


def _first_item_id(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        item_id = conn.scalar(select(Item.id).order_by(Item.due_at, Item.id).limit(1))
    engine.dispose()
    assert item_id is not None
    return item_id


@PREFECT_CLIENT_LEAK
@pytest.mark.prefect
def test_launch_twice_through_prefect_yields_one_plan_run_and_the_same_items(
    prefect_harness: None,
    async_flow_runs: None,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(capsys, "people", "import", str(ROSTER))[0] == 0
    args = [
        "launch",
        "gaokao_security",
        "--school",
        "demo",
        "--period",
        "2026-2027",
        "--today",
        "2027-05-20",
    ]
    code, out, _ = run(capsys, *args)
    assert code == 0 and "launched gaokao_security for demo 2026-2027: 44 items" in out
    first = counts(database_url)
    code, out, _ = run(capsys, *args)
    assert code == 0 and "nothing changed" in out
    assert counts(database_url) == first
    assert first["plan_run"] == 1 and first["item"] == 44
    engine = make_engine(database_url)
    with engine.connect() as conn:
        flow_run_id = conn.scalar(select(PlanRun.flow_run_id))
    engine.dispose()
    assert flow_run_id  # the Prefect flow run that launched it


def test_a_yaml_roster_keeps_the_schools_channel_settings_as_written(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from houqin.models import School

    assert run(capsys, "people", "import", str(ROSTER))[0] == 0
    engine = make_engine(database_url)
    with engine.connect() as conn:
        channels = conn.scalar(select(School.channels))
    engine.dispose()
    assert channels == {
        "email": {
            "host": "127.0.0.1",
            "port": 8025,
            "sender": "示范中学后勤处 <houqin@demo-school.example>",
        }
    }


@pytest.mark.prefect
def test_sweep_through_prefect_reports_what_it_sent_and_skips_days_off(
    prefect_harness: None, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "people", "import", str(ROSTER))[0] == 0
    code, out, _ = run(capsys, "sweep", "--now", "2027-06-05 07:30")  # a Saturday
    assert code == 0 and "not a working day" in out
    code, out, _ = run(capsys, "sweep", "--now", "2027-06-04 07:30")
    assert code == 0 and out.startswith("0 reminders/escalations queued, 0 messages")


EVERY_LEDGER_COMMAND = [
    ["people", "import", str(ROSTER)],
    ["launch", "gaokao_security", "--school", "demo", "--period", "2026-2027"],
    ["launch", "gaokao_security", "--school", "demo", "--period", "2026-2027", "--preview"],
    ["items"],
    ["tick", "1", "--by", "li"],
    ["untick", "1", "--by", "li"],
    ["reassign", "1", "--to", "li"],
    ["waive", "1", "--reason", "x"],
    ["sweep", "--today", "2027-06-03"],
    ["outbox"],
    ["outbox", "retry", "1"],
    ["report", "overdue", "--school", "demo"],
    ["report", "completion", "--run", "1"],
    ["report", "assessment", "--school", "demo", "--period", "2027Q1"],
    ["repair", "add", "--school", "demo", "--location", "a", "--description", "b", "--by", "li"],
    ["score", "add", "--school", "demo", "--period", "2027Q1", "--kpi", "x", "--source", "daily",
     "--score", "1", "--by", "li"],
    ["user", "role", "zhang", "staff"],
    ["ical", "issue", "li", "--school", "demo"],
    ["serve", "--port", "1"],
]  # fmt: skip  # a table: one command a line


@pytest.mark.parametrize("args", EVERY_LEDGER_COMMAND, ids=lambda a: " ".join(a[:2]))
def test_a_ledger_a_newer_houqin_upgraded_stops_every_command_with_one_line(
    database_url: str, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    engine.dispose()
    for command in (["init"], args):
        code, out, err = run(capsys, *command)
        assert code == 1, (command, out, err)
        assert len(err.strip().splitlines()) == 1, err
        assert "0099_from_the_future" in err and "newer Houqin" in err


def test_a_ledger_never_set_up_says_run_houqin_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from houqin.settings import get_settings

    monkeypatch.setenv("HOUQIN_DATABASE_URL", f"sqlite:///{tmp_path / 'new.sqlite'}")
    get_settings.cache_clear()
    try:
        code, _, err = run(capsys, "items")
        assert code == 1 and err.strip() == (
            f"houqin: the ledger sqlite:///{tmp_path / 'new.sqlite'} is not set up yet: "
            "run houqin init"
        )
        code, out, _ = run(capsys, "init")
        assert code == 0 and "ledger ready" in out
        code, out, _ = run(capsys, "items")
        assert code == 0 and "0 items" in out
    finally:
        get_settings.cache_clear()


def test_launch_mistakes_are_one_message_with_file_and_field_before_any_flow_runs(
    database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # no Prefect harness here: a flow run would start a temporary server and print its errors
    assert run(capsys, "people", "import", str(ROSTER))[0] == 0
    before = counts(database_url)
    code, _, err = run(capsys, *LAUNCH_ARGS[:-1], "2031-2032")  # no calendar file for it
    assert code == 1 and "2031-2032.yaml: --period: no school calendar for 2031-2032" in err
    assert "Traceback" not in err and counts(database_url) == before


def test_a_typo_in_the_schools_own_plans_is_refused_by_launch_as_by_validate(
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from houqin.settings import get_settings

    assert run(capsys, "people", "import", str(ROSTER))[0] == 0
    (tmp_path / "own.yaml").write_text(
        (ROOT / "tests" / "data" / "plans" / "exam_week.yaml")
        .read_text(encoding="utf-8")
        .replace("role: logistics_head", "role: logistic_head", 1),
        encoding="utf-8",
    )
    monkeypatch.setenv("HOUQIN_PLANS_DIR", str(tmp_path))
    get_settings.cache_clear()
    _, _, validated = run(capsys, "plans", "validate")
    code, _, err = run(capsys, *LAUNCH_ARGS)
    assert code == 1 and "Traceback" not in err
    assert "own.yaml:" in err and "logistic_head" in err
    assert err.splitlines()[1:] == validated.splitlines()[1:]  # the same problems, same words
    get_settings.cache_clear()


def test_a_sweep_on_a_day_no_calendar_holds_is_one_line_naming_the_file_to_add(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "sweep", "--now", "2029-03-01 07:30")
    assert code == 1 and out == ""
    assert err.strip().count("\n") == 0 and "add 2028-2029.yaml" in err
