"""DingTalk (钉钉) group robot: ``POST {base_url}/robot/send?access_token=TOKEN``.

With a signing secret ("加签"), DingTalk wants ``timestamp`` (ms) and ``sign`` in the query:
``sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))``. It answers
``{"errcode": 0, "errmsg": "ok"}``; 310000 is a keyword/sign/IP mismatch, 300001 a bad token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from notifications.channels import ConfigReader, mask
from notifications.message import Message
from notifications.webhook import check_answer, post_json
from notifications.wecom import validate_mobile

# -1 system busy, 130101 more than 20 messages a minute (DingTalk then throttles 10 minutes).
TRANSIENT = frozenset({-1, 130101})


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature, base64 but not yet URL-encoded (httpx encodes query values)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class DingTalkRobot:
    """Config: ``token`` (the webhook's access_token), ``secret`` (optional), ``base_url``,
    ``timeout``."""

    name = "dingtalk"
    rate_limits = ((20, 60.0),)  # per robot, kept by waiting (pacing.py)

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        read = ConfigReader(self.name, config, known=("token", "secret", "base_url", "timeout"))
        self.token = read.text("token")
        self.secret = read.optional_text("secret")
        self.base_url = read.url("base_url", "https://oapi.dingtalk.com")
        self.timeout = read.number("timeout", 10)
        self.transport = transport
        self.clock = clock  # the signature's timestamp must be within an hour of DingTalk's clock

    def validate_address(self, address: str) -> str | None:
        return validate_mobile(address)

    def send(self, message: Message) -> None:
        params = {"access_token": self.token}
        if self.secret:
            timestamp = int(self.clock() * 1000)
            params |= {"timestamp": str(timestamp), "sign": sign(self.secret, timestamp)}
        content = message.text
        payload: dict[str, Any] = {"msgtype": "text", "text": {"content": content}}
        if message.address:
            # DingTalk shows the mention only if "@mobile" also appears in the content.
            payload["text"]["content"] = f"{content}\n@{message.address}"
            payload["at"] = {"atMobiles": [message.address], "isAtAll": False}
        secrets = [self.token, self.secret]
        label = f"{self.name} (token {mask(self.token)})"  # names the robot, not the secret
        response = post_json(
            label,
            f"{self.base_url}/robot/send",
            payload,
            params=params,
            timeout=self.timeout,
            transport=self.transport,
            secrets=secrets,
        )
        check_answer(
            label, response, code_fields=("errcode",), transient=TRANSIENT, secrets=secrets
        )
