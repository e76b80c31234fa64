"""`houqin serve` runs the web UI in one or several processes, on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.loopback import free_port


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_answers_the_login_page_with_one_or_two_workers(
    database_url: str, tmp_path: Path, workers: str
) -> None:
    port = free_port()
    env = {**os.environ, "HOUQIN_DATABASE_URL": database_url}
    cmd = [sys.executable, "-m", "houqin.cli", "serve", "--port", str(port), "--workers", workers]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, status = time.monotonic() + 40, None
        while time.monotonic() < deadline and status != 200:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code
            except httpx.TransportError:
                time.sleep(0.3)
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
