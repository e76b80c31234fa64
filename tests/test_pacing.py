"""Robot pacing: the limits are kept by waiting, measured on a fake clock (no real sleeping)."""

from __future__ import annotations

from notifications.channels import get_channel
from notifications.pacing import Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def most_in_any_window(times: list[float], seconds: float) -> int:
    return max(sum(1 for t in times if start <= t < start + seconds) for start in times)


def test_wecom_pacing_sends_45_messages_with_never_more_than_20_in_a_minute() -> None:
    clock = FakeClock()
    robot = get_channel("wecom", {"key": "k"})
    pacer = Pacer(robot.rate_limits, clock=clock, sleep=clock.sleep)  # type: ignore[attr-defined]
    sent = []
    for _ in range(45):
        pacer.wait()
        sent.append(clock.now)
        clock.now += 0.05  # the send itself

    assert most_in_any_window(sent, 60.0) == 20
    # the first 20 go at once; then one waits for the first minute to pass, not more
    assert sent[19] - sent[0] < 2 and 60 <= sent[20] - sent[0] <= 61
    assert sent[-1] - sent[0] < 130  # 45 messages in a little over two minutes


def test_feishu_pacing_keeps_five_a_second_and_a_hundred_a_minute() -> None:
    clock = FakeClock()
    robot = get_channel("feishu", {"token": "t"})
    pacer = Pacer(robot.rate_limits, clock=clock, sleep=clock.sleep)  # type: ignore[attr-defined]
    sent = []
    for _ in range(120):
        pacer.wait()
        sent.append(clock.now)

    assert most_in_any_window(sent, 1.0) == 5
    assert most_in_any_window(sent, 60.0) == 100


def test_email_and_webhook_are_not_paced() -> None:
    for name, config in (
        ("email", {"host": "h", "sender": "a@b.cn"}),
        ("webhook", {"url": "http://127.0.0.1:9/x"}),
    ):
        assert getattr(get_channel(name, config), "rate_limits", ()) == ()
