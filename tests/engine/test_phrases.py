"""Phrases: positions decoded together as each alone, and the exact phrase rule."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.formats import Positions

from search.engine import phrases
from search.engine.phrases import adjacent, decode_positions, in_order, positions_of


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=0, max_value=70_000), min_size=1, max_size=12, unique=True)
                .map(sorted), max_size=40))
def test_positions_decoded_together_are_each_values_positions(lists: list[list[int]]) -> None:
    values = [Positions().encode(positions) for positions in lists]
    values[::3] = [value[:-1] for value in values[::3]]  # some stored without the pickle's STOP
    texts = [value.decode("latin-1") for value in values]  # as postings_and_values(as_text=True)
    assert positions_of(texts) == [decode_positions(value) for value in values] == lists


def test_positions_that_do_not_join_are_decoded_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    lists = [[3], [1, 4, 9], [70_000]]
    values = [Positions().encode(positions).decode("latin-1") for positions in lists]
    monkeypatch.setattr(phrases, "_LIST_END", b"")  # the joined pickle no longer parses
    assert phrases.positions_of(values) == lists
    monkeypatch.setattr(phrases, "_LIST_END", b"e0K\x01.")  # parses, as a number instead of a list
    assert phrases.positions_of(values) == lists


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=4, unique=True).map(sorted),
                min_size=2, max_size=4))
def test_exact_phrases_follow_the_ordered_span_rule_with_slop_one(positions: list[list[int]]) -> None:
    assert adjacent(positions) == in_order(positions, slop=1)
