"""Limits: what one query may cost, as named caps and a deadline.

A query is text from anyone (the CLI, the REPL, a web page through the API), and some texts
cost far more than they look: on Reuters ``**********`` took 17 s, ``s* t* c* p* m* b* a* d* r*
i*`` 22 s, a 9,000-letter word 20 s, 20 words with ``~2`` 11 s, a 2,000-word phrase 28 s
(issue 23). Every query is therefore checked against the caps below before it runs, and its
run is bounded by a ``Deadline``; each refusal is a ``QueryError`` of one line saying which
cap the query passed and what to change.

Parts:
- The caps (``MAX_*``, ``DEFAULT_TIMEOUT``): module constants, each documented with why.
- ``check_text``: the caps on the text as typed (length, words, a word's length), before the
  parser sees it; ``parse_query`` calls it.
- ``check_parsed``: the caps on the parsed query (a literal before a wildcard, a phrase's
  words, fuzzy words), before anything is looked up; ``run_search`` calls it.
- ``check_expansions`` / ``check_expansion`` / ``check_fuzzy_expansion``: how many indexed
  words a prefix, wildcard or fuzzy word matches (each word and the whole query), against the
  caller's ``max_expansions`` (``check_max_expansions``: 1 to ``MAX_EXPANSIONS_CEILING``; the
  whole query ``total_expansions`` of it, issue 22); the planner checks before the search runs,
  and the engine's expansion calls ``check_expansion`` for each word it expands.
- ``Deadline`` and ``NO_DEADLINE``: a monotonic-clock budget whose ``check()`` raises
  ``QueryError``; the evaluator, fuzzy matching and spelling suggestions call it as they go.
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

from whoosh import query as wq

from search.errors import QueryError

# Characters in one query. Whoosh's parser, the stemmer and every check below are linear in the
# text at best; 60,000 "x" held the web example 63 s. Four thousand is a pasted abstract: the
# classic collections' queries are up to 2,000 (at 1,000, 16 of CISI's 76 were refused).
MAX_QUERY_CHARS = 4_000
# Words (runs of letters and digits) in one query, as Elasticsearch's max_clause_count: each is
# searched in four fields and scored on its own; 10,000 words took over 30 s. Parsing 512 takes
# about 0.3 s, before the deadline starts; stop words among them are not searched when there
# are others. At 64, 58 of CISI's 76 queries were refused (MAP 0.132 against 0.225 at 256).
MAX_QUERY_WORDS = 512
# Letters and digits in one word. No real word is near it; a 9,000-letter word took 20 s to
# stem, match and (worst) correct.
MAX_WORD_CHARS = 100
# Words in one "phrase": the phrase check decodes the positions of every word.
MAX_PHRASE_WORDS = 32
# Literal characters a wildcard word needs before its first * or ?: ``*ike`` or ``?*`` walks
# every word of the index (``*`` alone and ``field:*``, every article, are another query).
MIN_WILDCARD_PREFIX = 1
# Indexed words one prefix, wildcard or fuzzy word may expand to in one field, as
# Elasticsearch's max_expansions; each expansion is a posting list read and scored. The default
# of ``max_expansions`` (SearchOptions.max_expansions, Index.search(max_expansions=),
# --max-expansions, the prompt's :expansions), which a caller may raise or lower.
MAX_EXPANSIONS = 1_000
# The highest max_expansions a caller may ask for (as MAX_TIMEOUT for the timeout), so a web
# page cannot ask for every word of the index: above it a query is a scan, not a search.
MAX_EXPANSIONS_CEILING = 100_000
# All the prefixes and wildcards of one query together may expand to this many times
# max_expansions: the query's cost is the sum of its expansions, and scaling the total with
# the per-word cap lets a raised cap pass the same query with several prefixes.
TOTAL_EXPANSIONS_FACTOR = 4
# Indexed words all the prefixes and wildcards of one query may expand to together, by default.
MAX_TOTAL_EXPANSIONS = TOTAL_EXPANSIONS_FACTOR * MAX_EXPANSIONS
# Edit distances a fuzzy word may ask for (``word~2``): above it Whoosh's Levenshtein automaton
# explodes (tens of seconds).
MAX_FUZZY_DISTANCE = 2
# Fuzzy words (``word~``, ``word~2``) in one query: each walks every spelling list.
MAX_FUZZY_WORDS = 5
# Indexed words one fuzzy word may match by default (``ab~2`` matches nearly every short
# word): max_expansions, as Elasticsearch's fuzzy query caps its expansions with the same
# setting; each match is a posting list read and scored, as a prefix's words are.
MAX_FUZZY_EXPANSIONS = MAX_EXPANSIONS
# Words "did you mean" corrects in one query; a longer query gets no suggestion.
MAX_SPELLING_WORDS = 8
# Letters in a word "did you mean" corrects; a longer one (no misspelling) is left as typed.
MAX_SPELLING_WORD_CHARS = 30
# Seconds a search may run before it is stopped with a QueryError (SearchOptions.timeout,
# Index.search(timeout=), newsearch search --timeout).
DEFAULT_TIMEOUT = 1.0
# The longest timeout a caller may ask for; None asks for no deadline at all.
MAX_TIMEOUT = 3_600.0

_WORD = re.compile(r"\w+")
_SHOWN = 40  # characters of a query or word quoted in a message


def shown(text: str) -> str:
    """``text`` quoted for a one-line message, cut to a readable length."""
    return repr(text) if len(text) <= _SHOWN else repr(text[:_SHOWN]) + "…"


class Deadline:
    """A time budget on the monotonic clock (immune to the wall clock being set).

    ``Deadline(None)`` never expires. ``check()`` raises ``QueryError`` once ``seconds`` have
    passed since it was made, naming ``query``.
    """

    def __init__(self, seconds: float | None, query: str = "") -> None:
        self.seconds = seconds
        self.query = query
        self.ends = math.inf if seconds is None else time.monotonic() + seconds

    def expired(self) -> bool:
        """Whether the time is up."""
        return time.monotonic() > self.ends

    def check(self) -> None:
        """Raise ``QueryError`` when the time is up."""
        if self.ends is not math.inf and time.monotonic() > self.ends:
            raise QueryError(f"query {shown(self.query)} took longer than {self.seconds:g} s; make it narrower "
                             "(fewer words, more letters before * or ~) or allow more time (--timeout)")


# What the evaluator uses when no deadline is given: never expires.
NO_DEADLINE = Deadline(None)


def check_timeout(timeout: float | None) -> None:
    """Raise ``QueryError`` for a timeout that is not a positive number of seconds up to
    ``MAX_TIMEOUT`` (None, no deadline, is allowed)."""
    if timeout is not None and not 0 < timeout <= MAX_TIMEOUT:
        raise QueryError(f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds, not {timeout}")


_RAISE = "raise the cap (--max-expansions, :expansions, max_expansions=)"


def check_max_expansions(max_expansions: object) -> None:
    """Raise ``QueryError`` for a ``max_expansions`` that is not a whole number from 1 to
    ``MAX_EXPANSIONS_CEILING``."""
    if isinstance(max_expansions, bool) or not isinstance(max_expansions, int) \
            or not 1 <= max_expansions <= MAX_EXPANSIONS_CEILING:
        raise QueryError(f"max_expansions must be a whole number from 1 to {MAX_EXPANSIONS_CEILING:,}, "
                         f"not {max_expansions!r:.40}")


def total_expansions(max_expansions: int) -> int:
    """How many words all the prefixes and wildcards of a query may expand to together."""
    return TOTAL_EXPANSIONS_FACTOR * max_expansions


def check_text(text: str) -> None:
    """Raise ``QueryError`` when the text as typed passes a cap: too long, too many words, or
    a word too long. Done first, as parsing such a text is itself the cost."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query {shown(text)} is {len(text):,} characters long; "
                         f"at most {MAX_QUERY_CHARS:,} are searched: shorten it")
    count = 0
    for word in _WORD.finditer(text):
        count += 1
        if len(word.group()) > MAX_WORD_CHARS:
            raise QueryError(f"word {shown(word.group())} at column {word.start() + 1} of the query is "
                             f"{len(word.group()):,} characters long; at most {MAX_WORD_CHARS} are searched")
    if count > MAX_QUERY_WORDS:
        raise QueryError(f"query {shown(text)} has {count:,} words; at most {MAX_QUERY_WORDS} are searched: "
                         "keep the ones that matter")


def _leaves(query: wq.Query) -> list[wq.Query]:
    return list(query.leaves()) if query.children() else [query]


def _wildcard_word(leaf: wq.Query) -> str:
    """How a prefix or wildcard was typed (a prefix's text lacks its ``*``)."""
    return f"{leaf.text}*" if type(leaf) is wq.Prefix else str(leaf.text)


def check_parsed(parsed: wq.Query, text: str) -> None:
    """Raise ``QueryError`` when the parsed query passes a cap no index is needed to see: a
    wildcard with too few letters before its ``*``/``?``, a phrase of too many words, too many
    fuzzy words. (``*`` alone and ``field:*`` are parsed as every article, not wildcards.)"""
    fuzzy: set[tuple[str, int]] = set()
    for leaf in _leaves(parsed):
        if type(leaf) in (wq.Prefix, wq.Wildcard):
            typed = _wildcard_word(leaf)
            literal = len(re.split(r"[*?]", typed, maxsplit=1)[0])
            if literal < MIN_WILDCARD_PREFIX:
                raise QueryError(f"{shown(typed)} in query {shown(text)} has no letter before its * or ?, so it "
                                 "would match every word: type the start of the word (a lone * finds every article)")
        elif isinstance(leaf, wq.Phrase) and len(leaf.words) > MAX_PHRASE_WORDS:
            raise QueryError(f"a phrase in query {shown(text)} has {len(leaf.words):,} words; "
                             f"at most {MAX_PHRASE_WORDS} are matched as a phrase: shorten it")
        elif isinstance(leaf, wq.FuzzyTerm):
            fuzzy.add((leaf.text, leaf.maxdist))
    if len(fuzzy) > MAX_FUZZY_WORDS:
        raise QueryError(f"query {shown(text)} has {len(fuzzy)} fuzzy words (word~); "
                         f"at most {MAX_FUZZY_WORDS} are allowed: drop the ~ from some")


def check_expansion(word: str, count: int, max_expansions: int = MAX_EXPANSIONS, field: str = "") -> None:
    """Raise ``QueryError`` when the prefix or wildcard ``word`` expands to more than
    ``max_expansions`` indexed words (``count``; read up to one more than the cap, hence
    "more than")."""
    if count > max_expansions:
        typed = word if any(mark in word for mark in "*?") else word + "*"
        where = f" in {field}" if field else ""
        raise QueryError(f"{shown(typed)} matches more than {max_expansions:,} indexed {_words(max_expansions)}{where} "
                         f"(max_expansions {max_expansions:,}): type more letters before the * or ?, "
                         f"or {_RAISE}")


def _words(count: int) -> str:
    return "word" if count == 1 else "words"


def check_fuzzy_expansion(word: str, count: int, max_expansions: int = MAX_EXPANSIONS) -> None:
    """Raise ``QueryError`` when the fuzzy word ``word`` (as typed, ``word~2``) matches more
    than ``max_expansions`` indexed words (``count``; the walk stops one past the cap)."""
    if count > max_expansions:
        raise QueryError(f"{shown(word)} matches more than {max_expansions:,} indexed {_words(max_expansions)} "
                         f"(max_expansions {max_expansions:,}): use fewer edits (word~1) or a longer word, "
                         f"or {_RAISE}")


def check_expansions(parsed: wq.Query, expand: Callable[[wq.Query, int, Deadline], set[bytes]], text: str,
                     max_expansions: int = MAX_EXPANSIONS, deadline: Deadline | None = None) -> None:
    """Raise ``QueryError`` when a prefix or wildcard of ``parsed`` expands to more than
    ``max_expansions`` words of the index in a field, or all of them together to more than
    ``total_expansions(max_expansions)``. ``expand(leaf, cap, deadline)`` is the engine's: the
    words a prefix or wildcard stands for, read only up to ``cap`` (one more than the cap), so
    this costs at most a cap's worth of term lookups, before any posting list is read; a
    wildcard's walk of the term table checks ``deadline``."""
    total = 0
    most = total_expansions(max_expansions)
    for leaf in _leaves(parsed):
        if type(leaf) not in (wq.Prefix, wq.Wildcard):
            continue
        words = expand(leaf, max_expansions + 1, deadline or NO_DEADLINE)
        check_expansion(_wildcard_word(leaf), len(words), max_expansions, leaf.fieldname)
        total += len(words)
        if total > most:
            raise QueryError(f"the prefixes and wildcards of query {shown(text)} match more than {most:,} "
                             f"indexed words together ({TOTAL_EXPANSIONS_FACTOR} x max_expansions "
                             f"{max_expansions:,}): type more letters before each * or ?, use fewer of them, "
                             f"or {_RAISE}")

