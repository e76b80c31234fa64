"""Schedules: the plans' `launch:` rules, prefect.yaml generated from them, Prefect reading it."""

from __future__ import annotations

import asyncio
import inspect
import re
import textwrap
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
import yaml
from click.testing import CliRunner

from houqin.cli.deployments import deployments
from houqin.launch import deadlines
from houqin.periods import TERM_OF
from houqin.plan_templates import load_template_file, template_from_dict
from houqin.schedules import launch_at, launch_schedules
from tests import loopback

ROOT = Path(__file__).resolve().parent.parent
PREFECT_YAML = ROOT / "prefect.yaml"
FIXTURE = ROOT / "tests" / "data" / "plans" / "exam_week.yaml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
LAUNCH_FLOW = "flows/launch_plan.py:launch_plan"
http_receiver = loopback.http_receiver  # pytest fixture, requested by name below


def prefect_yaml() -> dict[str, dict[str, Any]]:
    """prefect.yaml's deployments by name."""
    config = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    return {d["name"]: d for d in config["deployments"]}


# -- when each plan launches (houqin/schedules.py) ------------------------------------------------


def test_gaokao_security_launches_at_0800_twenty_working_days_before_gaokao(templates, book):
    at = launch_at(templates["gaokao_security"], book.school_year("2026-2027"), book)
    # 高考 starts Mon 2027-06-07; 20 working days back, no holiday between, is Mon 2027-05-10.
    assert at == datetime(2027, 5, 10, 8, 0, tzinfo=SHANGHAI)


def test_an_autumn_term_plan_launches_for_term_1_in_august_of_its_own_school_year(templates, book):
    found = [
        s for s in launch_schedules(templates.values(), book) if s.template == "autumn_opening"
    ]
    # 开学 Tue 2026-09-01 - 20 working days = Tue 2026-08-04, inside 2026-2027 (from Aug 1).
    assert [(s.period, s.at) for s in found] == [
        ("2026-2027/1", datetime(2026, 8, 4, 8, 0, tzinfo=SHANGHAI)),
        ("2027-2028/1", datetime(2027, 8, 4, 8, 0, tzinfo=SHANGHAI)),
    ]


def test_every_builtin_plan_launches_once_per_school_year_calendar(templates, book):
    found = launch_schedules(templates.values(), book)
    assert {(s.template, s.period.partition("/")[0]) for s in found} == {
        (key, year) for key in templates for year in book.school_years
    }


def test_every_builtin_plan_launches_in_time_for_the_first_reminder_of_its_first_item(
    templates, book
):
    for s in launch_schedules(templates.values(), book):
        plan = templates[s.template]
        year = book.school_year(s.period.partition("/")[0])
        first = min(due.date for _, _, due in deadlines(plan, year, book, TERM_OF.get(plan.period)))
        lead = max(plan.remind, default=0)
        assert book.workdays_between(s.at.date(), first) >= lead, (s, first)


# -- the `launch:` field (houqin/plan_templates.py) -----------------------------------------------


def with_launch(tmp_path: Path, rule: str) -> Path:
    """The schema fixture with a `launch:` line after its anchors."""
    text = FIXTURE.read_text(encoding="utf-8").replace(
        "anchors: [gaokao.start, gaokao.end]\n",
        f"anchors: [gaokao.start, gaokao.end]\nlaunch: {rule}\n",
    )
    path = tmp_path / "exam_week.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def launch_line(path: Path) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith("launch:"))


def test_a_template_without_launch_keeps_the_version_it_had_before_launch_existed():
    template = load_template_file(FIXTURE)
    assert template.launch is None
    assert template.version == "236ea2dd07a009a4"  # computed before the field was added


def test_launch_is_part_of_the_version_and_survives_the_stored_form(tmp_path):
    template = load_template_file(with_launch(tmp_path, "gaokao.start - 20 workday"))
    assert str(template.launch) == "gaokao.start - 20 workdays"
    assert template.version != load_template_file(FIXTURE).version
    again = template_from_dict(template.to_dict())
    assert str(again.launch) == str(template.launch)
    assert again.compute_version() == template.version


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("zhongkao.start - 20 workdays", "anchor zhongkao.start is not listed in anchors:"),
        ("term.start - 10 workdays", "term.start needs period autumn_term or spring_term"),
        ("gaokao.strat - 1 workdays", "did you mean gaokao.start?"),
        ("02-29", "02-29 does not exist every year"),
    ],
)
def test_a_bad_launch_rule_is_reported_at_its_line_like_an_item_due_rule(tmp_path, rule, message):
    from houqin.errors import ValidationFailed

    path = with_launch(tmp_path, rule)
    with pytest.raises(ValidationFailed) as caught:
        load_template_file(path)
    [problem] = caught.value.problems
    assert (problem.field, problem.line) == ("launch", launch_line(path))
    assert message in problem.message


# -- prefect.yaml (houqin deployments) -----------------------------------------------------------


def test_prefect_yaml_is_what_houqin_deployments_writes():
    result = CliRunner().invoke(deployments, ["--check", "--file", str(PREFECT_YAML)])
    assert result.exit_code == 0, result.output


def test_deployments_check_fails_on_a_stale_file_until_write_regenerates_it(tmp_path):
    path = tmp_path / "prefect.yaml"
    path.write_text(PREFECT_YAML.read_text(encoding="utf-8").replace("30 7 *", "0 7 *"))
    runner = CliRunner()
    stale = runner.invoke(deployments, ["--check", "--file", str(path)])
    assert stale.exit_code == 1
    assert "out of date; run: houqin deployments --write" in stale.output
    assert runner.invoke(deployments, ["--write", "--file", str(path)]).exit_code == 0
    assert path.read_text() == PREFECT_YAML.read_text(encoding="utf-8")


def test_every_builtin_plan_has_a_deployment_of_the_launch_flow_for_every_school(templates, book):
    found = prefect_yaml()
    for key in templates:
        deployment = found[key]
        assert deployment["entrypoint"] == LAUNCH_FLOW
        assert deployment["parameters"] == {"template": key, "school": "*"}
        expected = [s for s in launch_schedules(templates.values(), book) if s.template == key]
        assert [s["parameters"] for s in deployment["schedules"]] == [
            {"period": s.period} for s in expected
        ]
        assert [s["rrule"] for s in deployment["schedules"]] == [
            f"DTSTART:{s.at:%Y%m%dT%H%M%S}\nRRULE:FREQ=DAILY;COUNT=1" for s in expected
        ]
    assert set(found) == set(templates) | {"sweep", "overdue-digest", "deliver"}


def test_every_schedule_is_in_asia_shanghai():
    for deployment in prefect_yaml().values():
        assert deployment["schedules"], deployment["name"]
        for schedule in deployment["schedules"]:
            assert schedule["timezone"] == "Asia/Shanghai", deployment["name"]


def test_the_sweep_runs_daily_at_0730_and_1630_and_the_digest_on_monday_at_0800():
    found = prefect_yaml()
    assert [s["cron"] for s in found["sweep"]["schedules"]] == ["30 7 * * *", "30 16 * * *"]
    assert found["sweep"]["entrypoint"] == "flows/sweep.py:sweep"
    assert [s["cron"] for s in found["overdue-digest"]["schedules"]] == ["0 8 * * 1"]
    assert found["overdue-digest"]["entrypoint"] == "flows/overdue_digest.py:overdue_digest"


def test_delivery_runs_every_five_minutes_in_working_hours_one_run_at_a_time():
    found = prefect_yaml()["deliver"]
    assert found["entrypoint"] == "flows/deliver.py:deliver"
    assert [s["cron"] for s in found["schedules"]] == ["*/5 7-21 * * *"]
    assert found["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}


def test_every_entry_point_in_prefect_yaml_imports_a_flow_that_takes_its_parameters():
    from flows.serve import load_flow

    for name, deployment in prefect_yaml().items():
        flow = load_flow(deployment["entrypoint"])
        given = set(deployment["parameters"])
        for schedule in deployment["schedules"]:
            given |= set(schedule.get("parameters", {}))
        accepted = inspect.signature(flow.fn).parameters
        assert given <= set(accepted), (name, given - set(accepted))
        required = {p for p, v in accepted.items() if v.default is inspect.Parameter.empty}
        for schedule in deployment["schedules"]:  # every run gets every required parameter
            gets = set(deployment["parameters"]) | set(schedule.get("parameters", {}))
            assert required <= gets, (name, required - gets)


def test_the_schedule_core_and_the_generator_import_no_prefect():
    for name in ("schedules.py", "deployments.py"):
        source = (ROOT / "houqin" / name).read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+prefect\b", source, re.M), name


# -- against a Prefect server (the session's test harness) ---------------------------------------


@pytest.fixture(scope="module")
def registered(prefect_harness: None) -> dict[str, UUID]:
    """Every deployment of prefect.yaml registered as `python -m flows.serve` does, by name."""
    from flows.serve import build_deployments

    return {d.name: d.apply() for d in build_deployments()}


async def read_back(ids: dict[str, UUID]) -> dict[str, Any]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return {name: await client.read_deployment(i) for name, i in ids.items()}


@pytest.mark.prefect
def test_serving_registers_every_deployment_of_prefect_yaml_with_its_schedules(registered):
    expected = prefect_yaml()
    found = asyncio.run(read_back(registered))
    assert len(found) == len(expected)
    for name, deployment in found.items():
        want = {s["slug"]: s for s in expected[name]["schedules"]}
        got = {s.slug: s for s in deployment.schedules}
        assert set(got) == set(want), name
        for slug, schedule in got.items():
            assert schedule.schedule.timezone == "Asia/Shanghai"
            assert schedule.parameters == want[slug].get("parameters", {})
            assert schedule.active
        assert deployment.parameters == expected[name]["parameters"]
    sweep = sorted(s.schedule.cron for s in found["sweep"].schedules)
    assert sweep == ["30 16 * * *", "30 7 * * *"]


@pytest.mark.prefect
def test_the_server_schedules_gaokao_security_at_0800_shanghai_on_each_launch_date(
    registered, templates, book
):
    # Asks the server to create the runs its scheduler service would: with SQLAlchemy 2.1 the
    # Prefect 3.8.8 server fails here (and its scheduler never creates a run), see deployments.md.
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterDeploymentId
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    deployment_id = registered["gaokao_security"]

    async def schedule_and_read() -> list[Any]:
        # No retries: a server error should fail the test at once, not after two minutes.
        with temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}):
            return await _schedule_and_read()

    async def _schedule_and_read() -> list[Any]:
        async with get_client() as client:
            await client._client.post(
                f"/deployments/{deployment_id}/schedule",
                json={"end_time": "2029-01-01T00:00:00+00:00", "max_runs": 10},
            )
            only = FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]))
            return await client.read_flow_runs(flow_run_filter=only)

    runs = sorted(asyncio.run(schedule_and_read()), key=lambda r: r.expected_start_time)
    expected = [
        s for s in launch_schedules(templates.values(), book) if s.template == "gaokao_security"
    ]
    assert [r.expected_start_time for r in runs] == [s.at for s in expected]
    assert runs[0].expected_start_time == datetime(2027, 5, 10, 8, 0, tzinfo=SHANGHAI)
    assert [r.parameters for r in runs] == [
        {"template": "gaokao_security", "school": "*", "period": s.period} for s in expected
    ]


def documented_automation() -> dict[str, Any]:
    """The automation YAML shown in docs/deployments.md."""
    text = (ROOT / "docs" / "deployments.md").read_text(encoding="utf-8")
    found = re.search(r"```yaml\n( *name: s001-overdue-to-robot\n.*?)```", text, re.S)
    assert found, "docs/deployments.md lost its automation example"
    return dict(yaml.safe_load(textwrap.dedent(found[1])))


@pytest.mark.prefect
def test_the_documented_automation_posts_each_overdue_item_of_s001_only_to_its_robot(
    prefect_harness, http_receiver
):
    from prefect.automations import Automation
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.events import emit_event

    block_id = CustomWebhookNotificationBlock(
        name="s001-logistics-robot",
        url=http_receiver.url + "/cgi-bin/webhook/send?key={{key}}",
        json_data={"msgtype": "text", "text": {"content": "{{subject}}\n{{body}}"}},
        secrets={"key": "robot-key"},
    ).save("s001-logistics-robot", overwrite=True)
    spec = documented_automation()
    spec["actions"][0]["block_document_id"] = str(block_id)
    Automation.model_validate(spec).create()

    def emit_both() -> None:
        for school, item in (("S002", 43), ("S001", 42)):  # as the sweep emits them
            emit_event(
                event="houqin.item.overdue",
                resource={"prefect.resource.id": f"houqin.item.{item}"},
                related=[
                    {"prefect.resource.id": f"houqin.{role}.{code}", "prefect.resource.role": role}
                    for role, code in [
                        ("school", school),
                        ("plan", "gaokao_security"),
                        ("person", "P07"),
                    ]
                ],
            )

    # The server's trigger service picks a new automation up within seconds, not at once: emit
    # until the first notification arrives (bounded), then check that every one was S001's.
    deadline = time.monotonic() + 90
    while not http_receiver.requests and time.monotonic() < deadline:
        emit_both()
        wait = time.monotonic() + 3
        while not http_receiver.requests and time.monotonic() < wait:
            time.sleep(0.2)
    time.sleep(1)  # S002's events, were they to match, would have arrived by now
    assert http_receiver.requests, "the automation never fired"
    for request in http_receiver.requests:
        assert request.query == {"key": "robot-key"}
        assert request.json() == {
            "msgtype": "text",
            "text": {
                "content": "逾期 / Overdue: gaokao_security\n事项 / item 42，责任人 / owner P07"
            },
        }
