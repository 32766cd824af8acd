"""``RemoteIndex``: the ``Index`` methods, with the articles held by a Typesense cluster.

The alias named by the location (``typesense://.../newsearch``) points to the collection that
holds the articles; a rebuild fills a new collection and moves the alias, so searches see the
old articles until the new ones are all there. A small ``<name>__meta`` collection remembers
the corpus folder and when it was last updated.
"""
from __future__ import annotations

import math
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from search.analysis.text import is_stop_word
from search.errors import IndexNotFoundError, QueryError
from search.index.schema import SEARCH_FIELDS, build_schema
from search.pipeline import SearchOptions, _ordered_facets, date_filter
from search.present.results import Hit, Results
from search.present.snippets import lead_snippet, make_snippets, title_spans
from search.query import limits
from search.query.language import parse_both
from search.remote import documents
from search.remote.location import EngineLocation, parse_location
from search.remote.translate import ANY_WORDS, EngineRequest, refuse, translate
from search.remote.transport import TypesenseTransport

if TYPE_CHECKING:
    from search.api import IndexStats
    from search.index import update as indexing
    from search.reading.articles import Article

META_ID = "meta"
# Candidate words of an article for "related", and how many of the rarest are searched.
RELATED_CANDIDATES = 30
RELATED_WORDS = 10


class RemoteIndex:
    """A newsearch index held by a remote engine. Same methods as ``search.Index``."""

    def __init__(self, location: EngineLocation) -> None:
        self.location = location
        self.path = str(location)
        self.transport = TypesenseTransport(location)
        self.schema = build_schema()
        self.collection()  # fail now, with a clear error, when there is nothing to search

    def __enter__(self) -> RemoteIndex:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RemoteIndex({self.path!r})"

    def close(self) -> None:
        """Nothing to release: each request is its own."""

    def collection(self) -> str:
        """The collection the location's alias points to; ``IndexNotFoundError`` if none."""
        found = self.transport.resolve(self.location.collection)
        if found is None:
            raise IndexNotFoundError(f"{self.location}: no index there yet; build one with "
                                     f"`newsearch index CORPUS --engine {self.location}`")
        return found

    # Searching ---------------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 10, page: int = 1, sort: str = "relevance",
               since: Any = None, until: Any = None, fields: tuple[str, ...] | list[str] | None = None,
               highlight: str | None = "text", facets: bool = False, recent: bool | float = False,
               snippets: int = 2, timeout: float | None = limits.DEFAULT_TIMEOUT,
               max_expansions: int = limits.MAX_EXPANSIONS) -> Results:
        """Search, as ``Index.search`` does; ``UnsupportedQueryError`` (a ``QueryError``) for a
        form the engine cannot express. Scores are the engine's own.

        ``timeout`` and ``max_expansions`` are validated as the embedded index does, then left
        to the cluster: Typesense expands a prefix and typos itself, bounded by its own
        candidate limit (``max_candidates``, a few words), on the server, where newsearch's
        deadline does not run; a query here holds at most one prefix word."""
        from search.api import _bound

        started = time.perf_counter()
        if recent:
            raise refuse("the recency boost (--recent)", "its text relevance cannot be mixed with a date decay")
        options = SearchOptions(limit=limit, page=page, sort=sort, since=_bound(since, start=True),
                                until=_bound(until, start=False), fields=tuple(fields) if fields else SEARCH_FIELDS,
                                highlight=highlight, facets=facets, snippets=snippets, timeout=timeout,
                                max_expansions=max_expansions)
        options.validate()
        merged, _typed = parse_both(query, self.schema, None, options.fields)
        limits.check_parsed(merged, query)
        request = translate(merged, date_filter(options), query, sort=sort, page=page, limit=limit, facets=facets)
        answer = self.transport.search(self.collection(), request.params)
        hits = tuple(self._hit(found["document"], float(found.get("text_match", 0)), rank, request, options)
                     for rank, found in enumerate(answer.get("hits", []), (page - 1) * limit + 1))
        total = int(answer.get("found", 0))
        return Results(query=query, total=total, page=page, page_count=max(1, math.ceil(total / limit)),
                       limit=limit, hits=hits, elapsed=time.perf_counter() - started,
                       facets=_facets(answer) if facets else {})

    def _hit(self, document: dict[str, Any], score: float, rank: int, request: EngineRequest,
             options: SearchOptions) -> Hit:
        article = documents.stored_article(document)
        marked = _Marked(self.schema, _matched_terms(document, request))
        stored = documents.whoosh_stored(document)
        return Hit(id=article.id, title=article.title, date=article.date, source=article.source,
                   categories=article.categories, tags=article.tags, link=article.link, path=article.path,
                   score=score, rank=rank, description=article.description,
                   title_spans=title_spans(marked, article.title),
                   snippets=make_snippets(marked, stored, options.snippets), highlight=options.highlight)

    def get(self, article_id: str) -> Article | None:
        """The stored article with this id (or path), or None."""
        document = self._document(article_id)
        return documents.stored_article(document) if document else None

    def _document(self, article_id: str) -> dict[str, Any] | None:
        collection = self.collection()
        document = self.transport.retrieve(collection, documents.document_id(article_id))
        if document is not None:
            return document
        answer = self.transport.search(collection, {"q": "*", "filter_by": f"path:=`{article_id.replace('`', '')}`",
                                                    "per_page": 1})
        hits = answer.get("hits", [])
        return dict(hits[0]["document"]) if hits else None

    def related(self, article_id: str, *, limit: int = 10, highlight: str | None = "text") -> Results:
        """Articles most like this one: its rarest frequent words searched together (the
        article's words but its stop words, weighed by how few articles have them, as a
        more-like-this does)."""
        started = time.perf_counter()
        document = self._document(article_id)
        if document is None:
            raise QueryError(f"no article with id or path {article_id!r} (each hit has both: `id`, `path`)")
        collection = self.collection()
        # Stop words are indexed but say nothing of what the article is about.
        counts = Counter(term for term in documents.terms(document.get("title", "") + "\n" + document.get("body", "")).split()
                         if not is_stop_word(term))
        candidates = [word for word, _n in counts.most_common(RELATED_CANDIDATES)]
        if not candidates:
            return Results(query=f"related:{article_id}", total=0, page=1, page_count=1, limit=limit, hits=(), elapsed=0.0)
        frequencies = self.transport.multi_search(collection, [
            {"q": word, "query_by": "body_terms", "per_page": 1, "num_typos": 0, "prefix": "false",
             "drop_tokens_threshold": 0, "include_fields": "id"} for word in candidates])
        total = int(self.transport.collection_info(collection).get("num_documents", 0)) or 1
        weight = {word: counts[word] * math.log(1 + total / (1 + int(found.get("found", 0))))
                  for word, found in zip(candidates, frequencies)}
        words = sorted(weight, key=lambda word: -weight[word])[:RELATED_WORDS]
        answer = self.transport.search(collection, {
            "q": " ".join(words), "query_by": "title_terms,body_terms", "query_by_weights": "2,1",
            "num_typos": 0, "prefix": "false", "drop_tokens_threshold": ANY_WORDS, "per_page": limit + 1,
            "exclude_fields": documents.NOT_RETURNED, "highlight_fields": "none"})
        # Typesense 0.24 cannot filter out one id: ask for one more and drop the article itself.
        others = [found for found in answer.get("hits", []) if found["document"]["id"] != document["id"]][:limit]
        hits = []
        for rank, found in enumerate(others, 1):
            article = documents.stored_article(found["document"])
            hits.append(Hit(id=article.id, title=article.title, date=article.date, source=article.source,
                            categories=article.categories, tags=article.tags, link=article.link,
                            path=article.path, score=float(found.get("text_match", 0)), rank=rank,
                            description=article.description,
                            snippets=lead_snippet(documents.whoosh_stored(found["document"])), highlight=highlight))
        return Results(query=f"related:{article_id}", total=len(hits), page=1, page_count=1, limit=limit,
                       hits=tuple(hits), elapsed=time.perf_counter() - started)

    def stats(self) -> IndexStats:
        """Counts and date span of what the engine holds."""
        from search.api import IndexStats

        collection = self.collection()
        info = self.transport.collection_info(collection)
        first, last, sources = self.transport.multi_search(collection, [
            {"q": "*", "sort_by": "date:asc", "per_page": 1, "include_fields": "date", "filter_by": "date:>0"},
            {"q": "*", "sort_by": "date:desc", "per_page": 1, "include_fields": "date", "filter_by": "date:>0"},
            {"q": "*", "per_page": 0, "facet_by": "source", "max_facet_values": 10_000}])
        meta = self.meta()
        return IndexStats(
            path=self.path, corpus=str(meta.get("corpus", "")), articles=int(info.get("num_documents", 0)),
            first_date=_first_date(first), last_date=_first_date(last),
            sources=sum(1 for count in _facet_values(sources, "source") if count["value"]),
            generation=collection,
            updated=datetime.fromtimestamp(float(meta.get("updated", info.get("created_at", 0))), timezone.utc))

    def meta(self) -> dict[str, Any]:
        """What the last update remembered (the corpus folder, when), or nothing."""
        try:
            found = self.transport.retrieve(self.location.collection + "__meta", META_ID)
        except Exception:  # noqa: BLE001 - no meta collection yet is no memory
            return {}
        return found or {}

    # Writing -----------------------------------------------------------------------------

    def update(self, corpus: str | Path | None = None, *, rebuild: bool = False, include_drafts: bool = False,
               wait: float = 5.0, progress: indexing.ProgressCallback | None = None) -> indexing.UpdateSummary:
        """Bring the engine up to date with ``corpus`` (default: the folder it was built from):
        only new, changed and removed articles are sent."""
        from search.remote.update import update_remote

        folder = Path(corpus) if corpus is not None else Path(str(self.meta().get("corpus") or "corpus"))
        return update_remote(self, folder, rebuild=rebuild, include_drafts=include_drafts, progress=progress)

    def add(self, article: Article, *, wait: float = 5.0) -> None:
        """Add an article a program made (replacing any with the same id)."""
        self.transport.upsert(self.collection(), [documents.article_document(article, article.id, 0, -1, "")])
        self._settle()

    def delete(self, article_id: str, *, wait: float = 5.0) -> bool:
        """Delete the article with this id; True if there was one."""
        deleted = self.transport.delete(self.collection(), [documents.document_id(article_id)]) > 0
        self._settle()
        return deleted

    def _settle(self) -> None:
        """Until every node has the writes just made, so that the next search sees them."""
        from search.remote.update import remember
        remember(self.transport, self.location, str(self.meta().get("corpus", "")))


class _Marked:
    """What the snippet maker reads of a hit: the schema's analyzers and the matched terms."""

    def __init__(self, schema: Any, terms: set[tuple[str, str]]) -> None:
        self.searcher = self
        self.schema = schema
        self._terms = terms

    def matched_terms(self) -> set[tuple[str, str]]:
        return self._terms


def _matched_terms(document: dict[str, Any], request: EngineRequest) -> set[tuple[str, str]]:
    """The query's terms, and for a prefix word the terms of this article that it reached."""
    found = set(request.terms)
    for name, prefix in request.prefixes:
        text = documents.whoosh_stored(document).get(name, "")
        found.update((name, term) for term in documents.terms(text).split() if term.startswith(prefix))
    return found


def _facet_values(answer: dict[str, Any], field: str) -> list[dict[str, Any]]:
    for facet in answer.get("facet_counts", []):
        if facet.get("field_name") == field:
            return list(facet.get("counts", []))
    return []


def _facets(answer: dict[str, Any]) -> dict[str, dict[str, int]]:
    groups = {name: {count["value"]: int(count["count"]) for count in _facet_values(answer, field)}
              for name, field in documents.FACET_FIELDS.items()}
    return _ordered_facets(groups)


def _first_date(answer: dict[str, Any]) -> datetime | None:
    hits = answer.get("hits", [])
    return documents.document_date(hits[0]["document"]) if hits else None


def open_remote(url: str, create: bool = False) -> RemoteIndex:
    """Open the index a remote engine holds at ``url``; with ``create=True`` an empty one is made
    when there is none."""
    location = parse_location(url)
    if create:
        from search.remote.update import ensure_index
        ensure_index(TypesenseTransport(location), location)
    return RemoteIndex(location)
