"""Dates in queries: turn what a user types into a span of UTC time.

Parts:
- ``Span``: a half-open interval [start, end) of naive UTC datetimes (the index stores UTC).
- ``parse_span(text, now)``: absolute forms (``2026``, ``2026-01``, ``2026-01-08``,
  ``2026-01-08T10:00+02:00``, ``march``, ``jan 2026``, ``8 jan 2026``) and relative ones
  (``now``, ``today``, ``yesterday``, ``this week|month|year``, ``last week|month|year``,
  ``last 3 days``, ``3 days ago``, ``-2w``).
- ``since_bound`` / ``until_bound``: the ``--since``/``--until`` options.
- ``span_between``: a range ``[a to b]`` with either end open.

Any text that is not a date raises ``QueryError`` naming it and listing the accepted forms.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from search.errors import QueryError

DATE_FORMS_HINT = (
    "use YYYY, YYYY-MM, YYYY-MM-DD, an ISO timestamp, a month name, "
    "today, yesterday, 'last week', '3 days ago' or 'last 2 months'"
)

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9

_UNIT_ALIASES = {
    "d": "day", "day": "day", "days": "day",
    "w": "week", "wk": "week", "week": "week", "weeks": "week",
    "m": "month", "mo": "month", "month": "month", "months": "month",
    "y": "year", "yr": "year", "year": "year", "years": "year",
    "h": "hour", "hour": "hour", "hours": "hour",
}

_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR = re.compile(r"(\d{4})")
_AGO = re.compile(r"(\d+)\s*([a-z]+)\s+ago")
_LAST_N = re.compile(r"(?:last|past)\s+(\d+)\s*([a-z]+)")
_MINUS = re.compile(r"-(\d+)\s*([a-z]+)")
_MONTH_NAME = re.compile(r"(?:(\d{1,2})\s+)?([a-z]+)\.?(?:\s+(\d{1,2}),?)?(?:\s+(\d{4}))?")


@dataclass(frozen=True)
class Span:
    """A half-open interval of naive UTC datetimes; ``None`` leaves an end open."""

    start: datetime | None
    end: datetime | None


def utc_now() -> datetime:
    """The current time as a naive UTC datetime (the form the index stores)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def naive_utc(moment: datetime) -> datetime:
    """``moment`` as the index stores times: naive UTC (a naive moment is taken to be UTC already)."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo is not None else moment


def parse_span(text: str, now: datetime | None = None) -> Span:
    """The span of time ``text`` names, e.g. ``2026-01`` is the whole of January 2026 (UTC)."""
    now = now or utc_now()
    cleaned = " ".join(text.strip().strip("'\"").lower().split())
    if not cleaned:
        raise QueryError(f"empty date: {DATE_FORMS_HINT}")
    span = _relative_span(cleaned, now) or _absolute_span(cleaned, now)
    if span is None:
        raise QueryError(f"not a date: {text.strip()!r}; {DATE_FORMS_HINT}")
    return span


def span_between(low: str | None, high: str | None, now: datetime | None = None) -> Span:
    """The span from the start of ``low`` to the end of ``high`` (either may be open)."""
    start = parse_span(low, now).start if low else None
    end = parse_span(high, now).end if high else None
    if start and end and start >= end:
        raise QueryError(f"empty date range: {low!r} is not before {high!r}")
    return Span(start, end)


def since_bound(text: str, now: datetime | None = None) -> datetime | None:
    """The first moment ``--since TEXT`` admits (the start of the day or period named)."""
    return parse_span(text, now).start


def until_bound(text: str, now: datetime | None = None) -> datetime | None:
    """The first moment ``--until TEXT`` excludes (the end of the day or period named)."""
    return parse_span(text, now).end


def _day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _shift(moment: datetime, amount: int, unit: str) -> datetime:
    if unit == "month":
        return _add_months(moment, -amount)
    if unit == "year":
        return _add_months(moment, -12 * amount)
    step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}[unit]
    return moment - amount * step


def _unit(word: str) -> str | None:
    return _UNIT_ALIASES.get(word)


def _relative_span(text: str, now: datetime) -> Span | None:
    today = _day_start(now)
    fixed = {
        "now": Span(now, now + timedelta(seconds=1)),
        "today": Span(today, today + timedelta(days=1)),
        "yesterday": Span(today - timedelta(days=1), today),
        "tomorrow": Span(today + timedelta(days=1), today + timedelta(days=2)),
        "this week": Span(today - timedelta(days=today.weekday()), today + timedelta(days=1)),
        "this month": Span(today.replace(day=1), today + timedelta(days=1)),
        "this year": Span(today.replace(month=1, day=1), today + timedelta(days=1)),
        # "last week" is the seven days up to now: what people mean when they search news.
        "last week": Span(today - timedelta(days=7), now),
        "last month": Span(_add_months(today, -1), now),
        "last year": Span(_add_months(today, -12), now),
    }
    if text in fixed:
        return fixed[text]
    return _counted_span(text, now, today)


def _counted_span(text: str, now: datetime, today: datetime) -> Span | None:
    for pattern, kind in ((_AGO, "ago"), (_LAST_N, "last"), (_MINUS, "last")):
        match = pattern.fullmatch(text)
        if not match:
            continue
        amount, unit = int(match.group(1)), _unit(match.group(2))
        if unit is None or amount > 100_000:
            return None
        try:
            if kind == "last":
                return Span(_shift(now, amount, unit), now)
            moment = _shift(now, amount, unit)
        except (OverflowError, ValueError):
            return None
        if unit == "hour":
            return Span(moment.replace(minute=0, second=0, microsecond=0), moment + timedelta(hours=1))
        return Span(_day_start(moment), _day_start(moment) + timedelta(days=1))
    return None


def _absolute_span(text: str, now: datetime) -> Span | None:
    try:
        return _iso_span(text) or _month_name_span(text, now)
    except ValueError:
        return None


def _iso_span(text: str) -> Span | None:
    if _YEAR.fullmatch(text):
        year = int(text)
        return Span(datetime(year, 1, 1), datetime(year + 1, 1, 1)) if year < 9999 else None
    match = _ISO_MONTH.fullmatch(text)
    if match:
        start = _month_start(int(match.group(1)), int(match.group(2)))
        return Span(start, _add_months(start, 1))
    match = _ISO_DAY.fullmatch(text)
    if match:
        start = datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        return Span(start, start + timedelta(days=1))
    if _ISO_DAY.match(text):
        return _timestamp_span(text)
    return None


def _timestamp_span(text: str) -> Span:
    moment = datetime.fromisoformat(text.upper().replace(" ", "T", 1).replace("Z", "+00:00"))
    moment = naive_utc(moment)
    precision = timedelta(minutes=1) if moment.second == 0 and moment.microsecond == 0 else timedelta(seconds=1)
    return Span(moment, moment + precision)


def _month_name_span(text: str, now: datetime) -> Span | None:
    match = _MONTH_NAME.fullmatch(text)
    if not match or match.group(2) not in _MONTHS:
        return None
    day_text = match.group(1) or match.group(3)
    month = _MONTHS[match.group(2)]
    # A month without a year is its most recent occurrence, this year's or last year's.
    year = int(match.group(4)) if match.group(4) else (now.year if month <= now.month else now.year - 1)
    if day_text:
        start = datetime(year, month, int(day_text))
        return Span(start, start + timedelta(days=1))
    start = _month_start(year, month)
    return Span(start, _add_months(start, 1))
