"""Storage: where an index lives on disk, how a new state is published, and who may write.

Layout of an index directory::

    index/
      CURRENT        name of the generation searches open ("gen-0003")
      gen-0003/      a complete Whoosh index plus meta.json (schema version, corpus root),
                     skipped.json (files skipped, not read again), rechecked.json, stems.txt
                     (see read_stems) and a dates-SEGMENT.bin per segment (see write_date_order)
      writer.lock    held (flock) by the one process that is writing

Parts:
- ``IndexMeta``: what newsearch records beside the Whoosh files.
- ``current_generation`` / ``open_whoosh``: find and open the published index.
- ``make_root``: a new index directory is private (0o700): it holds the text of every article.
- ``new_generation`` / ``publish``: a rebuild writes a fresh generation and swaps ``CURRENT``
  with an atomic rename, so searches never see a half-built index; the previous generation is
  kept one round so searches already running on it finish.
- ``read_skips`` / ``write_skips`` and ``read_stems`` / ``write_stems``: what writers keep beside
  the Whoosh files: the files skipped (not read again while unchanged) and the stem of every
  word they analyzed (a search whose words are all there need not import NLTK).
- ``write_date_order`` / ``read_date_order``: each segment's dated documents in date order, so a
  search's first date range or ``--since`` need not read and sort a big segment's dates.
- ``writer_lock``: one writer at a time; the kernel releases the lock when a writer dies, so a
  killed process never leaves a stale lock behind.
- ``check_private`` / ``check_generation``: opening an index loads Whoosh's pickles, which can
  run code, so an index folder, generation or file that another user owns, or that others may
  write, is refused (``IndexUnsafeError``) before anything is read from it (issue 23).
- Files are created with ``O_NOFOLLOW`` (and written aside with ``O_EXCL`` after unlinking what
  was there), so a symbolic link planted as ``writer.lock`` or ``CURRENT.tmp`` cannot make a
  writer truncate or write a file outside the index; a writer's generations are 0o700 and its
  files 0o600, whatever the umask (``private_files``).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import stat
import struct
import sys
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from search.analysis import text as analysis
from search.errors import IndexDamagedError, IndexLockedError, IndexNotFoundError, IndexUnsafeError
from search.index.schema import SCHEMA_VERSION

CURRENT_FILE = "CURRENT"
SKIPS_FILE = "skipped.json"
RECHECKED_FILE = "rechecked.json"
STEMS_FILE = "stems.txt"
STEMS_HEADER = "newsearch stems 1"
# A segment's documents in date order (``write_date_order``). Whoosh's clean-up deletes files
# whose names start with its index name ("MAIN_"), so these never share that prefix.
DATES_PREFIX = "dates-"
DATES_SUFFIX = ".bin"
DATES_HEADER = b"newsearch dates 1\n"
_COUNTS = struct.Struct("<qq")
LOCK_FILE = "writer.lock"
META_FILE = "meta.json"
GENERATION_PREFIX = "gen-"

REBUILD_HINT = "run `newsearch index --rebuild` to build it again"
# What a writer's new files and folders may grant: nothing to group or others (item 8).
PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
FOLDER_MODE = 0o700
# Opening an index loads pickles; these mode bits would let someone else plant one.
_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


def check_private(path: Path, what: str = "index folder") -> os.stat_result:
    """Raise ``IndexUnsafeError`` unless ``path`` belongs to this user (or root) and neither
    group nor others may write it; the ``lstat`` result. A symbolic link is judged by what it
    points to only for the index folder itself (the one path a user names); anything inside
    an index must not be a link."""
    try:
        info = path.stat() if what == "index folder" else path.lstat()
    except FileNotFoundError:
        raise
    except OSError as error:
        raise IndexDamagedError(f"{path}: cannot read the index ({error.strerror}); {REBUILD_HINT}") from None
    why = ""
    if stat.S_ISLNK(info.st_mode):
        why = "it is a symbolic link"
    elif info.st_uid not in (os.geteuid(), 0):
        why = f"it belongs to another user (uid {info.st_uid})"
    elif info.st_mode & _OTHERS_WRITE:
        why = f"group or others may write it (mode {stat.S_IMODE(info.st_mode):04o})"
    if why:
        raise IndexUnsafeError(f"{path}: {what} not opened: {why}, and opening an index runs code from its "
                               "files; use an index of your own that only you can write (chmod go-w, or "
                               "`newsearch index --rebuild`)")
    return info


def check_generation(generation: Path) -> None:
    """``check_private`` for a generation folder and every file in it (its pickles among them)."""
    check_private(generation, "index generation")
    try:
        entries = list(os.scandir(generation))
    except OSError as error:
        raise IndexDamagedError(f"{generation.parent}: cannot read the index ({error.strerror}); "
                                f"{REBUILD_HINT}") from None
    for entry in entries:
        try:
            check_private(Path(entry.path), "index file")
        except FileNotFoundError:  # removed by a writer since the listing (a merge, say)
            continue


def damaged_index(root: Path, error: BaseException) -> IndexDamagedError:
    """The error for an index whose files Whoosh cannot read, naming the fix."""
    return IndexDamagedError(f"{root}: index files are damaged ({type(error).__name__}: {error!s:.80}); "
                             f"{REBUILD_HINT}")


@dataclass(frozen=True)
class IndexMeta:
    """What an index generation records about itself."""

    schema_version: int
    corpus: str
    created: float


def current_generation(root: Path) -> Path:
    """Return the directory of the published generation, or raise ``IndexNotFoundError``;
    ``IndexUnsafeError`` when the folder, ``CURRENT`` or the generation is not private
    (``check_private``; the generation's files are checked by ``read_meta``)."""
    try:
        check_private(root)
        check_private(root / CURRENT_FILE, "index file")
        name = (root / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFoundError(
            f"{root}: no index here; run `newsearch index CORPUS --index {root}` to create one"
        ) from None
    except OSError as error:
        raise IndexDamagedError(f"{root}: cannot read the index ({error.strerror}); {REBUILD_HINT}") from None
    if not name.startswith(GENERATION_PREFIX) or "/" in name or not (root / name).is_dir():
        raise IndexDamagedError(f"{root}: the index's {CURRENT_FILE} file is damaged; {REBUILD_HINT}")
    check_private(root / name, "index generation")
    return root / name


def read_meta(generation: Path) -> IndexMeta:
    """Read a generation's metadata, checking that this version of newsearch can use it and
    that the generation and its files are private (``check_generation``): callers read it
    before they open the Whoosh index, whose table of contents is a pickle."""
    check_generation(generation)
    try:
        raw: dict[str, Any] = json.loads((generation / META_FILE).read_text(encoding="utf-8"))
        meta = IndexMeta(int(raw["schema_version"]), str(raw["corpus"]), float(raw["created"]))
    except (OSError, ValueError, KeyError, TypeError):
        raise IndexDamagedError(f"{generation.parent}: index metadata is missing or damaged; {REBUILD_HINT}") from None
    if meta.schema_version != SCHEMA_VERSION:
        raise IndexDamagedError(
            f"{generation.parent}: index was written by another version of newsearch "
            f"(schema {meta.schema_version}, this one reads {SCHEMA_VERSION}); {REBUILD_HINT}"
        )
    return meta


def write_meta(generation: Path, corpus: str) -> IndexMeta:
    """Record a generation's metadata (atomically: written aside, then renamed)."""
    meta = IndexMeta(SCHEMA_VERSION, corpus, time.time())
    _write_aside(generation / META_FILE, json.dumps(asdict(meta)))
    return meta


def _write_aside(path: Path, content: str | bytes) -> None:
    """Write a generation's small file atomically: written aside, then renamed over the old one,
    so a reader finds the old file or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    with _create(tmp) as handle:
        handle.write(content.encode("utf-8") if isinstance(content, str) else content)
    os.replace(tmp, path)


def _create(path: Path) -> Any:
    """A new private file at ``path``, open for writing: whatever was there (a planted symbolic
    link, a file left by a killed writer) is unlinked first, never followed or truncated, and
    ``O_EXCL | O_NOFOLLOW`` refuse one planted between the two steps."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    return os.fdopen(fd, "wb")


@dataclass(frozen=True)
class SkipMemory:
    """A file skipped by the last run, remembered so an unchanged one is not read again."""

    size: int
    mtime_ns: int
    reason: str
    winner: str = ""


def read_skips(generation: Path) -> dict[str, SkipMemory]:
    """The files the last run skipped; empty when unknown (they are then simply read again)."""
    try:
        raw = json.loads((generation / SKIPS_FILE).read_text(encoding="utf-8"))
        return {str(path): SkipMemory(*entry) for path, entry in raw.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def write_skips(generation: Path, skips: dict[str, SkipMemory]) -> None:
    """Remember the skipped files (atomically, like the metadata)."""
    data = {path: [m.size, m.mtime_ns, m.reason, m.winner] for path, m in skips.items()}
    _write_aside(generation / SKIPS_FILE, json.dumps(data))


def read_rechecked(generation: Path) -> dict[str, tuple[int, int]]:
    """Files whose size or mtime changed but whose content the last run found to be the indexed
    version, as path -> (size, mtime_ns); empty when unknown (they are then read again)."""
    try:
        raw = json.loads((generation / RECHECKED_FILE).read_text(encoding="utf-8"))
        return {str(path): (int(size), int(mtime_ns)) for path, (size, mtime_ns) in raw.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def write_rechecked(generation: Path, rechecked: dict[str, tuple[int, int]]) -> None:
    """Remember the files read again to no change (atomically, like the metadata)."""
    _write_aside(generation / RECHECKED_FILE, json.dumps({path: list(state) for path, state in rechecked.items()}))


def read_stems(generation: Path) -> dict[str, str]:
    """The word -> stem pairs the generation's writers computed (``analysis.snowball_stem``);
    empty when there are none or the file cannot be read (words are then stemmed by NLTK).

    The file is a header line, then ``word stem`` lines, read with one ``split``: a search reads
    it, and Reuters' 58,000 words took 12 ms so, against 22 ms for ``json.loads`` of the same.
    """
    try:
        header, _, body = (generation / STEMS_FILE).read_text(encoding="utf-8").partition("\n")
    except (OSError, ValueError):
        return {}
    tokens = body.split()
    if header != STEMS_HEADER or len(tokens) % 2:
        return {}
    pairs = iter(tokens)
    return dict(zip(pairs, pairs))


def write_stems(generation: Path, stems: dict[str, str]) -> None:
    """Keep word -> stem pairs with the generation (atomically, like the metadata); a pair with
    whitespace in it (the tokenizer makes none) is left out, as the file could not hold it."""
    lines = [f"{word} {stem}\n" for word, stem in stems.items() if word.split() == [word] and stem.split() == [stem]]
    _write_aside(generation / STEMS_FILE, STEMS_HEADER + "\n" + "".join(lines))


def use_stems(generation: Path) -> None:
    """Let ``analysis.snowball_stem`` find words in the generation's stem file before NLTK."""
    analysis.add_stem_source(str(generation / STEMS_FILE), partial(read_stems, generation))


def save_stems(generation: Path) -> None:
    """Add the stems this process knows (``analysis.known_stems``: those of every word it
    analyzed, read from a file or computed) to the generation's file, if it lacks any."""
    known = analysis.known_stems()
    if not known:
        return
    stems = read_stems(generation)
    if known.items() <= stems.items():
        return
    stems.update(known)
    write_stems(generation, stems)


def _date_order_path(generation: Path, segment_id: str) -> Path:
    return generation / f"{DATES_PREFIX}{segment_id}{DATES_SUFFIX}"


def write_date_order(generation: Path, segment_id: str, doc_count: int, values: Sequence[int],
                     docnums: Sequence[int]) -> None:
    """Keep a segment's dated documents in date order: their dates (Whoosh's column units) and
    document numbers, two arrays of 64-bit numbers after the segment's document count, all
    little-endian (atomically, like the metadata). A segment never changes once written;
    deletions are applied when it is read."""
    numbers = [array("q", values), array("q", docnums)]
    if sys.byteorder != "little":
        for column in numbers:
            column.byteswap()
    _write_aside(_date_order_path(generation, segment_id),
                 DATES_HEADER + _COUNTS.pack(doc_count, len(values)) + numbers[0].tobytes() + numbers[1].tobytes())


def read_date_order(generation: Path, segment_id: str, doc_count: int) -> tuple[array[int], array[int]] | None:
    """The (dates, document numbers) ``write_date_order`` kept for a segment of ``doc_count``
    documents; None when there is no such file or it does not fit (the order is then computed
    from the segment's dates)."""
    try:
        data = _date_order_path(generation, segment_id).read_bytes()
    except OSError:
        return None
    start = len(DATES_HEADER) + _COUNTS.size
    if not data.startswith(DATES_HEADER) or len(data) < start:
        return None
    documents, count = _COUNTS.unpack_from(data, len(DATES_HEADER))
    if documents != doc_count or not 0 <= count <= doc_count or len(data) != start + 16 * count:
        return None
    values, docnums = array("q"), array("q")
    values.frombytes(data[start:start + 8 * count])
    docnums.frombytes(data[start + 8 * count:])
    if sys.byteorder != "little":
        values.byteswap()
        docnums.byteswap()
    return values, docnums


def keep_date_orders(generation: Path, segment_ids: set[str]) -> None:
    """Delete the kept date orders of segments that are no longer in the index (merged away)."""
    for path in generation.glob(f"{DATES_PREFIX}*{DATES_SUFFIX}"):
        if path.name[len(DATES_PREFIX):-len(DATES_SUFFIX)] not in segment_ids:
            path.unlink(missing_ok=True)


def make_root(root: Path) -> None:
    """Create the index directory if needed: private (0o700), as it holds every article's text.

    An existing directory keeps its mode, so an index shared for reading on purpose stays
    shared; one that others may write is refused (``check_private``).
    """
    root.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    check_private(root)


def new_generation(root: Path) -> Path:
    """Create an empty directory for the next generation of the index."""
    make_root(root)
    numbers = [n for n in (_generation_number(p.name) for p in root.glob(GENERATION_PREFIX + "*")) if n is not None]
    generation = root / f"{GENERATION_PREFIX}{max(numbers, default=0) + 1:04d}"
    generation.mkdir(mode=FOLDER_MODE)
    os.chmod(generation, FOLDER_MODE)  # mkdir's mode passes through the umask
    return generation


def publish(root: Path, generation: Path) -> None:
    """Make ``generation`` the one searches open, then drop generations older than the last one."""
    previous = _published_name(root)
    tmp = root / (CURRENT_FILE + ".tmp")
    with _create(tmp) as handle:
        handle.write(generation.name.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, root / CURRENT_FILE)
    _fsync_dir(root)
    keep = {generation.name, previous}
    for old in root.glob(GENERATION_PREFIX + "*"):
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def discard(generation: Path) -> None:
    """Remove an unpublished generation (a rebuild that failed or was interrupted)."""
    shutil.rmtree(generation, ignore_errors=True)


def discard_unpublished(root: Path) -> None:
    """Remove what killed rebuilds left: generations newer than the published one (or all, if none is).

    Only a writer calls this, under the lock, so no rebuild is filling such a directory; the
    generation before the published one stays, as searchers opened before the last publish may
    still be reading it.
    """
    published = _generation_number(_published_name(root) or "")
    for candidate in root.glob(GENERATION_PREFIX + "*"):
        number = _generation_number(candidate.name)
        if number is not None and (published is None or number > published):
            discard(candidate)


def _generation_number(name: str) -> int | None:
    digits = name[len(GENERATION_PREFIX):]
    return int(digits) if name.startswith(GENERATION_PREFIX) and digits.isdigit() else None


def _published_name(root: Path) -> str | None:
    try:
        return (root / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def writer_lock(root: Path, wait: float = 5.0) -> Iterator[None]:
    """Hold the index's writer lock, waiting up to ``wait`` seconds for another writer.

    The lock file is opened without following a link (a planted ``writer.lock`` link would have
    had the writer truncate its target), and while the lock is held files are created private
    (``private_files``)."""
    make_root(root)
    try:
        fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    except OSError as error:
        if error.errno != errno.ELOOP:
            raise
        raise IndexUnsafeError(f"{root / LOCK_FILE}: not opened: it is a symbolic link, so writing it would "
                               "write elsewhere; remove it and run the command again") from None
    try:
        check_private(root / LOCK_FILE, "index file")
        _acquire(fd, root, wait)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        discard_unpublished(root)
        try:
            with private_files():
                yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def private_files() -> Iterator[None]:
    """Create files and folders private while this runs (umask 0o077): Whoosh's writer and the
    worker processes it starts create files with open(), which honours only the umask."""
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def _acquire(fd: int, root: Path, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() >= deadline:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise IndexLockedError(
                f"{root}: index is being updated by another process (pid {holder}); "
                "try again when it finishes, or pass a longer --wait"
            )
        time.sleep(0.1)
