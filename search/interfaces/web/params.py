"""The search page's URL parameters: read, checked, and turned into one ``Index.search`` call.

Parts:
- ``SearchParams``: what ``/?q=…`` and ``/api/search?q=…`` ask for (query, page, sort, dates,
  facet filters), with ``from_query`` to read and check them and ``url`` to write them back.
- ``ParamError``: a parameter that cannot be used; its message is the one line the page shows.
- ``query_text``: the query as searched, the facet filters ANDed to what was typed.
- ``source_label``: the short name shown for a source (its host name).

The page and the API read the same parameters the same way, so a page's URL and the API call
the script makes for it always give the same results.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode, urlsplit

PAGE_SIZE = 10
MAX_LIMIT = 100
# Deep pages cost page × limit of ranking work; nobody reads page 1,000 of a search page.
MAX_PAGE = 1_000
SORTS = ("relevance", "newest", "oldest")
# The facets a click can filter on, in the order the page lists them (Results.facets' keys).
FILTERS = ("source", "tag", "month")
_MONTH = re.compile(r"\d{4}-\d{2}")
# A date parameter is a date expression, never a query: the query language's caps are longer.
MAX_DATE_CHARS = 40


class ParamError(ValueError):
    """A URL parameter the search cannot use; ``str()`` is the one-line reason."""


@dataclass(frozen=True)
class SearchParams:
    """One search as the URL gives it; empty strings mean 'not given'."""

    q: str = ""
    page: int = 1
    sort: str = "relevance"
    since: str = ""
    until: str = ""
    source: str = ""
    tag: str = ""
    month: str = ""
    limit: int = PAGE_SIZE

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> SearchParams:
        """Read and check the parameters; ``ParamError`` names the first one that is wrong."""
        sort = params.get("sort", "") or "relevance"
        if sort not in SORTS:
            raise ParamError(f"sort must be one of {', '.join(SORTS)}, not {sort[:20]!r}")
        month = params.get("month", "").strip()
        if month and not _MONTH.fullmatch(month):
            raise ParamError(f"month must look like 2026-01, not {month[:20]!r}")
        since, until = params.get("since", "").strip(), params.get("until", "").strip()
        if len(since) > MAX_DATE_CHARS or len(until) > MAX_DATE_CHARS:
            raise ParamError(f"since and until are dates of at most {MAX_DATE_CHARS} characters")
        return cls(q=params.get("q", "").strip(), page=_whole(params, "page", 1, MAX_PAGE, 1),
                   sort=sort, since=since, until=until, source=params.get("source", "").strip(),
                   tag=params.get("tag", "").strip(), month=month,
                   limit=_whole(params, "limit", 1, MAX_LIMIT, PAGE_SIZE))

    @property
    def searching(self) -> bool:
        """Whether there is anything to search for (a query or a filter)."""
        return bool(self.q or self.filters())

    def filters(self) -> dict[str, str]:
        """The facet filters given, by name."""
        return {name: value for name in FILTERS if (value := getattr(self, name))}

    def url(self, path: str = "/", **changes: str | int) -> str:
        """The URL of this search with some parameters changed; defaults are left out."""
        changed = replace(self, **changes)  # type: ignore[arg-type]
        pairs = [(name, str(value)) for name, value in (
            ("q", changed.q), ("page", changed.page if changed.page != 1 else ""),
            ("sort", changed.sort if changed.sort != "relevance" else ""), ("since", changed.since),
            ("until", changed.until), ("source", changed.source), ("tag", changed.tag),
            ("month", changed.month), ("limit", changed.limit if changed.limit != PAGE_SIZE else "")) if value]
        return path + ("?" + urlencode(pairs) if pairs else "")

    def search_args(self) -> dict[str, object]:
        """The keyword arguments of ``Index.search`` for this search (the query apart)."""
        return {"page": self.page, "limit": self.limit, "sort": self.sort,
                "since": self.since or None, "until": self.until or None}


def query_text(params: SearchParams) -> str:
    """The query as searched: what was typed, with each facet filter ANDed to it.

    A filter alone searches every article (``*``). Quotes inside a value are dropped: a value
    is searched as one phrase of its words, and a quote would end the phrase early.
    """
    if not params.filters():
        return params.q
    clauses = [f"({params.q})" if params.q else "*"]
    for name, value in params.filters().items():
        if name == "month":
            clauses.append(f"date:{value}")
        else:
            clauses.append(f'{name}:"{value.replace(chr(34), " ").strip()}"')
    return " AND ".join(clauses)


def source_label(source: str) -> str:
    """A source as the page shows it: the host of a feed URL, else the value itself."""
    host = urlsplit(source).hostname if "://" in source else None
    return host.removeprefix("feeds.").removeprefix("www.") if host else source


def _whole(params: Mapping[str, str], name: str, low: int, high: int, default: int) -> int:
    text = params.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ParamError(f"{name} must be a whole number from {low} to {high}, not {text[:20]!r}")
    return int(text)
