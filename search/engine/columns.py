"""newsearch's own posting format: a segment's postings as columnar arrays, memory-mapped.

Whoosh keeps a term's postings as pickled, zlib-compressed blocks that only Python can read, one
block at a time. Here every field's postings of one segment are a few flat arrays, written once
when the segment is written (``ColumnsWriter``, fed by the segment writer: see
``whoosh_internals.writing``) and read with ``numpy`` straight from a memory map
(``SegmentColumns``): a whole posting list is a slice, and scoring it is a few vector
operations (``engine.scoring``).

The file ``cols-SEGMENT.bin`` sits beside the segment in its generation folder::

    b"newsearch columns 1\\n"      magic
    <u8 header length> <header>   JSON: document count, and per field its arrays' places
    arrays, each 8-byte aligned   little-endian, raw

Per field (sorted by term; ``t`` terms, ``p`` postings, ``q`` positions):

- ``term_bytes`` (uint8) and ``term_starts`` (int64, t + 1): the terms, concatenated;
- ``post_starts`` (int64, t + 1): where each term's postings begin in the next two arrays;
- ``docs`` (int32, p): document numbers, ascending within a term;
- ``weights`` (float32, p): the term's weight in the document (its frequency, as Whoosh keeps it);
- for fields with positions, ``pos_starts`` (int64, p + 1) and ``positions`` (int32, q).

Nothing in the file is pickled, so opening an index runs no code from it. Deleted documents are
not in the arrays' concern: a segment never changes once written, and its readers drop the
documents Whoosh marks deleted.
"""
from __future__ import annotations

import json
import mmap
import os
import pickle
import re
import struct
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np

from search.errors import IndexDamagedError

MAGIC = b"newsearch columns 1\n"
PREFIX = "cols-"
SUFFIX = ".bin"
_LENGTH = struct.Struct("<Q")
_ALIGN = 8
# Fields that never get columns: date tiers (ranges are answered from the date column) and the
# spelling word lists (read through Whoosh's lexicon by fuzzy words and did-you-mean).
SKIPPED_FIELDS = frozenset({"date", "spell_title", "spell_body"})
# Positions decoded together (one ``pickle.loads``) while a segment is written.
_DECODE_BATCH = 20_000
# What encloses pickled lists in one list: PROTO 2, EMPTY_LIST, MARK ... APPENDS, STOP.
_LIST_START = b"\x80\x02]("
_LIST_END = b"e."
_COUNT_SIZE = 4  # Whoosh's Positions value: a 4-byte count, then the pickled gaps


def columns_path(folder: str | Path, segment_id: str) -> Path:
    """Where a segment's columns live."""
    return Path(folder) / f"{PREFIX}{segment_id}{SUFFIX}"


class _FieldBuffer:
    """One field's postings as they arrive, in term order."""

    def __init__(self, positional: bool) -> None:
        self.terms = bytearray()
        self.term_starts = array("q", [0])
        self.post_starts = array("q", [0])
        self.docs = array("i")
        self.weights = array("f")
        self.positional = positional
        self.values: list[bytes] = []  # positions not decoded yet
        self.pos_counts = array("i")
        self.positions = array("i")

    def add(self, text: bytes, docnum: int, weight: float, value: bytes | None, new_term: bool) -> None:
        if new_term:
            if len(self.docs):
                self.post_starts.append(len(self.docs))
            self.terms += text
            self.term_starts.append(len(self.terms))
        self.docs.append(docnum)
        self.weights.append(weight)
        if self.positional:
            self.values.append(value or b"")
            if len(self.values) >= _DECODE_BATCH:
                self._decode()

    def _decode(self) -> None:
        """Turn the waiting Whoosh position values into counts and flat positions."""
        for gaps in decode_gap_lists(self.values):
            self.pos_counts.append(len(gaps))
            self.positions.extend(accumulate(gaps) if len(gaps) > 1 else gaps)
        self.values = []

    def arrays(self) -> dict[str, np.ndarray]:
        if self.positional:
            self._decode()
        post_starts = self.post_starts
        if len(self.docs):
            post_starts.append(len(self.docs))
        found: dict[str, np.ndarray] = {
            "term_bytes": np.frombuffer(bytes(self.terms), dtype=np.uint8),
            "term_starts": np.frombuffer(self.term_starts, dtype=np.int64),
            "post_starts": np.frombuffer(post_starts, dtype=np.int64),
            "docs": np.frombuffer(self.docs, dtype=np.int32),
            "weights": np.frombuffer(self.weights, dtype=np.float32),
        }
        if self.positional:
            counts = np.frombuffer(self.pos_counts, dtype=np.int32)
            starts = np.empty(len(counts) + 1, dtype=np.int64)
            starts[0] = 0
            np.cumsum(counts, out=starts[1:])
            found["pos_starts"] = starts
            found["positions"] = np.frombuffer(self.positions, dtype=np.int32)
        return found


def decode_gap_lists(values: list[bytes]) -> list[list[int]]:
    """Whoosh ``Positions`` values (a count, then a pickled list of gaps) as gap lists, all with
    one ``pickle.loads``: unpickling each alone cost more in starting the unpickler than in
    reading it. Anything unexpected is decoded one value at a time."""
    body = b"".join([value[_COUNT_SIZE:-1] if value.endswith(b".") else value[_COUNT_SIZE:] for value in values])
    try:
        gaps = pickle.loads(_LIST_START + body + _LIST_END)
    except Exception:  # not the layout above: decode each value on its own
        gaps = None
    if type(gaps) is not list or len(gaps) != len(values):
        return [_one_gap_list(value) for value in values]
    return gaps


def _one_gap_list(value: bytes) -> list[int]:
    if len(value) <= _COUNT_SIZE:
        return []
    found = pickle.loads(value[_COUNT_SIZE:] if value.endswith(b".") else value[_COUNT_SIZE:] + b".")
    return list(found)


# A segment merged into the one being written: its columns, and for each of its documents the
# number it gets in the new segment (-1: deleted, left out).
Merged = tuple["SegmentColumns", np.ndarray]


class ColumnsWriter:
    """Collects a segment's sorted postings (as Whoosh's field writer receives them) and writes
    ``cols-SEGMENT.bin`` when told the segment is complete.

    When Whoosh merges older segments into this one (``merged``), their documents come after
    the new ones (from ``merged_from`` on): their postings are taken from their own columns,
    renumbered, and any that Whoosh also passes on are ignored.
    """

    def __init__(self, folder: str, segment_id: str, doc_count: int, positional: Iterable[str],
                 merged: list[Merged] | None = None, merged_from: int | None = None) -> None:
        self.path = columns_path(folder, segment_id)
        self.doc_count = doc_count
        self.positional = frozenset(positional)
        self.fields: dict[str, _FieldBuffer] = {}
        self.merged = merged or []
        self.merged_from = merged_from if self.merged and merged_from is not None else None
        self._field: _FieldBuffer | None = None
        self._text: bytes | None = None

    def add(self, fieldname: str, text: bytes, docnum: int, weight: float, value: bytes | None) -> None:
        """One posting; postings arrive sorted by field, term and document."""
        if fieldname in SKIPPED_FIELDS:
            return
        if self.merged_from is not None and docnum >= self.merged_from:
            return  # a merged segment's document: its postings come from its columns
        buffer = self.fields.get(fieldname)
        if buffer is None:
            buffer = self.fields[fieldname] = _FieldBuffer(fieldname in self.positional)
            self._text = None
        buffer.add(text, docnum, weight, value, text != self._text or buffer is not self._field)
        self._field, self._text = buffer, text

    def write(self) -> None:
        """Write the file aside and rename it into place (a reader sees all of it or none).

        Each array is written straight from its buffer: holding a copy of every array as bytes
        until the header was known doubled a worker's memory at the end of a 20 x build.
        """
        fields = {name: buffer.arrays() for name, buffer in self.fields.items()}
        if self.merged:
            fields = merge_fields(fields, self.merged, self.positional)
        header: dict[str, Any] = {"doc_count": self.doc_count, "fields": {}}
        order: list[np.ndarray] = []
        offset = 0
        for name, arrays in sorted(fields.items()):
            places = header["fields"][name] = {}
            for key, values in arrays.items():
                values = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<"))
                places[key] = [offset, values.dtype.str.lstrip("<>|="), int(values.size)]
                order.append(values)
                offset += values.nbytes + (-values.nbytes % _ALIGN)
        encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
        encoded += b" " * (-(len(MAGIC) + _LENGTH.size + len(encoded)) % _ALIGN)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(MAGIC + _LENGTH.pack(len(encoded)) + encoded)
            for values in order:
                handle.write(values.data)
                handle.write(bytes(-values.nbytes % _ALIGN))
        os.replace(tmp, self.path)


def merge_fields(new: dict[str, dict[str, np.ndarray]], merged: list[Merged],
                 positional: frozenset[str]) -> dict[str, dict[str, np.ndarray]]:
    """The arrays of a segment made of new postings and of older segments' columns renumbered:
    per field, every term of any part, each with its postings in document order."""
    names = set(new).union(*(set(columns.field_names()) for columns, _docmap in merged))
    found = {}
    for name in names:
        parts = [_Part.of(new[name], None)] if name in new else []
        for columns, docmap in merged:
            field = columns.field(name)
            if field is not None:
                parts.append(_Part.of(field.arrays, docmap))
        found[name] = _merged_arrays([part for part in parts if len(part.docs)], name in positional)
    return found


class _Part:
    """One source of a merge: its terms, and per posting its term, document and weight (and the
    place of its positions in its own positions array)."""

    def __init__(self, terms: list[bytes], term_of: np.ndarray, docs: np.ndarray, weights: np.ndarray,
                 pos_starts: np.ndarray | None, pos_counts: np.ndarray | None, positions: np.ndarray | None) -> None:
        self.terms, self.term_of, self.docs, self.weights = terms, term_of, docs, weights
        self.pos_starts, self.pos_counts, self.positions = pos_starts, pos_counts, positions

    @classmethod
    def of(cls, arrays: dict[str, np.ndarray], docmap: np.ndarray | None) -> _Part:
        table = TermTable(arrays["term_bytes"], arrays["term_starts"])
        terms = [table[number] for number in range(len(table))]
        term_of = np.repeat(np.arange(len(terms), dtype=np.int64), np.diff(arrays["post_starts"]))
        docs = arrays["docs"].astype(np.int64)
        weights = arrays["weights"]
        pos_starts = arrays.get("pos_starts")
        starts = counts = None
        if pos_starts is not None:
            starts, counts = pos_starts[:-1], np.diff(pos_starts)
        if docmap is not None:
            docs = docmap[docs]
            keep = docs >= 0
            docs, term_of, weights = docs[keep], term_of[keep], weights[keep]
            if starts is not None and counts is not None:
                starts, counts = starts[keep], counts[keep]
        return cls(terms, term_of, docs, weights, starts, counts, arrays.get("positions"))


def _merged_arrays(parts: list[_Part], positional: bool) -> dict[str, np.ndarray]:
    """One field's arrays from several parts (see ``merge_fields``)."""
    every = sorted(set().union(*(part.terms for part in parts)))
    number = {term: index for index, term in enumerate(every)}
    term_of = np.concatenate([np.array([number[term] for term in part.terms], dtype=np.int64)[part.term_of]
                              for part in parts]) if parts else np.empty(0, np.int64)
    docs = np.concatenate([part.docs for part in parts]) if parts else np.empty(0, np.int64)
    weights = np.concatenate([part.weights for part in parts]) if parts else np.empty(0, np.float32)
    order = np.lexsort((docs, term_of))
    present, counts = np.unique(term_of[order], return_counts=True)
    kept = [every[index] for index in present.tolist()]
    found: dict[str, np.ndarray] = {
        "term_bytes": np.frombuffer(b"".join(kept), dtype=np.uint8),
        "term_starts": np.concatenate((np.zeros(1, np.int64), np.cumsum([len(term) for term in kept], dtype=np.int64))),
        "post_starts": np.concatenate((np.zeros(1, np.int64), np.cumsum(counts))).astype(np.int64),
        "docs": docs[order].astype(np.int32),
        "weights": weights[order].astype(np.float32),
    }
    if positional:
        pools, starts, lengths, base = [], [], [], 0
        for part in parts:
            if part.positions is None or part.pos_starts is None or part.pos_counts is None:
                raise ValueError("a part of a positional field without positions")
            pools.append(part.positions)
            starts.append(part.pos_starts + base)
            lengths.append(part.pos_counts)
            base += len(part.positions)
        pool = np.concatenate(pools) if pools else np.empty(0, np.int32)
        start = (np.concatenate(starts) if starts else np.empty(0, np.int64))[order]
        length = (np.concatenate(lengths) if lengths else np.empty(0, np.int64))[order]
        found["pos_starts"] = np.concatenate((np.zeros(1, np.int64), np.cumsum(length))).astype(np.int64)
        found["positions"] = pool[gather(start, length)].astype(np.int32)
    return found


def gather(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indexes of several runs laid end to end: ``start, start + 1, ... start + length - 1``."""
    total = int(lengths.sum())
    indexes: np.ndarray = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths) \
        + np.repeat(starts.astype(np.int64), lengths)
    return indexes


class TermTable:
    """A field's sorted terms, looked up by binary search over the concatenated bytes."""

    def __init__(self, term_bytes: np.ndarray, term_starts: np.ndarray) -> None:
        self._bytes = term_bytes.tobytes() if term_bytes.size < 1 << 16 else term_bytes.data
        self._starts = term_starts.tolist()
        self._count = len(self._starts) - 1

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> bytes:
        return bytes(self._bytes[self._starts[index]:self._starts[index + 1]])

    def find(self, text: bytes) -> int:
        """The term's number, or -1."""
        at = bisect_left(self, text)
        return at if at < self._count and self[at] == text else -1

    def prefixed(self, prefix: bytes) -> range:
        """The numbers of the terms that start with ``prefix``: two binary searches (the end
        is the first term at or past the prefix's successor), so a prefix of many words costs
        no more to delimit than one of few."""
        low = bisect_left(self, prefix)
        stripped = prefix.rstrip(b"\xff")
        if not stripped:  # b"" or all 0xff bytes: every term from ``low`` on starts with it
            return range(low, self._count) if not prefix else range(low, self._scan_end(low, prefix))
        successor = stripped[:-1] + bytes([stripped[-1] + 1])
        return range(low, max(low, bisect_left(self, successor, low)))

    def _scan_end(self, low: int, prefix: bytes) -> int:
        high = low
        while high < self._count and self[high].startswith(prefix):
            high += 1
        return high

    def between(self, low: bytes | None, high: bytes | None, low_excluded: bool, high_excluded: bool) -> range:
        """The numbers of the terms in a range (None: unbounded)."""
        start = 0 if low is None else bisect_left(self, low)
        if low is not None and low_excluded and start < self._count and self[start] == low:
            start += 1
        end = self._count if high is None else bisect_left(self, high)
        if high is not None and not high_excluded and end < self._count and self[end] == high:
            end += 1
        return range(start, max(start, end))

    def matching(self, pattern: re.Pattern[bytes], prefix: bytes = b"",
                 check: Callable[[], None] | None = None, every: int = 512) -> Iterator[int]:
        """The numbers of the terms ``pattern`` matches whole, among those starting with
        ``prefix``; ``check`` (a deadline's) is called once per ``every`` terms tested."""
        span = self.prefixed(prefix) if prefix else range(self._count)
        for step, index in enumerate(span):
            if check is not None and step % every == every - 1:
                check()
            if pattern.fullmatch(self[index]):
                yield index


class FieldColumns:
    """One field's postings in one segment (views into the memory map)."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.terms = TermTable(arrays["term_bytes"], arrays["term_starts"])
        self.post_starts = arrays["post_starts"]
        self.docs = arrays["docs"]
        self.weights = arrays["weights"]
        self.pos_starts = arrays.get("pos_starts")
        self.positions = arrays.get("positions")

    @property
    def has_positions(self) -> bool:
        """Whether the field keeps word positions (phrases can be checked)."""
        return self.positions is not None

    def span(self, term: int) -> tuple[int, int]:
        """Where the term's postings are in ``docs`` and ``weights``."""
        return int(self.post_starts[term]), int(self.post_starts[term + 1])

    def doc_frequency(self, term: int) -> int:
        """How many of the segment's documents (deleted ones included) hold the term."""
        start, end = self.span(term)
        return end - start


class SegmentColumns:
    """A segment's ``cols-SEGMENT.bin``, memory-mapped; ``field(name)`` gives a field's arrays."""

    def __init__(self, path: Path, doc_count: int) -> None:
        self.path = path
        try:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        except OSError as error:
            raise _damaged(path, f"cannot read its postings ({error.strerror})") from None
        self._fields: dict[str, FieldColumns | None] = {}
        self._places = self._read_header(doc_count)

    def _read_header(self, doc_count: int) -> dict[str, dict[str, list[Any]]]:
        data = self._map
        start = len(MAGIC) + _LENGTH.size
        if data is None or len(data) < start or data[:len(MAGIC)] != MAGIC:
            raise _damaged(self.path, "its postings file is not newsearch's")
        length = _LENGTH.unpack_from(data, len(MAGIC))[0]
        try:
            header = json.loads(bytes(data[start:start + length]))
            places: dict[str, dict[str, list[Any]]] = header["fields"]
            written_for = int(header["doc_count"])
        except (ValueError, KeyError, TypeError):
            raise _damaged(self.path, "its postings header is damaged") from None
        if written_for != doc_count:
            raise _damaged(self.path, f"its postings are of {written_for} documents, the segment has {doc_count}")
        self._base = start + length
        return places

    def field_names(self) -> list[str]:
        """The fields the segment has postings of."""
        return sorted(self._places)

    def field(self, name: str) -> FieldColumns | None:
        """The field's postings, or None when the segment has none."""
        if name not in self._fields:
            places = self._places.get(name)
            self._fields[name] = None if places is None else FieldColumns(
                {key: self._array(name, key, *place) for key, place in places.items()})
        return self._fields[name]

    def _array(self, field: str, key: str, offset: int, dtype: str, count: int) -> np.ndarray:
        kind = np.dtype(dtype).newbyteorder("<")
        begin = self._base + offset
        if self._map is None or begin + kind.itemsize * count > len(self._map):
            raise _damaged(self.path, f"its postings of {field} end early")
        return np.frombuffer(self._map, dtype=kind, count=count, offset=begin)


def _damaged(path: Path, reason: str) -> IndexDamagedError:
    return IndexDamagedError(f"{path.parent.parent}: segment {path.name} is damaged: {reason}; "
                             "run `newsearch index --rebuild` to build it again")


def keep_columns(folder: Path, segment_ids: set[str]) -> None:
    """Delete the columns of segments that are no longer in the index (merged away, or written
    by a run that was killed before its commit)."""
    for path in folder.glob(f"{PREFIX}*{SUFFIX}*"):
        name = path.name[len(PREFIX):]
        segment_id = name[:name.index(SUFFIX)] if SUFFIX in name else name
        if segment_id not in segment_ids or path.name.endswith(".tmp"):
            path.unlink(missing_ok=True)
