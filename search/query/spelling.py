"""Did you mean: a query's misspelled words corrected from the index's own words.

Parts:
- ``suggest``: the corrected query text, when it would find more than the query did.
- ``SUGGEST_BELOW``: fewer results than this and known words may be corrected too.

Whoosh's query corrector is not used: it corrects the query's stems ("coffe" is searched as
"coff") against the unstemmed word lists, and ranks the candidates by the frequency of each
unstemmed word taken as a stem, which is nought for most words, so on Reuters "coffe" became
"corp" and "coffee" was never offered. Here the word as typed is corrected, the nearest
candidates win, and among those the one the most articles use (the articles holding its stem).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as wq

from search.analysis.text import is_stop_word
from search.errors import QueryError
from search.query import limits
from search.query.fuzzy import expand_fuzzy, similar_words
from search.query.limits import MAX_SPELLING_WORD_CHARS, MAX_SPELLING_WORDS, Deadline
from search.query.language import parse_query
from search.index.schema import SEARCH_FIELDS

# A query finding fewer results than this may have a word the index knows corrected as well
# (a rare misspelling that some article shares); an unknown word is always corrected.
SUGGEST_BELOW = 3
# Spelling mistakes rarely involve the first letter, and keeping it makes the lookup cheap.
SAME_FIRST_LETTERS = 1


@dataclass
class TypedWord:
    """A word of the query as the user typed it, and the fields it is searched in."""

    start: int
    end: int
    fields: set[str] = field(default_factory=set)
    # The most articles that hold the word (its stem) in one of those fields.
    articles: int = 0


def suggest(searcher: Any, text: str, parsed: wq.Query, total: int, restriction: wq.Query | None,
            fields: tuple[str, ...], count: Callable[[wq.Query], int],
            doc_frequency: Callable[[str, str], int], deadline: Deadline = limits.NO_DEADLINE,
            typed: wq.Query | None = None) -> str | None:
    """A spelling-corrected ``text`` when it would find more than the ``total`` it found, or when
    ``text`` has a word the index has never seen and the correction finds as much; else None.

    Words are corrected within one edit, or two for a word of six letters or more that no article
    holds (none for one or two letters); excluded words, prefixes, fuzzy words and words with
    digits or punctuation are left as typed, and so are words longer than
    ``limits.MAX_SPELLING_WORD_CHARS``; a query with more than ``limits.MAX_SPELLING_WORDS``
    words to correct gets no suggestion.

    ``count`` and ``doc_frequency`` are the engine's: how many articles a query finds, and
    how many hold an index term in a field. ``deadline`` is checked as candidates are looked
    up (``QueryError`` when it passes). ``typed`` is the query as typed, each word with its
    place (``QueryPlan.typed``); without it the text is parsed again for it.
    """
    # Every search asks; most find enough and know their words, so that is settled first.
    unknown = any(word.articles == 0 for word in _typed_words(doc_frequency, text, parsed))
    if total >= SUGGEST_BELOW and not unknown:
        return None
    words = [word for word in _typed_words(doc_frequency, text, typed if typed is not None else _every_occurrence(searcher, text, parsed, fields))
             if word.end - word.start <= MAX_SPELLING_WORD_CHARS]
    if len(words) > MAX_SPELLING_WORDS:
        return None
    corrected = text
    for word in sorted(words, key=lambda word: -word.start):  # from the end: earlier offsets hold
        typed = text[word.start:word.end]
        replacement = _best_correction(searcher, doc_frequency, typed, word, deadline)
        if replacement:
            corrected = corrected[:word.start] + _cased_like(typed, replacement) + corrected[word.end:]
    if corrected == text:
        return None
    try:
        better = expand_fuzzy(parse_query(corrected, searcher.schema, fields=fields), searcher)
        if restriction is not None:
            better = wq.And([better, restriction])
        found = count(better)  # the engine's count of what the correction finds
    except QueryError:  # a correction that cannot be searched is no suggestion
        return None
    return corrected if found > total or (unknown and found >= total) else None


def _every_occurrence(searcher: Any, text: str, parsed: wq.Query, fields: tuple[str, ...]) -> wq.Query:
    """The query as parsed before Whoosh merges repeated words, so that a word typed twice is
    corrected in both places (``parsed`` if that cannot be had)."""
    try:
        return parse_query(text, searcher.schema, fields=fields, merge=False)
    except QueryError:  # parse_query accepted it merged; to be safe, correct what it gave
        return parsed


def _typed_words(doc_frequency: Callable[[str, str], int], text: str, parsed: wq.Query) -> list[TypedWord]:
    """The query's plain words and phrase words that a correction may replace, by position."""
    words: dict[tuple[int, int], TypedWord] = {}
    for fieldname, term, start, end in _positive_terms(parsed):
        if (fieldname not in SEARCH_FIELDS or start is None or end is None or not text[start:end].isalpha()
                or is_stop_word(term)):  # "of" in a phrase is not a misspelling of "off"
            continue
        word = words.setdefault((start, end), TypedWord(start, end))
        word.fields.add(fieldname)
        word.articles = max(word.articles, doc_frequency(fieldname, term))
    return [words[span] for span in sorted(words)]


def _positive_terms(node: wq.Query) -> list[tuple[str, str, int | None, int | None]]:
    """(field, term, start, end) of the words a query looks for (excluded ones are not)."""
    if isinstance(node, wq.Not):
        return []
    if isinstance(node, wq.AndNot):
        return _positive_terms(node.a)
    if isinstance(node, wq.Term):
        return [(node.fieldname, node.text, getattr(node, "startchar", None), getattr(node, "endchar", None))]
    if isinstance(node, wq.Phrase):
        ranges = getattr(node, "char_ranges", None) or []
        return [(node.fieldname, word, start, end) for word, (start, end) in zip(node.words, ranges)]
    return [term for child in node.children() for term in _positive_terms(child)]


def _best_correction(searcher: Any, doc_frequency: Callable[[str, str], int], typed: str,
                     word: TypedWord, deadline: Deadline) -> str | None:
    """The nearest indexed word the most articles use, if more use it than use ``typed``."""
    lowered = typed.lower()
    for distance in range(1, _edits_allowed(lowered, known=word.articles > 0) + 1):
        deadline.check()
        candidates = similar_words(searcher, lowered, distance, SAME_FIRST_LETTERS, deadline) - {lowered}
        ranked = sorted(((_articles_using(searcher, doc_frequency, candidate, word.fields), candidate)
                         for candidate in candidates),
                        key=lambda pair: (-pair[0], pair[1]))
        if ranked and ranked[0][0] > word.articles:
            return ranked[0][1]
    return None


def _edits_allowed(word: str, known: bool) -> int:
    """How far a correction may be, as Elasticsearch's ``fuzziness: AUTO`` has it: none for one
    or two letters, one edit up to five letters, two beyond (one for a word the index knows).
    Two edits from a short word reach unrelated words ("zzyzx" -> "zzzz")."""
    if len(word) < 3:
        return 0
    return 1 if known or len(word) <= 5 else 2


def _articles_using(searcher: Any, doc_frequency: Callable[[str, str], int], candidate: str,
                    fields: set[str]) -> int:
    """The most articles that hold ``candidate``, analysed like a query word, in one of ``fields``."""
    most = 0
    for fieldname in fields:
        for token in searcher.schema[fieldname].analyzer(candidate):
            most = max(most, doc_frequency(fieldname, token.text))
    return most


def _cased_like(typed: str, word: str) -> str:
    """``word`` in the case the user typed: ``Harbur`` -> ``Harbour``, ``FLOD`` -> ``FLOOD``."""
    if len(typed) > 1 and typed.isupper():
        return word.upper()
    return word[:1].upper() + word[1:] if typed[:1].isupper() else word
