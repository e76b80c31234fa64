"""A local SMTP server that saves every message as an .eml file: the demo's mail sink."""

from __future__ import annotations

import email
import email.policy
import socket
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller


class MailSink:
    """Listens on 127.0.0.1 (a free port); ``files`` lists what arrived, in order."""

    def __init__(self, directory: Path, port: int = 0):
        self.directory = directory
        self.port = port or _free_port()
        self.files: list[Path] = []
        self.subjects: dict[Path, str] = {}
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        to = ",".join(envelope.rcpt_tos).replace("@", "_at_")
        path = self.directory / f"{len(self.files) + 1:04d}-{to}.eml"
        path.write_bytes(raw)
        self.files.append(path)
        self.subjects[path] = str(message["Subject"])
        return "250 OK"

    def __enter__(self) -> MailSink:
        self.directory.mkdir(parents=True, exist_ok=True)
        for old in self.directory.glob("*.eml"):
            old.unlink()
        self._controller.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._controller.stop()


def _free_port() -> int:
    # aiosmtpd cannot take port 0 (it connects to itself to check), so pick one first
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
