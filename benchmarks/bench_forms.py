"""Query forms: newsearch's latency per kind of query, and the search process's peak memory.

    python benchmarks/bench_forms.py INDEX CORPUS [--passes 3] [--phrases 40]

Kinds: plain words (benchmarks/queries.txt's lines without syntax), two-word phrases drawn at
random (seed 7) from the corpus's own text, date-filtered (``since``), date-sorted (newest
first), facets, ``*`` listings (plain and within a date range), prefixes and fuzzy words. Each
query runs once to warm up, then ``--passes`` times; a query's latency is its median, and each
kind reports p50 / p95 over its queries (top 10 with snippets, exact totals). Peak memory is the
process's maximum resident size at the end (``resource.getrusage``). Run by hand; not in CI.
"""
from __future__ import annotations

import argparse
import random
import re
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import search  # noqa: E402

PREFIXES = ["export*", "oil* price", "bank* japan", "merg*", "wheat crop*"]
FUZZY = ["coffe~ brazil", "takover~", "imigration~", "goverment~ bonds", "petrolium~"]


def plain_queries() -> list[str]:
    """The benchmark set's queries made of words only."""
    lines = (ROOT / "benchmarks" / "queries.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in (raw.strip() for raw in lines) if line and not line.startswith("#")
            and re.fullmatch(r"[a-z ]+", line)]


def random_phrases(corpus: Path, count: int) -> list[str]:
    """Two consecutive words of longer than three letters, from random articles' bodies."""
    chooser = random.Random(7)
    files = sorted(corpus.rglob("*.md"))
    phrases: list[str] = []
    while len(phrases) < count:
        text = chooser.choice(files).read_text(encoding="utf-8", errors="replace").split("---", 2)[-1]
        words = re.findall(r"[a-z]{4,}", re.sub(r"<[^>]+>", " ", text.lower()))
        if len(words) > 2:
            at = chooser.randrange(len(words) - 1)
            phrases.append(f'"{words[at]} {words[at + 1]}"')
    return phrases


def kinds(corpus: Path, phrases: int) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Every kind's (query, keyword arguments) pairs."""
    plain = plain_queries()
    return {
        "plain": [(q, {}) for q in plain],
        "phrases": [(q, {}) for q in random_phrases(corpus, phrases)],
        "date-filtered": [(q, {"since": "1987-04-01"}) for q in plain],
        "date-sorted": [(q, {"sort": "newest"}) for q in plain],
        "facets": [(q, {"facets": True}) for q in plain],
        "listing *": [("*", {}), ("*", {"sort": "newest"}), ("*", {"since": "1987-06-01"}), ("title:*", {})],
        "prefixes": [(q, {}) for q in PREFIXES],
        "fuzzy": [(q, {}) for q in FUZZY],
    }


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of the sorted values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    """Run every kind and print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("index", type=Path)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--phrases", type=int, default=40)
    args = parser.parse_args(argv)
    print(f"{'kind':14} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8}")
    with search.open_index(args.index) as ix:
        for kind, queries in kinds(args.corpus, args.phrases).items():
            latencies = []
            for text, options in queries:
                try:
                    ix.search(text, **options)
                except search.QueryError:
                    continue
                runs = []
                for _ in range(args.passes):
                    started = time.perf_counter()
                    ix.search(text, **options)
                    runs.append(time.perf_counter() - started)
                latencies.append(statistics.median(runs) * 1000)
            if latencies:
                print(f"{kind:14} {len(latencies):7d} {percentile(latencies, 0.5):8.1f} {percentile(latencies, 0.95):8.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this search process: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
