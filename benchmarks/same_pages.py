"""The identical-pages check: what a user sees for a fixed set of query pages, dumped and compared.

    python benchmarks/same_pages.py dump INDEX OUT.json
    python benchmarks/same_pages.py compare A.json B.json [--ties]

``dump`` runs, through the public API, every query of benchmarks/queries.txt and a few more
forms (prefixes, wildcards, phrases with slop, exclusions, ``+word``, ``AND NOT``, fuzzy words,
``*``), each plain, on page 2, newest first, with the recency boost, with facets and with a
``since`` bound, and records the total, the suggestion, the facets and each hit's id, score
(to 9 decimals), snippets and highlights. ``compare`` prints each difference and exits 1 if there
is one. With ``--ties`` two builds of the same corpus compare equal when only articles of equal
score trade places (workers assign document numbers, which break ties, in the order they finish):
totals, suggestions, facets and the sequence of scores must still be the same.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import search  # noqa: E402

EXTRA = ['"stock exchange"', '"bank of japan"', '"interest rates"~3', "export*", "c*a", "oil -opec", "+oil price",
         "oil AND NOT opec", "coffe~ brazil", "*", "title:*", "oil date:1987-03", '"net loss"', "w?eat"]
OPTIONS: list[dict[str, Any]] = [{}, {"page": 2}, {"sort": "newest"}, {"recent": True}, {"facets": True},
                                 {"since": "1987-03-01"}]


def queries() -> list[str]:
    """The benchmark's query set, then the extra forms."""
    lines = (ROOT / "benchmarks" / "queries.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")] + EXTRA


def dump(index: Path, out: Path) -> int:
    """Write every page of the check to ``out``."""
    pages: dict[str, Any] = {}
    with search.open_index(index) as ix:
        for text in queries():
            for options in OPTIONS:
                key = f"{text} {json.dumps(options, sort_keys=True)}"
                try:
                    found = ix.search(text, **options)
                except search.SearchError as error:
                    pages[key] = {"error": str(error)}
                    continue
                pages[key] = {"total": found.total, "suggestion": found.suggestion, "facets": found.facets,
                              "hits": [{"id": hit.id, "score": round(hit.score, 9),
                                        "snippets": [[s.text, [list(span) for span in s.spans]] for s in hit.snippets],
                                        "title_spans": [list(span) for span in hit.title_spans]}
                                       for hit in found.hits]}
    out.write_text(json.dumps(pages, indent=1), encoding="utf-8")
    print(f"{len(pages)} pages written to {out}")
    return 0


def _shape(page: dict[str, Any], ties: bool) -> Any:
    if not ties or "hits" not in page:
        return page
    return {**{k: v for k, v in page.items() if k != "hits"}, "scores": [hit["score"] for hit in page["hits"]]}


def compare(first: Path, second: Path, ties: bool) -> int:
    """Print the pages that differ; 1 if any does."""
    a = json.loads(first.read_text(encoding="utf-8"))
    b = json.loads(second.read_text(encoding="utf-8"))
    differ = [key for key in sorted(set(a) | set(b)) if _shape(a.get(key, {}), ties) != _shape(b.get(key, {}), ties)]
    for key in differ:
        print(f"differs: {key}")
    print(f"{len(differ)} of {len(a)} pages differ" + (" (equal scores may trade places)" if ties else ""))
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    dumping = commands.add_parser("dump")
    dumping.add_argument("index", type=Path)
    dumping.add_argument("out", type=Path)
    comparing = commands.add_parser("compare")
    comparing.add_argument("first", type=Path)
    comparing.add_argument("second", type=Path)
    comparing.add_argument("--ties", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "dump":
        return dump(args.index, args.out)
    return compare(args.first, args.second, args.ties)


if __name__ == "__main__":
    raise SystemExit(main())
