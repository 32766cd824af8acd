"""The "identical pages" check: does a new engine show users exactly what the old one showed?

    python benchmarks/same_pages.py dump INDEX OUT.json
    python benchmarks/same_pages.py compare A.json B.json [--ties-ok] [--rel-tol 1e-9]
    python benchmarks/same_pages.py list                    # the pages, one a line

``dump`` opens ``INDEX`` through the public API (``search.open_index(INDEX).search(...)``, every
other setting at its default) and runs a fixed set of query pages (``PAGES``, about 190): every
query of ``benchmarks/queries.txt`` at pages 1 and 2; then prefixes, wildcards, phrases with and
without slop, ``date:`` ranges, the ``since`` / ``until`` keyword arguments, ``recent=True``,
``sort`` newest and oldest, ``facets=True``, ``*`` and ``title:*``, exclusions (``-word``,
``AND NOT``), a required word (``+word``), fuzzy words and misspellings (for the suggestion).
For each page it writes what a user sees: ``total``, ``page_count``, ``suggestion``, ``facets``
(in their order) and, per hit, id, rank, score (a float rounded to 9 decimals), title, date,
path, source, categories, tags, link, description, ``title_spans`` and the snippets (field,
text, spans). A query the engine rejects is recorded with its ``QueryError`` message. The file
is JSON; nothing in it depends on the day the dump runs (the recency boost counts ages from
the newest article, and no query uses a relative date).

``compare`` prints one line per difference (the page, then what differs) and exits 1 if there
is any, 0 if the two dumps are identical. Scores are equal when they agree to a relative
tolerance of 1e-9 (``--rel-tol``; an absolute 1.5e-9 is allowed too, for the rounding to 9
decimals). When two pages hold the same hits with the same scores and only the order of hits
with equal scores differs (equal dates, for the date sorts; members of a tie at the page's edge
may move to the neighbouring page), the line says so; with ``--ties-ok`` such pages do not make
the exit status 1. Run by hand; not in CI.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

QUERIES = ROOT / "benchmarks" / "queries.txt"
DECIMALS = 9
REL_TOL = 1e-9
ABS_TOL = 1.5 * 10 ** -DECIMALS

# Beyond the query set: (query, keyword arguments of Index.search), each at pages 1 and 2.
EXTRA: list[tuple[str, dict[str, Any]]] = [
    # prefixes and wildcards
    ("export*", {}),
    ("oil* price", {}),
    ("c*a", {}),
    ("w?eat", {}),
    ("*il", {}),
    # phrases, with and without slop
    ('"stock exchange"', {}),
    ('"bank of japan"', {}),
    ('"interest rates"~3', {}),
    # date ranges in the query
    ("oil date:1987-03", {}),
    ('"interest rates" date:[1987-01-01 to 1987-06-30]', {}),
    # since / until as keyword arguments
    ("oil", {"since": "1987-03-01"}),
    ("trade deficit", {"until": "1987-03-31"}),
    ("wheat", {"since": "1987-03-01", "until": "1987-06-30"}),
    ('"interest rates"', {"since": "1987-04-01"}),
    ("*", {"since": "1987-10-19", "until": "1987-10-20"}),
    # the recency boost
    ("oil prices", {"recent": True}),
    ("interest rates", {"recent": True}),
    ("coffee", {"recent": 30}),
    # date sorts
    ("oil", {"sort": "newest"}),
    ("oil", {"sort": "oldest"}),
    ('"interest rates"', {"sort": "newest"}),
    ("date:1987-03", {"sort": "oldest"}),
    ("wheat", {"sort": "newest", "since": "1987-04-01"}),
    ("tag:coffee", {"sort": "newest"}),
    # facets
    ("oil", {"facets": True}),
    ("coffee prices", {"facets": True}),
    ("tag:grain", {"facets": True}),
    ("*", {"facets": True}),
    ("oil", {"facets": True, "sort": "newest", "since": "1987-03-01"}),
    ("oil", {"facets": True, "recent": True}),
    # listings
    ("*", {}),
    ("*", {"sort": "newest"}),
    ("title:*", {}),
    ("title:*", {"sort": "oldest"}),
    # exclusions, required words, fuzzy words, misspellings
    ("oil -opec", {}),
    ("bank AND NOT japan", {}),
    ("opec AND NOT saudi", {}),
    ("+oil prices", {}),
    ("+coffee brazil", {}),
    ("coffe~ brazil", {}),
    ("takover~2", {}),
    ("inflaton", {}),
    ("bank of japen", {}),
]


def read_queries(path: Path = QUERIES) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def pages() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(key, query, keyword arguments)`` of every page, in a fixed order; keys are unique."""
    cases = [(text, {}) for text in read_queries()] + EXTRA
    seen: set[str] = set()
    for text, options in cases:
        for page in (1, 2):
            arguments = {**options, "page": page}
            key = text + " " + json.dumps(arguments, sort_keys=True)
            if key not in seen:
                seen.add(key)
                yield key, text, arguments


# --- dump --------------------------------------------------------------------------------

def _spans(spans: Any) -> list[list[int]]:
    return [list(span) for span in spans]


def _hit(hit: Any) -> dict[str, Any]:
    return {
        "id": hit.id, "rank": hit.rank, "score": round(float(hit.score), DECIMALS),
        "title": hit.title, "date": hit.date.isoformat() if hit.date else None, "path": hit.path,
        "source": hit.source, "categories": list(hit.categories), "tags": list(hit.tags),
        "link": hit.link, "description": hit.description, "title_spans": _spans(hit.title_spans),
        "snippets": [{"field": s.field, "text": s.text, "spans": _spans(s.spans)} for s in hit.snippets],
    }


def dump(index: Path, out: Path) -> int:
    import search
    ix = search.open_index(index)
    records = []
    for key, text, arguments in pages():
        record: dict[str, Any] = {"key": key, "query": text, "arguments": arguments}
        try:
            results = ix.search(text, **arguments)
        except search.QueryError as error:
            record["error"] = str(error)
        else:
            record.update(total=results.total, page_count=results.page_count, suggestion=results.suggestion,
                          facets={name: list(counts.items()) for name, counts in results.facets.items()},
                          hits=[_hit(hit) for hit in results.hits])
        records.append(record)
    ix.close()
    out.write_text(json.dumps({"index": str(index), "pages": records}, indent=1, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    print(f"same_pages: {len(records)} pages from {index} written to {out}", file=sys.stderr)
    return 0


# --- compare -----------------------------------------------------------------------------

def same_score(a: float, b: float, rel_tol: float) -> bool:
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=ABS_TOL)


def _tie_key(record: dict[str, Any], hit: dict[str, Any]) -> Any:
    """What the page is ordered by: the date for date sorts, else the score."""
    return hit["date"] if record["arguments"].get("sort") in ("newest", "oldest") else hit["score"]


def _equal_keys(record: dict[str, Any], a: dict[str, Any], b: dict[str, Any], rel_tol: float) -> bool:
    ka, kb = _tie_key(record, a), _tie_key(record, b)
    if isinstance(ka, float) and isinstance(kb, float):
        return same_score(ka, kb, rel_tol)
    return bool(ka == kb)


def only_ties(record: dict[str, Any], a: list[dict[str, Any]], b: list[dict[str, Any]], rel_tol: float) -> bool:
    """Whether hit lists ``a`` and ``b`` differ only in the order of hits that tie.

    The order keys must agree position by position; each run of equal keys must hold the same
    hits in both, except a run at the page's start or end, whose other members may be on the
    neighbouring page.
    """
    if len(a) != len(b) or not all(_equal_keys(record, x, y, rel_tol) for x, y in zip(a, b)):
        return False
    start = 0
    while start < len(a):
        end = start + 1
        while end < len(a) and _equal_keys(record, a[start], a[end], rel_tol):
            end += 1
        ids_a = {hit["id"] for hit in a[start:end]}
        ids_b = {hit["id"] for hit in b[start:end]}
        if ids_a != ids_b and start != 0 and end != len(a):
            return False
        start = end
    return True


def _describe(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def _text_difference(a: str, b: str, context: int = 30) -> str:
    """Where two texts first differ, with a little context."""
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    start = max(0, at - context)
    return (f"differ at character {at}: {_describe(a[start:at + context])} != {_describe(b[start:at + context])}"
            f" (lengths {len(a)}, {len(b)})")


def compare_hit(a: dict[str, Any], b: dict[str, Any], rel_tol: float, with_rank: bool) -> Iterator[str]:
    for name in sorted(set(a) | set(b)):
        if name == "rank" and not with_rank:
            continue
        x, y = a.get(name), b.get(name)
        if name == "score" and isinstance(x, float) and isinstance(y, float):
            if not same_score(x, y, rel_tol):
                yield f"score {x!r} != {y!r} (relative {abs(x - y) / max(abs(x), abs(y)):.2e})"
        elif name == "snippets" and isinstance(x, list) and isinstance(y, list) and x != y:
            if len(x) != len(y):
                yield f"snippets: {len(x)} != {len(y)} fragments"
            for number, (one, other) in enumerate(zip(x, y), 1):
                for part in ("field", "spans"):
                    if one.get(part) != other.get(part):
                        yield f"snippet {number} {part}: {_describe(one.get(part))} != {_describe(other.get(part))}"
                if one.get("text") != other.get("text"):
                    yield f"snippet {number} text: {_text_difference(one.get('text') or '', other.get('text') or '')}"
        elif x != y:
            yield f"{name}: {_describe(x)} != {_describe(y)}"


def compare_page(a: dict[str, Any], b: dict[str, Any], rel_tol: float) -> tuple[list[str], bool]:
    """The differences of one page, and whether they are only the order of tied hits."""
    if "error" in a or "error" in b:
        if a.get("error") != b.get("error"):
            return [f"error: {_describe(a.get('error'))} != {_describe(b.get('error'))}"], False
        return [], False
    found = []
    for name in ("total", "page_count", "suggestion"):
        if a.get(name) != b.get(name):
            found.append(f"{name}: {_describe(a.get(name))} != {_describe(b.get(name))}")
    if a.get("facets") != b.get("facets"):
        fa = {k: dict(map(tuple, v)) for k, v in (a.get("facets") or {}).items()}
        fb = {k: dict(map(tuple, v)) for k, v in (b.get("facets") or {}).items()}
        if fa == fb:
            found.append("facets: same counts, in another order")
        else:
            for name in sorted(set(fa) | set(fb)):
                x, y = fa.get(name, {}), fb.get(name, {})
                changed = {v: (x.get(v), y.get(v)) for v in sorted(set(x) | set(y), key=str) if x.get(v) != y.get(v)}
                if changed:
                    found.append(f"facets[{name}]: {_describe(changed)}")
    hits_a, hits_b = a.get("hits", []), b.get("hits", [])
    ids_a, ids_b = [h["id"] for h in hits_a], [h["id"] for h in hits_b]
    ties = False
    if ids_a == ids_b:
        for number, (x, y) in enumerate(zip(hits_a, hits_b), 1):
            found += [f"hit {number} ({x['id']}): {what}" for what in compare_hit(x, y, rel_tol, True)]
    elif only_ties(a, hits_a, hits_b, rel_tol):
        ties = not found
        moved = [f"{i}:{x}/{y}" for i, (x, y) in enumerate(zip(ids_a, ids_b), 1) if x != y]
        found.append("only the order of equal-scored hits differs (position:A/B " + ", ".join(moved) + ")")
        by_id = {h["id"]: h for h in hits_b}
        for x in hits_a:
            if x["id"] in by_id:
                details = list(compare_hit(x, by_id[x["id"]], rel_tol, False))
                if details:
                    ties = False
                found += [f"hit {x['id']}: {what}" for what in details]
    else:
        found.append(f"hits: {_describe(ids_a, 400)} != {_describe(ids_b, 400)}")
        by_id = {h["id"]: h for h in hits_b}
        for x in hits_a:
            if x["id"] in by_id:
                found += [f"hit {x['id']}: {what}" for what in compare_hit(x, by_id[x["id"]], rel_tol, False)]
    return found, ties


def compare(first: Path, second: Path, rel_tol: float, ties_ok: bool) -> int:
    pages_a = {r["key"]: r for r in json.loads(first.read_text(encoding="utf-8"))["pages"]}
    pages_b = {r["key"]: r for r in json.loads(second.read_text(encoding="utf-8"))["pages"]}
    failing = tie_pages = 0
    for key in list(pages_a) + [k for k in pages_b if k not in pages_a]:
        if key not in pages_a or key not in pages_b:
            print(f"{key}: only in {first if key in pages_a else second}")
            failing += 1
            continue
        found, ties = compare_page(pages_a[key], pages_b[key], rel_tol)
        for what in found:
            print(f"{key}: {what}")
        if ties:
            tie_pages += 1
        if found and not (ties and ties_ok):
            failing += 1
    total = len(set(pages_a) | set(pages_b))
    print(f"same_pages: {total} pages, {failing} differ"
          + (f" ({tie_pages} only in the order of equal-scored hits{', allowed' if ties_ok else ''})" if tie_pages else ""),
          file=sys.stderr)
    return 1 if failing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dumping = commands.add_parser("dump", help="run the pages on an index and write them as JSON")
    dumping.add_argument("index", type=Path)
    dumping.add_argument("out", type=Path)
    comparing = commands.add_parser("compare", help="print the differences of two dumps; exit 1 if any")
    comparing.add_argument("first", type=Path)
    comparing.add_argument("second", type=Path)
    comparing.add_argument("--rel-tol", type=float, default=REL_TOL, help="relative tolerance of scores (default 1e-9)")
    comparing.add_argument("--ties-ok", action="store_true",
                           help="pages that differ only in the order of tied hits do not fail the check")
    commands.add_parser("list", help="print the pages the dump runs")
    args = parser.parse_args(argv)
    if args.command == "dump":
        return dump(args.index, args.out)
    if args.command == "compare":
        return compare(args.first, args.second, args.rel_tol, args.ties_ok)
    for key, _text, _arguments in pages():
        print(key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
