"""The Typesense backend against a real three-node cluster: the real CLI indexes a corpus folder
and searches it, the same hits as the embedded index where both engines can agree, updates send
what changed, and failures (a refused form, a bad key, nothing answering) are one line, exit 2."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import search
from tests.conftest import SAMPLE_CORPUS, article_text
from tests.remote.conftest import Cluster


def newsearch(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line, in a child process."""
    return subprocess.run([sys.executable, "-m", "search", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1", **(env or {})}, timeout=120)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A copy of the sample corpus, free to change."""
    return Path(shutil.copytree(SAMPLE_CORPUS, tmp_path / "corpus"))


def index_sample(cluster: Cluster, corpus: Path) -> Cluster:
    """The sample corpus indexed on the cluster by the real CLI."""
    done = newsearch("index", corpus, "--engine", cluster.url, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["added"], summary["total"]) == (50, 50)
    return cluster


@pytest.fixture
def indexed(cluster: Cluster, corpus: Path) -> Cluster:
    """The sample corpus on the cluster, for a test that changes it."""
    return index_sample(cluster, corpus)


@pytest.fixture(scope="module")
def shared(module_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    """The sample corpus on the cluster, for the tests that only read it."""
    return index_sample(module_cluster, Path(shutil.copytree(SAMPLE_CORPUS, tmp_path_factory.mktemp("c") / "corpus")))


def hits(url: str, query: str, **options: object) -> list[str]:
    with search.open_index(url) as index:
        return [hit.path for hit in index.search(query, limit=50, **options).hits]  # type: ignore[arg-type]


# Queries both engines answer with the same matching articles. Plain words ORed are not among
# them: Typesense drops words from the end of the query until enough match, so it does not find
# an article that has only the first words missing (README, "Remote engine").
AGREEING = ["fire", "immigration policies", '"cinder ridge"', "fire AND evacuation", "title:fire", "fire -smoke",
            "immig*", "date:2026-08 fire", "fire OR flood", "tag:transit", "vaccine AND trial",
            "fire AND tag:wildfire", "source:valleycourier", "-source:globewire fire",
            # stop words are terms on both engines: a phrase with them, a query of nothing else
            '"walked off the job"', '"recovery of the bastarache"', "doesn't"]


@pytest.mark.parametrize("query", AGREEING)
def test_the_same_articles_match_as_in_the_embedded_index(shared: Cluster, sample_index: search.Index,
                                                          query: str) -> None:
    remote = hits(shared.url, query)
    embedded = [hit.path for hit in sample_index.search(query, limit=50).hits]
    assert remote, query
    assert sorted(remote) == sorted(embedded)


@pytest.mark.parametrize("query, first", [
    ("levee breach Millbrook", "levee-breach-floods-millbrook-high-street-as-river-crests-at-record-level.md"),
    ("stolen painting recovered storage unit", "stolen-bastarache-painting-recovered-from-storage-unit-three-arrested.md"),
    ("harbour line strike begins", "harbour-line-drivers-walk-off-the-job-as-transit-strike-begins.md"),
    ("flu vaccine trial paused", "orb-212-flu-vaccine-trial-paused-after-volunteer-falls-ill.md"),
])
def test_a_known_story_comes_first_on_both_engines(shared: Cluster, sample_index: search.Index,
                                                   query: str, first: str) -> None:
    assert hits(shared.url, query)[0] == first
    assert sample_index.search(query).hits[0].path == first


def test_the_cli_searches_with_snippets_json_facets_and_exit_codes(shared: Cluster) -> None:
    found = newsearch("search", "cinder ridge", "--engine", shared.url, "--json", "--facets")
    assert found.returncode == 0, found.stderr
    page = json.loads(found.stdout)
    assert page["total"] == 7
    assert any("Cinder Ridge" in snippet["text"] for hit in page["hits"] for snippet in hit["snippets"])
    assert sum(page["facets"]["month"].values()) == 7
    text = newsearch("search", "levee", "--engine", shared.url)
    assert "Levee breach floods Millbrook" in text.stdout
    nothing = newsearch("search", "zzyzxq", "--engine", shared.url)
    assert nothing.returncode == 1
    assert "no results" in nothing.stderr


def test_sorts_dates_and_paging(shared: Cluster) -> None:
    with search.open_index(shared.url) as index:
        newest = index.search("fire OR flood", sort="newest", limit=5)
        dates = [hit.date for hit in newest.hits]
        assert dates == sorted(dates, reverse=True)
        second = index.search("fire OR flood", sort="newest", limit=5, page=2)
        assert not {hit.id for hit in second.hits} & {hit.id for hit in newest.hits}
        assert second.hits[0].rank == 6
        august = index.search("fire", since="2026-08-01", until="2026-08-31")
        assert august.total and all(hit.date and hit.date.month == 8 for hit in august.hits)


def test_show_related_stats_and_the_repl(shared: Cluster) -> None:
    path = "rescue-crews-pull-dozens-from-flooded-homes-in-millbrook.md"
    shown = newsearch("show", path, "--engine", shared.url, "--json")
    assert json.loads(shown.stdout)["title"] == "Rescue crews pull dozens from flooded homes in Millbrook"
    related = json.loads(newsearch("related", path, "--engine", shared.url, "--json", "-n", "3").stdout)
    assert related["hits"] and path not in [hit["path"] for hit in related["hits"]]
    assert any("millbrook" in hit["path"] or "flood" in hit["path"] for hit in related["hits"])
    stats = json.loads(newsearch("stats", "--engine", shared.url, "--json").stdout)
    assert (stats["articles"], stats["sources"]) == (50, 6)
    repl = subprocess.run([sys.executable, "-m", "search", "repl", "--engine", shared.url], input="vaccine\n",
                          capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=60)
    assert "4 results for 'vaccine'" in repl.stdout


def test_an_update_sends_new_changed_and_removed_articles(indexed: Cluster, corpus: Path) -> None:
    (corpus / "new-quay.md").write_text(article_text("Quayside market reopens", "<p>The zanzibarine quay market.</p>",
                                                     date="2026-11-20"), encoding="utf-8")
    changed = corpus / "halcyon-launch-lifts-shares-of-space-suppliers.md"
    changed.write_text(changed.read_text(encoding="utf-8").replace("</p>", " Quillwort suppliers cheered.</p>", 1),
                       encoding="utf-8")
    (corpus / "rescue-crews-pull-dozens-from-flooded-homes-in-millbrook.md").unlink()
    done = newsearch("index", corpus, "--engine", indexed.url, "--json")
    summary = json.loads(done.stdout)
    assert (summary["added"], summary["updated"], summary["deleted"], summary["unchanged"]) == (1, 1, 1, 48)
    assert hits(indexed.url, "zanzibarine") == ["new-quay.md"]
    assert hits(indexed.url, "quillwort") == [changed.name]
    assert "rescue-crews-pull-dozens-from-flooded-homes-in-millbrook.md" not in hits(indexed.url, "millbrook")
    again = json.loads(newsearch("index", corpus, "--engine", indexed.url, "--json").stdout)
    assert (again["added"], again["updated"], again["deleted"], again["unchanged"]) == (0, 0, 0, 50)


def test_a_rebuild_moves_the_alias_and_drops_the_old_collection(indexed: Cluster, corpus: Path) -> None:
    with search.open_index(indexed.url) as index:
        before = index.stats().generation
    done = newsearch("index", corpus, "--engine", indexed.url, "--rebuild", "--json")
    assert json.loads(done.stdout)["rebuilt"] is True
    with search.open_index(indexed.url) as index:
        assert index.stats().generation != before
        assert index.stats().articles == 50
        assert not index.transport.has_collection(str(before))


def test_a_form_the_engine_cannot_express_is_refused_in_one_line(shared: Cluster) -> None:
    refused = newsearch("search", "fire^3", "--engine", shared.url)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert "word's weight" in refused.stderr and "Typesense" in refused.stderr
    with search.open_index(shared.url) as index, pytest.raises(search.UnsupportedQueryError):
        index.search("fire", recent=True)


def test_a_bad_key_is_one_line_and_exit_2(shared: Cluster) -> None:
    refused = newsearch("search", "fire", "--engine", shared.url, env={"NEWSEARCH_API_KEY": "not-the-key"})
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "refused the API key" in refused.stderr
    assert "not-the-key" not in refused.stderr


def test_nothing_answering_is_one_line_and_exit_2(cluster: Cluster) -> None:
    for command in (["search", "fire"], ["index", SAMPLE_CORPUS], ["stats"]):
        failed = newsearch(*command, "--engine", "typesense://127.0.0.1:9/nothing")
        assert failed.returncode == 2, command
        assert failed.stderr.count("\n") == 1 and "no node answered" in failed.stderr
        assert "Traceback" not in failed.stderr


def test_a_missing_index_says_how_to_build_one(cluster: Cluster) -> None:
    missing = newsearch("search", "fire", "--engine", cluster.url)
    assert missing.returncode == 2
    assert "newsearch index CORPUS --engine" in missing.stderr


def test_the_engine_can_be_named_in_the_environment(shared: Cluster) -> None:
    found = newsearch("search", "levee", "--json", env={"NEWSEARCH_ENGINE": shared.url})
    assert json.loads(found.stdout)["total"] >= 1


def test_add_get_and_delete_through_the_api(cluster: Cluster, tmp_path: Path) -> None:
    written = tmp_path / "made.md"
    written.write_text(article_text("Program made", "<p>A quokkaberry harvest.</p>", link="https://x.example/made",
                                    date="2026-11-30"), encoding="utf-8")
    article = search.load_article(written)
    with search.open_index(cluster.url, create=True) as index:
        index.add(article)
        found = index.search("quokkaberry")
        assert [hit.id for hit in found.hits] == ["https://x.example/made"]
        got = index.get("https://x.example/made")
        assert got is not None and got.title == "Program made" and "quokkaberry" in got.body
        assert index.delete("https://x.example/made") is True
        assert index.delete("https://x.example/made") is False
        assert index.get("https://x.example/made") is None


def test_watch_sends_new_articles_to_the_engine(cluster: Cluster, tmp_path: Path) -> None:
    import time

    corpus = tmp_path / "watched"
    corpus.mkdir()
    (corpus / "first.md").write_text(article_text("First", "<p>Opening day.</p>"), encoding="utf-8")
    watcher = subprocess.Popen([sys.executable, "-m", "search", "index", str(corpus), "--engine", cluster.url,
                                "--watch", "--interval", "0.3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "NO_COLOR": "1"})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if hits(cluster.url, "opening"):
                    break
            except search.IndexNotFoundError:
                pass
            time.sleep(0.2)
        (corpus / "second.md").write_text(article_text("Second", "<p>The vorpalwood arrived.</p>"), encoding="utf-8")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not hits(cluster.url, "vorpalwood"):
            time.sleep(0.2)
        found = hits(cluster.url, "vorpalwood")
    finally:
        watcher.terminate()
        _out, errors = watcher.communicate(timeout=30)
    assert found == ["second.md"], errors


def test_a_rebuild_right_after_creating_keeps_the_index(cluster: Cluster, corpus: Path) -> None:
    """Regression: the collection made by create=True and the rebuild's were named from the same
    second and process, so the rebuild dropped the collection it had just filled."""
    with search.open_index(cluster.url, create=True) as index:
        summary = index.update(corpus, rebuild=True)
        assert summary.total == 50
        assert index.search("levee").total >= 1
