"""Relevance checks beside TIME: does a ranking change that helps TIME hold on other news?

    python benchmarks/relevance_checks.py reuters REUTERS_DIR DESCRIPTIONS [--work DIR]
    python benchmarks/relevance_checks.py bbc BBC_DIR [--work DIR]
    python benchmarks/relevance_checks.py time TIME_DIR QUERIES_TSV QRELS [--work DIR]

Run by hand, one collection at a time, before keeping a ranking change (see benchmarks/RESULTS.md,
"Relevance"). Every run prints one line of figures. Indexes are built once in ``--work``
(default ``/tmp/r-checks``) and reused by later runs, which is right for query-time changes
(``search/ranking.py``, ``search/querying.py``, field weights); after a change to analysis or
to the schema, delete that folder so they are rebuilt.

- ``reuters``: Reuters-21578 converted with ``../shared/tools/make_corpus.py reuters`` and the
  collection's ``cat-descriptions_120396.txt`` (from ``reuters21578.tar.gz``). The first
  ``--stories`` stories (6,000; by NEWID) are copied with their topic tags removed.
  *Topics*: the ``--topics`` (30) topics most often tagged in that subset, searched by their
  name as the collection describes it ("Crude Oil", "Money/Foreign Exchange"; a commodity with
  no description by its code, "iron-steel" as "iron steel"); relevant = stories tagged with the
  topic; MAP and P@10 over the top 1,000. *Headlines*: ``--headlines`` (300) stories, every
  n-th of those with a body and a title no other story of the subset has, each searched by its
  own title; mean reciprocal rank of the story in the top 100.
- ``bbc``: the BBC collection converted with ``make_corpus.py bbc``. *Topics*: the five folder
  names as queries (business, entertainment, politics, sport, tech; the folder is stored as a
  category, which plain words do not search); relevant = the folder's stories. *Headlines*: as
  for Reuters, over all 2,225 stories.
- ``time``: TIME as ``benchmarks/relevance.py`` scores it (MAP, P@10, nDCG@10), here ranked
  without snippets so a run takes seconds.

Queries run through the same path as ``Index.search`` at default settings (parse, fuzzy
expansion, ``querying.ranking_query``, ``evaluation.Evaluator``), but retrieve ranked document
names only, without snippets.
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import search  # noqa: E402
from relevance import (  # noqa: E402
    average_precision,
    corpus_files,
    doc_name,
    ndcg_at,
    precision_at,
    read_qrels,
    read_queries,
    sanitize,
)
from search.index.update import update_index  # noqa: E402
from search.engine.evaluator import Evaluator  # noqa: E402
from search.query.fuzzy import expand_fuzzy  # noqa: E402
from search.pipeline import SearchOptions, ranking_query  # noqa: E402
from search.query.language import parse_query  # noqa: E402

Ranker = Callable[[str, int], list[str]]


def open_ranker(corpus: Path, index_dir: Path) -> tuple[Ranker, Callable[[], None]]:
    """Index ``corpus`` in ``index_dir`` (kept if already built) and rank plain-word queries."""
    if not (index_dir / "built").exists():
        shutil.rmtree(index_dir, ignore_errors=True)
        update_index(index_dir, corpus)
        (index_dir / "built").touch()
    ix = search.open_index(index_dir)
    searcher = ix._searcher()
    options = SearchOptions()

    def rank(text: str, limit: int) -> list[str]:
        words = sanitize(text)
        if not words:
            return []
        try:
            parsed = expand_fuzzy(parse_query(words, searcher.schema), searcher)
        except search.QueryError:
            return []
        evaluator = Evaluator(searcher)
        ranked = ranking_query(searcher, words, parsed, None, options, None,
                               top_docs=lambda query, count: evaluator.top(query, count)[1],
                               doc_frequency=evaluator.doc_frequency)
        _total, found = evaluator.top(ranked, limit)
        return [doc_name(searcher.stored_fields(docnum)["path"]) for docnum, _score in found]

    return rank, ix.close


def topic_figures(rank: Ranker, topics: dict[str, tuple[str, set[str]]]) -> tuple[float, float]:
    """MAP and P@10 of topic queries (``{topic: (query, relevant doc names)}``)."""
    aps, p10s = [], []
    for _topic, (query, relevant) in sorted(topics.items()):
        ranking = rank(query, 1000)
        judged = dict.fromkeys(relevant, 1)
        aps.append(average_precision(ranking, judged))
        p10s.append(precision_at(ranking, judged))
    return statistics.fmean(aps), statistics.fmean(p10s)


def headline_mrr(rank: Ranker, items: list[tuple[str, str]]) -> float:
    """Mean reciprocal rank of each story searched by its title (``(doc name, title)`` pairs)."""
    total = 0.0
    for name, title in items:
        ranking = rank(title, 100)
        total += 1 / (ranking.index(name) + 1) if name in ranking else 0.0
    return total / len(items)


def headline_items(articles: list[tuple[str, search.Article]], count: int) -> list[tuple[str, str]]:
    """Every n-th story with a body and a title of its own, as ``(doc name, title)``."""
    seen = Counter(article.title.strip().lower() for _name, article in articles)
    usable = [(name, article.title) for name, article in articles
              if article.body.strip() and article.title.strip() and seen[article.title.strip().lower()] == 1]
    step = max(1, len(usable) // count)
    return usable[::step][:count]


def read_articles(files: list[Path], corpus: Path) -> list[tuple[str, search.Article]]:
    return [(doc_name(path), search.load_article(path, corpus)) for path in files]


_TAGS = re.compile(r"^tags:\n(?:- .*\n)*", re.MULTILINE)


def reuters_setup(reuters: Path, descriptions: Path, work: Path, stories: int, topic_count: int,
                  headline_count: int) -> tuple[Path, dict[str, tuple[str, set[str]]], list[tuple[str, str]]]:
    """The tag-less copy of the first ``stories`` stories, the topic queries and headline items."""
    def newid(path: Path) -> int:
        return int(path.stem.rsplit("-", 1)[1])

    files = sorted(corpus_files(reuters), key=newid)[:stories]
    articles = read_articles(files, reuters)
    copy = work / f"reuters-{stories}"
    if not copy.exists():
        copy.mkdir(parents=True)
        for path in files:
            text = path.read_text(encoding="utf-8")
            (copy / path.name).write_text(_TAGS.sub("tags: []\n", text, count=1), encoding="utf-8")
    names = topic_names(descriptions)
    tagged: dict[str, set[str]] = {}
    for name, article in articles:
        for tag in article.tags:
            tagged.setdefault(tag, set()).add(name)
    top = sorted(tagged, key=lambda tag: (-len(tagged[tag]), tag))[:topic_count]
    topics = {tag: (names.get(tag, tag.replace("-", " ")), tagged[tag]) for tag in top}
    return copy, topics, headline_items(articles, headline_count)


def topic_names(descriptions: Path) -> dict[str, str]:
    """Topic code to the name ``cat-descriptions_120396.txt`` gives it ("crude": "Crude Oil")."""
    text = descriptions.read_text(encoding="latin-1").split("_____")[0]
    return {code.lower(): name.strip() for name, code in re.findall(r"^(.+?)\s+\(([A-Z-]+)\)\s*$", text, re.MULTILINE)}


def bbc_setup(bbc: Path, headline_count: int) -> tuple[dict[str, tuple[str, set[str]]], list[tuple[str, str]]]:
    files = corpus_files(bbc)
    articles = read_articles(files, bbc)
    topics: dict[str, tuple[str, set[str]]] = {}
    for name, article in articles:
        for category in article.categories:
            topics.setdefault(category, (category, set()))[1].add(name)
    return topics, headline_items(articles, headline_count)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Relevance checks on Reuters-21578, BBC and TIME.")
    parser.add_argument("collection", choices=("reuters", "bbc", "time"))
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--work", type=Path, default=Path("/tmp/r-checks"))
    parser.add_argument("--stories", type=int, default=6000)
    parser.add_argument("--topics", type=int, default=30)
    parser.add_argument("--headlines", type=int, default=300)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.collection == "reuters":
        reuters, descriptions = args.paths
        copy, topics, items = reuters_setup(reuters, descriptions, args.work, args.stories, args.topics, args.headlines)
        rank, close = open_ranker(copy, args.work / f"reuters-{args.stories}-index")
        topic_map, topic_p10 = topic_figures(rank, topics)
        mrr = headline_mrr(rank, items)
        print(f"reuters topics MAP {topic_map:.4f} P@10 {topic_p10:.4f} | headlines MRR {mrr:.4f} "
              f"({len(topics)} topics, {len(items)} headlines, {time.perf_counter() - started:.0f} s)")
    elif args.collection == "bbc":
        (bbc,) = args.paths
        topics, items = bbc_setup(bbc, args.headlines)
        rank, close = open_ranker(bbc, args.work / "bbc-index")
        topic_map, topic_p10 = topic_figures(rank, topics)
        mrr = headline_mrr(rank, items)
        print(f"bbc topics MAP {topic_map:.4f} P@10 {topic_p10:.4f} | headlines MRR {mrr:.4f} "
              f"({len(topics)} topics, {len(items)} headlines, {time.perf_counter() - started:.0f} s)")
    else:
        corpus, queries, qrels_path = args.paths
        rank, close = open_ranker(corpus, args.work / "time-index")
        qrels = read_qrels(qrels_path)
        aps, p10s, ndcgs = [], [], []
        for query_id, text in read_queries(queries):
            judged = qrels.get(query_id, {})
            if not any(rel > 0 for rel in judged.values()):
                continue
            ranking = rank(text, 1000)
            aps.append(average_precision(ranking, judged))
            p10s.append(precision_at(ranking, judged))
            ndcgs.append(ndcg_at(ranking, judged))
        print(f"time MAP {statistics.fmean(aps):.4f} P@10 {statistics.fmean(p10s):.4f} "
              f"nDCG@10 {statistics.fmean(ndcgs):.4f} ({len(aps)} queries, {time.perf_counter() - started:.0f} s)")
    close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
