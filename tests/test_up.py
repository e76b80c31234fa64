"""`make up` (scripts/up.sh): ports from the settings, and "up" only when every part answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
UP = ROOT / "scripts" / "up.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(tmp_path: Path, web_port: int, prefect_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {
        **env,
        "HOUQIN_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite'}",
        "HOUQIN_DATA_DIR": str(tmp_path / "data"),
        "HOUQIN_WEB_PORT": str(web_port),
        "HOUQIN_PREFECT_API_URL": f"http://127.0.0.1:{prefect_port}/api",
        "VENV": str(ROOT / ".venv"),
    }


@contextmanager
def up(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        ["bash", str(UP)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=120)
        assert process.stdout is not None
        process.stdout.close()


def read_until(process: subprocess.Popen[str], wanted: str, seconds: float) -> str:
    """Lines of output until one holds ``wanted`` or the script ends (bounded by ``seconds``)."""
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if wanted in line:
            break
    return "".join(seen)


@pytest.mark.prefect
def test_up_says_up_once_the_web_ui_prefect_and_every_deployment_answer(tmp_path: Path) -> None:
    web, prefect = free_port(), free_port()
    with up(env_for(tmp_path, web, prefect)) as process:
        shown = read_until(process, "Ctrl-C stops everything", 300)
        assert "Houqin is up" in shown, shown
        assert f"http://127.0.0.1:{web}" in shown and f"http://127.0.0.1:{prefect}" in shown
        assert httpx.get(f"http://127.0.0.1:{web}/healthz").json()["status"] == "ok"
        found = httpx.post(f"http://127.0.0.1:{prefect}/api/deployments/filter", json={}).json()
        assert {d["status"] for d in found} == {"READY"} and len(found) >= 3
        # a launch missed while the system was down is caught up at start: launch-due is run
        due = next(d["id"] for d in found if d["name"] == "launch-due")
        deadline, runs = time.monotonic() + 120, []
        while not runs and time.monotonic() < deadline:
            runs = httpx.post(
                f"http://127.0.0.1:{prefect}/api/flow_runs/filter",
                json={"flow_runs": {"deployment_id": {"any_": [due]}}},
            ).json()
            time.sleep(1)
        assert runs, "make up did not start a launch-due run"


@pytest.mark.prefect
def test_a_web_port_already_taken_is_said_and_up_is_not(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        web = taken.getsockname()[1]
        with up(env_for(tmp_path, web, free_port())) as process:
            shown = read_until(process, "Houqin is up", 300)
            process.wait(timeout=120)
    assert "Houqin is up" not in shown
    assert "The web UI stopped while starting" in shown and "address already in use" in shown
    assert process.returncode == 1
