"""The web UI for the load test, in its own process: ``make_app`` served by uvicorn on loopback.

``python -m bench.serve --db URL --port N --now ISO --secret KEY --data-dir DIR``. The app's
clock (the ``get_now`` dependency, the one routes use) is fixed to the benchmark's day, as the
web tests replay a day, so reminder links and the overdue page agree with the generated ledger.
"""

from __future__ import annotations

import argparse
from datetime import datetime

import uvicorn

from houqin.settings import Settings
from houqin.web.app import make_app
from houqin.web.deps import get_now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("--db", "--now", "--secret", "--data-dir"):
        parser.add_argument(name, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = Settings(
        database_url=args.db,
        secret_key=args.secret,
        data_dir=args.data_dir,
        base_url=f"http://127.0.0.1:{args.port}",
        _env_file=None,  # type: ignore[call-arg]
    )
    now = datetime.fromisoformat(args.now)
    app = make_app(settings)
    app.dependency_overrides[get_now] = lambda: now
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
