"""Indexing: turn a corpus folder into index documents, fully or incrementally.

Parts:
- ``update_index``: the one entry point; compares the folder with what the index holds (size and
  mtime first, a content digest only where those changed), reads only new and changed files (a
  big batch in worker processes that also write its segments, see ``workers``), deletes what
  disappeared, and commits once. ``rebuild=True`` writes a fresh generation and publishes it
  only when complete (see ``storage``).
- ``add_articles`` / ``delete_ids``: for programs that produce articles themselves.
- ``UpdateSummary`` and ``Skip``: what a run did, for the API, the CLI and ``--json`` (``Skip``
  is defined in ``scanning``, which lists the files and reads what the index holds of them).

Two files with the same canonical link are one story: the newest date wins, then the newest file.
"""
from __future__ import annotations

import contextlib

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from search.index import storage
from search.errors import IndexNotFoundError
from search.index.scanning import FileState, IndexedFile, indexed_files, scan_corpus
from search.index.scanning import Skip as Skip  # re-exported: ``search`` and callers import it from here
from search.engine.columns import keep_columns
from search.engine.segment import column_order
from search.index.schema import DATE_FIELD, build_schema
from search.index.workers import (
    API_MTIME,
    WRITER_LIMIT_MB,
    Job,
    ReadResult,
    SegmentWorkers,
    SpellingLists,
    Story,
    add_article,
    read_file,
    segment_merger,
    worker_limit_mb,
)
from search.whoosh_internals.reading import create_whoosh, open_whoosh

if TYPE_CHECKING:
    from search.reading.articles import Article

# Why a draft is skipped; remembered like any skip, but not when drafts are asked for.
DRAFT_SKIP = "draft: true (use --drafts to index drafts)"

# From this many files to read, worker processes read and write them (see ``workers``); below
# it, starting them (about a second) costs more than they save.
PARALLEL_THRESHOLD = 1000

ProgressCallback = Callable[[int, int], None]


@dataclass
class UpdateSummary:
    """What one indexing run did."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: list[Skip] = field(default_factory=list)
    warnings: list[Skip] = field(default_factory=list)
    total: int = 0
    rebuilt: bool = False
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """True when the run changed what the index holds."""
        return bool(self.added or self.updated or self.deleted)

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data."""
        data = asdict(self)
        for name in ("skipped", "warnings"):
            data[name] = [{"path": skip.path, "reason": skip.reason, "repeated": skip.repeated}
                          for skip in getattr(self, name)]
        return data


def read_here(jobs: Iterable[Job], total: int, progress: ProgressCallback | None) -> Iterator[ReadResult]:
    """Read files in this process (small batches), reporting progress."""
    for done, result in enumerate(map(read_file, jobs), 1):
        if progress:
            progress(done, total)
        yield result


def update_index(
    index_dir: Path,
    corpus: Path,
    *,
    rebuild: bool = False,
    include_drafts: bool = False,
    wait: float = 5.0,
    progress: ProgressCallback | None = None,
) -> UpdateSummary:
    """Bring the index at ``index_dir`` up to date with the article files under ``corpus``."""
    started = time.perf_counter()
    corpus = corpus.resolve()
    with storage.writer_lock(index_dir, wait):
        existing = None if rebuild else _open_existing(index_dir)
        if existing is None:
            summary = _build_generation(index_dir, corpus, include_drafts, progress)
        else:
            summary = _update_generation(existing, corpus, include_drafts, progress)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _open_existing(index_dir: Path) -> Any:
    """The published Whoosh index, or None when there is none yet."""
    try:
        generation = storage.current_generation(index_dir)
    except IndexNotFoundError:
        return None
    storage.read_meta(generation)
    try:
        return open_whoosh(str(generation))
    except Exception as error:  # Whoosh reports damaged files with many exception types
        raise storage.damaged_index(index_dir, error) from None


def _build_generation(index_dir: Path, corpus: Path, include_drafts: bool, progress: ProgressCallback | None) -> UpdateSummary:
    generation = storage.new_generation(index_dir)
    try:
        ix = create_whoosh(str(generation), build_schema())
        summary = _apply_changes(ix, {}, corpus, include_drafts, progress)
        summary.rebuilt = True
        storage.write_meta(generation, str(corpus))
        storage.publish(index_dir, generation)
    except BaseException:
        storage.discard(generation)
        raise
    return summary


def _update_generation(ix: Any, corpus: Path, include_drafts: bool, progress: ProgressCallback | None) -> UpdateSummary:
    try:
        with ix.searcher() as searcher:
            held = indexed_files(searcher.reader())
    except Exception as error:  # damaged segment files surface when they are first read
        raise storage.damaged_index(Path(ix.storage.folder).parent, error) from None
    summary = _apply_changes(ix, held, corpus, include_drafts, progress)
    storage.write_meta(Path(ix.storage.folder), str(corpus))
    return summary


def _apply_changes(
    ix: Any, held: dict[str, IndexedFile], corpus: Path, include_drafts: bool, progress: ProgressCallback | None
) -> UpdateSummary:
    summary = UpdateSummary()
    generation = Path(ix.storage.folder)
    storage.use_stems(generation)
    on_disk = scan_corpus(corpus, summary.skipped)
    known = _Known(held, on_disk, storage.read_skips(generation), storage.read_rechecked(generation), include_drafts)
    to_read = []  # keys only: a job per file of a big corpus is built when it is handed out
    rechecked = {}  # remembered again, or the run after this one would read them again
    for key, state in on_disk.items():
        if known.as_indexed(key):
            summary.unchanged += 1
            if key in known.rechecked:
                rechecked[key] = known.rechecked[key]
        elif known.still_skipped(key):
            memory = known.skipped[key]  # remembered again: it stays skipped until the file changes
            summary.skipped.append(Skip(key, memory.reason, repeated=True, remember=True, winner=memory.winner))
        else:
            to_read.append(key)
    jobs = _jobs(to_read, str(corpus), held, on_disk)
    # Articles a program added through the API (mtime_ns < 0) have no file to disappear.
    removed = [key for key, indexed in held.items() if key not in on_disk and indexed.mtime_ns >= 0]
    segments: list[Any] | None = None
    if len(to_read) >= PARALLEL_THRESHOLD and (os.cpu_count() or 1) >= 2:
        def sizes(key: str) -> tuple[int, int]:
            return on_disk[key].size, on_disk[key].mtime_ns
        limit_mb = worker_limit_mb(len(to_read))
        with SegmentWorkers(str(generation), sizes, include_drafts, limit_mb=limit_mb) as workers:
            batch = _collect_articles(workers.results(jobs, len(to_read), progress), on_disk, include_drafts, summary)
        segments = workers.segments
    else:
        batch = _collect_articles(read_here(jobs, len(to_read), progress), on_disk, include_drafts, summary)
    if batch.winners or removed or any(key in held for key in batch.retired):
        _write(ix, batch, removed, held, on_disk, summary, segments)
    summary.skipped = _name_final_winners(summary.skipped)
    storage.write_skips(generation, _skips_to_remember(summary, on_disk))
    rechecked.update((key, (on_disk[key].size, on_disk[key].mtime_ns)) for key in batch.rechecked)
    if rechecked != known.rechecked:
        storage.write_rechecked(generation, rechecked)
    storage.save_stems(generation)
    with ix.searcher() as searcher:
        summary.total = searcher.doc_count()
        _keep_date_orders(searcher, generation)
    return summary


def _keep_date_orders(searcher: Any, generation: Path) -> None:
    """Keep each segment's date order beside it (``storage.write_date_order``), written again
    only when missing or unreadable: a search's first date range or ``--since`` then reads it
    instead of sorting the segment's dates (a fifth of a second for each of a 20 x Reuters
    build's two segments)."""
    current = set()
    for leaf, _offset in searcher.leaf_searchers():
        reader = leaf.reader()
        segment = reader.segment()
        if segment is None:  # an empty index's reader
            continue
        segment_id = segment.segment_id()
        current.add(segment_id)
        if storage.read_date_order(generation, segment_id, reader.doc_count_all()) is None:
            order = column_order(reader, DATE_FIELD)
            if order is not None:
                values, docnums = order
                storage.write_date_order(generation, segment_id, reader.doc_count_all(), values.tolist(),
                                         docnums.tolist())
    storage.keep_date_orders(generation, current)
    keep_columns(generation, current)


def _jobs(keys: list[str], root: str, held: dict[str, IndexedFile], on_disk: dict[str, FileState]) -> Iterator[Job]:
    """The read job of each file, made as it is handed out."""
    for key in keys:
        known = held.get(key)
        yield key, os.path.join(root, on_disk[key].path), root, known.digest if known else None


@dataclass
class _Known:
    """What the index and the last run's memory say of the files on disk, asked file by file."""

    held: dict[str, IndexedFile]
    on_disk: dict[str, FileState]
    skipped: dict[str, storage.SkipMemory]
    # Files read again to no change (touched, copied without their times): not read a third time.
    rechecked: dict[str, tuple[int, int]]
    include_drafts: bool

    def as_indexed(self, key: str) -> bool:
        """Whether the file holds what the index has for it, as its size and mtime tell."""
        indexed, state = self.held.get(key), self.on_disk.get(key)
        if indexed is None or state is None:
            return False
        now = (state.size, state.mtime_ns)
        return now == (indexed.size, indexed.mtime_ns) or self.rechecked.get(key) == now

    def still_skipped(self, key: str) -> bool:
        """Whether a file skipped before can be skipped again without reading it."""
        memory, state = self.skipped.get(key), self.on_disk[key]
        if memory is None or (memory.size, memory.mtime_ns) != (state.size, state.mtime_ns):
            return False
        if memory.reason == DRAFT_SKIP:  # with --drafts it is indexed after all
            return not self.include_drafts
        if not memory.winner:
            return True
        # A duplicate stays skipped only while the copy that beat it is indexed as it was: unchanged,
        # or kept at its last good version while its file stays unreadable (skipped, unchanged).
        if self.as_indexed(memory.winner):
            return True
        kept, winner_state = self.skipped.get(memory.winner), self.on_disk.get(memory.winner)
        return bool(memory.winner in self.held and kept and winner_state and not kept.winner
                    and (kept.size, kept.mtime_ns) == (winner_state.size, winner_state.mtime_ns))


def _skips_to_remember(summary: UpdateSummary, on_disk: dict[str, FileState]) -> dict[str, storage.SkipMemory]:
    return {
        skip.path: storage.SkipMemory(on_disk[skip.path].size, on_disk[skip.path].mtime_ns, skip.reason, skip.winner)
        for skip in summary.skipped if skip.path in on_disk and skip.remember
    }


@dataclass(slots=True)  # one per story of a build: kept lean
class Winner:
    """The reading of a story that is to be indexed: what deciding and writing it need."""

    key: str
    date: datetime | None
    digest: str
    # Where a worker wrote it (its segment's number and the document's number), else -1.
    segment: int
    docnum: int
    # The article, when it was read in this process and is still to be written.
    article: Article | None


@dataclass
class Batch:
    """The articles read in one run: one winner per id, and the files that must leave the index."""

    winners: dict[str, Winner] = field(default_factory=dict)
    # Files now skipped as drafts or as losing duplicates: an older indexed version must go.
    retired: list[str] = field(default_factory=list)
    # Documents workers wrote that must not stay (losing duplicates), as (segment, docnum).
    dropped: set[tuple[int, int]] = field(default_factory=set)
    # Files read again whose content is the version indexed (only their size or mtime changed).
    rechecked: list[str] = field(default_factory=list)

    def drop(self, winner: Winner) -> None:
        """Note that a reading will not be indexed after all."""
        if winner.docnum >= 0:
            self.dropped.add((winner.segment, winner.docnum))


def _collect_articles(
    results: Iterable[ReadResult],
    on_disk: dict[str, FileState],
    include_drafts: bool,
    summary: UpdateSummary,
) -> Batch:
    """Keep the articles to write, one per id (duplicates resolved), noting skips and warnings."""
    batch = Batch()
    for result in results:
        if result.unchanged:
            summary.unchanged += 1
            batch.rechecked.append(result.key)
            continue
        article = result.article
        if article is None:
            # An unreadable new version keeps the last good one in the index.
            summary.skipped.append(Skip(result.key, result.error or "unreadable", remember=True))
            continue
        if article.warnings:
            summary.warnings.extend(Skip(result.key, warning) for warning in article.warnings)
        if article.draft and not include_drafts:
            summary.skipped.append(Skip(result.key, DRAFT_SKIP, remember=True))
            batch.retired.append(result.key)
            continue
        # Only what deciding and writing need is kept, not the whole reading.
        candidate = Winner(result.key, article.date, result.digest, result.segment, result.docnum,
                           None if isinstance(article, Story) else article)
        # An article without a link has its path as id: the key's string serves for both.
        doc_id = result.key if article.id == result.key else article.id
        rival = batch.winners.get(doc_id)
        if rival is None:
            batch.winners[doc_id] = candidate
            continue
        winner, loser = _newer(candidate, rival, on_disk)
        batch.winners[doc_id] = winner
        summary.skipped.append(_duplicate_skip(loser.key, winner.key))
        batch.retired.append(loser.key)
        batch.drop(loser)
    return batch


def _newer(a: Winner, b: Winner, on_disk: dict[str, FileState]) -> tuple[Winner, Winner]:
    """Order two readings of one story: the newest date wins, then the newest file."""
    def rank(item: Winner) -> tuple[float, int, str]:
        return (_timestamp(item.date), on_disk[item.key].mtime_ns, item.key)
    return (a, b) if rank(a) >= rank(b) else (b, a)


def _timestamp(date: datetime | None) -> float:
    return date.timestamp() if date else float("-inf")


def _duplicate_skip(loser: str, winner: str, repeated: bool = False) -> Skip:
    return Skip(loser, f"duplicate of {winner} (same link; the newer date or newer file wins)",
                repeated=repeated, remember=True, winner=winner)


def _name_final_winners(skipped: list[Skip]) -> list[Skip]:
    """Make each duplicate name the copy that is indexed: the one it lost to may have lost in
    turn in the same run (to a copy read later, or to one newer than a remembered winner).

    An unreadable file whose last good version lost is reported (and remembered) as unreadable
    only: that is why it is skipped, whatever copy is indexed.
    """
    beaten_by = {skip.path: skip.winner for skip in skipped if skip.winner}
    unreadable = {skip.path for skip in skipped if not skip.winner}
    named = []
    for skip in skipped:
        if skip.winner and skip.path in unreadable:
            continue
        winner, seen = skip.winner, {skip.path}
        while winner in beaten_by and winner not in seen:  # the order is strict: no cycle, but be safe
            seen.add(winner)
            winner = beaten_by[winner]
        named.append(skip if winner == skip.winner else _duplicate_skip(skip.path, winner, skip.repeated))
    return named


def _write(
    ix: Any,
    batch: Batch,
    removed: list[str],
    held: dict[str, IndexedFile],
    on_disk: dict[str, FileState],
    summary: UpdateSummary,
    segments: list[Any] | None,
) -> None:
    """Apply the batch in one commit: deletions, then the winners (written here, or kept from
    the workers' ``segments``, whose other documents are marked deleted)."""
    # The files whose indexed version stays as it is: one read again in this run (a winner, a
    # loser, a draft) has its new reading decided in the batch, and its old one goes.
    read_again = {winner.key for winner in batch.winners.values()}.union(batch.retired)
    holder_of = {indexed.id: key for key, indexed in held.items() if key in on_disk and key not in read_again}
    spelling = SpellingLists()
    writer = ix.writer(limitmb=WRITER_LIMIT_MB)
    try:
        for key in removed + [key for key in batch.retired if key in held]:
            writer.delete_by_term("path", key)
            summary.deleted += 1
        for doc_id, winner in batch.winners.items():
            key = winner.key
            other = holder_of.get(doc_id)
            if other is not None and other != key and not _replaces(winner, other, held, on_disk):
                summary.skipped.append(_duplicate_skip(key, other))
                batch.drop(winner)
                if key in held:
                    writer.delete_by_term("path", key)
                    summary.deleted += 1
                continue
            if other is not None and other != key:
                writer.delete_by_term("path", other)
                summary.deleted += 1
                summary.skipped.append(_duplicate_skip(other, key))
            _count_article(writer, key, held, summary)
            if segments is None:
                assert winner.article is not None
                state = on_disk.get(key)
                add_article(writer, spelling, winner.article, key, state.size if state else 0,
                            state.mtime_ns if state else API_MTIME, winner.digest)
            elif held:  # as update_document: the id may be held under another (vanished) path
                writer.delete_by_term("id", doc_id)
        finished = _drop_documents(segments or [], batch.dropped)
    except BaseException:
        abandon(writer)
        raise
    try:
        writer.commit(mergetype=segment_merger(finished) if finished else None)
    except BaseException:
        abandon(writer)
        raise


def abandon(writer: Any) -> None:
    """Cancel a writer and free Whoosh's write lock, even when cancelling fails too (disk full):
    otherwise the lock stays held until the writer is garbage collected."""
    try:
        writer.cancel()
    except Exception:  # already failing; the lock below is what matters
        pass
    finally:
        lock = getattr(writer, "writelock", None)
        if lock is not None:
            try:
                lock.release()
            except Exception:  # released by cancel() already
                pass


def _drop_documents(segments: list[Any], dropped: set[tuple[int, int]]) -> list[Any]:
    """Mark deleted the ``dropped`` documents of the workers' segments; leave out empty segments.

    The losers are named rather than the winners: they are few, the winners one per story.
    """
    finished = []
    for number, segment in enumerate(segments):
        if segment is None:
            continue
        for docnum in sorted(docnum for which, docnum in dropped if which == number):
            segment.delete_document(docnum)
        if segment.deleted_count() < segment.doc_count_all():
            finished.append(segment)
    return finished


def _replaces(winner: Winner, other: str, held: dict[str, IndexedFile], on_disk: dict[str, FileState]) -> bool:
    """Whether a newly read file should replace the indexed file that has the same link."""
    mine = (_timestamp(winner.date), on_disk[winner.key].mtime_ns, winner.key)
    theirs = (_timestamp(held[other].date), on_disk[other].mtime_ns, other)
    return mine >= theirs


def _count_article(writer: Any, key: str, held: dict[str, IndexedFile], summary: UpdateSummary) -> None:
    """Count a winner as added or updated, deleting the version of its file the index held."""
    if key in held:
        writer.delete_by_term("path", key)
        summary.updated += 1
    else:
        summary.added += 1


def watch_corpus(
    index_dir: Path,
    corpus: Path,
    changes: Iterable[str],
    *,
    on_update: Callable[[UpdateSummary], None],
    include_drafts: bool = False,
    wait: float = 5.0,
) -> None:
    """Update the index after each batch of ``changes`` to the corpus until they end:
    ``index.watching.start_watching``, the kernel's file events or a scan every few seconds.

    Start the watch before the update that brings the index up to date, so that nothing
    written while it runs is missed. Each pass is one ordinary incremental update, so an
    interrupted pass (Ctrl-C) cancels its uncommitted batch and leaves the last committed
    state in place.
    """
    for _how in changes:
        on_update(update_index(index_dir, corpus, include_drafts=include_drafts, wait=wait))


def add_articles(ix: Any, articles: Iterable[Article]) -> int:
    """Add or replace articles given directly by a program; returns how many were written."""
    count = 0
    spelling = SpellingLists()
    with _writing(ix) as writer:
        for article in articles:
            add_article(writer, spelling, article, article.path, 0, API_MTIME, "")
            count += 1
    return count


def delete_ids(ix: Any, ids: Iterable[str]) -> int:
    """Delete articles by id; returns how many documents were deleted."""
    with _writing(ix) as writer:
        return sum(writer.delete_by_term("id", doc_id) for doc_id in ids)


@contextlib.contextmanager
def _writing(ix: Any) -> Iterator[Any]:
    """A writer that commits when the block ends and is abandoned cleanly when it raises."""
    writer = ix.writer()
    try:
        yield writer
    except BaseException:
        abandon(writer)
        raise
    try:
        writer.commit()
    except BaseException:
        abandon(writer)
        raise
