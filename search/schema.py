"""Schema: the fields of the Whoosh index and what each one is for.

Parts:
- ``SCHEMA_VERSION``: bumped whenever the fields or their analysis change; an index written with
  another version must be rebuilt.
- ``FIELD_WEIGHTS``: how much a match in each prose field counts in BM25F.
- ``build_schema()``: the Whoosh schema.
- ``SEARCH_FIELDS`` and ``FIELD_ALIASES``: the fields a plain query searches and the names users
  may type before a colon.

Prose fields (title, description, body, tags) are analysed with ``analysis.text_analyzer`` and
scored; the rest are kept for filtering, facets, sorting and display.
"""
from __future__ import annotations

from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from .analysis import label_analyzer, text_analyzer

SCHEMA_VERSION = 1

# BM25F field weights, applied at query time so they can be tuned without re-indexing; chosen
# by measurement on the TIME collection and the sample corpus (see README, "Relevance").
FIELD_WEIGHTS: dict[str, float] = {"title": 2.5, "description": 1.5, "tags": 1.5, "body": 1.0}

SEARCH_FIELDS: tuple[str, ...] = ("title", "description", "body", "tags")

# What a user may type before a colon, and the field it searches.
FIELD_ALIASES: dict[str, str] = {
    "title": "title",
    "description": "description",
    "desc": "description",
    "body": "body",
    "text": "body",
    "tag": "tags",
    "tags": "tags",
    "source": "source",
    "category": "categories",
    "categories": "categories",
    "date": "date",
    "id": "id",
    "link": "link",
    "path": "path",
}


def build_schema() -> Schema:
    """Return the Whoosh schema of a newsearch index."""
    prose = text_analyzer()
    labels = label_analyzer()
    return Schema(
        id=ID(unique=True, stored=True, sortable=True),
        path=ID(stored=True, sortable=True),
        link=ID(stored=True),
        title=TEXT(analyzer=prose, stored=True, spelling=True, multitoken_query="phrase"),
        description=TEXT(analyzer=prose, stored=True, multitoken_query="phrase"),
        body=TEXT(analyzer=prose, stored=True, spelling=True, multitoken_query="phrase"),
        tags=TEXT(analyzer=prose, multitoken_query="phrase"),
        # Exact values, for facets and for display.
        tag_list=KEYWORD(commas=True, stored=True),
        source=TEXT(analyzer=labels, multitoken_query="phrase"),
        source_name=ID(stored=True, sortable=True),
        categories=TEXT(analyzer=labels, multitoken_query="phrase"),
        category_list=KEYWORD(commas=True, stored=True),
        date=DATETIME(stored=True, sortable=True),
        # A month bucket ("2026-01") makes facet counts by month a column read, not a date scan.
        month=ID(sortable=True),
        # What the incremental update compares with the files on disk.
        mtime_ns=NUMERIC(bits=64, sortable=True),
        size=NUMERIC(bits=64, sortable=True),
        digest=ID(sortable=True),
        slug=STORED,
        image=STORED,
    )
