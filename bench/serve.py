"""The web UI for the load test, in its own process: ``make_app`` served by uvicorn on loopback.

``python -m bench.serve --db URL --port N --now ISO --secret KEY --data-dir DIR [--workers N]``.
The app's clock (the ``get_now`` dependency, the one routes use) is fixed to the benchmark's
day, as the web tests replay a day, so reminder links and the overdue page agree with the
generated ledger. With several workers uvicorn imports ``factory`` in each, so the options travel
in the environment.
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime

import uvicorn
from fastapi import FastAPI

from houqin.settings import Settings
from houqin.web.app import make_app
from houqin.web.deps import get_now

OPTIONS = ("db", "now", "secret", "data_dir", "port")


def factory() -> FastAPI:
    opt = {name: os.environ[f"BENCH_SERVE_{name.upper()}"] for name in OPTIONS}
    settings = Settings(
        database_url=opt["db"],
        secret_key=opt["secret"],
        data_dir=opt["data_dir"],
        base_url=f"http://127.0.0.1:{opt['port']}",
        _env_file=None,
    )
    now = datetime.fromisoformat(opt["now"])
    app = make_app(settings)
    app.dependency_overrides[get_now] = lambda: now
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("--db", "--now", "--secret", "--data-dir"):
        parser.add_argument(name, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    for name in OPTIONS:
        os.environ[f"BENCH_SERVE_{name.upper()}"] = str(getattr(args, name))
    uvicorn.run(
        "bench.serve:factory",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
