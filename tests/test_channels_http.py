"""Webhook and the WeCom, DingTalk and Feishu robots against a real HTTP server on 127.0.0.1.

The receiver answers the way each API does (HTTP 200 with an error code in the body for a
rejected message), so these tests pin the exact request each API expects and how its verdict is
read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import httpx
import pytest

from notifications import CHANNELS, Channel, ChannelConfigError, DeliveryError, Message, get_channel
from notifications.dingtalk import DingTalkRobot
from notifications.feishu import FeishuRobot
from notifications.wecom import MAX_CONTENT_BYTES
from tests import loopback
from tests.loopback import HttpReceiver, Reply, free_port

http_receiver = loopback.http_receiver  # pytest fixture, requested by name below

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK_TOKEN = "5e3c9b1f0a7d4e2b8c6a1f9e0d3b7c5a2e4f6a8b0c1d3e5f7a9b2c4d6e8f0a1b"
DINGTALK_SECRET = "SEC4a7f0c2e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3"
FEISHU_TOKEN = "0b7f3c1e-8a2d-4f6b-9c1e-3d5f7a9b1c2d"
FEISHU_SECRET = "q7Xb2Ls9PzK4mNc8RvT1"

WECOM_PATH = "/cgi-bin/webhook/send"
DINGTALK_PATH = "/robot/send"
FEISHU_PATH = f"/open-apis/bot/v2/hook/{FEISHU_TOKEN}"

LI = Message(
    recipient="李明",
    address="13800138000",
    subject="【后勤提醒】您有 2 项待办",
    text="李明，您好：\n截至 2026-11-23(周一)08:00，您有 2 项待办。",
    key="remind:T-1:run7:item42:li",
)
WECOM_93000 = {
    "errcode": 93000,
    "errmsg": "invalid webhook url, hint: [1763856000_b2c4], from ip: 203.0.113.7, "
    "more info at https://open.work.weixin.qq.com/devtool/query?e=93000",
}


def wecom(receiver: HttpReceiver, **config: object) -> Channel:
    return get_channel("wecom", {"key": WECOM_KEY, "base_url": receiver.url, **config})


# --- WeCom -----------------------------------------------------------------------------------


def test_wecom_posts_text_with_mentioned_mobile_to_send_with_key(
    http_receiver: HttpReceiver,
) -> None:
    http_receiver.reply(WECOM_PATH, json={"errcode": 0, "errmsg": "ok"})

    wecom(http_receiver).send(LI)

    [request] = http_receiver.requests
    assert (request.method, request.path, request.query) == ("POST", WECOM_PATH, {"key": WECOM_KEY})
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "msgtype": "text",
        "text": {"content": LI.text, "mentioned_mobile_list": ["13800138000"]},
    }


def test_wecom_group_message_without_address_mentions_nobody(http_receiver: HttpReceiver) -> None:
    http_receiver.reply(WECOM_PATH, json={"errcode": 0, "errmsg": "ok"})

    wecom(http_receiver).send(Message("后勤群", "", "s", "本周待办汇总"))

    assert http_receiver.requests[0].json() == {
        "msgtype": "text",
        "text": {"content": "本周待办汇总"},
    }


def test_wecom_errcode_is_a_permanent_error_with_errmsg_and_masked_key(
    http_receiver: HttpReceiver,
) -> None:
    http_receiver.reply(WECOM_PATH, json=WECOM_93000)  # HTTP 200, like the real API

    with pytest.raises(DeliveryError) as caught:
        wecom(http_receiver).send(LI)

    text = str(caught.value)
    assert caught.value.permanent
    assert "93000" in text and "invalid webhook url" in text
    assert WECOM_KEY not in text
    assert "693a***" in text  # enough to tell which robot is misconfigured


def test_wecom_rate_limit_errcode_is_temporary(http_receiver: HttpReceiver) -> None:
    http_receiver.reply(WECOM_PATH, json={"errcode": 45009, "errmsg": "api freq out of limit"})

    with pytest.raises(DeliveryError) as caught:
        wecom(http_receiver).send(LI)

    assert not caught.value.permanent


def test_wecom_long_content_is_cut_to_the_api_limit(http_receiver: HttpReceiver) -> None:
    http_receiver.reply(WECOM_PATH, json={"errcode": 0, "errmsg": "ok"})

    wecom(http_receiver).send(Message("李明", "13800138000", "s", "消防器材检查\n" * 400))

    content = http_receiver.requests[0].json()["text"]["content"]
    assert len(content.encode()) <= MAX_CONTENT_BYTES
    assert content.startswith("消防器材检查\n") and content.endswith("请打开链接查看全部）")


# --- DingTalk ----------------------------------------------------------------------------------


def test_dingtalk_posts_text_with_at_mobiles_to_send_with_access_token(
    http_receiver: HttpReceiver,
) -> None:
    http_receiver.reply(DINGTALK_PATH, json={"errcode": 0, "errmsg": "ok"})
    channel = get_channel("dingtalk", {"token": DINGTALK_TOKEN, "base_url": http_receiver.url})

    channel.send(LI)

    [request] = http_receiver.requests
    assert request.path == DINGTALK_PATH
    assert request.query == {"access_token": DINGTALK_TOKEN}  # no secret: no timestamp, no sign
    assert request.json() == {
        "msgtype": "text",
        # DingTalk highlights the mention only when "@mobile" is in the content too.
        "text": {"content": LI.text + "\n@13800138000"},
        "at": {"atMobiles": ["13800138000"], "isAtAll": False},
    }


def test_dingtalk_signature_verifies_with_the_secret(http_receiver: HttpReceiver) -> None:
    http_receiver.reply(DINGTALK_PATH, json={"errcode": 0, "errmsg": "ok"})
    config = {"token": DINGTALK_TOKEN, "secret": DINGTALK_SECRET, "base_url": http_receiver.url}
    before = int(time.time() * 1000)

    get_channel("dingtalk", config).send(LI)

    request = http_receiver.requests[0]
    timestamp = request.query["timestamp"]
    assert before <= int(timestamp) <= int(time.time() * 1000)  # milliseconds
    # Verify as DingTalk does: HMAC-SHA256 keyed by the secret over "timestamp\nsecret".
    digest = hmac.new(
        DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256
    ).digest()
    assert request.query["sign"] == base64.b64encode(digest).decode()
    assert request.query["access_token"] == DINGTALK_TOKEN


def test_dingtalk_sign_is_url_encoded_in_the_query(http_receiver: HttpReceiver) -> None:
    http_receiver.reply(DINGTALK_PATH, json={"errcode": 0, "errmsg": "ok"})
    config = {"token": DINGTALK_TOKEN, "secret": DINGTALK_SECRET, "base_url": http_receiver.url}
    # At this instant the base64 signature contains "+", "/" and "=", all of which need escaping.
    robot = DingTalkRobot(config, clock=lambda: 1763856000.123)

    robot.send(LI)

    raw = http_receiver.requests[0].raw_query
    sign = raw.split("sign=")[1].split("&")[0]
    assert "timestamp=1763856000123" in raw
    assert all(c in http_receiver.requests[0].query["sign"] for c in "+/=")
    assert not any(c in sign for c in "+/=")
    assert "%2B" in sign and "%2F" in sign and sign.endswith("%3D")


def test_dingtalk_sign_mismatch_is_permanent_and_secrets_are_masked(
    http_receiver: HttpReceiver,
) -> None:
    http_receiver.reply(
        DINGTALK_PATH,
        json={"errcode": 310000, "errmsg": f"sign not match, more: [{DINGTALK_TOKEN}]"},
    )
    config = {"token": DINGTALK_TOKEN, "secret": DINGTALK_SECRET, "base_url": http_receiver.url}

    with pytest.raises(DeliveryError) as caught:
        get_channel("dingtalk", config).send(LI)

    text = str(caught.value)
    assert caught.value.permanent
    assert "310000" in text and "sign not match" in text
    assert DINGTALK_TOKEN not in text and DINGTALK_SECRET not in text
    assert "5e3c***" in text


def test_dingtalk_send_too_fast_is_temporary(http_receiver: HttpReceiver) -> None:
    http_receiver.reply(
        DINGTALK_PATH,
        json={"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"},
    )
    channel = get_channel("dingtalk", {"token": DINGTALK_TOKEN, "base_url": http_receiver.url})

    with pytest.raises(DeliveryError) as caught:
        channel.send(LI)

    assert not caught.value.permanent


# --- Feishu ------------------------------------------------------------------------------------


def feishu_li() -> Message:
    return Message("李明", "ou_7d8a6e6df7621556ce0d21922b676706", LI.subject, LI.text, key=LI.key)


def test_feishu_posts_text_with_at_mention_to_hook_token(http_receiver: HttpReceiver) -> None:
    http_receiver.reply(FEISHU_PATH, json={"code": 0, "data": {}, "msg": "success"})
    channel = get_channel("feishu", {"token": FEISHU_TOKEN, "base_url": http_receiver.url})

    channel.send(feishu_li())

    [request] = http_receiver.requests
    assert (request.path, request.query) == (FEISHU_PATH, {})
    mention = '<at user_id="ou_7d8a6e6df7621556ce0d21922b676706">李明</at>'
    assert request.json() == {"msg_type": "text", "content": {"text": f"{mention}\n{LI.text}"}}


def test_feishu_signature_verifies_with_the_secret(http_receiver: HttpReceiver) -> None:
    http_receiver.reply(FEISHU_PATH, json={"code": 0, "data": {}, "msg": "success"})
    config = {"token": FEISHU_TOKEN, "secret": FEISHU_SECRET, "base_url": http_receiver.url}
    before = int(time.time())

    get_channel("feishu", config).send(feishu_li())

    body = http_receiver.requests[0].json()
    assert before <= int(body["timestamp"]) <= time.time()  # seconds, as a string
    # Feishu's scheme: HMAC-SHA256 keyed by "timestamp\nsecret" over an empty message.
    key = f"{body['timestamp']}\n{FEISHU_SECRET}".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def test_feishu_older_statuscode_answer_counts_as_success(http_receiver: HttpReceiver) -> None:
    http_receiver.reply(
        FEISHU_PATH, json={"Extra": None, "StatusCode": 0, "StatusMessage": "success"}
    )
    channel = get_channel("feishu", {"token": FEISHU_TOKEN, "base_url": http_receiver.url})

    channel.send(feishu_li())  # no error


def test_feishu_error_code_is_permanent_with_msg_and_masked_token(
    http_receiver: HttpReceiver,
) -> None:
    http_receiver.reply(FEISHU_PATH, json={"code": 19021, "data": {}, "msg": "sign match fail"})
    robot = FeishuRobot(
        {"token": FEISHU_TOKEN, "secret": FEISHU_SECRET, "base_url": http_receiver.url},
        clock=lambda: 1763856000.0,
    )

    with pytest.raises(DeliveryError) as caught:
        robot.send(feishu_li())

    text = str(caught.value)
    assert caught.value.permanent
    assert "19021" in text and "sign match fail" in text
    assert FEISHU_TOKEN not in text and "0b7f***" in text


def test_feishu_answer_without_a_code_is_not_taken_for_success(
    http_receiver: HttpReceiver,
) -> None:
    http_receiver.reply(FEISHU_PATH, json={"ok": True})
    channel = get_channel("feishu", {"token": FEISHU_TOKEN, "base_url": http_receiver.url})

    with pytest.raises(DeliveryError, match="no code or StatusCode"):
        channel.send(feishu_li())


# --- Webhook -----------------------------------------------------------------------------------


def test_webhook_posts_message_fields_with_idempotency_key_and_configured_headers(
    http_receiver: HttpReceiver,
) -> None:
    http_receiver.reply("/hooks/houqin", status=204)
    config = {
        "url": f"{http_receiver.url}/hooks/houqin",
        "headers": {"Authorization": "Bearer t0k"},
    }

    get_channel("webhook", config).send(Message("李明", "li-0042", LI.subject, LI.text, key=LI.key))

    [request] = http_receiver.requests
    assert request.path == "/hooks/houqin"
    assert request.headers["idempotency-key"] == LI.key
    assert request.headers["authorization"] == "Bearer t0k"
    assert request.json() == {
        "key": LI.key,
        "recipient": "李明",
        "address": "li-0042",
        "subject": LI.subject,
        "text": LI.text,
    }


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (404, True), (429, False)])
def test_webhook_4xx_is_permanent_except_too_many_requests(
    http_receiver: HttpReceiver, status: int, permanent: bool
) -> None:
    http_receiver.reply("/hook", status=status, json={"error": "nope"})
    channel = get_channel("webhook", {"url": f"{http_receiver.url}/hook"})

    with pytest.raises(DeliveryError) as caught:
        channel.send(LI)

    assert caught.value.permanent is permanent
    assert f"HTTP {status}" in str(caught.value)


def test_webhook_error_never_shows_the_url_path_that_holds_the_secret(
    http_receiver: HttpReceiver,
) -> None:
    secret_path = "/hooks/8c1f3e5a7b9d"
    http_receiver.reply(secret_path, status=403, body=f"forbidden: {secret_path}")
    channel = get_channel("webhook", {"url": http_receiver.url + secret_path})

    with pytest.raises(DeliveryError) as caught:
        channel.send(LI)

    assert "8c1f3e5a7b9d" not in str(caught.value)
    assert http_receiver.url in str(caught.value)  # the origin is shown, to find the server


# --- failures every HTTP channel shares -----------------------------------------------------------

HTTP_CHANNELS = {
    "wecom": ({"key": WECOM_KEY}, WECOM_PATH),
    "dingtalk": ({"token": DINGTALK_TOKEN, "secret": DINGTALK_SECRET}, DINGTALK_PATH),
    "feishu": ({"token": FEISHU_TOKEN, "secret": FEISHU_SECRET}, FEISHU_PATH),
    "webhook": ({}, "/hook"),
}


def http_channel(name: str, base_url: str, **config: object) -> Channel:
    fields, path = HTTP_CHANNELS[name]
    where = {"url": base_url + path} if name == "webhook" else {"base_url": base_url}
    return get_channel(name, {**fields, **where, **config})


@pytest.mark.parametrize("name", HTTP_CHANNELS)
def test_http_500_is_a_temporary_error(http_receiver: HttpReceiver, name: str) -> None:
    http_receiver.reply(HTTP_CHANNELS[name][1], status=500, body="<h1>Internal Server Error</h1>")

    with pytest.raises(DeliveryError) as caught:
        http_channel(name, http_receiver.url).send(LI)

    assert not caught.value.permanent
    assert "HTTP 500" in str(caught.value)


@pytest.mark.parametrize("name", HTTP_CHANNELS)
def test_connection_refused_is_a_temporary_error(name: str) -> None:
    with pytest.raises(DeliveryError) as caught:
        http_channel(name, f"http://127.0.0.1:{free_port()}").send(LI)

    assert not caught.value.permanent and not caught.value.unconfirmed


@pytest.mark.parametrize("name", HTTP_CHANNELS)
def test_no_answer_in_time_after_the_request_was_sent_is_unconfirmed(
    http_receiver: HttpReceiver, name: str
) -> None:
    http_receiver.reply(HTTP_CHANNELS[name][1], json={"errcode": 0, "code": 0}, delay=3)

    with pytest.raises(DeliveryError, match="no answer within 0.2 s") as caught:
        http_channel(name, http_receiver.url, timeout=0.2).send(LI)

    # the robot received the request and may post it after our timeout: never retried blindly
    assert caught.value.unconfirmed and not caught.value.permanent
    assert len(http_receiver.requests) == 1


@pytest.mark.parametrize("name", HTTP_CHANNELS)
def test_connection_closed_without_an_answer_is_unconfirmed(
    http_receiver: HttpReceiver, name: str
) -> None:
    http_receiver.script(HTTP_CHANNELS[name][1], [Reply(close=True)])

    with pytest.raises(DeliveryError, match="may have arrived") as caught:
        http_channel(name, http_receiver.url).send(LI)

    assert caught.value.unconfirmed


@pytest.mark.parametrize("name", HTTP_CHANNELS)
def test_http_500_is_retried_not_unconfirmed(http_receiver: HttpReceiver, name: str) -> None:
    http_receiver.reply(HTTP_CHANNELS[name][1], status=503, body="busy")

    with pytest.raises(DeliveryError) as caught:
        http_channel(name, http_receiver.url).send(LI)

    assert not caught.value.unconfirmed and not caught.value.permanent


@pytest.mark.parametrize("name", ["wecom", "dingtalk", "feishu"])
def test_robot_answer_that_is_not_json_is_unconfirmed(
    http_receiver: HttpReceiver, name: str
) -> None:
    http_receiver.reply(HTTP_CHANNELS[name][1], body="<html>gateway busy</html>")

    with pytest.raises(DeliveryError, match="not JSON") as caught:
        http_channel(name, http_receiver.url).send(LI)

    assert caught.value.unconfirmed and not caught.value.permanent


def test_injected_transport_is_used_instead_of_the_network() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})

    channel = get_channel("wecom", {"key": WECOM_KEY}, transport=httpx.MockTransport(answer))
    channel.send(LI)
    channel.send(LI)  # the transport stays usable across sends

    assert [str(r.url) for r in seen] == [
        f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}"
    ] * 2


# --- config and addresses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "config", "expected"),
    [
        ("wecom", {}, "wecom: key: missing"),
        ("wecom", {"key": "  "}, "wecom: key: missing"),
        ("wecom", {"key": "k", "base_url": "qyapi.weixin.qq.com"}, "wecom: base_url: must start"),
        ("dingtalk", {"secret": "SEC1"}, "dingtalk: token: missing"),
        ("dingtalk", {"token": "t", "timeout": 0}, "dingtalk: timeout: must be a positive"),
        ("feishu", {"secret": "s"}, "feishu: token: missing"),
        ("feishu", {"token": "https://open.feishu.cn/open-apis/bot/v2/hook/x"}, "feishu: token: "),
        ("webhook", {}, "webhook: url: missing"),
        ("webhook", {"url": "http://h", "headers": {"X-N": 1}}, "webhook: headers: must map"),
        ("wecom", {"key": "k", "webhook_key": "k"}, "wecom: webhook_key: unknown field"),
    ],
)
def test_bad_config_names_the_channel_and_the_field(
    name: str, config: dict[str, object], expected: str
) -> None:
    with pytest.raises(ChannelConfigError) as caught:
        get_channel(name, config)

    assert str(caught.value).startswith(expected)
    assert isinstance(caught.value, ValueError)


def test_unknown_channel_lists_the_known_ones() -> None:
    with pytest.raises(ChannelConfigError) as caught:
        get_channel("sms", {})

    assert (
        str(caught.value) == "sms: unknown channel (known: dingtalk, email, feishu, webhook, wecom)"
    )


@pytest.mark.parametrize(
    ("name", "address", "problem"),
    [
        ("wecom", "13800138000", None),
        ("wecom", "", None),  # group message, no mention
        ("wecom", "1380013800", "not a Chinese mobile number (11 digits starting with 1)"),
        ("wecom", "+8613800138000", "not a Chinese mobile number (11 digits starting with 1)"),
        ("dingtalk", "19912345678", None),
        (
            "dingtalk",
            "li.ming@school.example",
            "not a Chinese mobile number (11 digits starting with 1)",
        ),
        ("feishu", "ou_7d8a6e6df7621556ce0d21922b676706", None),
        ("feishu", "3e1b9c2d", None),  # a user_id
        ("feishu", "李 明", "not a Feishu open_id or user_id (e.g. ou_...)"),
        ("webhook", "", None),
        ("webhook", "any id at all", None),
    ],
)
def test_validate_address(name: str, address: str, problem: str | None) -> None:
    channel = http_channel(name, "http://127.0.0.1:9")

    assert channel.validate_address(address) == problem


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_every_registered_channel_builds_and_satisfies_the_protocol(name: str) -> None:
    configs: dict[str, dict[str, object]] = {
        "email": {"host": "mail.school.example", "sender": "后勤处 <houqin@school.example>"},
        "webhook": {"url": "https://hooks.school.example/houqin"},
        "wecom": {"key": WECOM_KEY},
        "dingtalk": {"token": DINGTALK_TOKEN},
        "feishu": {"token": FEISHU_TOKEN},
    }

    channel = get_channel(name, configs[name])

    assert isinstance(channel, Channel)
    assert channel.name == name
