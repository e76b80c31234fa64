"""A provisional year predicted from the principles the State Council has published since 2025.

The 2025 notice (国办发明电〔2024〕12号) states them: 春节 from 除夕, 8 days with 调休; 劳动节 5
days; 国庆节 from 10-01, 7 days, 8 when 中秋节 falls in it; 元旦, 清明节, 端午节 and 中秋节 3 days
each, joined to the weekend, or the day itself alone when it is a Wednesday. The statutory days
(2025 revision of 全国年节及纪念日放假办法) come from the lunar calendar (lunardate) and, for 清明,
the solar term (chinese-calendar).

Where the make-up working days go, the principles do not say. The rule here is read off the 2024
to 2026 notices: a break needs as many make-up days as it has weekdays beyond its statutory days;
one goes on the nearest free weekend day on either side, two go one on each side (the nearest
free weekend day before the break and after it). tests/test_prediction.py measures it against
2025 and 2026 (docs/calendars.md has the figures).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from chinese_calendar import get_solar_terms
from lunardate import LunarDate

from .arrangement import Arrangement, Holiday, days

PRINCIPLES = "2025"
SOURCE = (
    "按2025年起国务院公布的放假调休原则推算（暂定），待国务院办公厅通知发布后改为正式安排 / "
    "predicted from the 2025 principles (provisional) until the State Council notice is entered"
)
WEDNESDAY, SATURDAY = 2, 5
MAX_SEARCH_DAYS = 21  # make-up days lie within three weeks of their break
WEEKDAY_ZH = "一二三四五六日"


@dataclass(frozen=True)
class _Break:
    name: str
    days: tuple[date, ...]
    statutory: int  # statutory days, each owed a weekday off (a Saturday one is made up Monday)
    rule: str

    @property
    def makeups_needed(self) -> int:
        return sum(d.weekday() < SATURDAY for d in self.days) - self.statutory


def predict(year: int) -> Arrangement:
    """The year's holidays as the 2025 principles would place them, each marked 暂定."""
    breaks = [_short("元旦", date(year, 1, 1))]
    eve = LunarDate(year, 1, 1).to_solar_date() - timedelta(days=1)
    breaks.append(_Break("春节", days(eve, eve + timedelta(days=7)), 4, "春节自除夕起放假调休8天"))
    breaks.append(_short("清明节", _qingming(year)))
    breaks.append(_labour_day(year))
    breaks.append(_short("端午节", LunarDate(year, 5, 5).to_solar_date()))
    breaks += _national_day(year, LunarDate(year, 8, 15).to_solar_date())
    taken = {d for b in breaks for d in b.days}
    holidays = []
    for b in breaks:
        makeups = _makeups(b, taken)
        taken |= set(makeups)
        note = f"暂定：{b.rule}" + (
            f"，{'、'.join(_md(d) for d in makeups)}调休上班" if makeups else ""
        )
        holidays.append(Holiday(b.name, b.days, tuple(makeups), note))
    return Arrangement(year, tuple(holidays))


def _short(name: str, day: date) -> _Break:
    """元旦, 清明, 端午, 中秋: three days joined to the weekend; a Wednesday stands alone."""
    w = day.weekday()
    if w == WEDNESDAY:
        return _Break(name, (day,), 1, f"{_md(day)}逢周三，只在当日放假，不调休")
    start = {0: -2, 1: -2, 3: 0, 4: 0, 5: 0, 6: -1}[w]  # Mon/Tue end the break, Thu-Sat open it
    span = days(day + timedelta(days=start), day + timedelta(days=start + 2))
    return _Break(name, span, 1, f"{_md(day)}（周{WEEKDAY_ZH[w]}），与周末连休共3天")


def _labour_day(year: int) -> _Break:
    """5 days holding 05-01 and 05-02: fewest make-up days, then from 05-01, else a Saturday."""
    may1 = date(year, 5, 1)
    options = [
        days(may1 + timedelta(days=s), may1 + timedelta(days=s + 4)) for s in (0, -1, -2, -3)
    ]

    def cost(span: tuple[date, ...]) -> tuple[int, bool, bool]:
        weekdays = sum(d.weekday() < SATURDAY for d in span)
        return weekdays, span[0] != may1, span[0].weekday() != SATURDAY

    return _Break("劳动节", min(options, key=cost), 2, "劳动节放假调休5天")


def _national_day(year: int, mid_autumn: date) -> list[_Break]:
    """国庆 from 10-01 for 7 days; 8 together with 中秋 when it falls in or next to them."""
    oct1 = date(year, 10, 1)
    if oct1 - timedelta(days=2) <= mid_autumn <= oct1 + timedelta(days=7):
        start = min(oct1, mid_autumn)
        rule = f"国庆节逢中秋节（{_md(mid_autumn)}），合并放假调休8天"
        return [_Break("国庆节、中秋节", days(start, start + timedelta(days=7)), 4, rule)]
    national = _Break(
        "国庆节", days(oct1, oct1 + timedelta(days=6)), 3, "国庆节自10月1日起放假调休7天"
    )
    return [_short("中秋节", mid_autumn), national]


def _makeups(b: _Break, taken: set[date]) -> list[date]:
    """The nearest free weekend days: one on the nearer side, or one on each side for two."""
    need = b.makeups_needed
    if need <= 0:
        return []
    first, last = b.days[0], b.days[-1]

    def free(step: int, edge: date) -> list[date]:
        near = (edge + timedelta(days=step * i) for i in range(1, MAX_SEARCH_DAYS + 1))
        return [d for d in near if d.weekday() >= SATURDAY and d not in taken]

    before, after = free(-1, first), free(1, last)
    if need == 1:
        if not after or (before and (first - before[0]) <= (after[0] - last)):
            return before[:1]
        return after[:1]
    picked = before[:1] + after[:1]
    rest = sorted(before[1:] + after[1:], key=lambda d: min(abs(d - first), abs(d - last)))
    return sorted(picked + rest[: need - len(picked)])


def _qingming(year: int) -> date:
    """清明 is a solar term, on 4 or 5 April."""
    for day, name in get_solar_terms(date(year, 4, 1), date(year, 4, 10)):
        if name == "清明":
            return day  # type: ignore[no-any-return]
    raise ValueError(f"no 清明 solar term found in April {year}")


def _md(d: date) -> str:
    return f"{d.month}月{d.day}日"
