"""Real services on 127.0.0.1 for integration tests: an SMTP sink and an HTTP receiver.

Both run in a background thread of the test process, listen on a free loopback port, record
what they receive, and stop within bounded time. Use them as context managers, or through the
pytest fixtures ``smtp_sink``, ``http_receiver`` and ``tls_files``; a test module imports the
fixtures by name (``from tests.loopback import smtp_sink``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ipaddress
import json as jsonlib
import logging
import socket
import ssl
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"


class _DropLoginDataNotice(logging.Filter):
    # aiosmtpd 1.4 logs "Session.login_data is deprecated" on every successful AUTH, from its
    # own code: noise, not something the tests or Houqin can act on.
    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_DropLoginDataNotice())


def free_port() -> int:
    """A port nothing listens on (yet): bind to port 0, read the port, release it.

    aiosmtpd's Controller cannot take port 0 (it connects to its own port to check it is up),
    and a closed port is also what "the server is down" looks like to a client.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


# --- TLS -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    """A self-signed certificate for 127.0.0.1; clients trust it with ``cafile=cert``."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_tls_files(directory: Path) -> TlsFiles:
    """Write a fresh key and a self-signed certificate valid for 127.0.0.1 and localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "houqin test 127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    san = x509.SubjectAlternativeName(
        [x509.IPAddress(ipaddress.ip_address(LOOPBACK)), x509.DNSName("localhost")]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    files = TlsFiles(cert=directory / "cert.pem", key=directory / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


# --- SMTP ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope and the parsed message (``email.policy.default``)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes  # as received on the wire


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.sink.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if address in self.sink.defer:
            return f"450 4.2.1 <{address}>: mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> Any:
        with self.sink.lock:
            self.sink.connections += 1  # one EHLO per connection (no STARTTLS re-EHLO counted)
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        sink = self.sink
        with sink.lock:
            sink.attempts += 1
            scripted = sink.data_replies.pop(0) if sink.data_replies else None
        if scripted is not None:
            return scripted
        if sink.data_reply is not None:
            return sink.data_reply
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        received = Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), message, content)
        with sink.lock:
            sink.received.append(received)  # the whole message is here: it counts as received
        if sink.delay:
            await asyncio.sleep(sink.delay)
        with sink.lock:
            fault = sink.after_data if sink.after_data_times != 0 else None
            if fault and sink.after_data_times is not None:
                sink.after_data_times -= 1
        if fault == "hang":
            await asyncio.sleep(sink.hang_s)  # longer than the client's timeout
        elif fault == "drop":
            assert server.transport is not None
            server.transport.abort()  # the connection is gone before the answer
        return "250 2.0.0 OK: queued"


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that keeps what it receives.

    ``refuse`` / ``defer``: recipients answered 550 / 450 at RCPT; ``data_reply`` (e.g.
    ``"554 5.7.1 rejected as spam"``) answers DATA instead of accepting the message, and
    ``data_replies`` answer the next DATA commands in turn before accepting again. Faults after
    a message has been received whole: ``after_data="drop"`` closes the connection instead of
    answering, ``"hang"`` answers only after ``hang_s`` seconds (for the next
    ``after_data_times`` messages, or all); ``delay`` is seconds before every answer.
    ``connections`` counts connections, ``attempts`` DATA commands. ``tls`` with
    ``starttls=True`` requires STARTTLS before anything else; with ``starttls=False`` the whole
    connection is TLS (SMTPS). ``auth=(user, password)`` checks AUTH LOGIN or PLAIN (required
    after STARTTLS; offered but optional on SMTPS, see ``start``). ``stop()`` and ``start()``
    again, on the same port, simulate an outage.
    """

    def __init__(
        self,
        *,
        refuse: Iterable[str] = (),
        defer: Iterable[str] = (),
        data_reply: str | None = None,
        tls: TlsFiles | None = None,
        starttls: bool = True,
        auth: tuple[str, str] | None = None,
    ) -> None:
        if auth is not None and tls is None:
            raise ValueError("AUTH without TLS: give tls= too (aiosmtpd warns otherwise)")
        self.refuse = frozenset(refuse)
        self.defer = frozenset(defer)
        self.data_reply = data_reply
        self.data_replies: list[str] = []
        self.after_data: str | None = None
        self.after_data_times: int | None = None
        self.hang_s = 2.0
        self.delay = 0.0
        self.connections = 0
        self.attempts = 0
        self.tls = tls
        self.starttls = starttls
        self.auth = auth
        self.host = LOOPBACK
        self.port = free_port()
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [r.message for r in self.received]

    def client_config(self, **overrides: Any) -> dict[str, Any]:
        """E-mail channel config that reaches this sink."""
        config: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "sender": "后勤处 <houqin@school.example>",
            "timeout": 5,
        }
        if self.tls is not None:
            config |= {"cafile": str(self.tls.cert)}
            config |= {"starttls": True} if self.starttls else {"ssl": True}
        if self.auth is not None:
            config |= {"username": self.auth[0], "password": self.auth[1]}
        return config | overrides

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.auth == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        kwargs: dict[str, Any] = {"ready_timeout": 5.0}
        if self.tls is not None and self.starttls:
            kwargs |= {"tls_context": self.tls.server_context(), "require_starttls": True}
        elif self.tls is not None:
            kwargs |= {"ssl_context": self.tls.server_context()}
        if self.auth is not None and self.starttls:
            kwargs |= {"auth_required": True, "authenticator": self._authenticate}
        elif self.auth is not None:
            # aiosmtpd only counts STARTTLS as TLS, so on SMTPS it would never offer AUTH, and
            # requiring AUTH without "TLS" makes it warn: offer AUTH, check it, don't require it.
            kwargs |= {"auth_require_tls": False, "authenticator": self._authenticate}
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --- HTTP ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]  # decoded; the last value of each parameter
    raw_query: str  # as sent, still percent-encoded
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    content_type: str = "application/json"
    delay: float = 0.0  # seconds before answering (bounded; released when the receiver stops)
    close: bool = False  # read the request, then close the connection without an answer


@dataclass
class _State:
    requests: list[Request] = field(default_factory=list)
    answers: list[Reply] = field(default_factory=list)  # what each request was answered
    replies: dict[str, list[Reply]] = field(default_factory=dict)  # in turn; the last repeats
    lock: threading.Lock = field(default_factory=threading.Lock)
    closing: threading.Event = field(default_factory=threading.Event)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _record_and_reply(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            raw_query=url.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        with state.lock:
            state.requests.append(request)
            queued = state.replies.get(url.path) or [Reply()]
            reply = queued.pop(0) if len(queued) > 1 else queued[0]
            state.answers.append(reply)
        if reply.delay:
            state.closing.wait(reply.delay)
        if reply.close:
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    do_POST = do_GET = do_PUT = _record_and_reply

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: _State) -> None:
        super().__init__((LOOPBACK, 0), _RequestHandler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-request is not the receiver's failure


class HttpReceiver:
    """An HTTP server on 127.0.0.1 that records requests and answers per path.

    ``reply(path, status=..., json=...)`` sets the answer for a path; others get 200 ``{}``.
    ``script(path, [Reply(...), ...])`` answers with each in turn, then keeps the last.
    """

    def __init__(self) -> None:
        self._state = _State()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def requests(self) -> list[Request]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def answered(self) -> list[tuple[Request, Reply]]:
        """Each request with the reply it was given (or was to be given, for a fault)."""
        with self._state.lock:
            return list(zip(self._state.requests, self._state.answers, strict=True))

    def reply(
        self,
        path: str,
        *,
        status: int = 200,
        json: Mapping[str, Any] | None = None,
        body: str | None = None,
        delay: float = 0.0,
    ) -> None:
        if body is not None:
            reply = Reply(status, body.encode(), "text/html; charset=utf-8", delay)
        else:
            payload = jsonlib.dumps(dict(json or {}), ensure_ascii=False)
            reply = Reply(status, payload.encode(), "application/json", delay)
        self.script(path, [reply])

    def script(self, path: str, replies: list[Reply]) -> None:
        with self._state.lock:
            self._state.replies[path] = list(replies)

    def start(self) -> None:
        self._server = _Server(self._state)
        self.url = f"http://{LOOPBACK}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._state.closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --- pytest fixtures -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A plain SMTP sink (no TLS, no AUTH); build ``SmtpSink(...)`` yourself for options."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as receiver:
        yield receiver
