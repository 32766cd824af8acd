"""Date expressions: absolute, relative, month ends, time zones and bad input."""
from __future__ import annotations

from datetime import datetime

import pytest

from search.query.dates import Span, parse_span, since_bound, span_between, until_bound
from search.errors import QueryError

NOW = datetime(2026, 11, 24, 15, 30)  # a Tuesday


@pytest.mark.parametrize("text, start, end", [
    ("2026", datetime(2026, 1, 1), datetime(2027, 1, 1)),
    ("2026-01", datetime(2026, 1, 1), datetime(2026, 2, 1)),
    ("2026-12", datetime(2026, 12, 1), datetime(2027, 1, 1)),          # year end
    ("2028-02", datetime(2028, 2, 1), datetime(2028, 3, 1)),           # leap February
    ("2026-01-31", datetime(2026, 1, 31), datetime(2026, 2, 1)),       # month end
    ("2026-12-31", datetime(2026, 12, 31), datetime(2027, 1, 1)),
    ("2026-01-08T10:00+02:00", datetime(2026, 1, 8, 8, 0), datetime(2026, 1, 8, 8, 1)),  # to UTC
    ("2026-01-08T23:30:00-05:00", datetime(2026, 1, 9, 4, 30), datetime(2026, 1, 9, 4, 31)),
    ("2026-01-08T10:00:05Z", datetime(2026, 1, 8, 10, 0, 5), datetime(2026, 1, 8, 10, 0, 6)),
    ("March", datetime(2026, 3, 1), datetime(2026, 4, 1)),
    ("december", datetime(2025, 12, 1), datetime(2026, 1, 1)),         # most recent December
    ("jan 2026", datetime(2026, 1, 1), datetime(2026, 2, 1)),
    ("8 jan 2026", datetime(2026, 1, 8), datetime(2026, 1, 9)),
    ("today", datetime(2026, 11, 24), datetime(2026, 11, 25)),
    ("yesterday", datetime(2026, 11, 23), datetime(2026, 11, 24)),
    ("last week", datetime(2026, 11, 17), NOW),
    ("this week", datetime(2026, 11, 23), datetime(2026, 11, 25)),
    ("this month", datetime(2026, 11, 1), datetime(2026, 11, 25)),
    ("3 days ago", datetime(2026, 11, 21), datetime(2026, 11, 22)),
    ("'3 days ago'", datetime(2026, 11, 21), datetime(2026, 11, 22)),
    ("last 2 weeks", datetime(2026, 11, 10, 15, 30), NOW),
    ("-1m", datetime(2026, 10, 24, 15, 30), NOW),
])
def test_spans(text: str, start: datetime, end: datetime) -> None:
    assert parse_span(text, NOW) == Span(start, end)


def test_month_arithmetic_clamps_to_the_month_end() -> None:
    march_31 = datetime(2026, 3, 31, 12)
    assert parse_span("1 month ago", march_31) == Span(datetime(2026, 2, 28), datetime(2026, 3, 1))


@pytest.mark.parametrize("bad", ["2026-13-45", "2026-02-30", "2026-00", "someday", "3 fortnights ago", "", "   "])
def test_bad_dates_name_the_text(bad: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_span(bad, NOW)
    assert (bad.strip() in str(caught.value)) or "empty date" in str(caught.value)


def test_since_and_until_take_the_start_and_the_end() -> None:
    assert since_bound("2026-01", NOW) == datetime(2026, 1, 1)
    assert until_bound("2026-01", NOW) == datetime(2026, 2, 1)


def test_span_between_open_ends_and_order() -> None:
    assert span_between("2026-01-01", None, NOW) == Span(datetime(2026, 1, 1), None)
    assert span_between(None, "2026-01-31", NOW) == Span(None, datetime(2026, 2, 1))
    with pytest.raises(QueryError):
        span_between("2026-02-01", "2026-01-01", NOW)
