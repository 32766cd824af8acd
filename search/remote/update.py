"""A corpus folder brought up to date in a remote engine.

The same reading and the same rules as the embedded index (``index.update``): the folder is
scanned, only files whose size or time changed are read, duplicates (one story under several
files) are resolved the same way, and only new, changed and removed articles are sent. What
the engine holds of each file (path, size, time, digest) is read back from it, so there is no
state beside the index. A rebuild fills a new collection and then moves the alias to it.
"""
from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from search.index.scanning import IndexedFile, scan_corpus
from search.index.update import (
    PARALLEL_THRESHOLD,
    ProgressCallback,
    UpdateSummary,
    _collect_articles,
    _duplicate_skip,
    _name_final_winners,
)
from search.index.workers import ReadResult, read_file
from search.remote import documents
from search.remote.location import EngineLocation
from search.remote.transport import TypesenseTransport

if TYPE_CHECKING:
    from search.remote.index import RemoteIndex

_HELD_FIELDS = ("id", "article_id", "path", "size", "mtime_ns", "digest", "date")


def ensure_index(transport: TypesenseTransport, location: EngineLocation) -> str:
    """The collection the location's alias points to, made (empty) when there is none."""
    found = transport.resolve(location.collection)
    if found is not None:
        return found
    collection = _new_collection(transport, location)
    transport.point_alias(location.collection, collection)
    return collection


def _new_collection(transport: TypesenseTransport, location: EngineLocation) -> str:
    # The time for people reading the cluster's list; the random part so that two collections
    # made in one second (open_index(create=True), then a rebuild) never share a name.
    name = f"{location.collection}__{time.strftime('%Y%m%dT%H%M%S')}_{uuid.uuid4().hex[:8]}"
    transport.create_collection(documents.collection_schema(name))
    return name


def update_remote(index: RemoteIndex, corpus: Path, *, rebuild: bool = False, include_drafts: bool = False,
                  progress: ProgressCallback | None = None) -> UpdateSummary:
    """Send the engine what changed in ``corpus`` since its last update (everything on a rebuild)."""
    started = time.perf_counter()
    corpus = corpus.resolve()
    transport, location = index.transport, index.location
    current = transport.resolve(location.collection)
    building = rebuild or current is None
    collection = _new_collection(transport, location) if building else str(current)
    held = {} if building else _held_files(transport, collection)
    summary = UpdateSummary(rebuilt=building)
    on_disk = scan_corpus(corpus, summary.skipped)
    to_read = []
    for key, state in on_disk.items():
        indexed = held.get(key)
        if indexed is not None and (indexed.size, indexed.mtime_ns) == (state.size, state.mtime_ns):
            summary.unchanged += 1
        else:
            to_read.append(key)
    jobs = [(key, os.path.join(str(corpus), on_disk[key].path), str(corpus),
             held[key].digest if key in held else None) for key in to_read]
    analysed: dict[str, dict[str, Any]] = {}
    batch = _collect_articles(_read(jobs, progress, analysed), on_disk, include_drafts, summary)
    by_id = {indexed.id: key for key, indexed in held.items()}
    stale: set[str] = set()  # engine ids to delete
    writes: list[dict[str, Any]] = []
    for article_id, winner in batch.winners.items():
        rival = by_id.get(article_id)
        if rival is not None and rival != winner.key and rival in on_disk and rival not in to_read \
                and _held_is_newer(held[rival], winner, on_disk):
            summary.skipped.append(_duplicate_skip(winner.key, rival))
            continue
        if winner.key in held and held[winner.key].id != article_id:
            stale.add(documents.document_id(held[winner.key].id))  # the file's story changed its link
        state = on_disk[winner.key]
        writes.append({**analysed[winner.key], "path": winner.key, "size": state.size,
                       "mtime_ns": state.mtime_ns, "digest": winner.digest})
        if article_id in by_id:
            summary.updated += 1
        else:
            summary.added += 1
    gone = [key for key, indexed in held.items() if key not in on_disk and indexed.mtime_ns >= 0]
    gone += [key for key in batch.retired if key in held]
    stale.update(documents.document_id(held[key].id) for key in gone)
    stale -= {document["id"] for document in writes}
    if stale:
        summary.deleted = transport.delete(collection, sorted(stale))
    transport.upsert(collection, writes)
    rechecked = [{"id": documents.document_id(held[key].id), "size": on_disk[key].size,
                  "mtime_ns": on_disk[key].mtime_ns} for key in batch.rechecked if key in held]
    if rechecked:  # same content, new size or time: remembered, so the next run does not read them
        transport.upsert_partial(collection, rechecked)
    if building:
        transport.point_alias(location.collection, collection)
        if current is not None and current != collection:
            transport.drop_collection(current)
    remember(transport, location, corpus)
    summary.skipped = _name_final_winners(summary.skipped)
    summary.total = int(transport.collection_info(collection).get("num_documents", 0))
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _held_files(transport: TypesenseTransport, collection: str) -> dict[str, IndexedFile]:
    """What the engine holds of each file, keyed by its path in the corpus."""
    return {document["path"]: IndexedFile(document["article_id"], int(document.get("size", 0)),
                                          int(document.get("mtime_ns", 0)), str(document.get("digest", "")),
                                          int(document.get("date", 0)))
            for document in transport.export(collection, _HELD_FIELDS)}


def _held_is_newer(held: IndexedFile, winner: Any, on_disk: dict[str, Any]) -> bool:
    """Whether the copy the engine holds beats a newly read one (newer date, then newer file)."""
    held_date = float(held.date_value) if held.date_value else float("-inf")
    read_date = winner.date.timestamp() if winner.date else float("-inf")
    return (held_date, held.mtime_ns) > (read_date, on_disk[winner.key].mtime_ns)


def _analysed(job: tuple[str, str, str, str | None]) -> tuple[ReadResult, dict[str, Any] | None]:
    """Read one file and make its document (in a worker process for big batches)."""
    result = read_file(job)
    article = result.article
    if article is None or result.unchanged:
        return result, None
    return result, documents.article_document(article, job[0], 0, 0, result.digest)  # type: ignore[arg-type]


def _read(jobs: list[tuple[str, str, str, str | None]], progress: ProgressCallback | None,
          analysed: dict[str, dict[str, Any]]) -> Iterator[ReadResult]:
    """The files' readings, in order; each readable file's document is kept in ``analysed``."""
    def finished(results: Iterable[tuple[ReadResult, dict[str, Any] | None]]) -> Iterator[ReadResult]:
        for done, (result, document) in enumerate(results, 1):
            if document is not None:
                analysed[result.key] = document
            if progress:
                progress(done, len(jobs))
            yield result
    if len(jobs) >= PARALLEL_THRESHOLD and (os.cpu_count() or 1) >= 2:
        with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=get_context("spawn")) as pool:
            yield from finished(pool.map(_analysed, jobs, chunksize=64))
    else:
        yield from finished(map(_analysed, jobs))


def remember(transport: TypesenseTransport, location: EngineLocation, corpus: Path | str) -> None:
    """Note the corpus folder and the time, for ``stats`` and the next update, and wait until
    every node has the note: then every node has every write made before it."""
    meta = location.collection + "__meta"
    if transport.resolve(meta) is None and not transport.has_collection(meta):
        transport.create_collection({"name": meta, "fields": [{"name": "corpus", "type": "string"}]})
    updated = time.time()
    transport.upsert(meta, [{"id": "meta", "corpus": str(corpus), "updated": updated}])
    transport.wait_applied(meta, "meta", "updated", updated)
