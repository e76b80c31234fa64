"""A counting SMTP server on loopback, in its own process: ``python -m bench.smtp_sink PORT``.

It accepts every message and keeps only counts, so the sink costs as little as a mail server
can. It prints ``READY`` once listening; a line on stdin stops it, and it prints its counts as a
``BENCH-JSON`` line.
"""

from __future__ import annotations

import sys
from typing import Any

from aiosmtpd.controller import Controller

from bench.proc import emit


class Counter:
    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages += 1
        self.bytes += len(envelope.content or b"")
        return "250 OK"


def main() -> None:
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    print("READY", flush=True)
    sys.stdin.readline()
    controller.stop()
    emit({"messages": counter.messages, "bytes": counter.bytes})


if __name__ == "__main__":
    main()
