"""The Index API end to end on the tiny corpus: opening, searching, reading, writing, errors,
and one shared Index used from many threads while another thread commits."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import search
from search.index import storage
from search.index.update import update_index
from search.present.results import ANSI_MATCH_OFF, ANSI_MATCH_ON

from .conftest import TINY, article_text

STRIKE_LINK = "https://news.example.org/a/strike"


def make_article(number: int, word: str = "quokka") -> search.Article:
    """An article a program made itself (not read from a file)."""
    return search.Article(
        id=f"https://api.example.org/{number}", path=f"api/{number}.md",
        title=f"A {word} sighting number {number}", description="",
        body=f"Rangers counted one {word} near the ferry terminal, report {number}.",
        tags=("wildlife",), categories=("api.example.org",), source="https://api.example.org/rss",
        link=f"https://api.example.org/{number}", slug=f"sighting-{number}", image="",
        date=datetime(2026, 12, 1, tzinfo=timezone.utc) + timedelta(days=number), draft=False,
    )


# Opening -------------------------------------------------------------------------------------

def test_open_missing_index_says_how_to_create_one(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(search.IndexNotFoundError) as caught:
        search.open_index(missing)
    assert str(missing) in str(caught.value)
    assert "newsearch index" in str(caught.value)
    assert isinstance(caught.value, search.SearchError)
    assert not missing.exists()


def test_create_makes_an_empty_usable_index(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "index"
    with search.open_index(folder, create=True) as ix:
        results = ix.search("strike", sort="newest", facets=True)
        assert (results.total, results.hits, results.page_count) == (0, (), 1)
        stats = ix.stats()
        assert (stats.articles, stats.first_date, stats.last_date, stats.sources) == (0, None, None, 0)
        assert ix.get("strike") is None
        assert ix.delete("strike") is False
        ix.add(make_article(1))
        assert ix.search("quokka").total == 1
    assert search.open_index(folder).stats().articles == 1


def test_update_an_index_made_with_create(tmp_path: Path, tiny_corpus: Path) -> None:
    folder = tmp_path / "new" / "index"
    with search.open_index(folder, create=True) as ix:
        summary = ix.update(tiny_corpus)
        assert summary.added == len(TINY)
        assert ix.search("strike").total == 2
    # create=True on an existing index opens it as it is.
    with search.open_index(folder, create=True) as ix:
        assert ix.stats().articles == len(TINY)
        assert ix.stats().corpus == str(tiny_corpus.resolve())


def test_context_manager_returns_the_index_and_closes_its_searcher(tiny_index: search.Index) -> None:
    with tiny_index as ix:
        assert ix is tiny_index
        ix.search("strike")
        assert ix._local.searcher is not None
    assert ix._local.searcher is None
    assert ix.search("strike").total == 2  # still usable: a new searcher is opened


# Searching -----------------------------------------------------------------------------------

def test_search_returns_results_of_frozen_hits(tiny_index: search.Index) -> None:
    results = tiny_index.search("levee")
    assert isinstance(results, search.Results)
    assert (results.query, results.total, results.page, results.page_count, results.limit) == ("levee", 1, 1, 1, 10)
    assert results.suggestion is None and results.facets == {} and results.elapsed >= 0
    hit = results.hits[0]
    assert isinstance(hit, search.Hit) and dataclasses.is_dataclass(hit)
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.title = "changed"  # type: ignore[misc]
    assert hit.id == hit.path == "flood.md"
    assert hit.title == "River floods town after levee breach"
    assert hit.date == datetime(2026, 11, 12, tzinfo=timezone.utc)
    assert hit.date.utcoffset() == timedelta(0)
    assert hit.source == "https://feeds.valley.example/rss"
    assert hit.categories == ("feeds.valley.example",)
    assert hit.tags == ("flood",)
    assert hit.link == ""
    assert hit.rank == 1 and hit.score > 0
    assert hit.title[slice(*hit.title_spans[0])] == "levee"


def test_hit_fields_for_an_article_with_a_link(tiny_index: search.Index) -> None:
    hit = tiny_index.search("drivers pay", limit=1).hits[0]
    assert (hit.id, hit.link, hit.path) == (STRIKE_LINK, STRIKE_LINK, "transit-strike.md")
    assert hit.tags == ("transit", "strike")
    assert hit.description == "Drivers walk out in a pay dispute."


def test_snippet_spans_point_at_matched_words(tiny_index: search.Index) -> None:
    for query, word in [("evacuated", "evacuated"), ("inflation", "inflation"), ("ferries", "ferries"),
                        ("blackouts", "blackouts")]:
        hits = tiny_index.search(query).hits
        assert len(hits) == 1, query
        snippet = hits[0].snippets[0]
        assert snippet.spans, query
        assert [snippet.text[start:end].lower() for start, end in snippet.spans] == [word]


def test_stemmed_matches_are_located_in_the_snippet(tiny_index: search.Index) -> None:
    hit = tiny_index.search("raise").hits[0]
    assert hit.path == "bank-rates.md"
    words = [hit.snippets[0].text[s:e] for s, e in hit.snippets[0].spans]
    assert words == ["raised"]


def test_highlight_none_and_text_are_plain(tiny_index: search.Index) -> None:
    for mode in (None, "text"):
        hit = tiny_index.search("levee", highlight=mode).hits[0]
        assert hit.snippet == "The river burst through a levee overnight. Residents of Millbrook were evacuated."


def test_highlight_html_escapes_article_text(tiny_index: search.Index, tiny_corpus: Path) -> None:
    (tiny_corpus / "xss.md").write_text(article_text(
        "Script <b>kiddies</b> & levee hackers",
        "<p>He typed &lt;script&gt;alert(1)&lt;/script&gt; then &lt;b&gt;levee&lt;/b&gt; & went home.</p>",
        link="https://news.example.org/xss"))
    assert tiny_index.update(tiny_corpus).added == 1
    hits = {hit.path: hit for hit in tiny_index.search("levee", highlight="html").hits}
    raw = hits["xss.md"].snippets[0].text
    assert "<script>alert(1)</script>" in raw and "<b>levee</b>" in raw  # the text really holds tags
    rendered = hits["xss.md"].snippet
    assert rendered == ("He typed &lt;script&gt;alert(1)&lt;/script&gt; then &lt;b&gt;<mark>levee</mark>&lt;/b&gt;"
                        " &amp; went home.")
    assert "<script" not in rendered and "<b>" not in rendered
    assert hits["flood.md"].snippet == ("The river burst through a <mark>levee</mark> overnight. "
                                        "Residents of Millbrook were evacuated.")


def test_highlight_ansi_wraps_matches_in_escape_codes(tiny_index: search.Index) -> None:
    hit = tiny_index.search("levee", highlight="ansi").hits[0]
    assert hit.snippet == (f"The river burst through a {ANSI_MATCH_ON}levee{ANSI_MATCH_OFF} overnight. "
                           "Residents of Millbrook were evacuated.")


def test_bad_options_and_queries_raise_query_error(tiny_index: search.Index) -> None:
    for kwargs in [dict(highlight="xml"), dict(sort="sideways"), dict(limit=0), dict(page=0)]:
        with pytest.raises(search.QueryError):
            tiny_index.search("strike", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(search.QueryError, match="unbalanced"):
        tiny_index.search('"levee')
    with pytest.raises(search.QueryError):
        tiny_index.search("strike", since="2026-02-30")


def test_sort_since_until_and_paging(tiny_index: search.Index) -> None:
    newest = tiny_index.search("strike OR levee OR rates", sort="newest")
    assert [h.path for h in newest.hits] == ["flood.md", "bank-rates.md", "strike-day-two.md", "transit-strike.md"]
    oldest = tiny_index.search("strike OR levee OR rates", sort="oldest", limit=3, page=2)
    assert (oldest.total, oldest.page_count, [h.path for h in oldest.hits]) == (4, 2, ["flood.md"])
    assert oldest.hits[0].rank == 4
    recent = tiny_index.search("strike OR levee OR rates", since="2026-09", until=datetime(2026, 10, 1, tzinfo=timezone.utc))
    assert [h.path for h in recent.hits] == ["bank-rates.md"]


def test_a_page_past_the_end_is_empty(tiny_index: search.Index) -> None:
    results = tiny_index.search("strike", limit=1, page=3)
    assert (results.total, results.page, results.page_count) == (2, 3, 2)
    assert results.hits == ()


# Reading -------------------------------------------------------------------------------------

def test_get_by_id_and_by_path_returns_the_full_article(tiny_index: search.Index) -> None:
    by_id = tiny_index.get(STRIKE_LINK)
    by_path = tiny_index.get("transit-strike.md")
    assert isinstance(by_id, search.Article)
    assert by_id == by_path
    assert by_id.body == ("Drivers on the Harbour Line walked out on Monday in a dispute over pay.\n\n"
                          "The transit authority said talks would resume.")
    assert by_id.title == "Harbour Line drivers strike over pay"
    assert by_id.date == datetime(2026, 7, 6, tzinfo=timezone.utc)
    assert by_id.tags == ("transit", "strike")
    assert tiny_index.get("no-such-article") is None


def test_related_excludes_the_article_and_finds_its_topic_first(tiny_index: search.Index) -> None:
    related = tiny_index.related(STRIKE_LINK)
    assert isinstance(related, search.Results)
    ids = [hit.id for hit in related.hits]
    assert STRIKE_LINK not in ids
    assert ids[0] == "strike-day-two.md"
    assert "flood.md" not in [hit.id for hit in tiny_index.related("flood.md").hits]
    with pytest.raises(search.QueryError, match="no article with id or path 'no-such-article'"):
        tiny_index.related("no-such-article")


def test_stats_counts_and_date_span(tiny_index: search.Index, tiny_corpus: Path) -> None:
    stats = tiny_index.stats()
    assert isinstance(stats, search.IndexStats)
    assert stats.articles == len(TINY)
    assert stats.first_date == datetime(2026, 7, 6, tzinfo=timezone.utc)
    assert stats.last_date == datetime(2026, 11, 12, tzinfo=timezone.utc)
    assert stats.sources == 4
    assert stats.corpus == str(tiny_corpus.resolve())
    assert stats.generation == "gen-0001"
    assert stats.to_dict()["first_date"] == "2026-07-06T00:00:00Z"


# Writing -------------------------------------------------------------------------------------

def test_update_returns_a_summary_and_is_seen_by_the_next_search(tiny_index: search.Index, tiny_corpus: Path) -> None:
    assert tiny_index.search("volcano").total == 0
    (tiny_corpus / "volcano.md").write_text(article_text("Volcano erupts", "<p>Ash over the island.</p>"))
    (tiny_corpus / "flood.md").unlink()
    summary = tiny_index.update()  # the corpus the index was built from
    assert isinstance(summary, search.UpdateSummary)
    assert (summary.added, summary.updated, summary.deleted, summary.unchanged) == (1, 0, 1, len(TINY) - 1)
    assert summary.total == len(TINY)
    assert [h.path for h in tiny_index.search("volcano").hits] == ["volcano.md"]
    assert tiny_index.search("levee").total == 0
    rebuilt = tiny_index.update(tiny_corpus, rebuild=True)
    assert rebuilt.rebuilt and rebuilt.added == len(TINY)
    assert tiny_index.stats().generation == "gen-0002"
    assert [h.path for h in tiny_index.search("volcano").hits] == ["volcano.md"]


def test_add_and_delete(tiny_index: search.Index, tiny_corpus: Path) -> None:
    tiny_index.add(make_article(1))
    hits = tiny_index.search("quokka").hits
    assert [h.id for h in hits] == ["https://api.example.org/1"]
    assert tiny_index.get("https://api.example.org/1") == make_article(1)
    tiny_index.add(dataclasses.replace(make_article(1), title="A platypus sighting"))  # same id: replaced
    assert tiny_index.search("quokka").total == 1 and tiny_index.search("platypus").total == 1
    assert tiny_index.stats().articles == len(TINY) + 1
    # An incremental update of the corpus keeps articles a program added.
    assert tiny_index.update(tiny_corpus).deleted == 0
    assert tiny_index.delete("https://api.example.org/1") is True
    assert tiny_index.delete("https://api.example.org/1") is False
    assert tiny_index.search("quokka").total == 0
    assert tiny_index.delete(STRIKE_LINK) is True
    assert tiny_index.get(STRIKE_LINK) is None
    assert tiny_index.stats().articles == len(TINY) - 1


# Damaged and locked indexes ------------------------------------------------------------------

def test_damaged_current_file(tiny_index: search.Index) -> None:
    (tiny_index.path / "CURRENT").write_text("../../etc")
    with pytest.raises(search.IndexDamagedError, match="newsearch index --rebuild"):
        search.open_index(tiny_index.path)
    with pytest.raises(search.IndexDamagedError, match="newsearch index --rebuild"):
        tiny_index.search("strike")  # an index already open notices too
    (tiny_index.path / "CURRENT").write_text("gen-0099")
    with pytest.raises(search.IndexDamagedError, match="newsearch index --rebuild"):
        search.open_index(tiny_index.path)


def test_other_schema_version(tiny_index: search.Index) -> None:
    meta_file = tiny_index.path / "gen-0001" / "meta.json"
    meta = json.loads(meta_file.read_text())
    meta["schema_version"] += 1
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(search.IndexDamagedError) as caught:
        search.open_index(tiny_index.path)
    assert "newsearch index --rebuild" in str(caught.value)
    assert f"schema {meta['schema_version']}" in str(caught.value)


def test_damaged_whoosh_files(tiny_index: search.Index) -> None:
    for toc in (tiny_index.path / "gen-0001").glob("_MAIN_*.toc"):
        toc.write_bytes(b"not a table of contents")
    with pytest.raises(search.IndexDamagedError, match="newsearch index --rebuild"):
        search.open_index(tiny_index.path)


def test_locked_index_names_the_writer(tiny_index: search.Index, tiny_corpus: Path) -> None:
    with storage.writer_lock(tiny_index.path):
        with pytest.raises(search.IndexLockedError) as caught:
            tiny_index.update(tiny_corpus, wait=0.2)
        assert f"pid {os.getpid()}" in str(caught.value)
        with pytest.raises(search.IndexLockedError):
            tiny_index.add(make_article(1), wait=0.2)
        assert tiny_index.search("strike").total == 2  # searching needs no lock
    tiny_index.add(make_article(1), wait=0.2)  # released
    assert tiny_index.search("quokka").total == 1


# Threads -------------------------------------------------------------------------------------

ADDED = 8


def test_searches_from_many_threads_while_another_thread_commits(tiny_index: search.Index) -> None:
    """One shared Index: 8 threads search while a writer adds, then deletes, articles one commit
    at a time. Every result must be a state the writer committed; afterwards all threads (each
    with its own cached searcher) must see the final state."""
    expected_ids = {make_article(n).id for n in range(ADDED)}
    errors: list[BaseException] = []
    searchers: dict[int, set[object]] = {}
    done = threading.Event()

    def writer() -> None:
        try:
            for number in range(ADDED):
                tiny_index.add(make_article(number))
            for number in range(ADDED):
                assert tiny_index.delete(make_article(number).id)
            tiny_index.add(make_article(99, word="wombat"))
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            done.set()

    def one_search(_: int) -> tuple[int, int]:
        time.sleep(0.001)  # leave the writer some time between searches (they share the GIL)
        strike = tiny_index.search("strike", limit=5)
        assert strike.total == 2 and {h.path for h in strike.hits} == {"transit-strike.md", "strike-day-two.md"}
        quokka = tiny_index.search("quokka", limit=ADDED)
        assert 0 <= quokka.total <= ADDED
        assert len(quokka.hits) == quokka.total
        assert {h.id for h in quokka.hits} <= expected_ids
        for hit in quokka.hits:
            assert hit.snippets and "quokka" in hit.snippets[0].text
        searchers.setdefault(threading.get_ident(), set()).add(tiny_index._searcher())
        return quokka.total, threading.get_ident()

    with ThreadPoolExecutor(8) as pool:
        thread = threading.Thread(target=writer)
        thread.start()
        seen: list[tuple[int, int]] = []
        while not done.is_set():
            seen += pool.map(one_search, range(32))
        thread.join()
        assert not errors, errors
        assert len({total for total, _ in seen}) > 1, "the searches never overlapped a commit"
        for ident in {ident for _, ident in seen}:
            # Each thread saw the commits in order: the count rises, then falls, never back.
            totals = [total for total, who in seen if who == ident]
            peak = totals.index(max(totals))
            assert totals[:peak + 1] == sorted(totals[:peak + 1]), totals
            assert totals[peak:] == sorted(totals[peak:], reverse=True), totals
        # No Whoosh searcher was ever used by two threads.
        assert len(searchers) > 1
        owners = [id(searcher) for held in searchers.values() for searcher in held]
        assert len(owners) == len(set(owners))
        # Every pool thread now holds a searcher opened before the last commits.
        final = list(pool.map(lambda _: (tiny_index.search("quokka").total, tiny_index.search("wombat").total,
                                         threading.get_ident()), range(64)))
    assert {(quokka, wombat) for quokka, wombat, _ in final} == {(0, 1)}
    assert len({ident for _, _, ident in final}) > 1


def test_searches_from_many_threads_while_the_index_is_rebuilt(tiny_index: search.Index, tiny_corpus: Path) -> None:
    """Rebuilds publish new generations (and delete old ones) under searches that are running."""
    errors: list[BaseException] = []
    done = threading.Event()

    def rebuilder() -> None:
        try:
            for round_ in range(4):
                (tiny_corpus / f"volcano-{round_}.md").write_text(
                    article_text(f"Volcano erupts again, round {round_}", "<p>Ash over the island.</p>"))
                update_index(tiny_index.path, tiny_corpus, rebuild=True)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            done.set()

    def one_search(_: int) -> int:
        time.sleep(0.001)
        assert tiny_index.search("strike").total == 2
        return tiny_index.search("volcano").total

    with ThreadPoolExecutor(8) as pool:
        thread = threading.Thread(target=rebuilder)
        thread.start()
        seen: list[int] = []
        while not done.is_set():
            seen += pool.map(one_search, range(32))
        thread.join()
        assert not errors, errors
        assert set(seen) <= {0, 1, 2, 3, 4}
        final = set(pool.map(one_search, range(64)))
    assert final == {4}
    assert tiny_index.stats().generation == "gen-0005"


def test_snippets_option_sets_the_fragments_per_hit(tiny_index: search.Index) -> None:
    assert all(hit.snippets for hit in tiny_index.search("strike").hits)
    bare = tiny_index.search("strike", snippets=0)
    assert bare.total == tiny_index.search("strike").total
    assert bare.hits and all(hit.snippets == () for hit in bare.hits)
    for wrong in (-1, 11):
        with pytest.raises(search.QueryError, match="snippets"):
            tiny_index.search("strike", snippets=wrong)


_SEARCH_IN_A_NEW_PROCESS = """
import json, sys, search
hits = search.open_index(sys.argv[1]).search(sys.argv[2], limit=20).hits
print(json.dumps([[hit.id, round(hit.score, 9), [s.text for s in hit.snippets]] for hit in hits]))
print("nltk" in sys.modules)
"""


def test_a_search_of_known_words_needs_no_nltk_and_finds_the_same(tmp_path: Path) -> None:
    """The index keeps the stem of every word it analyzed (stems.txt): a new process searching
    words the index has seen does not import NLTK (half of a command-line search's time)."""
    from nltk.stem.snowball import SnowballStemmer

    from .conftest import SAMPLE_CORPUS
    update_index(tmp_path / "ix", SAMPLE_CORPUS)
    generation = storage.current_generation(tmp_path / "ix")
    stems = storage.read_stems(generation)
    stemmer = SnowballStemmer("english")
    assert len(stems) > 1000 and all(stemmer.stem(word) == stem for word, stem in stems.items())

    def search_in_a_new_process(query: str) -> tuple[list[object], bool]:
        done = subprocess.run([sys.executable, "-c", _SEARCH_IN_A_NEW_PROCESS, str(tmp_path / "ix"), query],
                              capture_output=True, text=True, check=True)
        found, imported = done.stdout.splitlines()
        return json.loads(found), imported == "True"

    query = "harbour strikes commuters"  # words of the corpus (another word is stemmed by NLTK)
    with_stems, imported = search_in_a_new_process(query)
    assert with_stems and not imported
    (generation / storage.STEMS_FILE).unlink()
    assert search_in_a_new_process(query) == (with_stems, True)


def test_a_write_that_fails_is_a_search_error(tiny_index: search.Index, tiny_corpus: Path) -> None:
    """Issue 23 item 12: Index.update, add and delete on an index they cannot write raise a
    SearchError of one line, not a bare OSError. (Root ignores permission bits, so the lock
    file is made a folder, which no one can open for writing.)"""
    from search.index import storage
    lock = tiny_index.path / storage.LOCK_FILE
    lock.unlink()
    lock.mkdir()
    article = search.load_article(next(tiny_corpus.glob("*.md")), root=tiny_corpus)
    for write in (lambda: tiny_index.update(tiny_corpus), lambda: tiny_index.add(article),
                  lambda: tiny_index.delete(article.id)):
        with pytest.raises(search.IndexWriteError) as caught:
            write()
        assert "\n" not in str(caught.value) and "cannot write the index" in str(caught.value)
    lock.rmdir()
    assert tiny_index.update(tiny_corpus).unchanged == len(list(tiny_corpus.glob("*.md")))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only folders")
def test_update_on_a_read_only_index_is_a_search_error(tiny_index: search.Index, tiny_corpus: Path) -> None:
    (tiny_index.path / "writer.lock").unlink()
    tiny_index.path.chmod(0o500)
    try:
        with pytest.raises(search.IndexWriteError):
            tiny_index.update(tiny_corpus)
    finally:
        tiny_index.path.chmod(0o700)


def test_max_expansions_lowers_and_raises_the_prefix_cap(tiny_index: search.Index) -> None:
    """``r*`` expands to a handful of the tiny corpus's words: refused at max_expansions=2 with
    one line naming the word, the cap and the option, answered at the default (issue 22)."""
    with pytest.raises(search.QueryError) as caught:
        tiny_index.search("r*", max_expansions=2)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("'r*' matches more than 2 indexed words")
    assert "max_expansions=" in message
    assert tiny_index.search("r*").total == tiny_index.search("r*", max_expansions=10).total > 0
    with pytest.raises(search.QueryError, match="max_expansions must be a whole number"):
        tiny_index.search("r*", max_expansions=0)
