"""Querying: parse what users type into Whoosh queries, run them, copy the results out.

Parts:
- ``check_syntax``: catches the mistakes Whoosh would silently guess at (an unbalanced quote or
  parenthesis), with the position.
- ``make_parser``: Whoosh's parser with newsearch's plugins: field aliases (``tag:``,
  ``category:``), unknown-field errors, fuzzy terms, ``>``/``<`` ranges and ``DateSpanPlugin``
  for every date form of ``dates``.
- ``parse_query``: text to a Whoosh query, or ``QueryError``.
- ``SearchOptions`` and ``run_search``: run a query on a searcher and return ``Results``. A
  search by relevance scores every match once, a posting list at a time (``evaluation``), so
  the total is exact; only the shown page's hits get their matched terms and snippets. A search
  sorted by date goes through Whoosh's collector.

How matches are scored (BM25F, fields combined, relevance feedback) lives in ``ranking``; fuzzy
words in ``fuzzy``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from whoosh import query as wq
from whoosh import sorting
from whoosh.qparser import (
    FieldAliasPlugin,
    FieldsPlugin,
    GtLtPlugin,
    MultifieldParser,
    OrGroup,
    PlusMinusPlugin,
    QueryParser,
    syntax,
)
from whoosh.qparser.plugins import Plugin

from . import dates
from .errors import QueryError
from .evaluation import Evaluator
from .fuzzy import SpelledFuzzyPlugin, expand_fuzzy
from .postings import supported
from .ranking import TopDocs, add_feedback, combine_fields, query_repeats
from .recency import RecencyBoost, reference_date
from .results import Hit, Results
from .schema import FIELD_ALIASES, FIELD_WEIGHTS, SEARCH_FIELDS
from .snippets import make_snippets, title_spans

SORTS = ("relevance", "newest", "oldest")

# How much a document matching more of a query's words outranks one matching fewer.
COORDINATION = 0.9

MAX_LIMIT = 1000
# Fragments per hit an API caller may ask for (each is a pass over the article's text).
MAX_SNIPPETS = 10


def _check_encodable(text: str) -> None:
    """Reject undecodable bytes (lone surrogates from a non-UTF-8 command line), naming the column."""
    for position, char in enumerate(text):
        if "\ud800" <= char <= "\udfff":
            raise QueryError(f"query has a byte that is not UTF-8 at column {position + 1}; type it as text")


def check_syntax(text: str) -> None:
    """Raise ``QueryError`` for an unbalanced double quote or parenthesis, naming the column."""
    depth_positions: list[int] = []
    quote_at = -1
    for position, char in enumerate(text):
        if quote_at >= 0:
            if char == '"':
                quote_at = -1
        elif char == '"':
            quote_at = position
        elif char == "(":
            depth_positions.append(position)
        elif char == ")":
            if not depth_positions:
                raise QueryError(f"unbalanced ')' at column {position + 1} of {text!r}")
            depth_positions.pop()
    if quote_at >= 0:
        raise QueryError(f"unbalanced '\"' at column {quote_at + 1} of {text!r}: close the phrase")
    if depth_positions:
        raise QueryError(f"unbalanced '(' at column {depth_positions[-1] + 1} of {text!r}: add a ')'")


class _DateSpanNode(syntax.SyntaxNode):  # type: ignore[misc]
    """A parsed date condition; becomes a half-open DateRange on the date field."""

    has_fieldname = True
    has_boost = True

    def __init__(self, fieldname: str, span: dates.Span) -> None:
        self.fieldname = fieldname
        self.span = span
        self.boost = 1.0

    def r(self) -> str:
        return f"{self.fieldname}:[{self.span.start} to {self.span.end})"

    def query(self, parser: Any) -> wq.Query:
        if self.span.start is None and self.span.end is None:
            return wq.Every()
        return wq.DateRange(self.fieldname, self.span.start, self.span.end, endexcl=self.span.end is not None)


class DateSpanPlugin(Plugin):  # type: ignore[misc]
    """Reads the text after ``date:`` with ``dates.parse_span`` (relative forms included)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def filters(self, parser: Any) -> list[tuple[Any, int]]:
        # After FieldsPlugin (100) has attached field names to the nodes.
        return [(self.convert_dates, 110)]

    def convert_dates(self, parser: Any, group: Any) -> Any:
        for position, node in enumerate(group):
            if isinstance(node, syntax.GroupNode):
                group[position] = self.convert_dates(parser, node)
            elif getattr(node, "fieldname", None) == "date":
                group[position] = _DateSpanNode("date", self._span_of(node)).set_range(node.startchar, node.endchar)
        return group

    def _span_of(self, node: Any) -> dates.Span:
        if isinstance(node, syntax.RangeNode):
            return self._range_span(node)
        if node.has_text:
            return dates.parse_span(node.text, self.now)
        raise QueryError("date: needs a date after it, e.g. date:2026-01 or date:[2026-01-01 to 2026-01-31]")

    def _range_span(self, node: Any) -> dates.Span:
        low = dates.parse_span(node.start, self.now) if node.start else None
        high = dates.parse_span(node.end, self.now) if node.end else None
        start = (low.end if node.startexcl else low.start) if low else None
        end = (high.start if node.endexcl else high.end) if high else None
        if start is not None and end is not None and start >= end:
            raise QueryError(f"empty date range: {node.start!r} is not before {node.end!r}")
        return dates.Span(start, end)


def _aliases() -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for alias, field in FIELD_ALIASES.items():
        if alias != field:
            grouped.setdefault(field, []).append(alias)
    return grouped


def make_parser(schema: Any, now: datetime | None = None, fields: tuple[str, ...] = SEARCH_FIELDS) -> QueryParser:
    """The query parser: Whoosh's syntax plus newsearch's fields, dates and fuzzy terms."""
    parser = MultifieldParser(
        list(fields), schema, fieldboosts={f: FIELD_WEIGHTS.get(f, 1.0) for f in fields},
        group=OrGroup.factory(COORDINATION),
    )
    parser.remove_plugin_class(FieldsPlugin)
    parser.add_plugin(FieldsPlugin(remove_unknown=False))
    parser.add_plugin(FieldAliasPlugin(_aliases()))
    # A leading + or - marks a required or excluded word; a hyphen inside "2026-01-08" does not.
    parser.add_plugin(PlusMinusPlugin(plusexpr=r"(?<![^\s(])\+", minusexpr=r"(?<![^\s(])-"))
    parser.add_plugin(SpelledFuzzyPlugin())
    # Only right after "field:", so a query that starts with "<b>" is just words.
    parser.add_plugin(GtLtPlugin(expr=r"(?<=:)(?P<rel>(<=|>=|<|>|=<|=>))"))
    parser.add_plugin(DateSpanPlugin(now or dates.utc_now()))
    return parser


def parse_query(text: str, schema: Any, now: datetime | None = None, fields: tuple[str, ...] = SEARCH_FIELDS) -> wq.Query:
    """Turn query text into a Whoosh query; ``QueryError`` says what is wrong and where."""
    if not text.strip():
        raise QueryError("empty query: type some words to search for")
    _check_encodable(text)
    check_syntax(text)
    try:
        parsed = make_parser(schema, now, fields).parse(text)
    except QueryError:
        raise
    except Exception as error:  # Whoosh reports odd input with assorted exception types.
        raise QueryError(f"cannot understand query {text!r} near {error!s:.40}; check its operators and parentheses") from None
    _check_fields(parsed, schema, text)
    if parsed is wq.NullQuery or isinstance(parsed, type(wq.NullQuery)):
        raise QueryError(f"query {text!r} has no searchable words (only stop words or punctuation?)")
    return require_filters(parsed)


# Fields that narrow a search rather than describe what it is about.
FILTER_FIELDS = frozenset({"source", "categories", "date", "id", "link", "path"})


def _is_filter(clause: wq.Query) -> bool:
    leaves = list(clause.leaves()) if clause.children() else [clause]
    return bool(leaves) and all(getattr(leaf, "fieldname", None) in FILTER_FIELDS for leaf in leaves)


def require_filters(parsed: wq.Query) -> wq.Query:
    """Make filter clauses (``source:``, ``category:``, ``date:``) and exclusions required.

    Words are ORed so that near misses still rank, but ``source:foxnews ice`` means ice stories
    from that source, and ``strike -commuters`` means strike stories without commuters, not
    everything that lacks the word.
    """
    if parsed.children():
        parsed = parsed.apply(require_filters)
    if not isinstance(parsed, wq.Or):
        return parsed
    clauses = parsed.subqueries
    exclusions = [clause.query for clause in clauses if isinstance(clause, wq.Not)]
    filters = [clause for clause in clauses if not isinstance(clause, wq.Not) and _is_filter(clause)]
    words = [clause for clause in clauses if not isinstance(clause, wq.Not) and not _is_filter(clause)]
    if not exclusions and not (filters and words):
        return parsed
    topic: wq.Query | None = None
    if words:
        topic = words[0] if len(words) == 1 else wq.Or(words, boost=parsed.boost, scale=getattr(parsed, "scale", None))
    required = [q for q in (topic, *filters) if q is not None]
    base = required[0] if len(required) == 1 else (wq.And(required) if required else wq.Every())
    return wq.AndNot(base, wq.Or(exclusions)) if exclusions else base


def _check_fields(parsed: wq.Query, schema: Any, text: str) -> None:
    for leaf in parsed.leaves() if parsed.children() else [parsed]:
        name = getattr(leaf, "fieldname", None)
        if name is not None and name not in schema:
            known = ", ".join(sorted(a for a in FIELD_ALIASES if a not in ("id", "link", "path")))
            raise QueryError(f"unknown field '{name}:' in {text!r}; fields are {known}")


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
        if self.since and self.until and self.since >= self.until:
            raise QueryError("--since must be before --until")


def date_filter(options: SearchOptions) -> wq.Query | None:
    """The date restriction from ``since``/``until`` (``until`` excluded), or None."""
    if options.since is None and options.until is None:
        return None
    return wq.DateRange("date", _naive_utc(options.since), _naive_utc(options.until), endexcl=options.until is not None)


def _naive_utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def run_search(searcher: Any, text: str, options: SearchOptions, now: datetime | None = None) -> Results:
    """Run a query on an open searcher and copy one page of hits out of Whoosh."""
    started = time.perf_counter()
    options.validate()
    parsed = parse_query(text, searcher.schema, now, options.fields)
    parsed = expand_fuzzy(parsed, searcher)
    restriction = date_filter(options)
    if options.sort == "relevance" and supported(searcher):
        return _ranked_search(searcher, text, parsed, restriction, options, started, now)
    ranked = parsed
    if options.sort == "relevance":
        ranked = ranking_query(searcher, text, parsed, restriction, options, now)
    if restriction is not None:
        parsed = wq.And([parsed, restriction])
        ranked = wq.And([ranked, restriction])
    page = _search_page(searcher, ranked, options)
    total = page.total
    # Whoosh clamps a page number past the end to the last page; a page past the end is empty.
    shown = page if page.pagenum == options.page else []
    hits = tuple(_copy_hit(hit, rank, options) for rank, hit in enumerate(shown, page.offset + 1))
    return Results(
        query=text,
        total=total,
        page=options.page,
        page_count=max(1, math.ceil(total / options.limit)),
        limit=options.limit,
        hits=hits,
        elapsed=time.perf_counter() - started,
        suggestion=suggest(searcher, text, parsed, total, restriction, options.fields),
        facets=_facet_counts(page.results) if options.facets else {},
    )


def ranking_query(searcher: Any, text: str, parsed: wq.Query, restriction: wq.Query | None,
                  options: SearchOptions, now: datetime | None = None, top_docs: TopDocs | None = None) -> wq.Query:
    """What relevance ranks ``parsed`` by: fields combined, repeated words counted, feedback
    from the top article (found with ``top_docs`` when given) and the recency boost if asked for."""
    repeats = query_repeats(searcher, text, parsed, options.fields)
    if options.feedback:
        ranked = add_feedback(searcher, parsed, options.fields, restriction, repeats=repeats, top_docs=top_docs)
    else:
        ranked = combine_fields(parsed, repeats)
    if options.recent is not None:
        ranked = RecencyBoost(ranked, reference_date(searcher, now), options.recent)
    return ranked


def _ranked_search(searcher: Any, text: str, parsed: wq.Query, restriction: wq.Query | None,
                   options: SearchOptions, started: float, now: datetime | None) -> Results:
    """A search by relevance, scored a posting list at a time (``evaluation``).

    Every match is scored once (the total is exact), the feedback search reuses those scores,
    and only the shown page's hits are copied out, with their matched terms and snippets.
    """
    evaluator = Evaluator(searcher)

    def top_docs(query: wq.Query, count: int) -> list[tuple[int, float]]:
        return evaluator.top(query, count)[1]

    ranked = ranking_query(searcher, text, parsed, restriction, options, now, top_docs)
    if restriction is not None:
        parsed = wq.And([parsed, restriction])
        ranked = wq.And([ranked, restriction])
    first = (options.page - 1) * options.limit
    total, shown = evaluator.top(ranked, first + options.limit)
    shown = shown[first:]
    matched = evaluator.matched_terms(ranked, [docnum for docnum, _score in shown])
    hits = tuple(_copy_hit(_ScoredHit(searcher, docnum, score, matched[docnum]), rank, options)
                 for rank, (docnum, score) in enumerate(shown, first + 1))
    return Results(
        query=text,
        total=total,
        page=options.page,
        page_count=max(1, math.ceil(total / options.limit)),
        limit=options.limit,
        hits=hits,
        elapsed=time.perf_counter() - started,
        suggestion=suggest(searcher, text, parsed, total, restriction, options.fields),
        facets=_facet_counts(_all_matches(searcher, parsed)) if options.facets else {},
    )


def _all_matches(searcher: Any, parsed: wq.Query) -> Any:
    """Every match of ``parsed``, unscored and grouped for facets (counts over all matches)."""
    return searcher.search(parsed, limit=None, scored=False, groupedby=_facet_groups())


def _facet_groups() -> dict[str, Any]:
    """Whoosh facets counting matches by source, tag and month."""
    return {name: sorting.FieldFacet(column, allow_overlap=(name == "tag"), maptype=sorting.Count)
            for name, column in FACETS.items()}


class _ScoredHit:
    """What ``_copy_hit`` and ``snippets`` read from a Whoosh hit, for a hit found by ``evaluation``."""

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

# A corrected query is offered when the query found fewer hits than this.
SUGGEST_BELOW = 3


# Undated articles hold 0 in the date column: oldest first would list them before everything.
_UNDATED_LAST = sorting.TranslateFacet(lambda when: when or 2 ** 64, sorting.FieldFacet("date"))


def _search_page(searcher: Any, parsed: wq.Query, options: SearchOptions) -> Any:
    extra: dict[str, Any] = {}
    if options.sort == "newest":
        extra = {"sortedby": "date", "reverse": True}
    elif options.sort == "oldest":
        extra = {"sortedby": _UNDATED_LAST}
    if options.facets:
        extra["groupedby"] = _facet_groups()
    return searcher.search_page(parsed, options.page, pagelen=options.limit, terms=True, **extra)


def _facet_counts(results: Any) -> dict[str, dict[str, int]]:
    """Counts by source, tag and month over all matches, largest first (months newest first)."""
    counts: dict[str, dict[str, int]] = {}
    for name in FACETS:
        groups = {str(key): int(value) for key, value in results.groups(name).items() if key}
        order = sorted(groups.items(), key=lambda kv: kv[0], reverse=True) if name == "month" else \
            sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))
        counts[name] = dict(order)
    return counts


def suggest(searcher: Any, text: str, parsed: wq.Query, total: int, restriction: wq.Query | None,
            fields: tuple[str, ...]) -> str | None:
    """A spelling-corrected query when it would find more than ``text`` did, or when ``text``
    has a word the index has never seen and the correction finds as much, else None."""
    unknown = _has_unknown_word(searcher, parsed)
    if total >= SUGGEST_BELOW and not unknown:
        return None
    try:
        corrected = searcher.correct_query(parsed, text, prefix=1, maxdist=2)
    except Exception:  # Correction is a nicety; a query it cannot handle just gets none.
        return None
    if corrected.string == text:
        return None
    # Whoosh's corrected query holds unstemmed words; parse the corrected text like any query.
    try:
        better = parse_query(corrected.string, searcher.schema, fields=fields)
    except QueryError:
        return None
    if restriction is not None:
        better = wq.And([better, restriction])
    found = len(searcher.search(better, limit=1))
    return str(corrected.string) if found > total or (unknown and found >= total) else None


def _has_unknown_word(searcher: Any, parsed: wq.Query) -> bool:
    """Whether a plain word of the query occurs in none of the prose fields."""
    reader = searcher.reader()
    words = {text for field, text in parsed.iter_all_terms() if field in SEARCH_FIELDS}
    return any(all(reader.doc_frequency(field, word) == 0 for field in SEARCH_FIELDS) for word in words)


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
