"""The access log without secrets: reminder-link and calendar-feed tokens are masked.

The token in ``/l/{token}`` opens an item without a password and the one in
``/ical/{token}.ics`` reads a person's calendar, so neither may sit in a log file that more
people read than should open those. The log keeps their first characters (enough to match a
complaint to a line) and nothing more. ``houqin serve`` gives uvicorn ``log_config()``.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

from notifications.channels import mask

TOKEN = re.compile(r"(/(?:l|ical)/)([^/?#\s\"]+)")


def mask_tokens(text: str) -> str:
    """``/l/WzEsMiwi...abc`` -> ``/l/WzEs***``; ``/ical/Qx7f...zz.ics`` -> ``/ical/Qx7f***.ics``."""

    def masked(found: re.Match[str]) -> str:
        token = found[2]
        suffix = ".ics" if token.endswith(".ics") else ""
        return f"{found[1]}{mask(token.removesuffix('.ics'))}{suffix}"

    return TOKEN.sub(masked, text)


class MaskTokens(logging.Filter):
    """Masks tokens in a log record's message and arguments (uvicorn's access line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_tokens(a) if isinstance(a, str) else a for a in record.args)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging set-up, with tokens masked in the access log."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"mask_tokens": {"()": f"{__name__}.MaskTokens"}}
    config["loggers"]["uvicorn.access"]["filters"] = ["mask_tokens"]
    return config
