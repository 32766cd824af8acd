"""Whoosh fixes: how newsearch opens Whoosh indexes, and measured fixes to Whoosh itself.

Parts:
- ``open_whoosh`` / ``create_whoosh``: open or create the Whoosh index in a generation folder
  with plain file reads, not memory maps (see ``open_whoosh``).
- Applied on import (whoosh-reloaded is frozen, so these stay valid):
  ``_inline_single_postings`` (a posting block per term, even a term with one posting),
  ``_lean_add_postings`` (four calls and a dozen checks per posting written to a segment),
  ``_cache_missing_length_columns`` (a stat per posting while writing a segment),
  ``_read_columns_whole`` (a read per value of a column), ``_union_terms_within`` (fuzzy
  terms and spelling suggestions on an index of several segments) and ``_compact_term_hashes``
  (128 bytes of memory per term while a segment is written).

Every module that opens or writes an index imports this one.
"""
from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Any

from whoosh.codec import whoosh3
from whoosh.codec.base import OutOfOrderError
from whoosh.filedb import filetables
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.index import FileIndex
from whoosh.matching import ListMatcher
from whoosh.reading import MultiReader
from whoosh.util.numeric import byte_to_length

# Terms with fewer postings than this keep them in their term-table entry (see
# ``_inline_single_postings``).
INLINE_LIMIT = 2


def open_whoosh(folder: str) -> Any:
    """The Whoosh index in ``folder``, read with plain file reads.

    With memory maps (Whoosh's default), opening a reader copies each segment's postings and
    term files into memory (``BufferFile`` wraps the map in a ``BytesIO``): on the Reuters
    corpus, 160 MB and 60 ms per searcher, growing with the index. Plain reads use the page
    cache instead and answer the same.
    """
    return FileIndex(FileStorage(folder, supports_mmap=False))


def create_whoosh(folder: str, schema: Any) -> Any:
    """Create an empty Whoosh index in ``folder`` and open it like ``open_whoosh``."""
    FileStorage(folder).create_index(schema)
    return open_whoosh(folder)


def _inline_single_postings() -> None:
    """Write a term with a single posting into the term table, not as a posting block.

    Most terms of a segment occur in one document (ids, paths, digests, the fine tiers of dates,
    spelling words, rare words: 38,000 of 61,000 terms in 2,000 Reuters articles), and each
    block costs two pickles, a zlib call and its own block header (inlining them took a
    quarter off the time of writing a segment of 2,000 articles). Whoosh's format has "inlined"
    postings for this (a ``ListMatcher`` reads them), but its writer never uses them: the default
    limit of 1 inlines no term, and the method it would call is misspelled (``set_inline`` for
    ``set_inlined``). This turns that path on, and makes inlined postings read back as block
    postings do: values ``None`` for fields without values (a merge copies them back into a
    posting pool, which accepts ``None`` but not the empty string); copies of the matcher that
    keep their term (ranking asks each term matcher for its field); and an ``id()`` that does
    not raise once the matcher has run out, as a block matcher's does not (Whoosh's
    ``AndNotMatcher.skip_to`` asks for it: ``HARBO NOT FLOO`` raised IndexError).
    """
    def set_inline(self: Any, ids: Any, weights: Any, values: Any) -> None:
        if len(values) != len(ids):  # a format without values (ids, keywords)
            values = [None] * len(ids)
        self.set_inlined(ids, weights, values)

    def copy(self: Any) -> Any:
        return self.__class__(self._ids, self._weights, self._values, self._format, self._scorer,
                              self._i, self._all_weights, self._term, self._terminfo)

    def last_id(self: Any) -> int:
        ids, at = self._ids, self._i
        return int(ids[at] if at < len(ids) else ids[-1] if ids else -1)

    whoosh3.W3TermInfo.set_inline = set_inline
    ListMatcher.copy = copy
    ListMatcher.id = last_id
    blocklimit, compression, _ = whoosh3.W3Codec.__init__.__defaults__
    whoosh3.W3Codec.__init__.__defaults__ = (blocklimit, compression, INLINE_LIMIT)


def _lean_add_postings() -> None:
    """Write a segment's sorted postings with less work per posting.

    Whoosh's ``FieldWriter.add_postings`` looks up each posting's field length through four
    calls (the column's name is rebuilt every time) and passes the posting on through two
    more, the last asserting the types of all four values (a fifth of the time of writing a
    segment in a profile of one worker). This version reads a field's length column once, when the field starts, and
    appends postings straight to the block; the blocks, terms and files it writes are the same.
    """
    to_length = [None] + [byte_to_length(b) for b in range(1, 256)]  # byte 0: no length

    def field_lengths(lengths: Any, fieldname: str) -> list[int | None] | None:
        if lengths is None:  # a codec without length statistics
            return None
        column = lengths._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
        return None if column is None else [to_length[b] for b in column]

    def add_postings(self: Any, schema: Any, lengths: Any, items: Any) -> None:
        lastfn: str | None = None
        lasttext: bytes | None = None
        field_length: list[int | None] | None = None
        add: Any = None  # the current term's postings writer's add_posting
        for fieldname, btext, docnum, weight, value in items:
            if fieldname != lastfn:
                if lastfn is not None and fieldname < lastfn:
                    raise OutOfOrderError(f"Field {lastfn!r} .. {fieldname!r}")
                if lasttext is not None:
                    self.finish_term()
                if lastfn is not None:
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                field_length = field_lengths(lengths, fieldname)
                lastfn, lasttext = fieldname, None
            elif lasttext and btext < lasttext:
                raise OutOfOrderError(f"Term {fieldname}:{lasttext!r} .. {fieldname}:{btext!r}")
            if docnum == -1:  # Whoosh's marker for spelling words, which it no longer writes
                continue
            if btext != lasttext:
                if lasttext is not None:
                    self.finish_term()
                self.start_term(btext)
                add = self._postwriter.add_posting
                lasttext = btext
            add(docnum, weight, value or b"", field_length[docnum] if field_length else None)
        if lasttext is not None:
            self.finish_term()
        if lastfn is not None:
            self.finish_field()

    def add_posting(self: Any, id_: int, weight: float, vbytes: bytes, length: int | None = None) -> None:
        # Whoosh's W3PostingsWriter.add_posting without its type assertions
        if len(self._ids) >= self._blocklimit:
            self._write_block()
        self._ids.append(id_)
        self._weights.append(weight)
        if weight > self._maxweight:
            self._maxweight = weight
        if vbytes:
            self._values.append(vbytes)
        if length:
            if self._minlength is None or length < self._minlength:
                self._minlength = length
            if length > self._maxlength:
                self._maxlength = length

    whoosh3.W3FieldWriter.add_postings = add_postings
    whoosh3.W3PostingsWriter.add_posting = add_posting


def _cache_missing_length_columns() -> None:
    """Make Whoosh remember that a field has no length column.

    Writing a segment asks for the field length of every posting. For fields without lengths
    (ids, dates, keywords, spelling lists) ``W3PerDocReader._cached_reader`` caches nothing
    and asks the file system again each time: one ``stat`` per posting, a sixth of the time of
    a commit. This caches the "no column" answer too; a segment's columns never change once it
    is written, and only written segments are read.
    """
    original = whoosh3.W3PerDocReader._cached_reader

    def cached_reader(self: Any, fieldname: str, column: Any) -> Any:
        try:
            return self._readers[fieldname]
        except KeyError:
            reader = self._readers[fieldname] = original(self, fieldname, column)
            return reader

    whoosh3.W3PerDocReader._cached_reader = cached_reader


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


def _compact_term_hashes() -> None:
    """Keep the hash of each term of a segment being written in an array, not a tuple.

    Whoosh's ``HashWriter`` (the term table) remembers each key's hash and file position until
    it closes, as a tuple in one of 256 lists: about 128 bytes a term. Ids, paths, digests and
    the fine tiers of dates are unique to a document, about ten terms each, so a worker
    writing 216,000 articles (Reuters x20) grew by 245 MB while finishing its segment. Two
    numbers in an array take 16 bytes (it now grows by 50 MB); the tables written are the same.
    """
    original_init = filetables.HashWriter.__init__
    original_write_hashes = filetables.HashWriter._write_hashes

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.buckets = [array("Q") for _ in range(256)]  # hash, position, hash, position, ...

    def add(self: Any, key: bytes, value: bytes) -> None:
        dbfile = self.dbfile
        position = dbfile.tell()
        dbfile.write(filetables._lengths.pack(len(key), len(value)))
        dbfile.write(key)
        dbfile.write(value)
        hashed = self.hashfn(key)
        bucket = self.buckets[hashed & 255]
        bucket.append(hashed)
        bucket.append(position)

    def write_hashes(self: Any) -> None:
        packed = self.buckets
        # Whoosh's own table writing, given one bucket's (hash, position) pairs at a time.
        self.buckets = (list(zip(bucket[::2], bucket[1::2])) for bucket in packed)
        try:
            original_write_hashes(self)
        finally:
            self.buckets = packed

    filetables.HashWriter.__init__ = init
    filetables.HashWriter.add = add
    filetables.HashWriter._write_hashes = write_hashes


if not getattr(whoosh3.W3PerDocReader, "_newsearch_fixed", False):
    _inline_single_postings()
    _lean_add_postings()
    _cache_missing_length_columns()
    _read_columns_whole()
    _union_terms_within()
    _compact_term_hashes()
    whoosh3.W3PerDocReader._newsearch_fixed = True
