"""Indexing: turn a corpus folder into index documents, fully or incrementally.

Parts:
- ``scan_corpus``: list the article files under a folder with their size and mtime.
- ``update_index``: the one entry point; compares the folder with what the index holds (size and
  mtime first, a content digest only where those changed), reads only new and changed files (in
  parallel), deletes what disappeared, and commits once. ``rebuild=True`` writes a fresh
  generation and publishes it only when complete (see ``storage``).
- ``add_articles`` / ``delete_ids``: for programs that produce articles themselves.
- ``UpdateSummary`` and ``Skip``: what a run did, for the API, the CLI and ``--json``.

Two files with the same canonical link are one story: the newest date wins, then the newest file.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.writing import IndexWriter

from . import storage
from .articles import Article, load_article
from .errors import ArticleError, IndexNotFoundError
from .schema import build_schema

ARTICLE_SUFFIXES = frozenset({".md", ".markdown", ".txt"})

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 200

ProgressCallback = Callable[[int, int], None]

# The mtime recorded for articles added through the API: no corpus file stands behind them.
API_MTIME = -1


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


@dataclass(frozen=True)
class FileState:
    """A corpus file as found on disk: where it is and what stat says of it."""

    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class IndexedFile:
    """What the index remembers of a file it holds."""

    id: str
    size: int
    mtime_ns: int
    digest: str
    date: datetime | None


@dataclass(frozen=True)
class ReadResult:
    """The outcome of reading one file in a worker: an article, an error, or 'same content'."""

    key: str
    digest: str
    article: Article | None = None
    error: str | None = None
    unchanged: bool = False


def scan_corpus(root: Path, problems: list[Skip]) -> dict[str, FileState]:
    """Return the article files under ``root`` keyed by their path relative to it.

    Hidden files and folders are ignored and symlinked folders are not followed (so a symlink
    loop cannot trap the walk); files that cannot be examined are added to ``problems``.
    """
    found: dict[str, FileState] = {}
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as error:
            problems.append(Skip(printable_path(folder, root), f"cannot list folder: {error.strerror}"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
            elif Path(entry.name).suffix.lower() in ARTICLE_SUFFIXES:
                _add_file(entry, root, found, problems)
    return found


def _add_file(entry: os.DirEntry[str], root: Path, found: dict[str, FileState], problems: list[Skip]) -> None:
    path = Path(entry.path)
    key = printable_path(path, root)
    try:
        info = entry.stat()
    except OSError as error:
        reason = "broken symlink or symlink loop" if entry.is_symlink() else f"cannot read: {error.strerror}"
        problems.append(Skip(key, reason))
        return
    if stat.S_ISREG(info.st_mode):
        found[key] = FileState(path, info.st_size, info.st_mtime_ns)


def printable_path(path: Path, root: Path) -> str:
    """The path relative to ``root``, with any undecodable bytes of its name shown as escapes."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        relative = path
    return os.fsencode(relative.as_posix()).decode("utf-8", "backslashreplace")


def file_digest(data: bytes) -> str:
    """A short content digest: equal digests mean the file did not really change."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_file(job: tuple[str, str, str, str | None]) -> ReadResult:
    """Read and parse one file; runs in worker processes, so it returns errors as data."""
    key, path, root, known_digest = job
    try:
        with open(path, "rb") as handle:
            digest = file_digest(handle.read())
    except OSError as error:
        return ReadResult(key, "", error=f"cannot read: {error.strerror}")
    if digest == known_digest:
        return ReadResult(key, digest, unchanged=True)
    try:
        return ReadResult(key, digest, article=load_article(path, root))
    except ArticleError as error:
        return ReadResult(key, digest, error=error.reason)


def read_files(jobs: list[tuple[str, str, str, str | None]], progress: ProgressCallback | None) -> Iterator[ReadResult]:
    """Read files, on every core when there are many, reporting progress as results arrive."""
    total = len(jobs)
    if total < PARALLEL_THRESHOLD or (os.cpu_count() or 1) < 2:
        results: Iterable[ReadResult] = map(read_file, jobs)
        executor = None
    else:
        # "spawn", not fork: a forked worker would inherit the writer lock's descriptor and keep
        # the index locked after a killed writer, until the orphan finished.
        executor = ProcessPoolExecutor(max_workers=os.cpu_count(), initializer=_ignore_interrupts,
                                       mp_context=multiprocessing.get_context("spawn"))
        results = executor.map(read_file, jobs, chunksize=64)
    try:
        for done, result in enumerate(results, 1):
            if progress:
                progress(done, total)
            yield result
    finally:
        if executor:
            executor.shutdown(cancel_futures=True)


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the main process, which cancels the batch cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def article_document(article: Article, key: str, state: FileState | None, digest: str) -> dict[str, Any]:
    """The Whoosh document for an article read from the file ``key``."""
    document: dict[str, Any] = {
        "id": article.id,
        "path": key,
        "link": article.link,
        "title": article.title,
        "description": article.description,
        "body": article.body,
        "tags": ", ".join(article.tags),
        "tag_list": ",".join(article.tags),
        "source": article.source,
        "source_name": article.source,
        "categories": " ".join(article.categories),
        "category_list": ",".join(article.categories),
        "mtime_ns": state.mtime_ns if state else API_MTIME,
        "size": state.size if state else 0,
        "digest": digest,
        "slug": article.slug,
        "image": article.image,
    }
    if article.date is not None:
        utc = article.date.astimezone(timezone.utc).replace(tzinfo=None)
        document["date"] = utc
        document["month"] = utc.strftime("%Y-%m")
    return document


def indexed_files(reader: Any) -> dict[str, IndexedFile]:
    """What the index holds, keyed by file path, read from columns (cheap: no stored fields)."""
    if reader.doc_count_all() == 0:  # an empty index has no segments, hence no columns
        return {}
    columns = {name: reader.column_reader(name) for name in ("path", "id", "size", "mtime_ns", "digest", "date")}
    held: dict[str, IndexedFile] = {}
    for docnum in reader.all_doc_ids():
        date = columns["date"][docnum]
        held[columns["path"][docnum]] = IndexedFile(
            id=columns["id"][docnum],
            size=columns["size"][docnum],
            mtime_ns=columns["mtime_ns"][docnum],
            digest=columns["digest"][docnum],
            date=date if isinstance(date, datetime) and date.year > 1 else None,
        )
    return held


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
    return whoosh_index.open_dir(str(generation))


def _build_generation(index_dir: Path, corpus: Path, include_drafts: bool, progress: ProgressCallback | None) -> UpdateSummary:
    generation = storage.new_generation(index_dir)
    try:
        ix = whoosh_index.create_in(str(generation), build_schema())
        summary = _apply_changes(ix, {}, corpus, include_drafts, progress)
        summary.rebuilt = True
        storage.write_meta(generation, str(corpus))
        storage.publish(index_dir, generation)
    except BaseException:
        storage.discard(generation)
        raise
    return summary


def _update_generation(ix: Any, corpus: Path, include_drafts: bool, progress: ProgressCallback | None) -> UpdateSummary:
    with ix.searcher() as searcher:
        held = indexed_files(searcher.reader())
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
    jobs = []
    for key, state in on_disk.items():
        known = held.get(key)
        if known and known.size == state.size and known.mtime_ns == state.mtime_ns:
            summary.unchanged += 1
        elif _still_skipped(remembered.get(key), state, held, on_disk):
            summary.skipped.append(Skip(key, remembered[key].reason, repeated=True))
        else:
            jobs.append((key, str(state.path), str(corpus), known.digest if known else None))
    # Articles a program added through the API (mtime_ns < 0) have no file to disappear.
    removed = [key for key, indexed in held.items() if key not in on_disk and indexed.mtime_ns >= 0]
    batch = _collect_articles(read_files(jobs, progress), on_disk, include_drafts, summary)
    if batch.winners or removed or any(key in held for key in batch.retired):
        _write(ix, batch, removed, held, on_disk, summary)
    storage.write_skips(generation, _skips_to_remember(summary, on_disk))
    with ix.searcher() as searcher:
        summary.total = searcher.doc_count()
    return summary


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


@dataclass
class Batch:
    """The articles read in one run: one winner per id, and the files that must leave the index."""

    winners: dict[str, tuple[ReadResult, Article]] = field(default_factory=dict)
    # Files now skipped as drafts or as losing duplicates: an older indexed version must go.
    retired: list[str] = field(default_factory=list)


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
        if result.article is None:
            # An unreadable new version keeps the last good one in the index.
            summary.skipped.append(Skip(result.key, result.error or "unreadable", remember=True))
            continue
        article = result.article
        summary.warnings.extend(Skip(result.key, warning) for warning in article.warnings)
        if article.draft and not include_drafts:
            summary.skipped.append(Skip(result.key, "draft: true (use --drafts to index drafts)"))
            batch.retired.append(result.key)
            continue
        rival = batch.winners.get(article.id)
        if rival is None:
            batch.winners[article.id] = (result, article)
            continue
        winner, loser = _newer((result, article), rival, on_disk)
        batch.winners[article.id] = winner
        summary.skipped.append(_duplicate_skip(loser[0].key, winner[0].key))
        batch.retired.append(loser[0].key)
    return batch


def _newer(a: tuple[ReadResult, Article], b: tuple[ReadResult, Article], on_disk: dict[str, FileState]) -> tuple[Any, Any]:
    """Order two readings of one story: the newest date wins, then the newest file."""
    def rank(item: tuple[ReadResult, Article]) -> tuple[float, int, str]:
        result, article = item
        return (_timestamp(article.date), on_disk[result.key].mtime_ns, result.key)
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
) -> None:
    holder_of = {indexed.id: key for key, indexed in held.items() if key in on_disk}
    with ix.writer(limitmb=256) as writer:
        for key in removed + [key for key in batch.retired if key in held]:
            writer.delete_by_term("path", key)
            summary.deleted += 1
        for doc_id, (result, article) in batch.winners.items():
            other = holder_of.get(doc_id)
            if other is not None and other != result.key and not _replaces(article, result.key, other, held, on_disk):
                summary.skipped.append(_duplicate_skip(result.key, other))
                if result.key in held:
                    writer.delete_by_term("path", result.key)
                    summary.deleted += 1
                continue
            if other is not None and other != result.key:
                writer.delete_by_term("path", other)
                summary.deleted += 1
                summary.skipped.append(_duplicate_skip(other, result.key))
            _write_article(writer, article, result, held, on_disk, summary)


def _replaces(article: Article, key: str, other: str, held: dict[str, IndexedFile], on_disk: dict[str, FileState]) -> bool:
    """Whether a newly read file should replace the indexed file that has the same link."""
    mine = (_timestamp(article.date), on_disk[key].mtime_ns, key)
    theirs = (_timestamp(held[other].date), on_disk[other].mtime_ns, other)
    return mine >= theirs


def _write_article(
    writer: IndexWriter, article: Article, result: ReadResult,
    held: dict[str, IndexedFile], on_disk: dict[str, FileState], summary: UpdateSummary,
) -> None:
    if result.key in held:
        writer.delete_by_term("path", result.key)
        summary.updated += 1
    else:
        summary.added += 1
    # update_document also evicts a document with the same id held under another (vanished) path.
    writer.update_document(**article_document(article, result.key, on_disk.get(result.key), result.digest))


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
    with ix.writer() as writer:
        for article in articles:
            writer.update_document(**article_document(article, article.path, None, ""))
            count += 1
    return count


def delete_ids(ix: Any, ids: Iterable[str]) -> int:
    """Delete articles by id; returns how many documents were deleted."""
    with ix.writer() as writer:
        return sum(writer.delete_by_term("id", doc_id) for doc_id in ids)
