"""Scores of whole posting lists (search/scores.py) against Whoosh's own scorers."""
from __future__ import annotations

import pytest
from whoosh import query as wq

import search
from search.engine.postings import Segment
from search.query.ranking import FieldsTerm
from search.index.schema import FIELD_WEIGHTS
from search.engine.scoring import best, bm25, coordinate, feedback_bonus, fields_term


def _segment(index: search.Index) -> tuple[object, Segment]:
    searcher = index._searcher()
    leaf, offset = searcher.leaf_searchers()[0]
    return searcher, Segment(leaf, offset)


def _whoosh_scores(searcher: object, query: wq.Query) -> dict[int, float]:
    matcher = query.matcher(searcher, searcher.context(needs_current=True))  # type: ignore[attr-defined]
    found = {}
    while matcher.is_active():
        found[matcher.id()] = matcher.score()
        matcher.next()
    return found


@pytest.mark.parametrize(("field", "word", "boost"), [("body", "fire", 1.0), ("title", "strike", 2.5), ("tags", "mayor", 3.0)])
def test_bm25_of_a_list_is_whooshs_score_per_document(sample_index: search.Index, field: str, word: str,
                                                     boost: float) -> None:
    searcher, segment = _segment(sample_index)
    text = word.encode()
    ids, weights = segment.postings(field, text)
    assert ids, f"{field}:{word} should be in the sample corpus"
    expected = _whoosh_scores(searcher, wq.Term(field, word, boost=boost))
    assert bm25(searcher, segment, field, text, boost, ids, weights) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("word", ["fire", "strike", "harbour"])
def test_fields_term_is_rankings_bm25f_matcher(sample_index: search.Index, word: str) -> None:
    searcher, segment = _segment(sample_index)
    terms = [wq.Term(field, word, boost=weight) for field, weight in FIELD_WEIGHTS.items()]
    node = FieldsTerm(terms, qtf=2)
    lists = [(term.fieldname, *segment.postings(term.fieldname, word.encode())) for term in terms]
    lists = [entry for entry in lists if entry[1]]
    expected = _whoosh_scores(searcher, node)
    assert expected and fields_term(searcher, segment, node, lists) == pytest.approx(expected, rel=1e-9)


def test_feedback_bonus_counts_only_the_matches(sample_index: search.Index) -> None:
    searcher, segment = _segment(sample_index)
    extra = [wq.Term("body", "fire", boost=0.3), wq.Term("body", "residents", boost=0.2)]
    fire = _whoosh_scores(searcher, extra[0])
    residents = _whoosh_scores(searcher, extra[1])
    base = dict.fromkeys(list(fire)[:3] + list(residents)[-2:], 1.0)
    bonus = feedback_bonus(searcher, segment, extra, base, None)
    assert set(bonus) <= set(base) and bonus
    for docnum, value in bonus.items():
        assert value == pytest.approx(fire.get(docnum, 0.0) + residents.get(docnum, 0.0), rel=1e-12)
    assert feedback_bonus(searcher, segment, extra, base, sorted(base)) == bonus  # blocks skipped: same


def test_coordinate_rewards_each_more_term_as_whoosh_does() -> None:
    scores = {1: 1.0, 2: 1.0}
    assert coordinate(scores, {1: 1, 2: 3}, termcount=3, scale=0.9) == pytest.approx(
        {1: 1.0 * 2 / 3, 2: (1.0 + 2 / (3 - 0.9) ** 2) * 2 / 3})
    assert coordinate(scores, {1: 1, 2: 1}, termcount=1, scale=1) == {1: 0.0, 2: 0.0}


def test_best_breaks_ties_by_document_number() -> None:
    scores = {7: 1.0, 3: 2.0, 5: 1.0, 1: 1.0, 9: 0.5}
    assert best(scores, 3) == [(3, 2.0), (1, 1.0), (5, 1.0)]
    assert best(scores, 10) == [(3, 2.0), (1, 1.0), (5, 1.0), (7, 1.0), (9, 0.5)]
    assert best({}, 3) == [] and best(scores, 0) == []
    ties = {docnum: 1.0 for docnum in range(100, 0, -1)} | {50: 2.0}
    assert best(ties, 3) == [(50, 2.0), (1, 1.0), (2, 1.0)]
