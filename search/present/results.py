"""Results: the records a search returns, plain frozen dataclasses with no Whoosh inside.

Parts:
- ``Snippet``: a fragment of an article's text with the matched terms' offsets.
- ``Hit``: one matching article.
- ``Results``: one page of hits with the total count, a "did you mean" suggestion and facets.

``to_dict()`` on each gives the stable JSON form that ``newsearch search --json`` prints.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Span = tuple[int, int]

ANSI_MATCH_ON = "\x1b[1;31m"
ANSI_MATCH_OFF = "\x1b[0m"


@dataclass(frozen=True)
class Snippet:
    """A fragment of a field's text; ``spans`` are [start, end) offsets of matched terms in ``text``."""

    field: str
    text: str
    spans: tuple[Span, ...] = ()

    def render(self, mode: str | None = "text") -> str:
        """The fragment as plain text, ``html`` (escaped, matches in <mark>) or ``ansi`` (bold)."""
        return mark_spans(self.text, self.spans, mode)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: field, text and highlight spans as [start, end] pairs."""
        return {"field": self.field, "text": self.text, "spans": [list(span) for span in self.spans]}


def mark_spans(text: str, spans: tuple[Span, ...], mode: str | None) -> str:
    """Wrap ``spans`` of ``text`` for display; ``html`` mode also escapes the text.

    Spans may come in any order; overlapping spans are marked as one.
    """
    if mode not in ("html", "ansi"):
        return text
    escape = html.escape if mode == "html" else (lambda piece: piece)
    opening, closing = ("<mark>", "</mark>") if mode == "html" else (ANSI_MATCH_ON, ANSI_MATCH_OFF)
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif start < end:
            merged.append([start, end])
    pieces, last = [], 0
    for start, end in merged:
        pieces += [escape(text[last:start]), opening, escape(text[start:end]), closing]
        last = end
    pieces.append(escape(text[last:]))
    return "".join(pieces)


@dataclass(frozen=True)
class Hit:
    """One article that matched a query."""

    id: str
    title: str
    date: datetime | None
    source: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    link: str
    path: str
    score: float
    rank: int
    description: str = ""
    title_spans: tuple[Span, ...] = ()
    snippets: tuple[Snippet, ...] = ()
    highlight: str | None = "text"

    @property
    def snippet(self) -> str:
        """The best fragments joined, highlighted as the search asked (``highlight=``)."""
        return " … ".join(piece.render(self.highlight) for piece in self.snippets)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the hit (dates as ISO 8601 UTC with a trailing Z)."""
        return {
            "rank": self.rank,
            "id": self.id,
            "title": self.title,
            "title_spans": [list(span) for span in self.title_spans],
            "date": self.date.strftime("%Y-%m-%dT%H:%M:%SZ") if self.date else None,
            "source": self.source,
            "categories": list(self.categories),
            "tags": list(self.tags),
            "link": self.link,
            "path": self.path,
            "score": round(self.score, 4),
            "description": self.description,
            "snippets": [piece.to_dict() for piece in self.snippets],
        }


@dataclass(frozen=True)
class Results:
    """One page of hits for a query, with the total number of matching articles."""

    query: str
    total: int
    page: int
    page_count: int
    limit: int
    hits: tuple[Hit, ...]
    elapsed: float
    suggestion: str | None = None
    facets: dict[str, dict[str, int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.hits)

    def __iter__(self) -> Any:
        return iter(self.hits)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``newsearch search --json`` (documented in the README)."""
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "pages": self.page_count,
            "limit": self.limit,
            "elapsed": round(self.elapsed, 4),
            "suggestion": self.suggestion,
            "facets": self.facets,
            "hits": [hit.to_dict() for hit in self.hits],
        }
