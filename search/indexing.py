"""Indexing: turn a corpus folder into index documents, fully or incrementally.

Parts:
- ``scan_corpus``: list the article files under a folder with their size and mtime.
- ``update_index``: the one entry point; compares the folder with what the index holds (size and
  mtime first, a content digest only where those changed), reads only new and changed files (a
  big batch in worker processes that also write its segments, see ``segments``), deletes what
  disappeared, and commits once. ``rebuild=True`` writes a fresh generation and publishes it
  only when complete (see ``storage``).
- ``add_articles`` / ``delete_ids``: for programs that produce articles themselves.
- ``UpdateSummary`` and ``Skip``: what a run did, for the API, the CLI and ``--json``.

Two files with the same canonical link are one story: the newest date wins, then the newest file.
"""
from __future__ import annotations

import contextlib

import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh.util.times import long_to_datetime

from . import storage
from .errors import IndexNotFoundError
from .schema import build_schema
from .segments import (
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
from .whoosh_fixes import create_whoosh, open_whoosh

if TYPE_CHECKING:
    from .articles import Article

ARTICLE_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
_ARTICLE_ENDINGS = tuple(ARTICLE_SUFFIXES)  # names starting with a dot are skipped first

# From this many files to read, worker processes read and write them (see ``segments``); below
# it, starting them (about a second) costs more than they save.
PARALLEL_THRESHOLD = 1000

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Skip:
    """A file that was not indexed (or was indexed with a problem), and why.

    ``repeated`` marks a file skipped on an earlier run and unchanged since, so not read again.
    """

    path: str
    reason: str
    repeated: bool = False
    # Internal: whether to remember the skip for the next run, and the duplicate that won.
    remember: bool = field(default=False, repr=False, compare=False)
    winner: str = field(default="", repr=False, compare=False)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


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


@dataclass(frozen=True, slots=True)  # one per corpus file: slots keep 431k of them small
class FileState:
    """A corpus file as found on disk: where it is and what stat says of it.

    ``path`` is relative to the corpus folder, as the file system spells it: nearly always the
    very string of the file's key, so a big corpus does not hold every full path twice.
    """

    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)  # one per indexed file on an update
class IndexedFile:
    """What the index remembers of a file it holds."""

    id: str
    size: int
    mtime_ns: int
    digest: str
    date_value: int  # the date column's raw value (0: no date), converted only when asked for

    @property
    def date(self) -> datetime | None:
        """The article's date (naive UTC, as the column holds it), or None if it has none."""
        when = long_to_datetime(self.date_value)
        return when if when.year > 1 else None  # 0, the column's default, reads back as year 1


def scan_corpus(root: Path, problems: list[Skip]) -> dict[str, FileState]:
    """Return the article files under ``root`` keyed by their path relative to it.

    Hidden files and folders are ignored and symlinked folders are not followed (so a symlink
    loop cannot trap the walk); files that cannot be examined are added to ``problems``.
    """
    found: dict[str, FileState] = {}
    # Plain strings, not Path objects: a no-op update of a big corpus is mostly this walk.
    start = len(os.path.join(os.fspath(root), ""))
    pending = [os.fspath(root)]
    while pending:
        folder = pending.pop()
        try:
            # Streamed, not listed: a folder of 400,000 articles listed at once holds 300 MB.
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    elif entry.name.lower().endswith(_ARTICLE_ENDINGS):  # splitext's answer, in C
                        _add_file(entry, entry.path[start:], found, problems)
        except OSError as error:
            problems.append(Skip(printable_path(Path(folder), root), f"cannot list folder: {error.strerror}"))
    return found


def _add_file(entry: os.DirEntry[str], relative: str, found: dict[str, FileState], problems: list[Skip]) -> None:
    spelled = relative
    if os.sep != "/":
        relative = relative.replace(os.sep, "/")
    # As printable_path: undecodable bytes of a name (surrogate escapes) shown as escapes.
    key = relative if relative.isascii() else os.fsencode(relative).decode("utf-8", "backslashreplace")
    try:
        info = entry.stat()
    except OSError as error:
        reason = "broken symlink or symlink loop" if entry.is_symlink() else f"cannot read: {error.strerror}"
        problems.append(Skip(key, reason))
        return
    if stat.S_ISREG(info.st_mode):
        found[key] = FileState(key if key == spelled else spelled, info.st_size, info.st_mtime_ns)


def printable_path(path: Path, root: Path) -> str:
    """The path relative to ``root``, with any undecodable bytes of its name shown as escapes."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        relative = path
    return os.fsencode(relative.as_posix()).decode("utf-8", "backslashreplace")


def read_here(jobs: Iterable[Job], total: int, progress: ProgressCallback | None) -> Iterator[ReadResult]:
    """Read files in this process (small batches), reporting progress."""
    for done, result in enumerate(map(read_file, jobs), 1):
        if progress:
            progress(done, total)
        yield result


def indexed_files(reader: Any) -> dict[str, IndexedFile]:
    """What the index holds, keyed by file path, read from columns (cheap: no stored fields).

    The columns are read raw and decoded in bulk: Whoosh's translating reader called a Python
    function per value (a date per document), two thirds of this on an update of Reuters.
    """
    if reader.doc_count_all() == 0:  # an empty index has no segments, hence no columns
        return {}
    paths, ids, digests = (_text_column(reader, name) for name in ("path", "id", "digest"))
    sizes, mtimes, dates = (list(reader.column_reader(name, translate=False)) for name in ("size", "mtime_ns", "date"))
    kept = reader.all_doc_ids() if reader.has_deletions() else range(len(paths))
    return {paths[docnum]: IndexedFile(ids[docnum], sizes[docnum], mtimes[docnum], digests[docnum], dates[docnum])
            for docnum in kept}


def _text_column(reader: Any, name: str) -> list[str]:
    """A column of an ``ID`` field, every document's value decoded as the field decodes it."""
    return [value.decode("utf-8") for value in reader.column_reader(name, translate=False)]


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
    on_disk = scan_corpus(corpus, summary.skipped)
    remembered = storage.read_skips(generation)
    to_read = []  # keys only: a job per file of a big corpus is built when it is handed out
    for key, state in on_disk.items():
        known = held.get(key)
        if known and known.size == state.size and known.mtime_ns == state.mtime_ns:
            summary.unchanged += 1
        elif _still_skipped(remembered.get(key), state, held, on_disk):
            summary.skipped.append(Skip(key, remembered[key].reason, repeated=True))
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
    storage.write_skips(generation, _skips_to_remember(summary, on_disk))
    with ix.searcher() as searcher:
        summary.total = searcher.doc_count()
    return summary


def _jobs(keys: list[str], root: str, held: dict[str, IndexedFile], on_disk: dict[str, FileState]) -> Iterator[Job]:
    """The read job of each file, made as it is handed out."""
    for key in keys:
        known = held.get(key)
        yield key, os.path.join(root, on_disk[key].path), root, known.digest if known else None


def _still_skipped(memory: storage.SkipMemory | None, state: FileState,
                   held: dict[str, IndexedFile], on_disk: dict[str, FileState]) -> bool:
    """Whether a file skipped before can be skipped again without reading it."""
    if memory is None or (memory.size, memory.mtime_ns) != (state.size, state.mtime_ns):
        return False
    if not memory.winner:
        return True
    # A duplicate stays skipped only while the copy that beat it is indexed and unchanged.
    winner, winner_state = held.get(memory.winner), on_disk.get(memory.winner)
    return bool(winner and winner_state and (winner.size, winner.mtime_ns) == (winner_state.size, winner_state.mtime_ns))


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
            continue
        article = result.article
        if article is None:
            # An unreadable new version keeps the last good one in the index.
            summary.skipped.append(Skip(result.key, result.error or "unreadable", remember=True))
            continue
        if article.warnings:
            summary.warnings.extend(Skip(result.key, warning) for warning in article.warnings)
        if article.draft and not include_drafts:
            summary.skipped.append(Skip(result.key, "draft: true (use --drafts to index drafts)"))
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


def _duplicate_skip(loser: str, winner: str) -> Skip:
    return Skip(loser, f"duplicate of {winner} (same link; the newer date or newer file wins)",
                remember=True, winner=winner)


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
    holder_of = {indexed.id: key for key, indexed in held.items() if key in on_disk}
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
    *,
    interval: float = 10.0,
    on_update: Callable[[UpdateSummary], None],
    include_drafts: bool = False,
    wait: float = 5.0,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Update the index now and then every ``interval`` seconds until ``should_stop()``.

    Each pass is one ordinary incremental update, so an interrupted pass (Ctrl-C) cancels its
    uncommitted batch and leaves the last committed state in place.
    """
    while not should_stop():
        on_update(update_index(index_dir, corpus, include_drafts=include_drafts, wait=wait))
        deadline = time.monotonic() + interval
        while not should_stop() and time.monotonic() < deadline:
            time.sleep(min(0.2, interval))


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
