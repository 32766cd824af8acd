"""Snippets: fragments cut at word boundaries, with offsets that point at the matches."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.analysis import CompositeAnalyzer
from whoosh.highlight import ContextFragmenter, set_matched_filter

import search
from search.analysis.text import text_analyzer
from search.index.update import update_index
from search.present.snippets import (
    CHAR_LIMIT,
    CONTEXT_CHARS,
    FRAGMENT_CHARS,
    _locate,
    _prose_fragments,
    _spans,
    word_spans,
)

from tests.conftest import article_text

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


@settings(max_examples=500, deadline=None)
@given(_TEXTS, st.sets(st.sampled_from(_WORDS), min_size=1), st.integers(min_value=1, max_value=4))
def test_fragments_found_in_one_loop_are_whooshs(text: str, query: set[str], top: int) -> None:
    analyzer = text_analyzer()
    chain = CompositeAnalyzer(*analyzer.items)  # Whoosh's own path: a generator per step
    words = {token.text for word in query for token in chain(word, mode="query", removestops=False)}

    def cut(fragments: list[Any]) -> list[tuple[object, ...]]:
        return [(f.startchar, f.endchar, [(m.startchar, m.endchar, m.text) for m in f.matches]) for f in fragments]
    assert cut(_locate(text, frozenset(words), analyzer, top)) == cut(_locate(text, frozenset(words), chain, top))
    # Every fragment, not only the best: Whoosh's fragmenter over Whoosh's tokens.
    fragmenter = ContextFragmenter(maxchars=FRAGMENT_CHARS, surround=CONTEXT_CHARS)
    tokens = set_matched_filter(chain(text, chars=True, mode="query", removestops=False), frozenset(words))
    whoosh = [f for f in fragmenter.fragment_tokens(text, tokens) if f.matches]
    assert cut(_prose_fragments(text, frozenset(words), analyzer)) == cut(whoosh)


def test_fragments_stop_where_whooshs_fragmenter_stops_reading() -> None:
    text = "filler " * (CHAR_LIMIT // 7) + "levee at the end"
    levee = frozenset({text_analyzer().word_term("levee")})
    assert _locate(text, levee, text_analyzer(), 2) == []
    assert _locate("levee " + text, levee, text_analyzer(), 2)


@pytest.mark.parametrize("shift", [0, 3, 20, 40, 70, 130])
def test_a_fragment_open_where_the_fragmenter_stops_reading_ends_as_whooshs(shift: int) -> None:
    analyzer = text_analyzer()
    chain = CompositeAnalyzer(*analyzer.items)
    text = "x" * (CHAR_LIMIT - 30 - shift) + " levee " + "held " * 40
    levee = frozenset({analyzer.word_term("levee")})

    def cut(fragments: list[Any]) -> list[tuple[int, int]]:
        return [(f.startchar, f.endchar) for f in fragments]
    assert cut(_locate(text, levee, analyzer, 2)) == cut(_locate(text, levee, chain, 2))


@pytest.mark.parametrize("between", ["ccccc", "", "ccccc ddddd", "levee"])
def test_a_fragment_ending_exactly_on_its_countdown_is_followed_as_whoosh_does(between: str) -> None:
    # The match and the ten words after it are 60 letters: the fragment closes with nothing
    # left on its countdown, and Whoosh's fragmenter reads the next word as inside a fragment.
    analyzer = text_analyzer()
    chain = CompositeAnalyzer(*analyzer.items)
    text = "aaaa levee " + "bbbbb " * 11 + between + " levee " + "eeeee " * 30
    words = frozenset({analyzer.word_term("levee")})
    fragmenter = ContextFragmenter(maxchars=FRAGMENT_CHARS, surround=CONTEXT_CHARS)
    tokens = set_matched_filter(chain(text, chars=True, mode="query", removestops=False), words)
    whoosh = [(f.startchar, f.endchar) for f in fragmenter.fragment_tokens(text, tokens) if f.matches]
    assert [(f.startchar, f.endchar) for f in _prose_fragments(text, words, analyzer)] == whoosh
    assert len(whoosh) == 2


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.sets(st.sampled_from(_WORDS), min_size=1))
def test_word_spans_found_with_the_pattern_are_the_chains(text: str, query: set[str]) -> None:
    analyzer = text_analyzer()
    chain = CompositeAnalyzer(*analyzer.items)
    words = frozenset(token.text for word in query for token in chain(word, mode="query", removestops=False))
    assert word_spans(text, words, analyzer) == word_spans(text, words, chain)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab1é_'’.,- \n\t\u00a0ß٣"), max_size=80) | st.text(max_size=80))
def test_word_offsets_found_by_searching_are_the_patterns(text: str) -> None:
    pattern = text_analyzer().word_expression
    assert _spans(text, pattern.findall(text)) == [match.span() for match in pattern.finditer(text)]


_LONG_TEXTS = st.lists(st.tuples(st.sampled_from(_WORDS[:4] + ["filler"] * 12), st.sampled_from([" ", ". "])),
                       min_size=250, max_size=700).map(lambda pairs: "".join(word + gap for word, gap in pairs))


@settings(max_examples=60, deadline=None)
@given(_LONG_TEXTS, st.sets(st.sampled_from(_WORDS[:4]), min_size=1))
def test_fragments_of_long_texts_with_few_matches_are_whooshs(text: str, query: set[str]) -> None:
    """Words past the reach of the last match's fragment are never looked at (see
    ``_prose_fragments``): the fragments are still every one Whoosh's walk cuts."""
    analyzer = text_analyzer()
    chain = CompositeAnalyzer(*analyzer.items)
    words = frozenset(token.text for word in query for token in chain(word, mode="query", removestops=False))
    fragmenter = ContextFragmenter(maxchars=FRAGMENT_CHARS, surround=CONTEXT_CHARS)
    tokens = set_matched_filter(chain(text, chars=True, mode="query", removestops=False), words)
    whoosh = [(f.startchar, f.endchar, len(f.matches)) for f in fragmenter.fragment_tokens(text, tokens) if f.matches]
    assert [(f.startchar, f.endchar, len(f.matches)) for f in _prose_fragments(text, words, analyzer)] == whoosh
