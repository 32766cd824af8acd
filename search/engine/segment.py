"""One segment as the engine reads it: newsearch's columnar postings, plus what Whoosh's segment
reader holds per document (deletions, field lengths, dates, facet values), all as numpy arrays.

Parts:
- ``SegmentView``: a segment's postings (``engine.columns``) and per-document arrays, each read
  once per reader (a segment never changes once written; its deletions are the reader's).
- ``column_order``: a segment's dated documents in date order (what writers keep beside it).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.reading import SegmentReader

from search.engine.columns import FieldColumns, SegmentColumns, columns_path
from search.index import storage
from search.index.schema import DATE_FIELD
from search.whoosh_internals.reading import field_length_bytes, segment_location

EMPTY = np.empty(0, dtype=np.int64)
EMPTY_WEIGHTS = np.empty(0, dtype=np.float64)


class SegmentView:
    """One segment of a searcher: its Whoosh searcher and reader (stored fields, per-document
    columns, deletions) and its columnar postings. ``offset`` is its first top-level number."""

    def __init__(self, searcher: Any, offset: int, root: Path) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.offset = offset
        self.size = self.reader.doc_count_all()
        self._cache: dict[Any, Any] = self.reader.__dict__.setdefault("_newsearch_view", {})
        self.columns = self._columns(root)

    def _columns(self, root: Path) -> SegmentColumns:
        if "columns" not in self._cache:
            location = segment_location(self.reader)
            if location is None:
                raise storage.damaged_index(root, RuntimeError("a segment without a folder"))
            self._cache["columns"] = SegmentColumns(columns_path(location[0], location[1]), self.size)
        columns: SegmentColumns = self._cache["columns"]
        return columns

    # Per-document arrays ------------------------------------------------------------------

    @property
    def live(self) -> np.ndarray | None:
        """True for each document not deleted; None when none is (the common case)."""
        if "live" not in self._cache:
            deleted = self.reader.deleted_docs_set if self.reader.has_deletions() else ()
            mask = None
            if deleted:
                mask = np.ones(self.size, dtype=bool)
                mask[np.fromiter(deleted, dtype=np.int64)] = False
            self._cache["live"] = mask
        live: np.ndarray | None = self._cache["live"]
        return live

    def live_docs(self) -> np.ndarray:
        """Every document not deleted, ascending."""
        live = self.live
        return np.arange(self.size, dtype=np.int64) if live is None else np.flatnonzero(live)

    def length_bytes(self, field: str) -> np.ndarray:
        """The field's length byte for every document (Whoosh's quantised lengths; 0: empty)."""
        key = ("lengths", field)
        if key not in self._cache:
            self._cache[key] = np.frombuffer(field_length_bytes(self.reader, field), dtype=np.uint8)
        lengths: np.ndarray = self._cache[key]
        return lengths

    def column_values(self, field: str) -> np.ndarray:
        """The field's numeric column for every document (0 where it has none)."""
        key = ("values", field)
        if key not in self._cache:
            reader = self.reader
            self._cache[key] = np.fromiter(reader.column_reader(field, translate=False), dtype=np.int64,
                                           count=self.size) if reader.has_column(field) \
                else np.zeros(self.size, dtype=np.int64)
        values: np.ndarray = self._cache[key]
        return values

    def column_order(self, field: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The live documents with a value in the field's numeric column (0 counts as none),
        in ascending order of it, ties by document number: (values, document numbers). None
        when the field has no column."""
        key = ("order", field)
        if key not in self._cache:
            order = _kept_order(self.reader) if field == DATE_FIELD else None
            if order is None:
                order = column_order(self.reader, field)
            if order is not None and self.live is not None:
                keep = self.live[order[1]]
                order = (order[0][keep], order[1][keep])
            self._cache[key] = order
        found: tuple[np.ndarray, np.ndarray] | None = self._cache[key]
        return found

    def value_counts(self, field: str, docs: np.ndarray) -> Counter[str]:
        """How many of ``docs`` hold each value of the field: a column's value, or for a field
        without a column each of its words (a document may then count under several)."""
        kind, first, second = self._values_of(field)
        if kind == "column":
            counts = np.bincount(first[docs], minlength=len(second)) if len(docs) else np.zeros(0, np.int64)
            return Counter({second[code]: int(count) for code, count in enumerate(counts) if count})
        chosen = np.zeros(self.size, dtype=bool)
        chosen[docs] = True
        found: Counter[str] = Counter()
        postings = self.field(field)
        if postings is None:
            return found
        for name, term in zip(first, second):
            count = int(np.count_nonzero(chosen[self.postings(postings, term)[0]]))
            if count:
                found[name] += count
        return found

    def _values_of(self, field: str) -> tuple[str, Any, Any]:
        key = ("facet", field)
        if key not in self._cache:
            reader = self.reader
            field_type = reader.schema[field]
            if reader.has_column(field):
                numbers: dict[Any, int] = {}
                codes = np.fromiter((numbers.setdefault(value, len(numbers))
                                     for value in reader.column_reader(field, translate=False)),
                                    dtype=np.int64, count=self.size)
                self._cache[key] = ("column", codes, [field_type.from_column_value(value) for value in numbers])
            else:
                postings = self.field(field)
                count = len(postings.terms) if postings is not None else 0
                names = [field_type.from_bytes(postings.terms[i]) for i in range(count)] if postings else []
                self._cache[key] = ("words", names, list(range(count)))
        found: tuple[str, Any, Any] = self._cache[key]
        return found

    # Postings -----------------------------------------------------------------------------

    def field(self, name: str) -> FieldColumns | None:
        """The field's postings in this segment, or None."""
        return self.columns.field(name)

    def term(self, field: str, text: bytes) -> tuple[FieldColumns, int] | None:
        """The field's postings and the term's number there, or None when the segment lacks it."""
        postings = self.columns.field(field)
        if postings is None:
            return None
        number = postings.terms.find(text)
        return None if number < 0 else (postings, number)

    def postings(self, postings: FieldColumns, term: int, positions: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A term's live documents, their weights (float64) and the postings' numbers (for
        positions), deleted documents left out."""
        start, end = postings.span(term)
        docs = postings.docs[start:end].astype(np.int64)
        weights = postings.weights[start:end].astype(np.float64)
        numbers = np.arange(start, end, dtype=np.int64) if positions else EMPTY
        live = self.live
        if live is not None and len(docs):
            keep = live[docs]
            docs, weights = docs[keep], weights[keep]
            numbers = numbers[keep] if positions else numbers
        return docs, weights, numbers


def column_order(reader: Any, field: str) -> tuple[np.ndarray, np.ndarray] | None:
    """A segment's documents with a value in the field's numeric column (0 counts as none), in
    ascending order of it, ties by document number, deleted ones included: (values, document
    numbers); None when the field has no column. Writers keep the date order
    (``storage.write_date_order``), as sorting a big segment's dates takes a while."""
    if not reader.has_column(field):
        return None
    values = np.fromiter(reader.column_reader(field, translate=False), dtype=np.int64,
                         count=reader.doc_count_all())
    docnums = np.flatnonzero(values)
    docnums = docnums[np.argsort(values[docnums], kind="stable")]
    return values[docnums], docnums.astype(np.int64)


def _kept_order(reader: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The date order the segment's writer kept beside it, if it is there and fits the segment."""
    location = segment_location(reader)
    if location is None:
        return None
    kept = storage.read_date_order(Path(location[0]), location[1], reader.doc_count_all())
    if kept is None:
        return None
    return np.frombuffer(kept[0], dtype=np.int64), np.frombuffer(kept[1], dtype=np.int64)


def supported(searcher: Any) -> bool:
    """Whether every segment of the searcher is a segment on disk (an empty index has none)."""
    return all(isinstance(sub.reader(), SegmentReader) for sub, _offset in searcher.leaf_searchers())
