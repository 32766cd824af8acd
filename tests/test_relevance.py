"""Relevance: the measures of benchmarks/relevance.py, its evaluation, and the feedback ranking."""
from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import search
from search.pipeline import SearchOptions, run_search
from search.query.language import parse_query
from search.query.ranking import FeedbackBoost, add_feedback, plain_words
from search.index.schema import SEARCH_FIELDS, build_schema

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
TIME = SHARED / "corpora" / "time"


def _load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("relevance", ROOT / "benchmarks" / "relevance.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["relevance"] = module
    spec.loader.exec_module(module)
    return module


relevance = _load_benchmark()

# One query: five documents retrieved; a, c relevant (a twice as relevant in the graded case),
# f relevant but never retrieved.
RANKING = ["a", "b", "c", "d", "e"]
JUDGED = {"a": 1, "c": 1, "f": 1, "b": 0}


def test_average_precision_counts_unretrieved_relevant_documents() -> None:
    assert relevance.average_precision(RANKING, JUDGED) == pytest.approx((1 / 1 + 2 / 3) / 3)
    assert relevance.average_precision(RANKING, {"z": 0}) == 0.0
    assert relevance.average_precision([], JUDGED) == 0.0


def test_precision_at_k_divides_by_k_even_when_fewer_were_retrieved() -> None:
    assert relevance.precision_at(RANKING, JUDGED) == pytest.approx(0.2)
    assert relevance.precision_at(RANKING, JUDGED, 2) == pytest.approx(0.5)


def test_ndcg_at_10_binary_and_graded() -> None:
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert relevance.ndcg_at(RANKING, JUDGED) == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    graded = {**JUDGED, "a": 2}
    assert relevance.ndcg_at(RANKING, graded) == pytest.approx((2 + 0.5) / (2 + 1 / math.log2(3) + 0.5))
    assert relevance.ndcg_at(["c", "a", "f"], JUDGED) == pytest.approx(1.0)


def test_scores_average_over_queries_that_have_relevant_documents() -> None:
    runs = {"1": RANKING, "2": ["x"], "3": ["y"]}
    qrels = {"1": JUDGED, "2": {"x": 1}, "3": {"y": 0}}
    result = relevance.score_runs("engine", runs, qrels)
    assert result.queries == 2
    assert result.map == pytest.approx(((1 + 2 / 3) / 3 + 1) / 2)
    assert result.p10 == pytest.approx((0.2 + 0.1) / 2)


def test_reading_queries_and_qrels(tmp_path: Path) -> None:
    (tmp_path / "q.tsv").write_text("1\tLEVEE BREACH .\n\n2\tsecond query\n", encoding="utf-8")
    (tmp_path / "qrels").write_text("1 0 flood 1\n1 0 heatwave 0\n2 0 x 2\n", encoding="utf-8")
    assert relevance.read_queries(tmp_path / "q.tsv") == [("1", "LEVEE BREACH ."), ("2", "second query")]
    assert relevance.read_qrels(tmp_path / "qrels") == {"1": {"flood": 1, "heatwave": 0}, "2": {"x": 2}}


def test_sanitize_leaves_plain_lower_case_words() -> None:
    assert relevance.sanitize('NOT "U.S . AID" (TO) title:X* -Y ~2 ^3 AND OR') == "not u.s aid to title x y 2 3 and or"
    assert relevance.sanitize("VIET NAM'S COUP .") == "viet nam's coup"
    assert relevance.sanitize(" ( ) ") == ""


def test_evaluation_on_a_tiny_corpus(tiny_corpus: Path, tmp_path: Path) -> None:
    queries = [("1", "HARBOUR STRIKE PAY ."), ("2", "LEVEE BREACH"), ("3", "INTEREST RATES (INFLATION)")]
    qrels = {"1": {"transit-strike": 2, "strike-day-two": 1}, "2": {"flood": 1}, "3": {"bank-rates": 1}}
    results = {r.engine: r for r in relevance.evaluate(tiny_corpus, queries, qrels, ["newsearch", "fts5"])}
    for engine in ("newsearch", "fts5"):
        assert results[engine].queries == 3
        assert results[engine].map == pytest.approx(1.0)
        assert results[engine].ndcg10 == pytest.approx(1.0)
        assert results[engine].p10 == pytest.approx(4 / 30)
    with pytest.raises(ValueError, match="unknown engine"):
        relevance.evaluate(tiny_corpus, queries, qrels, ["lucene"])


def test_an_engine_that_is_not_installed_is_skipped(tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tantivy", None)  # makes "import tantivy" raise ImportError
    [result] = relevance.evaluate(tiny_corpus, [("1", "levee")], {"1": {"flood": 1}}, ["tantivy"])
    assert result.skipped and "not installed" in result.skipped
    assert "skipped" in relevance.format_table([result])


def test_feedback_applies_only_to_plain_words() -> None:
    schema = build_schema()
    assert plain_words(parse_query("harbour strikes", schema), SEARCH_FIELDS) == ["harbour", "strike"]
    for text in ('"harbour line"', "harbour^2 strike", "title:harbour", "harbour -strike", "harb*",
                 "harbour AND strike", "source:ledger rates"):
        assert plain_words(parse_query(text, schema), SEARCH_FIELDS) is None, text


def test_feedback_reorders_but_never_adds_matches_or_highlights(tiny_index: search.Index) -> None:
    from search.engine.evaluator import Evaluator

    searcher = tiny_index._searcher()
    evaluator = Evaluator(searcher)
    engine = {"top_docs": lambda query, count: evaluator.top(query, count)[1], "doc_frequency": evaluator.doc_frequency}
    with_feedback = run_search(searcher, "strike", SearchOptions(limit=10))
    without = run_search(searcher, "strike", SearchOptions(limit=10, feedback=False))
    assert with_feedback.total == without.total
    assert {hit.path for hit in with_feedback.hits} == {hit.path for hit in without.hits}
    for hit in with_feedback.hits:
        for snippet in hit.snippets:
            assert all(snippet.text[start:end].lower().startswith("strike") for start, end in snippet.spans)
    assert isinstance(add_feedback(searcher, parse_query("strike", searcher.schema), SEARCH_FIELDS, **engine),
                      FeedbackBoost)
    assert not isinstance(add_feedback(searcher, parse_query('"harbour line"', searcher.schema), SEARCH_FIELDS,
                                       **engine), FeedbackBoost)


@pytest.mark.skipif(not TIME.is_dir(), reason="needs ../shared/corpora/time")
def test_time_collection(tmp_path: Path) -> None:
    """The figures on TIME stay at their measured level (benchmarks/RESULTS.md, "Relevance"):
    with the corrected judgments the defaults measure MAP 0.725, P@10 0.304; the floor is a
    little under them, so a change that costs ranking fails here."""
    corpus = tmp_path / "time"
    subprocess.run([sys.executable, str(SHARED / "tools" / "make_corpus.py"), "time", str(TIME), str(corpus)],
                   check=True, capture_output=True)
    [result] = relevance.evaluate(corpus, TIME / "queries.tsv", TIME / "qrels.txt", ["newsearch"], time_top10=False)
    assert result.queries == 83
    assert result.map >= 0.71
    assert result.p10 >= 0.295
