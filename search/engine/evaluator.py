"""Evaluation: scoring a query a whole posting list at a time (how ``querying`` ranks).

Whoosh scores a query one document at a time through a tree of matchers: each posting costs a
dozen Python method calls (``is_active``, ``id``, ``skip_to``, ``score`` at every level of the
tree), then the collector walks every match again to record its matched terms. Here each term's
posting list is read a block at a time (document numbers decoded with ``itertools.accumulate``,
weights as stored, see ``postings``) and scored in one loop into a dict (the formulas, Whoosh's
and ``ranking``'s, are in ``scores``); OR, AND and exclusions become dict and set operations.
Known here: terms (BM25), words over several fields (``FieldsTerm``), boosts, the coordination
bonus of a scaled OR (``CoordMatcher``'s), phrases (``SpanNear2``: the words' scores where
they follow each other, checked in ``phrases``), prefixes and wildcards (``MultiTerm``: the
words they expand to), date ranges scored as constants, ``FeedbackBoost`` bonuses and
``RecencyBoost`` factors, ``Every`` (``*``, ``title:*``) from the fields' length bytes. A part
of a query this module does not know (spans, say) is scored by Whoosh's own matcher. Every
match is scored, so nothing is skipped: Whoosh's collector, once it had its top N, dropped
posting lists whose own scores could not reach the N-th even where feedback or coordination
changed the scores, which lost matches from the total and from the ranking. An AND with a date
range evaluates the rest of it only within the range's articles (``_Domain``): scores, feedback
and phrase positions only there, posting blocks holding none of them undecoded.

Parts:
- ``Evaluator``: ``scores(query)`` gives every match with its score (the total count is its
  length); results of sub-queries are kept, so a query and its feedback variant share work.
  ``top(query, n)`` gives the total and the n best (``scores.best``); ``in_date_order(query,
  n, newest)`` the total and the first n by date.
- ``Evaluator.matched_terms``: the terms of a query found in one document (for highlighting).
"""
from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from functools import partial
from itertools import compress, islice, repeat
from operator import add
from typing import Any

from whoosh import query as wq
from whoosh.fields import DATETIME
from whoosh.formats import Positions

from search.engine.phrases import adjacent, has_positions, in_order, positions_of
from search.engine.postings import Segment
from search.query import limits
from search.query.ranking import FeedbackBoost, FieldsTerm
from search.query.recency import RecencyBoost, recency_factor
from search.index.schema import DATE_FIELD
from search.engine.scoring import FieldList, Scores, best, bm25, coordinate, feedback_bonus, fields_term
from search.whoosh_internals.reading import documents_with

Term = tuple[str, bytes]

# Feedback terms are read only where they can score (block by block) when the query matches
# fewer than one in SPARSE_SHARE articles of a segment; denser, nearly every block is needed.
SPARSE_SHARE = 16


def _dated(segment: Segment, node: wq.NumericRange) -> Sequence[int] | None:
    """The documents of a constant-score date range, found by bisecting the segment's dates in
    order (``Segment.column_order``); None for any other range.

    Whoosh compiles a range into terms of several precisions (a month is about 30 of them, each
    looked up in the term file and its postings read), so a range's cost grew with its length;
    here it is two binary searches and a slice.
    """
    field = segment.reader.schema[node.fieldname] if node.fieldname in segment.reader.schema else None
    if not isinstance(field, DATETIME) or not node.constantscore:
        return None
    order = segment.column_order(node.fieldname)
    if order is None:
        return None
    values, docnums = order
    low = 0 if node.start is None else (bisect_right if node.startexcl else bisect_left)(values, node.start)
    high = len(values) if node.end is None else (bisect_left if node.endexcl else bisect_right)(values, node.end)
    return docnums[low:high]


def _in_period(node: wq.NumericRange, value: int) -> bool:
    """Whether a document with this column value is in the range, as ``_dated`` decides it (0,
    no date, is in no range)."""
    if not value:
        return False
    if node.start is not None and (value <= node.start if node.startexcl else value < node.start):
        return False
    return node.end is None or (value < node.end if node.endexcl else value <= node.end)


class _Part:
    """A sub-query's matches in one segment: scores, and for coordination the matched terms."""

    __slots__ = ("scores", "counts", "termcount", "terms")

    def __init__(self, scores: Scores, counts: dict[int, int] | None, termcount: int,
                 terms: dict[Term, Sequence[int]] | None = None) -> None:
        self.scores = scores
        self.counts = counts  # number of the query's terms each document has, when asked for
        self.termcount = termcount  # number of the query's terms the segment has
        self.terms = terms or {}  # term -> sorted segment document numbers holding it


class _Domain:
    """The documents of one segment a sub-query is evaluated within: those of a date range it is
    ANDed with (``Evaluator._intersection``), so its posting lists are read only where they can
    matter and scored only there. Ascending for skipping blocks, a set for keeping postings."""

    __slots__ = ("ordered", "members")

    def __init__(self, docs: Sequence[int]) -> None:
        self.members = frozenset(docs)
        self.ordered = sorted(self.members)

    def keep(self, ids: Sequence[int], *columns: Sequence[Any]) -> tuple[list[Any], ...]:
        """``ids`` and the matching entries of each column, for the documents in the domain."""
        inside = list(map(self.members.__contains__, ids))
        return tuple(list(compress(column, inside)) for column in (ids, *columns))


def _within(domain: _Domain | None) -> Sequence[int] | None:
    return domain.ordered if domain is not None else None


class Evaluator:
    """Scores queries on one searcher; remembers sub-query results for the next ``scores``."""

    deadline: limits.Deadline = limits.NO_DEADLINE  # checked by every sub-query (issue 23)

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.context = searcher.context(needs_current=True)
        self.segments = [Segment(sub, offset) for sub, offset in searcher.leaf_searchers()]
        # Sub-query results by (id of the query object, segment, with counts, id of the domain);
        # each entry keeps its query and domain alive, so an id is never reused while it exists.
        self._memo: dict[tuple[int, int, bool, int], tuple[wq.Query, _Domain | None, _Part]] = {}
        self._latest: dict[tuple[int, int], _Part] = {}  # a result per query object and segment, for highlighting
        self._domains: dict[tuple[int, int, int], tuple[wq.Query, _Domain | None, _Domain]] = {}
        self._matchers: dict[tuple[int, int], Any] = {}  # Whoosh matchers for matched terms

    def top(self, query: wq.Query, count: int) -> tuple[int, list[tuple[int, float]]]:
        """How many documents ``query`` matches, and the ``count`` best (as ``best`` orders
        them), found per segment so the matches are never copied to top-level numbers."""
        total = 0
        found: list[tuple[int, float]] = []
        for index, segment in enumerate(self.segments):
            part = self._part(query, index, False)
            total += len(part.scores)
            found += [(docnum + segment.offset, score) for docnum, score in best(part.scores, count)]
        found.sort(key=lambda item: (-item[1], item[0]))
        return total, found[:count]

    def scores(self, query: wq.Query) -> Scores:
        """Every document ``query`` matches (top-level numbers) with the score Whoosh gives it."""
        found: Scores = {}
        for index, segment in enumerate(self.segments):
            part = self._part(query, index, False)
            if segment.offset:
                found.update((docnum + segment.offset, score) for docnum, score in part.scores.items())
            else:
                found.update(part.scores)
        return found

    def segment_matches(self, query: wq.Query) -> list[tuple[Segment, Scores]]:
        """Each segment with the documents ``query`` matches in it (its own numbers) and their
        scores."""
        return [(segment, self._part(query, index, False).scores) for index, segment in enumerate(self.segments)]

    def in_date_order(self, query: wq.Query, count: int, newest: bool) -> tuple[int, list[tuple[int, float]]]:
        """How many documents ``query`` matches, and the first ``count`` of them by date with
        their scores: newest or oldest first, undated ones last, ties by document number
        (descending when newest first), as Whoosh's sorting collector orders them.

        Each segment's documents in date order (``Segment.column_order``, kept by the writer)
        are filtered down to the matches in C, then the segments are merged: Whoosh's collector
        looked up a sort key for every match through its matcher and sorted them all.
        """
        scores = self.scores(query)
        streams = []
        dated: list[int] = []
        for segment in self.segments:
            order = segment.column_order(DATE_FIELD)
            if order is None:
                continue
            values, docnums = order
            numbers = list(map(add, docnums, repeat(segment.offset))) if segment.offset else list(docnums)
            inside = list(map(scores.__contains__, numbers))
            kept = list(compress(numbers, inside))
            dated += kept
            pairs = list(zip(compress(values, inside), kept))
            streams.append(pairs[::-1] if newest else pairs)
        found = [docnum for _value, docnum in islice(heapq.merge(*streams, reverse=newest), count)]
        if len(found) < count:
            undated = sorted(scores.keys() - set(dated), reverse=newest)
            found += undated[:count - len(found)]
        return len(scores), [(docnum, scores[docnum]) for docnum in found]

    def matched_terms(self, query: wq.Query, docnums: list[int]) -> dict[int, set[Term]]:
        """The (field, term) pairs of ``query`` that matched each document, as Whoosh's
        ``terms=True`` reports them (a phrase's words only where the phrase matched)."""
        found: dict[int, set[Term]] = {docnum: set() for docnum in docnums}
        for docnum in sorted(docnums):  # ascending, so a Whoosh matcher only moves forward
            index = max(i for i, segment in enumerate(self.segments) if segment.offset <= docnum)
            self._matched_in(query, index, docnum - self.segments[index].offset, found[docnum])
        return found

    def _matched_in(self, query: wq.Query, index: int, local: int, found: set[Term]) -> None:
        for node in _leaves(query):
            part = self._latest.get((id(node), index))
            if part is None:
                continue
            if isinstance(node, (wq.Term, FieldsTerm)) or part.terms:
                for term, ids in part.terms.items():
                    position = bisect_left(ids, local)
                    if position < len(ids) and ids[position] == local:
                        found.add(term)
            elif local in part.scores:
                found.update(self._whoosh_matched(node, index, local))

    def _whoosh_matched(self, node: wq.Query, index: int, docnum: int) -> set[Term]:
        key = (id(node), index)
        matcher = self._matchers.get(key)
        if matcher is None:
            matcher = self._matchers[key] = node.matcher(self.segments[index].searcher, self.context)
        if not matcher.is_active():
            return set()
        matcher.skip_to(docnum)
        if not matcher.is_active() or matcher.id() != docnum:
            return set()
        return set(matcher.matching_terms(docnum))

    # Sub-queries ------------------------------------------------------------------------

    def _part(self, node: wq.Query, index: int, counts: bool, domain: _Domain | None = None) -> _Part:
        """The sub-query's result in one segment (within ``domain`` when given), computed once."""
        self.deadline.check()
        key = (id(node), index, counts, id(domain))
        if key not in self._memo:
            self._memo[key] = (node, domain, self._evaluate(node, index, counts, domain))
            if domain is None or (id(node), index) not in self._latest:  # the widest answer wins
                self._latest[(id(node), index)] = self._memo[key][2]
        return self._memo[key][2]

    def _evaluate(self, node: wq.Query, index: int, counts: bool, domain: _Domain | None) -> _Part:
        segment = self.segments[index]
        if type(node) is wq.Term:
            return self._term(node, segment, counts, domain)
        if isinstance(node, FieldsTerm):
            return self._fields_term(node, segment, counts, domain)
        if type(node) is wq.Phrase and has_positions(segment.reader.schema, node.fieldname):
            return self._phrase(node, segment, domain)
        if isinstance(node, FeedbackBoost) and not counts:
            return self._feedback(node, index, domain)
        if isinstance(node, RecencyBoost) and not counts:
            return self._recency(node, index, domain)
        if type(node) in (wq.Or, wq.And) and node.subqueries and not (counts and type(node) is wq.And):
            if len(node.subqueries) == 1:
                return self._part(node.subqueries[0], index, counts, domain)
            if type(node) is wq.Or:
                return self._union(node, index, counts, domain)
            return self._intersection(node, index, domain)
        if type(node) is wq.AndNot and node.boost == 1.0 and not counts:
            return self._difference(node, index, domain)
        if isinstance(node, wq.NumericRange) and not counts:
            return self._range(node, index, domain)
        if type(node) in (wq.Prefix, wq.Wildcard) and node.text and node.fieldname in segment.reader.schema:
            return self._expanded(node, index, counts, domain)
        if node is wq.NullQuery:
            return _Part({}, {} if counts else None, 0)
        if type(node) is wq.Every:
            docnums = documents_with(segment.reader, node.fieldname, _within(domain))
            if docnums is not None:  # each scores its boost, as in Whoosh; no term counts
                return _Part(dict.fromkeys(docnums, node.boost), dict.fromkeys(docnums, 0) if counts else None, 0)
        return _restricted(self._whoosh(node, index, counts), domain)

    def _term(self, node: wq.Term, segment: Segment, counts: bool, domain: _Domain | None = None) -> _Part:
        if node.fieldname not in segment.reader.schema:
            return _Part({}, {} if counts else None, 0)
        field = segment.reader.schema[node.fieldname]
        try:
            text = field.to_bytes(node.text)
        except ValueError:  # as Whoosh's Term.matcher: a value the field cannot hold matches nothing
            return _Part({}, {} if counts else None, 0)
        if (node.fieldname, text) not in segment.reader:
            return _Part({}, {} if counts else None, 0)
        ids, weights = segment.postings(node.fieldname, text, _within(domain))
        if domain is not None:
            ids, weights = domain.keep(ids, weights)
        scores = bm25(self.searcher, segment, node.fieldname, text, node.boost, ids, weights)
        return _Part(scores, dict.fromkeys(ids, 1) if counts else None, 1, {(node.fieldname, text): ids})

    def _fields_term(self, node: FieldsTerm, segment: Segment, counts: bool, domain: _Domain | None = None) -> _Part:
        """``ranking.FieldsTerm``: the word's posting list in each field, scored as one BM25F term."""
        reader = segment.reader
        terms: dict[Term, Sequence[int]] = {}
        lists: list[FieldList] = []
        for term in node.terms:
            text = reader.schema[term.fieldname].to_bytes(term.text)
            if (term.fieldname, text) in reader:
                ids, tfs = segment.postings(term.fieldname, text, _within(domain))
                if domain is not None:
                    ids, tfs = domain.keep(ids, tfs)
                terms[(term.fieldname, text)] = ids
                lists.append((term.fieldname, ids, tfs))
        matched: Counter[int] = Counter()
        if counts:
            for _field, ids, _tfs in lists:
                matched.update(ids)  # a Counter: one more field holding the term, counted in C
        return _Part(fields_term(self.searcher, segment, node, lists), matched if counts else None, len(terms), terms)

    def _phrase(self, node: wq.Phrase, segment: Segment, domain: _Domain | None = None) -> _Part:
        """Whoosh's ``Phrase``: the words within ``slop`` positions of each other, in order,
        scored as the sum of the words' BM25F scores (``SpanNear2``), times the boost."""
        field = segment.reader.schema[node.fieldname]
        try:
            texts = [field.to_bytes(word) for word in node.words]
        except ValueError:
            return _Part({}, {}, 0)
        if not texts or any((node.fieldname, text) not in segment.reader for text in texts):
            return _Part({}, {}, 0)
        # Documents with every word first (no positions decoded), then the positions of only the
        # blocks that hold one of them: decoding positions is most of the cost of a list.
        found = [segment.postings(node.fieldname, text)[0] for text in texts]
        candidates = set(found[0]).intersection(*found[1:])
        if not candidates:
            return _Part({}, {}, 0)
        if domain is not None:  # the count of terms for coordination stays the segment's
            candidates &= domain.members
            if not candidates:
                return _Part({}, {}, len(texts))
        wanted = sorted(candidates)
        plain = type(field.format) is Positions  # values read as text, decoded together
        lists = [segment.postings_and_values(node.fieldname, text, True, wanted, as_text=plain) for text in texts]
        # Each word's weights and values in the candidates, in their order (every list holds
        # them all, and other documents of the blocks read), picked in C.
        picked = [(list(compress(weights, mask)), list(compress(values, mask)))
                  for ids, weights, values in lists for mask in [list(map(candidates.__contains__, ids))]]
        decode = positions_of if plain else partial(map, field.format.decode_positions)
        follows = adjacent if node.slop == 1 else partial(in_order, slop=node.slop)
        found_in = [follows(each) for each in zip(*(decode(values) for _weights, values in picked))]
        matched = list(compress(wanted, found_in))
        # Each word scored as a plain term (boost 1), in the matched documents only.
        words = [bm25(self.searcher, segment, node.fieldname, text, 1.0, matched, list(compress(weights, found_in)))
                 for text, (weights, _values) in zip(texts, picked)]
        scores = {docnum: sum(word[docnum] for word in words) * node.boost for docnum in matched}
        terms: dict[Term, Sequence[int]] = {(node.fieldname, text): matched for text in texts}
        return _Part(scores, dict.fromkeys(matched, len(texts)), len(texts), terms)

    def _expanded(self, node: wq.Prefix | wq.Wildcard, index: int, counts: bool,
                  domain: _Domain | None = None) -> _Part:
        """Whoosh's ``MultiTerm.matcher`` for ``word*`` and ``w?rd``, ``*ord``: the words of the
        segment it expands to, ORed as plain terms with its boost; a single word alone and
        unboosted (as Whoosh has it). Scored here, a posting list at a time, instead of through
        a matcher tree that looked up a field length per posting."""
        words = [wq.Term(node.fieldname, word) for word in node._btexts(self.segments[index].reader) if word]
        limits.check_expansion(node.text, len(words))
        if len(words) <= 1:
            return self._part(words[0], index, counts, domain) if words else _Part({}, {} if counts else None, 0)
        union = wq.Or(words, boost=node.boost)
        part = self._part(union, index, counts, domain)
        for word in words:  # what highlighting asks about: which words each article has
            part.terms.update(self._part(word, index, counts, domain).terms)
        return part

    def _union(self, node: wq.Or, index: int, counts: bool, domain: _Domain | None = None) -> _Part:
        scaled = bool(node.scale)
        parts = [self._part(sub, index, counts or scaled, domain) for sub in node.subqueries]
        # The largest part is copied whole (C speed); the others are added to it.
        ordered = sorted(parts, key=lambda part: -len(part.scores))
        scores: Scores = dict(ordered[0].scores)
        for part in ordered[1:]:
            get = scores.get
            for docnum, score in part.scores.items():
                scores[docnum] = get(docnum, 0.0) + score
        matched: dict[int, int] | None = None
        if counts or scaled:
            matched = {}
            for part in parts:
                for docnum, count in (part.counts or {}).items():
                    matched[docnum] = matched.get(docnum, 0) + count
        if node.boost != 1.0:
            scores = {docnum: score * node.boost for docnum, score in scores.items()}
        termcount = sum(part.termcount for part in parts)
        if scaled and termcount and matched is not None:
            scores = coordinate(scores, matched, termcount, node.scale)
        return _Part(scores, matched, termcount)

    def _intersection(self, node: wq.And, index: int, domain: _Domain | None = None) -> _Part:
        if domain is None:
            filtered = self._filtered_by_dates(node, index)
            if filtered is not None:
                return filtered
        # A date range found from the segment's dates (cheap) narrows what the others read; the
        # ranges themselves are read within the outer domain (within their own, each of their
        # documents would be checked against the set made of them).
        narrowed = domain
        narrowing: set[int] = set()  # ids of the ranges that narrowed it
        for sub in node.subqueries:
            if isinstance(sub, wq.NumericRange):
                before, narrowed = narrowed, self._narrowed(sub, index, narrowed)
                if narrowed is not before:
                    narrowing.add(id(sub))
        evaluated = [(sub, self._part(sub, index, False, domain if isinstance(sub, wq.NumericRange) else narrowed))
                     for sub in node.subqueries]
        parts = sorted((part for _sub, part in evaluated), key=lambda p: len(p.scores))
        # The parts evaluated within the narrowed domain hold only documents of those ranges, so
        # the ranges (often most of the index: --since last year) are not intersected again.
        inner = [part for sub, part in evaluated if id(sub) not in narrowing] or parts
        inner.sort(key=lambda p: len(p.scores))
        common = set(inner[0].scores)
        for part in inner[1:]:
            common.intersection_update(part.scores)
        if len(parts) == 2:  # the usual query and date range; the sum as ``sum`` adds it
            first, second = parts[0].scores, parts[1].scores
            scores = {docnum: first[docnum] + second[docnum] for docnum in common}
        else:
            scores = {docnum: sum(part.scores[docnum] for part in parts) for docnum in common}
        if node.boost != 1.0:
            scores = {docnum: score * node.boost for docnum, score in scores.items()}
        return _Part(scores, None, 0)

    def _filtered_by_dates(self, node: wq.And, index: int) -> _Part | None:
        """``rest AND period`` where the date range holds most of the segment (``--since`` a year
        ago in a younger archive): ``rest`` evaluated as if alone and its matches kept by their
        dates. Narrowing to such a range (``_narrowed``) made a set and a sorted list of most of
        the segment's documents and filtered every posting list through them, which cost more
        than the few postings it saved. None where this does not apply."""
        if len(node.subqueries) != 2:
            return None
        first, second = node.subqueries
        period, rest = (first, second) if isinstance(first, wq.NumericRange) else (second, first)
        if not isinstance(period, wq.NumericRange) or isinstance(rest, wq.NumericRange):
            return None
        segment = self.segments[index]
        docs = _dated(segment, period)
        if docs is None or len(docs) * 2 <= segment.reader.doc_count():
            return None
        dates = segment.column_values(period.fieldname)
        inside = partial(_in_period, period)
        # The range's constant score added as ``_intersection`` adds it (two terms commute).
        scores = {docnum: score + period.boost for docnum, score in self._part(rest, index, False).scores.items()
                  if inside(dates[docnum])}
        if node.boost != 1.0:
            scores = {docnum: score * node.boost for docnum, score in scores.items()}
        return _Part(scores, None, 0)

    def _difference(self, node: wq.AndNot, index: int, domain: _Domain | None = None) -> _Part:
        positive = self._part(node.a, index, False, domain)
        negative = self._part(node.b, index, False, domain)
        scores = {docnum: score for docnum, score in positive.scores.items() if docnum not in negative.scores}
        return _Part(scores, None, 0)

    def _range(self, node: wq.NumericRange, index: int, domain: _Domain | None = None) -> _Part:
        """A date or number range: Whoosh compiles it to terms of several precisions, and (as
        ``constantscore`` is set) every match scores the same."""
        segment = self.segments[index]
        docs = _dated(segment, node)
        if docs is not None:
            return _restricted(_Part(dict.fromkeys(docs, node.boost), None, 0), domain)
        compiled = node._compile_query(segment.reader)
        if isinstance(compiled, wq.ConstantScoreQuery):
            return _restricted(_Part(dict.fromkeys(self._docs(compiled.child, segment), compiled.score), None, 0), domain)
        return self._part(compiled, index, False, domain)

    def _narrowed(self, node: wq.NumericRange, index: int, domain: _Domain | None) -> _Domain | None:
        """``domain`` narrowed to the documents of a date range answered from the segment's
        dates (None: not such a range, ``domain`` unchanged). One domain object per range and
        outer domain, so the sub-queries evaluated within it share their results."""
        key = (id(node), index, id(domain))
        if key not in self._domains:
            docs = _dated(self.segments[index], node)
            if docs is None:
                return domain
            narrowed = _Domain(docs if domain is None else [docnum for docnum in docs if docnum in domain.members])
            self._domains[key] = (node, domain, narrowed)
        return self._domains[key][2]

    def _docs(self, node: wq.Query, segment: Segment) -> set[int]:
        """The documents an unscored query matches: posting lists unioned as sets."""
        if type(node) is wq.Or:
            return set().union(*(self._docs(sub, segment) for sub in node.subqueries))
        if type(node) is wq.Term or isinstance(node, wq.TermRange):
            field = node.fieldname
            if field not in segment.reader.schema:
                return set()
            texts = [segment.reader.schema[field].to_bytes(node.text)] if type(node) is wq.Term \
                else list(node._btexts(segment.reader))
            docs: set[int] = set()
            for text in texts:
                docs.update(segment.postings(field, text)[0])
            return docs
        return set(node.matcher(segment.searcher, self.searcher.boolean_context()).all_ids())

    def _feedback(self, node: FeedbackBoost, index: int, domain: _Domain | None = None) -> _Part:
        """``ranking.FeedbackBoost``: the child's scores plus each feedback term's score, the
        terms' postings scored only in the child's matches (most of a common term's are not)."""
        base = self._part(node.child, index, False, domain).scores
        segment = self.segments[index]
        # Few matches: decode only the blocks of the terms' lists that can hold them.
        within = sorted(base) if len(base) * SPARSE_SHARE < segment.reader.doc_count_all() else None
        bonus = feedback_bonus(self.searcher, segment, node.extra, base, within)
        boosted = dict(base)
        for docnum, extra in bonus.items():
            boosted[docnum] = base[docnum] + extra
        return _Part(boosted, None, 0)

    def _recency(self, node: RecencyBoost, index: int, domain: _Domain | None = None) -> _Part:
        """``recency.RecencyBoost``: the child's scores, each times its article's ``recency_factor``."""
        base = self._part(node.child, index, False, domain).scores
        segment = self.segments[index]
        if not segment.reader.has_column(DATE_FIELD):
            return _Part(dict(base), None, 0)
        dates = segment.column_values(DATE_FIELD)
        return _Part({docnum: score * recency_factor(dates[docnum], node.reference, node.half_life_days)
                      for docnum, score in base.items()}, None, 0)

    def _whoosh(self, node: wq.Query, index: int, counts: bool) -> _Part:
        """Score a sub-query this module does not know with Whoosh's matcher (same scores)."""
        searcher = self.segments[index].searcher
        matcher = node.matcher(searcher, self.context)
        termcount = len(list(matcher.term_matchers())) if counts else 0
        scores: Scores = {}
        matched: dict[int, int] = {}
        while matcher.is_active():
            docnum = matcher.id()
            scores[docnum] = matcher.score()
            if counts:
                matched[docnum] = sum(1 for _term in matcher.matching_terms(docnum))
            matcher.next()
        return _Part(scores, matched if counts else None, termcount)


def _restricted(part: _Part, domain: _Domain | None) -> _Part:
    """A part computed for the whole segment, cut to the domain's documents."""
    if domain is None:
        return part
    members = domain.members
    counts = None if part.counts is None else {docnum: n for docnum, n in part.counts.items() if docnum in members}
    return _Part({docnum: score for docnum, score in part.scores.items() if docnum in members}, counts,
                 part.termcount, part.terms)


def _leaves(node: wq.Query) -> list[wq.Query]:
    """The parts of a query whose terms count as matched: words, fields terms and the parts
    scored by Whoosh; not exclusions, feedback terms or ranges (no prose to highlight)."""
    if type(node) is wq.Term or isinstance(node, FieldsTerm):
        return [node]
    if isinstance(node, (FeedbackBoost, RecencyBoost)):
        return _leaves(node.child)
    if type(node) in (wq.Or, wq.And):
        return [leaf for sub in node.subqueries for leaf in _leaves(sub)]
    if type(node) is wq.AndNot:
        return _leaves(node.a)
    if isinstance(node, (wq.NumericRange, wq.Every)) or node is wq.NullQuery:
        return []
    return [node]
