"""Segments: how articles become Whoosh documents and get written, here or in worker processes.

Parts:
- ``read_file`` and ``ReadResult``: read one corpus file (content digest, then the article).
- ``article_document``: the Whoosh document for an article.
- ``SpellingLists``: the unstemmed words of one segment, each written once to its
  ``schema.SPELLING_FIELDS`` list (Whoosh's ``spelling=True`` writes them once per document).
- ``SegmentWorkers``: for big batches, worker processes that each read files, analyze them and
  write a Whoosh segment of their own, so the slow part of indexing (Whoosh is pure Python) runs
  on every core. The main process only decides which documents stay (duplicates, drafts) and
  commits the segments with the rest of the change.

A writer's postings wait in a buffer of ``WRITER_LIMIT_MB`` until its segment is finished;
beyond that they spill to disk as sorted runs (written in batches: see ``sorted_runs``).
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import stat
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh.writing import SegmentWriter

from search.analysis.text import known_stems, remember_stems, spelling_words
from search.errors import ArticleError
from search.index.schema import SPELLING_FIELDS
from search.index.storage import use_stems
from search.whoosh_internals.reading import open_whoosh

if TYPE_CHECKING:
    from search.reading.articles import Article

# The mtime recorded for articles added through the API: no corpus file stands behind them.
API_MTIME = -1

# Files handed to a worker at a time, and chunks kept queued per worker so none waits.
CHUNK_FILES = 64
CHUNKS_AHEAD = 2

# Memory for each writer's posting buffer before it spills sorted runs to disk (Whoosh's
# estimate, about 175 bytes a posting; a worker's resident size grows about as much). 256 holds
# a worker's half of the Reuters corpus (1.15M postings, 201 MB by the estimate). At 192 it
# spilled once, which cost a quarter of a worker's CPU with Whoosh's run files and still costs
# a little with ``sorted_runs``' batches.
WRITER_LIMIT_MB = 256
# A worker's buffer for batches over 100,000 files, which spill whatever the size.
LARGE_BATCH_LIMIT_MB = 96


def worker_limit_mb(files: int) -> int:
    """A worker's posting buffer for a batch of ``files``, keeping a whole build within ~1 GB.

    Beyond 100,000 files the buffers spill anyway, and the main process needs about 500 bytes per
    file (what it knows of each, to resolve duplicates), so the workers make do with less.
    """
    return WRITER_LIMIT_MB if files <= 100_000 else LARGE_BATCH_LIMIT_MB


@dataclass(frozen=True, slots=True)
class Story:
    """What the main process needs of an article a worker wrote: enough to resolve duplicates."""

    id: str
    date: datetime | None
    draft: bool
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReadResult:
    """The outcome of reading one file: an article, an error, or 'same content as indexed'.

    From a worker, ``article`` is a ``Story`` and ``docnum`` says where in ``segment`` (the
    worker's number) the document was written; -1 when it was not written.
    """

    key: str
    digest: str
    article: Article | Story | None
    error: str | None
    unchanged: bool
    segment: int
    docnum: int

    @classmethod
    def make(cls, key: str, digest: str, article: Article | Story | None = None, error: str | None = None,
             unchanged: bool = False) -> ReadResult:
        return cls(key, digest, article, error, unchanged, -1, -1)


def file_digest(data: bytes) -> str:
    """A short content digest: equal digests mean the file did not really change."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class NotRegularFile(Exception):
    """The path names a FIFO, socket, device or folder: not read."""


# Bytes read from a file at a time while its digest is computed.
_CHUNK = 1 << 20


def read_capped(path: str) -> tuple[bytes, str]:
    """A file's first ``MAX_FILE_BYTES + 1`` bytes and the digest of all of it, streamed.

    Opened without blocking and checked to be a regular file once open (a FIFO swapped in after
    the scan would otherwise hold the writer forever); only the cap plus one byte is kept, so a
    huge file costs time to hash but no memory beyond the cap (issue 23 items 4 and 5).
    """
    from search.reading.articles import MAX_FILE_BYTES

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(path)
        os.set_blocking(fd, True)
        digest = hashlib.blake2b(digest_size=16)
        kept = bytearray()
        while chunk := os.read(fd, _CHUNK):
            digest.update(chunk)
            if len(kept) <= MAX_FILE_BYTES:
                kept += chunk[:MAX_FILE_BYTES + 1 - len(kept)]
        return bytes(kept), digest.hexdigest()
    finally:
        os.close(fd)


def read_file(job: tuple[str, str, str, str | None]) -> ReadResult:
    """Read and parse one file; also runs in worker processes, so it returns errors as data."""
    from search.reading.articles import parse_article_bytes  # bs4, ftfy and YAML load only when a file is read

    key, path, root, known_digest = job
    try:
        data, digest = read_capped(path)
    except NotRegularFile:
        return ReadResult.make(key, "", error="not a regular file")
    except OSError as error:
        return ReadResult.make(key, "", error=f"cannot read: {error.strerror}")
    if digest == known_digest:
        return ReadResult.make(key, digest, unchanged=True)
    try:  # from the bytes just read: the digest is of the content indexed, and one read is enough
        return ReadResult.make(key, digest, article=parse_article_bytes(data, path, root))
    except ArticleError as error:
        return ReadResult.make(key, digest, error=error.reason)


def article_document(article: Article, key: str, size: int, mtime_ns: int, digest: str) -> dict[str, Any]:
    """The Whoosh document for an article read from the file ``key`` (spelling words aside)."""
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
        "mtime_ns": mtime_ns,
        "size": size,
        "digest": digest,
        "slug": article.slug,
        "image": article.image,
    }
    if article.date is not None:
        utc = article.date.astimezone(timezone.utc).replace(tzinfo=None)
        document["date"] = utc
        document["month"] = utc.strftime("%Y-%m")
    return document


class SpellingLists:
    """The words one writer has put in its segment's spelling lists so far.

    Spelling suggestions and fuzzy terms only need each word to be in the list of some segment,
    so a document carries just the words no earlier document of its segment had. Use one
    instance per Whoosh writer.
    """

    def __init__(self) -> None:
        self.seen: dict[str, set[str]] = {field: set() for field in SPELLING_FIELDS}

    def add_to(self, document: dict[str, Any]) -> dict[str, Any]:
        """Add to ``document`` the spelling words of its prose that are new to this segment."""
        for field, list_field in SPELLING_FIELDS.items():
            seen = self.seen[field]
            new = spelling_words(document.get(field) or "") - seen
            if new:
                seen.update(new)
                document[list_field] = " ".join(sorted(new))
        return document


def add_article(writer: Any, spelling: SpellingLists, article: Article, key: str, size: int, mtime_ns: int,
                digest: str) -> None:
    """Write one article, replacing any document with the same id (``update_document``)."""
    writer.update_document(**spelling.add_to(article_document(article, key, size, mtime_ns, digest)))


# --- worker processes --------------------------------------------------------------------

Job = tuple[str, str, str, str | None]  # key, path, corpus root, digest known for the key
Sizes = Callable[[str], tuple[int, int]]  # key -> (size, mtime_ns) found by the scan


class SegmentWorkers:
    """Worker processes that read, analyze and write articles into segments of their own.

    Use as a context manager: ``results()`` yields a ``ReadResult`` per job as chunks finish,
    then ``segments`` holds each worker's finished segment (None when it wrote nothing), ready
    for the main process to mark unwanted documents deleted and commit.

    Workers are spawned, not forked: a forked one would inherit the writer lock's descriptor.
    Each talks to the main process over a pipe of its own, so a worker whose main process died
    (even by SIGKILL) gets EOF at its next message and exits. Results carry no digest (the
    documents hold it) and name their file with the key the main process handed out.
    """

    def __init__(self, folder: str, sizes: Sizes, include_drafts: bool, count: int | None = None,
                 limit_mb: int = WRITER_LIMIT_MB) -> None:
        self.folder = folder
        self.limit_mb = limit_mb
        self.sizes = sizes
        self.include_drafts = include_drafts
        self.count = max(1, count or os.cpu_count() or 1)
        self.segments: list[Any] = []
        self._processes: list[Any] = []
        self._connections: list[Connection] = []

    def __enter__(self) -> SegmentWorkers:
        context = multiprocessing.get_context("spawn")
        for _ in range(self.count):
            mine, theirs = context.Pipe()
            process = context.Process(target=_worker_main, daemon=True,
                                      args=(theirs, self.folder, self.include_drafts, self.limit_mb))
            process.start()
            theirs.close()
            self._processes.append(process)
            self._connections.append(mine)
        return self

    def __exit__(self, *exc: object) -> None:
        for connection in self._connections:
            connection.close()
        for process in self._processes:
            if exc[0] is not None:
                process.kill()
            process.join(timeout=60 if exc[0] is None else 5)
            if process.is_alive():
                process.kill()

    def results(self, jobs: Iterable[Job], total: int,
                progress: Callable[[int, int], None] | None = None) -> Iterator[ReadResult]:
        """Hand the ``total`` jobs out chunk by chunk and yield the results as they come back."""
        pending = iter(jobs)
        sizes = self.sizes
        number_of = {id(connection): number for number, connection in enumerate(self._connections)}
        queued = dict.fromkeys(number_of, 0)
        # The keys of each worker's chunks in flight: results name their file with these very
        # strings, not with unpickled copies, as the main process keeps one per file.
        in_flight: dict[int, deque[list[str]]] = {number: deque() for number in number_of}
        segments: dict[int, Any] = {}
        done = 0

        def feed(connection: Connection) -> None:
            chunk = [(*job, *sizes(job[0])) for job in islice(pending, CHUNK_FILES)]
            if chunk:
                connection.send(chunk)
                in_flight[id(connection)].append([job[0] for job in chunk])
                queued[id(connection)] += 1
            elif queued[id(connection)] == 0:
                connection.send(None)  # finish the segment
                queued[id(connection)] = -1

        for connection in self._connections:
            for _ in range(CHUNKS_AHEAD):
                feed(connection)
        while len(segments) < len(self._connections):
            waiting = [c for c in self._connections if number_of[id(c)] not in segments]
            for ready in wait(waiting):
                connection = self._connections[number_of[id(ready)]]
                number = number_of[id(connection)]
                try:
                    kind, payload = connection.recv()
                except EOFError:
                    raise RuntimeError(f"indexing worker {number} ended unexpectedly") from None
                if kind == "error":
                    raise payload
                if kind == "segment":
                    segments[number], stems = payload
                    remember_stems(stems)  # for the stem file the main process writes
                    continue
                queued[id(connection)] -= 1
                keys = in_flight[id(connection)].popleft()
                feed(connection)
                for key, (_, digest, story, error, unchanged, docnum) in zip(keys, payload):
                    done += 1
                    if progress:
                        progress(done, total)
                    yield ReadResult(key, "", Story(*story) if story else None, error, unchanged, number, docnum)
        self.segments = [segments[number] for number in range(len(self._connections))]


def _die_with_parent() -> None:
    """Ask the kernel to kill this worker when the indexing process dies (Linux's
    ``PR_SET_PDEATHSIG``): after a SIGKILL of the indexer, a worker busy in a long chunk lived on
    for up to 20 s until it next wrote to its pipe (issue 23 item 10). Elsewhere the pipe's EOF
    still ends it."""
    if not os.uname().sysname == "Linux":
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def _worker_main(connection: Connection, folder: str, include_drafts: bool, limit_mb: int) -> None:
    """A worker: write the articles of the chunks it is sent into one new segment."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    _die_with_parent()
    try:
        # No Whoosh lock: the main process holds newsearch's writer lock for the whole run.
        writer = SegmentWriter(open_whoosh(folder), _lk=False, limitmb=limit_mb)
        use_stems(Path(folder))
        spelling = SpellingLists()
        while (chunk := connection.recv()) is not None:
            connection.send(("results", [_write_one(writer, spelling, job, include_drafts) for job in chunk]))
        connection.send(("segment", (finish_segment(writer), known_stems())))
    except (EOFError, BrokenPipeError):
        return  # the main process is gone; its next commit removes what this one wrote
    except BaseException as error:  # reported to the main process, which says it in one line
        _report(connection, error)


def _report(connection: Connection, error: BaseException) -> None:
    """Send a worker's error to the main process, quietly: an error that cannot be pickled goes
    as its text, and a main process that is gone (it stopped at another worker's error) gets
    nothing, where an unhandled exception here would print a traceback for each worker."""
    for message in (error, RuntimeError(f"indexing worker failed: {error!r}")):
        try:
            connection.send(("error", message))
            return
        except (EOFError, OSError):
            return
        except Exception:  # noqa: BLE001 - not picklable: try its text
            continue


def _write_one(writer: Any, spelling: SpellingLists, job: tuple[Any, ...], include_drafts: bool) -> tuple[Any, ...]:
    key, path, root, known_digest, size, mtime_ns = job
    result = read_file((key, path, root, known_digest))
    article = result.article
    if article is None or isinstance(article, Story):
        return (key, result.digest, None, result.error, result.unchanged, -1)
    story = (article.id, article.date, article.draft, article.warnings)  # a Story, pickled lean
    if article.draft and not include_drafts:
        return (key, result.digest, story, None, False, -1)
    docnum = writer.docnum
    # add_document, not update_document: the main process deletes what this replaces.
    writer.add_document(**spelling.add_to(article_document(article, key, size, mtime_ns, result.digest)))
    return (key, result.digest, story, None, False, docnum)


def finish_segment(writer: Any) -> Any:
    """Write out a worker's segment without committing it: the main process does that.

    Like Whoosh's own multiprocessing writer, this uses SegmentWriter internals. The writer's
    temporary folder is shared with the other writers and left for the main writer to remove.
    """
    if not writer._added:
        writer._close_segment()
        return None
    return writer._finalize_segment()


def segment_merger(segments: list[Any]) -> Callable[[Any, list[Any]], list[Any]]:
    """A Whoosh merge policy that adds finished worker ``segments`` to the index's own."""
    from whoosh.writing import MERGE_SMALL

    def merge(writer: Any, existing: list[Any]) -> list[Any]:
        return list(MERGE_SMALL(writer, existing)) + segments
    return merge
