"""newsearch: full-text search for a folder of news articles, as a library.

    import search
    with search.open_index("index") as ix:
        results = ix.search("mamdani ice", limit=10)
        for hit in results.hits:
            print(hit.rank, hit.title, hit.date, hit.snippet)

Public names (everything else is internal and may change):
- ``open_index(path, create=False)`` -> ``Index``: ``search``, ``get``, ``related``, ``update``,
  ``add``, ``delete``, ``stats``.
- Records: ``Results``, ``Hit``, ``Snippet``, ``Article``, ``UpdateSummary``, ``Skip``,
  ``IndexStats``.
- ``load_article(path)``: read one article file the way the indexer does.
- Errors, all under ``SearchError``: ``QueryError``, ``IndexNotFoundError``, ``IndexLockedError``,
  ``IndexDamagedError``, ``IndexUnsafeError``, ``IndexWriteError``, ``ArticleError``,
  ``EngineError`` (a remote engine), ``UnsupportedQueryError`` (a form it cannot express).
- ``open_index("typesense://host:port,.../collection")``: the same API on a Typesense cluster
  (``pip install 'newsearch[typesense]'``; the key from ``NEWSEARCH_API_KEY``), a ``RemoteIndex``.

Heavy modules (Whoosh, NLTK, bs4) load on first use, so ``import search`` stays cheap.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ArticleError,
    EngineError,
    IndexDamagedError,
    IndexLockedError,
    IndexNotFoundError,
    IndexUnsafeError,
    IndexWriteError,
    QueryError,
    SearchError,
    UnsupportedQueryError,
)

if TYPE_CHECKING:
    from .api import Index, IndexStats, open_index
    from .index.update import Skip, UpdateSummary
    from .present.results import Hit, Results, Snippet
    from .reading.articles import Article, load_article
    from .remote.index import RemoteIndex

__version__ = "0.1.0"

# Where each lazily loaded public name lives.
_LAZY = {
    "open_index": "api", "Index": "api", "IndexStats": "api",
    "Results": "present.results", "Hit": "present.results", "Snippet": "present.results",
    "Article": "reading.articles", "load_article": "reading.articles",
    "UpdateSummary": "index.update", "Skip": "index.update", "RemoteIndex": "remote.index",
}

__all__ = [
    "open_index", "Index", "RemoteIndex", "IndexStats", "Results", "Hit", "Snippet", "Article", "load_article",
    "UpdateSummary", "Skip", "SearchError", "QueryError", "IndexNotFoundError", "IndexLockedError",
    "IndexDamagedError", "IndexUnsafeError", "IndexWriteError", "ArticleError", "EngineError",
    "UnsupportedQueryError", "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
