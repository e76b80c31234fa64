"""Web UI tests: a real uvicorn server on 127.0.0.1 (free port, own thread) over a migrated
database (SQLite and PostgreSQL, through ``database_url``), driven by httpx or by Debian's
Chromium through Playwright (one browser per test session; never ``playwright install``).
"""

from __future__ import annotations

import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from houqin.db import make_engine
from houqin.settings import Settings
from houqin.web.app import make_app
from houqin.web.deps import get_now
from tests.factories import NOW
from tests.web.seed import FAST_HASHER, PASSWORD, World, seed

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            # pytest-playwright 0.10 defines a session-scoped fixture as a method, which pytest
            # 9.2 deprecates: third-party, nothing to change on our side (warnings are errors).
            item.add_marker(
                pytest.mark.filterwarnings(
                    "ignore:Session-scoped fixtures defined as instance methods"
                    ":pytest.PytestRemovedIn10Warning"
                )
            )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "viewport": PHONE,
        "is_mobile": True,
        "has_touch": True,
        "locale": "zh-CN",
    }


class Switch:
    """The ASGI app the session's server runs: it forwards to the current test's own app, so
    each test gets a fresh ``make_app`` over a fresh database without restarting uvicorn."""

    def __init__(self) -> None:
        self.app: FastAPI | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is None:  # between tests: a late request from a closing browser page
            if scope["type"] == "http":
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


@dataclass
class Live:
    """A running server: its URL, app, settings and engine (to arrange and to check)."""

    url: str
    app: FastAPI
    settings: Settings
    engine: Engine
    world: World
    switch: Switch

    def reconfigure(self, **changes: Any) -> None:
        """Serve a new app over the same database with some settings changed (as a restart
        with other HOUQIN_* variables would)."""
        self.settings = self.settings.model_copy(update=changes)
        app = make_app(self.settings, engine=self.engine, hasher=FAST_HASHER)
        app.dependency_overrides.update(self.app.dependency_overrides)
        self.app = self.switch.app = app

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=20)


@pytest.fixture
def seed_history() -> bool:
    """Override in a module to start with some items done (with photos), as the screenshots do."""
    return False


@contextmanager
def serving(app: Any, *, lifespan: str = "on") -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 (a free port, its own thread); yields its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan=lifespan,
        ws="none",
        http="h11",
        access_log=False,
        proxy_headers=False,  # as `houqin serve`: forwarded headers are the app's to believe
    )
    uvi = uvicorn.Server(config)
    thread = threading.Thread(target=uvi.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvi.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        uvi.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def server() -> Iterator[tuple[str, Switch]]:
    """One server for the whole test session, switched to each test's own app."""
    switch = Switch()
    with serving(switch, lifespan="off") as url:
        yield url, switch


@pytest.fixture
def live(
    server: tuple[str, Switch],
    database_url: str,
    tmp_path: Path,
    templates: Any,
    book: Any,
    seed_history: bool,
) -> Iterator[Live]:
    url, switch = server
    engine = make_engine(database_url)
    data_dir = tmp_path / "data"
    with Session(engine) as s, s.begin():
        world = seed(s, templates, book, history=data_dir if seed_history else None)
    settings = Settings(
        database_url=database_url,
        base_url=url,
        data_dir=data_dir,
        secret_key=secrets.token_urlsafe(32),
        _env_file=None,
    )
    app = make_app(settings, engine=engine, hasher=FAST_HASHER)
    app.dependency_overrides[get_now] = lambda: NOW  # 2026-11-23 09:00 in Shanghai
    switch.app = app
    try:
        yield Live(url, app, settings, engine, world, switch)
    finally:
        switch.app = None
        engine.dispose()


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def login(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/login")
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf": csrf_of(page.text)}
    )
    return response


@contextmanager
def logged_in(live: Live, username: str) -> Iterator[httpx.Client]:
    with live.client() as client:
        response = login(client, username)
        assert response.status_code == 303, response.text
        yield client


def form_token(client: httpx.Client, path: str) -> str:
    """The CSRF token from the page at ``path`` (which must have a form)."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)
