"""A flow run recorded through Prefect's REST API by the command that does the work.

`houqin launch` at a terminal must answer in seconds, and importing Prefect alone costs 1–2 s
on the machines measured (bench/RESULTS.md, section 7): more than the launch
itself. So with a server up, the command records its run as Prefect's engine would (the flow by
name, a run named for what it does, Running, its log lines and events, then Completed or
Failed) in a few HTTP calls, tens of milliseconds, and does the ledger's work itself. The run
shows in the UI like any other, and the server emits its state events, so the automation on
Failed runs (flows/alerts.py) sees it. Nothing here imports Prefect.

A server that needs credentials is left to Prefect's own client (``needs_credentials``).
"""

from __future__ import annotations

import logging
import os
import traceback
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from houqin.errors import SetupError

CREDENTIALS = ("PREFECT_API_KEY", "PREFECT_API_AUTH_STRING")


def needs_credentials() -> bool:
    """Whether Prefect is set up to authenticate; this module sends no credentials."""
    return any(os.environ.get(name) for name in CREDENTIALS)


class NotRecorded(SetupError):
    """The Prefect server answered its health check but did not record the run."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _error(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code} from {exc.request.url.path}"
    return f"{type(exc).__name__}: {exc}"


class RecordedRun:
    """One flow run on the server at ``api_url``: ``start`` it, do the work, then ``complete``
    or ``fail`` it. Nothing is retried: a second POST could record the run twice."""

    def __init__(self, api_url: str, client: httpx.Client) -> None:
        self.api_url = api_url
        self.id = self.flow_id = ""
        self._client = client

    @classmethod
    def start(
        cls,
        api_url: str,
        *,
        flow: str,
        name: str,
        parameters: Mapping[str, Any],
        tags: Sequence[str],
    ) -> RecordedRun:
        """The run, created Running under the flow named ``flow``; NotRecorded if the server
        refuses (then nothing has started)."""
        run = cls(api_url, httpx.Client(base_url=api_url.rstrip("/"), timeout=10))
        try:
            run.flow_id = str(run._post("/flows/", {"name": flow})["id"])
            run.id = str(
                run._post(
                    "/flow_runs/",
                    {
                        "flow_id": run.flow_id,
                        "name": name,
                        "parameters": dict(parameters),
                        "tags": list(tags),
                        "state": {"type": "RUNNING", "name": "Running"},
                    },
                )["id"]
            )
        except NotRecorded:
            run._client.close()
            raise
        return run

    def log(self, message: str, level: int = logging.INFO) -> None:
        entry = {"name": "houqin", "level": level, "message": message, "timestamp": _now()}
        self._post("/logs/", [entry | {"flow_run_id": self.id}])

    def event(
        self,
        event: str,
        resource: Mapping[str, str],
        related: Sequence[Mapping[str, str]],
        payload: Mapping[str, Any],
    ) -> None:
        """An event in Prefect's feed, related to this run as the engine relates its own."""
        this = [
            {
                "prefect.resource.id": f"prefect.flow-run.{self.id}",
                "prefect.resource.role": "flow-run",
            },
            {
                "prefect.resource.id": f"prefect.flow.{self.flow_id}",
                "prefect.resource.role": "flow",
            },
        ]
        body = {
            "id": str(uuid.uuid4()),
            "occurred": _now(),
            "event": event,
            "resource": dict(resource),
            "related": [dict(r) for r in related] + this,
            "payload": dict(payload),
        }
        self._post("/events", [body])

    def complete(self, message: str) -> None:
        self._finish("COMPLETED", "Completed", message)

    def fail(self, exc: BaseException) -> None:
        """Failed with the error as its message, and its traceback in the run's logs."""
        detail = "".join(traceback.format_exception(exc))
        try:
            self.log(detail, logging.ERROR)
        finally:
            self._finish("FAILED", "Failed", f"{type(exc).__name__}: {exc}")

    def _finish(self, kind: str, name: str, message: str) -> None:
        try:
            state = {"type": kind, "name": name, "message": message}
            answer = self._post(f"/flow_runs/{self.id}/set_state", {"state": state})
        finally:
            self._client.close()
        if answer["status"] != "ACCEPT":  # e.g. cancelled in the UI meanwhile
            raise NotRecorded(
                f"the Prefect server did not mark run {self.id} {name} "
                f"({answer['status']}: {answer.get('details')})"
            )

    def _post(self, path: str, body: Any) -> Any:
        """The answer's JSON; NotRecorded naming the server and the path when it fails."""
        try:
            response = self._client.post(path, json=body)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise NotRecorded(
                f"the Prefect server at {self.api_url} did not record the run ({_error(exc)})"
            ) from exc
        return response.json() if response.content else None
