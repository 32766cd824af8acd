"""Display: how results, summaries and errors look in a terminal; shared by the CLI and REPL.

Parts:
- ``clean``: strip control characters and terminal escape sequences from untrusted text.
- ``want_color``: the colour decision, made once (``--color``, ``NO_COLOR``, ``TERM=dumb``, tty).
- ``format_results`` / ``format_hit``: ranked hits with highlighted fragments.
- ``format_summary``, ``format_stats``, ``format_article``: the other things newsearch prints.
- ``to_json``: the one JSON encoder (stable key order, UTF-8, dates as ISO strings).

Article text is untrusted: everything taken from an article goes through ``clean`` before it is
styled, so a title carrying ``\\x1b]0;…`` or ``\\x1b[2J`` cannot reach the terminal.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
from datetime import datetime
from typing import IO, Any

from search.present.results import Hit, Results, Snippet, Span

# ESC-introduced sequences (CSI, OSC up to BEL or ST, and two-character escapes), then any
# other C0/C1 control character and DEL.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])|\x9b[0-?]*[ -/]*[@-~]")
# Bidirectional controls count as controls: they reorder what a terminal shows.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "]")
_CONTROLS_AND_NEWLINES = re.compile(r"[\x00-\x1f\x7f-\x9f" + _BIDI + "]")

_BIDI_CONTROLS = re.compile("[" + _BIDI + "]")
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029" + _BIDI + "]")

BOLD = "\x1b[1m"
DIM = "\x1b[2m"
MATCH = "\x1b[1;31m"
TITLE = "\x1b[1;36m"
RESET = "\x1b[0m"

WIDTH = 100
INDENT = "     "


def clean(text: str, *, keep_newlines: bool = False) -> str:
    """Remove escape sequences and control characters (newlines too unless ``keep_newlines``)."""
    text = _BIDI_CONTROLS.sub("", _ESCAPES.sub("", text))
    return (_CONTROLS if keep_newlines else _CONTROLS_AND_NEWLINES).sub(" " if not keep_newlines else "", text)


def error_line(message: str) -> str:
    """An error as newsearch prints it on stderr: one cleaned line, named for the program."""
    return f"newsearch: {clean(message)}"


def want_color(choice: str, stream: IO[str]) -> bool:
    """Whether to colour output: ``always``, ``never``, or ``auto`` (a terminal, no NO_COLOR)."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


def _styled(text: str, spans: tuple[Span, ...], color: bool, base: str = "") -> str:
    """``text`` cleaned, with ``spans`` in the match style when colouring."""
    if not color:
        return clean(text)
    pieces, last = [base], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        pieces += [clean(text[last:start]), MATCH, clean(text[start:end]), RESET + base]
        last = end
    pieces += [clean(text[last:]), RESET]
    return "".join(pieces)


def format_date(moment: datetime | None) -> str:
    """A date as people read it in a listing (UTC), or 'undated'."""
    return moment.strftime("%Y-%m-%d") if moment else "undated"


def format_hit(hit: Hit, color: bool) -> str:
    """One hit: rank, title, date and source, where to find it, and its best fragments."""
    def dim(text: str) -> str:
        return DIM + text + RESET if color else text

    title = _styled(hit.title or "(untitled)", hit.title_spans, color, TITLE if color else "")
    header = f"{hit.rank:>3}. {title}"
    meta = "     " + dim(" · ".join(filter(None, [format_date(hit.date), clean(_short_source(hit.source))])))
    where = "     " + dim(clean(hit.link or hit.path))
    lines = [header, meta, where]
    lines += [_snippet_lines(piece, color) for piece in hit.snippets]
    return "\n".join(lines)


def _snippet_lines(piece: Snippet, color: bool) -> str:
    """A fragment wrapped to the terminal, each line styled on its own so colours never bleed."""
    lines = []
    for start, end in wrap_ranges(piece.text, text_width() - len(INDENT)):
        spans = tuple((max(a, start) - start, min(b, end) - start) for a, b in piece.spans if a < end and b > start)
        lines.append(INDENT + _styled(piece.text[start:end], spans, color))
    return "\n".join(lines)


def wrap_ranges(text: str, width: int) -> list[tuple[int, int]]:
    """Greedy word wrap that returns [start, end) ranges of ``text``, so offsets stay usable."""
    ranges: list[tuple[int, int]] = []
    line_start = line_end = -1
    for word in re.finditer(r"\S+", text):
        if line_start < 0:
            line_start, line_end = word.start(), word.end()
        elif word.end() - line_start <= width:
            line_end = word.end()
        else:
            ranges.append((line_start, line_end))
            line_start, line_end = word.start(), word.end()
    if line_start >= 0:
        ranges.append((line_start, line_end))
    return ranges


def text_width() -> int:
    """The width to wrap to: the terminal's, within reason."""
    return max(40, min(shutil.get_terminal_size((WIDTH, 24)).columns - 1, WIDTH))


def _short_source(source: str) -> str:
    """A feed URL shortened to its host, which is what people recognise."""
    match = re.match(r"https?://([^/]+)", source)
    return match.group(1) if match else source


def format_results(results: Results, color: bool) -> str:
    """A page of results with a header line; an empty string when nothing matched."""
    if not results.hits:
        return ""
    first = results.hits[0].rank
    last = results.hits[-1].rank
    head = f"{results.total} result{'s' if results.total != 1 else ''} for {clean(results.query)!r}" \
           f" (showing {first}-{last}, page {results.page} of {results.page_count}, {results.elapsed * 1000:.0f} ms)"
    blocks = [BOLD + head + RESET if color else head]
    blocks += [format_hit(hit, color) for hit in results.hits]
    return "\n\n".join(blocks)


def format_facets(facets: dict[str, dict[str, int]], top: int = 8) -> str:
    """Facet counts, one line per facet: ``source: a (3), b (2)``."""
    lines = []
    for name, counts in facets.items():
        shown = ", ".join(f"{clean(_short_source(value))} ({count})" for value, count in list(counts.items())[:top])
        lines.append(f"{name}: {shown or '-'}")
    return "\n".join(lines)


def format_summary(summary: Any) -> str:
    """The one-line result of an indexing run."""
    kind = "rebuilt" if summary.rebuilt else "updated"
    return (f"{kind} index: {summary.added} added, {summary.updated} updated, {summary.deleted} deleted, "
            f"{summary.unchanged} unchanged, {len(summary.skipped)} skipped; "
            f"{summary.total} articles in {summary.seconds:.1f} s")


def format_stats(stats: Any) -> str:
    """What an index holds, in one line."""
    span = f"{format_date(stats.first_date)} to {format_date(stats.last_date)}" if stats.first_date else "no dates"
    return (f"{_count(stats.articles, 'article')} from {_count(stats.sources, 'source')}, {span} "
            f"(index {clean(stats.path)})")


def _count(number: int, noun: str) -> str:
    """``1 article``, ``2 articles``, ``21,578 articles``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def format_article(article: Any) -> str:
    """A whole article for reading (the REPL's :open and ``newsearch show``)."""
    head = [clean(article.title), f"{format_date(article.date)} · {clean(_short_source(article.source))}",
            clean(article.link or article.path)]
    paragraphs = [textwrap.fill(clean(p), WIDTH) for p in clean(article.body, keep_newlines=True).split("\n\n")]
    return "\n".join(head) + "\n\n" + "\n\n".join(paragraphs) + "\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def to_json(data: Any) -> str:
    """The JSON text newsearch prints for scripts (one document, UTF-8, no escapes lost)."""
    payload = data.to_dict() if hasattr(data, "to_dict") else data
    text = json.dumps(payload, ensure_ascii=False, default=_json_default, indent=None)
    # json leaves C1 controls and line separators raw; escape them so a terminal never acts on them.
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
