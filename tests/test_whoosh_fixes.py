"""Whoosh fixes: plain file reads, cached missing columns, and fuzzy terms across segments."""
from __future__ import annotations

from pathlib import Path

from whoosh.reading import IndexReader

from search import storage
from search.indexing import add_articles, update_index
from search.whoosh_fixes import open_whoosh

from .conftest import article_text


def test_fuzzy_terms_of_several_segments_are_whooshs_own_answer(tmp_path: Path, tiny_corpus: Path) -> None:
    update_index(tmp_path / "ix", tiny_corpus)
    (tiny_corpus / "extra.md").write_text(article_text("Imigration office opens", "<p>Immigrants queue.</p>"))
    update_index(tmp_path / "ix", tiny_corpus)  # a second segment
    ix = open_whoosh(str(storage.current_generation(tmp_path / "ix")))
    assert not ix.storage.supports_mmap
    with ix.searcher() as searcher:
        reader = searcher.reader()
        assert len(reader.leaf_readers()) == 2
        for word, distance in (("immigraton", 1), ("imigration", 2), ("harbor", 1), ("zzzz", 1)):
            fast = set(reader.terms_within("spell_body", word, distance))
            slow = set(IndexReader.terms_within(reader, "spell_body", word, distance))  # Whoosh's scan
            assert fast == slow, word
        assert {"immigration", "imigration"} <= set(reader.terms_within("spell_title", "imigration", 1)) | \
            set(reader.terms_within("spell_body", "imigration", 1))


def test_api_added_articles_are_searchable_by_spelling(tmp_path: Path, tiny_corpus: Path) -> None:
    import search
    update_index(tmp_path / "ix", tiny_corpus)
    article = search.Article(id="api-1", path="api-1", title="Zeppelin hangar", description="", body="Airships return.",
                             tags=(), categories=(), source="", link="", slug="", image="", date=None, draft=False)
    add_articles(open_whoosh(str(storage.current_generation(tmp_path / "ix"))), [article])
    with search.open_index(tmp_path / "ix") as ix:
        assert [hit.id for hit in ix.search("zepelin~").hits] == ["api-1"]


def test_terms_with_one_posting_are_inlined_and_read_back_like_blocks(tmp_path: Path, tiny_corpus: Path) -> None:
    """Single-posting terms live in the term table; searches, deletions and merges still see them."""
    update_index(tmp_path / "ix", tiny_corpus)
    (tiny_corpus / "extra.md").write_text(article_text("Zeppelin hangar opens", "<p>Airships return.</p>"))
    update_index(tmp_path / "ix", tiny_corpus)  # a second segment, with ids, paths and words of one posting
    ix = open_whoosh(str(storage.current_generation(tmp_path / "ix")))
    with ix.reader() as reader:
        assert reader.term_info("path", "extra.md").is_inlined()
        assert reader.term_info("title", "zeppelin").is_inlined()
        segment, _ = next((r, base) for r, base in reader.leaf_readers() if ("path", "extra.md") in r)
        matcher = segment.postings("path", "extra.md")
        assert matcher.value() is None  # as a block of a field without values gives
        assert matcher.copy().term() == ("path", b"extra.md")
        postings = segment.postings("title", "zeppelin")
        assert list(postings.copy().all_ids()) == [matcher.id()]
        assert postings.value_as("positions") == [0]
    ix.writer().commit(optimize=True)  # merging the segments copies the inlined postings into one
    with ix.reader() as reader:
        assert reader.is_atomic() and reader.doc_count() == len(list(tiny_corpus.glob("*.md")))
        assert list(reader.postings("path", "extra.md").all_ids()) == [reader.first_id("path", "extra.md")]
    import search
    with search.open_index(tmp_path / "ix") as index:
        assert [hit.id for hit in index.search('"zeppelin hangar"').hits] == [index.search("zeppelin").hits[0].id]
        assert index.search("zepelin~").total == 1
    update_index(tmp_path / "ix", tiny_corpus)
    (tiny_corpus / "extra.md").unlink()
    update_index(tmp_path / "ix", tiny_corpus)  # deleting by the inlined path term
    with search.open_index(tmp_path / "ix") as index:
        assert index.search("zeppelin").total == 0


def test_an_exhausted_inlined_posting_list_still_answers_id_as_a_block_list_does() -> None:
    from whoosh.matching import AndNotMatcher, ListMatcher

    # AndNotMatcher.skip_to asks the positive side for its id after it has run out.
    matcher = AndNotMatcher(ListMatcher([1, 3]), ListMatcher([1, 5]))
    assert matcher.id() == 3
    matcher.skip_to(4)
    assert not matcher.is_active()
    assert ListMatcher([]).id() == -1


def test_a_term_table_kept_in_arrays_reads_back_every_key() -> None:
    from io import BytesIO

    from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter
    from whoosh.filedb.structfile import StructFile

    keys = sorted(f"term{number:06d}".encode() for number in range(20_000))
    raw = BytesIO()
    writer = OrderedHashWriter(StructFile(raw))
    for key in keys:
        writer.add(key, key[::-1])
    assert all(type(bucket).__name__ == "array" for bucket in writer.buckets)  # 16 bytes a term
    raw.close = lambda: None  # type: ignore[method-assign]  # read back what was written
    length = writer.close()
    reader = OrderedHashReader(StructFile(BytesIO(raw.getvalue())), length)
    assert all(reader[key] == key[::-1] for key in keys)
    assert b"term999999" not in reader and reader.closest_key(b"term000100x") == b"term000101"
