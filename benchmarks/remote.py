"""Speed: the embedded index beside the Typesense backend, side by side in one run.

    NEWSEARCH_API_KEY=... python benchmarks/remote.py CORPUS [CORPUS ...]
        [--typesense typesense://HOST:PORT,HOST:PORT,.../PREFIX] [--queries benchmarks/queries.txt]
        [--repeat 5] [--workdir DIR] [--json FILE]

For each corpus folder (e.g. Reuters 1 x and 5 x from ``make_corpus.py reuters ... --copies 5``),
in this order, both engines in this one process, through newsearch's API only:

- Build, end to end from the files: ``search.open_index(TARGET, create=True)`` then
  ``update(CORPUS, rebuild=True)``, wall time of the ``update`` (both read the files with the
  same reader and worker processes; the embedded one writes its index folder, the remote one
  sends documents to the cluster in batches and waits until every node has applied them).
  TARGET is a folder under ``--workdir`` for the embedded engine and the collection
  ``PREFIX_<corpus folder name>`` of the ``--typesense`` URL (default ``NEWSEARCH_ENGINE``;
  the key from ``NEWSEARCH_API_KEY``) for the remote one.
- Queries: every line of ``--queries`` (``benchmarks/queries.txt``, the speed query set), as
  ``Index.search(query, limit=10)``: the top 10 with snippets and the total, as users get
  them. The remote engine refuses forms Typesense cannot express with
  ``search.UnsupportedQueryError``: those are counted and listed with the form the error names,
  and left out of both engines' latencies, so every figure compares the same queries. Each
  query runs once untimed (warm-up), then ``--repeat`` times; its latency is the median of
  those, and p50/p95 are taken over the queries. The engines alternate query by query, so a
  noisy moment on the machine hits both.
- Agreement: the mean share of the embedded top 10 that the remote top 10 also holds, and how
  many queries report the same total (those that do not are listed with both totals).

Ratios are remote / embedded, from the same run. The cluster is whatever the URL names (the
project's ``.ci/cluster.py start`` gives a 3-node loopback one); on a loopback cluster every
request still crosses HTTP and JSON, and the three nodes share the machine's cores with the
client. Run by hand; not in CI.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import search  # noqa: E402

QUERIES = ROOT / "benchmarks" / "queries.txt"
LIMIT = 10


def read_queries(path: Path) -> list[str]:
    """The query set: one query a line, ``#`` comments and blank lines skipped."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.5 for p50, 0.95 for p95)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def collection_url(base: str, corpus: Path) -> str:
    """The remote target for a corpus: the URL's collection name, ``_`` and the folder's name."""
    head, _, prefix = base.rstrip("/").rpartition("/")
    if "://" not in head:  # no collection in the URL
        head, prefix = base.rstrip("/"), "bench"
    name = "".join(c if c.isalnum() or c in "_-" else "_" for c in corpus.name)
    return f"{head}/{prefix}_{name}"


def build(target: str, corpus: Path) -> tuple[Any, float, int]:
    """``target`` opened (created when new) and rebuilt from ``corpus``: the index, the
    ``update``'s wall seconds and the articles it holds."""
    ix = search.open_index(target, create=True)
    if "://" in target:
        # Workaround: a rebuild in the same second as create=True made the empty collection
        # gets that collection's name and then drops it as the old one (search/remote/update.py).
        time.sleep(1.05 - time.time() % 1)
    started = time.perf_counter()
    summary = ix.update(corpus, rebuild=True)
    return ix, time.perf_counter() - started, summary.total


def refused_form(error: Exception) -> str:
    """The form an ``UnsupportedQueryError`` names (its text before the first ``: ``)."""
    return str(error).split(": ", 1)[0]


def time_query(ix: Any, query: str) -> tuple[float, Any]:
    began = time.perf_counter()
    results = ix.search(query, limit=LIMIT)
    return time.perf_counter() - began, results


def query_figures(embedded: Any, remote: Any, queries: Sequence[str], repeat: int) -> dict[str, Any]:
    """Median latency of each query on both engines (queries the remote one accepts), the
    refused queries with their forms, and how far the two engines' answers agree."""
    refused: dict[str, str] = {}
    accepted: list[str] = []
    for query in queries:
        try:
            remote.search(query, limit=LIMIT)  # also the remote engine's warm-up
        except search.UnsupportedQueryError as error:
            refused[query] = refused_form(error)
            continue
        embedded.search(query, limit=LIMIT)  # warm-up
        accepted.append(query)
    per_query: dict[str, dict[str, float]] = {"embedded": {}, "remote": {}}
    overlap: list[float] = []
    same_total = 0
    totals: dict[str, tuple[int, int]] = {}
    for query in accepted:
        spent: dict[str, list[float]] = {"embedded": [], "remote": []}
        answers: dict[str, Any] = {}
        for _ in range(repeat):
            for name, ix in (("embedded", embedded), ("remote", remote)):
                seconds, answers[name] = time_query(ix, query)
                spent[name].append(seconds)
        for name in spent:
            per_query[name][query] = 1000 * statistics.median(spent[name])
        ours = [hit.path for hit in answers["embedded"].hits]
        theirs = {hit.path for hit in answers["remote"].hits}
        if ours:
            overlap.append(sum(1 for path in ours if path in theirs) / len(ours))
        same_total += answers["embedded"].total == answers["remote"].total
        totals[query] = (answers["embedded"].total, answers["remote"].total)
    figures: dict[str, Any] = {"queries": len(queries), "accepted": len(accepted), "refused": refused,
                               "per_query_ms": per_query, "top10_overlap": statistics.fmean(overlap) if overlap else 0.0,
                               "same_total": same_total, "totals": totals}
    for name, values in per_query.items():
        figures[f"{name}_p50_ms"] = percentile(list(values.values()), 0.5)
        figures[f"{name}_p95_ms"] = percentile(list(values.values()), 0.95)
    return figures


def run_corpus(corpus: Path, base: str, work: Path, queries: Sequence[str], repeat: int) -> dict[str, Any]:
    """Both builds and the query figures for one corpus."""
    figures: dict[str, Any] = {"corpus": str(corpus)}
    folder = work / f"embedded-{corpus.name}"
    shutil.rmtree(folder, ignore_errors=True)
    print(f"remote: {corpus.name}: embedded build", file=sys.stderr, flush=True)
    embedded, figures["embedded_build_s"], figures["embedded_articles"] = build(str(folder), corpus)
    url = collection_url(base, corpus)
    print(f"remote: {corpus.name}: remote build into {url}", file=sys.stderr, flush=True)
    remote, figures["remote_build_s"], figures["remote_articles"] = build(url, corpus)
    print(f"remote: {corpus.name}: builds {figures['embedded_build_s']:.1f} s / {figures['remote_build_s']:.1f} s; "
          "queries", file=sys.stderr, flush=True)
    try:
        figures.update(query_figures(embedded, remote, queries, repeat))
    finally:
        embedded.close()
        remote.close()
    return figures


def ratio(remote: float, embedded: float) -> str:
    return f"{remote / embedded:.2f}" if embedded else ""


def format_report(runs: Sequence[dict[str, Any]], repeat: int) -> str:
    """One Markdown table, a row per figure and a pair of columns (and a ratio) per corpus."""
    names = [Path(run["corpus"]).name for run in runs]
    head = "| figure | " + " | ".join(f"{n}: embedded | {n}: Typesense | {n}: Typesense / embedded" for n in names)
    lines = [head + " |", "| --- |" + " ---: | ---: | ---: |" * len(runs)]

    def row(label: str, key_embedded: str, key_remote: str, digits: int = 1) -> None:
        cells = []
        for run in runs:
            a, b = run[key_embedded], run[key_remote]
            cells += [f"{a:,.{digits}f}", f"{b:,.{digits}f}", ratio(b, a)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("articles", "embedded_articles", "remote_articles", 0)
    row("build, `update(rebuild=True)`, wall s", "embedded_build_s", "remote_build_s")
    row(f"query p50, ms (top {LIMIT} + snippets, median of {repeat})", "embedded_p50_ms", "remote_p50_ms")
    row(f"query p95, ms (top {LIMIT} + snippets, median of {repeat})", "embedded_p95_ms", "remote_p95_ms")
    lines.append("")
    for name, run in zip(names, runs):
        lines.append(f"- {name}: {run['accepted']} of {run['queries']} queries run on both; "
                     f"{len(run['refused'])} refused by the remote engine; top-{LIMIT} overlap "
                     f"{100 * run['top10_overlap']:.0f} % of the embedded hits; same total on "
                     f"{run['same_total']} of {run['accepted']}")
    for name, run in zip(names, runs):
        differing = [f"`{q}` {a:,} / {b:,}" for q, (a, b) in run["totals"].items() if a != b]
        if differing:
            lines.append(f"- {name}: totals that differ (embedded / Typesense): " + "; ".join(differing))
    if runs and runs[0]["refused"]:
        lines += ["", "Refused by the remote engine (`UnsupportedQueryError`), by form:", "",
                  "| form | queries |", "| --- | --- |"]
        by_form: dict[str, list[str]] = {}
        for query, form in runs[0]["refused"].items():
            by_form.setdefault(_generic(form), []).append(query)
        for form, queries in by_form.items():
            lines.append(f"| {form} | {len(queries)}: " + ", ".join(f"`{q}`" for q in queries) + " |")
    return "\n".join(lines)


def _generic(form: str) -> str:
    """A refused form without the query text it quotes (``... in 'bank NOT japan'``)."""
    return form.split(" in '", 1)[0].split(' in "', 1)[0].split(" (", 1)[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build and query speed of the embedded index and the Typesense backend.")
    parser.add_argument("corpora", type=Path, nargs="+", help="corpus folders (e.g. Reuters 1 x and 5 x)")
    parser.add_argument("--typesense", default=None, metavar="URL",
                        help="cluster URL; its collection name is the prefix of each corpus's collection "
                             "(default NEWSEARCH_ENGINE; key from NEWSEARCH_API_KEY)")
    parser.add_argument("--queries", type=Path, default=QUERIES, help="the query set (default benchmarks/queries.txt)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each query; medians (default 5)")
    parser.add_argument("--workdir", type=Path, default=None, help="where embedded indexes go (default a temporary folder)")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this file")
    args = parser.parse_args(argv)
    base = args.typesense or os.environ.get("NEWSEARCH_ENGINE", "")
    if not base:
        parser.error("give --typesense URL or set NEWSEARCH_ENGINE (and NEWSEARCH_API_KEY)")
    queries = read_queries(args.queries)
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for corpus in args.corpora:
            runs.append(run_corpus(corpus.resolve(), base, work, queries, args.repeat))
            print(f"remote: {corpus.name}: " + json.dumps({k: v for k, v in runs[-1].items()
                                                           if isinstance(v, (int, float))}), file=sys.stderr, flush=True)
    print(format_report(runs, args.repeat))
    if args.json:
        args.json.write_text(json.dumps({"queries": queries, "repeat": args.repeat, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
