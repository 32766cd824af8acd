"""Stop words are indexed: queries of stop words only are answered, phrases with stop words are
exact, and a query with other words ranks as if its loose stop words were not there."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from whoosh import query as wq

import search
from search.index.schema import build_schema
from search.query.language import parse_query
from search.index.update import update_index
from tests.conftest import article_text

ARTICLES = {
    "who.md": ("The Who play again", "<p>The band The Who played to a full house.</p>"),
    "hamlet.md": ("A night of Hamlet", "<p>To be or not to be, asked the actor, and the hall went quiet.</p>"),
    "boj.md": ("Bank of Japan holds rates", "<p>The Bank of Japan kept its rates where they were.</p>"),
    "bij.md": ("Bank in Japan closes", "<p>A small bank in Japan closed its doors; rates were not the reason.</p>"),
    "rates.md": ("Rates rise", "<p>Central banks raised rates across the region, and the markets fell.</p>"),
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> search.Index:
    corpus = tmp_path_factory.mktemp("stops") / "corpus"
    corpus.mkdir()
    for name, (title, body) in ARTICLES.items():
        (corpus / name).write_text(article_text(title, body), encoding="utf-8")
    update_index(corpus.parent / "index", corpus)
    return search.open_index(corpus.parent / "index")


def paths(results: search.Results) -> list[str]:
    return [Path(hit.path).name for hit in results.hits]


@pytest.mark.parametrize("query, first", [
    ("the who", "who.md"),
    ('"to be or not to be"', "hamlet.md"),
    ("which", None),
])
def test_a_query_of_stop_words_only_is_answered(index: search.Index, query: str, first: str | None) -> None:
    results = index.search(query)
    if first is None:
        assert results.total == 0  # no article has "which": answered, not refused
    else:
        assert paths(results)[0] == first


def test_a_phrase_with_a_stop_word_matches_exactly(index: search.Index) -> None:
    assert paths(index.search('"bank of japan"')) == ["boj.md"]
    assert paths(index.search('"bank in japan"')) == ["bij.md"]
    assert set(paths(index.search('"bank japan"~2'))) == {"boj.md", "bij.md"}
    assert index.search('"bank japan"').total == 0  # a word stands between them in both


def test_loose_stop_words_change_nothing_in_a_query_with_other_words(index: search.Index) -> None:
    plain, with_stops = index.search("rates japan"), index.search("the rates of japan")
    assert [(hit.path, hit.score) for hit in with_stops.hits] == [(hit.path, hit.score) for hit in plain.hits]
    assert with_stops.total == plain.total > 0


def test_stop_words_are_left_out_of_a_query_only_when_other_words_remain() -> None:
    schema = build_schema()
    assert "the" not in str(parse_query("the flood", schema))
    assert "under_" in str(parse_query("the underlying rate", schema))  # "underlying" is no stop word
    assert "the" in str(parse_query("the who", schema))
    assert 'body:"the end"' in str(parse_query('"the end" flood', schema))  # inside a phrase it stays
    # an exclusion or a filter is not a word to search for: the stop word is the query
    assert "the" in str(parse_query("the source:example", schema))
    assert "the" in str(parse_query("the -flood", schema))
    assert not any(isinstance(leaf, wq.Term) and leaf.text == "the"
                   for leaf in parse_query("the -flood fire", schema).leaves())


def test_stop_words_are_highlighted_when_they_are_the_query(index: search.Index) -> None:
    hit = index.search("the who").hits[0]
    assert [hit.title[start:end] for start, end in hit.title_spans] == ["The", "Who"]
    body = hit.snippets[0]
    assert [body.text[start:end] for start, end in body.spans] == ["The", "The", "Who"]


def test_related_and_feedback_see_no_stop_words(index: search.Index) -> None:
    from search.engine.evaluator import Evaluator

    searcher = index._searcher()
    docnum = next(number for number, stored in searcher.reader().iter_docs() if stored["path"].endswith("boj.md"))
    terms = [term for term, _weight in Evaluator(searcher, root=index.path).key_terms(docnum, "body", 20)]
    assert terms and not set(terms) & {"the", "of", "its", "where", "they", "were"}


def test_the_cli_answers_stop_words_with_exit_0(index: search.Index) -> None:
    done = subprocess.run([sys.executable, "-m", "search", "search", "the who", "--index", str(index.path), "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert Path(json.loads(done.stdout)["hits"][0]["path"]).name == "who.md"


def test_dropping_stop_words_walks_each_part_of_the_query_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression: each level walked its children twice, 2**depth calls for nested parentheses.
    from search.query import language

    calls = 0
    walk = language._drop_stop_terms

    def counted(node: wq.Query) -> wq.Query:
        nonlocal calls
        calls += 1
        return walk(node)
    monkeypatch.setattr(language, "_drop_stop_terms", counted)
    query = "(" * 12 + "the fire" + ")" * 12
    assert "fire" in str(parse_query(query, build_schema())) and "'the'" not in str(parse_query(query, build_schema()))
    assert calls < 400  # two parses of a few nodes a level (the old walk: about 78,000)
