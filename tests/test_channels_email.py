"""E-mail channel against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy

import pytest

from notifications import ChannelConfigError, DeliveryError, Message, get_channel
from notifications.channels import Withheld, batch
from notifications.email import EmailChannel
from tests import loopback
from tests.loopback import SmtpSink, TlsFiles, free_port

# pytest fixtures from tests/loopback.py, requested by name below
smtp_sink = loopback.smtp_sink
tls_files = loopback.tls_files

LI = Message(
    recipient="李明",
    address="li.ming@school.example",
    subject="【后勤提醒】您有 3 项待办，其中 1 项已逾期",
    text="李明，您好：\n\n■ 2027年高考安全保障（第一中学）\n  1. 考场电路检修\n",
    html="<p>李明，您好：</p><ol><li>考场电路检修</li></ol>",
    key="remind:T-1:run7:item42:li",
)


def test_chinese_subject_arrives_decoded_with_text_and_html_parts(smtp_sink: SmtpSink) -> None:
    get_channel("email", smtp_sink.client_config()).send(LI)

    [received] = smtp_sink.received
    mail = received.message
    assert received.rcpt_tos == ("li.ming@school.example",)
    assert received.mail_from == "houqin@school.example"
    assert mail["Subject"] == "【后勤提醒】您有 3 项待办，其中 1 项已逾期"
    assert mail["From"].addresses[0].display_name == "后勤处"
    assert mail["To"].addresses[0].display_name == "李明"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content() == LI.text
    assert html.get_content().strip() == LI.html


def test_subject_is_mime_encoded_on_the_wire(smtp_sink: SmtpSink) -> None:
    get_channel("email", smtp_sink.client_config()).send(LI)

    raw = smtp_sink.received[0].raw
    # 7-bit clean: encoded-words in headers, base64 bodies (servers need not accept 8BITMIME).
    assert raw.isascii()
    assert b"subject: =?utf-8?b?" in raw.lower()


def test_text_only_message_is_a_single_plain_part(smtp_sink: SmtpSink) -> None:
    get_channel("email", smtp_sink.client_config()).send(
        Message("王校长", "wang@school.example", "【后勤督办】1 项逾期事项需您督办", "正文")
    )

    mail = smtp_sink.messages[0]
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content().strip() == "正文"


def test_outbox_key_travels_as_header_and_stable_message_id(smtp_sink: SmtpSink) -> None:
    channel = get_channel("email", smtp_sink.client_config())
    channel.send(LI)
    channel.send(LI)  # a retry after a crash between send and record

    first, second = smtp_sink.messages
    assert first["X-Houqin-Key"] == "remind:T-1:run7:item42:li"
    # The same key gives the same Message-ID, so mail clients show one message, not two.
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].endswith("@school.example>")


def test_starttls_and_login_deliver(tls_files: TlsFiles) -> None:
    with SmtpSink(tls=tls_files, auth=("houqin", "s3cret")) as sink:
        get_channel("email", sink.client_config()).send(LI)

        assert [m["Subject"] for m in sink.messages] == [LI.subject]


def test_sink_requiring_starttls_refuses_a_plain_client(tls_files: TlsFiles) -> None:
    with SmtpSink(tls=tls_files, auth=("houqin", "s3cret")) as sink:
        config = sink.client_config(starttls=False, username=None, password=None, cafile=None)
        with pytest.raises(DeliveryError) as caught:
            get_channel("email", config).send(LI)

        assert caught.value.permanent  # 530 "must issue STARTTLS first": a config problem
        assert sink.messages == []


def test_implicit_tls_smtps_and_login_deliver(tls_files: TlsFiles) -> None:
    with SmtpSink(tls=tls_files, starttls=False, auth=("houqin", "s3cret")) as sink:
        get_channel("email", sink.client_config()).send(LI)

        assert len(sink.messages) == 1


def test_wrong_password_is_a_permanent_error_without_the_password(tls_files: TlsFiles) -> None:
    with SmtpSink(tls=tls_files, auth=("houqin", "s3cret")) as sink:
        channel = get_channel("email", sink.client_config(password="wrong-pass"))
        with pytest.raises(DeliveryError) as caught:
            channel.send(LI)

    assert caught.value.permanent
    assert "535" in str(caught.value)
    assert "wrong-pass" not in str(caught.value)


def test_untrusted_server_certificate_is_a_permanent_error(tls_files: TlsFiles) -> None:
    with SmtpSink(tls=tls_files, auth=("houqin", "s3cret")) as sink:
        channel = get_channel("email", sink.client_config(cafile=None))
        with pytest.raises(DeliveryError) as caught:
            channel.send(LI)

    assert caught.value.permanent
    assert "certificate" in str(caught.value)


def test_refused_recipient_is_a_permanent_error() -> None:
    sink = SmtpSink(refuse=["li.ming@school.example"])
    with sink, pytest.raises(DeliveryError) as caught:
        get_channel("email", sink.client_config()).send(LI)

    assert caught.value.permanent
    assert "550" in str(caught.value) and "li.ming@school.example" in str(caught.value)
    assert sink.messages == []


def test_deferred_recipient_is_a_temporary_error() -> None:
    sink = SmtpSink(defer=["li.ming@school.example"])
    with sink, pytest.raises(DeliveryError) as caught:
        get_channel("email", sink.client_config()).send(LI)

    assert not caught.value.permanent
    assert "450" in str(caught.value)


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("554 5.7.1 Message rejected as spam", True), ("451 4.3.0 Local error, try later", False)],
)
def test_message_rejected_at_data_is_permanent_only_for_5xx(reply: str, permanent: bool) -> None:
    sink = SmtpSink(data_reply=reply)
    with sink, pytest.raises(DeliveryError) as caught:
        get_channel("email", sink.client_config()).send(LI)

    assert caught.value.permanent is permanent
    assert reply in str(caught.value)


def test_server_down_is_a_temporary_error_and_delivery_resumes_after_restart() -> None:
    sink = SmtpSink()
    channel = get_channel("email", sink.client_config())  # nothing listens on the port yet
    with pytest.raises(DeliveryError) as caught:
        channel.send(LI)
    assert not caught.value.permanent
    assert f"127.0.0.1:{sink.port}" in str(caught.value)

    with sink:
        channel.send(LI)
        assert len(sink.messages) == 1

    with pytest.raises(DeliveryError) as caught:  # stopped again: down again
        channel.send(LI)
    assert not caught.value.permanent


def test_unreachable_port_is_a_temporary_error() -> None:
    channel = get_channel("email", {"host": "127.0.0.1", "port": free_port(), "sender": "a@b.cn"})
    with pytest.raises(DeliveryError) as caught:
        channel.send(LI)

    assert not caught.value.permanent


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("li.ming@school.example", None),
        ("li+houqin@mail.school.edu.cn", None),
        ("13800138000", "not an e-mail address"),
        ("li ming@school.example", "not an e-mail address"),
        ("li..ming@school.example", "not an e-mail address"),
        ("li@localhost", "not an e-mail address"),
        ("", "not an e-mail address"),
    ],
)
def test_validate_address_accepts_only_email_addresses(address: str, problem: str | None) -> None:
    channel = get_channel("email", {"host": "mail.school.example", "sender": "a@school.example"})

    assert channel.validate_address(address) == problem


def test_sending_to_an_invalid_address_is_a_permanent_error(smtp_sink: SmtpSink) -> None:
    with pytest.raises(DeliveryError) as caught:
        get_channel("email", smtp_sink.client_config()).send(
            Message("李明", "13800138000", "s", "t")
        )

    assert caught.value.permanent
    assert smtp_sink.messages == []


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"sender": "a@school.example"}, "email: host: missing"),
        ({"host": "mail.school.example"}, "email: sender: missing"),
        ({"host": "h", "sender": "后勤处"}, "email: sender: no e-mail address in '后勤处'"),
        ({"host": "h", "sender": "a@b.cn", "port": "25"}, "email: port: must be a port number"),
        ({"host": "h", "sender": "a@b.cn", "starttls": "yes"}, "email: starttls: must be true"),
        ({"host": "h", "sender": "a@b.cn", "starttls": True, "ssl": True}, "email: ssl: choose"),
        ({"host": "h", "sender": "a@b.cn", "username": "u"}, "email: password: missing"),
        ({"host": "h", "sender": "a@b.cn", "pasword": "x"}, "email: pasword: unknown field"),
    ],
)
def test_bad_config_names_the_channel_and_the_field(
    config: dict[str, object], expected: str
) -> None:
    with pytest.raises(ChannelConfigError) as caught:
        get_channel("email", config)

    assert str(caught.value).startswith(expected)


def test_port_defaults_to_25_and_to_465_with_implicit_tls() -> None:
    plain = EmailChannel({"host": "h", "sender": "a@b.cn"})
    smtps = EmailChannel({"host": "h", "sender": "a@b.cn", "ssl": True})

    assert (plain.port, smtps.port) == (25, 465)


@pytest.mark.parametrize("fault", ["drop", "hang"])
def test_no_answer_after_the_final_dot_is_unconfirmed_not_retried(fault: str) -> None:
    sink = SmtpSink()
    sink.after_data, sink.hang_s = fault, 2.0
    with sink, pytest.raises(DeliveryError, match="may have arrived") as caught:
        get_channel("email", sink.client_config(timeout=0.5)).send(LI)

    # the server has the whole message: sending it again would deliver it twice
    assert len(sink.messages) == 1
    assert caught.value.unconfirmed and not caught.value.permanent


def test_a_batch_sends_every_message_over_one_connection(smtp_sink: SmtpSink) -> None:
    channel = get_channel("email", smtp_sink.client_config())
    with batch(channel):
        for _ in range(5):
            channel.send(LI)

    assert len(smtp_sink.messages) == 5 and smtp_sink.connections == 1


def test_a_batch_reconnects_once_when_the_kept_connection_was_closed() -> None:
    sink = SmtpSink()
    channel = get_channel("email", sink.client_config())
    with sink, batch(channel):
        channel.send(LI)
        sink.stop()  # the server goes away between two messages and comes back
        sink.start()
        channel.send(LI)

    assert len(sink.messages) == 2 and sink.connections == 2


def test_a_451_in_a_batch_is_temporary_and_the_next_message_still_goes(
    smtp_sink: SmtpSink,
) -> None:
    smtp_sink.data_replies = ["451 4.3.0 try again later"]
    channel = get_channel("email", smtp_sink.client_config())
    with batch(channel):
        with pytest.raises(DeliveryError) as caught:
            channel.send(LI)
        channel.send(LI)

    assert not caught.value.permanent and not caught.value.unconfirmed
    assert len(smtp_sink.messages) == 1


def test_a_gate_that_stops_a_message_withholds_it_and_the_next_one_still_goes(
    smtp_sink: SmtpSink,
) -> None:
    """The outbox commits "sending" while the envelope goes out; the gate is called after
    RCPT and before DATA, and a gate that raises leaves nothing of the message handed over."""
    seen: list[int] = []

    def refuse() -> None:
        seen.append(smtp_sink.attempts)  # DATA commands so far: this message's is not sent yet
        raise RuntimeError("the run no longer holds the message")

    channel = get_channel("email", smtp_sink.client_config())
    assert isinstance(channel, EmailChannel)
    with batch(channel):
        with pytest.raises(Withheld, match="no longer holds"):
            channel.send_gated(LI, refuse)
        channel.send_gated(LI, lambda: seen.append(smtp_sink.attempts))

    assert seen == [0, 0] and smtp_sink.attempts == 1
    assert len(smtp_sink.messages) == 1 and smtp_sink.connections == 1


def test_a_message_built_directly_parses_as_the_email_package_builds_it() -> None:
    """Text + HTML written by hand and the ``email.mime`` path (used with attachments) give
    the same headers and parts to a reader."""
    channel = get_channel("email", {"host": "127.0.0.1", "sender": "后勤处 <h@school.example>"})
    assert isinstance(channel, EmailChannel)
    long = Message(
        recipient="李老师",
        address="li@school.example",
        subject="【后勤提醒】" + "很长的主题" * 20,
        text="正文\n" * 300,
        html="<p>正文</p>" * 300,
        key="remind:1:2",
    )
    for message in (LI, long, Message("li", "li@school.example", "s", "t", key="")):
        direct = email.message_from_bytes(channel.build(message), policy=email.policy.default)
        built = channel._build_mime(message, "=_b")  # noqa: SLF001
        mime = email.message_from_bytes(built, policy=email.policy.default)
        for name in ("Subject", "From", "To", "X-Houqin-Key", "Content-Type"):
            assert str(direct[name]).split(";")[0] == str(mime[name]).split(";")[0], name
        for kind in ("plain", "html"):
            part, twin = direct.get_body((kind,)), mime.get_body((kind,))
            assert (part and part.get_content()) == (twin and twin.get_content())
        assert all(len(line) <= 78 for line in channel.build(message).split(b"\r\n"))
