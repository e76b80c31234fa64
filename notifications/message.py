"""The message a channel delivers: one per person per sweep (see ``render.render_digest``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    """What the outbox hands to a channel's ``send``.

    ``key`` is the outbox de-duplication key; channels pass it on (e-mail header ``X-Houqin-Key``
    and a Message-ID derived from it, webhook body and ``Idempotency-Key`` header) so that a
    receiver can also drop a duplicate if a crash between send and record ever causes one.
    """

    recipient: str  # the person's display name
    address: str  # the person's address on this channel; "" for a group robot or webhook
    subject: str
    text: str  # plain-text body: what robots post and what mail carries as text/plain
    html: str | None = None  # optional HTML alternative, e-mail only
    key: str = ""
    attachments: tuple[str, ...] = ()  # file paths (the digest's PDF); e-mail attaches them
