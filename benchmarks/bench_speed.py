"""Speed: newsearch beside SQLite FTS5 and tantivy, measured in one run on one corpus.

    python benchmarks/bench_speed.py CORPUS [--repeat 3] [--engines newsearch,fts5,tantivy]
                                     [--queries benchmarks/queries.txt] [--workdir DIR] [--json FILE]

For each repeat, in this order, every figure from a fresh process:

- Full build, end to end from the files: ``newsearch index CORPUS --index DIR`` (the real CLI,
  with its worker processes); for FTS5 and tantivy a child process that reads every file with
  ``search.load_article`` (newsearch's own reader, one file after another, as a program using
  those engines would) and adds it. Wall time; CPU time (user + system, children included: on a
  shared machine it varies less than wall time); index size on disk; and peak memory: the
  largest sum of the resident memory of the process and all its children, sampled every 50 ms.
- Query latency over the fixed query set (``benchmarks/queries.txt``): a child process opens the
  index, runs every query once, then ``--passes`` more times; a query's latency is its median,
  and p50/p95 are taken over the queries. The first run of each query is reported as well
  (p50/p95 of the first runs): caches that a searcher fills as it answers (newsearch's
  term-table entries, its stem cache; the peers' page caches) help the later passes. newsearch returns the top 10 with snippets and the
  exact total (``Index.search``, default settings); FTS5 the top 10 by ``bm25`` with a
  ``snippet()`` of the body; tantivy the top 10 with a body snippet and its count. Queries are
  translated to each peer's syntax (``fts5_query``, ``tantivy_query``): words ORed, filters
  (``category:``, ``date:``) and exclusions required, as newsearch reads them; a fuzzy ``word~``
  is the plain word for both peers.
- newsearch only: a no-op re-index; 1 % new articles (copies of the first articles under new
  names with changed text, in a subfolder, then removed again); a cold CLI search
  (``newsearch search QUERY --index DIR``, process start to exit, median of 5); and
  ``python -c "import search"`` (median of 5).

Ratios are newsearch / peer within the same repeat; the summary gives medians over repeats.
Needs ``pip install -e '.[bench]'`` for tantivy (skipped when absent). Run by hand; not in CI.
"""
from __future__ import annotations

import argparse
import json
import math
import os
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


def build_fts5(corpus: Path, target: Path) -> dict[str, float]:
    clock = [0.0]
    db = sqlite3.connect(target)
    db.executescript("""
        CREATE VIRTUAL TABLE docs USING fts5(path UNINDEXED, title, description, body, tags, categories,
                                             tokenize='porter unicode61');
        CREATE TABLE meta(id INTEGER PRIMARY KEY, date TEXT);
    """)
    with db:
        for number, article in enumerate(articles(corpus, clock), 1):
            db.execute("INSERT INTO docs(rowid, path, title, description, body, tags, categories) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (number, article.path, article.title, article.description, article.body,
                        " ".join(article.tags), " ".join(article.categories)))
            date = _utc(article.date)
            db.execute("INSERT INTO meta VALUES (?, ?)", (number, date.strftime("%Y-%m-%dT%H:%M:%SZ") if date else None))
        db.execute("CREATE INDEX meta_date ON meta(date)")
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
    target.mkdir(parents=True)
    index = tantivy.Index(builder.build(), path=str(target))
    writer = index.writer()
    for article in articles(corpus, clock):
        fields: dict[str, Any] = {"path": article.path, "title": article.title, "description": article.description,
                                  "body": article.body, "tags": " ".join(article.tags),
                                  "categories": " ".join(article.categories)}
        if article.date:
            fields["date"] = _utc(article.date)
        writer.add_document(tantivy.Document(**fields))
    writer.commit()
    writer.wait_merging_threads()
    return {"read_seconds": clock[0]}


def newsearch_runner(index: Path) -> Callable[[str], Any]:
    import search
    ix = search.open_index(index)
    return lambda text: ix.search(text, limit=10)


def fts5_runner(target: Path) -> Callable[[str], Any]:
    db = sqlite3.connect(target)
    columns = "docs.path, docs.title, snippet(docs, 3, '[', ']', '…', 24)"

    def run(text: str) -> Any:
        expression, span = fts5_query(text)
        low, high = (m.strftime("%Y-%m-%dT%H:%M:%SZ") for m in span) if span else ("", "")
        if expression and span:
            sql = (f"SELECT {columns} FROM docs JOIN meta ON meta.id = docs.rowid WHERE docs MATCH ? "
                   "AND meta.date >= ? AND meta.date < ? ORDER BY rank LIMIT 10")
            return db.execute(sql, (expression, low, high)).fetchall()
        if expression:
            return db.execute(f"SELECT {columns} FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT 10", (expression,)).fetchall()
        sql = (f"SELECT docs.path, docs.title, substr(docs.body, 1, 200) FROM meta JOIN docs ON docs.rowid = meta.id "
               "WHERE meta.date >= ? AND meta.date < ? ORDER BY meta.date DESC LIMIT 10")
        return db.execute(sql, (low, high)).fetchall()
    return run


def tantivy_runner(target: Path) -> Callable[[str], Any]:
    import tantivy
    index = tantivy.Index.open(str(target))
    searcher = index.searcher()
    schema = index.schema

    def run(text: str) -> Any:
        query = index.parse_query(tantivy_query(text), list(PROSE))
        found = searcher.search(query, 10, count=True)
        snippets = tantivy.SnippetGenerator.create(searcher, query, schema, "body")
        return found.count, [(searcher.doc(address)["path"], snippets.snippet_from_doc(searcher.doc(address)).to_html())
                             for _score, address in found.hits]
    return run


RUNNERS = {"newsearch": newsearch_runner, "fts5": fts5_runner, "tantivy": tantivy_runner}
BUILDERS = {"fts5": build_fts5, "tantivy": build_tantivy}


def run_queries(engine: str, target: Path, queries: list[str], passes: int) -> dict[str, Any]:
    """Each query once to warm up (its time kept as the first run's), then ``passes`` times;
    milliseconds per query (median of the passes)."""
    started = time.perf_counter()
    run = RUNNERS[engine](target)
    opened = time.perf_counter() - started
    first: dict[str, float] = {}
    for text in queries:
        began = time.perf_counter()
        run(text)
        first[text] = 1000 * (time.perf_counter() - began)
    timings: dict[str, list[float]] = {text: [] for text in queries}
    for _ in range(passes):
        for text in queries:
            began = time.perf_counter()
            run(text)
            timings[text].append(1000 * (time.perf_counter() - began))
    return {"open_seconds": opened, "ms": {text: statistics.median(values) for text, values in timings.items()},
            "first_ms": first}


def child(argv: list[str]) -> int:
    """``--child build ENGINE CORPUS TARGET`` or ``--child queries ENGINE TARGET QUERIES PASSES``."""
    if argv[0] == "build":
        print(json.dumps(BUILDERS[argv[1]](Path(argv[2]), Path(argv[3]))))
    else:
        print(json.dumps(run_queries(argv[1], Path(argv[2]), read_queries(Path(argv[3])), int(argv[4]))))
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


def query_figures(engine: str, target: Path, queries: Path, passes: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", "queries", engine, str(target), str(queries), str(passes)]
    _, peak, result = run_measured(command)
    data = json.loads(result.stdout)
    values = list(data["ms"].values())
    first = list(data["first_ms"].values())
    return {"query_p50_ms": percentile(values, 0.5), "query_p95_ms": percentile(values, 0.95),
            "query_first_p50_ms": percentile(first, 0.5), "query_first_p95_ms": percentile(first, 0.95),
            "query_max_ms": max(values), "query_open_s": data["open_seconds"], "query_process_peak_mb": peak / 2**20,
            "per_query_ms": data["ms"]}


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


def summarize(repeats: list[dict[str, dict[str, Any]]], engines: Sequence[str]) -> dict[str, Any]:
    """Medians over repeats of every figure, and of each same-run ratio newsearch / peer."""
    summary: dict[str, Any] = {"medians": {}, "ratios": {}}
    for engine in engines:
        keys = [k for k, v in repeats[0][engine].items() if isinstance(v, (int, float))]
        summary["medians"][engine] = {k: statistics.median(r[engine][k] for r in repeats) for k in keys}
    if "newsearch" in engines:
        for peer in (e for e in engines if e != "newsearch"):
            summary["ratios"][peer] = {key: statistics.median(r["newsearch"][key] / r[peer][key] for r in repeats)
                                       for key, _ in COMPARED if all(r[peer].get(key) for r in repeats)}
    ns = summary["medians"].get("newsearch")
    if ns:
        builds = [r["newsearch"]["build_s"] for r in repeats]
        summary["update_shares"] = {
            "noop_share_of_build": statistics.median(r["newsearch"]["noop_s"] / b for r, b in zip(repeats, builds)),
            "add_1pct_share_of_build": statistics.median(r["newsearch"]["add_1pct_s"] / b for r, b in zip(repeats, builds)),
        }
    return summary


def format_report(summary: dict[str, Any], engines: Sequence[str], repeats: int) -> str:
    medians = summary["medians"]
    lines = [f"medians of {repeats} repeat(s)", "",
             "| figure | " + " | ".join(engines) + " | " + " | ".join(f"newsearch / {p}" for p in engines if p != "newsearch") + " |",
             "| --- |" + " ---: |" * (len(engines) + len(engines) - ("newsearch" in engines))]
    for key, label in COMPARED:
        values = [f"{medians[e][key]:.1f}" if key in medians[e] else "" for e in engines]
        ratios = [f"{summary['ratios'][p][key]:.2f}" if key in summary["ratios"].get(p, {}) else ""
                  for p in engines if p != "newsearch"]
        lines.append(f"| {label} | " + " | ".join(values + ratios) + " |")
    if "newsearch" in medians:
        lines.append("")
        for key, label in OWN:
            lines.append(f"- newsearch {label}: {medians['newsearch'][key]:.3f}")
        shares = summary["update_shares"]
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
    parser.add_argument("--queries", type=Path, default=QUERIES, help="the query set (default benchmarks/queries.txt)")
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the query set (default 3)")
    parser.add_argument("--workdir", type=Path, default=None, help="where indexes go (default: a folder in /tmp)")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this file")
    args = parser.parse_args(arguments)
    corpus = args.corpus.resolve()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for engine in list(engines):
        if engine not in ENGINES:
            parser.error(f"unknown engine {engine!r}")
        reason = engine_available(engine)
        if reason:
            print(f"bench_speed: skipping {engine}: {reason}", file=sys.stderr)
            engines.remove(engine)
    work = args.workdir or Path("/tmp") / f"bench-speed-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    repeats: list[dict[str, dict[str, Any]]] = []
    try:
        for number in range(1, args.repeat + 1):
            figures: dict[str, dict[str, Any]] = {}
            for engine in engines:
                print(f"bench_speed: repeat {number}: {engine}", file=sys.stderr, flush=True)
                if engine == "newsearch":
                    figures[engine] = newsearch_repeat(corpus, work, args.queries, args.passes)
                else:
                    figures[engine] = peer_repeat(engine, corpus, work, args.queries, args.passes)
                brief = {k: round(v, 3) for k, v in figures[engine].items() if isinstance(v, (int, float))}
                print(f"bench_speed: {engine}: {brief}", file=sys.stderr, flush=True)
            repeats.append(figures)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    summary = summarize(repeats, engines)
    print(format_report(summary, engines, len(repeats)))
    if args.json:
        args.json.write_text(json.dumps({"corpus": str(corpus), "engines": engines, "repeats": repeats,
                                         "summary": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
