"""WeCom (企业微信) group robot: ``POST {base_url}/cgi-bin/webhook/send?key=KEY``.

The robot posts to its group and @-mentions the person by mobile number. It answers HTTP 200
with ``{"errcode": 0, "errmsg": "ok"}`` on success and e.g. ``93000`` (invalid webhook url)
otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from notifications.channels import ConfigReader, mask
from notifications.message import Message
from notifications.webhook import check_answer, post_json

MOBILE = re.compile(r"1[3-9]\d{9}")
# WeCom's documented limit for text content; longer content is rejected (errcode 40058).
MAX_CONTENT_BYTES = 2048
TRUNCATED = "\n……（内容过长，请打开链接查看全部）"
# -1 system busy, 45009 API frequency limit (20 messages a minute per robot): retry later.
TRANSIENT = frozenset({-1, 45009})


def validate_mobile(address: str) -> str | None:
    """For WeCom and DingTalk: "" (post to the group, mention nobody) or an 11-digit mobile."""
    if address == "" or MOBILE.fullmatch(address):
        return None
    return "not a Chinese mobile number (11 digits starting with 1)"


def truncate_utf8(text: str, limit: int, marker: str) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, ending in ``marker`` if it was cut."""
    if len(text.encode()) <= limit:
        return text
    room = limit - len(marker.encode())
    return text.encode()[:room].decode(errors="ignore") + marker


class WeComRobot:
    """Config: ``key`` (from the robot's webhook URL), ``base_url``, ``timeout``."""

    name = "wecom"
    rate_limits = ((20, 60.0),)  # per robot, kept by waiting (pacing.py)

    def __init__(
        self, config: Mapping[str, Any], *, transport: httpx.BaseTransport | None = None
    ) -> None:
        read = ConfigReader(self.name, config, known=("key", "base_url", "timeout"))
        self.key = read.text("key")
        self.base_url = read.url("base_url", "https://qyapi.weixin.qq.com")
        self.timeout = read.number("timeout", 10)
        self.transport = transport

    def validate_address(self, address: str) -> str | None:
        return validate_mobile(address)

    def send(self, message: Message) -> None:
        text: dict[str, Any] = {
            "content": truncate_utf8(message.text, MAX_CONTENT_BYTES, TRUNCATED)
        }
        if message.address:
            text["mentioned_mobile_list"] = [message.address]
        label = f"{self.name} (key {mask(self.key)})"  # names the robot, not the secret
        response = post_json(
            label,
            f"{self.base_url}/cgi-bin/webhook/send",
            {"msgtype": "text", "text": text},
            params={"key": self.key},
            timeout=self.timeout,
            transport=self.transport,
            secrets=[self.key],
        )
        check_answer(
            label, response, code_fields=("errcode",), transient=TRANSIENT, secrets=[self.key]
        )
