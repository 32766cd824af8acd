"""Speed: newsearch beside SQLite FTS5 and tantivy, measured in one run on one corpus.

    python benchmarks/bench_speed.py CORPUS [--repeat 3] [--engines newsearch,fts5,tantivy]
                                     [--queries benchmarks/queries.txt] [--categories all]
                                     [--index DIR] [--workdir DIR] [--json FILE]

For each repeat, in this order, every figure from a fresh process:

- Full build, end to end from the files: ``newsearch index CORPUS --index DIR`` (the real CLI,
  with its worker processes); for FTS5 and tantivy a child process that reads every file with
  ``search.load_article`` (newsearch's own reader, one file after another, as a program using
  those engines would) and adds it. Wall time; CPU time (user + system, children included: on a
  shared machine it varies less than wall time); index size on disk; and peak memory: the
  largest sum of the resident memory of the process and all its children, sampled every 50 ms.
  The peers also keep what their facet counts need (FTS5: source and month columns and a tag
  table; tantivy: source, tag and month as fast fields).
- Query latency over the query set (below): a child process opens the index, runs every query
  once, then ``--passes`` more times; a query's latency is its median, and p50/p95 are taken
  over the queries, overall and per category. The first run of each query is reported as well
  (p50/p95 of the first runs): caches that a searcher fills as it answers (newsearch's
  term-table entries, its stem cache; the peers' page caches) help the later passes. At the end
  of the query phase the child reports its peak resident memory (``VmHWM``) and its resident
  memory then. newsearch returns the top 10 with snippets and the exact total
  (``Index.search``, default settings but for the query's own options); FTS5 the top 10 by
  ``bm25`` with a ``snippet()`` of the body; tantivy the top 10 with a body snippet and its count.
- newsearch only: a no-op re-index; 1 % new articles (copies of the first articles under new
  names with changed text, in a subfolder, then removed again); a cold CLI search
  (``newsearch search QUERY --index DIR``, process start to exit, median of 5); and
  ``python -c "import search"`` (median of 5). ``--index DIR`` skips newsearch's build and
  updates and times the queries on an index already built there (for 20 x, where a build takes
  minutes).

The query set, by category (``--categories``, comma-separated, default all):

- ``plain``: the fixed set of ``--queries`` (``benchmarks/queries.txt``: words, phrases, fields,
  date ranges and operators; the figures of earlier rounds). Translated to the peers as earlier
  rounds did (``fts5_query``, ``tantivy_query``): words ORed, filters (``category:``, ``date:``)
  and exclusions required, as newsearch reads them; a fuzzy ``word~`` is the plain word for
  both peers, and tantivy's parser reads ``export*`` as the word ``export``.
- ``phrase``: two-word phrases drawn at random (seed ``PHRASE_SEED``) from the corpus's bodies,
  one from each of ``PHRASE_COUNT`` articles (copies written by ``make_corpus.py --copies``,
  named ``-cN``, are left out, so every scale gets the same phrases); both words of three
  letters or more and not stop words. Drawn at run time: no corpus text is kept in the repo.
- ``date``: words with ``since`` / ``until`` (``Index.search``'s keyword arguments) or a
  ``date:`` range. Peers: the range as a filter (FTS5 on its date column, tantivy a range).
- ``sorted``: ``sort="newest"`` (and one ``"oldest"``). Peers: the matches ordered by date.
- ``facets``: ``facets=True`` (counts of every source, tag and month among the matches). FTS5:
  the matches' ids in a temporary table, then three ``GROUP BY`` counts; tantivy: terms
  aggregations over its fast fields.
- ``listing``: ``*`` (every article) and ``title:*``. FTS5: the table in rowid order (``title:*``
  the rows with a title); tantivy: ``*`` as its all-query; ``title:*`` not expressed (tantivy's
  exists-query needs a fast field).
- ``prefix``: ``word*``. FTS5: its prefix query; tantivy: a regular expression ``word.*`` on each
  prose field (its parser would drop the star).
- ``wildcard``: ``w?rd``, ``c*a``. FTS5: not expressed (no infix wildcards); tantivy: regular
  expressions on each prose field.
- ``fuzzy``: ``word~`` and ``word~2``. FTS5: not expressed; tantivy: a fuzzy term query on each
  prose field, on the word's Snowball stem (its fields hold stems), same distance.

A peer's figures cover only the queries it can express; the report says how many, and each
ratio newsearch / peer compares the same queries.

Ratios are newsearch / peer within the same repeat; the summary gives medians over repeats.
Needs ``pip install -e '.[bench]'`` for tantivy (skipped when absent). Run by hand; not in CI.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

ENGINES = ("newsearch", "fts5", "tantivy")
QUERIES = ROOT / "benchmarks" / "queries.txt"
# The installed command when there is one (as users run it), else the module.
_SCRIPT = Path(sys.executable).parent / "newsearch"
NEWSEARCH = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "search"]
ADDED_FOLDER = "zz-bench-added"
ADDED_SHARE = 0.01
COLD_QUERY = "oil prices"
PROSE = ("title", "description", "body", "tags")
PHRASE_SEED = 20261207
PHRASE_COUNT = 20

# The categories beyond the fixed set: (query, options of Index.search). Dates are Reuters' 1987.
CATEGORY_QUERIES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "date": [
        ("oil", {"since": "1987-03-01"}),
        ("trade deficit", {"until": "1987-03-31"}),
        ("wheat", {"since": "1987-03-01", "until": "1987-06-30"}),
        ('"interest rates"', {"since": "1987-04-01"}),
        ("bank loan losses", {"since": "1987-10-01"}),
        ("dollar", {"until": "1987-02-28"}),
        ("oil date:1987-03", {}),
        ("coffee date:[1987-01-01 to 1987-06-30]", {}),
        ("bank loan losses date:1987-03", {}),
        ("dollar date:[1987-06-01 to 1987-08-31]", {}),
    ],
    "sorted": [
        ("oil", {"sort": "newest"}),
        ('"interest rates"', {"sort": "newest"}),
        ("bank loan losses", {"sort": "newest"}),
        ("tag:coffee", {"sort": "newest"}),
        ("wheat", {"sort": "newest", "since": "1987-04-01"}),
        ("trade deficit", {"sort": "oldest"}),
    ],
    "facets": [
        ("oil", {"facets": True}),
        ("coffee prices", {"facets": True}),
        ("bank loan losses", {"facets": True}),
        ('"interest rates"', {"facets": True}),
        ("tag:grain", {"facets": True}),
        ("*", {"facets": True}),
    ],
    "listing": [
        ("*", {}),
        ("*", {"sort": "newest"}),
        ("*", {"since": "1987-10-19", "until": "1987-10-20"}),
        ("title:*", {}),
        ("title:*", {"sort": "oldest"}),
    ],
    "prefix": [
        ("export*", {}),
        ("oil* price", {}),
        ("comput*", {}),
        ("bank* loan", {}),
        ("inter*", {}),
        ("sugar* export*", {}),
    ],
    "wildcard": [
        ("c*a", {}),
        ("w?eat", {}),
        ("*il", {}),
        ("inter*ion", {}),
        ("b?nk", {}),
        ("gr*n prices", {}),
    ],
    "fuzzy": [
        ("imigration~", {}),
        ("takover~", {}),
        ("coffe~ brazil", {}),
        ("inflaton~", {}),
        ("goverment~ budget", {}),
        ("takover~2", {}),
    ],
}
CATEGORIES = ("plain", "phrase", *CATEGORY_QUERIES)


# --- measuring processes -----------------------------------------------------------------

def tree_rss(root: int) -> int:
    """Resident bytes of process ``root`` and all its descendants (shared pages counted in each)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    family, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in family:
                family.add(pid)
                frontier.append(pid)
    total = 0
    for pid in family:
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process and their waited-for children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(command: Sequence[str], **options: Any) -> tuple[float, int, subprocess.CompletedProcess[str]]:
    """Run ``command``; return its wall seconds, peak memory of its process tree, and the result.

    ``run_measured.cpu`` is set to the CPU seconds the command and its children used.
    """
    cpu_before = children_cpu()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    run_measured.cpu = children_cpu() - cpu_before  # type: ignore[attr-defined]
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed ({process.returncode}): {stderr[-2000:]}")
    return seconds, peak, result


def timed(command: Sequence[str], times: int) -> float:
    """Median wall seconds of running ``command`` ``times`` times (output discarded)."""
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def disk_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --- the query set and its translations --------------------------------------------------

def read_queries(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


_TOKEN = re.compile(r'[-+]?"[^"]*"|date:\[[^\]]*\]|[()]|[^\s()]+')
_OPERATORS = {"AND", "OR", "NOT"}
_COLUMNS = {"title": "title", "tag": "tags", "tags": "tags", "category": "categories", "body": "body",
            "description": "description"}
_FILTERS = {"category", "source"}


def date_span(text: str) -> tuple[datetime, datetime]:
    """``date:`` values used by the query set: YYYY, YYYY-MM, YYYY-MM-DD, [A to B] (whole periods)."""
    text = text.strip()
    if text.startswith("["):
        low, _, high = text.strip("[]").partition(" to ")
        return date_span(low)[0], date_span(high)[1]
    parts = [int(p) for p in text.split("-")]
    start = datetime(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1, tzinfo=timezone.utc)
    if len(parts) == 3:
        return start, start + timedelta(days=1)
    if len(parts) == 2:
        return start, datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=timezone.utc)
    return start, datetime(start.year + 1, 1, 1, tzinfo=timezone.utc)


class Parsed:
    """A query of the set, split the way newsearch reads it."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str, str]] = []  # (kind, field, value)
        self.filters: list[tuple[str, str]] = []
        self.exclusions: list[tuple[str, str]] = []
        self.span: tuple[datetime, datetime] | None = None
        self.explicit = False  # has AND/OR/NOT or parentheses
        for token in _TOKEN.findall(text):
            if token.startswith("date:"):
                self.span = date_span(token[len("date:"):])
            elif token in _OPERATORS or token in "()":
                self.explicit = True
                self.tokens.append(("op", "", token))
            elif token.startswith("-"):
                self.exclusions.append(self._term(token[1:]))
            else:
                field, value = self._term(token.lstrip("+"))
                if field in _FILTERS:
                    self.filters.append((field, value))
                else:
                    self.tokens.append(("term", field, value))

    @staticmethod
    def _term(token: str) -> tuple[str, str]:
        field, colon, value = token.partition(":")
        if colon and not token.startswith('"') and field in _COLUMNS:
            return field, value
        return "", token


def _fts5_term(field: str, value: str) -> str:
    if value.endswith("~") or re.search(r"~\d$", value):
        value = value.rstrip("~0123456789")  # no fuzzy matching in FTS5: the plain word
    if value.endswith("*"):
        term = f'"{value[:-1]}" *'
    elif value.startswith('"'):
        term = value
    else:
        term = f'"{value}"'
    return f"{_COLUMNS[field]} : {term}" if field else term


def fts5_query(text: str) -> tuple[str | None, tuple[datetime, datetime] | None]:
    """An FTS5 MATCH expression (None for a date-only query) and the date span to filter on."""
    parsed = Parsed(text)
    if parsed.explicit:
        topic = " ".join(value if kind == "op" else _fts5_term(field, value) for kind, field, value in parsed.tokens)
    else:
        topic = " OR ".join(_fts5_term(field, value) for _, field, value in parsed.tokens)
    parts = [f"({topic})"] if topic else []
    parts += [_fts5_term(field, value) for field, value in parsed.filters]
    expression = " AND ".join(parts)
    for field, value in parsed.exclusions:
        expression = f"{expression} NOT {_fts5_term(field, value)}"
    return expression or None, parsed.span


def _tantivy_term(field: str, value: str) -> str:
    value = value.rstrip("~0123456789") if "~" in value and not value.startswith('"') else value
    return f"{_COLUMNS[field]}:{value}" if field else value


def tantivy_query(text: str) -> str:
    """The query in tantivy's query language (dates as an RFC 3339 range)."""
    parsed = Parsed(text)
    topic = " ".join(value if kind == "op" else _tantivy_term(field, value) for kind, field, value in parsed.tokens)
    parts = [f"+({topic})"] if topic else []
    parts += [f"+{_tantivy_term(field, value)}" for field, value in parsed.filters]
    parts += [f"-{_tantivy_term(field, value)}" for field, value in parsed.exclusions]
    if parsed.span:
        low, high = (moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in parsed.span)
        parts.append(f"+date:[{low} TO {high}}}")
    return " ".join(parts)


# --- the query set by category -----------------------------------------------------------

Item = dict[str, Any]  # category, text, since, until, sort, facets; its label names it


def item(category: str, text: str, options: dict[str, Any] | None = None) -> Item:
    options = options or {}
    return {"category": category, "text": text, "since": options.get("since"), "until": options.get("until"),
            "sort": options.get("sort", "relevance"), "facets": bool(options.get("facets"))}


def label(entry: Item) -> str:
    """The query as the CLI would take it, e.g. ``oil --since 1987-03-01 --sort newest``, after
    its category (but for the fixed set's, named as in earlier rounds)."""
    words = [entry["text"]] if entry["category"] == "plain" else [f"{entry['category']}: {entry['text']}"]
    for name in ("since", "until"):
        if entry[name]:
            words.append(f"--{name} {entry[name]}")
    if entry["sort"] != "relevance":
        words.append(f"--sort {entry['sort']}")
    if entry["facets"]:
        words.append("--facets")
    return " ".join(words)


def draw_phrases(corpus: Path, count: int = PHRASE_COUNT, seed: int = PHRASE_SEED) -> list[str]:
    """``count`` two-word phrases, one from each of ``count`` articles drawn with ``seed``."""
    import search
    from search.analysis.text import STOP_WORDS
    rng = random.Random(seed)
    files = [path for path in corpus_files(corpus) if not re.search(r"-c\d+$", path.stem)]
    phrases: list[str] = []
    for path in rng.sample(files, len(files)):
        if len(phrases) == count:
            break
        try:
            body = search.load_article(path, corpus).body
        except search.ArticleError:
            continue
        words = re.findall(r"[A-Za-z]+", body)
        pairs = [(a.lower(), b.lower()) for a, b in zip(words, words[1:])
                 if len(a) > 2 and len(b) > 2 and a.lower() not in STOP_WORDS and b.lower() not in STOP_WORDS]
        pairs = [pair for pair in pairs if f'"{pair[0]} {pair[1]}"' not in phrases]
        if pairs:
            first, second = rng.choice(pairs)
            phrases.append(f'"{first} {second}"')
    return phrases


def query_set(corpus: Path, categories: Sequence[str], queries: Path) -> list[Item]:
    """Every query of the chosen categories, in category order."""
    entries: list[Item] = []
    for category in categories:
        if category == "plain":
            entries += [item("plain", text) for text in read_queries(queries)]
        elif category == "phrase":
            entries += [item("phrase", text) for text in draw_phrases(corpus)]
        else:
            entries += [item(category, text, options) for text, options in CATEGORY_QUERIES[category]]
    seen: set[str] = set()
    unique = []
    for entry in entries:  # one latency per label: a query repeated in a category is timed once
        if label(entry) not in seen:
            seen.add(label(entry))
            unique.append(entry)
    return unique


def item_span(entry: Item) -> tuple[datetime, datetime] | None:
    """The date range of the query's ``date:`` and its since / until, intersected."""
    span = Parsed(entry["text"]).span
    low, high = span if span else (None, None)
    if entry["since"]:
        start = date_span(entry["since"])[0]
        low = max(low, start) if low else start
    if entry["until"]:
        end = date_span(entry["until"])[1]
        high = min(high, end) if high else end
    if low is None and high is None:
        return None
    return (low or datetime(1900, 1, 1, tzinfo=timezone.utc), high or datetime(2200, 1, 1, tzinfo=timezone.utc))


_WILD = re.compile(r"[*?]")
_FUZZY = re.compile(r"^(\w+)~(\d?)$")


def fts5_plan(entry: Item) -> dict[str, Any] | None:
    """How FTS5 runs the query (None: it cannot express it)."""
    text = entry["text"]
    plan: dict[str, Any] = {"span": item_span(entry), "sort": entry["sort"], "facets": entry["facets"],
                            "match": None, "titled": False}
    if text in ("*", "title:*"):
        plan["titled"] = text == "title:*"
        return plan
    if entry["category"] != "plain":
        for token in _TOKEN.findall(text):
            bare = token.lstrip("+-")
            if _FUZZY.match(bare) or (_WILD.search(bare) and not re.fullmatch(r"[\w:]+\*", bare)):
                return None  # no fuzzy matching, and wildcards only at the end of a word
    expression, _ = fts5_query(text)
    plan["match"] = expression
    return plan


def tantivy_plan(entry: Item) -> dict[str, Any] | None:
    """How tantivy runs the query: parser text plus regex / fuzzy terms (None: not expressible)."""
    text = entry["text"]
    plan: dict[str, Any] = {"span": item_span(entry), "sort": entry["sort"], "facets": entry["facets"],
                            "text": "", "regexes": [], "fuzzy": [], "all": False}
    if text == "title:*":
        return None  # exists-queries need a fast field
    if text == "*":
        plan["all"] = True
        return plan
    if entry["category"] == "plain":  # as earlier rounds translated the fixed set
        plan["text"], plan["span"] = tantivy_query(text), None
        return plan
    rest = []
    for token in _TOKEN.findall(text):
        fuzzy = _FUZZY.match(token)
        if token.startswith("date:"):
            continue  # in the span
        if fuzzy:
            plan["fuzzy"].append((fuzzy.group(1).lower(), int(fuzzy.group(2) or 1)))
        elif _WILD.search(token) and not token.startswith('"'):
            plan["regexes"].append(re.escape(token.lower()).replace(r"\*", ".*").replace(r"\?", "."))
        else:
            rest.append(token)
    plan["text"] = tantivy_query(" ".join(rest)) if rest else ""
    return plan


# --- child processes: builds and query runs ----------------------------------------------

def corpus_files(corpus: Path) -> list[Path]:
    from search.index.scanning import scan_corpus
    return [corpus / state.path for _, state in sorted(scan_corpus(corpus, []).items())]


def articles(corpus: Path, clock: list[float]) -> Iterator[Any]:
    """Every readable article, read with newsearch's reader; ``clock[0]`` accumulates the reading time."""
    import search
    for path in corpus_files(corpus):
        started = time.perf_counter()
        try:
            article = search.load_article(path, corpus)
        except search.ArticleError:
            continue
        finally:
            clock[0] += time.perf_counter() - started
        yield article


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(timezone.utc) if moment else None


def _month(date: datetime | None) -> str:
    return date.strftime("%Y-%m") if date else ""


def build_fts5(corpus: Path, target: Path) -> dict[str, float]:
    clock = [0.0]
    db = sqlite3.connect(target)
    db.executescript("""
        CREATE VIRTUAL TABLE docs USING fts5(path UNINDEXED, title, description, body, tags, categories,
                                             tokenize='porter unicode61');
        CREATE TABLE meta(id INTEGER PRIMARY KEY, date TEXT, source TEXT, month TEXT);
        CREATE TABLE tags(id INTEGER, tag TEXT);
    """)
    with db:
        for number, article in enumerate(articles(corpus, clock), 1):
            db.execute("INSERT INTO docs(rowid, path, title, description, body, tags, categories) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (number, article.path, article.title, article.description, article.body,
                        " ".join(article.tags), " ".join(article.categories)))
            date = _utc(article.date)
            db.execute("INSERT INTO meta VALUES (?, ?, ?, ?)", (number, date.strftime("%Y-%m-%dT%H:%M:%SZ") if date else None,
                                                                article.source, _month(date)))
            db.executemany("INSERT INTO tags VALUES (?, ?)", [(number, tag) for tag in dict.fromkeys(article.tags)])
        db.execute("CREATE INDEX meta_date ON meta(date)")
        db.execute("CREATE INDEX tags_id ON tags(id)")
    db.close()
    return {"read_seconds": clock[0]}


def build_tantivy(corpus: Path, target: Path) -> dict[str, float]:
    import tantivy
    clock = [0.0]
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("path", stored=True, tokenizer_name="raw")
    for name in PROSE:
        builder.add_text_field(name, stored=name in ("title", "body"), tokenizer_name="en_stem")
    builder.add_text_field("categories", tokenizer_name="default")
    builder.add_date_field("date", indexed=True, fast=True, stored=True)
    for name in ("source_facet", "tag_facet", "month_facet"):
        builder.add_text_field(name, fast=True, tokenizer_name="raw")
    target.mkdir(parents=True)
    index = tantivy.Index(builder.build(), path=str(target))
    writer = index.writer()
    for article in articles(corpus, clock):
        fields: dict[str, Any] = {"path": article.path, "title": article.title, "description": article.description,
                                  "body": article.body, "tags": " ".join(article.tags),
                                  "categories": " ".join(article.categories)}
        if article.date:
            fields["date"] = _utc(article.date)
            fields["month_facet"] = _month(_utc(article.date))
        if article.source:
            fields["source_facet"] = article.source
        if article.tags:
            fields["tag_facet"] = list(dict.fromkeys(article.tags))
        writer.add_document(tantivy.Document(**fields))
    writer.commit()
    writer.wait_merging_threads()
    return {"read_seconds": clock[0]}


def newsearch_runner(index: Path) -> Callable[[Item], Any]:
    import search
    ix = search.open_index(index)
    return lambda entry: ix.search(entry["text"], limit=10, since=entry["since"], until=entry["until"],
                                   sort=entry["sort"], facets=entry["facets"])


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def fts5_runner(target: Path) -> Callable[[Item], Any]:
    db = sqlite3.connect(target)
    db.execute("CREATE TEMP TABLE hits(id INTEGER PRIMARY KEY)")
    columns = "docs.path, docs.title, snippet(docs, 3, '[', ']', '…', 24)"
    plain_columns = "docs.path, docs.title, substr(docs.body, 1, 200)"

    def run(entry: Item) -> Any:
        plan = fts5_plan(entry)
        assert plan is not None
        expression, span = plan["match"], plan["span"]
        where, arguments = [], []
        if expression:
            where.append("docs MATCH ?")
            arguments.append(expression)
        if plan["titled"]:
            where.append("docs.title <> ''")
        if span:
            where.append("meta.date >= ? AND meta.date < ?")
            arguments += [_stamp(span[0]), _stamp(span[1])]
        joined = "JOIN meta ON meta.id = docs.rowid " if span or plan["sort"] != "relevance" or not expression else ""
        condition = ("WHERE " + " AND ".join(where)) if where else ""
        if plan["sort"] != "relevance":
            order = "ORDER BY meta.date " + ("DESC" if plan["sort"] == "newest" else "ASC")
        elif expression:
            order = "ORDER BY rank"
        elif span and entry["category"] == "plain":
            order = "ORDER BY meta.date DESC"  # a date-only query, as earlier rounds ran it
        else:
            order = ""  # a listing: every article scores the same
        shown = columns if expression else plain_columns
        page = db.execute(f"SELECT {shown} FROM docs {joined}{condition} {order} LIMIT 10", arguments).fetchall()
        if not plan["facets"]:
            return page
        if where:
            db.execute("DELETE FROM hits")
            db.execute(f"INSERT INTO hits SELECT docs.rowid FROM docs {joined}{condition}", arguments)
            counts = [db.execute("SELECT meta.source, count(*) FROM hits JOIN meta ON meta.id = hits.id GROUP BY 1").fetchall(),
                      db.execute("SELECT tags.tag, count(*) FROM hits JOIN tags ON tags.id = hits.id GROUP BY 1").fetchall(),
                      db.execute("SELECT meta.month, count(*) FROM hits JOIN meta ON meta.id = hits.id GROUP BY 1").fetchall()]
        else:  # every article
            counts = [db.execute("SELECT source, count(*) FROM meta GROUP BY 1").fetchall(),
                      db.execute("SELECT tag, count(*) FROM tags GROUP BY 1").fetchall(),
                      db.execute("SELECT month, count(*) FROM meta GROUP BY 1").fetchall()]
        return page, counts
    return run


def tantivy_runner(target: Path) -> Callable[[Item], Any]:
    import tantivy
    from search.analysis.text import snowball_stem
    index = tantivy.Index.open(str(target))
    searcher = index.searcher()
    schema = index.schema
    facets = {name: {"terms": {"field": f"{name}_facet", "size": 100_000}} for name in ("source", "tag", "month")}

    def build(plan: dict[str, Any]) -> Any:
        if plan["all"]:
            query = tantivy.Query.all_query()
        else:
            should = [(tantivy.Occur.Should, tantivy.Query.regex_query(schema, name, pattern))
                      for pattern in plan["regexes"] for name in PROSE]
            should += [(tantivy.Occur.Should, tantivy.Query.fuzzy_term_query(schema, name, snowball_stem(word), distance))
                       for word, distance in plan["fuzzy"] for name in PROSE]
            if plan["text"]:
                should.append((tantivy.Occur.Should, index.parse_query(plan["text"], list(PROSE))))
            query = should[0][1] if len(should) == 1 else tantivy.Query.boolean_query(should)
        if plan["span"]:
            low, high = (_stamp(moment) for moment in plan["span"])
            dated = index.parse_query(f"date:[{low} TO {high}}}", ["date"])
            query = tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, dated)])
        return query

    def run(entry: Item) -> Any:
        plan = tantivy_plan(entry)
        assert plan is not None
        query = build(plan)
        if plan["sort"] != "relevance":
            order = tantivy.Order.Desc if plan["sort"] == "newest" else tantivy.Order.Asc
            found = searcher.search(query, 10, count=True, order_by_field="date", order=order)
        else:
            found = searcher.search(query, 10, count=True)
        snippets = tantivy.SnippetGenerator.create(searcher, query, schema, "body")
        page = found.count, [(searcher.doc(address)["path"], snippets.snippet_from_doc(searcher.doc(address)).to_html())
                             for _key, address in found.hits]
        if plan["facets"]:
            return page, searcher.aggregate(query, facets)
        return page
    return run


RUNNERS = {"newsearch": newsearch_runner, "fts5": fts5_runner, "tantivy": tantivy_runner}
BUILDERS = {"fts5": build_fts5, "tantivy": build_tantivy}


PLANS = {"fts5": fts5_plan, "tantivy": tantivy_plan}


def expressed(engine: str, entries: list[Item]) -> list[Item]:
    """The queries ``engine`` can run (newsearch: all)."""
    plan = PLANS.get(engine)
    return [entry for entry in entries if plan is None or plan(entry) is not None]


def rss_now() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_peak() -> int:
    """This process's peak resident memory (``VmHWM``). Not ``ru_maxrss``: Linux carries that
    over ``exec`` from the parent it was forked from, so a small child reports the parent's peak."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_queries(engine: str, target: Path, entries: list[Item], passes: int) -> dict[str, Any]:
    """Each query once to warm up (its time kept as the first run's), then ``passes`` times;
    milliseconds per query (median of the passes), keyed by label; the process's peak and
    current resident memory at the end."""
    started = time.perf_counter()
    run = RUNNERS[engine](target)
    opened = time.perf_counter() - started
    entries = expressed(engine, entries)
    first: dict[str, float] = {}
    refused: list[str] = []
    for entry in entries:
        began = time.perf_counter()
        try:
            run(entry)
        except Exception as error:  # newsearch refuses queries past its cost caps (QueryError)
            if type(error).__name__ != "QueryError":
                raise
            refused.append(label(entry))
            continue
        first[label(entry)] = 1000 * (time.perf_counter() - began)
    if refused:
        print(f"bench_speed: {engine} refused {len(refused)} queries (cost caps): {refused}", file=sys.stderr)
    entries = [entry for entry in entries if label(entry) not in refused]
    timings: dict[str, list[float]] = {label(entry): [] for entry in entries}
    for _ in range(passes):
        for entry in entries:
            began = time.perf_counter()
            run(entry)
            timings[label(entry)].append(1000 * (time.perf_counter() - began))
    return {"open_seconds": opened, "ms": {text: statistics.median(values) for text, values in timings.items()},
            "first_ms": first, "peak_rss": rss_peak(),
            "end_rss": rss_now()}


def child(argv: list[str]) -> int:
    """``--child build ENGINE CORPUS TARGET`` or ``--child queries ENGINE TARGET QUERYSET.json PASSES``."""
    if argv[0] == "build":
        print(json.dumps(BUILDERS[argv[1]](Path(argv[2]), Path(argv[3]))))
    else:
        entries = json.loads(Path(argv[3]).read_text(encoding="utf-8"))
        print(json.dumps(run_queries(argv[1], Path(argv[2]), entries, int(argv[4]))))
    return 0


# --- one repeat ----------------------------------------------------------------------------

def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def add_articles(corpus: Path, count: int) -> Path:
    """Copy the first ``count`` articles under new names, with text changed so they are new stories."""
    folder = corpus / ADDED_FOLDER
    folder.mkdir()
    for number, path in enumerate(corpus_files(corpus)[:count]):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r'^title: "?', lambda m: f"{m.group(0)}Benchmark copy {number}: ", text, count=1, flags=re.M)
        text = text.replace("<p>", f"<p>benchcopy{number} ", 1)
        (folder / f"bench-added-{number:05d}.md").write_text(text, encoding="utf-8")
    return folder


def latency_figures(ms: dict[str, float], first: dict[str, float], prefix: str) -> dict[str, float]:
    values, firsts = list(ms.values()), list(first.values())
    if not values:
        return {}
    return {f"{prefix}p50_ms": percentile(values, 0.5), f"{prefix}p95_ms": percentile(values, 0.95),
            f"{prefix}first_p50_ms": percentile(firsts, 0.5), f"{prefix}first_p95_ms": percentile(firsts, 0.95)}


def query_figures(engine: str, target: Path, queries: Path, passes: int) -> dict[str, Any]:
    """``queries``: the query set as JSON (``query_set``)."""
    command = [sys.executable, __file__, "--child", "queries", engine, str(target), str(queries), str(passes)]
    _, peak, result = run_measured(command)
    data = json.loads(result.stdout)
    values = list(data["ms"].values())
    figures = {**latency_figures(data["ms"], data["first_ms"], "query_"),
               "query_max_ms": max(values), "query_open_s": data["open_seconds"], "query_process_peak_mb": peak / 2**20,
               "query_peak_rss_mb": data["peak_rss"] / 2**20, "query_end_rss_mb": data["end_rss"] / 2**20,
               "per_query_ms": data["ms"], "per_query_first_ms": data["first_ms"]}
    entries = json.loads(queries.read_text(encoding="utf-8"))
    for category in dict.fromkeys(entry["category"] for entry in entries):
        labels = [label(entry) for entry in entries if entry["category"] == category]
        ms = {name: data["ms"][name] for name in labels if name in data["ms"]}
        first = {name: data["first_ms"][name] for name in labels if name in data["first_ms"]}
        figures[f"cat_{category}_queries"] = len(ms)
        figures.update(latency_figures(ms, first, f"cat_{category}_"))
    return figures


def newsearch_repeat(corpus: Path, work: Path, queries: Path, passes: int) -> dict[str, Any]:
    index = work / "newsearch"
    shutil.rmtree(index, ignore_errors=True)
    figures: dict[str, Any] = {}
    build = [*NEWSEARCH, "index", str(corpus), "--index", str(index), "-q"]
    figures["build_s"], peak, _ = run_measured(build, cwd=ROOT)
    figures["build_cpu_s"] = run_measured.cpu  # type: ignore[attr-defined]
    figures["build_peak_mb"] = peak / 2**20
    figures["size_mb"] = disk_size(storage_generation(index)) / 2**20
    figures.update(query_figures("newsearch", index, queries, passes))
    figures["noop_s"], _, _ = run_measured(build, cwd=ROOT)
    count = max(1, round(ADDED_SHARE * len(corpus_files(corpus))))
    added = add_articles(corpus, count)
    try:
        figures["add_1pct_s"], _, result = run_measured([*build[:-1], "--json"], cwd=ROOT)
        figures["add_1pct_files"] = json.loads(result.stdout)["added"]
    finally:
        shutil.rmtree(added)
    run_measured(build, cwd=ROOT)  # the removal, not timed
    figures["cold_query_s"] = timed([*NEWSEARCH, "search", COLD_QUERY, "--index", str(index)], 5)
    figures["import_search_s"] = timed([sys.executable, "-c", "import search"], 5)
    figures["python_start_s"] = timed([sys.executable, "-c", "pass"], 5)
    return figures


def newsearch_queries_only(index: Path, queries: Path, passes: int) -> dict[str, Any]:
    """The query figures (and a cold CLI search) on an index built beforehand (``--index``)."""
    figures: dict[str, Any] = {"size_mb": disk_size(storage_generation(index)) / 2**20}
    figures.update(query_figures("newsearch", index, queries, passes))
    figures["cold_query_s"] = timed([*NEWSEARCH, "search", COLD_QUERY, "--index", str(index)], 5)
    figures["import_search_s"] = timed([sys.executable, "-c", "import search"], 5)
    figures["python_start_s"] = timed([sys.executable, "-c", "pass"], 5)
    return figures


def storage_generation(index: Path) -> Path:
    from search.index import storage
    return storage.current_generation(index)


def peer_repeat(engine: str, corpus: Path, work: Path, queries: Path, passes: int) -> dict[str, Any]:
    target = work / ("fts5.db" if engine == "fts5" else "tantivy")
    shutil.rmtree(target, ignore_errors=True)
    target.unlink(missing_ok=True)
    figures: dict[str, Any] = {}
    command = [sys.executable, __file__, "--child", "build", engine, str(corpus), str(target)]
    figures["build_s"], peak, result = run_measured(command)
    figures["build_cpu_s"] = run_measured.cpu  # type: ignore[attr-defined]
    figures["build_peak_mb"] = peak / 2**20
    figures["read_s"] = json.loads(result.stdout)["read_seconds"]
    figures["size_mb"] = disk_size(target) / 2**20
    figures.update(query_figures(engine, target, queries, passes))
    return figures


def engine_available(engine: str) -> str | None:
    if engine == "tantivy":
        try:
            import tantivy  # noqa: F401
        except ImportError as error:
            return f"not installed ({error}); pip install -e '.[bench]'"
    return None


# --- reporting -----------------------------------------------------------------------------

COMPARED = [("build_s", "full build, s"), ("build_cpu_s", "full build, CPU s"), ("size_mb", "index size, MB"),
            ("build_peak_mb", "build peak memory, MB"),
            ("query_p50_ms", "query p50, ms"), ("query_p95_ms", "query p95, ms"),
            ("query_first_p50_ms", "query p50, first run of each query, ms"),
            ("query_first_p95_ms", "query p95, first run of each query, ms")]
OWN = [("noop_s", "no-op re-index, s"), ("add_1pct_s", "+1 % new articles, s"), ("cold_query_s", "cold CLI search, s"),
       ("import_search_s", "python -c 'import search', s"), ("python_start_s", "python -c pass, s")]


QUERY_KEYS = {"query_p50_ms": ("per_query_ms", 0.5), "query_p95_ms": ("per_query_ms", 0.95),
              "query_first_p50_ms": ("per_query_first_ms", 0.5), "query_first_p95_ms": ("per_query_first_ms", 0.95)}


def common_ratio(ours: dict[str, float], theirs: dict[str, float], share: float,
                 labels: Sequence[str] | None = None) -> float | None:
    """newsearch's percentile / the peer's, over the queries both ran (of ``labels`` if given)."""
    shared = [name for name in (labels if labels is not None else ours) if name in ours and name in theirs]
    if not shared:
        return None
    peer = percentile([theirs[name] for name in shared], share)
    return percentile([ours[name] for name in shared], share) / peer if peer else None


def summarize(repeats: list[dict[str, dict[str, Any]]], engines: Sequence[str],
              categories: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Medians over repeats of every figure, and of each same-run ratio newsearch / peer
    (query latencies over the queries both engines ran, overall and per category)."""
    summary: dict[str, Any] = {"medians": {}, "ratios": {}, "category_ratios": {}}
    for engine in engines:
        keys = [k for k, v in repeats[0][engine].items() if isinstance(v, (int, float))]
        summary["medians"][engine] = {k: statistics.median(r[engine][k] for r in repeats) for k in keys}
    if "newsearch" in engines:
        for peer in (e for e in engines if e != "newsearch"):
            ratios: dict[str, float] = {}
            for key, _ in COMPARED:
                if key in QUERY_KEYS:
                    source, share = QUERY_KEYS[key]
                    values = [common_ratio(r["newsearch"][source], r[peer][source], share) for r in repeats]
                elif all(r[peer].get(key) and r["newsearch"].get(key) for r in repeats):
                    values = [r["newsearch"][key] / r[peer][key] for r in repeats]
                else:
                    continue
                if all(v is not None for v in values):
                    ratios[key] = statistics.median(values)  # type: ignore[type-var]
            summary["ratios"][peer] = ratios
            per_category: dict[str, dict[str, float]] = {}
            for category, labels in (categories or {}).items():
                figures = {}
                for name, share in (("p50", 0.5), ("p95", 0.95)):
                    values = [common_ratio(r["newsearch"]["per_query_ms"], r[peer]["per_query_ms"], share, labels)
                              for r in repeats]
                    if all(v is not None for v in values):
                        figures[name] = statistics.median(values)  # type: ignore[type-var]
                per_category[category] = figures
            summary["category_ratios"][peer] = per_category
    ns = summary["medians"].get("newsearch")
    if ns and "build_s" in ns:
        builds = [r["newsearch"]["build_s"] for r in repeats]
        summary["update_shares"] = {
            "noop_share_of_build": statistics.median(r["newsearch"]["noop_s"] / b for r, b in zip(repeats, builds)),
            "add_1pct_share_of_build": statistics.median(r["newsearch"]["add_1pct_s"] / b for r, b in zip(repeats, builds)),
        }
    return summary


def format_report(summary: dict[str, Any], engines: Sequence[str], repeats: int,
                  categories: dict[str, list[str]] | None = None) -> str:
    medians = summary["medians"]
    peers = [p for p in engines if p != "newsearch"] if "newsearch" in engines else []  # ratio columns
    lines = [f"medians of {repeats} repeat(s)", "",
             "| " + " | ".join(["figure", *engines, *(f"newsearch / {p}" for p in peers)]) + " |",
             "| --- |" + " ---: |" * (len(engines) + len(peers))]
    for key, label_text in COMPARED:
        values = [f"{medians[e][key]:.1f}" if key in medians[e] else "" for e in engines]
        ratios = [f"{summary['ratios'][p][key]:.2f}" if key in summary["ratios"].get(p, {}) else "" for p in peers]
        lines.append(f"| {label_text} | " + " | ".join(values + ratios) + " |")
    if categories and len(categories) > 1 or (categories and "plain" not in categories):
        lines += ["", "Query latency by category, ms: p50 / p95 (queries run; a peer runs only those it can"
                  " express, and each ratio is over the queries both ran)", "",
                  "| " + " | ".join(["category", *engines, *(f"newsearch / {p} p50 / p95" for p in peers)]) + " |",
                  "| --- |" + " ---: |" * (len(engines) + len(peers))]
        for category, names in categories.items():
            cells = []
            for engine in engines:
                count = medians[engine].get(f"cat_{category}_queries", 0)
                if count:
                    cells.append(f"{medians[engine][f'cat_{category}_p50_ms']:.1f} / "
                                 f"{medians[engine][f'cat_{category}_p95_ms']:.1f} ({count:.0f})")
                else:
                    cells.append(f"not expressed (0 of {len(names)})")
            if "newsearch" in engines:
                for peer in peers:
                    found = summary["category_ratios"].get(peer, {}).get(category, {})
                    cells.append(f"{found['p50']:.2f} / {found['p95']:.2f}" if "p95" in found else "")
            lines.append(f"| {category} | " + " | ".join(cells) + " |")
    lines.append("")
    for engine in engines:
        if "query_peak_rss_mb" in medians[engine]:
            lines.append(f"- {engine}: query process peak RSS at the end of the query phase "
                         f"{medians[engine]['query_peak_rss_mb']:.0f} MB (resident then "
                         f"{medians[engine]['query_end_rss_mb']:.0f} MB)")
    if "newsearch" in medians:
        for key, label_text in OWN:
            if key in medians["newsearch"]:
                lines.append(f"- newsearch {label_text}: {medians['newsearch'][key]:.3f}")
        shares = summary.get("update_shares")
        if shares:
            lines.append(f"- no-op re-index / full build: {100 * shares['noop_share_of_build']:.1f} %")
            lines.append(f"- +1 % new articles / full build: {100 * shares['add_1pct_share_of_build']:.1f} %")
    for engine in engines:
        if engine != "newsearch" and "read_s" in medians[engine]:
            lines.append(f"- {engine}: {medians[engine]['read_s']:.1f} s of its build was reading the files")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["--child"]:
        return child(arguments[1:])
    parser = argparse.ArgumentParser(description="Build, update and query speed of newsearch, FTS5 and tantivy.")
    parser.add_argument("corpus", type=Path, help="folder of article files")
    parser.add_argument("--repeat", type=int, default=3, help="repeats; medians are reported (default 3)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset of newsearch,fts5,tantivy")
    parser.add_argument("--queries", type=Path, default=QUERIES, help="the plain query set (default benchmarks/queries.txt)")
    parser.add_argument("--categories", default="all",
                        help=f"comma-separated query categories, from {','.join(CATEGORIES)} (default all)")
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the query set (default 3)")
    parser.add_argument("--index", type=Path, default=None,
                        help="newsearch: time the queries on this index, built beforehand (no build, no updates)")
    parser.add_argument("--workdir", type=Path, default=None, help="where indexes go (default: a folder in /tmp)")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this file")
    args = parser.parse_args(arguments)
    corpus = args.corpus.resolve()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    chosen = list(CATEGORIES) if args.categories == "all" else [c.strip() for c in args.categories.split(",") if c.strip()]
    for category in chosen:
        if category not in CATEGORIES:
            parser.error(f"unknown category {category!r}; choose from {', '.join(CATEGORIES)}")
    for engine in list(engines):
        if engine not in ENGINES:
            parser.error(f"unknown engine {engine!r}")
        reason = engine_available(engine)
        if reason:
            print(f"bench_speed: skipping {engine}: {reason}", file=sys.stderr)
            engines.remove(engine)
    work = args.workdir or Path("/tmp") / f"bench-speed-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    entries = query_set(corpus, chosen, args.queries)
    query_file = work / "queryset.json"
    query_file.write_text(json.dumps(entries), encoding="utf-8")
    categories = {category: [label(e) for e in entries if e["category"] == category] for category in chosen}
    for engine in engines:
        missing = [label(e) for e in entries if label(e) not in {label(x) for x in expressed(engine, entries)}]
        if missing:
            print(f"bench_speed: {engine} cannot express {len(missing)} queries: {'; '.join(missing)}", file=sys.stderr)
    repeats: list[dict[str, dict[str, Any]]] = []
    try:
        for number in range(1, args.repeat + 1):
            figures: dict[str, dict[str, Any]] = {}
            for engine in engines:
                print(f"bench_speed: repeat {number}: {engine}", file=sys.stderr, flush=True)
                if engine == "newsearch" and args.index:
                    figures[engine] = newsearch_queries_only(args.index.resolve(), query_file, args.passes)
                elif engine == "newsearch":
                    figures[engine] = newsearch_repeat(corpus, work, query_file, args.passes)
                else:
                    figures[engine] = peer_repeat(engine, corpus, work, query_file, args.passes)
                brief = {k: round(v, 3) for k, v in figures[engine].items()
                         if isinstance(v, (int, float)) and not k.startswith("cat_")}
                print(f"bench_speed: {engine}: {brief}", file=sys.stderr, flush=True)
            repeats.append(figures)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    summary = summarize(repeats, engines, categories)
    print(format_report(summary, engines, len(repeats), categories))
    if args.json:
        args.json.write_text(json.dumps({"corpus": str(corpus), "engines": engines, "categories": categories,
                                         "queries": entries, "repeats": repeats, "summary": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
