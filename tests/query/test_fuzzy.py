"""Fuzzy words (search/fuzzy.py): matched as typed against the unstemmed word lists."""
from __future__ import annotations

from pathlib import Path

import pytest

import search
from search.query.fuzzy import MAX_FUZZY_DISTANCE, similar_words

from tests.conftest import article_text


def paths(results: search.Results) -> list[str]:
    return [hit.path for hit in results.hits]


def test_fuzzy_words_are_matched_as_typed_not_stemmed(tiny_index: search.Index) -> None:
    # "temperatues" stems to "temperatu", three edits from "temperatures" in the spelling list;
    # the word as typed is one edit away.
    assert paths(tiny_index.search("temperatues~")) == ["heatwave.md"]
    assert paths(tiny_index.search("evacuted~")) == ["flood.md"]


def test_similar_words_are_the_listed_words_within_the_distance(tiny_index: search.Index) -> None:
    searcher = tiny_index._searcher()
    assert "harbour" in similar_words(searcher, "harbor", 1, 0)
    assert "harbour" not in similar_words(searcher, "harb", 1, 0)  # three edits away
    assert "harbour" in similar_words(searcher, "harbr", 2, 0)
    assert "harbour" not in similar_words(searcher, "xarbour", 1, 1)  # the first letter must match
    assert similar_words(searcher, "harbour", 0, 0) == {"harbour"}  # the word itself, unstemmed
    assert all(word.islower() for word in similar_words(searcher, "strike", 2, 1))


def test_a_fuzzy_distance_above_the_limit_is_a_query_error(tiny_index: search.Index) -> None:
    with pytest.raises(search.QueryError, match=f"at most {MAX_FUZZY_DISTANCE} edits"):
        tiny_index.search(f"harbour~{MAX_FUZZY_DISTANCE + 1}")


def test_similar_words_over_several_segments_are_each_lists_matches(tmp_path: Path, tiny_corpus: Path) -> None:
    """One walk of the segments' spelling lists merged (issue 22) finds what Whoosh's
    ``terms_within`` finds in each list of each segment, together."""
    from whoosh.reading import IndexReader

    from search.index.update import update_index
    from search.query.fuzzy import SPELLING_FIELDS
    update_index(tmp_path / "ix", tiny_corpus)
    (tiny_corpus / "extra.md").write_text(article_text("Imigration office opens", "<p>Harbor immigrants queue.</p>"))
    update_index(tmp_path / "ix", tiny_corpus)  # a second segment
    with search.open_index(tmp_path / "ix") as ix:
        searcher = ix._searcher()
        assert len(searcher.reader().leaf_readers()) == 2
        for word, distance in (("immigraton", 1), ("imigration", 2), ("harbor", 1), ("opens", 2), ("zzzz", 1)):
            whooshs = {term.decode() if isinstance(term, bytes) else term for leaf, _ in searcher.reader().leaf_readers()
                       for field in SPELLING_FIELDS
                       for term in IndexReader.terms_within(leaf, field, word, distance)}
            assert similar_words(searcher, word, distance, 0) == whooshs, word
