"""Snippets: fragments cut at word boundaries, with offsets that point at the matches."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.analysis import CompositeAnalyzer

import search
from search.analysis import text_analyzer
from search.indexing import update_index
from search.snippets import CHAR_LIMIT, _locate

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


_WORDS = ["levee", "levees", "Levee's", "the", "and", "held", "night", "Dawn", "dawns", "ÉTÉ", "été",
          "3.5", "x", "repairs", "failed", "watermark", "it’s", "z" * 70]
_TEXTS = st.lists(st.tuples(st.sampled_from(_WORDS), st.sampled_from([" ", "  ", ", ", ". ", "\n", "-", "—"])),
                  max_size=160).map(lambda pairs: "".join(word + gap for word, gap in pairs))


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.sets(st.sampled_from(_WORDS), min_size=1), st.integers(min_value=1, max_value=4))
def test_fragments_found_in_one_loop_are_whooshs(text: str, query: set[str], top: int) -> None:
    analyzer = text_analyzer()
    chain = CompositeAnalyzer(*analyzer.items)  # Whoosh's own path: a generator per step
    words = {token.text for word in query for token in chain(word, mode="query", removestops=False)}

    def cut(fragments: list[Any]) -> list[tuple[object, ...]]:
        return [(f.startchar, f.endchar, [(m.startchar, m.endchar, m.text) for m in f.matches]) for f in fragments]
    assert cut(_locate(text, frozenset(words), analyzer, top)) == cut(_locate(text, frozenset(words), chain, top))


def test_fragments_stop_where_whooshs_fragmenter_stops_reading() -> None:
    text = "filler " * (CHAR_LIMIT // 7) + "levee at the end"
    levee = frozenset({text_analyzer().word_term("levee")})
    assert _locate(text, levee, text_analyzer(), 2) == []
    assert _locate("levee " + text, levee, text_analyzer(), 2)
