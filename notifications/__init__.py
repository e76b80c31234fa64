"""Notifications: the channel registry (e-mail, webhook, WeCom / DingTalk / Feishu robots) and
the per-person digest templates (zh-CN and en).

The outbox calls ``render_digest`` once per person per sweep, builds a ``Message`` and hands it
to ``get_channel(name, school_config).send``; a ``DeliveryError`` says whether to retry.
"""

from notifications.channels import (
    CHANNELS,
    Channel,
    ChannelConfigError,
    DeliveryError,
    get_channel,
)
from notifications.message import Message
from notifications.render import DigestGroup, DigestLine, format_deadline, render_digest

__all__ = [
    "CHANNELS",
    "Channel",
    "ChannelConfigError",
    "DeliveryError",
    "DigestGroup",
    "DigestLine",
    "Message",
    "format_deadline",
    "get_channel",
    "render_digest",
]
