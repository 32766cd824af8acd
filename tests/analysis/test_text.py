"""Analysis: what terms text becomes, for documents and queries alike."""
from __future__ import annotations

import pickle

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from whoosh.analysis import CompositeAnalyzer

from search.analysis import text as analysis
from search.analysis.text import STOP_WORDS, analyze, is_stop_word, label_analyzer, snowball_stem, text_analyzer


def test_words_are_lower_cased_folded_and_stemmed() -> None:
    assert analyze("Protesters PROTESTED élections Café") == ["protest", "protest", "elect", "cafe"]


def test_stop_words_are_kept_unstemmed_and_content_words_stemmed() -> None:
    assert analyze("the mayor of the city and the police") == ["the", "mayor", "of", "the", "citi", "and", "the", "polic"]
    assert analyze("having being doing") == ["having", "being", "doing"]  # Snowball would give "have", "be", "do"
    assert {"the", "and", "of", "don't"} <= STOP_WORDS and "mayor" not in STOP_WORDS
    assert is_stop_word("the") and not is_stop_word("mayor")


def test_a_content_word_never_shares_a_term_with_a_stop_word() -> None:
    # Snowball stems "owned" to "own" and "underlying" to "under", both stop words.
    assert analyze("their own state owned banks") == ["their", "own", "state", "own_", "bank"]
    assert analyze("underlying under") == ["under_", "under"]
    assert not is_stop_word(analyze("others")[0]) and is_stop_word(analyze("other")[0])


def test_apostrophes_stay_inside_words() -> None:
    assert analyze("Mamdani's office") == analyze("Mamdani’s office") == ["mamdani", "offic"]
    assert analyze("don’t") == ["don't"]  # a stop word once the apostrophe is normalised: unstemmed


def test_numbers_and_decimals_are_kept() -> None:
    assert analyze("rates rose to 4.75% in 2026") == ["rate", "rose", "to", "4.75", "in", "2026"]


def test_snowball_not_porter() -> None:
    # Whoosh's default Porter stemmer turns "news" into "new"; Snowball keeps them apart.
    assert snowball_stem("news") != snowball_stem("new")
    assert snowball_stem("running") == "run"


def test_labels_split_urls_without_stemming() -> None:
    assert [t.text for t in label_analyzer()("https://feeds.FoxNews.com/foxnews/latest")] == [
        "https", "feeds", "foxnews", "com", "foxnews", "latest"]


def test_analyzers_survive_pickling_as_whoosh_stores_them() -> None:
    restored = pickle.loads(pickle.dumps(text_analyzer()))
    assert [t.text for t in restored("Flooding rivers")] == ["flood", "river"]


def test_normalize_filter_gives_what_whooshs_filters_give() -> None:
    from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter

    from search.analysis.text import FOLD_MAP, WORD_PATTERN, content_stem

    whoosh_chain = (RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | CharsetFilter(FOLD_MAP)
                    | StemFilter(stemfn=content_stem, ignore=STOP_WORDS, cachesize=None))
    texts = ["The Mayor's office: İstanbul ÆSIR, élections and the CAFÉ", "of the and a", "don’t stop 3.5% RISES",
             "Protesters were protesting at the harbour; the police and the mayor were not."]
    modes = [dict(positions=True), dict(mode="query"), dict(mode="query", removestops=False, chars=True),
             dict(no_morph=True, positions=True), dict(positions=True, chars=True, removestops=False)]
    for text in texts:
        for mode in modes:
            def tokens(analyzer: object) -> list[tuple[object, ...]]:
                return [(t.text, t.stopped, getattr(t, "pos", None), getattr(t, "startchar", None))
                        for t in analyzer(text, **mode)]  # type: ignore[operator]
            assert tokens(text_analyzer()) == tokens(whoosh_chain), (text, mode)


_PROSE_TEXT = st.lists(st.sampled_from(list("aeiouxyzAEÉéöØ’'. -,\n3\u00a0ﬁ") + ["the ", "and ", "running"]),
                       max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_PROSE_TEXT, st.sampled_from([
    {"positions": True, "boosts": True, "mode": "index"},  # what indexing asks for
    {},  # relevance feedback and query words
    {"positions": True, "chars": True, "mode": "query", "removestops": False},
    {"chars": True, "mode": "query", "removestops": False},  # what highlighting asks for
    {"chars": True},
    {"positions": True, "start_pos": 3},
]))
def test_prose_analyzer_loop_gives_the_chains_tokens(text: str, options: dict[str, object]) -> None:
    fast = text_analyzer()
    chain = CompositeAnalyzer(*fast.items)  # the same tokenizer and filters, one generator each

    def tokens(analyzer: CompositeAnalyzer) -> list[tuple[object, ...]]:
        return [(t.text, t.stopped, t.boost, getattr(t, "pos", None), getattr(t, "startchar", None),
                 getattr(t, "endchar", None)) for t in analyzer(text, **options)]
    assert tokens(fast) == tokens(chain)


def test_stop_words_keep_their_places() -> None:
    tokens = text_analyzer()("the cats and the dogs ran", positions=True)
    assert [(t.text, t.pos) for t in tokens] == [("the", 0), ("cat", 1), ("and", 2), ("the", 3), ("dog", 4), ("ran", 5)]
    assert text_analyzer().word_positions("bank of japan") == {"bank": [0], "of": [1], "japan": [2]}


@settings(max_examples=300, deadline=None)
@given(_PROSE_TEXT)
def test_word_positions_are_the_index_tokens_grouped_by_term(text: str) -> None:
    analyzer = text_analyzer()
    expected: dict[str, list[int]] = {}
    for token in analyzer(text, positions=True, boosts=True, mode="index"):
        expected.setdefault(token.text, []).append(token.pos)
    for _ in range(2):  # the second time from the word cache
        positions = analyzer.word_positions(text)
        assert positions == expected and list(positions) == list(expected)


def test_the_word_cache_stays_out_of_the_pickled_schema() -> None:
    analyzer = text_analyzer()
    assert analyzer.word_positions("The rivers flooded the rivers") == {"the": [0, 3], "river": [1, 4], "flood": [2]}
    assert "_terms" in analyzer.__dict__
    restored = pickle.loads(pickle.dumps(analyzer))
    assert "_terms" not in restored.__dict__ and restored == analyzer
    assert restored.word_positions("rivers") == {"river": [0]}


@settings(max_examples=300, deadline=None)
@given(_PROSE_TEXT, st.sets(st.sampled_from(["river", "flood", "the", "été", "3.5", "mayor'"]), max_size=3))
def test_words_matching_are_the_words_whose_word_term_is_wanted(text: str, wanted: set[str]) -> None:
    analyzer = text_analyzer()
    words = set(analyzer.word_expression.findall(text))
    wanted |= {analyzer.word_term(word) for word in list(words)[:2]}  # some that surely occur
    expected = {word: analyzer.word_term(word) for word in words if analyzer.word_term(word) in wanted}
    analyzer.word_positions(text)  # stop words and stems now in the cache
    assert analyzer.words_matching(words, wanted) == expected
    assert text_analyzer().words_matching(words, wanted) == expected  # from an empty cache


@pytest.fixture
def fresh_stems(monkeypatch: pytest.MonkeyPatch) -> None:
    """No stems known or waiting to be read (the module's state is per process)."""
    monkeypatch.setattr(analysis, "_stems", {})
    monkeypatch.setattr(analysis, "_sources", {})


def test_a_stem_source_is_read_once_and_before_nltk(fresh_stems: None) -> None:
    loads: list[str] = []
    analysis.add_stem_source("stems.txt", lambda: loads.append("read") or {"harbours": "harbour-from-the-file"})
    assert snowball_stem("harbours") == "harbour-from-the-file"  # the file's answer: NLTK not asked
    assert snowball_stem("running") == "run"  # not in the file: NLTK
    assert snowball_stem("harbours") == "harbour-from-the-file" and loads == ["read"]
    assert analysis.known_stems() == {"harbours": "harbour-from-the-file", "running": "run"}


def test_stems_a_worker_computed_are_known(fresh_stems: None) -> None:
    analysis.remember_stems({"strikes": "strike-from-a-worker"})
    assert snowball_stem("strikes") == "strike-from-a-worker"
    assert analysis.known_stems() == {"strikes": "strike-from-a-worker"}


def test_numbers_and_symbols_are_their_own_stems_without_nltk(fresh_stems: None,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """``*`` and numbers are not in the stem file; asking NLTK for them imported it."""
    def no_nltk() -> None:
        raise AssertionError("NLTK asked")
    monkeypatch.setattr(analysis, "_english_stemmer", no_nltk)
    for word in ("1987", "*", "1.5", "٣٤", "$", "_"):
        assert snowball_stem(word) == word
    assert analysis.known_stems() == {}  # and the stem file is not filled with them
    with pytest.raises(AssertionError, match="NLTK asked"):
        snowball_stem("harbours")


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Lu", "Ll", "Lt", "Lm", "Lo", "Cs"),
                             blacklist_characters="'\u2018\u2019\u201b"), min_size=1, max_size=8))
def test_nltk_leaves_a_word_without_letters_or_apostrophes_as_it_is(word: str) -> None:
    """What lets ``snowball_stem`` skip NLTK for such words: those ``_STEMMABLE`` finds nothing
    in (a letter-like number such as "Ⅰ" is a word character it sends to NLTK, which lowers it)."""
    assume(not analysis._STEMMABLE(word))
    assert analysis._english_stemmer().stem(word) == word
    assert snowball_stem(word) == word


def test_a_letter_like_number_still_goes_to_nltk() -> None:
    """NLTK lowers "Ⅰ" (a number of category Nl, a word character): it must not be skipped."""
    assert analysis._STEMMABLE("Ⅰ")
    assert snowball_stem("Ⅰ") == analysis._english_stemmer().stem("Ⅰ") == "ⅰ"
