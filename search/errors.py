"""Exceptions raised by newsearch: one hierarchy under :class:`SearchError`.

Every message is one line that names the file or query at fault and says what to do next,
so interfaces can print ``str(error)`` as it is.
"""
from __future__ import annotations


class SearchError(Exception):
    """Base class of every error newsearch raises on purpose."""


class QueryError(SearchError):
    """A query (or a date filter) could not be understood."""


class IndexNotFoundError(SearchError):
    """There is no usable index at the given location."""


class IndexLockedError(SearchError):
    """Another process is updating the index and did not finish in time."""


class ArticleError(SearchError):
    """A file could not be read as an article; ``path`` and ``reason`` say which and why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexDamagedError(SearchError):
    """The index exists but cannot be used: damaged files or an incompatible schema version."""


class IndexUnsafeError(SearchError):
    """The index's folder or files are not private to the user who opens them: another user
    owns them, or others may write them. Opening an index loads Whoosh's pickles (code), so
    such an index is refused, as ssh refuses a key others could have changed."""


class IndexWriteError(SearchError):
    """The index could not be written (no permission, a read-only or full disk); the index
    keeps its last complete state."""


class EngineError(SearchError):
    """A remote search engine (``--engine URL``) could not be reached, refused the request (a
    bad API key), or could not do it (no leader to take a write); the message names the engine
    and what to do."""


class UnsupportedQueryError(QueryError):
    """A query form the chosen engine cannot express: refused, never silently dropped."""
