"""Generic JSON webhook, and the HTTP plumbing the WeCom, DingTalk and Feishu robots share.

Robots answer HTTP 200 even when they reject a message, with the verdict in the JSON body
(``errcode`` / ``code``); ``check_answer`` reads it, because counting any 200 as sent is how
other tools lose messages silently.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from notifications.channels import ConfigReader, DeliveryError, scrub
from notifications.message import Message

USER_AGENT = "houqin-notifications"
# No connection, so no request; or a request not written whole, and a server acts only on a
# whole request: nothing was handed over, so these are retried.
NOT_HANDED_OVER = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
)


@cache
def _tls_context() -> ssl.SSLContext:
    # Building a context (loading the CA bundle) costs ~25 ms; a client per send is then cheap,
    # and a client closed after each send leaves no pooled socket behind.
    return httpx.create_ssl_context()


def origin(url: str) -> str:
    """``scheme://host[:port]`` only: webhook paths and queries often carry the credential."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def post_json(
    channel: str,
    url: str,
    payload: Mapping[str, Any],
    *,
    timeout: float,
    transport: httpx.BaseTransport | None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    secrets: Iterable[str | None] = (),
) -> httpx.Response:
    """POST ``payload`` as JSON and return the 2xx response. No connection, 429 and 5xx raise a
    temporary ``DeliveryError``, any other non-2xx a permanent one, and a request sent but not
    answered an unconfirmed one."""
    secrets = list(secrets)
    where = origin(url)
    request_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    try:
        if transport is None:
            with httpx.Client(timeout=timeout, verify=_tls_context()) as client:
                response = client.post(url, json=payload, headers=request_headers, params=params)
        else:
            # Closing a client closes its transport, and an injected transport is the caller's.
            client = httpx.Client(transport=transport, timeout=timeout)
            response = client.post(url, json=payload, headers=request_headers, params=params)
    except NOT_HANDED_OVER as exc:
        reason = scrub(str(exc) or type(exc).__name__, secrets)
        raise DeliveryError(f"{channel}: {where}: {reason}") from exc
    except httpx.TransportError as exc:
        # Read timeout, connection closed without an answer: the request went out and the
        # robot may have posted it. Never resent on its own.
        if isinstance(exc, httpx.TimeoutException):
            reason = f"no answer within {timeout:g} s"
        else:
            reason = scrub(str(exc) or type(exc).__name__, secrets)
        raise DeliveryError(
            f"{channel}: {where}: {reason} after the request was sent; it may have arrived",
            unconfirmed=True,
        ) from exc
    status = response.status_code
    if 200 <= status < 300:
        return response
    body = scrub(response.text[:200].strip(), secrets)
    text = f"{channel}: {where}: HTTP {status}" + (f": {body}" if body else "")
    raise DeliveryError(text, permanent=not (status == 429 or status >= 500))


def check_answer(
    channel: str,
    response: httpx.Response,
    *,
    code_fields: tuple[str, ...],
    transient: frozenset[int],
    secrets: Iterable[str | None] = (),
) -> None:
    """Raise unless the robot's JSON answer says success (the first of ``code_fields`` present
    is 0). Codes in ``transient`` (rate limits, "system busy") are retried; others are not."""
    secrets = list(secrets)
    try:
        answer = response.json()
    except ValueError as exc:
        # A 2xx page from something in front of the API: whether the robot posted is unknown.
        raise DeliveryError(
            f"{channel}: answer is not JSON: {response.text[:80]!r}; it may have arrived",
            unconfirmed=True,
        ) from exc
    if not isinstance(answer, dict):
        raise DeliveryError(
            f"{channel}: unexpected answer {str(answer)[:80]!r}; it may have arrived",
            unconfirmed=True,
        )
    for field in code_fields:
        if field in answer:
            code = answer[field]
            break
    else:
        fields = " or ".join(code_fields)
        shown = scrub(str(answer)[:200], secrets)
        raise DeliveryError(f"{channel}: answer has no {fields}: {shown}", permanent=True)
    if code == 0:
        return
    errmsg = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
    text = scrub(f"{channel}: error {code}: {errmsg}", secrets)
    raise DeliveryError(text, permanent=code not in transient)


class WebhookChannel:
    """POST ``{key, recipient, address, subject, text}`` as JSON to a URL; any 2xx is success.

    Config: ``url``, ``headers`` (optional, e.g. an Authorization header), ``timeout``.
    """

    name = "webhook"

    def __init__(
        self, config: Mapping[str, Any], *, transport: httpx.BaseTransport | None = None
    ) -> None:
        read = ConfigReader(self.name, config, known=("url", "headers", "timeout"))
        self.url = read.url("url")
        self.headers = read.headers("headers")
        self.timeout = read.number("timeout", 10)
        self.transport = transport
        # Hook URLs often carry their credential in the path or query, and servers echo it.
        parts = urlsplit(self.url)
        self.secrets = [self.url, parts.path.strip("/"), parts.query, *self.headers.values()]

    def validate_address(self, address: str) -> str | None:
        return None  # a free-form recipient id for the receiving system; may be empty

    def send(self, message: Message) -> None:
        payload = {
            "key": message.key,
            "recipient": message.recipient,
            "address": message.address,
            "subject": message.subject,
            "text": message.text,
        }
        headers = dict(self.headers)
        if message.key:
            # Header values must be ASCII; outbox keys normally are, but never fail on one.
            headers["Idempotency-Key"] = quote(message.key, safe="!#$&'()*+,/:;=?@[]~")
        post_json(
            self.name,
            self.url,
            payload,
            timeout=self.timeout,
            transport=self.transport,
            headers=headers,
            secrets=self.secrets,
        )
