"""Fuzzy words: ``word~`` and ``word~2`` matched against the unstemmed spelling lists.

Parts:
- ``SpelledFuzzyPlugin``: the parser plugin that keeps a fuzzy word as typed (not stemmed).
- ``expand_fuzzy``: each fuzzy word replaced by the indexed words within its edit distance,
  analysed like typed words.
- ``similar_words``: the indexed words within an edit distance of a word (also for "did you mean").
- ``MAX_FUZZY_DISTANCE`` and ``SPELLING_FIELDS``; the other caps on fuzzy words are in ``limits``.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from whoosh import query as wq
from whoosh.codec.base import Automata
from whoosh.qparser import FuzzyTermPlugin

from search.errors import QueryError
from search.index.schema import SPELLING_FIELDS as SPELLED
from search.query import limits
from search.query.limits import MAX_EXPANSIONS, MAX_FUZZY_DISTANCE, Deadline
from search.whoosh_internals.reading import field_words

# The word-list walk checks its deadline once per this many steps (a clock read each step would
# cost more than the step).
_STEPS_PER_CHECK = 256


class SpelledFuzzyPlugin(FuzzyTermPlugin):  # type: ignore[misc]
    """``word~``, keeping the word as typed (lower-cased) instead of its stem.

    Fuzzy words are looked up in the unstemmed spelling lists (``expand_fuzzy``); Whoosh's
    plugin stems them first, and a misspelling's stem is often farther from the real word than
    the misspelling ("takover" stems to "takov", two edits from "takeover", which then found
    nothing). Stop words and words the analyzer splits are still handled by Whoosh.
    """

    class FuzzyTermNode(FuzzyTermPlugin.FuzzyTermNode):  # type: ignore[misc]
        def query(self, parser: Any) -> Any:
            made = super().query(parser)
            if isinstance(made, wq.FuzzyTerm):
                made.text = self.text.lower()
            return made


# The unstemmed word lists the indexer writes (``schema.SPELLING_FIELDS``: each segment holds
# every word of its titles and bodies once).
SPELLING_FIELDS = tuple(sorted(set(SPELLED.values())))


def expand_fuzzy(parsed: wq.Query, searcher: Any, deadline: Deadline = limits.NO_DEADLINE,
                 max_expansions: int = MAX_EXPANSIONS) -> wq.Query:
    """Replace each ``word~`` with the indexed words within its edit distance.

    The index holds stems, and a misspelling is rarely one edit away from a stem ("immigraton"
    vs "immigr"), so fuzzy matching runs on the unstemmed word lists and the words found are
    then analyzed like any query word. A word typed once is searched in four fields: its
    spelling lists are walked once (measured: ``takover~`` 4 times faster).

    Raises ``QueryError`` for a word that matches more than ``max_expansions`` words (the
    walk stops there), or when ``deadline`` passes.
    """
    return _expand_fuzzy(parsed, searcher, {}, deadline, max_expansions)


def _expand_fuzzy(parsed: wq.Query, searcher: Any, found: dict[tuple[str, int, int], set[str]],
                  deadline: Deadline, max_expansions: int) -> wq.Query:
    if isinstance(parsed, wq.FuzzyTerm):
        if parsed.maxdist > MAX_FUZZY_DISTANCE:
            raise QueryError(f"{parsed.text}~{parsed.maxdist}: fuzzy matching allows at most "
                             f"{MAX_FUZZY_DISTANCE} edits (word~ or word~2)")
        text = parsed.text.lower()
        # ``word~2/N`` keeps the first N letters; more than the word has keeps the word (Whoosh's
        # automaton indexed past the word's end: IndexError).
        key = (text, parsed.maxdist, min(max(0, parsed.prefixlength), len(text)))
        if key not in found:
            found[key] = similar_words(searcher, *key, deadline=deadline, cap=max_expansions + 1)
            limits.check_fuzzy_expansion(f"{parsed.text}~{parsed.maxdist}", len(found[key]), max_expansions)
        return _fuzzy_alternatives(parsed, found[key], searcher)
    if not parsed.children():
        return parsed
    return parsed.apply(lambda child: _expand_fuzzy(child, searcher, found, deadline, max_expansions))


def similar_words(searcher: Any, text: str, maxdist: int, prefix: int,
                  deadline: Deadline = limits.NO_DEADLINE, cap: int | None = None) -> set[str]:
    """The words of the spelling lists within ``maxdist`` edits of ``text``.

    Whoosh walks the on-disk term table with a Levenshtein automaton, a binary search of the
    file (dozens of small reads) per step; the same walk over the index's words held in memory
    (``_all_words``: every segment's spelling lists merged once per reader) finds the same
    words several times faster, one walk for all segments and lists. ``deadline`` is checked
    as the list is walked; with ``cap``, the walk stops once ``cap`` words are found (a caller
    refusing more than ``cap - 1`` needs no more).
    """
    automaton = Automata.levenshtein_dfa(text, maxdist, prefix)
    words: set[str] = set()
    deadline.check()
    for word in _automaton_matches(automaton, _all_words(searcher), deadline):
        words.add(word)
        if cap is not None and len(words) >= cap:
            break
    return words


def _all_words(searcher: Any) -> list[str]:
    """Every word of the spelling lists of every segment, sorted, once per reader: the
    segments of an archive share most of their words, and titles' words are mostly also the
    bodies', so one walk of the merged list does the work of four (on 20 x Reuters, 57,725
    words instead of 140,000 walked for each fuzzy word)."""
    reader = searcher.reader()
    cached: list[str] | None = reader.__dict__.get("_newsearch_all_words")
    if cached is None:
        lists = [_word_list(leaf, name) for leaf, _offset in reader.leaf_readers()
                 for name in SPELLING_FIELDS if name in searcher.schema]
        cached = lists[0] if len(lists) == 1 else sorted(set().union(*lists))
        reader.__dict__["_newsearch_all_words"] = cached
    return cached


def _word_list(reader: Any, field: str) -> list[str]:
    """A segment's sorted words of ``field``, read once per reader (segments never change)."""
    cache: dict[str, list[str]] = reader.__dict__.setdefault("_newsearch_words", {})
    if field not in cache:
        cache[field] = [word.decode("utf-8") for word in field_words(reader, field)]
    return cache[field]


def _automaton_matches(automaton: Any, words: list[str], deadline: Deadline) -> Iterator[str]:
    """Whoosh's ``Automata.find_matches`` over a sorted list instead of a term cursor."""
    if not words:
        return
    position = 0
    match = automaton.next_valid_string(words[0])
    steps = 0
    while match:
        steps += 1
        if steps % _STEPS_PER_CHECK == 0:
            deadline.check()
        position = bisect_left(words, match, position)
        if position == len(words):
            return
        word = words[position]
        if word == match:
            yield word
            word += "\0"
        match = automaton.next_valid_string(word)


def _fuzzy_alternatives(fuzzy: wq.FuzzyTerm, words: set[str], searcher: Any) -> wq.Query:
    analyzer = searcher.schema[fuzzy.fieldname].analyzer
    stems = {token.text for word in words for token in analyzer(word)}
    if not stems:
        return wq.NullQuery
    return wq.Or([wq.Term(fuzzy.fieldname, stem, boost=fuzzy.boost) for stem in sorted(stems)])
