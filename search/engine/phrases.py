"""Phrases: whether a phrase's words follow each other in an article, from their positions.

Parts:
- ``exact_phrase_rows``: for many candidate articles at once (numpy), whether the words sit at
  consecutive positions (``"bank of japan"``: a start where word k sits k on, for every k).
- ``sloppy_phrase_rows``: the same within ``slop`` positions, in order (``"interest rates"~3``),
  checked candidate by candidate with ``in_order``.
- ``adjacent`` / ``in_order``: the rule on position lists, exact or with slop (Whoosh's
  ordered ``SpanNear2``).
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import numpy as np

from search.engine.columns import FieldColumns, gather

# Phrase positions are joined with their candidate's number as one key: candidate * _KEY + pos.
_KEY = np.int64(1 << 32)


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


def exact_phrase_rows(postings: FieldColumns, numbers: Sequence[np.ndarray]) -> np.ndarray:
    """For each candidate (the words' posting numbers, one row per candidate), whether the words
    follow each other exactly: a start where word k sits k positions on, for every k."""
    assert postings.pos_starts is not None and postings.positions is not None
    keys = None
    for offset, rows in enumerate(numbers):
        starts = postings.pos_starts[rows]
        lengths = postings.pos_starts[rows + 1] - starts
        owner = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
        flat = gather(starts, lengths)
        word_keys = np.unique(owner * _KEY + (postings.positions[flat].astype(np.int64) - offset))
        keys = word_keys if keys is None else np.intersect1d(keys, word_keys, assume_unique=True)
    found = np.zeros(len(numbers[0]), dtype=bool)
    if keys is not None and len(keys):
        found[np.unique(keys // _KEY)] = True
    return found


def sloppy_phrase_rows(postings: FieldColumns, numbers: Sequence[np.ndarray], slop: int) -> np.ndarray:
    """For each candidate, whether each word follows the span of those before it by 1 to
    ``slop`` positions (Whoosh's ordered ``SpanNear2``), checked candidate by candidate."""
    assert postings.pos_starts is not None and postings.positions is not None
    starts, positions = postings.pos_starts, postings.positions
    found = np.zeros(len(numbers[0]), dtype=bool)
    for candidate in range(len(numbers[0])):
        lists = [positions[starts[rows[candidate]]:starts[rows[candidate] + 1]].tolist() for rows in numbers]
        found[candidate] = in_order(lists, slop)
    return found
