"""Robot rate limits kept by waiting, not by failing and retrying.

WeCom and DingTalk group robots take 20 messages a minute each; Feishu's take 5 a second and 100
a minute. Past the limit they refuse (WeCom 45009; DingTalk 130101, then throttle the robot for
ten minutes; Feishu 11232), so the sender waits for a free slot before each message instead.
A channel class states its limits as ``rate_limits``; the outbox keeps one ``Pacer`` per robot.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence

# The robot counts by its own clock: keep a little room at the edge of each window.
MARGIN_S = 0.1


class Pacer:
    """Sliding windows of (at most ``count`` messages, in ``seconds``), all kept at once."""

    def __init__(
        self,
        limits: Sequence[tuple[int, float]],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = tuple(limits)
        self.clock = clock
        self.sleep = sleep
        self._sent: deque[float] = deque()
        self._horizon = max((seconds for _, seconds in self.limits), default=0.0) + MARGIN_S

    def wait(self) -> float:
        """Wait until one more message keeps every limit, count it as sent; seconds waited."""
        waited = 0.0
        while True:
            now = self.clock()
            while self._sent and self._sent[0] <= now - self._horizon:
                self._sent.popleft()
            delay = max((self._free_in(now, c, s) for c, s in self.limits), default=0.0)
            if delay <= 0:
                self._sent.append(now)
                return waited
            self.sleep(delay)
            waited += delay

    def _free_in(self, now: float, count: int, seconds: float) -> float:
        window = seconds + MARGIN_S
        recent = [t for t in self._sent if t > now - window]
        if len(recent) < count:
            return 0.0
        return recent[-count] + window - now
