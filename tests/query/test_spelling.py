"""Did you mean: words corrected as typed, nearest first, then by how many articles use them."""
from __future__ import annotations

import pytest

import search
from search.index.update import update_index

from tests.conftest import article_text

# Each body is one article; several articles share words so that the counts differ.
BODIES = {
    "a.md": "<p>Stocks fell as the corp reported losses.</p>",
    "b.md": "<p>Stock prices rose; the corp said so.</p>",
    "c.md": "<p>The shop stocked its shelves; corp news.</p>",
    "d.md": "<p>Stoke the fire, said the corp chairman.</p>",
    "e.md": "<p>Stoke City won at home.</p>",
    "f.md": "<p>Coffee harvests in Brazil.</p>",
    "g.md": "<p>A harbour pilot and a harbour master.</p>",
    "h.md": "<p>Flooding closed the harbour road in 2026.</p>",
    "i.md": "<p>The harbor was quiet.</p>",
}


@pytest.fixture(scope="module")
def words_index(tmp_path_factory: pytest.TempPathFactory) -> search.Index:
    root = tmp_path_factory.mktemp("spelling")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, body in BODIES.items():
        (corpus / name).write_text(article_text(f"Article {name[0]}", body), encoding="utf-8")
    update_index(root / "index", corpus)
    return search.open_index(root / "index")


def suggestion(ix: search.Index, query: str) -> str | None:
    return ix.search(query).suggestion


def test_the_nearest_word_wins_over_a_more_common_farther_one(words_index: search.Index) -> None:
    # "corp" (4 articles) is two edits from "coffe", "coffee" (1 article) one. Whoosh's corrector
    # compared the stem "coff" with the word lists and offered "corp".
    assert suggestion(words_index, "coffe") == "coffee"


def test_among_the_nearest_the_word_most_articles_use_wins_counting_its_stem(words_index: search.Index) -> None:
    # One edit from "stoks": "stocks" (its stem "stock" is in a, b and c) and "stoke" (d and e).
    # Counted as typed, "stocks" is in one article only.
    assert suggestion(words_index, "stoks") == "stocks"


def test_a_correction_keeps_the_rest_of_the_query_and_the_case_typed(words_index: search.Index) -> None:
    assert suggestion(words_index, 'Harbur "pilot" date:2026') == 'Harbour "pilot" date:2026'
    assert suggestion(words_index, "HARBUR road") == "HARBOUR road"
    assert suggestion(words_index, '"harbour pilut"') == '"harbour pilot"'
    # No title holds "harbour": only the word searched in every field is corrected.
    assert suggestion(words_index, "title:harbur OR harbur") == "title:harbur OR harbour"
    assert suggestion(words_index, "body:harbur") == "body:harbour"
    # Whoosh merges a repeated word into one term: each place it was typed is corrected.
    assert suggestion(words_index, "harbur pilot harbur") == "harbour pilot harbour"


def test_excluded_words_prefixes_and_numbers_are_left_as_typed(words_index: search.Index) -> None:
    assert suggestion(words_index, "harbour -stoks") is None
    assert suggestion(words_index, "harbour NOT stoks") is None
    assert suggestion(words_index, "harbu* 2025") is None


def test_a_word_the_index_knows_is_not_corrected_while_the_query_finds_enough(words_index: search.Index) -> None:
    assert suggestion(words_index, "harbour") is None
    assert suggestion(words_index, "stocks") is None
    # "harbor" is in one article (fewer than three), "harbour" one edit away in two: offered.
    assert words_index.search("harbor").total == 1
    assert suggestion(words_index, "harbor") == "harbour"
    # A known word is corrected within one edit only: "brazil" has no neighbour, and "stoke"
    # (two articles) is two edits from "stocks" and "stock".
    assert suggestion(words_index, "brazil") is None
    assert suggestion(words_index, "stoke") is None


def test_nothing_is_offered_when_nothing_is_close(words_index: search.Index) -> None:
    assert suggestion(words_index, "qqqqqq") is None
    assert suggestion(words_index, "harbour") is None


def test_short_words_get_fewer_edits(words_index: search.Index) -> None:
    # As Elasticsearch's AUTO fuzziness: two edits only from six letters on, none below three.
    assert suggestion(words_index, "stoxx") is None  # five letters, two edits from "stock"
    assert suggestion(words_index, "cofe") is None  # two edits from "coffee"
    assert suggestion(words_index, "cofee") == "coffee"  # one edit
    assert suggestion(words_index, "pilut") == "pilot"
    assert suggestion(words_index, "cofffe") == "coffee"  # six letters: two edits allowed
    assert suggestion(words_index, "xo") is None


def test_did_you_mean(tiny_index: search.Index) -> None:
    results = tiny_index.search("inflaton")
    assert results.total == 0
    assert results.suggestion == "inflation"
    assert tiny_index.search("inflation").suggestion is None


def test_did_you_mean_for_an_unknown_word_even_when_others_match(tiny_index: search.Index) -> None:
    results = tiny_index.search("levee breech")
    assert results.total == 1  # "levee" alone matches
    assert results.suggestion == "levee breach"
    assert tiny_index.search("levee breach").suggestion is None


def test_a_known_word_is_offered_only_if_the_correction_finds_more_within_the_filters(
        words_index: search.Index) -> None:
    # Every article is dated 2026-01-08: before that, "harbour" finds no more than "harbor".
    assert words_index.search("harbor", since="2026-01-01").suggestion == "harbour"
    assert words_index.search("harbor", until="2025-12-31").suggestion is None
    # A word no article holds is misspelled whatever the filters: it is corrected.
    assert words_index.search("coffe", until="2025-12-31").suggestion == "coffee"
