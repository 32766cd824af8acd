"""Phrases: positions decoded together as each alone, and the exact phrase rule."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.formats import Positions

from itertools import accumulate

from search.engine import columns
from search.engine.columns import decode_gap_lists
from search.engine.phrases import adjacent, in_order


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=0, max_value=70_000), min_size=1, max_size=12, unique=True)
                .map(sorted), max_size=40))
def test_positions_decoded_together_are_each_values_positions(lists: list[list[int]]) -> None:
    """The columns writer decodes Whoosh's position values in one pickle: the gaps of each."""
    values = [Positions().encode(positions) for positions in lists]
    values[::3] = [value[:-1] for value in values[::3]]  # some stored without the pickle's STOP
    gaps = decode_gap_lists(values)
    assert [list(accumulate(each)) for each in gaps] == lists


def test_positions_that_do_not_join_are_decoded_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    lists = [[3], [1, 4, 9], [70_000]]
    values = [Positions().encode(positions) for positions in lists]
    monkeypatch.setattr(columns, "_LIST_END", b"")  # the joined pickle no longer parses
    assert [list(accumulate(each)) for each in columns.decode_gap_lists(values)] == lists


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=4, unique=True).map(sorted),
                min_size=2, max_size=4))
def test_exact_phrases_follow_the_ordered_span_rule_with_slop_one(positions: list[list[int]]) -> None:
    assert adjacent(positions) == in_order(positions, slop=1)
