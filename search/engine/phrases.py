"""Phrases: the positions of a phrase's words in an article, and whether they follow each other.

Parts:
- ``has_positions``: whether a field keeps word positions (phrases can be checked on it).
- ``decode_positions`` / ``positions_of``: the positions in one posting value (Whoosh's
  ``Positions`` format: a count, then a pickled list of gaps), or in many at once.
- ``adjacent`` / ``in_order``: Whoosh's phrase rule on position lists, exact or with slop.

``evaluation`` finds the articles holding every word of a phrase, reads their positions
(``postings``) and keeps those where ``adjacent`` or ``in_order`` holds.
"""
from __future__ import annotations

import pickle
from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

# The bytes of a positions value before its pickled gaps (``Positions.encode``'s count).
_COUNT_SIZE = 4
# What encloses pickled lists in one list: PROTO 2, EMPTY_LIST, MARK ... APPENDS, STOP.
_LIST_START = b"\x80\x02]("
_LIST_END = b"e."


def has_positions(schema: Any, fieldname: str) -> bool:
    """Whether phrases on the field can be checked here (else Whoosh raises its own error)."""
    return fieldname in schema and bool(schema[fieldname].format) and schema[fieldname].format.supports("positions")


def decode_positions(value: bytes) -> list[int]:
    """``Positions.decode_positions`` with the running sum in C: a count, then pickled gaps."""
    return list(accumulate(pickle.loads(value[_COUNT_SIZE:] if value.endswith(b".") else value[_COUNT_SIZE:] + b".")))


def positions_of(values: list[str]) -> list[list[int]]:
    """``decode_positions`` of many values (as latin-1 text) with one ``pickle.loads``.

    Each value is a count, then a protocol-2 pickle of a list of gaps; unpickling them one by
    one cost more in starting the unpickler than in reading them. Joined (count and final STOP
    left out) between the opcodes of an enclosing list, they come back as a list of gap lists.
    Anything unexpected decodes the values one by one.
    """
    body = "".join([value[_COUNT_SIZE:-1] if value.endswith(".") else value[_COUNT_SIZE:] for value in values])
    try:
        gaps = pickle.loads(_LIST_START + body.encode("latin-1") + _LIST_END)
    except Exception:  # not the layout above: decode each value on its own
        gaps = None
    if type(gaps) is not list or len(gaps) != len(values) or not all(type(each) is list for each in gaps):
        return [decode_positions(value.encode("latin-1")) for value in values]
    return [each if len(each) == 1 else list(accumulate(each)) for each in gaps]


def adjacent(positions: Sequence[list[int]]) -> bool:
    """``in_order`` for slop 1 (an exact phrase): each word right after the one before it."""
    if len(positions) == 2:  # most phrases are two words, and most words occur once in an article
        first, second = positions
        if len(first) == 1 and len(second) == 1:
            return first[0] + 1 == second[0]
        return not set(first).isdisjoint([position - 1 for position in second])
    starts = set(positions[0])
    for offset, following in enumerate(positions[1:], 1):
        starts.intersection_update([position - offset for position in following])
        if not starts:
            return False
    return True


def in_order(positions: Sequence[list[int]], slop: int) -> bool:
    """Whoosh's ``SpanNear2`` (ordered, mindist 1) on position lists: whether each word follows
    the span of the words before it by 1 to ``slop`` positions."""
    spans = [(position, position) for position in positions[0]]
    for following in positions[1:]:
        joined: set[tuple[int, int]] = set()
        for start, end in spans:
            j = bisect_left(following, start)
            while j < len(following):
                position = following[j]
                j += 1
                if position < start:
                    continue
                if position > end + slop:
                    break
                distance = 0 if start <= position <= end else position - end
                if 1 <= distance <= slop:
                    joined.add((start, max(end, position)))
        if not joined:
            return False
        spans = sorted(joined)
    return True
