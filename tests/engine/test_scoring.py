"""Scores of whole posting lists (search/engine/scoring.py) against Whoosh's own scorers."""
from __future__ import annotations

import numpy as np
import pytest
from whoosh import query as wq

import search
from search.engine.evaluator import Evaluator
from search.engine.scoring import accumulate, best, bm25, coordinate, fields_term
from search.engine.segment import SegmentView
from search.index.schema import FIELD_WEIGHTS
from search.query.ranking import FieldsTerm


def _segment(index: search.Index) -> tuple[Evaluator, SegmentView]:
    evaluator = Evaluator(index._searcher())
    return evaluator, evaluator.segments[0]


def _whoosh_scores(searcher: object, query: wq.Query) -> dict[int, float]:
    matcher = query.matcher(searcher, searcher.context(needs_current=True))  # type: ignore[attr-defined]
    found = {}
    while matcher.is_active():
        found[matcher.id()] = matcher.score()
        matcher.next()
    return found


def _postings(segment: SegmentView, field: str, word: str) -> tuple[np.ndarray, np.ndarray]:
    entry = segment.term(field, word.encode())
    if entry is None:
        return np.empty(0, np.int64), np.empty(0)
    docs, weights, _numbers = segment.postings(*entry)
    return docs, weights


@pytest.mark.parametrize(("field", "word", "boost"), [("body", "fire", 1.0), ("title", "strike", 2.5), ("tags", "mayor", 3.0)])
def test_bm25_of_a_list_is_whooshs_score_per_document(sample_index: search.Index, field: str, word: str,
                                                     boost: float) -> None:
    evaluator, segment = _segment(sample_index)
    docs, weights = _postings(segment, field, word)
    assert len(docs), f"{field}:{word} should be in the sample corpus"
    expected = _whoosh_scores(evaluator.searcher, wq.Term(field, word, boost=boost))
    found = bm25(evaluator.stats, segment, field, word.encode(), boost, docs, weights)
    assert dict(zip(docs.tolist(), found.tolist())) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("word", ["fire", "strike", "harbour"])
def test_fields_term_is_rankings_bm25f_matcher(sample_index: search.Index, word: str) -> None:
    evaluator, segment = _segment(sample_index)
    terms = [wq.Term(field, word, boost=weight) for field, weight in FIELD_WEIGHTS.items()]
    node = FieldsTerm(terms, qtf=2)
    lists = [(term.fieldname, word.encode(), *_postings(segment, term.fieldname, word)) for term in terms]
    lists = [entry for entry in lists if len(entry[2])]
    expected = _whoosh_scores(evaluator.searcher, node)
    docs, scores = fields_term(evaluator.stats, segment, node, lists)
    assert expected and dict(zip(docs.tolist(), scores.tolist())) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("dense", [True, False])
def test_sums_add_the_parts_in_their_order(dense: bool) -> None:
    parts = [(np.array([1, 4, 7]), np.array([0.1, 0.2, 0.3])), (np.array([4, 5]), np.array([1e-17, 2.0])),
             (np.array([1]), np.array([0.7]))]
    docs, sums = accumulate(parts, 8 if dense else 1000)
    assert docs.tolist() == [1, 4, 5, 7]
    assert sums.tolist() == [0.1 + 0.7, 0.2 + 1e-17, 2.0, 0.3]  # the same floats, bit for bit


def test_coordinate_rewards_each_more_term_as_whoosh_does() -> None:
    scores = np.array([1.0, 1.0])
    assert coordinate(scores, np.array([1, 3]), termcount=3, scale=0.9).tolist() == pytest.approx(
        [1.0 * 2 / 3, (1.0 + 2 / (3 - 0.9) ** 2) * 2 / 3])
    assert coordinate(scores, np.array([1, 1]), termcount=1, scale=1).tolist() == [0.0, 0.0]


def test_best_breaks_ties_by_document_number() -> None:
    scores = {7: 1.0, 3: 2.0, 5: 1.0, 1: 1.0, 9: 0.5}
    docs, values = np.array(list(scores)), np.array(list(scores.values()))

    def top(count: int, docs: np.ndarray = docs, values: np.ndarray = values) -> list[tuple[int, float]]:
        found, kept = best(docs, values, count)
        return list(zip(found.tolist(), kept.tolist()))
    assert top(3) == [(3, 2.0), (1, 1.0), (5, 1.0)]
    assert top(10) == [(3, 2.0), (1, 1.0), (5, 1.0), (7, 1.0), (9, 0.5)]
    assert top(0) == [] and top(3, docs[:0], values[:0]) == []
    ties = np.arange(100, 0, -1)
    tied = np.where(ties == 50, 2.0, 1.0)
    assert top(3, ties, tied) == [(50, 2.0), (1, 1.0), (2, 1.0)]
