"""Scores: the formulas ``evaluation`` applies to whole posting lists of one segment.

Parts:
- ``length_norms``: BM25's length norm of each of Whoosh's 256 field length bytes.
- ``bm25``: one term's score in the given documents (Whoosh's ``scoring.bm25``).
- ``fields_term``: one word in several fields as one BM25F term (``ranking.FieldsTerm``).
- ``feedback_bonus``: what the feedback terms add to the query's matches
  (``ranking.FeedbackBoost``).
- ``coordinate``: Whoosh's coordination bonus for an OR built with a scale.
- ``best``: the top N of a score dict, ties broken by document number as Whoosh breaks them.

Each takes a posting list as two sequences (document numbers and weights, from ``postings``)
and answers a dict of document number to score, computed in one loop per list; the formulas
and the order of their floating-point operations are Whoosh's (``ranking``'s for BM25F).
"""
from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from whoosh import query as wq
from whoosh.util.numeric import byte_to_length

from search.engine.postings import Segment
from search.query.ranking import BM25_B, BM25_K1, FIELD_B, FieldsTerm, bm25_idf
from search.index.schema import FIELD_WEIGHTS

Scores = dict[int, float]
# A field's posting list of one word: the field, the documents and the word's weights there.
FieldList = tuple[str, Sequence[int], Sequence[float]]


def best(scores: Scores, count: int) -> list[tuple[int, float]]:
    """The ``count`` highest scores as (docnum, score), ties to the lower document number.

    The threshold comes from the bare scores (``nlargest`` without a key runs in C; with a key
    it took a third of a query's time), then only the documents at or above it are sorted.
    """
    if count <= 0 or not scores:
        return []
    threshold = heapq.nlargest(count, scores.values())[-1]
    candidates = [(docnum, score) for docnum, score in scores.items() if score >= threshold]
    if len(candidates) > 4 * count:  # many ties (a date range scores all its matches alike)
        return [(docnum, -negative) for negative, docnum in
                heapq.nsmallest(count, [(-score, docnum) for docnum, score in candidates])]
    candidates.sort(key=lambda item: (-item[1], item[0]))
    return candidates[:count]


def length_norms(searcher: Any, fieldname: str, scaled: bool) -> list[float]:
    """BM25's length norm of each length byte for the field, ``1 - b + b * length /
    average``, times K1 when ``scaled`` (as ``scoring.bm25`` has it). Kept with the searcher,
    whose average lengths never change: a query asked for it once per term and segment."""
    cache: dict[tuple[str, bool], list[float]] = searcher.__dict__.setdefault("_newsearch_norms", {})
    key = (fieldname, scaled)
    if key not in cache:
        average = searcher.avg_field_length(fieldname) or 1.0
        b = FIELD_B.get(f"{fieldname}_B", BM25_B)
        if scaled:
            cache[key] = [BM25_K1 * ((1 - b) + b * byte_to_length(lb) / average) for lb in range(256)]
        else:
            cache[key] = [1 - b + b * byte_to_length(lb) / average for lb in range(256)]
    return cache[key]


def _bm25_factors(searcher: Any, segment: Segment, fieldname: str, text: bytes
                  ) -> tuple[float, list[float], bytes, float] | None:
    """What ``bm25`` needs for one term: its idf, the length norm of each length byte, the
    segment's length bytes and K1 + 1; None for a field without lengths (weight alone)."""
    if not segment.reader.schema[fieldname].scorable:
        return None
    norms = length_norms(searcher, fieldname, True)
    return searcher.idf(fieldname, text), norms, segment.length_bytes(fieldname), BM25_K1 + 1


def bm25(searcher: Any, segment: Segment, fieldname: str, text: bytes, boost: float,
         ids: Sequence[int], weights: Sequence[float]) -> Scores:
    """Whoosh's score of one term in the given documents: ``scoring.bm25`` with the field's
    B (the weight alone for a field without lengths), times the term's boost. ``searcher`` is
    the top-level searcher (idf and average lengths are the whole index's)."""
    factors = _bm25_factors(searcher, segment, fieldname, text)
    if factors is None:
        return {docnum: tf * boost for docnum, tf in zip(ids, weights)}
    idf, norms, lengths, scale = factors
    return {docnum: idf * ((tf * scale) / (tf + norms[lengths[docnum]])) * boost
            for docnum, tf in zip(ids, weights)}


def fields_term(searcher: Any, segment: Segment, node: FieldsTerm, lists: list[FieldList]) -> Scores:
    """``ranking.FieldsTerm``: field-weighted, length-normalised frequencies summed, then BM25.

    ``lists`` are the word's posting lists in the fields of ``node`` that the segment has; the
    idf is the whole index's, for the field where the word is most common.
    """
    boost = 0.0
    frequency = 0
    for term in node.terms:
        weight = FIELD_WEIGHTS.get(term.fieldname, 1.0)
        boost = max(boost, term.boost / weight)
        text = segment.reader.schema[term.fieldname].to_bytes(term.text)
        frequency = max(frequency, searcher.doc_frequency(term.fieldname, text))
    # The longest list (usually the body's) fills the dict in one C-level step; the shorter
    # ones are added to it (sums in another order than Whoosh's: equal to 1e-9).
    x: Scores = {}
    for position, (field, ids, tfs) in enumerate(sorted(lists, key=lambda entry: -len(entry[1]))):
        weight = FIELD_WEIGHTS.get(field, 1.0)
        norms = length_norms(searcher, field, False)
        lengths = segment.length_bytes(field)
        values = [weight * tf / norms[lengths[docnum]] for docnum, tf in zip(ids, tfs)]
        if position == 0:
            x = dict(zip(ids, values))
        else:
            get = x.get
            for docnum, value in zip(ids, values):
                x[docnum] = get(docnum, 0.0) + value
    idf = bm25_idf(searcher.doc_count_all(), frequency) * boost * node.qtf
    return {docnum: idf * value * (BM25_K1 + 1) / (value + BM25_K1) for docnum, value in x.items()}


def feedback_bonus(searcher: Any, segment: Segment, extra: list[wq.Term], base: Scores,
                   within: Sequence[int] | None) -> Scores:
    """What ``ranking.FeedbackBoost``'s ``extra`` terms add to each of the ``base`` matches:
    each term's BM25 as ``bm25`` computes it, summed. The terms' postings are read only in
    blocks that can hold one of ``within`` (the matches, ascending) when given."""
    bonus: Scores = {}
    for term in extra:
        if term.fieldname not in segment.reader.schema:
            continue
        text = segment.reader.schema[term.fieldname].to_bytes(term.text)
        ids, weights = segment.postings(term.fieldname, text, within)
        factors = _bm25_factors(searcher, segment, term.fieldname, text)
        get, boost = bonus.get, term.boost
        if factors is None:  # a field without lengths: the weight alone, as in ``bm25``
            for docnum, tf in zip(ids, weights):
                if docnum in base:
                    bonus[docnum] = get(docnum, 0.0) + tf * boost
            continue
        idf, norms, lengths, scale = factors
        # One pass per list (most postings of a common word are outside the matches).
        for docnum, tf in zip(ids, weights):
            if docnum in base:
                bonus[docnum] = get(docnum, 0.0) + idf * ((tf * scale) / (tf + norms[lengths[docnum]])) * boost
    return bonus


def coordinate(scores: Scores, matched: dict[int, int], termcount: int, scale: float) -> Scores:
    """Whoosh's ``CoordMatcher``: a bonus for each more of the query's terms a document has.

    Whoosh recounts the terms when a posting list runs out mid-search, so a document's bonus
    depended on where it sat in the index; here every document is counted against the terms
    the segment has.
    """
    if termcount == scale:
        return dict.fromkeys(scores, 0.0)
    spread = (termcount - scale) ** 2
    share = (termcount - 1) / termcount
    return {docnum: (score + (matched[docnum] - 1) / spread) * share for docnum, score in scores.items()}
