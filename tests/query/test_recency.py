"""The recency boost: newer articles rise among the relevant, through the API, CLI and REPL."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

import search
from search.reading.articles import parse_article
from search.index.update import update_index
from search.query.recency import RECENCY_WEIGHT, newest_date, recency_factor, reference_date
from whoosh.util.times import datetime_to_long

from tests.conftest import WriteArticle, article_text

DAY = 86_400 * 1_000_000


def test_the_factor_halves_its_bonus_every_half_life() -> None:
    reference = datetime_to_long(datetime(2026, 11, 20))
    assert recency_factor(reference, reference, 14) == pytest.approx(1 + RECENCY_WEIGHT)
    assert recency_factor(reference - 14 * DAY, reference, 14) == pytest.approx(1 + RECENCY_WEIGHT / 2)
    assert recency_factor(reference - 28 * DAY, reference, 14) == pytest.approx(1 + RECENCY_WEIGHT / 4)
    assert recency_factor(reference - 3650 * DAY, reference, 14) == pytest.approx(1.0)


def test_undated_articles_get_no_bonus_and_future_ones_no_more_than_today() -> None:
    reference = datetime_to_long(datetime(2026, 11, 20))
    assert recency_factor(0, reference, 14) == 1.0
    assert recency_factor(reference + 30 * DAY, reference, 14) == pytest.approx(1 + RECENCY_WEIGHT)


@pytest.fixture
def news_index(tmp_path: Path, write_article: WriteArticle) -> search.Index:
    """An old article that says "storm" twice, a new one that says it once, and an undated one."""
    write_article("old.md", "Storm hits the coast", "<p>The storm hit the coast. Another storm is due.</p>",
                  date="2026-01-05")
    write_article("new.md", "Storm hits the coast again", "<p>The storm hit the coast.</p>",
                  date="2026-11-18")
    write_article("undated.md", "Council meets", "<p>A storm of letters reached the council.</p>", date=None)
    update_index(tmp_path / "index", tmp_path / "corpus")
    return search.open_index(tmp_path / "index")


def ids(results: search.Results) -> list[str]:
    return [Path(hit.path).name for hit in results.hits]


def test_reference_is_the_newest_article_unless_that_is_in_the_future(news_index: search.Index) -> None:
    searcher = news_index._searcher()
    newest = datetime_to_long(datetime(2026, 11, 18))
    assert newest_date(searcher) == newest
    assert reference_date(searcher, datetime(2027, 1, 1, tzinfo=timezone.utc)) == newest
    assert reference_date(searcher, datetime(2026, 6, 1)) == datetime_to_long(datetime(2026, 6, 1))


def test_recent_lifts_the_newer_article_above_the_more_relevant_old_one(news_index: search.Index) -> None:
    plain = news_index.search("storm")
    assert ids(plain)[0] == "old.md"
    boosted = news_index.search("storm", recent=True)
    assert ids(boosted)[0] == "new.md"
    assert sorted(ids(boosted)) == sorted(ids(plain))  # the boost reorders, it never filters
    undated = {Path(h.path).name: h.score for h in boosted.hits}["undated.md"]
    assert undated == pytest.approx({Path(h.path).name: h.score for h in plain.hits}["undated.md"])


def test_a_long_half_life_keeps_the_order_of_relevance_among_old_news(news_index: search.Index) -> None:
    # With a 10-year half-life the January article keeps nearly all of the bonus too.
    assert ids(news_index.search("storm", recent=3650))[0] == "old.md"


@pytest.mark.parametrize("options", [dict(recent=0), dict(recent=-3), dict(recent=True, sort="newest")])
def test_bad_recency_options_are_query_errors(news_index: search.Index, options: dict[str, object]) -> None:
    with pytest.raises(search.QueryError):
        news_index.search("storm", **options)  # type: ignore[arg-type]


def test_cli_recent_and_half_life(news_index: search.Index, tmp_path: Path) -> None:
    def first(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "search", "search", "storm", "--index", str(tmp_path / "index"),
                               "-n", "1", *args], capture_output=True, text=True, timeout=60)
    assert "Storm hits the coast\n" in first().stdout
    assert "Storm hits the coast again" in first("--recent").stdout
    assert "Storm hits the coast\n" in first("--half-life", "3650").stdout
    refused = first("--recent", "--sort", "newest")
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1 and "recency" in refused.stderr


def test_repl_recent_on_and_off(news_index: search.Index, tmp_path: Path) -> None:
    lines = "storm\n:recent\n:recent soon\n:sort newest\n:recent off\n"
    result = subprocess.run([sys.executable, "-m", "search", "repl", "--index", str(tmp_path / "index")],
                            input=lines, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    tops = [line for line in result.stdout.splitlines() if line.lstrip().startswith("1.")]
    assert tops[0].endswith("Storm hits the coast") and "Storm hits the coast again" in tops[1]
    assert "not a number of days" in result.stderr and "recency boost off" in result.stderr


def test_the_newest_date_follows_new_articles(news_index: search.Index) -> None:
    assert newest_date(news_index._searcher()) == datetime_to_long(datetime(2026, 11, 18))
    newer = parse_article(article_text("Storm hits the coast once more", "<p>The storm again.</p>",
                                              date="2026-11-21"), "later.md")
    news_index.add(newer)
    assert newest_date(news_index._searcher()) == datetime_to_long(datetime(2026, 11, 21))
