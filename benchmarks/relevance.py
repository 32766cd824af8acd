"""Relevance evaluation: MAP, P@10 and nDCG@10 of newsearch and other engines, side by side.

    python benchmarks/relevance.py CORPUS_DIR QUERIES_TSV QRELS [--engines newsearch,fts5,tantivy] [--json]

- ``CORPUS_DIR``: a folder of article files. A document is named by its file name stem
  (``time-001`` for ``time-001.md``); the qrels use those names.
- ``QUERIES_TSV``: one query a line, ``id<TAB>text``.
- ``QRELS``: TREC relevance judgments, ``<query> 0 <doc> <relevance>`` (relevance > 0 is relevant).

Every engine is fed the same articles, read with newsearch's own reader (``search.load_article``;
newsearch reads them through its indexer, which uses that reader), and gets the same queries,
reduced to plain words (``sanitize``). Each retrieves up to 1,000 documents a query.

- ``newsearch``: an index built in a temporary folder with ``search.index.update.update_index`` and
  searched with ``Index.search`` at its default settings.
- ``fts5``: SQLite FTS5 (Python's ``sqlite3``), ``tokenize='porter unicode61'``, ranked by
  ``bm25()``; the query is an OR of the quoted words.
- ``tantivy``: the ``tantivy`` package (``pip install -e '.[bench]'``), ``en_stem`` tokenizer,
  its default BM25; the query is an OR of the words. Skipped when it is not installed.

Measures follow trec_eval: MAP averages, over the queries that have at least one relevant
document, the precision at each relevant document retrieved divided by the number of relevant
documents judged (relevant documents never retrieved count as zero). nDCG@10 uses the judged
relevance as gain and a log2(rank + 1) discount. Run by hand; not part of CI.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import search  # noqa: E402
from search.index.update import update_index  # noqa: E402
from search.index.scanning import ARTICLE_SUFFIXES  # noqa: E402

RETRIEVE = 1000
CUTOFF = 10
ENGINES = ("newsearch", "fts5", "tantivy")

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


@dataclass
class EngineResult:
    """One engine's figures over a query set."""

    engine: str
    map: float = 0.0
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
            # The full ranking needs no fragments; a first page is timed as users get it.
            results = ix.search(words, limit=limit, snippets=0 if limit > CUTOFF else 2)
        except search.QueryError:  # e.g. nothing but stop words
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


# --- evaluation ----------------------------------------------------------------------------


def evaluate(corpus: str | Path, queries: str | Path | list[tuple[str, str]],
             qrels: str | Path | Mapping[str, Judgments],
             engines: Sequence[str] = ENGINES, *, time_top10: bool = True) -> list[EngineResult]:
    """Build each engine on ``corpus``, run every query, and score the rankings.

    With ``time_top10`` every query is run a second time for its first ``CUTOFF`` results only,
    to time what an interactive search costs (not scored).
    """
    corpus = Path(corpus).resolve()
    query_list = read_queries(queries) if isinstance(queries, (str, Path)) else list(queries)
    judgments = read_qrels(qrels) if isinstance(qrels, (str, Path)) else qrels
    unknown = [name for name in engines if name not in ENGINES]
    if unknown:
        raise ValueError(f"unknown engine(s) {', '.join(unknown)}; choose from {', '.join(ENGINES)}")
    articles = load_articles(corpus) if any(name != "newsearch" for name in engines) else []
    results = []
    with tempfile.TemporaryDirectory(prefix="relevance-") as tmp:
        for name in engines:
            started = time.perf_counter()
            try:
                if name == "newsearch":
                    run, close = newsearch_engine(corpus, Path(tmp))
                elif name == "fts5":
                    run, close = fts5_engine(articles)
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
            result = score_runs(name, runs, judgments)
            result.build_seconds = built
            if query_list:
                result.mean_query_ms = 1000 * statistics.fmean(timings[RETRIEVE])
                result.mean_top10_ms = 1000 * statistics.fmean(timings.get(CUTOFF) or [0.0])
            results.append(result)
    return results


def format_table(results: Sequence[EngineResult]) -> str:
    """The figures as a Markdown table, one engine a row."""
    lines = ["| engine | MAP | P@10 | nDCG@10 | queries | index s | ms/query (1000) | ms/query (10) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        if r.skipped:
            lines.append(f"| {r.engine} | skipped: {r.skipped} | | | | | | |")
        else:
            lines.append(f"| {r.engine} | {r.map:.3f} | {r.p10:.3f} | {r.ndcg10:.3f} | {r.queries} "
                         f"| {r.build_seconds:.1f} | {r.mean_query_ms:.1f} | {r.mean_top10_ms:.1f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="MAP, P@10 and nDCG@10 of search engines on a test collection.")
    parser.add_argument("corpus", type=Path, help="folder of article files (doc name = file name stem)")
    parser.add_argument("queries", type=Path, help="queries, one a line: id<TAB>text")
    parser.add_argument("qrels", type=Path, help="TREC qrels: <query> 0 <doc> <relevance>")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help=f"comma-separated, from {','.join(ENGINES)} (default: all)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    try:
        results = evaluate(args.corpus, args.queries, args.qrels, engines)
    except (ValueError, OSError) as error:
        print(f"relevance: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([r.summary() for r in results], indent=2))
    else:
        print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
