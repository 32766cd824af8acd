"""Posting lists read whole from Whoosh's files (search/postings.py), against Whoosh's reader."""
from __future__ import annotations

import search


def test_posting_blocks_read_whole_equal_whooshs_matcher(sample_index: search.Index) -> None:
    from search.engine.postings import _read_blocks, _step_through

    searcher = sample_index._searcher()
    reader = searcher.reader().leaf_readers()[0][0]
    lists = 0
    for field, text in (("body", b"said"), ("body", b"fire"), ("title", b"fire"), ("tags", b"strike")):
        info = reader._terms.term_info(field, text)
        if info.is_inlined():
            continue
        offset, length = info.extent()
        length = length[0] if isinstance(length, tuple) else length
        raw = reader._terms._postfile.get(offset, length)
        whoosh = _step_through(reader._terms.matcher(field, text, reader.schema[field].format))
        ids, weights, values = _read_blocks(raw, True) or ((), (), ())
        assert (list(ids), list(weights), list(values)) == (list(whoosh[0]), list(whoosh[1]), list(whoosh[2]))
        assert (_read_blocks(raw, False) or ())[:2] == (ids, weights)  # values cut off, same numbers
        as_text = _read_blocks(raw, True, None, True) or ((), (), ())
        assert as_text == (ids, weights, [value.decode("latin-1") for value in values])
        assert _read_blocks(raw[:-3], False) is None  # cut short: read Whoosh's way instead
        lists += 1
    assert lists >= 2


def test_posting_blocks_without_wanted_documents_are_skipped() -> None:
    from whoosh.fields import TEXT, Schema
    from whoosh.filedb.filestore import RamStorage

    from search.engine.postings import Segment, _read_blocks

    ix = RamStorage().create_index(Schema(body=TEXT))
    with ix.writer() as writer:
        for number in range(1000):
            writer.add_document(body="common " + ("rare" if number % 250 == 0 else "filler"))
    with ix.searcher() as searcher:
        reader = searcher.reader()
        offset, length = reader._terms.term_info("body", b"common").extent()
        raw = reader._terms._postfile.get(offset, length[0] if isinstance(length, tuple) else length)
        everything = _read_blocks(raw, False)
        assert everything is not None and list(everything[0]) == list(range(1000))
        with_positions = _read_blocks(raw, True)
        assert with_positions is not None and with_positions[:2] == everything[:2]
        assert len(with_positions[2]) == 1000 and everything[2] == []
        ids, weights, _values = _read_blocks(raw, False, [5, 700]) or ((), (), ())
        assert {5, 700} <= set(ids) and len(ids) < 1000 and len(ids) == len(weights)
        assert set(ids) <= set(everything[0]) and list(ids) == sorted(ids)
        assert _read_blocks(raw, False, []) == ([], [], [])
        assert _read_blocks(raw, False, list(range(1000))) == everything
        segment = Segment(searcher, 0)
        assert segment.postings("body", b"missing") == ((), ())
        assert set(segment.postings("body", b"common", [250])[0]) >= {250}
