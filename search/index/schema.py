"""Schema: the fields of the Whoosh index and what each one is for.

Parts:
- ``SCHEMA_VERSION``: bumped whenever the fields or their analysis change; an index written with
  another version must be rebuilt.
- ``FIELD_WEIGHTS``: how much a match in each prose field counts in BM25F.
- ``build_schema()``: the Whoosh schema.
- ``SPELLING_FIELDS`` and ``SpelledText``: the word lists spelling suggestions and fuzzy terms
  draw on, and the prose field type that points Whoosh at them.
- ``SEARCH_FIELDS`` and ``FIELD_ALIASES``: the fields a plain query searches and the names users
  may type before a colon.

Prose fields (title, description, body, tags) are analysed with ``analysis.text_analyzer`` and
scored; the rest are kept for filtering, facets, sorting and display.
"""
from __future__ import annotations

from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from search.analysis.text import label_analyzer, text_analyzer

# 5: stop words indexed (unstemmed, true positions), not counted in field lengths.
SCHEMA_VERSION = 5

# The unstemmed words of each prose field that has a word list for spelling, and that list's
# field. Whoosh's own ``spelling=True`` posts every word of every document to its list (about
# half of all postings, and the slowest ones to write); newsearch's indexer writes each word
# once per segment instead, which gives the same word list (see ``indexing.SpellingLists``).
SPELLING_FIELDS: dict[str, str] = {"title": "spell_title", "body": "spell_body"}

# The field of an article's date: ranges, --since/--until, sorting and recency read it.
DATE_FIELD = "date"

# BM25F field weights, applied at query time so they can be tuned without re-indexing; chosen
# by measurement on TIME and on Reuters topics (benchmarks/RESULTS.md).
FIELD_WEIGHTS: dict[str, float] = {"title": 2.5, "description": 1.0, "tags": 1.5, "body": 1.0}

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


class SpelledText(TEXT):  # type: ignore[misc]
    """A prose field whose spelling word list is the separate ``spell_<name>`` field.

    Readers, ``Searcher.correct_query`` and ``terms_within`` find the list through
    ``spelling_fieldname``; Whoosh's writer adds nothing to it by itself
    (``separate_spelling`` is false), the indexer does.
    """

    def separate_spelling(self) -> bool:
        return False

    def spelling_fieldname(self, fieldname: str) -> str:
        return SPELLING_FIELDS.get(fieldname, fieldname)


def _date_field() -> DATETIME:
    """A date field whose range queries expand to few terms.

    Whoosh indexes a date at several precisions (tiers ``shift_step`` bits apart) and answers a
    range with whole coarse tiers in the middle and finer ones at the edges, up to
    ``2 ** shift_step`` terms per tier and edge. DATETIME's 8 made a one-month range on Reuters
    a union of about 560 terms (260 ms); 4 makes it 65 ms, for 8 more postings per document.
    """
    # The column's default is 0 (read back as year 1, which readers treat as "no date"), not
    # NumericColumn's 2**64 - 1, which Whoosh cannot turn back into a datetime.
    field = DATETIME(stored=True, sortable=NumericColumn("Q", default=0))
    field.shift_step = 4
    return field


def build_schema() -> Schema:
    """Return the Whoosh schema of a newsearch index."""
    prose = text_analyzer()
    labels = label_analyzer()
    return Schema(
        id=ID(unique=True, stored=True, sortable=True),
        path=ID(stored=True, sortable=True),
        link=ID(stored=True),
        title=SpelledText(analyzer=prose, stored=True, multitoken_query="phrase"),
        description=TEXT(analyzer=prose, stored=True, multitoken_query="phrase"),
        body=SpelledText(analyzer=prose, stored=True, multitoken_query="phrase"),
        # Space-separated lower-case words, unstemmed: see SPELLING_FIELDS.
        spell_title=KEYWORD(),
        spell_body=KEYWORD(),
        tags=TEXT(analyzer=prose, multitoken_query="phrase"),
        # Exact values, for facets and for display.
        tag_list=KEYWORD(commas=True, stored=True),
        source=TEXT(analyzer=labels, multitoken_query="phrase"),
        source_name=ID(stored=True, sortable=True),
        categories=TEXT(analyzer=labels, multitoken_query="phrase"),
        category_list=KEYWORD(commas=True, stored=True),
        date=_date_field(),
        # A month bucket ("2026-01") makes facet counts by month a column read, not a date scan.
        month=ID(sortable=True),
        # What the incremental update compares with the files on disk: columns only, as nothing
        # searches them (a 64-bit NUMERIC would add 16 postings per document each).
        mtime_ns=COLUMN(NumericColumn("q")),
        size=COLUMN(NumericColumn("q")),
        digest=ID(sortable=True),
        slug=STORED,
        image=STORED,
    )
