"""What every ``houqin`` command shares: settings, the ledger's engine, "now", options, output.

A command is thin: parse, open one unit of work with ``Ctx.unit()``, call one core function,
print. The context is the root group's object; a group invoked on its own (as tests do) gets a
fresh one from ``pass_ctx``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from houqin import clock
from houqin.db import make_engine, unit_of_work
from houqin.prefect_env import Orchestrator, configure
from houqin.schema import check_schema
from houqin.settings import Settings, get_settings

DATE = click.DateTime(formats=["%Y-%m-%d"])


class Ctx:
    """One command's settings, engine and clock."""

    def __init__(self, lang: str | None = None, settings: Settings | None = None):
        self.lang = lang or os.environ.get("HOUQIN_LANG", "zh-CN")
        self.settings = settings or get_settings()
        self._engine: Engine | None = None

    def engine(self, *, check: bool = True) -> Engine:
        """One engine per command, disposed when the command ends; the schema is checked first
        (``houqin init`` passes ``check=False``: it is the command that fixes the schema)."""
        if self._engine is None:
            engine = make_engine(self.settings)
            click.get_current_context().call_on_close(engine.dispose)
            if check:
                check_schema(engine)
            self._engine = engine
        return self._engine

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """The command's one transaction: committed when the command's work succeeds."""
        with unit_of_work(self.engine()) as session:
            yield session

    def now(self, today: datetime | None, at: str | None = None) -> datetime:
        """The instant a command acts at: ``--today`` (replayed, at ``--at`` or 09:00) or now."""
        if today is None:
            return clock.now(self.settings.timezone)
        return clock.moment(today.date(), at or "09:00", self.settings.timezone)

    def orchestrator(self) -> Orchestrator:
        """Prefect set up for a flow run (call before importing ``flows``): where it goes."""
        return configure(self.settings)

    def out(self, given: Path | None, name: str, fmt: str) -> Path:
        """Where a command writes a file: ``--out``, or ``<data dir>/reports/<name>.<fmt>``."""
        return given or self.settings.data_dir / "reports" / f"{name}.{fmt}"


pass_ctx = click.make_pass_decorator(Ctx, ensure=True)

today_option = click.option(
    "--today", type=DATE, help="Act as if today were this date (YYYY-MM-DD), to replay a season."
)
at_option = click.option("--at", "at", metavar="HH:MM", help="With --today: the time of day.")
by_option = click.option(
    "--by", default="cli", show_default=True, help="Who does it (for the audit trail)."
)
