"""Where a query's time goes: reading posting lists and making snippets, against the whole search.

    python benchmarks/query_floor.py INDEX [--passes 7] [--queries benchmarks/queries.txt]

For each query of the set, in one process: the CPU time of ``Index.search(query, limit=10)``
(default settings, as ``bench_speed.py`` runs it), and within it the time spent in
``postings.Segment.postings_and_values`` (reading and decoding every posting list the search
asks for) and in ``snippets.make_snippets``; the median over ``--passes`` runs after one
warm-up run. It prints the slowest queries and the 50th and 95th percentiles of each column.

Reading the lists and making the snippets are the parts no change to scoring can remove while
every match is counted: their sum is a floor under the query latency of this design, which is
what benchmarks/RESULTS.md compares with SQLite FTS5's whole-query latency. Run by hand; not in CI.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import search  # noqa: E402
from search.engine import postings
from search import pipeline as querying  # noqa: E402

from bench_speed import percentile, read_queries  # noqa: E402


def timed(owner: Any, name: str, spent: dict[str, float], label: str) -> None:
    """Wrap ``owner.name`` so that the CPU time spent inside it adds up in ``spent[label]``."""
    original: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - started
    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--passes", type=int, default=7)
    parser.add_argument("--queries", type=Path, default=ROOT / "benchmarks" / "queries.txt")
    args = parser.parse_args()
    spent = {"read": 0.0, "snippets": 0.0}
    timed(postings.Segment, "postings_and_values", spent, "read")
    timed(querying, "make_snippets", spent, "snippets")
    ix = search.open_index(args.index)
    queries = read_queries(args.queries)
    for text in queries:
        ix.search(text, limit=10)
    rows = []
    for text in queries:
        runs = []
        for _ in range(args.passes):
            spent["read"] = spent["snippets"] = 0.0
            started = time.process_time()
            ix.search(text, limit=10)
            runs.append((time.process_time() - started, spent["read"], spent["snippets"]))
        total, read, snippets = (statistics.median(column) * 1000 for column in zip(*runs))
        rows.append((total, read, snippets, text))
    rows.sort(reverse=True)
    print("| query | search, ms | reading lists, ms | snippets, ms | reading + snippets, ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for total, read, snippets, text in rows[:10]:
        print(f"| `{text}` | {total:.1f} | {read:.1f} | {snippets:.1f} | {read + snippets:.1f} |")
    for share in (0.5, 0.95):
        columns = [percentile([row[i] for row in rows], share) for i in range(3)]
        print(f"p{round(share * 100)}: search {columns[0]:.1f} ms, reading lists {columns[1]:.1f} ms, "
              f"snippets {columns[2]:.1f} ms, reading + snippets "
              f"{percentile([row[1] + row[2] for row in rows], share):.1f} ms")


if __name__ == "__main__":
    main()
