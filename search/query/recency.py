"""The optional recency boost: newer articles rank higher (``--recent``, ``recent=True``).

Relevance stays the main signal: an article's score is multiplied by
``1 + RECENCY_WEIGHT * 0.5 ** (age / half_life)``, so an article from the reference day scores
up to twice as high as an equally relevant old one, an article one half-life older gets half of
that bonus, and undated articles get none. The age is counted from the newest article in the
index (or from now, if an article claims a date in the future): an archive of 1987 newswires
has a "recent" end just as a live feed does.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from whoosh import query as wq
from whoosh.matching import WrappingMatcher
from whoosh.util.times import datetime_to_long

from search.query.dates import naive_utc

# How much the newest article's score may grow (1.0 doubles it) and, by default, after how many
# days that bonus halves. Two weeks keeps this month's news ahead of last year's without
# letting a passing mention from yesterday beat the article that is about the query.
RECENCY_WEIGHT = 1.0
DEFAULT_HALF_LIFE_DAYS = 14.0

_USECS_PER_DAY = 86_400 * 1_000_000


def date_column(reader: Any) -> Any:
    """A segment's dates by document number, in Whoosh's column units (0: undated), or None."""
    return reader.column_reader("date", translate=False) if reader.has_column("date") else None


def newest_date(searcher: Any) -> int:
    """The latest date in the index, in Whoosh's column units (microseconds), 0 if none."""
    return max((_segment_newest(leaf.reader()) for leaf, _offset in searcher.leaf_searchers()), default=0)


def _segment_newest(reader: Any) -> int:
    # Read once per segment reader: a segment never changes, and a scan of the whole column on
    # every --recent query would grow with the index.
    cache: dict[str, int] = reader.__dict__.setdefault("_newsearch_newest", {})
    if "date" not in cache:
        dates = date_column(reader) if reader.doc_count() else None
        cache["date"] = int(max(dates, default=0)) if dates is not None else 0
    return cache["date"]


def reference_date(searcher: Any, now: datetime | None = None) -> int:
    """Where ages are counted from: the newest article's date, but never later than now."""
    moment = naive_utc(now or datetime.now(timezone.utc))
    latest = newest_date(searcher)
    return int(min(latest, datetime_to_long(moment)) if latest else datetime_to_long(moment))


def recency_factor(date: int, reference: int, half_life_days: float) -> float:
    """The multiplier for an article dated ``date`` (0: undated, which gets no bonus)."""
    if date <= 0:
        return 1.0
    age_days = max(0, reference - date) / _USECS_PER_DAY
    return 1.0 + RECENCY_WEIGHT * math.pow(0.5, age_days / half_life_days)


def recency_factors(dates: Any, reference: int, half_life_days: float) -> Any:
    """``recency_factor`` of each of an array of dates (numpy), computed the same way."""
    import numpy as np  # only the engine calls this, and it has numpy loaded already

    ages = np.maximum(0, reference - dates) / _USECS_PER_DAY
    factors = 1.0 + RECENCY_WEIGHT * np.power(0.5, ages / half_life_days)
    return np.where(dates <= 0, 1.0, factors)


class RecencyBoost(wq.WrappingQuery):  # type: ignore[misc]
    """Matches what ``child`` matches; each score multiplied by ``recency_factor``."""

    def __init__(self, child: wq.Query, reference: int, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> None:
        self.child = child
        self.reference = reference
        self.half_life_days = half_life_days

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.child!r}, {self.reference!r}, {self.half_life_days!r})"

    def _rewrap(self, child: wq.Query) -> wq.Query:
        return self.__class__(child, self.reference, self.half_life_days)

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        # Whoosh asks for a matcher per segment, so the column's document numbers match the child's.
        dates = date_column(searcher.reader())
        return _RecencyMatcher(self.child.matcher(searcher, context), dates, self.reference, self.half_life_days)


class _RecencyMatcher(WrappingMatcher):  # type: ignore[misc]
    def __init__(self, child: Any, dates: Any, reference: int, half_life_days: float) -> None:
        super().__init__(child)
        self.dates = dates
        self.reference = reference
        self.half_life_days = half_life_days

    def _replacement(self, newchild: Any) -> Any:
        return self.__class__(newchild, self.dates, self.reference, self.half_life_days)

    def supports_block_quality(self) -> bool:
        # A block's best score says nothing about its newest article; skipping blocks on the
        # child's bounds could drop a recent article that the boost would lift into the page.
        return False

    def score(self) -> float:
        date = self.dates[self.child.id()] if self.dates is not None else 0
        return float(self.child.score()) * recency_factor(date, self.reference, self.half_life_days)
