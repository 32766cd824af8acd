"""Whoosh fixes, reading side: plain file reads, whole columns, term lookups, fuzzy terms across segments."""
from __future__ import annotations

from pathlib import Path

import pytest
from whoosh.reading import IndexReader, TermNotFound

import search
from search.index import storage
from search.index.update import add_articles, update_index
from search.whoosh_internals.reading import open_whoosh

from tests.conftest import article_text


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


def test_term_lookups_answer_as_the_term_table_does_and_the_cache_stays_bounded(
        tmp_path: Path, tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from search.whoosh_internals import reading as whoosh_fixes

    update_index(tmp_path / "ix", tiny_corpus)
    ix = open_whoosh(str(storage.current_generation(tmp_path / "ix")))
    monkeypatch.setattr(whoosh_fixes, "TERM_CACHE_LIMIT", 5)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        terms = reader._terms
        table = list(terms.items())  # read straight from the term file, no lookups
        assert len(table) > 20
        for _round in range(2):  # the second round answers from the cache
            for (field, text), info in table:
                assert (field, text) in terms
                assert terms.term_info(field, text).doc_frequency() == info.doc_frequency()
                assert terms.doc_frequency(field, text) == info.doc_frequency()
                assert terms.frequency(field, text) == info.weight()
                assert len(terms._newsearch_infos) <= 5
        assert ("body", b"zzzznotaword") not in terms
        assert reader.doc_frequency("body", "zzzznotaword") == 0 and reader.frequency("body", "zzzznotaword") == 0
        with pytest.raises(TermNotFound):
            terms.term_info("body", b"zzzznotaword")


def test_document_frequencies_over_segments_are_the_sums_and_the_cache_stays_bounded(
        tmp_path: Path, tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch, whoosh_oracle: None) -> None:
    from search.whoosh_internals import reading as whoosh_fixes

    update_index(tmp_path / "ix", tiny_corpus)
    (tiny_corpus / "extra.md").write_text(article_text("Strike extra", "<p>Another strike and a fire.</p>"))
    update_index(tmp_path / "ix", tiny_corpus)  # a second segment
    ix = open_whoosh(str(storage.current_generation(tmp_path / "ix")))
    monkeypatch.setattr(whoosh_fixes, "TERM_CACHE_LIMIT", 3)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        assert len(reader.readers) == 2
        words = [("body", "strike"), ("body", b"fire"), ("title", "strike"), ("body", "zzzznotaword"), ("tags", "strike")]
        expected = {word: sum(segment.doc_frequency(*word) for segment in reader.readers) for word in words}
        assert all(segment.doc_frequency("body", "strike") for segment in reader.readers)  # both count
        assert expected[("body", "zzzznotaword")] == 0
        for _round in range(2):  # the second round answers from the cache, which is cleared when full
            assert {word: searcher.doc_frequency(*word) for word in words} == expected
            assert len(reader._newsearch_frequencies) <= 3


def test_columns_iterated_whole_give_whooshs_values(tmp_path: Path, tiny_corpus: Path) -> None:
    """Every number and byte-string column of an index of two segments (one with an undated
    article, so a date column holds its default) reads the same as Whoosh's own iteration."""
    from whoosh import columns

    from search.whoosh_internals.reading import WHOOSH_ORIGINALS
    update_index(tmp_path / "ix", tiny_corpus)
    (tiny_corpus / "extra.md").write_text(article_text("Undated note", "<p>No date here.</p>", date=None))
    update_index(tmp_path / "ix", tiny_corpus)
    ix = open_whoosh(str(storage.current_generation(tmp_path / "ix")))
    kinds = {columns.NumericColumn.Reader: "numbers", columns.VarBytesColumn.Reader: "byte_strings"}
    checked = set()
    with ix.searcher() as searcher:
        for reader in searcher.reader().leaf_readers():
            for name in ("date", "size", "mtime_ns", "path", "id", "digest"):
                column = reader[0].column_reader(name, translate=False)
                if type(column) not in kinds:  # a segment with no value in the column
                    continue
                original = WHOOSH_ORIGINALS[kinds[type(column)]]
                assert list(column) == list(original(column)), name
                assert len(list(column)) == reader[0].doc_count_all()
                checked.add(kinds[type(column)])
    assert checked == {"numbers", "byte_strings"}


@pytest.mark.parametrize(("column", "values", "written", "documents"), [
    ("numbers", [5, -3], 3, 5),  # documents past the last value written read the default
    ("byte_strings", [b"ab", b"c"], 3, 3),
])
def test_a_column_iterated_whole_fills_gaps_as_whoosh_does(column: str, values: list, written: int,
                                                          documents: int) -> None:
    import io

    from whoosh import columns
    from whoosh.filedb.structfile import BufferFile, StructFile

    from search.whoosh_internals.reading import WHOOSH_ORIGINALS
    kind = columns.NumericColumn("q", default=7) if column == "numbers" else columns.VarBytesColumn()
    out = StructFile(io.BytesIO())
    writer = kind.writer(out)
    writer.add(0, values[0])
    writer.add(2, values[1])  # document 1 has no value
    writer.finish(written)
    data = out.file.getvalue()
    reader = kind.reader(BufferFile(data), 0, len(data), documents)
    assert list(reader) == list(WHOOSH_ORIGINALS[column](reader))
    assert len(list(reader)) == documents


def test_a_column_one_segment_lacks_still_has_a_value_per_document(tmp_path: Path, tiny_corpus: Path) -> None:
    """Regression: Whoosh's ``MultiReader`` left out the segments without a column file, so after
    an update that added only an undated article the dates came up one short and
    every later update failed as "index files are damaged"."""
    update_index(tmp_path / "ix", tiny_corpus)
    (tiny_corpus / "undated.md").write_text(article_text("Comet seen", "<p>A comet.</p>", date=None))
    assert update_index(tmp_path / "ix", tiny_corpus).added == 1  # a second segment
    ix = open_whoosh(str(storage.current_generation(tmp_path / "ix")))
    with ix.searcher() as searcher:
        reader = searcher.reader()
        leaves = [leaf for leaf, _offset in reader.leaf_readers()]
        assert len(leaves) == 2 and not leaves[1].has_column("date")
        for name in ("date", "source_name", "path"):
            for translate in (False, True):
                expected = [value for leaf in leaves for value in leaf.column_reader(name, translate=translate)]
                column = reader.column_reader(name, translate=translate)
                assert len(expected) == reader.doc_count_all()
                assert list(column) == expected, name
                assert [column[docnum] for docnum in range(reader.doc_count_all())] == expected, name
    again = update_index(tmp_path / "ix", tiny_corpus)  # the update that failed
    assert (again.added, again.unchanged) == (0, 7)


def test_an_index_of_only_undated_articles_in_two_segments_can_be_updated(tmp_path: Path) -> None:
    """Regression (found by the differential test in test_robustness.py): when no segment had a
    date column (every article undated, written by two updates), the fix above still left the
    column out, so the index had no dates at all: ``stats()`` raised IndexError and every later
    update failed as "index files are damaged"."""
    import search
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "one.md").write_text(article_text("Comet seen", "<p>A comet.</p>", date=None, source=""))
    update_index(tmp_path / "ix", corpus)
    (corpus / "two.md").write_text(article_text("Comet gone", "<p>No comet.</p>", date=None, source=""))
    assert update_index(tmp_path / "ix", corpus).added == 1  # a second segment, no date column in either
    ix = open_whoosh(str(storage.current_generation(tmp_path / "ix")))
    with ix.searcher() as searcher:
        reader = searcher.reader()
        assert len(list(reader.leaf_readers())) == 2 and not reader.has_column("date")
        for translate in (False, True):
            column = reader.column_reader("date", translate=translate)
            assert len(list(column)) == 2
            assert [column[docnum] for docnum in range(2)] == list(column)
    with search.open_index(tmp_path / "ix") as index:
        stats = index.stats()
        assert (stats.articles, stats.first_date, stats.sources) == (2, None, 0)
    again = update_index(tmp_path / "ix", corpus)  # the update that failed
    assert (again.added, again.unchanged) == (0, 2)



@pytest.mark.parametrize("chunk", [None, 64, 7])
def test_field_words_reads_what_the_lexicon_yields(sample_index: search.Index, monkeypatch: pytest.MonkeyPatch,
                                                   chunk: int | None) -> None:
    """The bulk read of a field's terms (fuzzy words' word lists, issue 22) equals Whoosh's
    lexicon, also when records straddle the chunks it reads (tiny chunks force every case)."""
    from search.whoosh_internals import reading
    if chunk is not None:
        monkeypatch.setattr(reading, "_WORDS_CHUNK", chunk)
    searcher = sample_index._searcher()
    for leaf, _offset in searcher.reader().leaf_readers():
        for field in ("spell_body", "spell_title", "id", "path", "no_such_field"):
            expected = list(leaf.lexicon(field)) if field in leaf.schema else []
            if field not in leaf.schema:
                with pytest.raises(Exception):
                    list(leaf.lexicon(field))
                continue
            assert reading.field_words(leaf, field) == expected, field
