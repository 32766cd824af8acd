"""Sorted runs: how a Whoosh writer sorts its buffered postings and spills them to disk.

A writer's ``PostingPool`` buffers postings, ``(field name, term bytes, document number,
weight, value)`` tuples, until its segment is written in sorted order. When they outgrow the
buffer (``segments.WRITER_LIMIT_MB``) it sorts them and writes them to a temporary file, a
"run"; finishing the segment merges the runs back into one sorted stream. ``speed_up_pools``
(applied on import) changes how, not what:

- ``sorted_postings``: the order of ``sorted()``, found by comparing terms within each field
  rather than whole tuples (the sort was a fifth of a worker's segment finish).
- ``write_run`` / ``read_run``: a run pickled as lists of ``RUN_BATCH`` postings. Whoosh
  pickles each posting on its own, a ``pickle.dump`` per posting and a ``pickle.load`` per
  posting back: about 5 microseconds a posting, so a worker that spilled half of Reuters once
  spent a quarter of its CPU on it. Batches are about seven times faster, and a quarter of
  the size on disk (a batch's pickle refers back to the terms and values it repeats).

``reading.apply`` installs it (``speed_up_pools``) before any index is opened or written.
"""
from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from operator import itemgetter
from typing import Any, BinaryIO

from whoosh.writing import PostingPool

# Postings pickled together. Merging reads a batch of every run at once: a worker of a 20 x
# Reuters build merges about 40 runs, which hold 40 batches (a few MB) in memory.
RUN_BATCH = 1024
# Whoosh's own methods that ``speed_up_pools`` replaces, for tests to compare with.
WHOOSH_POOL_METHODS: dict[str, Any] = {}

_term = itemgetter(1)


def sorted_postings(postings: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """The postings in the order ``sorted(postings)`` gives, sorting by term within each field.

    A writer numbers each document it adds above all before it, and a term is posted once per
    document, so a term's postings are already in the buffer in document order: a stable sort
    by term alone, field by field, keeps them so. Comparing two terms is a C comparison of
    bytes; comparing two tuples of the same field was three calls, one of them generic.
    """
    by_field: dict[str, list[tuple[Any, ...]]] = {}
    for posting in postings:
        field = by_field.get(posting[0])
        if field is None:
            field = by_field[posting[0]] = []
        field.append(posting)
    for field in by_field.values():
        field.sort(key=_term)
    return chain.from_iterable(by_field[name] for name in sorted(by_field))


def write_run(pool: Any, file: BinaryIO, postings: Iterable[Any]) -> None:
    """Write sorted ``postings`` to a run file as pickled lists of up to ``RUN_BATCH``, and close it."""
    pending = iter(postings)
    try:
        while batch := list(islice(pending, RUN_BATCH)):
            pickle.dump(batch, file, pickle.HIGHEST_PROTOCOL)
    finally:
        file.close()


def read_run(pool: Any, path: str) -> Iterator[Any]:
    """The postings of a run, in order; the run file is removed once read.

    Reads ``write_run``'s batches, and Whoosh's runs of single postings too (a run written by
    a process that did not import this module, as Whoosh's multiprocessing writer may spawn).
    """
    file = pool._open_run(path)
    try:
        while True:
            try:
                batch = pickle.load(file)
            except EOFError:
                return
            if isinstance(batch, list):
                yield from batch
            else:
                yield batch
    finally:
        file.close()
        pool._remove_run(path)


def save(pool: Any) -> None:
    """Write the buffered postings to a new run in sorted order and empty the buffer."""
    if pool.current:
        path, file = pool._new_run()
        pool._write_run(file, sorted_postings(pool.current))
        pool._add_run(path)
        pool.current = []
    pool.currentsize = 0


def items(pool: Any, maxfiles: int = 128) -> Iterable[Any]:
    """All the pool's postings in sorted order: from memory, or merged from its runs."""
    if not pool.runs:
        return sorted_postings(pool.current)
    merged: Iterable[Any] = WHOOSH_POOL_METHODS["items"](pool, maxfiles)  # saves the rest as a run
    return merged


def speed_up_pools() -> None:
    """Replace ``PostingPool``'s sorting and run files (writing and reading, so runs stay readable)."""
    if WHOOSH_POOL_METHODS:
        return
    for name, method in (("_write_run", write_run), ("_read_run", read_run), ("save", save), ("items", items)):
        WHOOSH_POOL_METHODS[name] = getattr(PostingPool, name)
        setattr(PostingPool, name, method)
