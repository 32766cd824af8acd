"""Whoosh fixes: how newsearch opens Whoosh indexes, and measured fixes to how Whoosh reads them.

Parts:
- ``open_whoosh`` / ``create_whoosh``: open or create the Whoosh index in a generation folder
  with plain file reads, not memory maps (see ``open_whoosh``); both call ``apply`` first.
- ``apply``: the fixes, applied once per process (whoosh-reloaded is pinned, so they stay
  valid), with the writer's of ``writing``: ``_read_columns_whole`` (a read per value of a
  column), ``_iterate_columns_whole`` (a read and an unpack per value while iterating one),
  ``_columns_of_every_segment`` (a column of an index of several segments, one of which lacks
  it, lost that segment's documents), ``_union_terms_within`` (fuzzy terms and spelling
  suggestions on an index of several segments) and ``_cache_term_infos`` (the same id or path
  looked up again and again in the term file).
- ``field_length_bytes``: a segment's length byte of a field for every document, read once;
  ``segment_location``: where a segment reader's files are; ``field_words``: a segment's
  terms of a field read in bulk (the spelling lists fuzzy words walk).

Searches read none of Whoosh's postings (the engine reads newsearch's columns); what is used of
Whoosh here is its per-document storage (stored fields, lengths, columns), its ids and paths,
and the spelling word lists.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator
from itertools import accumulate, repeat
from typing import Any

from whoosh import columns
from whoosh.codec import whoosh3
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.index import FileIndex
from whoosh.reading import MultiReader, TermNotFound

from search.whoosh_internals.sorted_runs import speed_up_pools
from search.whoosh_internals.writing import INLINE_LIMIT, SINGLE_POSITIONS, WHOOSH_ORIGINALS, apply_writer_fixes

__all__ = ["INLINE_LIMIT", "SINGLE_POSITIONS", "TERM_CACHE_LIMIT", "WHOOSH_ORIGINALS", "apply", "create_whoosh",
           "field_length_bytes", "field_words", "open_whoosh", "segment_location"]

# Term-table entries a segment reader keeps (``_cache_term_infos``): a few MB at most.
TERM_CACHE_LIMIT = 20_000


def open_whoosh(folder: str) -> Any:
    """The Whoosh index in ``folder``, read with plain file reads.

    With memory maps (Whoosh's default), opening a reader copies each segment's postings and
    term files into memory (``BufferFile`` wraps the map in a ``BytesIO``): on the Reuters
    corpus, 160 MB and 60 ms per searcher, growing with the index. Plain reads use the page
    cache instead and answer the same.
    """
    apply()
    return FileIndex(FileStorage(folder, supports_mmap=False))


def create_whoosh(folder: str, schema: Any) -> Any:
    """Create an empty Whoosh index in ``folder`` and open it like ``open_whoosh``."""
    apply()
    FileStorage(folder).create_index(schema)
    return open_whoosh(folder)


def segment_location(reader: Any) -> tuple[str, str] | None:
    """The folder of a segment reader's files and its segment's id; None for another reader.

    A compound segment reads through an ``OverlayStorage`` of its compound file (``a``) and
    the index folder's storage (``b``).
    """
    segment = reader.segment()  # None for a reader that is not one segment's
    storage = getattr(reader, "_storage", None)
    storage = getattr(storage, "b", storage)
    folder = getattr(storage, "folder", None)
    if segment is None or not isinstance(folder, str):
        return None
    return folder, segment.segment_id()


def field_length_bytes(reader: Any, field: str) -> bytes:
    """A segment reader's length byte of ``field`` for every document (Whoosh's quantised
    lengths: 0 only where the field is empty), read in one call and kept with the reader (a
    segment never changes)."""
    lengths: dict[str, bytes] = reader.__dict__.setdefault("_newsearch_lengths", {})
    if field not in lengths:
        count = reader.doc_count_all()
        column = reader._perdoc._cached_reader(f"_{field}_len", whoosh3.LENGTHS_COLUMN)
        data = b"" if column is None else column._dbfile.get(column._basepos, column._count)
        lengths[field] = data[:count] + bytes(max(0, count - len(data)))
    return lengths[field]


def _read_columns_whole() -> None:
    """Read a segment's column (per-document values: lengths, ids, paths, dates) in one go.

    Without memory maps each value read is a seek and a read of a few bytes: scoring reads a
    field length per posting, and a no-op update reads six values per document (3.4 s of its
    5.6 s on Reuters). Columns are small (a byte to a few dozen per document), so the whole
    column is read on first use and served from memory.
    """
    original = whoosh3.W3PerDocReader._get_column_file

    def get_column_file(self: Any, fieldname: str) -> tuple[Any, int, int]:
        colfile, offset, length = original(self, fieldname)
        try:
            data = colfile.get(offset, length)
        finally:
            colfile.close()
        return BufferFile(data, name=fieldname), 0, length

    whoosh3.W3PerDocReader._get_column_file = get_column_file


def _iterate_columns_whole() -> None:
    """Iterate number and byte-string columns a whole column at a time.

    Whoosh's column readers yield one value at a time: a read and, for numbers, an unpack per
    document (about a microsecond each). An update reads six columns of every document to
    compare the index with the files, and a segment's first date range or recency boost reads
    its dates. Here a number column is one ``struct.unpack`` and a byte-string column slices
    one read; the values are Whoosh's (the tests compare them).
    """
    def numbers(self: Any) -> Iterator[Any]:
        count = max(0, min(self._count, self._doccount))
        data = self._dbfile.get(self._basepos, count * self._fixedlen)
        yield from struct.unpack(f"!{count}{self._typecode}", data)
        yield from repeat(self._default, self._doccount - count)

    def byte_strings(self: Any) -> Iterator[bytes]:
        lengths = self._lengths
        data = self._dbfile.get(self._basepos, sum(lengths))
        return map(data.__getitem__, map(slice, accumulate(lengths, initial=0), accumulate(lengths)))

    WHOOSH_ORIGINALS["numbers"] = columns.NumericColumn.Reader.__iter__
    WHOOSH_ORIGINALS["byte_strings"] = columns.VarBytesColumn.Reader.__iter__
    columns.NumericColumn.Reader.__iter__ = numbers
    columns.VarBytesColumn.Reader.__iter__ = byte_strings


def _columns_of_every_segment() -> None:
    """Give ``MultiReader`` (an index of several segments) a column with a value per document.

    Whoosh's ``MultiReader.column_reader`` leaves out the segments without a file for the
    column: a segment whose articles are all undated (or have no source) writes no date (or
    source) column, so iterating the index's dates came up short and looking one up by document
    number read another segment's, and every update after one that added only undated articles
    failed as "index files are damaged". Each segment's own reader stands in for a missing
    column with its default value (``EmptyColumnReader``), so every segment is asked, also when
    none of them has the column file (every article undated: the dates were then none at all).
    """
    original = MultiReader.column_reader

    def column_reader(self: Any, fieldname: str, column: Any = None, reverse: bool = False,
                      translate: bool = True) -> Any:
        if not self.readers or not (column or self.schema[fieldname].column_type):  # no column to ask
            return original(self, fieldname, column, reverse, translate)
        readers = [reader.column_reader(fieldname, column=column, reverse=reverse, translate=translate)
                   for reader in self.readers]
        return columns.MultiColumnReader(readers, list(self.doc_offsets))

    WHOOSH_ORIGINALS["multi_column_reader"] = original
    MultiReader.column_reader = column_reader


def _union_terms_within() -> None:
    """Give ``MultiReader`` (an index of several segments) a fast ``terms_within``.

    Whoosh's ``MultiReader`` falls back to computing the edit distance to every term of the
    field (2.4 s for a fuzzy word on Reuters), while each segment's reader walks its terms with
    a Levenshtein automaton. The union of the segments' answers is the same set of words.
    """
    def terms_within(self: Any, fieldname: str, text: str, maxdist: int, prefix: int = 0) -> Iterator[str]:
        seen: set[str] = set()
        for reader in self.readers:
            for word in reader.terms_within(fieldname, text, maxdist, prefix=prefix):
                if word not in seen:
                    seen.add(word)
                    yield word

    MultiReader.terms_within = terms_within


def _cache_term_infos() -> None:
    """Keep a segment's term-table entries once looked up (up to ``TERM_CACHE_LIMIT``).

    One query asks a segment about the same term several times (is it there, how many
    documents, where are its postings), and relevance feedback asks for the document frequency
    of 50 candidate words: each answer was a hashed lookup in the term file, three small file
    reads through four layers of Python (about 13 microseconds; 1.3 ms for the 50 words). A
    segment never changes once written, so what a reader looked up stays true while it is open;
    a reader of several segments keeps its document frequencies the same way.
    """
    def cached_info(self: Any, fieldname: str, tbytes: bytes) -> Any:
        cache = self.__dict__.setdefault("_newsearch_infos", {})
        key = (fieldname, tbytes)
        if key not in cache:
            if len(cache) >= TERM_CACHE_LIMIT:
                cache.clear()
            raw = self._tindex.get(self._keycoder(fieldname, tbytes))
            cache[key] = None if raw is None else whoosh3.W3TermInfo.from_bytes(raw)
        return cache[key]

    def term_info(self: Any, fieldname: str, tbytes: bytes) -> Any:
        info = cached_info(self, fieldname, tbytes)
        if info is None:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        return info

    def found_info(self: Any, fieldname: str, tbytes: bytes) -> Any:
        info = cached_info(self, fieldname, tbytes)
        if info is None:  # as Whoosh's: its segment reader answers 0 on a KeyError
            raise KeyError((fieldname, tbytes))
        return info

    def documents_of_term(self: Any, fieldname: str, text: Any) -> int:
        # A multi-segment reader's total over its segments, kept like the entries: a searcher
        # asks for it through four layers of calls per segment (9 us a word on Reuters).
        cache = self.__dict__.setdefault("_newsearch_frequencies", {})
        key = (fieldname, text)
        found: int | None = cache.get(key)
        if found is None:
            if len(cache) >= TERM_CACHE_LIMIT:
                cache.clear()
            found = cache[key] = sum(reader.doc_frequency(fieldname, text) for reader in self.readers)
        return found

    MultiReader.doc_frequency = documents_of_term
    terms_reader = whoosh3.W3TermsReader
    terms_reader.__contains__ = lambda self, term: cached_info(self, *term) is not None
    terms_reader.term_info = term_info
    terms_reader.doc_frequency = lambda self, fieldname, tbytes: found_info(self, fieldname, tbytes).doc_frequency()
    terms_reader.frequency = lambda self, fieldname, tbytes: found_info(self, fieldname, tbytes).weight()


def apply() -> None:
    """Apply every fix of this package to Whoosh's classes, once per process.

    Called by ``open_whoosh`` and ``create_whoosh``, through which every index is opened or
    written, so no code reaches Whoosh's readers or writers without them, and importing this
    module changes nothing by itself.
    """
    if getattr(whoosh3.W3PerDocReader, "_newsearch_fixed", False):
        return
    apply_writer_fixes()
    speed_up_pools()
    _read_columns_whole()
    _iterate_columns_whole()
    _columns_of_every_segment()
    _union_terms_within()
    _cache_term_infos()
    whoosh3.W3PerDocReader._newsearch_fixed = True


# Bytes of the term file read at a time by ``field_words``.
_WORDS_CHUNK = 1 << 20
_KEY_LENGTHS = struct.Struct("!ii")  # Whoosh's OrderedHashReader record: key length, value length


def field_words(reader: Any, field: str) -> list[bytes]:
    """A segment's terms of ``field``, in order: what ``reader.lexicon(field)`` yields, read a
    megabyte of the term file at a time and split in memory, where Whoosh reads each record
    with two seeks and reads (the spelling lists of 20 x Reuters, 140,000 words: 1.0 -> 0.1 s,
    a cost of the first fuzzy word or suggestion of a process). Falls back to the lexicon for
    a reader laid out otherwise."""
    terms = getattr(reader, "_terms", None)
    table = getattr(terms, "_tindex", None)
    fieldmap = getattr(terms, "_fieldmap", None)
    if table is None or fieldmap is None or not hasattr(table, "closest_key_pos") or field not in fieldmap:
        return list(reader.lexicon(field))
    prefix = struct.pack("!H", fieldmap[field])
    position = table.closest_key_pos(prefix)
    end = table.endofdata
    words: list[bytes] = []
    buffer, start = b"", position  # ``buffer`` holds the file from ``start`` on
    while position is not None and position < end:
        at = position - start
        if at + _KEY_LENGTHS.size > len(buffer) or \
                at + _KEY_LENGTHS.size + _KEY_LENGTHS.unpack_from(buffer, at)[0] > len(buffer):
            start, buffer = position, table.dbfile.get(position, min(_WORDS_CHUNK, end - position))
            at = 0
            if _KEY_LENGTHS.size > len(buffer) or \
                    _KEY_LENGTHS.size + _KEY_LENGTHS.unpack_from(buffer, 0)[0] > len(buffer):
                start, buffer = position, table.dbfile.get(position, end - position)  # a huge record
        keylength, datalength = _KEY_LENGTHS.unpack_from(buffer, at)
        key = buffer[at + _KEY_LENGTHS.size:at + _KEY_LENGTHS.size + keylength]
        if key[:2] != prefix:
            break
        words.append(key[2:])
        position += _KEY_LENGTHS.size + keylength + datalength
    return words
