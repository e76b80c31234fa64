"""The channel registry, the ``Channel`` protocol, its errors, and shared config helpers.

Each channel is a small class in its own module, named in ``CHANNELS`` and imported only when
used, so a school that never configures DingTalk never imports it. A channel validates its
config when constructed and raises ``DeliveryError`` from ``send``; the retry loop lives once,
in the outbox, and uses ``permanent`` to decide whether retrying can help.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol, runtime_checkable

import httpx

from notifications.message import Message

CHANNELS: dict[str, str] = {
    "email": "notifications.email:EmailChannel",
    "webhook": "notifications.webhook:WebhookChannel",
    "wecom": "notifications.wecom:WeComRobot",
    "dingtalk": "notifications.dingtalk:DingTalkRobot",
    "feishu": "notifications.feishu:FeishuRobot",
}


class DeliveryError(Exception):
    """A send did not succeed, and what is known about it.

    ``permanent``: it was refused and retrying the same message cannot help (bad key, rejected
    address, refused credentials). ``unconfirmed``: the message was handed over (SMTP's final
    dot sent, the HTTP request written) and then the answer never came (timeout, connection
    lost), so it may have arrived: the outbox never resends it on its own. Otherwise it was
    refused for now or never handed over (connection refused, 4xx, busy, 5xx) and is retried.
    """

    def __init__(self, message: str, *, permanent: bool = False, unconfirmed: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unconfirmed = unconfirmed


class Withheld(Exception):  # noqa: N818 - a decision, not an error
    """A ``send_gated`` message stopped by its gate before anything of it was handed over
    (the exception the gate raised is the cause)."""


class ChannelConfigError(ValueError):
    """A school's channel config is unusable; the text names the channel and the field,
    e.g. ``wecom: key: missing``."""

    def __init__(self, channel: str, field: str, problem: str) -> None:
        super().__init__(f"{channel}: {field}: {problem}" if field else f"{channel}: {problem}")
        self.channel = channel
        self.field = field


@runtime_checkable
class Channel(Protocol):
    name: str

    def validate_address(self, address: str) -> str | None:
        """None if ``address`` is usable on this channel, else what is wrong with it."""
        ...

    def send(self, message: Message) -> None:
        """Deliver ``message`` or raise ``DeliveryError``."""
        ...


def get_channel(
    name: str, config: Mapping[str, Any], *, transport: httpx.BaseTransport | None = None
) -> Channel:
    """Build the channel ``name`` from a school's ``config``; raises ``ChannelConfigError``.

    ``transport`` is the httpx seam for the HTTP channels (tests inject one); e-mail ignores it.
    """
    target = CHANNELS.get(name)
    if target is None:
        known = ", ".join(sorted(CHANNELS))
        raise ChannelConfigError(name, "", f"unknown channel (known: {known})")
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    channel: Channel = cls(config, transport=transport)
    return channel


def batch(channel: Channel) -> AbstractContextManager[Any]:
    """A context in which ``channel`` keeps what it opens (an SMTP connection) from one send to
    the next, closed at its end; channels without one (HTTP robots) need nothing kept."""
    opener = getattr(channel, "batch", None)
    return opener() if callable(opener) else nullcontext()


# --- config helpers shared by the channel classes -------------------------------------------


class ConfigReader:
    """Reads one channel's config dict, raising ``ChannelConfigError`` that names the field."""

    def __init__(self, channel: str, config: Mapping[str, Any], known: Iterable[str]) -> None:
        if not isinstance(config, Mapping):
            raise ChannelConfigError(channel, "", "config must be a mapping")
        self.channel = channel
        self.config = config
        # A misspelt field (``tokn``) would otherwise be ignored and fail only at send time.
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise ChannelConfigError(
                channel, unknown[0], f"unknown field (known: {', '.join(sorted(known))})"
            )

    def error(self, field: str, problem: str) -> ChannelConfigError:
        return ChannelConfigError(self.channel, field, problem)

    def text(self, field: str, default: str | None = None) -> str:
        value = self.config.get(field, default)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise self.error(field, "missing")
        if not isinstance(value, str):
            raise self.error(field, f"must be a string, not {type(value).__name__}")
        return value.strip()

    def optional_text(self, field: str) -> str | None:
        if self.config.get(field) in (None, ""):
            return None
        return self.text(field)

    def url(self, field: str, default: str | None = None) -> str:
        value = self.text(field, default).rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise self.error(field, f"must start with http:// or https:// (got {value[:40]!r})")
        return value

    def flag(self, field: str, default: bool = False) -> bool:
        value = self.config.get(field, default)
        if not isinstance(value, bool):
            raise self.error(field, f"must be true or false, not {value!r}")
        return value

    def number(self, field: str, default: float) -> float:
        value = self.config.get(field, default)
        # bool is an int subclass; "timeout: true" is a mistake, not 1 second.
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.error(field, f"must be a positive number, not {value!r}")
        return float(value)

    def port(self, field: str, default: int) -> int:
        value = self.config.get(field, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
            raise self.error(field, f"must be a port number, not {value!r}")
        return value

    def headers(self, field: str) -> dict[str, str]:
        value = self.config.get(field) or {}
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self.error(field, "must map header names to string values")
        return dict(value)


def mask(secret: str) -> str:
    """A secret as it may appear in an error message: enough to tell two keys apart, no more."""
    return f"{secret[:4]}***" if len(secret) >= 16 else "***"


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret replaced by its mask (error texts end up in the outbox)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask(secret))
    return text
