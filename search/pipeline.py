"""The search pipeline: query text -> parsed query (checked against the caps) -> the engine ->
one page of ``Results``.

Parts:
- ``SearchOptions`` and ``run_search``: parse the query once (``query.language``), check its
  costs (``query.limits``), expand fuzzy words, and hand it to the engine
  (``engine.evaluator``), which scores every match on the index's own postings, so the total is
  exact; only the shown page's hits get their matched terms and snippets. A search sorted by
  date takes its page from the segments' date orders.
- ``ranking_query``: what relevance ranks by (fields combined, feedback, the recency boost).
- Facet counts from the engine's matches; "did you mean" from ``query.spelling``.
"""
from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from whoosh import query as wq

from search.query.dates import naive_utc
from search.errors import QueryError
from search.engine.evaluator import Evaluator
from search.query import limits
from search.query.plan import QueryPlan, plan_query
from search.query.ranking import DocFrequency, TopDocs, add_feedback, combine_fields, query_repeats
from search.query.recency import RecencyBoost, reference_date
from search.present.results import Hit, Results
from search.index.schema import SEARCH_FIELDS
from search.present.snippets import make_snippets, title_spans
from search.query.spelling import suggest

SORTS = ("relevance", "newest", "oldest")

MAX_LIMIT = 1000
# Fragments per hit an API caller may ask for (each is a pass over the article's text).
MAX_SNIPPETS = 10


@dataclass(frozen=True)
class SearchOptions:
    """How to run one search (what the API's keyword arguments become)."""

    limit: int = 10
    page: int = 1
    sort: str = "relevance"
    since: datetime | None = None
    until: datetime | None = None
    fields: tuple[str, ...] = SEARCH_FIELDS
    highlight: str | None = "text"
    snippets: int = 2
    facets: bool = False
    feedback: bool = True  # pseudo-relevance feedback for plain word queries sorted by relevance
    recent: float | None = None  # the recency boost's half-life in days; None: no boost
    # Seconds the search may run before a QueryError stops it (``limits``); None: no deadline.
    timeout: float | None = limits.DEFAULT_TIMEOUT
    # Indexed words one prefix, wildcard or fuzzy word may expand to (``limits``: the total of
    # a query's prefixes is 4 times it); 1 to ``limits.MAX_EXPANSIONS_CEILING``.
    max_expansions: int = limits.MAX_EXPANSIONS

    def validate(self) -> None:
        """Raise ``QueryError`` for options out of range."""
        if not 1 <= self.limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, not {self.limit}")
        if self.page < 1:
            raise QueryError(f"page must be 1 or more, not {self.page}")
        if self.sort not in SORTS:
            raise QueryError(f"unknown sort {self.sort!r}; use one of {', '.join(SORTS)}")
        if not 0 <= self.snippets <= MAX_SNIPPETS:
            raise QueryError(f"snippets must be between 0 and {MAX_SNIPPETS}, not {self.snippets}")
        if self.highlight not in ("text", "html", "ansi", None):
            raise QueryError(f"unknown highlight {self.highlight!r}; use text, html, ansi or None")
        unknown = [f for f in self.fields if f not in SEARCH_FIELDS]
        if unknown or not self.fields:
            raise QueryError(f"cannot search fields {unknown or '()'}; use some of {', '.join(SEARCH_FIELDS)}")
        if self.recent is not None and not (0 < self.recent < math.inf):
            raise QueryError(f"the recency half-life must be a positive number of days, not {self.recent}")
        if self.recent is not None and self.sort != "relevance":
            raise QueryError(f"the recency boost reorders relevance ranking; it cannot be used with sort={self.sort}")
        limits.check_timeout(self.timeout)
        limits.check_max_expansions(self.max_expansions)
        if self.since and self.until and self.since >= self.until:
            raise QueryError(f"since (from {self.since:%Y-%m-%d %H:%M}) must be before until "
                             f"(up to {self.until:%Y-%m-%d %H:%M}): no article could match")


def date_filter(options: SearchOptions) -> wq.Query | None:
    """The date restriction from ``since``/``until`` (``until`` excluded), or None."""
    if options.since is None and options.until is None:
        return None
    since = naive_utc(options.since) if options.since is not None else None
    until = naive_utc(options.until) if options.until is not None else None
    return wq.DateRange("date", since, until, endexcl=until is not None)


def run_search(searcher: Any, text: str, options: SearchOptions, now: datetime | None = None,
               root: Path | None = None) -> Results:
    """Run a query on an open searcher and copy one page of hits out: parsed once, evaluated
    by the engine (``engine.evaluator``) on the index's own postings.

    The query is checked against ``limits``' caps before anything is looked up, and its run
    is stopped with a ``QueryError`` once ``options.timeout`` seconds have passed.
    """
    started = time.perf_counter()
    options.validate()
    evaluator = Evaluator(searcher, root, max_expansions=options.max_expansions)
    plan = plan_query(text, searcher, options.fields, date_filter(options), options.timeout,
                      evaluator.expansion_words, now, options.max_expansions)
    evaluator.deadline = plan.deadline
    if options.sort == "relevance":
        return _ranked_search(evaluator, plan, options, started, now)
    return _dated_search(evaluator, plan, options, started)


def ranking_query(searcher: Any, text: str, parsed: wq.Query, restriction: wq.Query | None,
                  options: SearchOptions, now: datetime | None, top_docs: TopDocs,
                  doc_frequency: DocFrequency) -> wq.Query:
    """What relevance ranks ``parsed`` by: fields combined, repeated words counted, feedback
    from the top article (found with ``top_docs`` when given) and the recency boost if asked for."""
    repeats = query_repeats(searcher, text, parsed, options.fields)
    if options.feedback:
        ranked = add_feedback(searcher, parsed, options.fields, restriction, repeats=repeats, top_docs=top_docs,
                              doc_frequency=doc_frequency)
    else:
        ranked = combine_fields(parsed, repeats)
    if options.recent is not None:
        ranked = RecencyBoost(ranked, reference_date(searcher, now), options.recent)
    return ranked


def _ranked_search(evaluator: Evaluator, plan: QueryPlan, options: SearchOptions, started: float,
                   now: datetime | None) -> Results:
    """A search by relevance, scored a posting list at a time by the engine.

    Every match is scored once (the total is exact), the feedback search reuses those scores,
    and only the shown page's hits are copied out, with their matched terms and snippets.
    """
    searcher = evaluator.searcher

    def top_docs(query: wq.Query, count: int) -> list[tuple[int, float]]:
        return evaluator.top(query, count)[1]

    ranked = ranking_query(searcher, plan.text, plan.query, plan.restriction, options, now, top_docs,
                           evaluator.doc_frequency)
    if plan.restriction is not None:
        ranked = wq.And([ranked, plan.restriction])
    first = (options.page - 1) * options.limit
    total, shown = evaluator.top(ranked, first + options.limit)
    hits = _evaluated_hits(evaluator, ranked, shown[first:], first, options)
    return _results(evaluator, plan, options, started, total, hits, lambda: _counted_facets(evaluator, ranked))


def _dated_search(evaluator: Evaluator, plan: QueryPlan, options: SearchOptions, started: float) -> Results:
    """A search sorted by date: every match found, the page taken in date order; a hit's score
    is the query's score as typed (no fields combined, no feedback)."""
    query = plan.query if plan.restriction is None else wq.And([plan.query, plan.restriction])
    first = (options.page - 1) * options.limit
    total, shown = evaluator.in_date_order(query, first + options.limit, options.sort == "newest")
    hits = _evaluated_hits(evaluator, query, shown[first:], first, options)
    return _results(evaluator, plan, options, started, total, hits, lambda: _counted_facets(evaluator, query))


def _evaluated_hits(evaluator: Evaluator, query: wq.Query, shown: list[tuple[int, float]], first: int,
                    options: SearchOptions) -> tuple[Hit, ...]:
    """The shown (docnum, score) pairs copied out as hits ranked from ``first + 1``, with the
    terms of ``query`` each one matched."""
    matched = evaluator.matched_terms(query, [docnum for docnum, _score in shown])
    return tuple(_copy_hit(_ScoredHit(evaluator.searcher, docnum, score, matched[docnum]), rank, options)
                 for rank, (docnum, score) in enumerate(shown, first + 1))


def _results(evaluator: Evaluator, plan: QueryPlan, options: SearchOptions, started: float, total: int,
             hits: tuple[Hit, ...], facets: Callable[[], dict[str, dict[str, int]]]) -> Results:
    """The ``Results`` of one page; ``facets`` counts the matches' sources, tags and months,
    when asked for."""
    return Results(
        query=plan.text,
        total=total,
        page=options.page,
        page_count=max(1, math.ceil(total / options.limit)),
        limit=options.limit,
        hits=hits,
        elapsed=time.perf_counter() - started,
        suggestion=_suggestion(evaluator, plan, total),
        facets=facets() if options.facets else {},
    )


def _suggestion(evaluator: Evaluator, plan: QueryPlan, total: int) -> str | None:
    """``spelling.suggest``, or None when it fails: a suggestion is a courtesy, and one that
    cannot be made (out of time, past a cap, or an unexpected error on an odd correction)
    must not cost the user the hits already found."""
    try:
        return suggest(evaluator.searcher, plan.text, plan.query, total, plan.restriction, plan.fields,
                       evaluator.count, evaluator.doc_frequency, plan.deadline, typed=plan.typed)
    except Exception:  # noqa: BLE001 - any failure means no suggestion, as the docstring says
        return None


class _ScoredHit:
    """What ``_copy_hit`` and ``snippets`` read from a Whoosh hit, for a hit the engine found."""

    def __init__(self, searcher: Any, docnum: int, score: float, terms: set[tuple[str, bytes]]) -> None:
        self.searcher = searcher
        self.docnum = docnum
        self.score = score
        self._terms = terms

    def fields(self) -> dict[str, Any]:
        return dict(self.searcher.stored_fields(self.docnum))

    def matched_terms(self) -> set[tuple[str, bytes]]:
        return self._terms


# Facets: the name shown to users and the column that holds the value.
FACETS = {"source": "source_name", "tag": "tag_list", "month": "month"}


def _counted_facets(evaluator: Evaluator, query: wq.Query) -> dict[str, dict[str, int]]:
    """``_ordered_facets`` of the matches ``evaluator`` found for ``query``, counted from the
    segments' columns and the tag field's posting lists (``Segment.value_counts``): Whoosh's
    grouping searched again and looked up every match's values one by one (on Reuters, ``oil``
    with facets took 49 ms that way against 8 ms without)."""
    groups: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    for segment, matches in evaluator.segment_matches(query):
        if len(matches):
            for name, field in FACETS.items():
                groups[name].update(segment.value_counts(field, matches))
    return _ordered_facets(groups)


def _ordered_facets(groups: Mapping[str, Mapping[Any, int]]) -> dict[str, dict[str, int]]:
    """Counts by source, tag and month, without the empty value, largest first (months newest
    first)."""
    counts: dict[str, dict[str, int]] = {}
    for name in FACETS:
        found = {str(key): int(value) for key, value in groups[name].items() if key}
        order = sorted(found.items(), key=lambda kv: kv[0], reverse=True) if name == "month" else \
            sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
        counts[name] = dict(order)
    return counts


def _copy_hit(hit: Any, rank: int, options: SearchOptions) -> Hit:
    stored = hit.fields()
    date = stored.get("date")
    return Hit(
        id=stored["id"],
        title=stored.get("title", ""),
        date=date.replace(tzinfo=timezone.utc) if isinstance(date, datetime) else None,
        source=stored.get("source_name", ""),
        categories=_split(stored.get("category_list", "")),
        tags=_split(stored.get("tag_list", "")),
        link=stored.get("link", ""),
        path=stored.get("path", ""),
        score=float(hit.score or 0.0),
        rank=rank,
        description=stored.get("description", ""),
        title_spans=title_spans(hit, stored.get("title", "")),
        snippets=make_snippets(hit, stored, options.snippets),
        highlight=options.highlight,
    )


def _split(joined: str) -> tuple[str, ...]:
    return tuple(item for item in joined.split(",") if item)
