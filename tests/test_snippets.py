"""Snippets: fragments cut at word boundaries, with offsets that point at the matches."""
from __future__ import annotations

from pathlib import Path

import search
from search.indexing import update_index

from .conftest import article_text

LONG_BODY = "<p>" + " ".join(f"filler{n}" for n in range(120)) + " the levee failed at dawn. " + \
            " ".join(f"more{n}" for n in range(120)) + "</p><p>Second paragraph about the levee repairs.</p>"


def index_one(tmp_path: Path, title: str, body: str, **fields: object) -> search.Index:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.md").write_text(article_text(title, body, **fields))  # type: ignore[arg-type]
    update_index(tmp_path / "ix", corpus)
    return search.open_index(tmp_path / "ix")


def test_fragments_point_at_the_matched_words_and_mark_cuts(tmp_path: Path) -> None:
    hit = index_one(tmp_path, "Town news", LONG_BODY).search("levees").hits[0]
    assert 1 <= len(hit.snippets) <= 3
    for snippet in hit.snippets:
        assert snippet.spans
        assert all(snippet.text[a:b].lower() == "levee" for a, b in snippet.spans)
        assert "\n" not in snippet.text
    first = hit.snippets[0]
    assert first.text.startswith("…") and first.text.endswith("…")
    assert not first.text[1].isspace()


def test_a_fragment_reaching_the_end_has_no_ellipsis_and_keeps_its_full_stop(tmp_path: Path) -> None:
    hit = index_one(tmp_path, "Levee", "<p>The levee held all night.</p>").search("night").hits[0]
    assert hit.snippets[0].text == "The levee held all night."


def test_title_only_match_shows_the_opening_and_title_spans(tmp_path: Path) -> None:
    ix = index_one(tmp_path, "Heatwave grips the valley", "<p>Temperatures rose again on Monday.</p>",
                   description="A hot week.")
    hit = ix.search("heatwave").hits[0]
    assert hit.title_spans == ((0, 8),)
    assert hit.snippets[0].field == "description" and hit.snippets[0].spans == ()
    assert hit.snippets[0].text == "A hot week."


def test_prefix_matches_are_highlighted_too(tmp_path: Path) -> None:
    hit = index_one(tmp_path, "x", "<p>The inflation figures surprised economists.</p>").search("inflat*").hits[0]
    (start, end), = hit.snippets[0].spans
    assert hit.snippets[0].text[start:end] == "inflation"
