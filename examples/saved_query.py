"""Index new articles, then print the newest matches for a saved query.

    python examples/saved_query.py --index index --corpus corpus "flood OR levee" --since "last week"

Run it from cron or a timer: each run indexes what arrived since the last one (incrementally),
then lists the matching articles newest first. ``--since`` takes any date form newsearch
understands (``2026-01``, ``yesterday``, ``"last week"``, ``-3d``). What was indexed goes to
stderr, the matches to stdout. Exit status: 0 something matched, 1 nothing did, 2 an error.

Uses only the public API.
"""
from __future__ import annotations

import argparse
import os
import sys

import search


def main(argv: list[str] | None = None) -> int:
    """Update the index, then print the newest matches."""
    parser = argparse.ArgumentParser(description="Index new articles, then print the newest matches for a query.")
    parser.add_argument("query", help="the saved query, in newsearch's query language")
    parser.add_argument("--index", default="index", help="the index directory (default: index)")
    parser.add_argument("--corpus", help="the article folder (default: the one the index was built from)")
    parser.add_argument("--since", help="only articles dated from then on")
    parser.add_argument("--limit", type=int, default=10, help="how many matches to print (default: 10)")
    args = parser.parse_args(argv)
    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
    try:
        with search.open_index(args.index, create=True) as ix:
            summary = ix.update(args.corpus)
            print(f"indexed: {summary.added} added, {summary.updated} updated, {summary.deleted} deleted, "
                  f"{len(summary.skipped)} skipped; {summary.total} articles", file=sys.stderr)
            results = ix.search(args.query, sort="newest", since=args.since, limit=args.limit,
                                highlight="ansi" if colour else None)
    except search.SearchError as error:
        print(f"saved_query: {error}", file=sys.stderr)
        return 2
    print(f"{results.total} matches for {args.query!r}" + (f" since {args.since}" if args.since else ""))
    for hit in results.hits:
        date = hit.date.strftime("%Y-%m-%d") if hit.date else "(no date)"
        print(f"{date}  {hit.title}\n            {hit.link or hit.path}")
        if hit.snippet:
            print(f"            {hit.snippet}")
    return 0 if results.total else 1


if __name__ == "__main__":
    sys.exit(main())
