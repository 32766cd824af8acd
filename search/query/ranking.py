"""Ranking: how matches are scored, beyond what the query asks for.

Parts:
- ``weighting``: the BM25F model newsearch ranks with (``NewsBM25F``: Whoosh's BM25F with
  BM25's own idf, ``bm25_idf``).
- ``combine_fields``: scores a word searched in several fields as one BM25F term
  (``FieldsTerm``), so a title that repeats the body does not count the same words twice; a
  word typed several times counts that many times (``query_repeats``).
- ``add_feedback``: pseudo-relevance feedback for plain word queries: the best match's most
  distinctive words raise the score of the articles that share them (``FeedbackBoost``).

Every constant here was chosen by measurement (benchmarks/relevance.py; README, "Relevance").
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from whoosh import query as wq
from whoosh import scoring
from whoosh.matching import WrappingMatcher

from search.analysis.text import is_stop_word
from search.index.schema import FIELD_WEIGHTS

# BM25 parameters: K1 and B for all fields, and a smaller B for short fields so a long title is
# not punished like a long body (chosen by measurement; see docs/ARCHITECTURE.md and benchmarks/RESULTS.md).
BM25_K1 = 1.2
BM25_B = 0.6
FIELD_B = {"title_B": 0.3, "tags_B": 0.3, "description_B": 0.5}


def weighting() -> scoring.WeightingModel:
    """The ranking model: BM25F with per-field length normalisation."""
    return NewsBM25F(B=BM25_B, K1=BM25_K1, **FIELD_B)


def bm25_idf(doc_count: int, doc_frequency: int) -> float:
    """BM25's inverse document frequency, ``log(1 + (N - n + 0.5) / (n + 0.5))``."""
    return math.log(1 + (doc_count - doc_frequency + 0.5) / (doc_frequency + 0.5))


class NewsBM25F(scoring.BM25F):  # type: ignore[misc]
    """Whoosh's BM25F with BM25's own inverse document frequency (``bm25_idf``).

    Whoosh's BM25F uses the tf-idf formula ``1 + log(N / (n + 1))``, which rates a word found
    in nearly every article at a fifth of the rarest word: common query words then outvote
    the rare ones that say what the query is about. BM25's idf gives them almost nothing.
    """

    def idf(self, searcher: Any, fieldname: str, text: str) -> float:
        parent = searcher.get_parent()
        return bm25_idf(parent.doc_count_all(), parent.doc_frequency(fieldname, text))


def query_repeats(searcher: Any, text: str, parsed: wq.Query, fields: tuple[str, ...]) -> dict[str, int]:
    """How often each index term that the typed ``text`` repeats occurs in it, for a plain word query.

    Whoosh's parser keeps one copy of a repeated word, so ``wheat deals ... wheat`` would weigh
    ``wheat`` like any other word; BM25 counts a word typed twice twice (its query term
    frequency, linear as with a large k3). Measured: TIME MAP 0.633 to 0.636, 8 of the 10
    queries it changes better; no Reuters or BBC figure worse (benchmarks/relevance_checks.py).
    Only plain word queries: other syntax says by itself how much each part weighs.
    """
    if plain_words(parsed, fields) is None:
        return {}
    counts = Counter(token.text for token in searcher.schema["body"].analyzer(text))
    return {term: count for term, count in counts.items() if count > 1}


def combine_fields(query: wq.Query, repeats: Mapping[str, int] | None = None) -> wq.Query:
    """``query`` with each word ORed over several prose fields made one ``FieldsTerm``.

    Whoosh's BM25F adds up a separate BM25 score per field, so a word in the title and the body
    is counted (and saturated) twice, and a title that merely repeats the opening of the body
    (as the reader makes when an article has none) outweighs the body itself. Real BM25F adds
    the field-weighted frequencies first and saturates once (measured: TIME MAP 0.60 against
    0.46 at title weight 2.5; see benchmarks/RESULTS.md, "Relevance"). A word in ``repeats``
    (see ``query_repeats``) counts that many times.
    """
    repeats = repeats or {}
    if isinstance(query, wq.Or):
        # A weighed group ("(levee -storm)^2") weighs each of its parts: a group of one word's
        # fields becomes one FieldsTerm, and a group of one part would drop its boost.
        weight = 1.0 if query.scale else query.boost
        words: dict[str, list[wq.Term]] = {}
        rest: list[wq.Query] = []
        for sub in query.subqueries:
            sub = sub.with_boost(sub.boost * weight) if weight != 1.0 else sub
            if type(sub) is wq.Term and sub.fieldname in FIELD_WEIGHTS:
                words.setdefault(sub.text, []).append(sub)
            else:
                rest.append(combine_fields(sub, repeats))
        subs = [FieldsTerm(terms, repeats.get(text, 1)) if len({t.fieldname for t in terms}) > 1
                else terms[0] if len(terms) == 1 else wq.Or(terms) for text, terms in words.items()]
        return type(query)(subs + rest, boost=query.boost if weight == 1.0 else 1.0, minmatch=query.minmatch,
                           scale=query.scale)
    return query.apply(lambda child: combine_fields(child, repeats)) if query.children() else query


class FieldsTerm(wq.WrappingQuery):  # type: ignore[misc]
    """One word in several fields, scored as one BM25F term.

    The score is ``idf * x * (K1 + 1) / (x + K1)`` with ``x`` the sum over fields of the field
    weight times the word's frequency there, length-normalised with the field's B; idf is BM25's
    for the field where the word is most common. A boost the user typed (``word^3``) and the
    number of times the word was typed (``qtf``) multiply the score. The field terms stay visible
    as matched terms, so snippets highlight as before.
    """

    def __init__(self, terms: list[wq.Term], qtf: int = 1) -> None:
        self.terms = terms
        self.qtf = qtf
        self.child = wq.Or(terms)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.terms!r}, qtf={self.qtf})"

    def _rewrap(self, child: wq.Query) -> wq.Query:
        if isinstance(child, wq.Or) and all(type(sub) is wq.Term for sub in child.subqueries):
            return self.__class__(list(child.subqueries), self.qtf)
        return child  # the field terms were rewritten into something else: score that as it is

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        if context is not None:
            context = context.set(needs_current=True)  # the field matchers must sit on each match
        child = self.child.matcher(searcher, context)
        if not child.is_active() or (context is not None and context.weighting is None):
            return child
        parent = searcher.get_parent()
        fields: dict[str, tuple[float, float, float]] = {}
        boost = 0.0
        frequency = 0
        for term in self.terms:
            weight = FIELD_WEIGHTS.get(term.fieldname, 1.0)
            b = FIELD_B.get(f"{term.fieldname}_B", BM25_B)
            fields[term.fieldname] = (weight, b, parent.avg_field_length(term.fieldname) or 1.0)
            boost = max(boost, term.boost / weight)
            frequency = max(frequency, parent.doc_frequency(term.fieldname, term.text))
        idf = bm25_idf(parent.doc_count_all(), frequency) * boost * self.qtf
        return _FieldsTermMatcher(child, searcher, fields, idf)


class _FieldsTermMatcher(WrappingMatcher):  # type: ignore[misc]
    """Scores the current document from the field matchers under it (see ``FieldsTerm``)."""

    def __init__(self, child: Any, searcher: Any, fields: dict[str, tuple[float, float, float]], idf: float) -> None:
        super().__init__(child)
        self.searcher = searcher
        self.fields = fields
        self.idf = idf
        self.leaves = list(child.term_matchers())

    def _replacement(self, newchild: Any) -> Any:
        return self.__class__(newchild, self.searcher, self.fields, self.idf)

    def supports_block_quality(self) -> bool:
        return False

    def score(self) -> float:
        docnum = self.child.id()
        x = 0.0
        for leaf in self.leaves:
            if leaf.is_active() and leaf.id() == docnum:
                field = leaf.term()[0]
                weight, b, average = self.fields[field]
                length = self.searcher.doc_field_length(docnum, field, 1)
                x += weight * leaf.weight() / (1 - b + b * length / average)
        return self.idf * x * (BM25_K1 + 1) / (x + BM25_K1)


# Pseudo-relevance feedback (measured on TIME and on Reuters topics; see docs/ARCHITECTURE.md and benchmarks/RESULTS.md):
# the words that best characterise the top article (frequent in it, rare in the index) are added
# to a plain word query as body terms, each weighted at most FEEDBACK_WEIGHT of a typed word.
FEEDBACK_DOCS = 1
FEEDBACK_TERMS = 10
FEEDBACK_WEIGHT = 0.3
# Only the opening of a long article is read for feedback words (bounds the cost per query).
FEEDBACK_CHARS = 20_000
# Only the words most frequent in those articles are weighed by rarity (looking up how many
# articles hold every word of a long article cost more than the search; the choice is the same).
FEEDBACK_CANDIDATES = 50
FEEDBACK_FIELDS = ("title", "description", "body")
# The field the feedback terms are looked up in (in all four fields they measured no better, at
# four times the cost).
FEEDBACK_FIELD = "body"


def plain_words(parsed: wq.Query, fields: tuple[str, ...]) -> list[str] | None:
    """The index terms of a query made only of plain words over ``fields``, else None.

    Plain means what the parser makes of words typed without syntax: each word ORed over every
    searched field at that field's weight. Phrases, operators, boosts, prefixes, fuzzy terms and
    field queries are not plain (feedback would second-guess what the user asked for).
    """
    leaves = parsed.subqueries if isinstance(parsed, wq.Or) else [parsed]
    by_word: dict[str, set[str]] = {}
    for leaf in leaves:
        if type(leaf) is not wq.Term or leaf.boost != FIELD_WEIGHTS.get(leaf.fieldname, 1.0):
            return None
        by_word.setdefault(leaf.text, set()).add(leaf.fieldname)
    wanted = set(fields)
    if not by_word or any(found != wanted for found in by_word.values()):
        return None
    return list(by_word)


# Finds the best (docnum, score) matches of a query (the engine's ``Evaluator.top``).
TopDocs = Callable[[wq.Query, int], list[tuple[int, float]]]
# How many articles hold an index term in a field (the engine's count, from its postings).
DocFrequency = Callable[[str, str], int]


def feedback_terms(searcher: Any, query: wq.Query, words: list[str], top_docs: TopDocs,
                   doc_frequency: DocFrequency) -> list[tuple[str, float]]:
    """The FEEDBACK_TERMS index terms that best characterise the top FEEDBACK_DOCS matches.

    A term's weight is its share of each top article's words (articles weighted by score) times
    its BM25 idf, for the FEEDBACK_CANDIDATES terms with the largest shares; the query's own
    words, numbers and one-letter terms are left out. Terms are found by analysing the stored
    text with the index's own analyzer (no term vectors needed).
    """
    scored = top_docs(query, FEEDBACK_DOCS)
    total_score = sum(score for _docnum, score in scored) or 1.0
    analyzer = searcher.schema["body"].analyzer
    share: dict[str, float] = {}
    for docnum, score in scored:
        stored = searcher.stored_fields(docnum)
        text = " ".join(stored.get(name) or "" for name in FEEDBACK_FIELDS)[:FEEDBACK_CHARS]
        counts = _term_counts(analyzer, text)
        length = sum(counts.values())
        for term, count in counts.items():
            share[term] = share.get(term, 0.0) + (score / total_score) * count / length
    for term in words:
        share.pop(term, None)
    candidates = sorted(((term, weight) for term, weight in share.items() if len(term) > 1 and not term.isdigit()),
                        key=lambda item: (-item[1], item[0]))[:FEEDBACK_CANDIDATES]
    doc_count = searcher.doc_count_all()
    weights = [(term, weight * bm25_idf(doc_count, doc_frequency(FEEDBACK_FIELD, term)))
               for term, weight in candidates]
    weights.sort(key=lambda item: (-item[1], item[0]))
    return weights[:FEEDBACK_TERMS]


def _term_counts(analyzer: Any, text: str) -> dict[str, int]:
    """How often each index term occurs in ``text``: from the analyzer's word positions when it
    has them (one dict lookup per word, no Token objects: a third of a plain query's time went
    to analysing the top article), else from its tokens. Stop words are left out: they say
    nothing of a topic, and the shares stay what they were before stop words were indexed."""
    word_positions = getattr(analyzer, "word_positions", None)
    if word_positions is not None:
        return {term: len(positions) for term, positions in word_positions(text).items() if not is_stop_word(term)}
    return dict(Counter(token.text for token in analyzer(text) if not is_stop_word(token.text)))


def add_feedback(searcher: Any, parsed: wq.Query, fields: tuple[str, ...],
                 restriction: wq.Query | None = None, *, repeats: Mapping[str, int] | None = None,
                 top_docs: TopDocs, doc_frequency: DocFrequency) -> wq.Query:
    """``parsed`` (fields combined, ``repeats`` counted) with feedback terms that only add score,
    for a plain word query.

    The articles found, their count and their highlighted words stay those of the query typed:
    the feedback terms rank the matches (``FeedbackBoost``) but never match on their own.
    ``top_docs`` finds the top article (the engine passes one that shares its work with
    the search that follows).
    """
    base = combine_fields(parsed, repeats)
    words = plain_words(parsed, fields)
    if words is None or FEEDBACK_FIELD not in fields:
        return base
    seed = base if restriction is None else wq.And([base, restriction])
    terms = feedback_terms(searcher, seed, words, top_docs, doc_frequency)
    strongest = terms[0][1] if terms else 0.0
    if strongest <= 0:  # no terms, or only weightless ones (a query weighed ^0: "+oil^0")
        return base
    extra = [wq.Term(FEEDBACK_FIELD, term, boost=FEEDBACK_WEIGHT * weight / strongest * FIELD_WEIGHTS[FEEDBACK_FIELD])
             for term, weight in terms]
    return FeedbackBoost(base, extra)


class FeedbackBoost(wq.WrappingQuery):  # type: ignore[misc]
    """Matches what ``child`` matches, adding the scores the ``extra`` terms give each match.

    The extra terms' scores are summed per article up front, one posting list at a time, which
    costs far less than merging more posting lists into the query (measured: Whoosh's union of
    40 extra terms tripled the time of a search). They are not reported as matched
    terms, so snippets highlight only what the user typed.
    """

    def __init__(self, child: wq.Query, extra: list[wq.Term]) -> None:
        self.child = child
        self.extra = extra

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.child!r}, {self.extra!r})"

    def _rewrap(self, child: wq.Query) -> wq.Query:
        return self.__class__(child, self.extra)

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        bonus: dict[int, float] = {}
        for term in self.extra:
            postings = term.matcher(searcher, context)
            while postings.is_active():
                docnum = postings.id()
                bonus[docnum] = bonus.get(docnum, 0.0) + postings.score()
                postings.next()
        return _BonusMatcher(self.child.matcher(searcher, context), bonus)


class _BonusMatcher(WrappingMatcher):  # type: ignore[misc]
    """The child's matches and scores, plus a fixed bonus for some documents."""

    def __init__(self, child: Any, bonus: dict[int, float]) -> None:
        super().__init__(child)
        self.bonus = bonus

    def _replacement(self, newchild: Any) -> Any:
        return self.__class__(newchild, self.bonus)

    def supports_block_quality(self) -> bool:
        # Any document may get a bonus, so no block may be skipped on the child's scores (passing
        # bounds raised by the largest bonus down to the child measured slower than no skipping).
        return False

    def score(self) -> float:
        return float(self.child.score()) + self.bonus.get(self.child.id(), 0.0)
