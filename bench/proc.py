"""Running a measurement in its own process, and reading back what it found."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

MARK = "BENCH-JSON "


def run_json(
    module: str, args: list[str], *, timeout: float, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """``python -m module args``; returns its ``BENCH-JSON`` line, or raises with its stderr."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARK):
            found: dict[str, Any] = json.loads(line[len(MARK) :])
            return found
    raise RuntimeError(
        f"python -m {module} exited {done.returncode} without a result:\n"
        f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )


def emit(found: dict[str, Any]) -> None:
    print(MARK + json.dumps(found), flush=True)
