"""Posting lists read whole: the document numbers, weights and positions of a term.

Parts:
- ``Segment``: one segment of a searcher, with its field length bytes (Whoosh's quantised
  lengths, one byte per document), ``postings`` / ``postings_and_values``, and what reads its
  columns whole: ``column_order`` (documents in date order, kept by the writer), ``column_values``
  and ``value_counts`` (facet counts).
- ``supported``: whether every segment of a searcher is a Whoosh segment this module reads.

Whoosh reads a posting list one posting at a time, through a matcher. Here a term's whole list is
read with one file read and decoded block by block in C (``pickle``, ``zlib``,
``itertools.accumulate``); ``evaluation`` scores the lists. whoosh-reloaded is pinned (2.7.5),
so its W3 layout (``_read_blocks``) stays as read here; a list that does not parse is read
through Whoosh's matcher instead (``_step_through``).
"""
from __future__ import annotations

import io
import pickle
import struct
import zlib
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Collection, Sequence
from itertools import accumulate, compress, repeat
from operator import not_
from pathlib import Path
from typing import Any

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.reading import SegmentReader, TermNotFound

from search.index import storage
from search.index.schema import DATE_FIELD
from search.whoosh_internals.reading import field_length_bytes, segment_location

# A block's length in Whoosh's W3 posting lists (``StructFile.write_int``).
_INT = struct.Struct("!i")
# Where a block's values begin in its protocol-2 pickle: a MARK, then the global that rebuilds
# bytes; and what closes a pickle cut there into an (ids, weights) pair: TUPLE2, STOP.
_VALUES_START = b"(c_codecs\nencode\n"
_CLOSE_PAIR = b"\x86."
# The global a block's pickle calls to rebuild each value's bytes from their latin-1 text, and
# one that keeps the text instead (``slice(text, "latin1")``: a C call, no encoding).
_ENCODE = b"c_codecs\nencode\n"
_KEEP_TEXT = b"c__builtin__\nslice\n"


def supported(searcher: Any) -> bool:
    """Whether every segment of the searcher can be read a posting list at a time."""
    return all(isinstance(sub.reader(), SegmentReader) for sub, _offset in searcher.leaf_searchers())


class Segment:
    """One segment: its searcher, reader, document number offset and cached length bytes."""

    def __init__(self, searcher: Any, offset: int) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.offset = offset
    def length_bytes(self, field: str) -> bytes:
        """The field's length byte for every document (Whoosh's quantised field lengths)."""
        return field_length_bytes(self.reader, field)

    def column_order(self, field: str) -> tuple[Sequence[int], Sequence[int]] | None:
        """The documents with a value in the field's numeric column (0 counts as none), in
        ascending order of it: (values, document numbers); deleted documents left out. None
        when the field has no column. Built once per segment reader (a segment never changes)."""
        orders: dict[str, Any] = self.reader.__dict__.setdefault("_newsearch_orders", {})
        if field not in orders:
            order = _kept_order(self.reader) if field == DATE_FIELD else None
            if order is None:
                order = column_order(self.reader, field)
            orders[field] = None if order is None else _without_deleted(order, self.reader.deleted_docs_set)
        found: tuple[Sequence[int], Sequence[int]] | None = orders[field]
        return found

    def column_values(self, field: str) -> Sequence[int]:
        """The value of the field's numeric column for every document (0 where it has none),
        read once per segment reader."""
        columns: dict[str, Any] = self.reader.__dict__.setdefault("_newsearch_columns", {})
        if field not in columns:
            columns[field] = array("q", self.reader.column_reader(field, translate=False)) \
                if self.reader.has_column(field) else array("q", bytes(8 * self.reader.doc_count_all()))
        values: Sequence[int] = columns[field]
        return values

    def value_counts(self, field: str, docs: Collection[int]) -> Counter[str]:
        """How many of ``docs`` hold each value of the field, named as Whoosh's grouping names
        them: a column's value, or for a field without a column each of its words (a document
        may then count under several). Counted in C from what ``_values_of`` keeps."""
        kind, first, second = self._values_of(field)
        if kind == "column":
            names: list[str] = second
            return Counter({names[code]: count for code, count in Counter(map(first.__getitem__, docs)).items()})
        counts: Counter[str] = Counter()
        for name, ids in zip(first, second):
            found = sum(map(docs.__contains__, ids))
            if found:
                counts[name] += found
        return counts

    def _values_of(self, field: str) -> tuple[str, Any, Any]:
        """A field's values by document, read once per segment reader: for a column, each
        document's value as a number into the list of distinct names ("column", numbers,
        names); otherwise each word's name and documents ("words", names, document arrays)."""
        kept: dict[str, Any] = self.reader.__dict__.setdefault("_newsearch_values", {})
        if field not in kept:
            reader = self.reader
            field_type = reader.schema[field]
            if reader.has_column(field):
                numbers: dict[Any, int] = {}
                codes = array("I", [numbers.setdefault(value, len(numbers))
                                    for value in reader.column_reader(field, translate=False)])
                kept[field] = ("column", codes, [field_type.from_column_value(value) for value in numbers])
            else:
                words = list(reader.lexicon(field))
                kept[field] = ("words", [field_type.from_bytes(text) for text in words],
                               [array("I", self.postings(field, text)[0]) for text in words])
        found: tuple[str, Any, Any] = kept[field]
        return found

    def postings(self, field: str, text: bytes, within: Sequence[int] | None = None
                 ) -> tuple[Sequence[int], Sequence[float]]:
        """The document numbers and weights of one term, deleted documents left out.

        With ``within`` (ascending document numbers), blocks of the list that hold none of
        them are skipped undecoded, so the result may hold fewer postings outside ``within``.
        """
        ids, weights, _values = self.postings_and_values(field, text, False, within)
        return ids, weights

    def postings_and_values(self, field: str, text: bytes, values: bool = True,
                            within: Sequence[int] | None = None, as_text: bool = False
                            ) -> tuple[Sequence[int], Sequence[float], Sequence[Any]]:
        """Document numbers, weights and (when asked) encoded values such as positions;
        ``within`` as in ``postings``. With ``as_text`` each value comes as its bytes decoded
        as latin-1 (how the block's pickle holds it: a third cheaper to unpickle)."""
        reader = self.reader
        try:
            info = reader._terms.term_info(field, text)
        except TermNotFound:
            return (), (), ()
        if info.is_inlined():
            ids, weights, encoded = info.inlined_postings()
            weights = weights if weights else [1.0] * len(ids)
            encoded = _as_text(encoded) if values and as_text else encoded
        else:
            offset, length = info.extent()
            if isinstance(length, tuple):  # W3TermInfo.from_bytes keeps struct's 1-tuple
                length = length[0]
            blocks = _read_blocks(reader._terms._postfile.get(offset, length), values, within, as_text)
            if blocks is None:
                ids, weights, encoded = _step_through(reader._terms.matcher(field, text, reader.schema[field].format))
                encoded = _as_text(encoded) if values and as_text else encoded
            else:
                ids, weights, encoded = blocks
        deleted = reader.deleted_docs_set
        if deleted:
            kept = [i for i, docnum in enumerate(ids) if docnum not in deleted]
            ids, weights = [ids[i] for i in kept], [weights[i] for i in kept]
            encoded = [encoded[i] for i in kept] if values else encoded
        return ids, weights, encoded


def _read_blocks(raw: bytes, values: bool, within: Sequence[int] | None = None, as_text: bool = False
                 ) -> tuple[list[int], list[float], list[Any]] | None:
    """Decode a posting list of Whoosh's W3 format, read whole in one call.

    After a 4-byte tag, each block is a signed length (negative for the last block), a pickled
    info tuple (count, last id, max weight, compression, min and max length bytes) and the
    pickled, possibly compressed (ids as deltas, weights, values). Whoosh's own reader parses the
    headers with dozens of small reads per block; here they are parsed from memory. With
    ``within`` (ascending), a block whose range of ids holds none of them is not decoded: that
    is most of a common word's list when only a few articles matter. None when the bytes end
    before the last block (then ``_step_through`` reads the list Whoosh's way).
    """
    ids: list[int] = []
    weights: list[float] = []
    encoded: list[Any] = []
    stream = io.BytesIO(raw)
    position = len(WHOOSH3_HEADER_MAGIC)
    previous_last = -1
    while position < len(raw):
        length = _INT.unpack_from(raw, position)[0]
        stream.seek(position + _INT.size)
        count, last, _maxweight, compression, _minlength, _maxlength = pickle.load(stream)
        end = position + _INT.size + abs(length)
        if end > len(raw):
            return None
        if within is not None and not _holds_any(within, previous_last, last):
            if length < 0:
                return ids, weights, encoded
            position, previous_last = end, last
            continue
        previous_last = last
        data = raw[stream.tell():end]
        head = None if values else _ids_and_weights(data, compression, count)
        if head is not None:
            deltas, block_weights, block_values = head[0], head[1], None
        else:
            block = zlib.decompress(data) if compression else data
            if values and as_text:
                block = block.replace(_ENCODE, _KEEP_TEXT, 1)  # the first is the global (see _ids_and_weights)
            deltas, block_weights, block_values = pickle.loads(block)
            if values and as_text and block_values is not None:
                block_values = [value.start if type(value) is slice else _latin1(value) for value in block_values]
        ids.extend(accumulate(deltas))
        if block_weights is None:
            weights.extend(repeat(1.0, count))
        elif isinstance(block_weights, float):
            weights.extend(repeat(block_weights, count))
        else:
            weights.extend(block_weights)
        if values:
            encoded.extend(block_values if block_values is not None else repeat(None, count))
        if length < 0:
            return ids, weights, encoded
        position = end
    return None


def _latin1(value: Any) -> Any:
    """A value's bytes as latin-1 text (None, for a posting without a value, stays None)."""
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _as_text(encoded: Sequence[Any]) -> list[Any]:
    return [_latin1(value) for value in encoded]


def column_order(reader: Any, field: str) -> tuple[array[int], array[int]] | None:
    """A segment's documents with a value in the field's numeric column (0 counts as none), in
    ascending order of it, deleted ones included: (values, document numbers); None when the
    field has no column. Sorting a big segment's dates takes a while (a fifth of a second for
    a 20 x Reuters worker's segment), so writers keep the date order (``storage.write_date_order``)."""
    if not reader.has_column(field):
        return None
    values = list(reader.column_reader(field, translate=False))
    docnums = sorted(compress(range(len(values)), values), key=values.__getitem__)
    return array("q", map(values.__getitem__, docnums)), array("q", docnums)


def _kept_order(reader: Any) -> tuple[array[int], array[int]] | None:
    """The date order the segment's writer kept beside it, if it is there and fits the segment."""
    location = segment_location(reader)
    if location is None:
        return None
    return storage.read_date_order(Path(location[0]), location[1], reader.doc_count_all())


def _without_deleted(order: tuple[array[int], array[int]], deleted: Any) -> tuple[array[int], array[int]]:
    if not deleted:
        return order
    values, docnums = order
    live = list(map(not_, map(deleted.__contains__, docnums)))
    return array("q", compress(values, live)), array("q", compress(docnums, live))


def _ids_and_weights(data: bytes, compression: int, count: int) -> tuple[Any, Any] | None:
    """A block's (id deltas, weights) without unpickling its values, or None if not found.

    Whoosh pickles each block as (ids, weights, values) with protocol 2, where every posting's
    value (its positions) is a bytes object written as a call to ``_codecs.encode``: 85 % of
    the time of unpickling a block of the body went to them, and ranking never reads them. The
    values start at the first ``_VALUES_START`` (ids and weights are binary numbers between
    one-letter opcodes, so these 17 letters cannot occur inside them); the pickle is cut there
    and closed. Anything unexpected gives None, and the block is unpickled whole.
    """
    if compression:
        # Ids and weights take at most 5 + 9 bytes a posting: decompress only that far.
        head = zlib.decompressobj().decompress(data, count * 14 + 64)
    else:
        head = data
    cut = head.find(_VALUES_START)
    if cut < 0:
        return None
    try:
        deltas, weights = pickle.loads(head[:cut] + _CLOSE_PAIR)
    except Exception:  # a layout this does not know: the caller unpickles the block whole
        return None
    if type(deltas) is not tuple or len(deltas) != count or (deltas and type(deltas[0]) is not int):
        return None
    if not (weights is None or isinstance(weights, float) or (type(weights) is tuple and len(weights) == count)):
        return None
    return deltas, weights


def _holds_any(ascending: Sequence[int], after: int, through: int) -> bool:
    """Whether any of the ascending numbers is in ``(after, through]``."""
    at = bisect_right(ascending, after)
    return at < len(ascending) and ascending[at] <= through


def _step_through(matcher: Any) -> tuple[list[int], list[float], list[Any]]:
    """A posting list read one posting at a time through Whoosh's matcher."""
    ids: list[int] = []
    weights: list[float] = []
    encoded: list[Any] = []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        encoded.append(matcher.value())
        matcher.next()
    return ids, weights, encoded
