"""Evaluation: a query scored a whole posting list at a time, with numpy, on newsearch's postings.

Each segment's postings are arrays (``engine.columns``); a term's list is a slice, scored in one
vector operation (``engine.scoring``), and OR, AND and exclusions are sorted-array operations
on document numbers. Every match is scored, so totals are exact and nothing is skipped. Known
here, and nothing else (there is no second engine): words (``Term``), a word over several
fields (``FieldsTerm``), boosts, the coordination bonus of a scaled OR, phrases with and without
slop, prefixes, wildcards and term ranges (the words they expand to), date ranges (from each
segment's dates in order), ``Every`` (``*``, ``title:*``), ``Not``, ``AndNot``, ``AndMaybe``
(``+word other``), ``Require``, constant scores, ``FeedbackBoost`` and ``RecencyBoost``. A
form outside these is refused with ``QueryError``. An AND with a date range evaluates its
other parts only within the range's articles (``_Domain``).

Parts:
- ``Evaluator``: ``top(query, n)`` (the total and the n best), ``scores(query)`` (every
  match), ``segment_matches``, ``in_date_order(query, n, newest)``, ``count(query)`` and
  ``matched_terms`` (the terms of a query each shown article matched, for highlighting).
  Results of sub-queries are kept, so a query and its feedback variant share work.

The module is longer than most: it is the one place where each query form is given its meaning
(a handler per form, ``_HANDLERS``), and keeping them together keeps their shared conventions
(sorted documents, the order floating-point sums are made in, domains) in view. Formulas are in
``scoring``, phrase checks in ``phrases``, expansions in ``expansion``.
"""
from __future__ import annotations

import heapq
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.fields import DATETIME
from whoosh.reading import SegmentReader

from search.engine.expansion import expansion
from search.engine.phrases import exact_phrase_rows, sloppy_phrase_rows
from search.engine.scoring import CollectionStats, accumulate, best, bm25, coordinate, count_terms, fields_term
from search.engine.segment import EMPTY, EMPTY_WEIGHTS, SegmentView
from search.errors import QueryError
from search.index.schema import DATE_FIELD
from search.query import limits
from search.query.ranking import FeedbackBoost, FieldsTerm
from search.query.recency import RecencyBoost, recency_factors

Term = tuple[str, bytes]
# An expansion's words scored between two checks of the deadline.
_TERMS_PER_CHECK = 64


class _Part:
    """A sub-query's matches in one segment: documents ascending, their scores, and for
    coordination how many of the query's terms each holds."""

    __slots__ = ("docs", "scores", "counts", "termcount", "terms")

    def __init__(self, docs: np.ndarray, scores: np.ndarray, counts: np.ndarray | None = None,
                 termcount: int = 0, terms: dict[Term, np.ndarray] | None = None) -> None:
        self.docs = docs
        self.scores = scores
        self.counts = counts  # number of the query's terms each document has, when asked for
        self.termcount = termcount  # number of the query's terms the segment has
        self.terms = terms or {}  # term -> segment documents holding it, ascending


def _nothing(counts: bool = False, termcount: int = 0) -> _Part:
    return _Part(EMPTY, EMPTY_WEIGHTS, EMPTY if counts else None, termcount)


def _constant(docs: np.ndarray, score: float, counts: bool = False) -> _Part:
    return _Part(docs, np.full(len(docs), score, dtype=np.float64), np.zeros(len(docs), np.int64) if counts else None)


class _Domain:
    """The documents of one segment a sub-query is evaluated within: those of a date range it
    is ANDed with, so its posting lists are scored only there."""

    __slots__ = ("docs", "mask")

    def __init__(self, docs: np.ndarray, size: int) -> None:
        self.docs = np.unique(docs)
        self.mask = np.zeros(size, dtype=bool)
        self.mask[self.docs] = True


def _restricted(part: _Part, domain: _Domain | None) -> _Part:
    """A part computed for the whole segment, cut to the domain's documents."""
    if domain is None:
        return part
    keep = domain.mask[part.docs]
    counts = None if part.counts is None else part.counts[keep]
    return _Part(part.docs[keep], part.scores[keep], counts, part.termcount, part.terms)


class Evaluator:
    """Scores queries on one searcher's segments; remembers sub-query results for reuse."""

    def __init__(self, searcher: Any, root: Path | None = None, deadline: limits.Deadline | None = None,
                 max_expansions: int = limits.MAX_EXPANSIONS) -> None:
        self.searcher = searcher
        self.root = root or Path(".")
        self.deadline = deadline or limits.NO_DEADLINE  # checked by every sub-query (issue 23)
        self.max_expansions = max_expansions  # words a prefix or wildcard may reach (limits)
        self.segments = [SegmentView(sub, offset, self.root) for sub, offset in searcher.leaf_searchers()
                         if isinstance(sub.reader(), SegmentReader)]
        self.stats = CollectionStats(searcher, self.segments)
        # Sub-query results by (id of the query object, segment, with counts, id of the domain);
        # each entry keeps its query and domain alive, so an id is never reused while it exists.
        self._memo: dict[tuple[int, int, bool, int], tuple[wq.Query, _Domain | None, _Part]] = {}
        self._latest: dict[tuple[int, int], _Part] = {}  # the widest result per query and segment
        self._domains: dict[tuple[int, int, int], tuple[wq.Query, _Domain | None, _Domain | None]] = {}

    # Whole-index answers ----------------------------------------------------------------

    def top(self, query: wq.Query, count: int) -> tuple[int, list[tuple[int, float]]]:
        """How many documents ``query`` matches, and the ``count`` best as (top-level number,
        score), highest first, ties to the lower number."""
        total = 0
        docs: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        for index, segment in enumerate(self.segments):
            part = self._part(query, index, False)
            total += len(part.docs)
            found, values = best(part.docs, part.scores, count)
            docs.append(found + segment.offset)
            scores.append(values)
        if not docs:
            return 0, []
        found, values = best(np.concatenate(docs), np.concatenate(scores), count)
        return total, list(zip(found.tolist(), values.tolist()))

    def count(self, query: wq.Query) -> int:
        """How many documents ``query`` matches."""
        return sum(len(self._part(query, index, False).docs) for index in range(len(self.segments)))

    def scores(self, query: wq.Query) -> dict[int, float]:
        """Every document ``query`` matches (top-level numbers) with its score."""
        found: dict[int, float] = {}
        for index, segment in enumerate(self.segments):
            part = self._part(query, index, False)
            found.update(zip((part.docs + segment.offset).tolist(), part.scores.tolist()))
        return found

    def segment_matches(self, query: wq.Query) -> list[tuple[SegmentView, np.ndarray]]:
        """Each segment with the documents ``query`` matches in it (its own numbers)."""
        return [(segment, self._part(query, index, False).docs) for index, segment in enumerate(self.segments)]

    def in_date_order(self, query: wq.Query, count: int, newest: bool) -> tuple[int, list[tuple[int, float]]]:
        """How many documents ``query`` matches, and the first ``count`` by date with their
        scores: newest or oldest first, undated last, ties by document number (descending when
        newest first). Each segment's kept date order is filtered down to the matches."""
        total = 0
        streams: list[list[tuple[int, int]]] = []
        undated: list[np.ndarray] = []
        score_of: dict[int, float] = {}
        for index, segment in enumerate(self.segments):
            part = self._part(query, index, False)
            total += len(part.docs)
            matched = np.zeros(segment.size, dtype=bool)
            matched[part.docs] = True
            order = segment.column_order(DATE_FIELD)
            dated = np.zeros(segment.size, dtype=bool)
            if order is not None:
                values, docnums = order
                keep = matched[docnums]
                values, docnums = values[keep], docnums[keep]
                dated[docnums] = True
                picked = slice(len(docnums) - count if count < len(docnums) else 0, None) if newest else slice(0, count)
                pairs = list(zip(values[picked].tolist(), (docnums[picked] + segment.offset).tolist()))
                streams.append(pairs[::-1] if newest else pairs)
            undated.append(part.docs[~dated[part.docs]] + segment.offset)
            score_of.update(zip((part.docs + segment.offset).tolist(), part.scores.tolist()))
        found = [docnum for _value, docnum in islice(heapq.merge(*streams, reverse=newest), count)]
        if len(found) < count and undated:
            rest = np.sort(np.concatenate(undated))
            rest = rest[::-1] if newest else rest
            found += rest[:count - len(found)].tolist()
        return total, [(docnum, score_of[docnum]) for docnum in found]

    def matched_terms(self, query: wq.Query, docnums: list[int]) -> dict[int, set[Term]]:
        """The (field, term) pairs of ``query`` that matched each document (a phrase's words
        only where the phrase matched; not feedback terms, exclusions or ranges)."""
        found: dict[int, set[Term]] = {docnum: set() for docnum in docnums}
        leaves = _leaves(query)
        by_segment: dict[int, list[int]] = {}
        for docnum in docnums:
            index = max(i for i, segment in enumerate(self.segments) if segment.offset <= docnum)
            by_segment.setdefault(index, []).append(docnum)
        for index, shown in by_segment.items():
            # One vector lookup per term for all the segment's shown articles (a prefix holds
            # hundreds of terms: one lookup per term and article was a third of ``co*``).
            local = np.array(shown, dtype=np.int64) - self.segments[index].offset
            for node in leaves:
                part = self._latest.get((id(node), index))
                if part is None:
                    continue
                for term, docs in part.terms.items():
                    if not len(docs):
                        continue
                    at = np.minimum(np.searchsorted(docs, local), len(docs) - 1)
                    for where in np.flatnonzero(docs[at] == local).tolist():
                        found[shown[where]].add(term)
        return found

    def doc_frequency(self, field: str, text: str) -> int:
        """How many articles hold the word (an index term) in the field."""
        return self.stats.doc_frequency(field, text.encode("utf-8"))

    def expansion_words(self, node: wq.Query, cap: int, deadline: limits.Deadline | None = None) -> set[bytes]:
        """The index words a prefix or wildcard stands for over every segment, at most ``cap``;
        ``deadline`` (else the evaluator's) is checked as a wildcard walks the terms."""
        found: set[bytes] = set()
        for segment in self.segments:
            postings = segment.field(node.fieldname)
            if postings is None:
                continue
            for number in expansion(node, postings, cap - len(found), deadline or self.deadline):
                found.add(postings.terms[number])
            if len(found) >= cap:
                break
        return found

    def key_terms(self, docnum: int, field: str, count: int) -> list[tuple[str, float]]:
        """The ``count`` words that most distinguish an article's ``field`` from the index
        (Whoosh's Bo1 expansion model, weights normalised to the strongest), for more-like-this."""
        from whoosh.classify import Bo1Model

        from search.engine.related import ContentExpander, ExpansionReader

        expander = ContentExpander(ExpansionReader(self), field, model=Bo1Model)
        expander.add_document(docnum)
        found: list[tuple[str, float]] = expander.expanded_terms(count, normalize=True)
        return found

    # Sub-queries ------------------------------------------------------------------------

    def _part(self, node: wq.Query, index: int, counts: bool, domain: _Domain | None = None) -> _Part:
        """The sub-query's result in one segment (within ``domain`` when given), computed once."""
        key = (id(node), index, counts, id(domain))
        entry = self._memo.get(key)
        if entry is None:
            self.deadline.check()
            entry = self._memo[key] = (node, domain, self._evaluate(node, index, counts, domain))
            if domain is None or (id(node), index) not in self._latest:  # the widest answer wins
                self._latest[(id(node), index)] = entry[2]
        return entry[2]

    def _evaluate(self, node: wq.Query, index: int, counts: bool, domain: _Domain | None) -> _Part:
        kind = type(node)
        handler = _HANDLERS.get(kind)
        if handler is None:
            for base, candidate in _BASE_HANDLERS:
                if isinstance(node, base):
                    handler = candidate
                    break
        if handler is None:
            raise QueryError(f"cannot evaluate this part of the query: {node!r:.80}")
        return handler(self, node, index, counts, domain)

    def _term(self, node: wq.Term, index: int, counts: bool, domain: _Domain | None) -> _Part:
        segment = self.segments[index]
        found = _word_postings(segment, node.fieldname, node.text, None if domain is None else domain.mask)
        if found is None:
            return _nothing(counts)
        text, docs, weights = found
        scores = bm25(self.stats, segment, node.fieldname, text, node.boost, docs, weights)
        return _Part(docs, scores, np.ones(len(docs), np.int64) if counts else None, 1, {(node.fieldname, text): docs})

    def _fields_term(self, node: FieldsTerm, index: int, counts: bool, domain: _Domain | None) -> _Part:
        """``FieldsTerm``: the word's posting list in each field, scored as one BM25F term."""
        segment = self.segments[index]
        terms: dict[Term, np.ndarray] = {}
        lists = []
        for term in node.terms:
            found = _word_postings(segment, term.fieldname, term.text, None if domain is None else domain.mask)
            if found is None:
                continue
            text, docs, weights = found
            terms[(term.fieldname, text)] = docs
            lists.append((term.fieldname, text, docs, weights))
        docs, scores = fields_term(self.stats, segment, node, lists)
        matched = count_terms([(docs_, np.ones(len(docs_), np.int64)) for _f, _t, docs_, _w in lists], docs) \
            if counts else None
        return _Part(docs, scores, matched, len(terms), terms)

    def _phrase(self, node: wq.Phrase, index: int, counts: bool, domain: _Domain | None) -> _Part:
        """The words within ``slop`` positions of each other, in order, scored as the sum of
        the words' BM25 scores where they do, times the boost."""
        segment = self.segments[index]
        postings = segment.field(node.fieldname)
        if postings is not None and not postings.has_positions:
            raise QueryError(f"phrases cannot be searched in {node.fieldname}: it keeps no word positions")
        texts = [_term_bytes(segment, node.fieldname, word) for word in node.words]
        entries = [None if text is None else segment.term(node.fieldname, text) for text in texts]
        if not texts or postings is None or any(entry is None for entry in entries):
            return _nothing(True)
        lists = [segment.postings(postings, entry[1], positions=True) for entry in entries if entry is not None]
        candidates = lists[0][0]
        for docs, _weights, _numbers in lists[1:]:
            candidates = np.intersect1d(candidates, docs, assume_unique=True)
        if not len(candidates):
            return _nothing(True)
        if domain is not None:  # the count of terms for coordination stays the segment's
            candidates = candidates[domain.mask[candidates]]
            if not len(candidates):
                return _nothing(True, len(texts))
        at = [np.searchsorted(docs, candidates) for docs, _weights, _numbers in lists]
        numbers = [numbers_[where] for (_docs, _weights, numbers_), where in zip(lists, at)]
        if node.slop == 1:
            found = exact_phrase_rows(postings, numbers)
        else:
            found = sloppy_phrase_rows(postings, numbers, node.slop)
        matched = candidates[found]
        words = [bm25(self.stats, segment, node.fieldname, text, 1.0, matched, weights[where][found])
                 for text, (_docs, weights, _numbers), where in zip(texts, lists, at) if text is not None]
        total = words[0]
        for word in words[1:]:
            total = total + word
        terms = {(node.fieldname, text): matched for text in texts if text is not None}
        return _Part(matched, total * node.boost, np.full(len(matched), len(texts), np.int64), len(texts), terms)

    def _expanded(self, node: wq.MultiTerm, index: int, counts: bool, domain: _Domain | None) -> _Part:
        """``word*``, ``w?rd``, ``*ord`` and term ranges: the segment's words the pattern
        expands to, ORed as plain terms with its boost; a single word alone, with the boost.

        (The single word once went unboosted, so ``co*a`` weighed a tag 1.5 times in a segment
        where it expanded to two tags and once in one where it expanded to one: a score
        depended on how the build happened to split the articles into segments.)"""
        segment = self.segments[index]
        postings = segment.field(node.fieldname)
        if postings is None:
            return _nothing(counts)
        numbers = expansion(node, postings, self.max_expansions + 1, self.deadline)  # no more read than refused
        limits.check_expansion(node.text if isinstance(node, wq.PatternQuery) else str(node), len(numbers),
                               self.max_expansions, node.fieldname)
        if len(numbers) <= 1:
            words = [wq.Term(node.fieldname, postings.terms[number].decode("utf-8")) for number in numbers]
            return self._part(words[0].with_boost(node.boost), index, counts, domain) if words else _nothing(counts)
        return self._expansion_union(node, index, counts, domain, postings, numbers)

    def _expansion_union(self, node: wq.MultiTerm, index: int, counts: bool, domain: _Domain | None,
                         postings: Any, numbers: list[int]) -> _Part:
        """The OR of an expansion's words, each scored as ``_term`` scores it and summed as
        ``_union`` sums them (the same order, so the same floating-point sums), read straight
        from the term numbers the expansion found: no ``Term`` per word, no second lookup of
        each word in the term table (on Reuters ``co*``, 2,553 words, 0.61 -> 0.37 s)."""
        segment = self.segments[index]
        field = node.fieldname
        mask = None if domain is None else domain.mask
        parts: list[_Part] = []
        terms: dict[Term, np.ndarray] = {}
        for step, number in enumerate(numbers):
            if step % _TERMS_PER_CHECK == _TERMS_PER_CHECK - 1:
                self.deadline.check()
            text = postings.terms[number]
            docs, weights, _numbers = segment.postings(postings, number)
            if mask is not None:
                inside = mask[docs]
                docs, weights = docs[inside], weights[inside]
            scores = bm25(self.stats, segment, field, text, 1.0, docs, weights)
            parts.append(_Part(docs, scores, np.ones(len(docs), np.int64) if counts else None, 1))
            terms[(field, text)] = docs  # what highlighting asks about: which words each article has
        ordered = sorted(parts, key=lambda part: -len(part.docs))  # the largest first, as _union
        docs, scores = accumulate([(part.docs, part.scores) for part in ordered], segment.size)
        matched = count_terms([(part.docs, part.counts) for part in parts if part.counts is not None], docs) \
            if counts else None
        if node.boost != 1.0:
            scores = scores * node.boost
        return _Part(docs, scores, matched, len(parts), terms)

    def _union(self, node: wq.Or, index: int, counts: bool, domain: _Domain | None) -> _Part:
        if not node.subqueries:
            return _nothing(counts)
        if len(node.subqueries) == 1:
            return self._part(node.subqueries[0], index, counts, domain)
        scaled = bool(node.scale)
        parts = [self._part(sub, index, counts or scaled, domain) for sub in node.subqueries]
        ordered = sorted(parts, key=lambda part: -len(part.docs))  # the largest first, as before
        docs, scores = accumulate([(part.docs, part.scores) for part in ordered], self.segments[index].size)
        matched = None
        if counts or scaled:
            matched = count_terms([(part.docs, part.counts if part.counts is not None else
                                    np.zeros(len(part.docs), np.int64)) for part in parts], docs)
        if node.boost != 1.0:
            scores = scores * node.boost
        termcount = sum(part.termcount for part in parts)
        if scaled and termcount and matched is not None:
            scores = coordinate(scores, matched, termcount, node.scale)
        return _Part(docs, scores, matched, termcount)

    def _intersection(self, node: wq.And, index: int, counts: bool, domain: _Domain | None) -> _Part:
        if not node.subqueries:
            return _nothing(counts)
        if len(node.subqueries) == 1:
            return self._part(node.subqueries[0], index, counts, domain)
        if domain is None:
            filtered = self._filtered_by_dates(node, index)
            if filtered is not None:
                return filtered
        # A date range found from the segment's dates narrows what the others read; the ranges
        # themselves are read within the outer domain.
        narrowed = domain
        narrowing: set[int] = set()
        for sub in node.subqueries:
            if isinstance(sub, wq.NumericRange):
                before, narrowed = narrowed, self._narrowed(sub, index, narrowed)
                if narrowed is not before:
                    narrowing.add(id(sub))
        evaluated = [(sub, self._part(sub, index, False, domain if isinstance(sub, wq.NumericRange) else narrowed))
                     for sub in node.subqueries]
        parts = sorted((part for _sub, part in evaluated), key=lambda p: len(p.docs))
        inner = [part for sub, part in evaluated if id(sub) not in narrowing] or parts
        inner.sort(key=lambda p: len(p.docs))
        common = inner[0].docs
        for part in inner[1:]:
            common = np.intersect1d(common, part.docs, assume_unique=True)
        total = None
        for part in parts:  # summed in the parts' order (the sum starts at the first)
            values = part.scores[np.searchsorted(part.docs, common)]
            total = values if total is None else total + values
        scores = total if total is not None else EMPTY_WEIGHTS
        if node.boost != 1.0:
            scores = scores * node.boost
        return _Part(common, scores, np.zeros(len(common), np.int64) if counts else None)

    def _filtered_by_dates(self, node: wq.And, index: int) -> _Part | None:
        """``rest AND period`` where the period holds most of the segment (``--since`` a year
        ago in a younger archive): ``rest`` evaluated alone, its matches kept by their dates
        (narrowing to most of a segment cost more than the postings it saved)."""
        if len(node.subqueries) != 2:
            return None
        first, second = node.subqueries
        period, rest = (first, second) if isinstance(first, wq.NumericRange) else (second, first)
        if not isinstance(period, wq.NumericRange) or isinstance(rest, wq.NumericRange):
            return None
        segment = self.segments[index]
        docs = self._dated(segment, period)
        if docs is None or len(docs) * 2 <= segment.reader.doc_count():
            return None
        part = self._part(rest, index, False)
        keep = _in_period(period, segment.column_values(period.fieldname)[part.docs])
        scores = part.scores[keep] + period.boost
        if node.boost != 1.0:
            scores = scores * node.boost
        return _Part(part.docs[keep], scores)

    def _difference(self, node: wq.AndNot, index: int, counts: bool, domain: _Domain | None) -> _Part:
        positive = self._part(node.a, index, False, domain)
        negative = self._part(node.b, index, False, domain)
        keep = ~np.isin(positive.docs, negative.docs, assume_unique=True)
        return _Part(positive.docs[keep], positive.scores[keep], np.zeros(int(keep.sum()), np.int64) if counts else None)

    def _and_maybe(self, node: wq.AndMaybe, index: int, counts: bool, domain: _Domain | None) -> _Part:
        """``+required optional``: the required part's matches, plus the optional part's score
        where it matches too."""
        required = self._part(node.a, index, False, domain)
        optional = self._part(node.b, index, False, domain)
        scores = required.scores.copy()
        where = np.searchsorted(optional.docs, required.docs)
        inside = where < len(optional.docs)
        inside[inside] = optional.docs[where[inside]] == required.docs[inside]
        scores[inside] = scores[inside] + optional.scores[where[inside]]
        return _Part(required.docs, scores, np.zeros(len(required.docs), np.int64) if counts else None)

    def _require(self, node: wq.Require, index: int, counts: bool, domain: _Domain | None) -> _Part:
        """Documents both parts match, scored by the first."""
        scored = self._part(node.a, index, False, domain)
        required = self._part(node.b, index, False, domain)
        keep = np.isin(scored.docs, required.docs, assume_unique=True)
        return _Part(scored.docs[keep], scored.scores[keep], np.zeros(int(keep.sum()), np.int64) if counts else None)

    def _not(self, node: wq.Not, index: int, counts: bool, domain: _Domain | None) -> _Part:
        """Every live document the child does not match, each scoring 1."""
        segment = self.segments[index]
        excluded = self._part(node.query, index, False, domain).docs
        docs = segment.live_docs() if domain is None else domain.docs
        docs = docs[~np.isin(docs, excluded, assume_unique=True)]
        return _constant(docs, 1.0, counts)

    def _range(self, node: wq.NumericRange, index: int, counts: bool, domain: _Domain | None) -> _Part:
        """A date range: every match scores the range's boost."""
        docs = self._dated(self.segments[index], node)
        if docs is None:
            raise QueryError(f"ranges can only be searched on dates, not on {node.fieldname}")
        return _restricted(_constant(np.sort(docs), node.boost, counts), domain)

    def _constant_score(self, node: wq.ConstantScoreQuery, index: int, counts: bool,
                        domain: _Domain | None) -> _Part:
        part = self._part(node.child, index, False, domain)
        return _constant(part.docs, node.score, counts)

    def _every(self, node: wq.Every, index: int, counts: bool, domain: _Domain | None) -> _Part:
        """Every article with something in the field (from its length bytes), or every article."""
        segment = self.segments[index]
        docs = segment.live_docs() if domain is None else domain.docs
        field = node.fieldname
        if field not in (None, "", "*"):
            if field not in segment.reader.schema or not segment.reader.schema[field].scorable:
                raise QueryError(f"{field}:* needs a prose field (title, description, body, tags)")
            docs = docs[segment.length_bytes(field)[docs] > 0]
        return _constant(docs, node.boost, counts)

    def _null(self, node: wq.Query, index: int, counts: bool, domain: _Domain | None) -> _Part:
        return _nothing(counts)

    def _feedback(self, node: FeedbackBoost, index: int, counts: bool, domain: _Domain | None) -> _Part:
        """The child's scores plus each feedback term's score where the child matched."""
        base = self._part(node.child, index, False, domain)
        segment = self.segments[index]
        bonus = np.zeros(len(base.docs), dtype=np.float64)
        inside = np.zeros(segment.size, dtype=bool)
        inside[base.docs] = True
        for term in node.extra:
            found = _word_postings(segment, term.fieldname, term.text, inside)
            if found is None:
                continue
            text, docs, weights = found
            bonus[np.searchsorted(base.docs, docs)] += bm25(self.stats, segment, term.fieldname, text,
                                                             term.boost, docs, weights)
        return _Part(base.docs, base.scores + bonus, np.zeros(len(base.docs), np.int64) if counts else None)

    def _recency(self, node: RecencyBoost, index: int, counts: bool, domain: _Domain | None) -> _Part:
        """The child's scores, each times its article's recency factor."""
        base = self._part(node.child, index, False, domain)
        segment = self.segments[index]
        if not segment.reader.has_column(DATE_FIELD):
            return _Part(base.docs, base.scores, np.zeros(len(base.docs), np.int64) if counts else None)
        dates = segment.column_values(DATE_FIELD)[base.docs]
        factors = recency_factors(dates, node.reference, node.half_life_days)
        return _Part(base.docs, base.scores * factors, np.zeros(len(base.docs), np.int64) if counts else None)

    # Dates -----------------------------------------------------------------------------

    def _dated(self, segment: SegmentView, node: wq.NumericRange) -> np.ndarray | None:
        """The documents of a date range, by bisecting the segment's dates in order; None for
        a range on another field."""
        schema = segment.reader.schema
        if node.fieldname not in schema or not isinstance(schema[node.fieldname], DATETIME):
            return None
        order = segment.column_order(node.fieldname)
        if order is None:
            return EMPTY
        values, docnums = order
        low = 0 if node.start is None else int(np.searchsorted(values, node.start,
                                                               side="right" if node.startexcl else "left"))
        high = len(values) if node.end is None else int(np.searchsorted(values, node.end,
                                                                        side="left" if node.endexcl else "right"))
        return docnums[low:max(low, high)]

    def _narrowed(self, node: wq.NumericRange, index: int, domain: _Domain | None) -> _Domain | None:
        """``domain`` narrowed to the documents of a date range (one object per range and outer
        domain, so the sub-queries evaluated within it share their results)."""
        key = (id(node), index, id(domain))
        if key not in self._domains:
            segment = self.segments[index]
            docs = self._dated(segment, node)
            narrowed = None if docs is None else _Domain(docs if domain is None else docs[domain.mask[docs]],
                                                         segment.size)
            self._domains[key] = (node, domain, narrowed)
        found = self._domains[key][2]
        return domain if found is None else found


def _in_period(node: wq.NumericRange, values: np.ndarray) -> np.ndarray:
    """Which column values are in the range (0, no date, is in none)."""
    keep: np.ndarray = values != 0
    if node.start is not None:
        keep &= values > node.start if node.startexcl else values >= node.start
    if node.end is not None:
        keep &= values < node.end if node.endexcl else values <= node.end
    return keep


def _word_postings(segment: SegmentView, field: str, word: Any, keep: np.ndarray | None = None
                   ) -> tuple[bytes, np.ndarray, np.ndarray] | None:
    """A query word's index bytes, live documents and weights in one segment (only documents
    where ``keep``, a mask as long as the segment, is true); None when the segment lacks it."""
    text = _term_bytes(segment, field, word)
    entry = None if text is None else segment.term(field, text)
    if entry is None or text is None:
        return None
    docs, weights, _numbers = segment.postings(*entry)
    if keep is not None:
        inside = keep[docs]
        docs, weights = docs[inside], weights[inside]
    return text, docs, weights


def _term_bytes(segment: SegmentView, field: str, text: Any) -> bytes | None:
    """The index bytes of a query word in a field; None when the field cannot hold it."""
    schema = segment.reader.schema
    if field not in schema:
        return None
    try:
        encoded = schema[field].to_bytes(text)
    except ValueError:  # a value the field cannot hold matches nothing
        return None
    return encoded if isinstance(encoded, bytes) else None


def _leaves(node: wq.Query) -> list[wq.Query]:
    """The parts of a query whose terms count as matched: words, fields terms, phrases and
    expansions; not exclusions, feedback terms or ranges (no prose to highlight)."""
    if type(node) is wq.Term or isinstance(node, FieldsTerm):
        return [node]
    if isinstance(node, (FeedbackBoost, RecencyBoost)):
        return _leaves(node.child)
    if type(node) in (wq.Or, wq.And):
        return [leaf for sub in node.subqueries for leaf in _leaves(sub)]
    if type(node) in (wq.AndNot, wq.AndMaybe, wq.Require):
        return _leaves(node.a) + (_leaves(node.b) if type(node) is wq.AndMaybe else [])
    if isinstance(node, (wq.NumericRange, wq.Every, wq.Not)) or node is wq.NullQuery:
        return []
    return [node]


Handler = Callable[[Evaluator, Any, int, bool, "_Domain | None"], _Part]
_HANDLERS: dict[type, Handler] = {
    wq.Term: Evaluator._term,
    wq.Phrase: Evaluator._phrase,
    wq.Or: Evaluator._union,
    wq.And: Evaluator._intersection,
    wq.AndNot: Evaluator._difference,
    wq.AndMaybe: Evaluator._and_maybe,
    wq.Require: Evaluator._require,
    wq.Not: Evaluator._not,
    wq.Prefix: Evaluator._expanded,
    wq.Wildcard: Evaluator._expanded,
    wq.TermRange: Evaluator._expanded,
    wq.Every: Evaluator._every,
    wq.ConstantScoreQuery: Evaluator._constant_score,
    type(wq.NullQuery): Evaluator._null,
}
# Subclasses (the query language's and ranking's own queries), checked in this order.
_BASE_HANDLERS: list[tuple[type, Handler]] = [
    (FieldsTerm, Evaluator._fields_term),
    (FeedbackBoost, Evaluator._feedback),
    (RecencyBoost, Evaluator._recency),
    (wq.NumericRange, Evaluator._range),
    (wq.Phrase, Evaluator._phrase),
    (wq.Term, Evaluator._term),
]
