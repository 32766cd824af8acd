"""Whoosh fixes: how newsearch opens Whoosh indexes, and two measured fixes to Whoosh itself.

Parts:
- ``open_whoosh`` / ``create_whoosh``: open or create the Whoosh index in a generation folder
  with plain file reads, not memory maps (see ``open_whoosh``).
- Applied on import (whoosh-reloaded is frozen, so these stay valid):
  ``_cache_missing_length_columns`` (a stat per posting while writing a segment),
  ``_read_columns_whole`` (a read per value of a column) and ``_union_terms_within`` (fuzzy
  terms and spelling suggestions on an index of several segments).

Every module that opens or writes an index imports this one.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whoosh.codec import whoosh3
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.index import FileIndex
from whoosh.reading import MultiReader


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


if not getattr(whoosh3.W3PerDocReader, "_newsearch_fixed", False):
    _cache_missing_length_columns()
    _read_columns_whole()
    _union_terms_within()
    whoosh3.W3PerDocReader._newsearch_fixed = True
