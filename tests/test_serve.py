"""`houqin serve` runs the web UI in one or several processes, on loopback, logging no secret."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from houqin.db import make_engine
from houqin.models import AuditEvent
from houqin.web.access_log import MaskTokens, mask_tokens
from tests.loopback import free_port


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_answers_the_login_page_with_one_or_two_workers(
    database_url: str, tmp_path: Path, workers: str
) -> None:
    port = free_port()
    env = {**os.environ, "HOUQIN_DATABASE_URL": database_url}
    cmd = [sys.executable, "-m", "houqin.cli", "serve", "--port", str(port), "--workers", workers]
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        # bounded, but generous: two worker processes each import the app, and a shared CI
        # machine under load has taken over 40 s for that
        deadline, status = time.monotonic() + 120, None
        while time.monotonic() < deadline and status != 200 and server.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code
            except httpx.TransportError:
                time.sleep(0.3)
        assert status == 200, log.read_text()[-2000:]
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_served_the_access_log_masks_tokens_and_forwarded_headers_are_not_believed(
    database_url: str, tmp_path: Path
) -> None:
    """The real `houqin serve`: uvicorn itself would trust X-Forwarded-For from any client on
    127.0.0.1 and log every reminder-link and feed token in full (issue 16, findings 4, 6)."""
    link = "WzEsMiwiYWJjZGVmZ2hpIl0.Zz9xYw.secret-signature-part-0123456789"
    feed = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "HOUQIN_DATABASE_URL": database_url}
    cmd = [sys.executable, "-m", "houqin.cli", "serve", "--port", str(port)]
    with log.open("w") as out:
        server = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline, status = time.monotonic() + 40, None
        while time.monotonic() < deadline and status != 200:
            try:
                status = httpx.get(f"{base}/login", timeout=2).status_code
            except httpx.TransportError:
                time.sleep(0.3)
        assert status == 200
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get(f"/l/{link}").status_code == 400
            assert client.get(f"/ical/{feed}.ics").status_code == 404
            page = client.get("/login")
            token = page.text.split('name="csrf" value="')[1].split('"')[0]
            forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
            data = {"username": "nobody", "password": "x", "csrf": token}
            assert client.post("/login", data=data, headers=forged).status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=20)
    written = log.read_text()
    assert '"GET /l/WzEs*** HTTP/1.1" 400' in written, written
    assert '"GET /ical/AbCd***.ics HTTP/1.1" 404' in written, written
    assert "secret-signature" not in written and feed not in written
    assert "203.0.113.9" not in written and "127.0.0.1:" in written
    engine = make_engine(database_url)
    with Session(engine) as s:
        failed = s.scalar(select(AuditEvent).where(AuditEvent.action == "login.failed"))
    engine.dispose()
    assert failed is not None and failed.details["ip"] == "127.0.0.1"


def test_tokens_are_masked_in_any_log_line() -> None:
    assert mask_tokens("GET /l/WzEsMiwiYWJj.Zz9x.sig?x=1 HTTP/1.1") == "GET /l/WzEs***?x=1 HTTP/1.1"
    assert mask_tokens("/ical/AbCdEfGhIjKlMnOpQrSt.ics") == "/ical/AbCd***.ics"
    assert mask_tokens("/login?next=/my") == "/login?next=/my"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "POST", "/l/WzEsMiwiYWJj.Zz9x.sig", "1.1", 200),
        None,
    )
    assert MaskTokens().filter(record) and record.getMessage() == (
        '127.0.0.1:5 - "POST /l/WzEs*** HTTP/1.1" 200'
    )
