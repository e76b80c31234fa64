"""A district on several machines (docs/deployments.md): deploy from one checkout, remove it,
and a process worker started from a second checkout elsewhere runs the deployment, because
prefect.yaml's pull step names the worker's own checkout (HOUQIN_CHECKOUT), not the deployer's.
Real local Prefect server (the session's), real worker subprocess, bounded waits."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PREFECT = Path(sys.executable).parent / "prefect"
CODE = ("prefect.yaml", "alembic.ini", "flows", "tasks", "houqin", "calendars", "notifications",
        "plans", "migrations")  # fmt: skip


def checkout(where: Path) -> Path:
    """A copy of what a machine's clone holds (the code, plans, calendars, prefect.yaml)."""
    where.mkdir(parents=True)
    for name in CODE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, where / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, where / name)
    return where


def stop(worker: subprocess.Popen[str]) -> None:
    """A process worker may need a second SIGTERM to stop (docs/services.md); then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
        if worker.poll() is not None:
            return
        worker.send_signal(sig)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue


@pytest.mark.prefect
def test_a_worker_in_another_checkout_runs_what_a_removed_checkout_deployed(
    prefect_harness: None, database_url: str, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.settings import PREFECT_API_URL

    from houqin.settings import get_settings

    if database_url.startswith("sqlite"):
        pytest.skip("machines share a PostgreSQL ledger; a SQLite file is one machine's")

    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "HOUQIN_DATABASE_URL": database_url,
        # the data directory every machine shares (photos, reports, the secret key)
        "HOUQIN_DATA_DIR": str(get_settings().data_dir),
    }

    async def make_pool() -> None:
        async with get_client() as client:
            with contextlib.suppress(ObjectAlreadyExists):  # made by an earlier test
                await client.create_work_pool(WorkPoolCreate(name="houqin", type="process"))

    asyncio.run(make_pool())
    first = checkout(tmp_path / "clone-a")
    deployed = subprocess.run(
        [str(PREFECT), "--no-prompt", "deploy", "--name", "deliver"],
        cwd=first, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    shutil.rmtree(first)  # the deploying machine's checkout is gone

    second = checkout(tmp_path / "elsewhere" / "clone-b")
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [str(PREFECT), "worker", "start", "--pool", "houqin", "--type", "process"],
        cwd=tmp_path,
        env={**env, "HOUQIN_CHECKOUT": str(second), "PREFECT_WORKER_QUERY_SECONDS": "2"},
        stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        run = run_deployment("deliver/deliver", timeout=0)

        async def final_state() -> object:
            async with get_client() as client:
                deadline = time.monotonic() + 240
                while time.monotonic() < deadline:
                    state = (await client.read_flow_run(run.id)).state
                    if state is not None and state.is_final():
                        return state
                    await asyncio.sleep(1)
            return None

        state = asyncio.run(final_state())
    finally:
        stop(worker)
        log.close()
    shown = (tmp_path / "worker.log").read_text()
    assert state is not None, f"the run never finished; worker log:\n{shown[-3000:]}"
    assert state.is_completed(), f"{state}; worker log:\n{shown[-3000:]}"  # type: ignore[attr-defined]
    assert "FileNotFoundError" not in shown
