"""The one clock: every "today" in the app comes from here, so tests and the demo can move
through a whole year in seconds."""

from contextlib import contextmanager
from datetime import date, datetime
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
