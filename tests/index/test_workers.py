"""Segments: worker processes write the same index a single writer would, spelling lists included."""
from __future__ import annotations

from pathlib import Path

import pytest
from whoosh.fields import TEXT

import search
from search.index import update as indexing
from search.index import storage
from search.analysis.text import STOP_WORDS, spelling_words, text_analyzer
from search.index.update import update_index
from search.index.workers import LARGE_BATCH_LIMIT_MB, WRITER_LIMIT_MB, SegmentWorkers, SpellingLists, worker_limit_mb
from search.whoosh_internals.reading import open_whoosh

from tests.conftest import article_text, write_tiny_corpus

QUERIES = ["strike", "harbour pay", '"interest rates"', "imigration~", "title:levee", "tag:transit",
           "date:2026-07", "levee OR flood -millbrook", "drivrs"]


def corpus_with_problems(folder: Path) -> Path:
    """The tiny corpus plus a duplicate story, a draft and a file that is not an article."""
    write_tiny_corpus(folder)
    (folder / "strike-copy.md").write_text(article_text(
        "Harbour Line drivers strike over pay (updated)", "<p>Drivers walked out again.</p>",
        date="2026-07-08", link="https://news.example.org/a/strike"))
    (folder / "draft.md").write_text(article_text("Unfinished zeppelin story", draft=True))
    (folder / "broken.md").write_text("no front matter here\n")
    return folder


def held(index: Path) -> dict[str, str]:
    with open_whoosh(str(storage.current_generation(index))).searcher() as searcher:
        return {fields["path"]: fields["title"] for fields in searcher.all_stored_fields()}


def answers(index: Path) -> list[tuple[int, list[str], str | None]]:
    with search.open_index(index) as ix:
        return [(r.total, [hit.path for hit in r.hits], r.suggestion) for r in map(ix.search, QUERIES)]


@pytest.fixture
def through_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every batch, however small, through the worker processes."""
    monkeypatch.setattr(indexing, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr("os.cpu_count", lambda: 2)


def test_workers_build_what_one_writer_builds(tmp_path: Path, through_workers: None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = corpus_with_problems(tmp_path / "corpus")
    parallel = update_index(tmp_path / "parallel", corpus)
    monkeypatch.setattr(indexing, "PARALLEL_THRESHOLD", 10**9)
    serial = update_index(tmp_path / "serial", corpus)
    assert (parallel.added, parallel.total) == (serial.added, serial.total) == (6, 6)
    assert sorted(map(str, parallel.skipped)) == sorted(map(str, serial.skipped))
    assert len(parallel.skipped) == 3  # the older duplicate, the draft, the broken file
    assert held(tmp_path / "parallel") == held(tmp_path / "serial")
    assert answers(tmp_path / "parallel") == answers(tmp_path / "serial")


def test_an_update_through_workers_replaces_deletes_and_adds(tmp_path: Path, through_workers: None) -> None:
    corpus = write_tiny_corpus(tmp_path / "corpus")
    update_index(tmp_path / "ix", corpus)
    (corpus / "flood.md").write_text(article_text("Levee repaired in Millbrook", "<p>Crews repaired the levee.</p>"))
    (corpus / "heatwave.md").unlink()
    (corpus / "new.md").write_text(article_text("Zeppelin returns to the harbour", "<p>An airship landed.</p>"))
    summary = update_index(tmp_path / "ix", corpus)
    assert (summary.added, summary.updated, summary.deleted, summary.total) == (1, 1, 1, 6)
    titles = held(tmp_path / "ix")
    assert titles["flood.md"] == "Levee repaired in Millbrook" and "heatwave.md" not in titles
    with search.open_index(tmp_path / "ix") as ix:
        assert [hit.path for hit in ix.search("zepelin~").hits] == ["new.md"]  # a word of the new segment
        assert ix.search("repaired").total == 1 and ix.search("breach").total == 0


def test_spelling_words_are_what_whoosh_spelling_collects() -> None:
    field = TEXT(analyzer=text_analyzer(), spelling=True)
    for text in ("The Mayor's office", "Protesters PROTESTED élections Café, café", "İstanbul ÆSIR 3.5% don’t",
                 "of the and", ""):
        # Whoosh's list now has the stop words the analyzer keeps; "did you mean" never offers them.
        assert spelling_words(text) == set(field.spellable_words(text)) - STOP_WORDS, text


def test_each_spelling_word_is_written_once_per_segment() -> None:
    lists = SpellingLists()
    first = lists.add_to({"title": "Harbour strike", "body": "Drivers strike over pay"})
    second = lists.add_to({"title": "Harbour news", "body": "Drivers and ferries"})
    assert first["spell_title"] == "harbour strike" and first["spell_body"] == "drivers pay strike"
    assert second["spell_title"] == "news" and second["spell_body"] == "ferries"
    assert "spell_body" not in lists.add_to({"title": "", "body": "strike pay"})


def test_an_older_duplicate_written_by_a_worker_is_dropped(tmp_path: Path, through_workers: None) -> None:
    corpus = write_tiny_corpus(tmp_path / "corpus")
    link = "https://news.example.org/a/strike"
    (corpus / "strike-copy.md").write_text(article_text("Drivers strike (final)", "<p>Final.</p>",
                                                        date="2026-07-09", link=link))
    update_index(tmp_path / "ix", corpus)
    # A worker writes the older copy before the main process sees that the index holds a newer one.
    (corpus / "strike-old.md").write_text(article_text("Drivers strike (first)", "<p>Zeppelin.</p>",
                                                       date="2026-07-01", link=link))
    summary = update_index(tmp_path / "ix", corpus)
    assert summary.added == 0 and "strike-old.md" in [s.path for s in summary.skipped if not s.repeated]
    assert "strike-old.md" not in held(tmp_path / "ix")
    with search.open_index(tmp_path / "ix") as ix:
        assert ix.search("zeppelin").total == 0


def test_worker_results_name_files_with_the_keys_handed_out(tmp_path: Path) -> None:
    corpus = write_tiny_corpus(tmp_path / "corpus")
    update_index(tmp_path / "ix", corpus)  # a generation to write into
    folder = str(storage.current_generation(tmp_path / "ix"))
    keys = sorted(path.name for path in corpus.glob("*.md"))
    jobs = [("".join(key), str(corpus / key), str(corpus), None) for key in keys]
    with SegmentWorkers(folder, lambda key: (1, 1), False, count=2) as workers:
        results = {result.key: result for result in workers.results(iter(jobs), len(jobs))}
    # The main process keeps a result per file: it must not hold a second copy of each name.
    assert all(any(result.key is job[0] for result in results.values()) for job in jobs)
    assert sorted(results) == keys and all(result.article for result in results.values())
    assert sum(segment.doc_count_all() for segment in workers.segments if segment) == len(keys)


def test_a_reuters_sized_batch_gets_the_whole_buffer_and_a_huge_one_a_smaller_one() -> None:
    # Half of Reuters (21,578 files) is 201 MB of postings by Whoosh's estimate: it must not spill.
    assert worker_limit_mb(21_578) == WRITER_LIMIT_MB >= 201 * 1.2
    assert worker_limit_mb(431_560) == LARGE_BATCH_LIMIT_MB < WRITER_LIMIT_MB  # 20 x: within ~1 GB


def test_the_stems_workers_computed_reach_the_stem_file(tmp_path: Path, through_workers: None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from search.analysis import text as analysis
    monkeypatch.setattr(analysis, "_stems", {})  # this process knows no stem: the workers' come back
    corpus = write_tiny_corpus(tmp_path / "corpus")
    update_index(tmp_path / "ix", corpus)
    stems = storage.read_stems(storage.current_generation(tmp_path / "ix"))
    assert {"harbour": "harbour", "commuters": "commut"}.items() <= stems.items()


def test_a_fifo_is_skipped_as_not_a_regular_file_without_blocking(tmp_path: Path) -> None:
    """Issue 23 item 5: a FIFO named like an article (there at the scan, or swapped in after it)
    is reported, never opened for a blocking read."""
    import os

    from search.index.update import update_index
    from search.index.workers import NotRegularFile, read_capped, read_file

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.md").write_text(article_text("Harbour news", "<p>Harbour.</p>"), encoding="utf-8")
    os.mkfifo(corpus / "pipe.md")
    with pytest.raises(NotRegularFile):
        read_capped(str(corpus / "pipe.md"))
    assert read_file(("pipe.md", str(corpus / "pipe.md"), str(corpus), None)).error == "not a regular file"
    summary = update_index(tmp_path / "ix", corpus)
    assert [(skip.path, skip.reason) for skip in summary.skipped] == [("pipe.md", "not a regular file")]
    assert summary.added == 1


def test_a_huge_file_is_read_no_further_than_the_cap(tmp_path: Path) -> None:
    """Issue 23 item 4: a file over the size cap is kept only up to the cap plus one byte (its
    digest streamed), so a process reading a 600 MB file stays far below 600 MB."""
    import subprocess
    import sys

    from search.reading.articles import MAX_FILE_BYTES

    huge = tmp_path / "huge.md"
    with open(huge, "wb") as handle:
        handle.write(article_text("Huge", "<p>x</p>").encode())
        handle.truncate(600 * 1024 * 1024)  # sparse: no disk is used
    script = ("import resource, sys\nfrom search.index.workers import read_capped, read_file\n"
              "data, digest = read_capped(sys.argv[1])\n"
              "result = read_file(('huge.md', sys.argv[1], sys.argv[2], None))\n"
              "print(len(data), bool(result.error or result.article), "
              "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)")
    done = subprocess.run([sys.executable, "-c", script, str(huge), str(tmp_path)], capture_output=True,
                          text=True, check=True, timeout=120)
    kept, answered, peak_mb = done.stdout.split()
    assert int(kept) == MAX_FILE_BYTES + 1 and answered == "True"
    assert int(peak_mb) < 250, done.stdout
