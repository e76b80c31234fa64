"""How long `houqin launch` takes a person at a terminal while the system is up.

A Prefect server runs as under `make up` (its start is not timed); each launch is a new process
for a school not yet launched, so every run does the whole job: start Python, check the
ledger and the plan, record the run on the server, write the plan run and its items, print.
The baseline, from the same run: the same command for a school already launched, which the
ledger answers without a run (start, imports, the checks). `python -c "import prefect"` is
timed too: what the launch paid when it ran as a flow in-process, and no longer does
(flows/recorded_run.py).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.results import Section

ROOT = Path(__file__).resolve().parent.parent
ROSTER = ROOT / "examples" / "demo-school.yaml"
HOUQIN = [sys.executable, "-m", "houqin.cli"]


@dataclass
class Timings:
    launches: list[float]
    already: list[float]
    import_prefect: list[float]


def _timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()}")
    return took


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(runs: int = 9) -> Timings:
    with tempfile.TemporaryDirectory(prefix="houqin-bench-cli-") as tmp:
        port = _free_port()
        api = f"http://127.0.0.1:{port}/api"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env |= {
            "HOUQIN_DATABASE_URL": f"sqlite:///{tmp}/ledger.sqlite",
            "HOUQIN_DATA_DIR": f"{tmp}/data",
            "HOUQIN_PREFECT_API_URL": api,
        }
        server_env = env | {"PREFECT_HOME": f"{tmp}/prefect", "DO_NOT_TRACK": "1"}
        Path(f"{tmp}/prefect").mkdir()
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--port", str(port)],
            env=server_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(api)
            _timed([*HOUQIN, "init"], env)
            codes = [f"s{n:02d}" for n in range(runs)]
            for code in codes:
                _timed([*HOUQIN, "people", "import", str(ROSTER), "--school", code], env)
            launch = ["launch", "gaokao_security", "--period", "2026-2027", "--school"]
            launches = [_timed([*HOUQIN, *launch, code], env) for code in codes]
            already = [_timed([*HOUQIN, *launch, code], env) for code in codes[:5]]
            floor = [_timed([sys.executable, "-c", "import prefect"], env) for _ in range(5)]
        finally:
            server.terminate()
            server.wait(timeout=60)
    return Timings(launches, already, floor)


def _wait_for(api: str, seconds: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"no Prefect server answered at {api} within {seconds} s")


def report(t: Timings, sec: Section) -> None:
    median = statistics.median(t.launches)
    already = statistics.median(t.already)
    sec.add(
        f"`houqin launch` with the system up, median of {len(t.launches)} (a new school each)",
        median,
        "s",
        baseline=f"the same command, already launched (no run): {already:.2f} s",
        ratio=median / already,
        target="< 3 s",
        met=median < 3.0,
    )
    sec.notes.append(
        "Each launch: " + ", ".join(f"{s:.2f}" for s in t.launches) + " s. "
        f'`python -c "import prefect"`: median {statistics.median(t.import_prefect):.2f} s, '
        "which the launch does not pay (its run is recorded through Prefect's REST API)."
    )


def main() -> None:
    from bench.results import Section as S

    sec = S("commands", "Commands")
    report(measure(), sec)
    for row in sec.rows:
        print(f"{row.measure}: {row.value:.2f} {row.unit} ({row.baseline}; ×{row.ratio:.2f})")
    print("\n".join(sec.notes))


if __name__ == "__main__":
    main()
