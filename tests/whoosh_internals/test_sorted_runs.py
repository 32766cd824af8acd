"""Sorted runs: the pool's faster sort and batched run files give what Whoosh's own methods give."""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import PostingPool, SegmentWriter

from search.whoosh_internals import sorted_runs
from search.index.schema import build_schema
from search.index.workers import SpellingLists, add_article, read_file
from search.whoosh_internals.sorted_runs import RUN_BATCH, WHOOSH_POOL_METHODS, sorted_postings
from search.whoosh_internals.reading import create_whoosh, open_whoosh

from tests.conftest import article_text

# A document's postings as a writer adds them: (field, term) pairs, each posted once.
_documents = st.lists(
    st.lists(st.tuples(st.sampled_from(["body", "date", "id", "title"]), st.binary(max_size=3)),
             unique=True, max_size=12),
    max_size=40)


def _pool_postings(documents: list[list[tuple[str, bytes]]]) -> list[tuple[Any, ...]]:
    """The pool's postings of ``documents`` numbered in the order added, as a writer posts them."""
    return [(field, term, docnum, float(len(term)), term * 2 or None)
            for docnum, postings in enumerate(documents) for field, term in postings]


@given(_documents)
@settings(max_examples=300, deadline=None)
def test_postings_sort_as_whole_tuples_do(documents: list[list[tuple[str, bytes]]]) -> None:
    postings = _pool_postings(documents)
    assert list(sorted_postings(postings)) == sorted(postings)


def _pool(folder: Path, limit_mb: float) -> Any:
    return PostingPool(FileStorage(str(folder)), None, limitmb=limit_mb)


def test_spilled_runs_merge_back_in_order_and_are_removed(tmp_path: Path) -> None:
    postings = _pool_postings([[("body", b"w%d" % (n % 7)), ("id", b"%d" % n)] for n in range(3 * RUN_BATCH)])
    pool = _pool(tmp_path, 0.1)  # spills a run every few hundred postings
    for posting in postings:
        pool.add(posting)
    assert len(pool.runs) > 5
    assert list(pool.items()) == sorted(postings)
    assert list(tmp_path.iterdir()) == []


def test_runs_are_batched_and_whooshs_own_runs_still_read(tmp_path: Path) -> None:
    postings = sorted(_pool_postings([[("body", b"a"), ("body", b"b")]] * (RUN_BATCH + 10)))
    pool = _pool(tmp_path, 128)
    path, file = pool._new_run()
    pool._write_run(file, postings)
    with pool.tempstore.open_file(path).raw_file() as raw:
        assert len(pickle.load(raw)) == RUN_BATCH  # one pickle per batch, not per posting
    assert list(pool._read_run(path)) == postings
    path, file = pool._new_run()
    WHOOSH_POOL_METHODS["_write_run"](pool, file, postings)  # a posting per pickle
    assert list(pool._read_run(path)) == postings


def _segment_contents(folder: Path) -> dict[str, object]:
    """What a reader gets from the index in ``folder``: every posting with its value, and stored fields."""
    with open_whoosh(str(folder)).reader() as reader:
        postings = {}
        for key in reader.all_terms():
            matcher = reader.postings(*key)
            items = []
            while matcher.is_active():
                items.append((matcher.id(), matcher.weight(), matcher.value()))
                matcher.next()
            postings[key] = items
        return {"postings": postings, "stored": list(reader.iter_docs())}


@pytest.mark.parametrize("limit_mb", [256, 0.02])  # all postings in memory; many spilled runs
def test_segments_hold_what_whooshs_pool_gives(tmp_path: Path, tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch,
                                               limit_mb: float) -> None:
    (tiny_corpus / "more.md").write_text(article_text(
        "Rivers flood", "<p>The rivers flooded; the rivers flood again, and again.</p>" * 30, tags=("floods",)))
    articles = [read_file((p.name, str(p), str(tiny_corpus), None)).article for p in sorted(tiny_corpus.glob("*.md"))]

    def write(folder: Path) -> dict[str, object]:
        folder.mkdir()
        writer = SegmentWriter(create_whoosh(str(folder), build_schema()), limitmb=limit_mb)
        spelling = SpellingLists()
        for number, article in enumerate(articles * 3):
            add_article(writer, spelling, article, f"{number}.md", 10, 20, "digest")
        spilled = bool(writer.pool.runs)
        writer.commit()
        return {**_segment_contents(folder), "spilled": spilled}

    fast = write(tmp_path / "fast")
    for name, method in WHOOSH_POOL_METHODS.items():
        monkeypatch.setattr(PostingPool, name, method)
    assert fast == write(tmp_path / "whoosh")
    assert fast["spilled"] == (limit_mb < 1)


def test_the_pool_methods_are_replaced_once() -> None:
    methods = {name: getattr(PostingPool, name) for name in WHOOSH_POOL_METHODS}
    sorted_runs.speed_up_pools()
    assert {name: getattr(PostingPool, name) for name in WHOOSH_POOL_METHODS} == methods
    assert methods["save"] is sorted_runs.save
