"""Scoring: the formulas the evaluator applies to whole posting lists, as numpy vector operations.

Parts:
- ``CollectionStats``: what scores need of the whole index: document count, document
  frequencies (from every segment's columns), average field lengths, BM25's length norms.
- ``bm25``: one term's score in the given documents.
- ``fields_term``: one word in several fields as one BM25F term (``query.ranking.FieldsTerm``).
- ``coordinate``: the coordination bonus of an OR built with a scale.
- ``best``: the top N of (documents, scores), ties broken by document number.
- ``accumulate``: the sum of several (documents, scores) lists, in the order given.

The formulas and the order of their floating-point operations are the ones newsearch has ranked
with since it scored in Python (``query.ranking``'s for BM25F), so scores are the same to the
last bit: each is an element-wise operation in the same order, in float64.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from whoosh.util.numeric import byte_to_length

from search.engine.segment import SegmentView
from search.index.schema import FIELD_WEIGHTS
from search.query.ranking import BM25_B, BM25_K1, FIELD_B, FieldsTerm, bm25_idf

# Below this share of a segment's documents, sums are made by sorting the postings; above it,
# in an array as long as the segment (both add in the same order).
DENSE_SHARE = 8


class CollectionStats:
    """Index-wide statistics for scoring, looked up once per searcher."""

    def __init__(self, searcher: Any, segments: Sequence[SegmentView]) -> None:
        self.searcher = searcher
        self.segments = segments
        self.doc_count = searcher.doc_count_all()
        self._frequencies: dict[tuple[str, bytes], int] = searcher.__dict__.setdefault("_newsearch_df", {})
        self._norms: dict[tuple[str, bool], np.ndarray] = searcher.__dict__.setdefault("_newsearch_norms", {})

    def doc_frequency(self, field: str, text: bytes) -> int:
        """How many articles hold the term (deleted ones included, as BM25's idf has always
        counted them: a segment's term statistics are written with it)."""
        key = (field, text)
        found = self._frequencies.get(key)
        if found is None:
            found = 0
            for segment in self.segments:
                entry = segment.term(field, text)
                if entry is not None:
                    found += entry[0].doc_frequency(entry[1])
            self._frequencies[key] = found
        return found

    def frequency(self, field: str, text: bytes) -> float:
        """The term's total weight over the index (how often it occurs), deleted articles
        included as its document frequency includes them."""
        total = 0.0
        for segment in self.segments:
            entry = segment.term(field, text)
            if entry is not None:
                start, end = entry[0].span(entry[1])
                total += float(entry[0].weights[start:end].sum(dtype=np.float64))
        return total

    def idf(self, field: str, text: bytes) -> float:
        """BM25's idf of the term over the whole index."""
        return bm25_idf(self.doc_count, self.doc_frequency(field, text))

    def length_norms(self, field: str, scaled: bool) -> np.ndarray:
        """BM25's length norm of each of the 256 length bytes, ``1 - b + b * length / average``,
        times K1 when ``scaled``."""
        key = (field, scaled)
        if key not in self._norms:
            average = self.searcher.avg_field_length(field) or 1.0
            b = FIELD_B.get(f"{field}_B", BM25_B)
            if scaled:
                norms = [BM25_K1 * ((1 - b) + b * byte_to_length(lb) / average) for lb in range(256)]
            else:
                norms = [1 - b + b * byte_to_length(lb) / average for lb in range(256)]
            self._norms[key] = np.array(norms, dtype=np.float64)
        return self._norms[key]


def scorable(segment: SegmentView, field: str) -> bool:
    """Whether the field keeps lengths (BM25), or scores its weight alone (ids, keywords)."""
    return bool(segment.reader.schema[field].scorable)


def bm25(stats: CollectionStats, segment: SegmentView, field: str, text: bytes, boost: float,
         docs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """One term's score in ``docs``: ``idf * (tf * (K1 + 1)) / (tf + K1 * norm) * boost`` with
    the field's B, or the weight times the boost for a field without lengths."""
    if not scorable(segment, field):
        return weights * boost
    norms = stats.length_norms(field, True)[segment.length_bytes(field)[docs]]
    scale = BM25_K1 + 1
    scores: np.ndarray = stats.idf(field, text) * ((weights * scale) / (weights + norms)) * boost
    return scores


def fields_term(stats: CollectionStats, segment: SegmentView, node: FieldsTerm,
                lists: list[tuple[str, bytes, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """``FieldsTerm``: field-weighted, length-normalised frequencies summed, then BM25 once.

    ``lists`` are (field, term, documents, weights) of the word in the fields the segment has;
    the idf is the whole index's, for the field where the word is most common. The longest list
    is summed first, then the others, as the Python scorer did.
    """
    boost = 0.0
    frequency = 0
    for term in node.terms:
        weight = FIELD_WEIGHTS.get(term.fieldname, 1.0)
        boost = max(boost, term.boost / weight)
        text = segment.reader.schema[term.fieldname].to_bytes(term.text)
        frequency = max(frequency, stats.doc_frequency(term.fieldname, text))
    ordered = sorted(lists, key=lambda entry: -len(entry[2]))
    parts = []
    for field, _text, docs, tfs in ordered:
        weight = FIELD_WEIGHTS.get(field, 1.0)
        norms = stats.length_norms(field, False)[segment.length_bytes(field)[docs]]
        parts.append((docs, weight * tfs / norms))
    docs, x = accumulate(parts, segment.size)
    idf = bm25_idf(stats.doc_count, frequency) * boost * node.qtf
    return docs, idf * x * (BM25_K1 + 1) / (x + BM25_K1)


def accumulate(parts: Sequence[tuple[np.ndarray, np.ndarray]], size: int) -> tuple[np.ndarray, np.ndarray]:
    """The documents of any part, ascending, each with the sum of its values over the parts,
    added in the parts' order (each part's documents are distinct)."""
    parts = [part for part in parts if len(part[0])]
    if not parts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    if len(parts) == 1:
        return parts[0]
    total = sum(len(docs) for docs, _values in parts)
    if total * DENSE_SHARE >= size:
        sums = np.zeros(size, dtype=np.float64)
        seen = np.zeros(size, dtype=bool)
        for docs, values in parts:
            sums[docs] += values
            seen[docs] = True
        found = np.flatnonzero(seen)
        return found, sums[found]
    docs = np.concatenate([docs for docs, _values in parts])
    values = np.concatenate([values for _docs, values in parts])
    found, inverse = np.unique(docs, return_inverse=True)
    # bincount adds each document's values in the order they come: the parts' order.
    return found, np.bincount(inverse, weights=values, minlength=len(found))


def count_terms(parts: Sequence[tuple[np.ndarray, np.ndarray]], docs: np.ndarray) -> np.ndarray:
    """For each of ``docs`` (ascending), the sum of the parts' counts at it."""
    counts = np.zeros(len(docs), dtype=np.int64)
    for part_docs, part_counts in parts:
        if len(part_docs):
            counts[np.searchsorted(docs, part_docs)] += part_counts
    return counts


def coordinate(scores: np.ndarray, matched: np.ndarray, termcount: int, scale: float) -> np.ndarray:
    """The coordination bonus for each more of the query's terms a document has (Whoosh's
    ``CoordMatcher``, every document counted against the terms the segment has)."""
    if termcount == scale:
        return np.zeros(len(scores), dtype=np.float64)
    spread = (termcount - scale) ** 2
    share = (termcount - 1) / termcount
    return (scores + (matched - 1) / spread) * share


def best(docs: np.ndarray, scores: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` highest scores, ties to the lower document number: (documents, scores)."""
    if count <= 0 or not len(docs):
        return docs[:0], scores[:0]
    if len(docs) > count:
        threshold = np.partition(scores, len(scores) - count)[len(scores) - count]
        keep = scores >= threshold
        docs, scores = docs[keep], scores[keep]
    order = np.lexsort((docs, -scores))[:count]
    return docs[order], scores[order]
