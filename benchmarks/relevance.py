"""Relevance evaluation: MAP, P@10 and nDCG@10 of newsearch and other engines, side by side.

    python benchmarks/relevance.py CORPUS_DIR QUERIES_TSV QRELS [--engines newsearch,fts5,tantivy] [--json]
    NEWSEARCH_API_KEY=... python benchmarks/relevance.py CORPUS_DIR QUERIES_TSV QRELS \
        --engines newsearch,typesense [--typesense typesense://HOST:PORT,.../COLLECTION] [--typesense-experiments]

- ``CORPUS_DIR``: a folder of article files. A document is named by its file name stem
  (``time-001`` for ``time-001.md``); the qrels use those names.
- ``QUERIES_TSV``: one query a line, ``id<TAB>text``.
- ``QRELS``: TREC relevance judgments, ``<query> 0 <doc> <relevance>`` (relevance > 0 is relevant).

Every engine is fed the same articles, read with newsearch's own reader (``search.load_article``;
newsearch reads them through its indexer, which uses that reader), and gets the same queries,
reduced to plain words (``sanitize``). Each retrieves up to 1,000 documents a query (Typesense
at most 250).

- ``newsearch``: an index built in a temporary folder with ``search.index.update.update_index`` and
  searched with ``Index.search`` at its default settings but the deadline (``timeout=None``).
- ``fts5``: SQLite FTS5 (Python's ``sqlite3``), ``tokenize='porter unicode61'``, ranked by
  ``bm25()``; the query is an OR of the quoted words.
- ``tantivy``: the ``tantivy`` package (``pip install -e '.[bench]'``), ``en_stem`` tokenizer,
  its default BM25; the query is an OR of the words. Skipped when it is not installed.
- ``typesense``: only when ``--engines`` names it. newsearch's remote backend: the corpus indexed
  through ``search.open_index(URL, create=True).update(CORPUS, rebuild=True)`` into the
  collection of ``--typesense URL`` (default ``NEWSEARCH_ENGINE``; the key from
  ``NEWSEARCH_API_KEY``), searched with ``Index.search(sanitized query, limit=250)``: 250 is
  Typesense's largest page (``search.remote.translate.MAX_PER_PAGE``), so its MAP is computed
  over at most 250 retrieved documents a query (a relevant document below 250 counts as not
  retrieved). With ``typesense`` and ``newsearch`` both run, a row ``newsearch@250`` scores
  newsearch's rankings cut at 250, the same depth, and a diagnostic row the documents
  Typesense retrieved put in newsearch's order: its distance to ``newsearch@250`` is what
  Typesense's matching loses (documents never retrieved), its distance to ``typesense`` what
  Typesense's ordering loses. Typesense 0.24 ranks by its own text match (words matched,
  proximity, field weight), not by BM25.
- ``--typesense-experiments``: EXPERIMENTS, not settings of newsearch. The Typesense
  collection is built once, then every query is run again under each entry of ``EXPERIMENTS``:
  request parameters overridden on top of what ``search.remote.translate`` sends (by wrapping
  the ``translate`` that ``search.remote.index`` calls), one table row each. ``search/`` is not
  changed; a setting worth keeping goes into ``translate.py`` by hand. The last row is no
  parameter (``client_idf_searcher``): one search per word, ranked here by the words' IDF, to
  show how far ranking by rarity would go; it needs a request per word and page.
- Both Typesense builds wait for the clock's next second between ``create=True`` and the
  rebuild: a rebuild in the same second drops its own new collection (``search/remote/update.py``
  names collections by the second and the pid).

Measures follow trec_eval: MAP averages, over the queries that have at least one relevant
document, the precision at each relevant document retrieved divided by the number of relevant
documents judged (relevant documents never retrieved count as zero). nDCG@10 uses the judged
relevance as gain and a log2(rank + 1) discount. ``recall`` is the share of each query's relevant
documents retrieved at all (at the engine's depth), averaged over the queries; ``retrieved/query``
the mean number retrieved. Run by hand; not part of CI.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import search  # noqa: E402
from search.index.update import update_index  # noqa: E402
from search.index.scanning import ARTICLE_SUFFIXES  # noqa: E402

RETRIEVE = 1000
CUTOFF = 10
ENGINES = ("newsearch", "fts5", "tantivy", "typesense")
DEFAULT_ENGINES = ("newsearch", "fts5", "tantivy")  # typesense only when named: it needs a cluster
# Typesense's largest page (search.remote.translate.MAX_PER_PAGE): its rankings stop there.
TYPESENSE_RETRIEVE = 250

Ranking = Sequence[str]
Judgments = Mapping[str, int]

# --- reading the inputs --------------------------------------------------------------------


def read_queries(path: str | Path) -> list[tuple[str, str]]:
    """``(id, text)`` pairs from a TSV file (``id<TAB>text``), in file order."""
    queries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        query_id, _, text = line.partition("\t")
        queries.append((query_id.strip(), text.strip()))
    return queries


def read_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """TREC qrels (``<query> <iteration> <doc> <relevance>``) as ``{query: {doc: relevance}}``."""
    qrels: dict[str, dict[str, int]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        qrels.setdefault(parts[0], {})[parts[2]] = int(parts[3])
    return qrels


def doc_name(path: str | Path) -> str:
    """The name qrels use for an article file: its file name without the suffix."""
    return Path(path).stem


def corpus_files(corpus: Path) -> list[Path]:
    """The article files under ``corpus``, in name order (hidden files skipped)."""
    return sorted(p for p in corpus.rglob("*")
                  if p.suffix.lower() in ARTICLE_SUFFIXES and p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(corpus).parts))


# --- queries -------------------------------------------------------------------------------

_WORD = re.compile(r"\w+(?:[.'\u2019]\w+)*")


def sanitize(text: str) -> str:
    """The query reduced to plain lower-case words: no quotes, brackets, fields, operators.

    Lower-casing first turns AND/OR/NOT (operators only in capitals) into ordinary words; the
    word pattern then drops ``"``, ``(``, ``:``, ``*``, ``~``, ``^`` and a leading ``-`` or ``+``.
    """
    return " ".join(_WORD.findall(text.lower()))


def plain_words(text: str) -> list[str]:
    """The query's words split at every non-word character (for FTS5 and tantivy)."""
    return re.findall(r"\w+", text.lower())


# --- measures ------------------------------------------------------------------------------


def average_precision(ranking: Ranking, judged: Judgments) -> float:
    """Mean of the precision at each relevant document retrieved, over all relevant judged."""
    relevant = {doc for doc, rel in judged.items() if rel > 0}
    if not relevant:
        return 0.0
    found = 0
    total = 0.0
    for rank, doc in enumerate(ranking, 1):
        if doc in relevant:
            found += 1
            total += found / rank
    return total / len(relevant)


def precision_at(ranking: Ranking, judged: Judgments, k: int = CUTOFF) -> float:
    """The share of the first ``k`` places (``k`` counted even when fewer were retrieved) held by relevant documents."""
    return sum(1 for doc in ranking[:k] if judged.get(doc, 0) > 0) / k


def ndcg_at(ranking: Ranking, judged: Judgments, k: int = CUTOFF) -> float:
    """Normalised discounted cumulative gain of the first ``k`` places (gain = relevance)."""
    def dcg(gains: Iterable[int]) -> float:
        return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, 1))
    ideal = dcg(sorted((rel for rel in judged.values() if rel > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg(max(judged.get(doc, 0), 0) for doc in ranking[:k]) / ideal


def recall_of(ranking: Ranking, judged: Judgments) -> float:
    """The share of the relevant documents judged that ``ranking`` retrieves at all."""
    relevant = {doc for doc, rel in judged.items() if rel > 0}
    return len(relevant.intersection(ranking)) / len(relevant) if relevant else 0.0


@dataclass
class EngineResult:
    """One engine's figures over a query set."""

    engine: str
    map: float = 0.0
    mean_retrieved: float = 0.0  # documents retrieved a query (Typesense: at most 250)
    recall: float = 0.0  # share of the judged relevant documents retrieved at all, averaged over queries
    p10: float = 0.0
    ndcg10: float = 0.0
    queries: int = 0
    build_seconds: float = 0.0
    mean_query_ms: float = 0.0  # retrieving RETRIEVE documents, as evaluated
    mean_top10_ms: float = 0.0  # retrieving the first CUTOFF (newsearch: with highlighted snippets)
    per_query_ap: dict[str, float] = field(default_factory=dict)
    skipped: str | None = None

    def summary(self) -> dict[str, object]:
        """The figures without the per-query detail."""
        data = asdict(self)
        data.pop("per_query_ap")
        return data


def score_runs(engine: str, runs: Mapping[str, Ranking], qrels: Mapping[str, Judgments]) -> EngineResult:
    """MAP, P@10 and nDCG@10 of ``runs`` (query id -> ranked doc names) against ``qrels``."""
    result = EngineResult(engine)
    judged_queries = [q for q in runs if any(rel > 0 for rel in qrels.get(q, {}).values())]
    if not judged_queries:
        return result
    aps, p10s, ndcgs = [], [], []
    for query_id in judged_queries:
        ranking, judged = runs[query_id], qrels[query_id]
        result.per_query_ap[query_id] = ap = average_precision(ranking, judged)
        aps.append(ap)
        p10s.append(precision_at(ranking, judged))
        ndcgs.append(ndcg_at(ranking, judged))
    result.map, result.p10, result.ndcg10 = (statistics.fmean(v) for v in (aps, p10s, ndcgs))
    result.mean_retrieved = statistics.fmean(len(runs[q]) for q in judged_queries)
    result.recall = statistics.fmean(recall_of(runs[q], qrels[q]) for q in judged_queries)
    result.queries = len(judged_queries)
    return result


# --- engines -------------------------------------------------------------------------------

# An engine's search: query text and how many to retrieve -> ranked doc names.
Searcher = Callable[[str, int], list[str]]


def load_articles(corpus: Path) -> list[tuple[str, search.Article]]:
    """Every readable article under ``corpus`` with its doc name, read by newsearch's reader."""
    articles = []
    for path in corpus_files(corpus):
        try:
            articles.append((doc_name(path), search.load_article(path, corpus)))
        except search.ArticleError as error:
            print(f"relevance: skipped {path}: {error.reason}", file=sys.stderr)
    return articles


def newsearch_engine(corpus: Path, workdir: Path) -> tuple[Searcher, Callable[[], None]]:
    """Index ``corpus`` with newsearch in ``workdir``; search it at default settings."""
    index_dir = workdir / "newsearch-index"
    update_index(index_dir, corpus)
    ix = search.open_index(index_dir)

    def run(text: str, limit: int) -> list[str]:
        words = sanitize(text)
        if not words:
            return []
        try:
            # The full ranking needs no fragments; a first page is timed as users get it. No
            # deadline: on a busy machine a long query past the default second would count as
            # finding nothing, and the figures would measure the load, not the ranking.
            results = ix.search(words, limit=limit, snippets=0 if limit > CUTOFF else 2, timeout=None)
        except search.QueryError as error:  # a query the engine refuses: said, and scored as nothing found
            print(f"newsearch refused query {text[:40]!r}: {error}", file=sys.stderr)
            return []
        return [doc_name(hit.path) for hit in results.hits]

    return run, ix.close


PROSE = ("title", "description", "body", "tags")


def _prose(article: search.Article) -> dict[str, str]:
    return {"title": article.title, "description": article.description, "body": article.body,
            "tags": " ".join(article.tags)}


def fts5_engine(articles: list[tuple[str, search.Article]]) -> tuple[Searcher, Callable[[], None]]:
    """SQLite FTS5 over the same four prose fields, porter stemming, bm25() ranking."""
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE docs USING fts5(name UNINDEXED, {', '.join(PROSE)}, "
               "tokenize='porter unicode61')")
    db.executemany(f"INSERT INTO docs VALUES (?, {', '.join('?' for _ in PROSE)})",
                   [(name, *_prose(article).values()) for name, article in articles])
    db.commit()

    def run(text: str, limit: int) -> list[str]:
        words = plain_words(text)
        if not words:
            return []
        match = " OR ".join(f'"{word}"' for word in dict.fromkeys(words))
        rows = db.execute("SELECT name FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?",
                          (match, limit))
        return [row[0] for row in rows]

    return run, db.close


def tantivy_engine(articles: list[tuple[str, search.Article]]) -> tuple[Searcher, Callable[[], None]]:
    """tantivy over the same four prose fields, English stemming, its default BM25."""
    import tantivy  # optional: ImportError means "skip this engine"

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("name", stored=True, tokenizer_name="raw")
    for name in PROSE:
        builder.add_text_field(name, stored=False, tokenizer_name="en_stem")
    index = tantivy.Index(builder.build())
    writer = index.writer()
    for doc, article in articles:
        writer.add_document(tantivy.Document(name=doc, **_prose(article)))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()

    def run(text: str, limit: int) -> list[str]:
        words = plain_words(text)
        if not words:
            return []
        query = index.parse_query(" ".join(dict.fromkeys(words)), list(PROSE))
        hits = searcher.search(query, limit).hits
        return [searcher.doc(address)["name"][0] for _score, address in hits]

    return run, lambda: None


def typesense_url(url: str | None) -> str:
    """The engine URL of ``--typesense``, else ``NEWSEARCH_ENGINE``; ValueError when neither."""
    found = url or os.environ.get("NEWSEARCH_ENGINE", "")
    if not found:
        raise ValueError("typesense: give --typesense typesense://HOST:PORT,.../COLLECTION or set NEWSEARCH_ENGINE "
                         "(and NEWSEARCH_API_KEY)")
    return found


def build_typesense(corpus: Path, url: str) -> Any:
    """``corpus`` indexed afresh in the Typesense collection of ``url``: the remote ``Index``."""
    ix = search.open_index(url, create=True)
    # Workaround: a rebuild's new collection is named by the second and the pid, so a rebuild
    # in the second that create=True made the empty one gets the same name and then drops it
    # as "the old one" (search/remote/update.py). Let the clock pass the second first.
    time.sleep(1.05 - time.time() % 1)
    ix.update(corpus, rebuild=True)
    return ix


def typesense_engine(corpus: Path, url: str) -> tuple[Searcher, Callable[[], None]]:
    """Index ``corpus`` in a Typesense collection through newsearch's remote backend; search it
    with ``Index.search`` at most 250 deep (Typesense's largest page)."""
    ix = build_typesense(corpus, url)
    return typesense_searcher(ix), ix.close


def typesense_searcher(ix: Any) -> Searcher:
    def run(text: str, limit: int) -> list[str]:
        words = sanitize(text)
        if not words:
            return []
        try:
            results = ix.search(words, limit=min(limit, TYPESENSE_RETRIEVE), snippets=0 if limit > CUTOFF else 2)
        except search.QueryError:  # nothing but stop words; a form the engine refuses
            return []
        return [doc_name(hit.path) for hit in results.hits]
    return run


# --- Typesense experiments: request parameters overridden on top of translate.py's ---------

# (label, parameters set on every search request; "q_rarest_first" reorders q, below).
# Field order is translate.py's: title, description, body, tags; its weights are 5,2,2,3.
EXPERIMENTS: list[tuple[str, dict[str, Any]]] = [
    ("as translate.py sends it (drop_tokens_threshold=ANY_WORDS)", {}),
    ("drop_tokens_threshold=0 (every word required)", {"drop_tokens_threshold": 0}),
    ("drop_tokens_threshold=1", {"drop_tokens_threshold": 1}),
    ("drop_tokens_threshold=10 (Typesense's default)", {"drop_tokens_threshold": 10}),
    ("drop_tokens_threshold=250 (one page)", {"drop_tokens_threshold": 250}),
    ("query_by_weights=1,1,1,1", {"query_by_weights": "1,1,1,1"}),
    ("query_by_weights=5,2,5,3 (body as title)", {"query_by_weights": "5,2,5,3"}),
    ("query_by_weights=15,6,6,9 (x3)", {"query_by_weights": "15,6,6,9"}),
    ("query_by=body_terms only", {"query_by": "body_terms", "query_by_weights": "1", "prefix": "false",
                                  "num_typos": "0"}),
    ("query_by body first: body,title,description,tags 2,5,2,3",
     {"query_by": "body_terms,title_terms,description_terms,tag_terms", "query_by_weights": "2,5,2,3"}),
    ("prioritize_exact_match=false", {"prioritize_exact_match": False}),
    ("text_match_type=max_weight", {"text_match_type": "max_weight"}),
    ("text_match_type=max_score (its default, sent)", {"text_match_type": "max_score"}),
    ("exhaustive_search=true", {"exhaustive_search": True}),
    ("max_candidates=1000", {"max_candidates": 1000}),
    ("prioritize_token_position=true", {"prioritize_token_position": True}),
    ("sort_by=_text_match:desc (ties not broken by date)", {"sort_by": "_text_match:desc"}),
    ("q words rarest first (document frequency from the engine)", {"q_rarest_first": True}),
    ("q rarest first + prioritize_exact_match=false", {"q_rarest_first": True, "prioritize_exact_match": False}),
    ("q rarest first + exhaustive_search=true", {"q_rarest_first": True, "exhaustive_search": True}),
]


# Not a parameter: what ranking the words' rarity would take with Typesense 0.24 (see below).
CLIENT_IDF = ("NOT A PARAMETER: one search per word, ranked here by the sum of the matched words' IDF "
              "(small collections only)", {"client_idf": True})
EXPERIMENTS.append(CLIENT_IDF)
# Pages of one word's matches fetched for CLIENT_IDF (250 each): the whole of TIME's 423.
CLIENT_IDF_PAGES = 4


def client_idf_searcher(ix: Any) -> Searcher:
    """EXPERIMENT, not a request parameter: each word of the query searched on its own (every
    page of its matches, up to CLIENT_IDF_PAGES), and the documents ranked by the sum of the
    BM25 IDF of the words they hold (no term frequency: Typesense returns none), ties in
    Typesense's own order for the whole query. It shows how far ranking by the words' rarity
    would go; it costs a request per word and page, so it is no design for large collections."""
    from search.remote.documents import terms

    whole = typesense_searcher(ix)
    collection = ix.collection()
    total = int(ix.transport.collection_info(collection).get("num_documents", 0)) or 1
    query_by = "title_terms,description_terms,body_terms,tag_terms"
    fields = "path"

    def matches(word: str) -> list[str]:
        found: list[str] = []
        for page in range(1, CLIENT_IDF_PAGES + 1):
            answer = ix.transport.search(collection, {"q": word, "query_by": query_by, "per_page": 250, "page": page,
                                                      "num_typos": 0, "prefix": "false", "drop_tokens_threshold": 0,
                                                      "include_fields": fields, "highlight_fields": "none"})
            found += [doc_name(hit["document"]["path"]) for hit in answer.get("hits", [])]
            if len(found) >= int(answer.get("found", 0)):
                break
        return found

    def run(text: str, limit: int) -> list[str]:
        words = list(dict.fromkeys(terms(sanitize(text)).split()))
        order = {doc: rank for rank, doc in enumerate(whole(text, limit))}
        score: dict[str, float] = {}
        for word in words:
            docs = matches(word)
            idf = math.log(1 + (total - len(docs) + 0.5) / (len(docs) + 0.5))
            for doc in docs:
                score[doc] = score.get(doc, 0.0) + idf
        return sorted(score, key=lambda doc: (-score[doc], order.get(doc, len(order))))[:limit]

    return run


@contextlib.contextmanager
def overriding(ix: Any, overrides: Mapping[str, Any]) -> Iterator[None]:
    """Every search of the remote index sends ``overrides`` on top of translate.py's parameters
    (``search.remote.index`` imported ``translate`` by name: that name is the one wrapped)."""
    import search.remote.index as remote_index

    original = getattr(remote_index, "translate")  # noqa: B009 - not re-exported, by design
    settings = dict(overrides)
    rarest_first = settings.pop("q_rarest_first", False)
    frequencies: dict[str, int] = {}

    def translate(*args: Any, **kwargs: Any) -> Any:
        request = original(*args, **kwargs)
        params = {**request.params, **settings}
        if rarest_first and params.get("q", "*") != "*":
            params["q"] = rarest_words_first(ix, params["q"], request.params["query_by"], frequencies)
        return replace(request, params=params)

    setattr(remote_index, "translate", translate)  # noqa: B010
    try:
        yield
    finally:
        setattr(remote_index, "translate", original)  # noqa: B010


def rarest_words_first(ix: Any, q: str, query_by: str, frequencies: dict[str, int]) -> str:
    """``q``'s plain words ordered by how few documents hold them (Typesense 0.24 drops words from
    the right of ``q``, then from its left, when too few documents hold them all); a query with a
    phrase or an excluded word is left as it is."""
    words = q.split()
    if any(word.startswith(('"', "-")) for word in words) or len(words) < 2:
        return q
    missing = [word for word in dict.fromkeys(words) if word not in frequencies]
    if missing:
        answers = ix.transport.multi_search(ix.collection(), [
            {"q": word, "query_by": query_by, "per_page": 0, "num_typos": 0, "prefix": "false",
             "drop_tokens_threshold": 0} for word in missing])
        frequencies.update((word, int(answer.get("found", 0))) for word, answer in zip(missing, answers))
    return " ".join(sorted(words, key=lambda word: frequencies[word]))


def typesense_experiments(corpus: str | Path, queries: str | Path | list[tuple[str, str]],
                          qrels: str | Path | Mapping[str, Judgments], url: str,
                          experiments: Sequence[tuple[str, dict[str, Any]]] = EXPERIMENTS) -> list[EngineResult]:
    """Build the Typesense collection once; score every query set under each experiment."""
    corpus = Path(corpus).resolve()
    query_list = read_queries(queries) if isinstance(queries, (str, Path)) else list(queries)
    judgments = read_qrels(qrels) if isinstance(qrels, (str, Path)) else qrels
    ix = build_typesense(corpus, url)
    run = typesense_searcher(ix)
    results = []
    for label, overrides in experiments:
        searcher = client_idf_searcher(ix) if overrides.get("client_idf") else run
        with overriding(ix, {k: v for k, v in overrides.items() if k != "client_idf"}):
            began = time.perf_counter()
            runs = {query_id: searcher(text, TYPESENSE_RETRIEVE) for query_id, text in query_list}
            spent = time.perf_counter() - began
        result = score_runs(label, runs, judgments)
        result.mean_query_ms = 1000 * spent / max(1, len(query_list))
        results.append(result)
    return results


def format_experiments(results: Sequence[EngineResult]) -> str:
    """The experiments as a Markdown table, each MAP beside the first row's."""
    base = results[0].map if results else 0.0
    lines = ["| setting (experiment) | MAP | MAP - first row | P@10 | nDCG@10 | retrieved/query | recall "
             "| ms/query (250) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        lines.append(f"| {r.engine} | {r.map:.3f} | {r.map - base:+.3f} | {r.p10:.3f} | {r.ndcg10:.3f} "
                     f"| {r.mean_retrieved:.0f} | {r.recall:.3f} | {r.mean_query_ms:.1f} |")
    return "\n".join(lines)


# --- evaluation ----------------------------------------------------------------------------


def evaluate(corpus: str | Path, queries: str | Path | list[tuple[str, str]],
             qrels: str | Path | Mapping[str, Judgments],
             engines: Sequence[str] = DEFAULT_ENGINES, *, time_top10: bool = True,
             typesense: str | None = None) -> list[EngineResult]:
    """Build each engine on ``corpus``, run every query, and score the rankings.

    With ``time_top10`` every query is run a second time for its first ``CUTOFF`` results only,
    to time what an interactive search costs (not scored). ``typesense`` is the engine URL for
    the ``typesense`` engine (default ``NEWSEARCH_ENGINE``).
    """
    corpus = Path(corpus).resolve()
    query_list = read_queries(queries) if isinstance(queries, (str, Path)) else list(queries)
    judgments = read_qrels(qrels) if isinstance(qrels, (str, Path)) else qrels
    unknown = [name for name in engines if name not in ENGINES]
    if unknown:
        raise ValueError(f"unknown engine(s) {', '.join(unknown)}; choose from {', '.join(ENGINES)}")
    articles = load_articles(corpus) if any(name in ("fts5", "tantivy") for name in engines) else []
    results = []
    all_runs: dict[str, dict[str, list[str]]] = {}
    with tempfile.TemporaryDirectory(prefix="relevance-") as tmp:
        for name in engines:
            started = time.perf_counter()
            try:
                if name == "newsearch":
                    run, close = newsearch_engine(corpus, Path(tmp))
                elif name == "fts5":
                    run, close = fts5_engine(articles)
                elif name == "typesense":
                    run, close = typesense_engine(corpus, typesense_url(typesense))
                else:
                    run, close = tantivy_engine(articles)
            except ImportError as error:
                results.append(EngineResult(name, skipped=f"not installed ({error})"))
                continue
            built = time.perf_counter() - started
            runs: dict[str, list[str]] = {}
            timings: dict[int, list[float]] = {RETRIEVE: [], CUTOFF: []} if time_top10 else {RETRIEVE: []}
            try:
                for limit, spent in timings.items():
                    for query_id, text in query_list:
                        began = time.perf_counter()
                        ranking = run(text, limit)
                        spent.append(time.perf_counter() - began)
                        if limit == RETRIEVE:
                            runs[query_id] = ranking
            finally:
                close()
            all_runs[name] = runs
            result = score_runs(name, runs, judgments)
            result.build_seconds = built
            if query_list:
                result.mean_query_ms = 1000 * statistics.fmean(timings[RETRIEVE])
                result.mean_top10_ms = 1000 * statistics.fmean(timings.get(CUTOFF) or [0.0])
            results.append(result)
    if "typesense" in all_runs and "newsearch" in all_runs:
        ours, theirs = all_runs["newsearch"], all_runs["typesense"]
        # newsearch at Typesense's depth; and a diagnostic: the documents Typesense retrieved, in
        # newsearch's order (then its own for any newsearch did not rank), which parts what
        # Typesense loses by what it finds from what it loses by how it orders it.
        cut = {query_id: ranking[:TYPESENSE_RETRIEVE] for query_id, ranking in ours.items()}
        results.append(score_runs(f"newsearch@{TYPESENSE_RETRIEVE}", cut, judgments))
        reordered = {}
        for query_id, ranking in theirs.items():
            found = set(ranking)
            first = [doc for doc in ours.get(query_id, []) if doc in found]
            reordered[query_id] = first + [doc for doc in ranking if doc not in set(first)]
        results.append(score_runs("typesense's hits in newsearch's order (diagnostic)", reordered, judgments))
    return results


def format_table(results: Sequence[EngineResult]) -> str:
    """The figures as a Markdown table, one engine a row."""
    lines = ["| engine | MAP | P@10 | nDCG@10 | queries | retrieved/query | recall | index s | ms/query (1000) "
             "| ms/query (10) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        if r.skipped:
            lines.append(f"| {r.engine} | skipped: {r.skipped} | | | | | | | | |")
        else:
            lines.append(f"| {r.engine} | {r.map:.3f} | {r.p10:.3f} | {r.ndcg10:.3f} | {r.queries} "
                         f"| {r.mean_retrieved:.0f} | {r.recall:.3f} | {r.build_seconds:.1f} | {r.mean_query_ms:.1f} "
                         f"| {r.mean_top10_ms:.1f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="MAP, P@10 and nDCG@10 of search engines on a test collection.")
    parser.add_argument("corpus", type=Path, help="folder of article files (doc name = file name stem)")
    parser.add_argument("queries", type=Path, help="queries, one a line: id<TAB>text")
    parser.add_argument("qrels", type=Path, help="TREC qrels: <query> 0 <doc> <relevance>")
    parser.add_argument("--engines", default=",".join(DEFAULT_ENGINES),
                        help=f"comma-separated, from {','.join(ENGINES)} (default: {','.join(DEFAULT_ENGINES)})")
    parser.add_argument("--typesense", default=None, metavar="URL",
                        help="typesense engine URL, typesense://HOST:PORT,.../COLLECTION (default: NEWSEARCH_ENGINE; "
                             "key from NEWSEARCH_API_KEY)")
    parser.add_argument("--typesense-experiments", action="store_true",
                        help="also score Typesense under each request-parameter experiment (EXPERIMENTS)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    try:
        results = evaluate(args.corpus, args.queries, args.qrels, engines, typesense=args.typesense)
        experiments = (typesense_experiments(args.corpus, args.queries, args.qrels, typesense_url(args.typesense))
                       if args.typesense_experiments else [])
    except (ValueError, OSError, search.SearchError) as error:
        print(f"relevance: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"engines": [r.summary() for r in results],
                          "typesense_experiments": [r.summary() for r in experiments]} if experiments
                         else [r.summary() for r in results], indent=2))
    else:
        print(format_table(results))
        if experiments:
            print()
            print(format_experiments(experiments))
    return 0


if __name__ == "__main__":
    sys.exit(main())
