"""The plan of one query: everything the later stages need, made once from the query's text.

Query text -> ``QueryPlan`` -> engine -> results: the text is parsed once (``language``), its
costs checked (``limits``), its fuzzy words expanded (``fuzzy``), and the plan carries the
query as searched, the words as typed with their places in the text (for did-you-mean), the
fields searched, the date restriction and the deadline. Suggestion, feedback, evaluation and
snippets read the plan instead of parsing the text again.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from whoosh import query as wq

from search.query import limits
from search.query.fuzzy import expand_fuzzy
from search.query.language import parse_both


@dataclass(frozen=True)
class QueryPlan:
    """One query, planned: what is searched and what the user typed."""

    text: str
    query: wq.Query  # as searched: repeated words merged, fuzzy words expanded
    typed: wq.Query  # as typed: every word with its place in ``text``
    fields: tuple[str, ...]
    restriction: wq.Query | None  # since / until, ANDed with the query
    deadline: limits.Deadline


def plan_query(text: str, searcher: Any, fields: tuple[str, ...], restriction: wq.Query | None,
               timeout: float | None, expansion_words: Callable[[wq.Query, int, limits.Deadline], set[bytes]],
               now: datetime | None = None, max_expansions: int = limits.MAX_EXPANSIONS) -> QueryPlan:
    """Parse, check and expand ``text`` once; ``QueryError`` for what cannot be searched.

    ``expansion_words`` is the engine's (how many words a prefix reaches); the deadline starts
    after parsing, as the first parse of a process also loads the stemmer, a cost of start-up.
    ``max_expansions`` caps each prefix, wildcard and fuzzy word (``limits``).
    """
    merged, typed = parse_both(text, searcher.schema, now, fields)
    limits.check_parsed(merged, text)
    deadline = limits.Deadline(timeout, text)
    limits.check_expansions(merged, expansion_words, text, max_expansions, deadline)
    return QueryPlan(text, expand_fuzzy(merged, searcher, deadline, max_expansions), typed, fields, restriction,
                     deadline)
