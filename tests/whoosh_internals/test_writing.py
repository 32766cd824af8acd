"""Whoosh's writer fixes: segments written as Whoosh writes them, inlined single postings,
date terms, term tables kept compact."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.index import storage
from search.index.update import update_index
from search.whoosh_internals.reading import open_whoosh

from tests.conftest import article_text


def test_terms_with_one_posting_are_inlined_and_read_back_like_blocks(tmp_path: Path, tiny_corpus: Path, whoosh_oracle: None) -> None:
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


def _contents(folder: Path) -> dict[str, object]:
    """Everything a reader gets from the index in ``folder``: postings, lengths, stored fields."""
    ix = open_whoosh(str(folder))
    with ix.reader() as reader:
        postings = {key: _posting_list(reader.postings(*key)) for key in reader.all_terms()}
        return {"postings": postings, "stored": list(reader.iter_docs()),
                "lengths": {(n, f): reader.doc_field_length(n, f) for n in range(reader.doc_count_all())
                            for f in ix.schema.scorable_names()},
                "terminfo": {key: vars(reader.term_info(*key)) for key in postings}}


def _posting_list(matcher: object) -> list[tuple[object, ...]]:
    items = []
    while matcher.is_active():  # type: ignore[attr-defined]
        items.append((matcher.id(), matcher.weight(), matcher.value()))  # type: ignore[attr-defined]
        matcher.next()  # type: ignore[attr-defined]
    return items


def test_lean_document_writing_writes_what_whoosh_writes(tmp_path: Path, tiny_corpus: Path,
                                                         monkeypatch: pytest.MonkeyPatch, whoosh_oracle: None) -> None:
    """Positions straight from the analyzer, the lean add_document (pool spills included) and
    add_postings (terms of one posting written straight to the term table)."""
    from whoosh import fields, formats
    from whoosh.codec import whoosh3
    from whoosh.writing import SegmentWriter

    from search.analysis.text import STOP_WORDS
    from search.index.schema import build_schema
    from search.index.workers import SpellingLists, add_article, read_file
    from search.whoosh_internals.reading import create_whoosh
    from search.whoosh_internals.writing import WHOOSH_ORIGINALS

    (tiny_corpus / "more.md").write_text(article_text(
        "The Rivers’ floods", "<p>The rivers flooded; the RIVERS flood again, and again.</p>" * 40,
        tags=("Floods", "rivers"), date="2026-02-03T04:05:06+02:00"))
    articles = [read_file((p.name, str(p), str(tiny_corpus), None)).article for p in sorted(tiny_corpus.glob("*.md"))]

    def write(folder: Path) -> dict[str, object]:
        folder.mkdir()
        writer = SegmentWriter(create_whoosh(str(folder), build_schema()), limitmb=0.01)  # spills often
        spelling = SpellingLists()
        for number, article in enumerate(articles):
            add_article(writer, spelling, article, f"{number}.md", 10, 20, "digest")
        writer.commit()
        return _contents(folder)

    lean = write(tmp_path / "lean")
    monkeypatch.setattr(SegmentWriter, "add_document", WHOOSH_ORIGINALS["add_document"])
    monkeypatch.setattr(fields.FieldType, "index", WHOOSH_ORIGINALS["index"])
    whoosh_word_values = WHOOSH_ORIGINALS["word_values"]

    def stop_words_out_of_lengths(self: object, value: object, analyzer: object, **kwargs: object) -> list[tuple[object, ...]]:
        # newsearch's one deliberate difference: a stop word adds nothing to a field's length
        return [(word, 0 if word in STOP_WORDS else freq, weight, encoded)
                for word, freq, weight, encoded in whoosh_word_values(self, value, analyzer, **kwargs)]
    monkeypatch.setattr(formats.Positions, "word_values", stop_words_out_of_lengths)
    monkeypatch.setattr(whoosh3.W3FieldWriter, "add_postings", WHOOSH_ORIGINALS["add_postings"])
    monkeypatch.setattr(whoosh3.W3PostingsWriter, "add_posting", WHOOSH_ORIGINALS["add_posting"])
    monkeypatch.setattr(fields.DATETIME, "index", WHOOSH_ORIGINALS["date_index"])
    assert lean == write(tmp_path / "whoosh")
    assert 80.0 in [weight for _, weight, _ in lean["postings"][("body", b"river")]]  # type: ignore[index]
    assert ("body", b"the") in lean["postings"]  # type: ignore[operator]  # stop words are indexed


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999_999)))
@settings(max_examples=200, deadline=None)
def test_a_dates_tier_terms_are_the_ones_whoosh_makes(moment: datetime) -> None:
    from search.index.schema import build_schema
    from search.whoosh_internals.writing import WHOOSH_ORIGINALS

    field = build_schema()["date"]
    whooshs = list(WHOOSH_ORIGINALS["date_index"](field, moment))
    assert len(whooshs) == 16 and field.index(moment) == whooshs
    assert list(field.index([moment])) == list(WHOOSH_ORIGINALS["date_index"](field, [moment]))


_KEYS = sorted(f"term{number:06d}".encode() for number in range(20_000))


def _term_table(keys: list[bytes], meddle: bool = False, fielded: bool = False) -> tuple[bytes, int, object]:
    """A term table of ``keys`` (each key's value is the key reversed): its bytes, length and writer.

    ``fielded``: Whoosh's table with an index per field, which writes between entries.
    """
    from io import BytesIO

    from whoosh.filedb.filetables import FieldedOrderedHashWriter, OrderedHashWriter
    from whoosh.filedb.structfile import StructFile

    raw = BytesIO()
    writer: Any = (FieldedOrderedHashWriter if fielded else OrderedHashWriter)(StructFile(raw))
    for field in ("body", "title") if fielded else ("",):
        if fielded:
            writer.start_field(field)
        for key in keys:
            writer.add(key, key[::-1])
        if fielded:
            writer.end_field()
    if meddle:
        writer.dbfile.write(b"x")
    raw.close = lambda: None  # type: ignore[method-assign]  # read back what was written
    length = writer.close()
    return raw.getvalue(), length, writer


def test_a_term_table_kept_in_arrays_reads_back_every_key() -> None:
    from io import BytesIO

    from whoosh.filedb.filetables import OrderedHashReader
    from whoosh.filedb.structfile import StructFile

    data, length, writer = _term_table(_KEYS)
    assert all(type(bucket).__name__ == "array" for bucket in writer.buckets)  # type: ignore[attr-defined]
    reader = OrderedHashReader(StructFile(BytesIO(data)), length)
    assert all(reader[key] == key[::-1] for key in _KEYS)
    assert b"term999999" not in reader and reader.closest_key(b"term000100x") == b"term000101"


def test_a_term_table_is_written_byte_for_byte_as_whoosh_writes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from whoosh.filedb import filetables

    from search.whoosh_internals.writing import WHOOSH_ORIGINALS

    ours = _term_table(_KEYS)[:2], _term_table(_KEYS[:3000], fielded=True)[:2]
    for name, method in WHOOSH_ORIGINALS.items():
        owner, _, attribute = name.partition(".")
        if owner in ("HashWriter", "OrderedHashWriter"):
            monkeypatch.setattr(getattr(filetables, owner), attribute, method)
    assert (_term_table(_KEYS)[:2], _term_table(_KEYS[:3000], fielded=True)[:2]) == ours


def test_a_term_table_refuses_to_close_when_written_around_its_writer() -> None:
    with pytest.raises(RuntimeError, match="counted"):
        _term_table(_KEYS[:10], meddle=True)
