"""Scanning: what is on disk and what the index holds, the two sides an update compares.

Parts:
- ``ARTICLE_SUFFIXES``: the file name endings read as articles.
- ``scan_corpus``: list the article files under a folder with their size and mtime, as
  ``FileState`` records keyed by their path relative to it.
- ``indexed_files``: what the index holds of each file, as ``IndexedFile`` records read from its
  columns.
- ``printable_path``: a path as reports show it.
- ``Skip``: a file that was not indexed, and why (``indexing`` adds the files it cannot read).

Nothing here reads an article or writes the index: ``indexing`` decides from these what to do.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from whoosh.util.times import long_to_datetime

ARTICLE_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
_ARTICLE_ENDINGS = tuple(ARTICLE_SUFFIXES)  # names starting with a dot are skipped first


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
        """The article's date (aware UTC, as a newly read article's), or None if it has none.

        The column holds naive UTC: compared as it is, its timestamp was taken in local time, so
        west of UTC a newer duplicate arriving on a later update lost to the indexed copy.
        """
        when = long_to_datetime(self.date_value)
        # 0, the column's default, reads back as year 1
        return when.replace(tzinfo=timezone.utc) if when.year > 1 else None


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
    else:  # a FIFO, socket, device or link to a folder: reading it could block or never end
        problems.append(Skip(key, "not a regular file"))


def printable_path(path: Path, root: Path) -> str:
    """The path relative to ``root``, with any undecodable bytes of its name shown as escapes."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        relative = path
    return os.fsencode(relative.as_posix()).decode("utf-8", "backslashreplace")


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
