"""Query language and ranking against the tiny corpus, whose answers are known."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

import search
from search.index.update import update_index
from search.query.language import parse_query

from .conftest import WriteArticle


def paths(results: search.Results) -> list[str]:
    return [hit.path for hit in results.hits]


def test_words_rank_the_article_with_all_of_them_first(tiny_index: search.Index) -> None:
    results = tiny_index.search("harbour strike pay")
    assert paths(results)[0] == "transit-strike.md"
    assert "strike-day-two.md" in paths(results)  # matches some words: still found


def test_words_are_stemmed(tiny_index: search.Index) -> None:
    assert paths(tiny_index.search("raising rate"))[0] == "bank-rates.md"


def test_exact_phrase_needs_adjacent_words(tiny_index: search.Index) -> None:
    assert paths(tiny_index.search('"harbour line"')) == ["transit-strike.md"]
    assert tiny_index.search('"line harbour"').total == 0


def test_phrase_with_slop_allows_words_between(tiny_index: search.Index) -> None:
    assert tiny_index.search('"drivers pay"').total == 0
    assert "transit-strike.md" in paths(tiny_index.search('"drivers pay"~12'))


def test_boolean_operators_and_exclusion(tiny_index: search.Index) -> None:
    assert set(paths(tiny_index.search("strike AND commuters"))) == {"strike-day-two.md"}
    assert set(paths(tiny_index.search("strike NOT commuters"))) == {"transit-strike.md"}
    assert set(paths(tiny_index.search("strike -commuters"))) == {"transit-strike.md"}
    both = set(paths(tiny_index.search("(flood OR heatwave) AND record")))
    assert both == {"heatwave.md"}


def test_field_names_in_capitals_search_the_field(tiny_index: search.Index) -> None:
    assert paths(tiny_index.search("Title:strike TAG:transit")) == paths(tiny_index.search("title:strike tag:transit"))
    assert paths(tiny_index.search("TITLE:strike"))


def test_exclusions_and_requirements_inside_parentheses(tiny_index: search.Index) -> None:
    """Whoosh's +/- plugin sorted only the top group: these were 'cannot understand query'."""
    strikes_without_commuters = {"transit-strike.md"}
    floods = set(paths(tiny_index.search("flood")))
    assert floods and not floods & strikes_without_commuters
    assert set(paths(tiny_index.search("(strike -commuters) OR flood"))) == strikes_without_commuters | floods
    assert set(paths(tiny_index.search("flood OR (strike -commuters)"))) == strikes_without_commuters | floods
    assert set(paths(tiny_index.search("title:(strike -commuters)"))) == {"transit-strike.md"}
    assert set(paths(tiny_index.search("((strike -commuters) +flood)"))) == floods  # +: flood required
    # A weighed group weighs its words, with or without an exclusion in it.
    weighed = tiny_index.search("(strike -commuters)^3 flood", limit=20)
    plain = tiny_index.search("strike^3 flood", limit=20)
    assert [(hit.path, round(hit.score, 9)) for hit in weighed.hits if hit.path == "transit-strike.md"] == \
        [(hit.path, round(hit.score, 9)) for hit in plain.hits if hit.path == "transit-strike.md"]
    assert tiny_index.search("(strike -commuters)^0 flood").total == len(floods) + 1  # weightless, no crash


def test_prefix_and_fuzzy_terms(tiny_index: search.Index) -> None:
    assert "bank-rates.md" in paths(tiny_index.search("inflat*"))
    assert paths(tiny_index.search("immigraton~"))[0] == "election.md"


def test_boost_changes_the_order(tiny_index: search.Index) -> None:
    plain = paths(tiny_index.search("drivers ferries"))
    boosted = paths(tiny_index.search("drivers ferries^10"))
    assert plain[0] == "transit-strike.md"
    assert boosted[0] == "strike-day-two.md"


@pytest.mark.parametrize("query, expected", [
    ("title:levee", {"flood.md"}),
    ("tag:transit", {"transit-strike.md", "strike-day-two.md"}),
    ("tags:economy", {"bank-rates.md"}),
    ("description:dispute", {"transit-strike.md"}),
    ("body:ferries", {"strike-day-two.md"}),
    ("source:ledger", {"bank-rates.md"}),
    ("category:feeds.civic.example", {"election.md"}),
])
def test_field_queries(tiny_index: search.Index, query: str, expected: set[str]) -> None:
    assert set(paths(tiny_index.search(query))) == expected


def test_filter_fields_narrow_instead_of_widening(tiny_index: search.Index) -> None:
    assert set(paths(tiny_index.search("source:harbour strike"))) == {"transit-strike.md", "strike-day-two.md"}
    assert set(paths(tiny_index.search("source:valley record"))) == {"heatwave.md"}


@pytest.mark.parametrize("query, expected", [
    ("date:2026-07-06", {"transit-strike.md"}),
    ("date:2026-07", {"transit-strike.md", "strike-day-two.md"}),
    ("date:2026", {p for p in ("transit-strike.md", "strike-day-two.md", "bank-rates.md", "heatwave.md",
                               "flood.md", "election.md")}),
    ("date:[2026-07-01 to 2026-08-31]", {"transit-strike.md", "strike-day-two.md", "heatwave.md"}),
    ("date:[2026-10-01 to]", {"election.md", "flood.md"}),
    ("date:>=2026-10-01", {"election.md", "flood.md"}),
    ("date:>2026-10-01", {"flood.md"}),
    ("date:<2026-07-07", {"transit-strike.md"}),
    ("date:<=2026-07-07", {"transit-strike.md", "strike-day-two.md"}),
    ("strike date:2026-07-07", {"strike-day-two.md"}),
])
def test_date_queries(tiny_index: search.Index, query: str, expected: set[str]) -> None:
    assert set(paths(tiny_index.search(query, limit=50))) == expected


def test_since_and_until_options(tiny_index: search.Index) -> None:
    found = paths(tiny_index.search("strike OR rates OR flood", since="2026-07-07", until="2026-09"))
    assert set(found) == {"strike-day-two.md", "bank-rates.md"}


@pytest.mark.parametrize(("since", "until"), [("2026-10", "2026-08"), ("2026-08-02", "2026-08-01T12:00:00Z")])
def test_since_not_before_until_is_a_query_error_naming_both(tiny_index: search.Index, since: str, until: str) -> None:
    with pytest.raises(search.QueryError, match=r"since \(from 2026-.*\) must be before until \(up to 2026-"):
        tiny_index.search("strike", since=since, until=until)
    assert tiny_index.search("strike", since="2026-08", until="2026-08").total >= 0  # one month: fine


@pytest.mark.parametrize("bad, words", [
    ('"unclosed phrase', ["unbalanced", "column 1"]),
    ("(strike OR pay", ["unbalanced", "'('"]),
    ("strike)", ["unbalanced", "')'", "column 7"]),
    ("author:smith", ["unknown field", "author"]),
    ("titel:fire", ["unknown field 'titel:'", "(did you mean title:?)"]),
    ("date:2026-13-45", ["not a date", "2026-13-45"]),
    ("date:[2026-02-01 to 2026-01-01]", ["empty date range"]),
    ("", ["empty query"]),
    ("!!! ,,, ;", ["no searchable words"]),
])
def test_bad_queries_raise_query_error_with_a_clear_message(tiny_index: search.Index, bad: str, words: list[str]) -> None:
    with pytest.raises(search.QueryError) as caught:
        tiny_index.search(bad)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_bad_options_raise_query_error(tiny_index: search.Index) -> None:
    for options in ({"limit": 0}, {"page": 0}, {"sort": "best"}, {"highlight": "bold"}, {"fields": ["nope"]}):
        with pytest.raises(search.QueryError):
            tiny_index.search("strike", **options)  # type: ignore[arg-type]


def test_sorting_by_date(tiny_index: search.Index) -> None:
    newest = paths(tiny_index.search("strike OR rates OR flood", sort="newest"))
    oldest = paths(tiny_index.search("strike OR rates OR flood", sort="oldest"))
    assert newest[0] == "flood.md" and oldest[0] == "transit-strike.md"
    assert newest == list(reversed(oldest))


def test_undated_articles_come_last_in_both_date_orders(tmp_path: Path, write_article: WriteArticle) -> None:
    for name, date in (("a.md", "2026-01-05"), ("b.md", None), ("c.md", "2025-03-01"), ("d.md", "2026-11-18")):
        write_article(name, "Storm news", "<p>The storm hit.</p>", date=date)
    update_index(tmp_path / "index", tmp_path / "corpus")
    ix = search.open_index(tmp_path / "index")
    assert paths(ix.search("storm", sort="oldest")) == ["c.md", "a.md", "d.md", "b.md"]
    assert paths(ix.search("storm", sort="newest")) == ["d.md", "a.md", "c.md", "b.md"]


def test_date_sorts_page_as_whooshs_sorting_collector_did(tmp_path: Path, write_article: WriteArticle,
                                                           monkeypatch: pytest.MonkeyPatch, whoosh_oracle: None) -> None:
    """Every page of a date sort equals the one Whoosh's sorting collector gave: same-day ties,
    undated articles, a deletion and two segments included; scores are the query's own."""
    from whoosh import query as wq

    days = ["2026-03-01", "2026-03-01", None, "2026-02-10", "2026-03-01", None, "2025-12-31", "2026-02-10"]
    for number, day in enumerate(days):
        write_article(f"a{number}.md", f"Storm report {number}", f"<p>The storm {'and flood ' * number}hit.</p>",
                      date=day)
    update_index(tmp_path / "index", tmp_path / "corpus")
    for number, day in enumerate(["2026-03-01", None, "2026-02-10"], len(days)):  # a second segment
        write_article(f"a{number}.md", f"Late storm {number}", "<p>The storm and flood.</p>", date=day)
    (tmp_path / "corpus" / "a4.md").unlink()  # deleted from the first segment
    update_index(tmp_path / "index", tmp_path / "corpus")
    ix = search.open_index(tmp_path / "index")
    assert len(ix._searcher().leaf_searchers()) == 2
    whoosh_scores = {hit.docnum: hit.score for hit in ix._searcher().search(wq.Term("body", "flood"), limit=None)}
    compared = 0
    for query in ("storm", "flood", "storm -flood", "title:storm", "*"):
        for sort in ("newest", "oldest"):
            for limit, page in ((3, 1), (3, 2), (3, 3), (4, 3), (20, 1)):
                for since in (None, "2026-02-01"):
                    found = ix.search(query, sort=sort, limit=limit, page=page, since=since, snippets=1)
                    pages = [(found.total, [(hit.path, hit.rank) for hit in found.hits]),
                             _whoosh_date_page(ix, query, sort, limit, page, since)]
                    assert pages[0] == pages[1], (query, sort, limit, page, since)
                    compared += bool(pages[0][1])
    assert compared >= 60
    newest = ix.search("body:flood", sort="newest", limit=20)
    assert newest.total == len(whoosh_scores) >= 8
    by_id = {ix._searcher().document_number(id=hit.id): hit.score for hit in newest.hits}
    assert by_id == pytest.approx(whoosh_scores)  # the query's score, not the date it sorted by


def test_paging_reports_the_total(tiny_index: search.Index) -> None:
    first = tiny_index.search("strike OR rates OR flood OR power", limit=2, page=1)
    second = tiny_index.search("strike OR rates OR flood OR power", limit=2, page=2)
    assert first.total == second.total == 5
    assert first.page_count == 3
    assert not set(paths(first)) & set(paths(second))
    assert [hit.rank for hit in second.hits] == [3, 4]


def test_facets_count_sources_tags_and_months(tiny_index: search.Index) -> None:
    facets = tiny_index.search("strike OR power", facets=True).facets
    assert facets["source"] == {"https://feeds.harbour.example/rss": 2, "https://feeds.valley.example/rss": 1}
    assert facets["tag"]["transit"] == 2
    assert facets["month"] == {"2026-08": 1, "2026-07": 2}


def test_facets_are_whooshs_groups_across_segments_deletions_and_missing_values(
        tmp_path: Path, write_article: WriteArticle, whoosh_oracle: None) -> None:
    """Facets counted from the evaluator's matches (``_counted_facets``) equal Whoosh's grouping
    of the same matches: several tags per article, articles without tags or date, a deleted
    article, two segments."""
    from whoosh import query as wq

    from search import pipeline as querying

    sources = ["https://a.example/rss", "https://b.example/rss", None]
    for number in range(12):
        tags = [("flood", "storm", "river")[i] for i in range(number % 4) if i < 3]
        write_article(f"a{number}.md", f"Storm {number}", "<p>The storm and the flood.</p>",
                      date=None if number % 5 == 4 else f"2026-0{1 + number % 3}-1{number % 9}",
                      tags=tuple(tags), source=sources[number % 3])
    update_index(tmp_path / "index", tmp_path / "corpus")
    write_article("late.md", "Late storm", "<p>Storm again.</p>", date="2026-04-01", tags=("storm", "late"))
    (tmp_path / "corpus" / "a3.md").unlink()
    update_index(tmp_path / "index", tmp_path / "corpus")
    ix = search.open_index(tmp_path / "index")
    searcher = ix._searcher()
    assert len(searcher.leaf_searchers()) == 2
    compared = 0
    for text, since in (("storm", None), ("flood", None), ("storm -flood", None), ("*", None), ("storm", "2026-02-01")):
        for sort in ("relevance", "newest"):
            found = ix.search(text, facets=True, sort=sort, since=since).facets
            parsed = parse_query(text, searcher.schema)
            if since:
                parsed = wq.And([parsed, wq.DateRange("date", datetime(2026, 2, 1), None)])
            grouped = searcher.search(parsed, limit=None, scored=False, groupedby=_whoosh_facet_groups())
            assert found == querying._ordered_facets({name: grouped.groups(name) for name in querying.FACETS}), \
                (text, since, sort)
            compared += bool(found["tag"]) and bool(found["source"]) and bool(found["month"])
    assert compared >= 8


def test_a_leading_angle_bracket_is_text_not_a_range(tiny_index: search.Index) -> None:
    assert paths(tiny_index.search("<b> levee")) == ["flood.md"]


def test_an_exclusion_with_a_date_filter_and_a_correction(tiny_index: search.Index) -> None:
    # Found by the fuzz test ("HARBO NOT FLOO", from before five-letter words got one edit at most):
    # Whoosh's exclusion matcher read past an inlined posting list while the correction was tried.
    results = tiny_index.search("HARBUR NOT FLOO", limit=1, until="2026", fields=["title"])
    assert results.total == 0 and results.suggestion == "HARBOUR NOT FLOO"


def _whoosh_facet_groups() -> dict[str, object]:
    """Whoosh's own grouping of matches by source, tag and month: what the engine's counts are
    compared with."""
    from whoosh import sorting

    from search.pipeline import FACETS
    return {name: sorting.FieldFacet(column, allow_overlap=(name == "tag"), maptype=sorting.Count)
            for name, column in FACETS.items()}


def _whoosh_date_page(ix: search.Index, text: str, sort: str, limit: int, page: int,
                      since: str | None) -> tuple[int, list[tuple[str, int]]]:
    """One page sorted by date by Whoosh's own sorting collector: the oracle of the engine's."""
    from whoosh import query as wq
    from whoosh import sorting

    from search.api import _bound
    from search.pipeline import SearchOptions, date_filter
    from search.query.fuzzy import expand_fuzzy
    from search.query.language import parse_query

    searcher = ix._searcher()
    query = expand_fuzzy(parse_query(text, searcher.schema), searcher)
    restriction = date_filter(SearchOptions(since=_bound(since, start=True)))
    if restriction is not None:
        query = wq.And([query, restriction])
    if sort == "newest":
        found = searcher.search_page(query, page, pagelen=limit, sortedby="date", reverse=True)
    else:  # undated articles hold 0 in the date column: last, not first
        undated_last = sorting.TranslateFacet(lambda when: when or 2 ** 64, sorting.FieldFacet("date"))
        found = searcher.search_page(query, page, pagelen=limit, sortedby=undated_last)
    shown = found if found.pagenum == page else []
    return found.total, [(hit["path"], rank) for rank, hit in enumerate(shown, found.offset + 1)]


def test_a_search_parses_its_text_once(sample_index: search.Index, monkeypatch: pytest.MonkeyPatch) -> None:
    """Query text -> plan, once: the suggestion reads the words as typed from the plan, so only
    a correction's own text is parsed again (the suggestion path parsed the query a second time
    to find the words as typed)."""
    from search.query import language

    parses: list[str] = []
    original = language.make_parser

    def counting(*args: object, **kwargs: object) -> object:
        parser = original(*args, **kwargs)  # type: ignore[arg-type]
        parse = parser.parse

        def counted(text: str, *more: object, **options: object) -> object:
            parses.append(text)
            return parse(text, *more, **options)
        parser.parse = counted
        return parser

    monkeypatch.setattr(language, "make_parser", counting)
    found = sample_index.search("harbur strike")
    assert found.suggestion == "harbour strike"
    assert parses == ["harbur strike", "harbour strike"]
    parses.clear()
    sample_index.search("fire evacuation")
    assert parses == ["fire evacuation"]
