"""`houqin` commands that run a flow, as a user runs them: a new process, nothing exported.

With a Prefect server answering at HOUQIN_PREFECT_API_URL (what `make up` starts) the run is
recorded there under a name that says what it did; with none, in a temporary server over the
data directory's Prefect home, and the command says so. Either way no telemetry error, no
Prefect log lines, no traceback: one answer and one line saying where the run is.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from houqin.cli import main
from houqin.db import make_engine
from houqin.migrate import upgrade
from tests.loopback import HttpReceiver

ROOT = Path(__file__).resolve().parent.parent
ROSTER = ROOT / "examples" / "demo-school.yaml"
LAUNCH = ["launch", "gaokao_security", "--school", "demo", "--period", "2026-2027"]


def houqin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "houqin.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def plain_env(**houqin_settings: str) -> dict[str, str]:
    """The environment of a user who exported nothing about Prefect."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DO_NOT_TRACK"))}
    return {**env, **houqin_settings}


def assert_quiet(done: subprocess.CompletedProcess[str]) -> None:
    shown = done.stdout + done.stderr
    for noise in ("Traceback", "telemetry", "analytics", "| INFO", "| WARNING"):
        assert noise not in shown, shown


def read_api(path: str, body: dict[str, object] | None = None) -> Any:
    """GET (or POST a filter to) the harness server's API, as the UI reads it."""
    from prefect.settings import PREFECT_API_URL

    url = f"{PREFECT_API_URL.value()}{path}"
    answer = httpx.post(url, json=body) if body is not None else httpx.get(url)
    answer.raise_for_status()
    return answer.json()


def column(url: str, sql: str) -> list[Any]:
    """One column of the ledger, read with an engine of its own (disposed)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).scalars())
    finally:
        engine.dispose()


def launched_events(run_id: str, seconds: float = 30) -> list[dict[str, Any]]:
    """The run's ``houqin.plan.launched`` events, once the server has stored them (it stores
    posted events in the background: bounded wait)."""
    query = {
        "filter": {
            "event": {"name": ["houqin.plan.launched"]},
            "related": {"id": [f"prefect.flow-run.{run_id}"]},
        }
    }
    deadline = time.monotonic() + seconds
    while not (events := read_api("/events/filter", query)["events"]):
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return list(events)


def run_id_of(line: str) -> str:
    found = re.fullmatch(r"Prefect run: http://\S+/runs/flow-run/([0-9a-f-]{36})", line)
    assert found, line
    return found.group(1)


@pytest.mark.prefect
def test_a_launch_uses_the_server_that_answers_and_its_run_is_named_for_what_it_did(
    prefect_harness: None, database_url: str, tmp_path: Path
) -> None:
    """The run is recorded by the command itself through the REST API, without importing
    Prefect (flows/recorded_run.py): what the UI shows is what Prefect's engine would show."""
    from prefect.settings import PREFECT_API_URL

    assert main(["people", "import", str(ROSTER)]) == 0
    env = plain_env(
        HOUQIN_PREFECT_API_URL=str(PREFECT_API_URL.value()),
        HOUQIN_DATABASE_URL=database_url,
        HOUQIN_DATA_DIR=str(tmp_path / "data"),
    )
    # the command as a user runs it, asked afterwards whether it imported Prefect
    script = (
        "import sys; from houqin.cli import main; rc = main(sys.argv[1:]); "
        "print('prefect imported' if 'prefect' in sys.modules else 'prefect not imported'); "
        "sys.exit(rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *LAUNCH, "--today", "2027-05-20"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert_quiet(done)
    first, where, imported = done.stdout.strip().splitlines()
    assert first.startswith("launched gaokao_security for demo 2026-2027: 44 items")
    assert imported == "prefect not imported"
    run_id = run_id_of(where)

    run = read_api(f"/flow_runs/{run_id}")
    assert run["name"] == "launch gaokao_security · demo · 2026-2027"
    assert (run["state_type"], run["state"]["message"]) == ("COMPLETED", first)
    assert read_api(f"/flows/{run['flow_id']}")["name"] == "launch-plan"  # the deployments' flow
    assert run["parameters"] == {
        "template": "gaokao_security",
        "period": "2026-2027",
        "school": "demo",
        "launched_by": "cli",
        "today": "2027-05-20",
    }
    assert set(run["tags"]) == {"houqin", "plan", "plan:gaokao_security"}
    logs = read_api("/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}})
    assert [log["message"] for log in logs] == [f"demo: {first}"]
    events = launched_events(run_id)
    assert [e["payload"]["items"] for e in events] == [44]
    assert column(database_url, "SELECT flow_run_id FROM plan_run") == [run_id]  # the ledger

    again = houqin(env, *LAUNCH)
    assert again.returncode == 0 and "nothing changed" in again.stdout  # answered by the ledger
    assert "Prefect run" not in again.stdout
    assert not (tmp_path / "data" / "prefect" / "prefect.db").exists()  # no temporary server


REFUSE_PLAN_RUNS = {  # a write the database refuses after every check has passed
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON plan_run "
        "BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'disk full (test)'; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON plan_run FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}


@pytest.mark.prefect
def test_a_launch_the_database_refuses_fails_its_run_with_the_traceback_and_writes_nothing(
    prefect_harness: None, database_url: str, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    assert main(["people", "import", str(ROSTER)]) == 0
    engine = make_engine(database_url)
    with engine.begin() as conn:
        for statement in REFUSE_PLAN_RUNS[engine.dialect.name]:
            conn.execute(text(statement))
    engine.dispose()
    env = plain_env(
        HOUQIN_PREFECT_API_URL=str(PREFECT_API_URL.value()),
        HOUQIN_DATABASE_URL=database_url,
        HOUQIN_DATA_DIR=str(tmp_path / "data"),
    )

    done = houqin(env, *LAUNCH)

    assert done.returncode == 1
    assert done.stdout == "" and "Traceback" not in done.stderr
    where, said = done.stderr.strip().splitlines()
    assert said.startswith("houqin: nothing launched: ") and "disk full (test)" in said
    run = read_api(f"/flow_runs/{run_id_of(where)}")
    assert run["state_type"] == "FAILED" and "disk full (test)" in run["state"]["message"]
    logs = read_api("/logs/filter", {"logs": {"flow_run_id": {"any_": [run["id"]]}}})
    assert len(logs) == 1 and logs[0]["level"] == 40  # ERROR, with the whole traceback
    assert "Traceback" in logs[0]["message"] and "disk full (test)" in logs[0]["message"]
    assert column(database_url, "SELECT count(*) FROM item") == [0]


def ledger_with_demo(tmp_path: Path, api_url: str) -> tuple[str, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    env = plain_env(
        HOUQIN_PREFECT_API_URL=api_url,
        HOUQIN_DATABASE_URL=url,
        HOUQIN_DATA_DIR=str(tmp_path / "data"),
    )
    assert houqin(env, "people", "import", str(ROSTER)).returncode == 0
    return url, env


def test_a_server_that_answers_but_does_not_record_the_run_stops_the_launch_before_it_writes(
    tmp_path: Path,
) -> None:
    with HttpReceiver() as server:  # healthy, then refuses to record
        server.reply("/api/flows/", status=503)
        url, env = ledger_with_demo(tmp_path, f"{server.url}/api")

        done = houqin(env, *LAUNCH)

    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == (
        f"houqin: the Prefect server at {server.url}/api did not record the run "
        "(HTTP 503 from /api/flows/); nothing launched"
    )
    assert column(url, "SELECT count(*) FROM plan_run") == [0]


def test_a_launch_whose_run_cannot_be_marked_completed_stands_and_says_so(tmp_path: Path) -> None:
    run_id = str(uuid.uuid4())
    with HttpReceiver() as server:
        server.reply("/api/flows/", json={"id": str(uuid.uuid4())})
        server.reply("/api/flow_runs/", json={"id": run_id})
        server.reply(f"/api/flow_runs/{run_id}/set_state", status=500)
        url, env = ledger_with_demo(tmp_path, f"{server.url}/api")

        done = houqin(env, *LAUNCH)
        posted = [r.path for r in server.requests if r.method == "POST"]

    assert done.returncode == 0, done.stderr
    first, where = done.stdout.strip().splitlines()
    assert first.startswith("launched gaokao_security for demo 2026-2027: 44 items")
    assert run_id_of(where) == run_id
    assert done.stderr.strip() == (
        f"houqin: launched, but the Prefect server at {server.url}/api did not record the run "
        f"(HTTP 500 from /api/flow_runs/{run_id}/set_state); the run may still show Running"
    )
    assert posted == [  # once each: nothing that may have happened is sent again
        "/api/flows/",
        "/api/flow_runs/",
        "/api/logs/",
        "/api/events",
        f"/api/flow_runs/{run_id}/set_state",
    ]
    assert column(url, "SELECT flow_run_id FROM plan_run") == [run_id]


def test_with_no_server_up_the_run_is_recorded_in_the_data_directory_and_said_so(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    data = tmp_path / "data"
    env = plain_env(
        HOUQIN_PREFECT_API_URL="http://127.0.0.1:9/api",  # nothing listens: refused at once
        HOUQIN_DATABASE_URL=url,
        HOUQIN_DATA_DIR=str(data),
    )
    assert houqin(env, "people", "import", str(ROSTER)).returncode == 0
    done = houqin(env, *LAUNCH, "--today", "2027-05-20")
    assert done.returncode == 0, done.stderr
    assert_quiet(done)
    where = done.stdout.strip().splitlines()[-1]
    assert where.startswith("Prefect run ") and f"recorded in {data / 'prefect'}" in where
    assert (data / "prefect" / "prefect.db").exists()
