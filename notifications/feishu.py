"""Feishu (飞书) group robot: ``POST {base_url}/open-apis/bot/v2/hook/TOKEN``.

With a signing secret, the body carries ``timestamp`` (seconds) and
``sign = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))`` — Feishu's scheme, which
differs from DingTalk's. It answers ``{"code": 0, "msg": "success"}`` (older deployments:
``{"StatusCode": 0}``); 19021 is a sign mismatch, 19001 an invalid token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from html import escape
from typing import Any

import httpx

from notifications.channels import ConfigReader, mask
from notifications.message import Message
from notifications.webhook import check_answer, post_json
from notifications.wecom import truncate_utf8

# 11232 frequency limited (100 a minute, 5 a second per robot), 99991400 platform rate limit.
TRANSIENT = frozenset({11232, 99991400})
# Feishu rejects request bodies over 20 KB; leave room for the JSON around the text.
MAX_TEXT_BYTES = 18 * 1024
TRUNCATED = "\n……（内容过长，请打开链接查看全部）"


def sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


class FeishuRobot:
    """Config: ``token`` (last segment of the webhook URL), ``secret`` (optional), ``base_url``,
    ``timeout``. A person's address is their open_id (``ou_...``) or user_id, for the @-mention.
    """

    name = "feishu"
    # 5 a second and 100 a minute per robot: kept by waiting (pacing.py)
    rate_limits = ((5, 1.0), (100, 60.0))

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        read = ConfigReader(self.name, config, known=("token", "secret", "base_url", "timeout"))
        self.token = read.text("token")
        if "/" in self.token:
            raise read.error("token", "give the last segment of the webhook URL, not the URL")
        self.secret = read.optional_text("secret")
        self.base_url = read.url("base_url", "https://open.feishu.cn")
        self.timeout = read.number("timeout", 10)
        self.transport = transport
        self.clock = clock

    def validate_address(self, address: str) -> str | None:
        if address == "":
            return None  # post to the group without mentioning anyone
        if address.strip() != address or any(c in address for c in ' <>"'):
            return "not a Feishu open_id or user_id (e.g. ou_...)"
        return None

    def send(self, message: Message) -> None:
        text = truncate_utf8(message.text, MAX_TEXT_BYTES, TRUNCATED)
        if message.address:
            # Feishu renders <at user_id="..."></at> in a text message as a mention.
            mention = f'<at user_id="{escape(message.address)}">{escape(message.recipient)}</at>'
            text = f"{mention}\n{text}"
        payload: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if self.secret:
            timestamp = int(self.clock())
            payload |= {"timestamp": str(timestamp), "sign": sign(self.secret, timestamp)}
        secrets = [self.token, self.secret]
        label = f"{self.name} (token {mask(self.token)})"  # names the robot, not the secret
        response = post_json(
            label,
            f"{self.base_url}/open-apis/bot/v2/hook/{self.token}",
            payload,
            timeout=self.timeout,
            transport=self.transport,
            secrets=secrets,
        )
        check_answer(
            label,
            response,
            code_fields=("code", "StatusCode"),
            transient=TRANSIENT,
            secrets=secrets,
        )
