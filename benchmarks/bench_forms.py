"""Query forms: newsearch's latency per kind of query, and the search process's peak memory.

    python benchmarks/bench_forms.py INDEX CORPUS [--passes 3] [--phrases 40]

Kinds: plain words (benchmarks/queries.txt's lines without syntax), two-word phrases drawn at
random (seed 7) from the corpus's own text, date-filtered (``since``), date-sorted (newest
first), facets, ``*`` listings (plain and within a date range), prefixes and fuzzy words. Each
query runs once to warm up, then ``--passes`` times; a query's latency is its median, and each
kind reports p50 / p95 over its queries (top 10 with snippets, exact totals). Peak memory is the
process's maximum resident size at the end (``resource.getrusage``). Run by hand; not in CI.

    python benchmarks/bench_forms.py INDEX CORPUS --expensive [--passes 3] [--cli] [--uncut] [--timeout S]

``--expensive`` times instead the expensive forms of issue 22 one by one (``EXPENSIVE``: short
prefixes, a leading wildcard, wildcards, fuzzy words of two edits, several prefixes at once, a
30-word query, a 20-word phrase drawn from the corpus, the every-article forms, date range and
prefix), with the default caps and timeout: each answers (its median of ``--passes`` runs, after
one warm-up) or is refused (how long the refusal took, and its one line). ``--uncut`` adds each
form's time with no deadline (what the work costs within the caps); ``--cli`` the median wall
time of ``newsearch search`` as a process, with its exit status; ``--timeout S`` runs every
form with that deadline instead of the default (a short one shows each phase is cut at it).
Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import search  # noqa: E402

PREFIXES = ["export*", "oil* price", "bank* japan", "merg*", "wheat crop*"]
FUZZY = ["coffe~ brazil", "takover~", "imigration~", "goverment~ bonds", "petrolium~"]


# The expensive forms (issue 22): (label, query, keyword arguments); "{phrase20}" is replaced by
# 20 consecutive words of a random article (seed 7), drawn at run time.
THIRTY_WORDS = ("oil prices rose sharply on monday as traders said opec members would cut output "
                "while the dollar fell against the yen and bank shares gained in heavy trading")
EXPENSIVE: list[tuple[str, str, dict[str, Any]]] = [
    ("one-letter prefix", "a*", {}),
    ("one-letter prefix", "s*", {}),
    ("two-letter prefix", "co*", {}),
    ("leading wildcard", "*il", {}),
    ("wildcard", "c*n", {}),
    ("fuzzy + word", "coffee~2 brazil", {}),
    ("short fuzzy", "ab~2", {}),
    ("three fuzzy", "oil~2 price~2 crude~2", {}),
    ("four prefixes", "oil* pric* crud* export*", {}),
    ("ten prefixes", "s* t* c* p* m* b* a* d* r* i*", {}),
    ("30 words", THIRTY_WORDS, {}),
    ("20-word phrase", "{phrase20}", {}),
    ("every article", "*", {}),
    ("every article, newest", "*", {"sort": "newest"}),
    ("field:*", "title:*", {}),
    ("field:*", "body:*", {}),
    ("date range + prefix", "export* date:[1987-03-01 to 1987-06-30]", {}),
    ("--since + prefix", "co*", {"since": "1987-06-01"}),
]


def long_phrase(corpus: Path, words: int = 20) -> str:
    """``words`` consecutive words of one paragraph of a random article (seed 7), read as the
    indexer reads it, as a phrase."""
    chooser = random.Random(7)
    files = sorted(corpus.rglob("*.md"))
    while True:
        body = search.load_article(chooser.choice(files)).body
        paragraphs = [found for found in (re.findall(r"\w+", part) for part in body.split("\n\n"))
                      if len(found) > words]
        if paragraphs:
            found = chooser.choice(paragraphs)
            at = chooser.randrange(len(found) - words)
            return '"' + " ".join(found[at:at + words]) + '"'


def timed_search(ix: Any, text: str, options: dict[str, Any], passes: int) -> tuple[float, str]:
    """The median seconds of ``passes`` runs after a warm-up, and "answered N" or the refusal."""
    outcome = ""
    runs = []
    for number in range(passes + 1):
        started = time.perf_counter()
        try:
            outcome = f"{ix.search(text, **options).total:,} hits"
        except search.QueryError as error:
            outcome = f"refused: {error}"
        if number:
            runs.append(time.perf_counter() - started)
    return statistics.median(runs), outcome


def timed_cli(index: Path, text: str, options: dict[str, Any], passes: int) -> tuple[float, int]:
    """The median wall seconds of ``newsearch search`` as a process, and its exit status."""
    command = [sys.executable, "-m", "search", "search", "--index", str(index)]
    for name, value in options.items():
        command += [f"--{name}", str(value)]
    command += ["--", text]
    runs, code = [], 0
    for _ in range(passes):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"},
                              timeout=120)
        runs.append(time.perf_counter() - started)
        code = done.returncode
    return statistics.median(runs), code


def expensive(args: argparse.Namespace) -> int:
    """Time the expensive forms one by one; print a Markdown table."""
    phrase = long_phrase(args.corpus)
    head = ["form", "query", "search, ms"] + (["no deadline, ms"] if args.uncut else []) + ["outcome"]
    head += ["CLI wall, s", "exit"] if args.cli else []
    right = {"search, ms", "no deadline, ms", "CLI wall, s", "exit"}
    line = "| " + " | ".join("---:" if name in right else "---" for name in head) + " |"
    head = "| " + " | ".join(head) + " |"
    print(head)
    print(line)
    with search.open_index(args.index) as ix:
        for label, text, options in EXPENSIVE:
            text = text.replace("{phrase20}", phrase)
            if args.timeout is not None:
                options = {**options, "timeout": args.timeout}
            seconds, outcome = timed_search(ix, text, options, args.passes)
            shown = text if len(text) <= 40 else text[:37] + "..."
            shown += "".join(f" --{name} {value}" for name, value in options.items() if name != "timeout")
            cells = [label, f"`{shown}`", f"{seconds * 1000:.0f}"]
            if args.uncut:
                uncut, _ = timed_search(ix, text, {**options, "timeout": None}, args.passes)
                cells.append(f"{uncut * 1000:.0f}")
            cells.append(outcome.replace("|", "\\|")[:160])
            if args.cli:
                wall, code = timed_cli(args.index, text, options, args.passes)
                cells += [f"{wall:.2f}", str(code)]
            print("| " + " | ".join(cells) + " |", flush=True)
    return 0


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
    parser.add_argument("--expensive", action="store_true", help="time the expensive forms one by one")
    parser.add_argument("--cli", action="store_true", help="with --expensive: also time `newsearch search`")
    parser.add_argument("--uncut", action="store_true", help="with --expensive: also time each with no deadline")
    parser.add_argument("--timeout", type=float, help="with --expensive: the deadline of every form (default 1 s)")
    args = parser.parse_args(argv)
    if args.expensive:
        return expensive(args)
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
