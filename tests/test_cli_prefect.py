"""`houqin` commands that run a flow, as a user runs them: a new process, nothing exported.

With a Prefect server answering at HOUQIN_PREFECT_API_URL (what `make up` starts) the run is
recorded there under a name that says what it did; with none, in a temporary server over the
data directory's Prefect home, and the command says so. Either way no telemetry error, no
Prefect log lines, no traceback: one answer and one line saying where the run is.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from houqin.cli import main
from houqin.db import make_engine
from houqin.migrate import upgrade

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


@pytest.mark.prefect
def test_a_launch_uses_the_server_that_answers_and_its_run_is_named_for_what_it_did(
    prefect_harness: None, database_url: str, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    assert main(["people", "import", str(ROSTER)]) == 0
    env = plain_env(
        HOUQIN_PREFECT_API_URL=str(PREFECT_API_URL.value()),
        HOUQIN_DATABASE_URL=database_url,
        HOUQIN_DATA_DIR=str(tmp_path / "data"),
    )
    done = houqin(env, *LAUNCH, "--today", "2027-05-20")
    assert done.returncode == 0, done.stderr
    assert_quiet(done)
    first, where = done.stdout.strip().splitlines()
    assert first.startswith("launched gaokao_security for demo 2026-2027: 44 items")
    found = re.fullmatch(r"Prefect run: http://\S+/runs/flow-run/([0-9a-f-]{36})", where)
    assert found, where

    async def read_run() -> str:
        async with get_client() as client:
            return (await client.read_flow_run(found.group(1))).name

    assert asyncio.run(read_run()) == "launch gaokao_security · demo · 2026-2027"
    again = houqin(env, *LAUNCH)
    assert again.returncode == 0 and "nothing changed" in again.stdout  # answered by the ledger
    assert "Prefect run" not in again.stdout
    assert not (tmp_path / "data" / "prefect" / "prefect.db").exists()  # no temporary server


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
