"""The Index handle: one object to search, read and update an index directory.

Parts:
- ``open_index(path, create=False)``: open (or create) the index at ``path``.
- ``Index``: ``search``, ``get``, ``related``, ``update``, ``add``, ``delete``, ``stats``.
- ``IndexStats``: what an index holds.

This is the API the CLI, the REPL and other programs share. It is safe to use one ``Index``
from many threads: each thread keeps its own Whoosh searcher, refreshed after a commit, and a
rebuild that publishes a new generation is picked up by the next search.
"""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import query as wq

from search.engine.evaluator import Evaluator
from search.index import storage
from search.query.dates import naive_utc, since_bound, until_bound
from search.query.limits import DEFAULT_TIMEOUT, MAX_EXPANSIONS
from search.errors import IndexNotFoundError, IndexWriteError, QueryError
from search.pipeline import SearchOptions, run_search
from search.query.ranking import weighting
from search.query.recency import DEFAULT_HALF_LIFE_DAYS
from search.present.results import Hit, Results
from search.index.schema import SEARCH_FIELDS, build_schema
from search.present.snippets import lead_snippet
from search.remote.location import is_remote
from search.whoosh_internals.reading import create_whoosh, open_whoosh

if TYPE_CHECKING:
    from search.index import update as indexing
    from search.remote.index import RemoteIndex
    from search.reading.articles import Article

DEFAULT_INDEX = Path("index")
DEFAULT_CORPUS = Path("corpus")

DateBound = datetime | str | None
# Words of an article's body that "related" searches for (Whoosh's more-like-this used 25).
RELATED_WORDS = 25


@dataclass(frozen=True)
class IndexStats:
    """What an index holds: article count, date span, sources, and where it came from."""

    path: str
    corpus: str
    articles: int
    first_date: datetime | None
    last_date: datetime | None
    sources: int
    generation: str
    updated: datetime

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        def iso(moment: datetime | None) -> str | None:
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
        return {"path": self.path, "corpus": self.corpus, "articles": self.articles,
                "first_date": iso(self.first_date), "last_date": iso(self.last_date),
                "sources": self.sources, "generation": self.generation, "updated": iso(self.updated)}


class Index:
    """An open newsearch index. Use as a context manager, or call ``close()``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._generation: Path | None = None
        self._whoosh: Any = None
        self._open_lock = threading.Lock()
        self._whoosh_index()  # fail now, with a clear error, when there is no usable index

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Index({str(self.path)!r})"

    def close(self) -> None:
        """Release this thread's searcher (other threads' close when they end)."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
            self._local.searcher = None

    # Opening -----------------------------------------------------------------------------

    def _whoosh_index(self) -> Any:
        """The Whoosh index of the published generation, reopened after a rebuild."""
        with self._open_lock:
            generation = storage.current_generation(self.path)
            if generation != self._generation:
                storage.read_meta(generation)
                try:
                    self._whoosh = open_whoosh(str(generation))
                except Exception as error:  # Whoosh reports damage with many exception types.
                    raise storage.damaged_index(self.path, error) from None
                storage.use_stems(generation)
                self._generation = generation
            return self._whoosh

    def _searcher(self) -> Any:
        """This thread's searcher, refreshed when another commit or a rebuild happened."""
        ix = self._whoosh_index()
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None and searcher._ix is not ix:
            searcher.close()
            searcher = None
        if searcher is None:
            try:
                searcher = ix.searcher(weighting=weighting())
            except Exception as error:  # damaged segment files surface here
                raise storage.damaged_index(self.path, error) from None
        elif not searcher.up_to_date():
            # Not searcher.refresh(): it reuses segment readers by name, and a reused reader
            # keeps the deletions it was opened with, so deleted articles would still be found.
            searcher.close()
            self._local.searcher = None
            return self._searcher()
        self._local.searcher = searcher
        return searcher

    # Searching ---------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        page: int = 1,
        sort: str = "relevance",
        since: DateBound = None,
        until: DateBound = None,
        fields: tuple[str, ...] | list[str] | None = None,
        highlight: str | None = "text",
        facets: bool = False,
        recent: bool | float = False,
        snippets: int = 2,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_expansions: int = MAX_EXPANSIONS,
    ) -> Results:
        """Search the index; ``since``/``until`` take datetimes or the query language's date forms.

        ``recent`` boosts newer articles: True with a half-life of two weeks, a number for
        another half-life in days (relevance sort only; see ``search.query.recency``). ``snippets`` is
        the number of fragments per hit; 0 leaves them out, for callers that only need the ranking.
        ``timeout`` is how many seconds the search may take (``search.query.limits``; None: no
        deadline); a query past it, or past one of the caps there, raises ``QueryError``.
        ``max_expansions`` is how many indexed words one prefix, wildcard or fuzzy word may
        expand to (1 to ``limits.MAX_EXPANSIONS_CEILING``; all the prefixes of a query together
        4 times it): a query past it raises ``QueryError`` naming the word.

        Raises ``QueryError`` for a query or option it cannot understand.
        """
        options = SearchOptions(
            limit=limit, page=page, sort=sort,
            since=_bound(since, start=True), until=_bound(until, start=False),
            fields=tuple(fields) if fields else SEARCH_FIELDS,
            highlight=highlight, facets=facets, recent=_half_life(recent), snippets=snippets,
            timeout=timeout, max_expansions=max_expansions,
        )
        return run_search(self._searcher(), query, options, root=self.path)

    def get(self, article_id: str) -> Article | None:
        """The stored article with this id (or path), or None."""
        searcher = self._searcher()
        stored = searcher.document(id=article_id) or searcher.document(path=article_id)
        return _stored_article(stored) if stored else None

    def related(self, article_id: str, *, limit: int = 10, highlight: str | None = "text") -> Results:
        """Articles most like the one with this id or path (more-like-this on its words)."""
        searcher = self._searcher()
        docnum = searcher.document_number(id=article_id)
        if docnum is None:
            docnum = searcher.document_number(path=article_id)
        if docnum is None:
            raise QueryError(f"no article with id or path {article_id!r} (each hit has both: `id`, `path`)")
        started = time.perf_counter()
        evaluator = Evaluator(searcher, self.path)
        words = evaluator.key_terms(docnum, "body", RELATED_WORDS)
        like = wq.Or([wq.Term("body", word, boost=weight) for word, weight in words])
        _total, best = evaluator.top(like, limit + 1) if words else (0, [])
        found = [(number, score) for number, score in best if number != docnum][:limit]
        hits = tuple(_related_hit(searcher, number, score, rank, highlight)
                     for rank, (number, score) in enumerate(found, 1))
        return Results(query=f"related:{article_id}", total=len(hits), page=1, page_count=1,
                       limit=limit, hits=hits, elapsed=time.perf_counter() - started)

    def stats(self) -> IndexStats:
        """Counts and date span of what the index holds."""
        searcher = self._searcher()
        reader = searcher.reader()
        docnums = list(reader.all_doc_ids())
        # An index with no segments has an EmptyReader, which has no columns at all.
        dates_column = reader.column_reader("date") if docnums else {}
        sources_column = reader.column_reader("source_name") if docnums else {}
        seen = [dates_column[n] for n in docnums]
        real = [d for d in seen if isinstance(d, datetime) and d.year > 1]
        sources = {sources_column[n] for n in docnums}
        generation = storage.current_generation(self.path)
        meta = storage.read_meta(generation)
        return IndexStats(
            path=str(self.path), corpus=meta.corpus, articles=searcher.doc_count(),
            first_date=min(real).replace(tzinfo=timezone.utc) if real else None,
            last_date=max(real).replace(tzinfo=timezone.utc) if real else None,
            sources=len(sources - {""}), generation=generation.name,
            updated=datetime.fromtimestamp(self._whoosh_index().last_modified(), timezone.utc),
        )

    # Writing -----------------------------------------------------------------------------

    def update(self, corpus: str | Path | None = None, *, rebuild: bool = False, include_drafts: bool = False,
               wait: float = 5.0, progress: indexing.ProgressCallback | None = None) -> indexing.UpdateSummary:
        """Bring the index up to date with ``corpus`` (default: the folder it was built from).

        Raises ``IndexWriteError`` when the index cannot be written (a read-only folder, a full
        disk), ``IndexLockedError`` when another writer holds it."""
        from search.index import update as indexing  # the writing side (worker processes, the reader) only when used

        folder = Path(corpus) if corpus is not None else Path(self.stats().corpus)
        with _write_errors(self.path):
            return indexing.update_index(self.path, folder, rebuild=rebuild, include_drafts=include_drafts,
                                         wait=wait, progress=progress)

    def add(self, article: Article, *, wait: float = 5.0) -> None:
        """Add an article a program made (replacing any with the same id); ``IndexWriteError``
        when the index cannot be written."""
        from search.index import update as indexing

        with _write_errors(self.path), storage.writer_lock(self.path, wait):
            indexing.add_articles(self._whoosh_index(), [article])

    def delete(self, article_id: str, *, wait: float = 5.0) -> bool:
        """Delete the article with this id; True if there was one. ``IndexWriteError`` when the
        index cannot be written."""
        from search.index import update as indexing

        with _write_errors(self.path), storage.writer_lock(self.path, wait):
            return indexing.delete_ids(self._whoosh_index(), [article_id]) > 0


@contextlib.contextmanager
def _write_errors(path: Path) -> Iterator[None]:
    """A write that failed (no permission, read-only or full disk) as one ``IndexWriteError``
    line: callers of the API catch ``SearchError``, never a bare ``OSError``."""
    try:
        yield
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        raise IndexWriteError(f"{path}: cannot write the index{where}: {error.strerror or error}; searches keep "
                              "the last complete index: fix that (permissions, disk space) and update again") from None


def _half_life(recent: bool | float) -> float | None:
    """``recent`` as ``SearchOptions.recent``: None for no boost, else the half-life in days."""
    if recent is True:
        return DEFAULT_HALF_LIFE_DAYS
    return None if recent is False else float(recent)


def _bound(value: DateBound, *, start: bool) -> datetime | None:
    """A date bound as a naive UTC datetime, like the ones ``dates`` returns (naive means UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return naive_utc(value)
    return since_bound(value) if start else until_bound(value)


def _stored_article(stored: dict[str, Any]) -> Article:
    from search.reading.articles import Article  # the reader's modules (bs4, ftfy, YAML) load only when needed

    date = stored.get("date")
    return Article(
        id=stored["id"], path=stored.get("path", ""), title=stored.get("title", ""),
        description=stored.get("description", ""), body=stored.get("body", ""),
        tags=tuple(t for t in stored.get("tag_list", "").split(",") if t),
        categories=tuple(c for c in stored.get("category_list", "").split(",") if c),
        source=stored.get("source_name", ""), link=stored.get("link", ""),
        slug=stored.get("slug", ""), image=stored.get("image", ""),
        date=date.replace(tzinfo=timezone.utc) if isinstance(date, datetime) else None, draft=False,
    )


def _related_hit(searcher: Any, docnum: int, score: float, rank: int, highlight: str | None) -> Hit:
    stored = dict(searcher.stored_fields(docnum))
    article = _stored_article(stored)
    return Hit(id=article.id, title=article.title, date=article.date, source=article.source,
               categories=article.categories, tags=article.tags, link=article.link, path=article.path,
               score=score, rank=rank, description=article.description,
               snippets=lead_snippet(stored), highlight=highlight)


def open_index(path: str | Path = DEFAULT_INDEX, create: bool = False) -> Index | RemoteIndex:
    """Open the index at ``path``; with ``create=True`` an empty one is made if none exists.

    ``path`` is a folder (the embedded index) or a remote engine's URL,
    ``typesense://HOST:PORT[,HOST:PORT...]/COLLECTION``, whose API key is read from
    ``NEWSEARCH_API_KEY`` (see ``search.remote``); both give the same methods.

    Raises ``IndexNotFoundError`` when there is none (and ``create`` is False),
    ``IndexDamagedError`` when it cannot be used and ``EngineError`` when a remote engine
    cannot be reached or refuses the key.
    """
    if is_remote(path):
        from search.remote.index import open_remote  # the engine's client only when one is used
        return open_remote(str(path), create)
    folder = Path(path)
    if create:
        try:
            storage.current_generation(folder)
        except IndexNotFoundError:
            _create_empty(folder)
    return Index(folder)


def _create_empty(folder: Path) -> None:
    with storage.writer_lock(folder):
        generation = storage.new_generation(folder)
        create_whoosh(str(generation), build_schema())
        storage.write_meta(generation, str(DEFAULT_CORPUS.resolve()))
        storage.publish(folder, generation)


__all__ = ["Index", "IndexStats", "open_index", "DEFAULT_INDEX", "DEFAULT_CORPUS"]
