"""E-mail over SMTP with ``smtplib`` and ``EmailMessage`` (UTF-8 subject, text + HTML parts).

SMTP reply codes decide retrying: 5xx (recipient refused, message rejected, bad credentials) is
permanent, 4xx and anything on the network is temporary.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
import secrets
import smtplib
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.encoders import encode_base64
from email.errors import HeaderParseError
from email.header import Header
from email.headerregistry import Address
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from notifications.channels import ConfigReader, DeliveryError, Withheld
from notifications.message import Message

if TYPE_CHECKING:
    from typing_extensions import Buffer

# A plain ASCII addr-spec with a dotted domain; the mail server is the final judge. (Non-ASCII
# addresses would need SMTPUTF8, which school mail servers rarely offer.)
ADDRESS = re.compile(r"[!#-'*+\-./0-9=?A-Z^-~]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


WIRE = compat32.clone(linesep="\r\n")  # SMTP's line ends, whatever the platform's
FIELDS = ("host", "port", "starttls", "ssl", "username", "password", "sender", "timeout", "cafile")


@lru_cache(maxsize=4096)  # the same few thousand addresses, checked on every send
def is_address(address: str) -> bool:
    if not ADDRESS.fullmatch(address):
        return False
    try:
        Address(addr_spec=address)  # the parser the message is built with: catches "a..b@x"
    except (ValueError, HeaderParseError):
        return False
    return True


def _code_error(what: str, code: int, reply: bytes | str) -> DeliveryError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    return DeliveryError(f"email: {what}: {code} {text}".strip(), permanent=code >= 500)


def _attachment(name: str) -> MIMEBase:
    path = Path(name)
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    part = MIMEBase(*kind.split("/", 1))
    part.set_payload(path.read_bytes())
    encode_base64(part)
    if path.name.isascii():
        part.add_header("Content-Disposition", "attachment", filename=path.name)
    else:  # RFC 2231
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", path.name))
    return part


def _part(subtype: str, content: str) -> tuple[str, bytes]:
    """A UTF-8 text part's headers and its body in base64 lines of 76, as MIMEText makes it."""
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        "Content-Transfer-Encoding: base64"
    )
    return head, base64.encodebytes(content.encode("utf-8")).replace(b"\n", b"\r\n")


class _HandOver(smtplib.SMTP):
    """``smtplib.SMTP`` that notes when a message's data, final dot included, has been written:
    after that point a lost answer means the server may have accepted it."""

    handed_over = False
    _in_data = False
    gate: Callable[[], None] | None = None

    def data(self, msg: Buffer | str) -> tuple[int, bytes]:
        if self.gate is not None:  # the envelope is accepted; the message waits for its gate
            try:
                self.gate()
            except Exception as exc:
                try:
                    self.rset()  # the session stays usable for the next message
                except (OSError, smtplib.SMTPException):
                    self.close()
                raise Withheld(str(exc)) from exc
        self._in_data = True
        try:
            return super().data(msg)
        finally:
            self._in_data = False

    def send(self, s: Buffer | str) -> None:
        super().send(s)
        # Inside DATA, the command itself is written as str and the message (ending in the
        # final dot) as bytes.
        if self._in_data and isinstance(s, bytes):
            self.handed_over = True


class _HandOverSsl(_HandOver, smtplib.SMTP_SSL):
    pass


class _NotHandedOver(DeliveryError):
    """The connection failed before the message's data went out: nothing was handed over."""


class EmailChannel:
    """Config: ``host``, ``port`` (25), ``starttls`` (false), ``ssl`` (false; implicit TLS as on
    port 465), ``username`` and ``password`` (optional, AUTH after TLS), ``sender`` (From, e.g.
    ``后勤处 <houqin@school.example>``), ``timeout`` (10 s), ``cafile`` (optional CA bundle for
    a private CA or a test certificate)."""

    name = "email"

    def __init__(
        self, config: Mapping[str, Any], *, transport: httpx.BaseTransport | None = None
    ) -> None:
        read = ConfigReader(self.name, config, known=FIELDS)
        self.host = read.text("host")
        self.starttls = read.flag("starttls")
        self.implicit_tls = read.flag("ssl")
        if self.starttls and self.implicit_tls:
            raise read.error("ssl", "choose starttls or ssl, not both")
        self.port = read.port("port", 465 if self.implicit_tls else 25)
        self.username = read.optional_text("username")
        self.password = read.optional_text("password")
        if (self.username is None) != (self.password is None):
            raise read.error("password" if self.username else "username", "missing")
        self.sender = read.text("sender")
        sender_name, self.sender_address = parseaddr(self.sender)
        if not is_address(self.sender_address):
            raise read.error("sender", f"no e-mail address in {self.sender!r}")
        self.sender_header = formataddr((sender_name, self.sender_address), charset="utf-8")
        self.timeout = read.number("timeout", 10)
        self.cafile = read.optional_text("cafile")
        # transport is the httpx seam of the HTTP channels; SMTP has none.
        self._smtp: _HandOver | None = None
        self._keep_open = False

    def validate_address(self, address: str) -> str | None:
        return None if is_address(address) else "not an e-mail address"

    def build(self, message: Message) -> bytes:
        """``message`` as it goes on the wire (separate from ``send`` so it can be inspected).

        7-bit clean: encoded-words in headers, base64 bodies (smtplib would send 8bit bodies
        raw even to a server that does not announce 8BITMIME; Chinese gains nothing from
        quoted-printable). Text and HTML are written directly, a few string joins: the
        ``email`` package's generator took longer than the SMTP exchange (bench/delivery.py);
        a message with attachments is built with the ``email.mime`` classes.
        """
        # A boundary of our own ("=_" never occurs inside base64 or in our headers).
        boundary = f"=_houqin_{secrets.token_hex(12)}"
        headers = self._headers(message)
        if message.attachments or any(len(ln) > 78 for h in headers for ln in h.split("\r\n")):
            return self._build_mime(message, boundary)  # rare: let the generator fold
        text = _part("plain", message.text)
        if message.html is None:
            head, _, rest = text[0].partition("\r\nMIME-Version: 1.0")
            head, body = head + rest, text[1]
        else:
            head = f'Content-Type: multipart/alternative;\r\n boundary="{boundary}_a"'
            html = _part("html", message.html)
            body = b"".join(
                (
                    f"--{boundary}_a\r\n{text[0]}\r\n\r\n".encode(),
                    text[1],
                    f"--{boundary}_a\r\n{html[0]}\r\n\r\n".encode(),
                    html[1],
                    f"--{boundary}_a--\r\n".encode(),
                )
            )
        top = "\r\n".join((head, "MIME-Version: 1.0", *headers))
        return top.encode("ascii") + b"\r\n\r\n" + body

    def _headers(self, message: Message) -> list[str]:
        """Subject, From, To, Date, Message-ID (and X-Houqin-Key), 7-bit, folded."""
        subject = Header(message.subject, "utf-8", header_name="Subject").encode(linesep="\r\n")
        domain = self.sender_address.rpartition("@")[2]
        headers = [
            f"Subject: {subject}",
            f"From: {self.sender_header}",
            f"To: {formataddr((message.recipient, message.address), charset='utf-8')}",
            f"Date: {formatdate(localtime=True)}",
        ]
        if message.key:
            # The same key gives the same Message-ID, so a mail client folds a duplicate.
            digest = hashlib.sha256(message.key.encode()).hexdigest()[:32]
            headers.append(f"Message-ID: <houqin.{digest}@{domain}>")
            key = message.key
            if not key.isascii():
                key = Header(key, "utf-8", header_name="X-Houqin-Key").encode(linesep="\r\n")
            headers.append(f"X-Houqin-Key: {key}")
        else:
            headers.append(f"Message-ID: {make_msgid('houqin', domain=domain)}")
        return headers

    def _build_mime(self, message: Message, boundary: str) -> bytes:
        body: MIMEBase = MIMEText(message.text, "plain", "utf-8")
        if message.html is not None:
            html = MIMEText(message.html, "html", "utf-8")
            body = MIMEMultipart("alternative", f"{boundary}_a", [body, html])
        if message.attachments:
            files = [_attachment(name) for name in message.attachments]
            body = MIMEMultipart("mixed", f"{boundary}_m", [body, *files])
        for line in self._headers(message):
            name, _, value = line.partition(": ")
            body[name] = value
        return body.as_bytes(policy=WIRE)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Send every message of the block over one connection (opened on first use)."""
        self._keep_open = True
        try:
            yield
        finally:
            self._keep_open = False
            self.close()

    def send(self, message: Message) -> None:
        """Send ``message``; inside ``batch()`` over the connection kept from the last one."""
        self.send_gated(message, None)

    def send_gated(self, message: Message, gate: Callable[[], None] | None) -> None:
        """``send``, with ``gate`` called once the server has accepted the envelope (MAIL and
        RCPT) and before the DATA command: it returns to let the message go, or raises to
        stop it (``Withheld``, nothing handed over, the session reset). The outbox commits
        "sending" meanwhile, so that commit and the envelope's round trips overlap."""
        problem = self.validate_address(message.address)
        if problem:
            raise DeliveryError(f"email: {message.address!r}: {problem}", permanent=True)
        try:
            mail = self.build(message)
        except (ValueError, HeaderParseError, OSError) as exc:
            raise DeliveryError(f"email: {message.address!r}: {exc}", permanent=True) from exc
        reused = self._smtp is not None
        try:
            self._send(mail, message.address, gate)
        except _NotHandedOver:
            self.close()  # after an error the session's state is unknown: start afresh
            if not reused:
                raise
            # The server may have closed the connection kept since the last message: nothing
            # of this one was handed over, so one new connection is tried at once.
            try:
                self._send(mail, message.address, gate)
            except DeliveryError:
                self.close()
                raise
        except DeliveryError:
            self.close()
            raise
        if not self._keep_open:
            self.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def _send(self, mail: bytes, address: str, gate: Callable[[], None] | None = None) -> None:
        where = f"{self.host}:{self.port}"
        smtp: _HandOver | None = self._smtp
        try:
            if smtp is None:
                smtp = self._smtp = self._connect()
                if self.starttls:
                    smtp.starttls(context=self._tls_context())
                if self.username is not None and self.password is not None:
                    smtp.login(self.username, self.password)
            smtp.handed_over, smtp.gate = False, gate
            try:
                smtp.sendmail(self.sender_address, [address], mail)
            finally:
                smtp.gate = None
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(address, next(iter(exc.recipients.values())))
            raise _code_error(f"recipient {address} refused", code, reply) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise _code_error(
                f"sender {exc.sender} refused", exc.smtp_code, exc.smtp_error
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise _code_error("login refused", exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPResponseException as exc:  # SMTPDataError and the rest
            raise _code_error(f"{where} refused", exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPNotSupportedError as exc:
            # e.g. STARTTLS or AUTH configured but not offered: a config problem.
            raise DeliveryError(f"email: {where}: {exc}", permanent=True) from exc
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(f"email: {where}: {exc.verify_message}", permanent=True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            reason = str(exc) or type(exc).__name__
            if smtp is not None and smtp.handed_over:
                # The whole message and its final dot went out; the server's answer did not
                # come back. It may have been accepted: never resent on its own.
                raise DeliveryError(
                    f"email: {where}: no answer after the message was handed over ({reason}); "
                    "it may have arrived",
                    unconfirmed=True,
                ) from exc
            # Refused connection, timeout, disconnect or TLS failure before the message was
            # handed over: try again later.
            raise _NotHandedOver(f"email: {where}: {reason}") from exc

    def _connect(self) -> _HandOver:
        if self.implicit_tls:
            return _HandOverSsl(
                self.host, self.port, timeout=self.timeout, context=self._tls_context()
            )
        return _HandOver(self.host, self.port, timeout=self.timeout)

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile)
