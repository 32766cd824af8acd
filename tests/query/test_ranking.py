"""Ranking: a word typed several times in a plain query counts that many times (query_repeats)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from search.pipeline import SearchOptions, run_search
from search.query.language import parse_query
from search.query.ranking import FieldsTerm, combine_fields, query_repeats
from search.index.schema import SEARCH_FIELDS, build_schema
from search.whoosh_internals.reading import create_whoosh


@pytest.fixture
def searcher(tmp_path: Path) -> Iterator[Any]:
    ix = create_whoosh(str(tmp_path), build_schema())  # on disk: the engine reads its columns
    with ix.writer() as writer:
        writer.add_document(id="wheat", path="wheat.md", title="Harvest", body="Wheat harvest report.")
        writer.add_document(id="grain", path="grain.md", title="Deals", body="Grain deals report.")
    with ix.searcher() as opened:
        yield opened


def test_repeats_count_the_index_terms_of_a_plain_query(searcher: Any) -> None:
    text = "Wheat exports, wheats and grain"
    parsed = parse_query(text, searcher.schema)
    assert query_repeats(searcher, text, parsed, SEARCH_FIELDS) == {"wheat": 2}
    assert query_repeats(searcher, "wheat grain", parse_query("wheat grain", searcher.schema), SEARCH_FIELDS) == {}
    # Syntax other than plain words says by itself how much each part weighs.
    for syntax in ("title:wheat wheat", '"wheat grain" wheat', "wheat^2 wheat"):
        assert query_repeats(searcher, syntax, parse_query(syntax, searcher.schema), SEARCH_FIELDS) == {}


def test_a_repeated_word_weighs_more(searcher: Any) -> None:
    parsed = parse_query("grain wheat grain", searcher.schema)
    combined = combine_fields(parsed, query_repeats(searcher, "grain wheat grain", parsed, SEARCH_FIELDS))
    assert sorted((term.terms[0].text, term.qtf) for term in combined.subqueries
                  if isinstance(term, FieldsTerm)) == [("grain", 2), ("wheat", 1)]
    for text, first in (("grain wheat grain", "grain"), ("wheat grain wheat", "wheat")):
        for feedback in (True, False):
            hits = run_search(searcher, text, SearchOptions(feedback=feedback)).hits
            assert [hit.id for hit in hits][0] == first
            assert len(hits) == 2  # repeats rank matches; they never add or drop any


def test_feedback_counts_terms_as_the_analyzers_tokens_do() -> None:
    """Feedback counts an article's terms from the analyzer's word positions: the same counts
    as its token stream, stop words left out, on every bundled article."""
    from collections import Counter

    from search.analysis.text import STOP_WORDS
    from search.query.ranking import _term_counts
    from tests.conftest import SAMPLE_CORPUS

    analyzer = build_schema()["body"].analyzer
    checked = 0
    for path in sorted(SAMPLE_CORPUS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        expected = Counter(token.text for token in analyzer(text) if token.text not in STOP_WORDS)
        assert _term_counts(analyzer, text) == dict(expected), path.name
        assert "the" in text.lower().split()  # there were stop words to leave out
        checked += 1
    assert checked >= 50
