"""``make_app(settings)``: the web UI as one FastAPI application. Nothing is built at import.

houqin serve        # or: uvicorn --factory --no-proxy-headers houqin.web.app:create_app
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from calendars import CalendarBook
from houqin.accounts import default_hasher
from houqin.bilingual import Bilingual
from houqin.db import make_engine
from houqin.errors import SetupError, ValidationFailed
from houqin.plan_specs import PlanTemplate
from houqin.secret_key import signing_key
from houqin.settings import Settings, get_settings
from houqin.sources import calendars_stamp, load_calendars, load_plans
from houqin.web import (
    board,
    error_pages,
    head,
    health,
    ical,
    links,
    login,
    offline,
    outbox,
    replan,
    reports,
    review,
    staff,
    ticks,
)
from houqin.web.middleware import BodyLimit, RequestState
from houqin.web.render import environment

STATIC = Path(__file__).parent / "static"


class Sources:
    """Plan templates (read on first use and kept: they change with a deploy) and calendars
    (read again whenever their files change: a notice entered in another worker process or by
    `houqin calendar notice` is seen by the next request, not after a restart)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._plans: dict[str, PlanTemplate] | None = None
        self._book: CalendarBook | None = None
        self._stamp: object = None

    def plans(self) -> dict[str, PlanTemplate]:
        with self._lock:
            if self._plans is None:
                self._plans = load_plans(self.settings)
            return self._plans

    def book(self) -> CalendarBook:
        """The calendars as the files are now; a file that does not load is refused here, as
        by every command, until it is mended (the stamp is kept only for a book that loaded)."""
        stamp = calendars_stamp(self.settings)
        with self._lock:
            if self._book is None or stamp != self._stamp:
                try:
                    self._book = load_calendars(self.settings)
                except ValidationFailed as exc:  # the page names each file, line and field
                    listed = "；".join(str(p) for p in exc.problems)
                    raise SetupError(
                        Bilingual(
                            f"校历文件有误，请改正后再试（未做任何更改）：{listed}",
                            f"A calendar file has problems; mend it and try again "
                            f"(nothing was changed): {listed}",
                        )
                    ) from exc
                self._stamp = stamp
            return self._book


def make_app(
    settings: Settings, *, engine: Engine | None = None, hasher: PasswordHasher | None = None
) -> FastAPI:
    """The application. Tests pass their own settings (and a cheap password hasher).

    Refuses to start (SetupError) without a secret key fit to sign with (houqin/secret_key.py).
    """
    signing_key(settings)
    app = FastAPI(
        title="Houqin 后勤",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=partial(_lifespan, threads=settings.web_threads),
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings)
    app.state.hasher = hasher or default_hasher()
    app.state.secure = settings.base_url.startswith("https://")
    app.state.templates = environment()
    app.state.sources = Sources(settings)
    error_pages.install(app)
    for module in (
        health,
        login,
        staff,
        ticks,
        head,
        board,
        outbox,
        review,
        reports,
        links,
        ical,
        replan,
        offline,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(RequestState, secure=app.state.secure)
    app.add_middleware(BodyLimit, limit=settings.max_body_mb * 2**20)
    if settings.proxy_networks():  # outermost: the client's address is settled first
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.proxy_networks())
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI, *, threads: int) -> AsyncIterator[None]:
    # sync routes run in anyio's default thread pool (40 threads unless told)
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    yield


def create_app() -> Any:
    """For ``uvicorn --factory``: the app from the environment's settings."""
    return make_app(get_settings())
