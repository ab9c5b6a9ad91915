"""The one clock: every "today" in the app comes from here, so tests and the demo can move
through a whole year in seconds."""

from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_TZ = ZoneInfo("Asia/Shanghai")
_frozen: date | None = None


def today() -> date:
    if _frozen is not None:
        return _frozen
    from lianchuang.settings import get_settings

    return get_settings().today or datetime.now(_TZ).date()


def now() -> datetime:
    """Wall-clock time on the (possibly simulated) day, naive, in Asia/Shanghai."""
    current = datetime.now(_TZ).replace(tzinfo=None)
    day = today()
    return current if day == current.date() else datetime.combine(day, current.time())


def set_today(day: date | None) -> None:
    global _frozen
    _frozen = day


@contextmanager
def frozen_at(day: date):
    previous = _frozen
    set_today(day)
    try:
        yield day
    finally:
        set_today(previous)


# Month arithmetic: the one place that knows how months follow each other.

def first_of_next_month(year: int, month: int) -> date:
    """The day a month is over: its ranking can be computed from then on."""
    return date(year + (month == 12), month % 12 + 1, 1)


def month_end(year: int, month: int) -> date:
    return first_of_next_month(year, month) - timedelta(days=1)


def last_finished_month(day: date | None = None) -> tuple[int, int]:
    """(year, month) of the last month over by `day` (default today): in January, last December."""
    day = day or today()
    return (day.year - 1, 12) if day.month == 1 else (day.year, day.month - 1)


def reporting_deadline(year: int, month: int) -> date:
    """The last day to report a month's progress (LIANCHUANG_REPORTING_DEADLINE_DAY of the next month)."""
    from lianchuang.settings import get_settings

    return first_of_next_month(year, month) + timedelta(days=get_settings().reporting_deadline_day - 1)


def evaluation_year(day: date | None = None) -> int:
    """The year under evaluation: the year-end evaluation and its award run into January."""
    day = day or today()
    return day.year - 1 if day.month == 1 else day.year


def finished_months(year: int, day: date | None = None) -> list[int]:
    """The months of `year` that are over by `day` (default today)."""
    day = day or today()
    return [month for month in range(1, 13) if first_of_next_month(year, month) <= day]


def reported_months(year: int, day: date | None = None) -> list[int]:
    """The months of `year` whose reporting deadline has passed by `day` (default today): the ones
    the cycle and the schedule publish."""
    day = day or today()
    return [month for month in range(1, 13) if reporting_deadline(year, month) < day]
