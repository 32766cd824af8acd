"""Fuzzing (issue 8): whatever it is given, the article reader raises nothing but ``ArticleError``
and the query parser and ``Index.search`` nothing but ``QueryError``; what they return is clean.

Each test runs ``NEWSEARCH_FUZZ_EXAMPLES`` examples (1,000 by default, what CI runs). For a long
run by hand::

    NEWSEARCH_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -q tests/test_fuzz.py

Smaller property tests of the same kind stay beside their modules (``test_articles.py``,
``test_querying.py``); these are the CI-sized runs, with inputs built to reach deeper: front
matter and HTML fragments, byte-order marks, other encodings, escape sequences, YAML tags and
aliases, query operators, field names and every date form.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import search
from search.reading.articles import Article, load_article
from search.present.display import to_json
from search.query.language import parse_query
from search.index.schema import build_schema

from .conftest import ROOT, write_tiny_corpus

EXAMPLES = int(os.environ.get("NEWSEARCH_FUZZ_EXAMPLES", "1000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

# Nothing a terminal acts on: C0 controls (newlines too in one-line fields), DEL, C1 (\x9b is CSI).
ONE_LINE_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
BODY_CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
LINK_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


@pytest.fixture(scope="module")
def article_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file, rewritten by every example (a fresh folder per example costs more than the test)."""
    return tmp_path_factory.mktemp("fuzz") / "fuzz.md"


def read_as_article(path: Path, data: bytes) -> Article | None:
    """Write ``data`` and read it back: an Article, or None for an ArticleError."""
    path.write_bytes(data)
    try:
        article = load_article(path, root=path.parent)
    except search.ArticleError as error:
        assert error.reason and "\n" not in error.reason and len(error.reason) < 300, error.reason
        event("ArticleError")
        return None
    event("Article")
    assert_indexable(article)
    return article


def assert_indexable(article: Article) -> None:
    """What the indexer and the display rely on: clean text that encodes, tidy terms, UTC dates."""
    one_line = [article.title, article.description, article.source, article.slug, article.image, article.id,
                *article.tags, *article.categories]
    for text in one_line:
        assert not ONE_LINE_CONTROLS.search(text), repr(text)
    assert not BODY_CONTROLS.search(article.body), repr(article.body)
    # The link is kept as written: the control characters str.split() counts as whitespace
    # (line breaks from a YAML scalar over several lines, \x1c-\x1f, NEL) survive there, and
    # only there; display and JSON clean them. No escape sequence or other control survives.
    assert not LINK_CONTROLS.search(article.link), repr(article.link)
    for text in [*one_line, article.link, article.body, *article.warnings]:
        text.encode("utf-8")  # no lone surrogates: Whoosh must be able to store it
    assert article.id
    assert "\n\n\n" not in article.body and article.body == article.body.strip()
    assert all(term and term == term.strip().lower() for term in article.tags + article.categories)
    assert len(set(article.tags)) == len(article.tags)
    assert article.date is None or article.date.utcoffset() == timedelta(0)
    assert all("\n" not in warning for warning in article.warnings)


# --- the article reader: arbitrary bytes ---------------------------------------------------

FRAGMENTS = [
    b"---\n", b"---", b"\n", b"\r\n", b"\r", b"  ", b"\t", b"title: ", b"date: ", b"tags: ", b"link: ",
    b"description: ", b"draft: ", b"categories:\n", b"- ", b"[", b"]", b"{", b"}", b", ", b": ", b"'", b'"',
    b"&a ", b"*a", b"!!binary ", b"!!python/object/apply:os.system ", b"!!timestamp ", b"? ", b"|\n", b">\n",
    b"#", b"%YAML 1.1\n", b"...\n", b"<p>", b"</p>", b"<div>", b"</div>", b"<a href='https://x.example/'>",
    b"</a>", b"<script>", b"</script>", b"<style>", b"</style>", b"<!--", b"-->", b"<![CDATA[", b"]]>",
    b"<?xml version='1.0'?>", b"<br>", b"<td>", b"&amp;", b"&#x1b;", b"&#0;", b"&#xd800;", b"&nbsp;",
    b"\x1b[31m", b"\x1b]0;title\x07", b"\x1bP", b"\x1b\\", b"\x9b", b"\xc2\x9b", b"\x00", b"\x7f", b"\x85",
    b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xc3\xa9", b"\xe2\x80\x9d", b"\xc3\xa2\xe2\x82\xac\xe2\x80\x9d",
    b"caf\xe9", b"\x93quoted\x94", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"2026-01-08", b"2026-13-45",
    b"2026-02-30", b"yesterday", b"Thu, 08 Jan 2026 10:00:00 +0000", b"99999999999999999999", b".inf",
    b"https://news.example.org/a?utm_source=x#frag", b"http://[::1", b"true", b"null", b"~",
]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252", "latin-1"]

soup = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=16)), max_size=80).map(b"".join)
article_like = st.builds(
    lambda head, front, body, tail: head + b"---\n" + front + b"\n---\n" + body + tail,
    st.sampled_from([b"", b"\xef\xbb\xbf", b"\n\n", b"  "]), soup, soup,
    st.sampled_from([b"", b"\n", b"\x00", b"---\n"]))
encoded = st.builds(
    lambda front, body, encoding: f"---\n{front}\n---\n{body}".encode(encoding, "replace"),
    st.text(max_size=200), st.text(max_size=400), st.sampled_from(ENCODINGS))
deep_html = st.builds(
    lambda tag, depth, word: b"---\ntitle: deep\n---\n" + f"<{tag}>".encode() * depth + word.encode()
    + f"</{tag}>".encode() * (depth // 2),
    st.sampled_from(["div", "p", "b", "span", "table", "li", "script"]), st.integers(0, 1500),
    st.text(max_size=20))


@pytest.mark.slow
@FUZZ
@given(data=st.one_of(st.binary(max_size=3000), soup, article_like, encoded, deep_html))
def test_reader_gives_an_article_or_an_article_error_for_any_bytes(article_file: Path, data: bytes) -> None:
    read_as_article(article_file, data)


# --- the article reader: arbitrary front matter --------------------------------------------

FIELDS = ["title", "description", "summary", "slug", "image", "link", "source", "tags", "categories",
          "date", "draft", "other"]
any_text = st.text(st.characters(codec="utf-8"), max_size=40)  # controls, escapes and all
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), any_text, st.binary(max_size=20),
    st.dates(), st.datetimes(timezones=st.sampled_from([None, timezone.utc, timezone(timedelta(hours=-14))])),
    st.sampled_from(["2026-13-45", "yesterday", "2026-02-30", "Thu, 08 Jan 2026 10:00:00 +0000", "",
                     "\x1b]0;pwned\x07", "https://News.Example.org:443/a?utm_x=1&b=2#f", "yes", "off"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(any_text, st.integers()), inner, max_size=3)),
    max_leaves=10)
front_matter = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.sampled_from(FIELDS), any_text, st.integers()),
                               values, max_size=8)


@pytest.mark.slow
@FUZZ
@given(meta=front_matter, share=st.booleans(), flow=st.sampled_from([None, True, False]),
       body=st.text(max_size=300))
def test_reader_gives_an_article_for_any_front_matter_mapping(
        article_file: Path, meta: dict[Any, Any], share: bool, flow: bool | None, body: str) -> None:
    if share and "tags" in meta:
        meta["categories"] = meta["tags"]  # the same object twice: YAML writes an anchor and an alias
    dumped = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=flow)
    data = f"---\n{dumped}---\n{body}".encode("utf-8", "surrogatepass")
    article = read_as_article(article_file, data)
    if article is None:  # only a mapping too big or too deep, or an article with nothing to find
        try:
            load_article(article_file, root=article_file.parent)
        except search.ArticleError as error:
            hollow = error.reason == "no title, description, text or tags"
        assert hollow or len(dumped) > 60_000 or dumped.count("[") + dumped.count("{") > 100 or "\x00" in body


# --- the query parser and Index.search ------------------------------------------------------

DATE_FORMS = ["2026", "2026-01", "2026-01-08", "2026-02-30", "2026-13-45", "jan 2026", "march", "today",
              "yesterday", "last week", "this week", "last 3 months", "3 days ago", "-2w",
              "2026-01-08T10:00+02:00", "10000-01-01", "0001-01-01", "99999999999999999999"]
TOKENS = ['"', "(", ")", "AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "-", "+", "*", "?", "~", "~2", "~9", "^2", "^0",
          "^-1", "^1e308", ":", "'", "[", "]", "{", "}", " to ", "TO", ">", "<", ">=", "<=", "=", "\\", "/",
          "title:", "body:", "description:", "tag:", "tags:", "source:", "category:", "categories:", "date:",
          "id:", "path:", "link:", "nosuch:", "*:", "harbour", "strike", "drivers", "the", "a", "new york",
          "mamdani", "café", "naïve", "日本", *DATE_FORMS, "\x1b[31m", "\x00", "\n", "\t", "\u2028", "\u200b"]
query_soup = st.lists(st.one_of(st.sampled_from(TOKENS), st.sampled_from([" ", ""]), any_text.map(lambda t: t[:8])),
                      max_size=16).map("".join)
queries = st.one_of(st.text(max_size=80), query_soup)
# Undecodable bytes in argv reach the parser as lone surrogates (surrogateescape).
surrogates = st.integers(0xDC80, 0xDCFF).map(chr)
queries_with_surrogates = st.lists(st.one_of(queries, surrogates), max_size=4).map("".join)
SCHEMA = build_schema()


@FUZZ
@given(text=st.one_of(queries, queries_with_surrogates))
def test_parser_raises_nothing_but_query_error(text: str) -> None:
    try:
        parse_query(text, SCHEMA)
        event("parsed")
    except search.QueryError as error:
        assert "\n" not in str(error)
        event("QueryError")


# Fuzzy distances above 2 make Whoosh's Levenshtein automaton explode on long words.


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> search.Index:
    from search.index.update import update_index
    folder = tmp_path_factory.mktemp("fuzz-index")
    update_index(folder / "ix", write_tiny_corpus(folder / "corpus"))
    return search.open_index(folder / "ix")


WORDS = ["harbour", "strike", "drivers", "pay", "bank", "rates", "flood", "levee", "mayor", "immigration",
         "power", "heatwave", "commuters", "transit", "record", "millbrook"]
search_queries = st.one_of(
    queries, st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(TOKENS)), max_size=8).map(" ".join),
    st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(TOKENS)), max_size=8).map("".join))
any_date = st.one_of(st.sampled_from(DATE_FORMS), st.datetimes(timezones=st.sampled_from([None, timezone.utc])))
sometimes_date = st.sampled_from([False, False, False, True]).flatmap(lambda on: any_date if on else st.none())
# Each option has usual values and odd ones; at most one option is odd, so most searches run.
USUAL = {"sort": st.sampled_from(["relevance", "newest", "oldest"]), "limit": st.integers(1, 20),
         "page": st.sampled_from([1, 1, 1, 2, 3]), "since": sometimes_date, "until": sometimes_date,
         "highlight": st.sampled_from(["text", "html", "ansi", None]), "facets": st.booleans(),
         "fields": st.one_of(st.none(), st.lists(st.sampled_from(["title", "description", "body", "tags"]),
                                                 min_size=1, max_size=3))}
ODD = {"sort": st.text(max_size=8), "limit": st.integers(-1, 1001), "page": st.one_of(st.integers(-1, 0),
       st.integers(4, 10**9)), "since": any_text, "until": any_text, "highlight": st.text(max_size=5),
       "facets": st.booleans(), "fields": st.lists(st.sampled_from(["title", "source", "nosuch", ""]), max_size=3)}


@st.composite
def search_options(draw: Any) -> dict[str, Any]:
    odd = draw(st.sampled_from([None, None, None, None, *ODD]))
    return {name: draw(ODD[name] if name == odd else usual) for name, usual in USUAL.items()}


@FUZZ
@given(text=search_queries, options=search_options())
def test_index_search_raises_nothing_but_query_error(small_index: search.Index, text: str,
                                                     options: dict[str, Any]) -> None:
    try:
        results = small_index.search(text, **options)
    except search.QueryError as error:
        assert "\n" not in str(error)
        event("QueryError " + str(error)[:25])
        return
    event("found" if results.total else "nothing found")
    limit, page = options["limit"], options["page"]
    assert len(results.hits) <= min(limit, results.total)
    first = (page - 1) * limit + 1
    assert [hit.rank for hit in results.hits] == list(range(first, first + len(results.hits)))
    for hit in results.hits:
        assert all(0 <= start < end <= len(hit.title) for start, end in hit.title_spans)
        for piece in hit.snippets:
            assert all(0 <= start < end <= len(piece.text) for start, end in piece.spans)
        assert isinstance(hit.snippet, str)
    json.loads(to_json(results))  # always valid JSON


def test_a_large_fuzzy_distance_cannot_hang_a_search(small_index: search.Index) -> None:
    try:
        result = subprocess.run([sys.executable, "-m", "search", "search", "mayorcandidatesdebate~7",
                                 "--index", str(small_index.path)], capture_output=True, cwd=ROOT, timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail("a search for 'mayorcandidatesdebate~7' ran for more than 5 s")
    assert result.returncode in (1, 2) and b"Traceback" not in result.stderr
