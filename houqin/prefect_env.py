"""Prefect's settings, decided by Houqin's own entry points before Prefect is imported.

Prefect reads its settings from the environment once, at import. So ``houqin`` (and ``flows``,
for workers and ``python -m flows.serve``) set them here first, whoever starts them and from
wherever: no telemetry or analytics calls (this machine has no network and they only print
errors), Prefect's home beside the ledger's data, and the API of the server ``make up`` runs
when it answers, so a command's flow run shows in that server's UI. Nothing here imports Prefect.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from houqin.settings import Settings

QUIET = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    # A first start migrates Prefect's new database; on a slow, shared machine that outlasts
    # Prefect's default 20 s ("Timed out ... ephemeral Prefect API server").
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


@dataclass(frozen=True)
class Orchestrator:
    """Where flow runs are recorded: a running server (``ui`` set) or a temporary one."""

    api_url: str | None
    home: str

    @property
    def ui(self) -> str | None:
        return self.api_url.removesuffix("/api") if self.api_url else None

    def run_url(self, flow_run_id: object) -> str | None:
        return f"{self.ui}/runs/flow-run/{flow_run_id}" if self.ui else None

    def describe(self, flow_run_id: object) -> str:
        """One line saying where a run was recorded."""
        if self.ui:
            return f"Prefect run: {self.run_url(flow_run_id)}"
        return (
            f"Prefect run {flow_run_id} recorded in {self.home} (no Prefect server answered; "
            "`make up` starts one and shows it)"
        )


def quiet_defaults(settings: Settings) -> None:
    """Telemetry off and Prefect's home under the data directory, unless already set."""
    for name, value in QUIET.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("PREFECT_HOME", str((settings.data_dir / "prefect").resolve()))
    # Prefect creates its home without parents, and fails when they are missing
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)


def configure(settings: Settings) -> Orchestrator:
    """Set Prefect's environment for a command about to run a flow, and say where it goes.

    Once Prefect is imported its settings are fixed (a test harness, a worker): they are left
    as they are and reported.
    """
    if "prefect" not in sys.modules:
        quiet_defaults(settings)
        # A command prints its own one-line answer; the run's INFO log still goes to the API
        # (the UI shows it); the terminal gets errors only (not shutdown warnings).
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "ERROR")
        if "PREFECT_API_URL" not in os.environ and _answers(settings.prefect_api_url):
            os.environ["PREFECT_API_URL"] = settings.prefect_api_url
    api = os.environ.get("PREFECT_API_URL") or None
    return Orchestrator(api_url=api, home=os.environ.get("PREFECT_HOME", "~/.prefect"))


def _answers(api_url: str) -> bool:
    """Whether a Prefect API answers at ``api_url`` (a quick local probe, never retried)."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=1) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError, ValueError):
        return False
