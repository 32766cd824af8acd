"""The query language: what users type, checked and turned into a Whoosh query.

Parts:
- ``check_syntax``: catches the mistakes Whoosh would silently guess at (an unbalanced quote or
  parenthesis), with the position.
- ``make_parser``: Whoosh's parser with newsearch's plugins: field aliases (``tag:``,
  ``category:``), unknown-field errors, fuzzy terms, ``>``/``<`` ranges and ``DateSpanPlugin``
  for every date form of ``dates``.
- ``parse_query``: text to a Whoosh query, or ``QueryError``; filters and exclusions made
  required (``require_filters``), stop words outside phrases left out when the query has other
  words (``without_loose_stop_words``).
"""
from __future__ import annotations

import difflib
from datetime import datetime
from typing import Any

from whoosh import query as wq
from whoosh.qparser import (
    FieldAliasPlugin,
    FieldsPlugin,
    GtLtPlugin,
    MultifieldParser,
    OrGroup,
    PlusMinusPlugin,
    QueryParser,
    syntax,
)
from whoosh.qparser.plugins import Plugin

from search.query import dates, limits
from search.errors import QueryError
from search.analysis.text import is_stop_word
from search.query.fuzzy import SpelledFuzzyPlugin
from search.index.schema import FIELD_ALIASES, FIELD_WEIGHTS, SEARCH_FIELDS


def _check_encodable(text: str) -> None:
    """Reject undecodable bytes (lone surrogates from a non-UTF-8 command line), naming the column."""
    for position, char in enumerate(text):
        if "\ud800" <= char <= "\udfff":
            raise QueryError(f"query has a byte that is not UTF-8 at column {position + 1}; type it as text")


def check_syntax(text: str) -> None:
    """Raise ``QueryError`` for an unbalanced double quote or parenthesis, or a field name with
    nothing after its colon (Whoosh searched ``title:`` as the word "title"), naming the column."""
    depth_positions: list[int] = []
    quote_at = -1
    for position, char in enumerate(text):
        if quote_at >= 0:
            if char == '"':
                quote_at = -1
        elif char == '"':
            quote_at = position
        elif char == ":":
            _check_field_has_a_value(text, position)
        elif char == "(":
            depth_positions.append(position)
        elif char == ")":
            if not depth_positions:
                raise QueryError(f"unbalanced ')' at column {position + 1} of {text!r}")
            depth_positions.pop()
    if quote_at >= 0:
        raise QueryError(f"unbalanced '\"' at column {quote_at + 1} of {text!r}: close the phrase")
    if depth_positions:
        raise QueryError(f"unbalanced '(' at column {depth_positions[-1] + 1} of {text!r}: add a ')'")


def lower_field_names(text: str) -> str:
    """``Title:fire``, ``DATE:2026`` as ``title:fire``, ``date:2026``: field names in any case,
    outside phrases. The text keeps its length, so positions in it stay true."""
    chars = list(text)
    quoted = False
    for position, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            start = _field_name_start(text, position)
            if start is not None and text[start:position].isascii() and not text[start:position].islower():
                chars[start:position] = text[start:position].lower()
    return "".join(chars)


def _field_name_start(text: str, colon: int) -> int | None:
    """Where the field name (in any case) that the colon at ``colon`` ends begins, when the
    letters before the colon are one and start a word of the query; else None."""
    start = colon
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    if text[start:colon].lower() not in FIELD_ALIASES:
        return None
    if start > 0 and not (text[start - 1].isspace() or text[start - 1] in "(+-"):
        return None
    return start


class _DateSpanNode(syntax.SyntaxNode):  # type: ignore[misc]
    """A parsed date condition; becomes a half-open DateRange on the date field."""

    has_fieldname = True
    has_boost = True

    def __init__(self, fieldname: str, span: dates.Span) -> None:
        self.fieldname = fieldname
        self.span = span
        self.boost = 1.0

    def r(self) -> str:
        return f"{self.fieldname}:[{self.span.start} to {self.span.end})"

    def query(self, parser: Any) -> wq.Query:
        if self.span.start is None and self.span.end is None:
            return wq.Every()
        return wq.DateRange(self.fieldname, self.span.start, self.span.end, endexcl=self.span.end is not None)


class DateSpanPlugin(Plugin):  # type: ignore[misc]
    """Reads the text after ``date:`` with ``dates.parse_span`` (relative forms included)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def filters(self, parser: Any) -> list[tuple[Any, int]]:
        # After FieldsPlugin (100) has attached field names to the nodes.
        return [(self.convert_dates, 110)]

    def convert_dates(self, parser: Any, group: Any) -> Any:
        for position, node in enumerate(group):
            if isinstance(node, syntax.GroupNode):
                group[position] = self.convert_dates(parser, node)
            elif getattr(node, "fieldname", None) == "date":
                group[position] = _DateSpanNode("date", self._span_of(node)).set_range(node.startchar, node.endchar)
        return group

    def _span_of(self, node: Any) -> dates.Span:
        if isinstance(node, syntax.RangeNode):
            return self._range_span(node)
        if node.has_text:
            return dates.parse_span(node.text, self.now)
        raise QueryError("date: needs a date after it, e.g. date:2026-01 or date:[2026-01-01 to 2026-01-31]")

    def _range_span(self, node: Any) -> dates.Span:
        low = dates.parse_span(node.start, self.now) if node.start else None
        high = dates.parse_span(node.end, self.now) if node.end else None
        start = (low.end if node.startexcl else low.start) if low else None
        end = (high.start if node.endexcl else high.end) if high else None
        if start is not None and end is not None and start >= end:
            raise QueryError(f"empty date range: {node.start!r} is not before {node.end!r}")
        return dates.Span(start, end)


def _check_field_has_a_value(text: str, colon: int) -> None:
    """Raise ``QueryError`` when the colon at ``colon`` ends a field name and nothing follows it
    (or only a comparison, as in ``date:>=``): Whoosh would search the field's name as a word."""
    end = colon + 1
    while end < len(text) and text[end] in "<>=":
        end += 1
    if end < len(text) and not text[end].isspace() and text[end] != ")":
        return
    start = _field_name_start(text, colon)
    if start is None:
        return
    name = text[start:colon].lower()
    written = name + text[colon:end]  # "date:", or with its comparison "date:>="
    example = written + ("2026-01" if FIELD_ALIASES[name] == "date" else "word")
    raise QueryError(f"'{written}' at column {start + 1} of {text!r} has nothing after it; "
                     f"write the value right after it, e.g. {example}")


def _aliases() -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for alias, field in FIELD_ALIASES.items():
        if alias != field:
            grouped.setdefault(field, []).append(alias)
    return grouped


class NestedPlusMinusPlugin(PlusMinusPlugin):  # type: ignore[misc]
    """``+word`` and ``-word`` inside parentheses too: Whoosh's plugin sorts only the top group,
    so ``(levee -storm) OR fire`` failed ("cannot understand query ... near Minus")."""

    def do_plusminus(self, parser: Any, group: Any) -> Any:
        for index, node in enumerate(group):
            if isinstance(node, syntax.GroupNode) and self._marked(node):
                group[index] = _boosted(self.do_plusminus(parser, node), node.boost)
        return super().do_plusminus(parser, group)

    def _marked(self, group: Any) -> bool:
        """Whether a group holds a + or - mark, at any depth."""
        return any(isinstance(node, (self.Plus, self.Minus))
                   or isinstance(node, syntax.GroupNode) and self._marked(node) for node in group)


def _boosted(group: Any, boost: float) -> Any:
    """``group`` weighed by ``boost`` ("(levee -storm)^2"): an and-not or and-maybe group ignores
    a boost of its own, so its positive parts carry it."""
    if boost == 1.0:
        return group
    if isinstance(group, syntax.BinaryGroup):
        for part in group.nodes[:1] if isinstance(group, syntax.AndNotGroup) else group.nodes:
            _boosted(part, boost)
    else:
        group.boost = boost
    return group


def make_parser(schema: Any, now: datetime | None = None, fields: tuple[str, ...] = SEARCH_FIELDS) -> QueryParser:
    """The query parser: Whoosh's syntax plus newsearch's fields, dates and fuzzy terms."""
    parser = MultifieldParser(
        list(fields), schema, fieldboosts={f: FIELD_WEIGHTS.get(f, 1.0) for f in fields},
        # Words are ORed. (A scaled group, Whoosh's coordination bonus, never reached the query:
        # the +/- plugin regroups the words, and nested groups are flattened; see RESULTS.md.)
        group=OrGroup,
    )
    parser.remove_plugin_class(FieldsPlugin)
    parser.add_plugin(FieldsPlugin(remove_unknown=False))
    parser.add_plugin(FieldAliasPlugin(_aliases()))
    # A leading + or - marks a required or excluded word; a hyphen inside "2026-01-08" does not.
    parser.add_plugin(NestedPlusMinusPlugin(plusexpr=r"(?<![^\s(])\+", minusexpr=r"(?<![^\s(])-"))
    parser.add_plugin(SpelledFuzzyPlugin())
    # Only right after "field:", so a query that starts with "<b>" is just words.
    parser.add_plugin(GtLtPlugin(expr=r"(?<=:)(?P<rel>(<=|>=|<|>|=<|=>))"))
    parser.add_plugin(DateSpanPlugin(now or dates.utc_now()))
    return parser


def parse_query(text: str, schema: Any, now: datetime | None = None, fields: tuple[str, ...] = SEARCH_FIELDS,
                merge: bool = True) -> wq.Query:
    """Turn query text into a Whoosh query; ``QueryError`` says what is wrong and where.

    With ``merge=False`` a word typed twice stays two terms (Whoosh's normalizing merges them),
    each with its place in ``text``: what spelling corrections need. A text past the caps of
    ``limits.check_text`` (length, words, a word's length) is refused before it is parsed."""
    merged, typed = parse_both(text, schema, now, fields)
    return merged if merge else typed


def parse_both(text: str, schema: Any, now: datetime | None = None,
               fields: tuple[str, ...] = SEARCH_FIELDS) -> tuple[wq.Query, wq.Query]:
    """The query as searched (repeated words merged) and as typed (each word with its place in
    the text), from one parse: Whoosh's normalizing, which merges, runs on the typed tree."""
    if not text.strip():
        raise QueryError("empty query: type some words to search for")
    limits.check_text(text)  # before parsing: parsing a huge text is itself the cost
    _check_encodable(text)
    check_syntax(text)
    try:
        typed = without_loose_stop_words(make_parser(schema, now, fields).parse(lower_field_names(text), normalize=False))
        parsed = typed.normalize()
    except QueryError:
        raise
    except Exception as error:  # Whoosh reports odd input with assorted exception types.
        raise QueryError(f"cannot understand query {text!r} near {error!s:.40}; check its operators and parentheses") from None
    _check_fields(parsed, schema, text)
    if parsed is wq.NullQuery or isinstance(parsed, type(wq.NullQuery)):
        raise QueryError(f"query {text!r} has no searchable words (only punctuation?)")
    return require_filters(parsed), require_filters(typed)


# Fields that narrow a search rather than describe what it is about.
FILTER_FIELDS = frozenset({"source", "categories", "date", "id", "link", "path"})


def without_loose_stop_words(query: wq.Query) -> wq.Query:
    """``query`` without its stop words outside phrases, when it has other words to look for.

    Stop words are indexed, so ``the who`` and ``"to be or not to be"`` are answered and
    ``"bank of japan"`` is a phrase of three words. In ``the flood in millbrook`` they would only
    add the cost of their long posting lists and a little noise to the ranking: BM25 gives them
    little weight, not none. Left out there, such a query ranks exactly as it did before stop
    words were indexed. (A phrase of one word is a plain word to Whoosh's parser.)
    """
    dropped = _drop_stop_terms(query)
    return dropped if _has_words(dropped) else query


def _drop_stop_terms(node: wq.Query) -> wq.Query:
    """``node`` without its stop-word terms; the very same node where there was none."""
    if isinstance(node, wq.Term) and node.fieldname in SEARCH_FIELDS and is_stop_word(node.text):
        return wq.NullQuery
    if node.is_leaf():
        return node
    children = list(node.children())
    kept = {id(child): _drop_stop_terms(child) for child in children}  # each subtree walked once
    if all(kept[id(child)] is child for child in children):
        return node
    rebuilt = node.apply(lambda child: kept.get(id(child), child))
    # ``apply`` keeps the children and the boost only; the planner also needs the rest (the
    # place of the typed word, ``startchar``/``endchar``, groups the fields of one word).
    for name, value in vars(node).items():
        if name not in vars(rebuilt):
            setattr(rebuilt, name, value)
    return rebuilt


def _has_words(node: wq.Query) -> bool:
    """Whether a query looks for something other than filters (exclusions do not count);
    normalized or not, with the ``NullQuery`` leaves a dropped term leaves behind."""
    if node is wq.NullQuery or isinstance(node, wq.Not):
        return False
    if isinstance(node, wq.AndNot):
        return _has_words(node.a)
    if node.is_leaf():
        return getattr(node, "fieldname", None) not in FILTER_FIELDS
    return any(_has_words(child) for child in node.children())


def _is_filter(clause: wq.Query) -> bool:
    leaves = list(clause.leaves()) if clause.children() else [clause]
    return bool(leaves) and all(getattr(leaf, "fieldname", None) in FILTER_FIELDS for leaf in leaves)


def require_filters(parsed: wq.Query) -> wq.Query:
    """Make filter clauses (``source:``, ``category:``, ``date:``) and exclusions required.

    Words are ORed so that near misses still rank, but ``source:foxnews ice`` means ice stories
    from that source, and ``strike -commuters`` means strike stories without commuters, not
    everything that lacks the word.
    """
    if parsed.children():
        parsed = parsed.apply(require_filters)
    if not isinstance(parsed, wq.Or):
        return parsed
    clauses = parsed.subqueries
    exclusions = [clause.query for clause in clauses if isinstance(clause, wq.Not)]
    filters = [clause for clause in clauses if not isinstance(clause, wq.Not) and _is_filter(clause)]
    words = [clause for clause in clauses if not isinstance(clause, wq.Not) and not _is_filter(clause)]
    if not exclusions and not (filters and words):
        return parsed
    topic: wq.Query | None = None
    if words:
        topic = words[0] if len(words) == 1 else wq.Or(words, boost=parsed.boost, scale=getattr(parsed, "scale", None))
    # Filters on one field are alternatives: the parser flattens `fire (source:a OR source:b)`
    # into one OR, and an article has one source, so requiring both would find nothing.
    by_field: dict[str, list[wq.Query]] = {}
    for clause in filters:
        by_field.setdefault(_filter_field(clause), []).append(clause)
    grouped = [group[0] if len(group) == 1 else wq.Or(group) for group in by_field.values()]
    required = [q for q in (topic, *grouped) if q is not None]
    base = required[0] if len(required) == 1 else (wq.And(required) if required else wq.Every())
    return wq.AndNot(base, wq.Or(exclusions)) if exclusions else base


def _filter_field(clause: wq.Query) -> str:
    """The field a filter clause is on ("" for a group over several)."""
    names = {getattr(leaf, "fieldname", "") for leaf in ([clause] if clause.is_leaf() else clause.leaves())}
    return names.pop() if len(names) == 1 else ""


def _check_fields(parsed: wq.Query, schema: Any, text: str) -> None:
    for leaf in parsed.leaves() if parsed.children() else [parsed]:
        name = getattr(leaf, "fieldname", None)
        if name is not None and name not in schema:
            shown = sorted(a for a in FIELD_ALIASES if a not in ("id", "link", "path"))
            close = difflib.get_close_matches(name.lower(), shown, n=1)
            hint = f" (did you mean {close[0]}:?)" if close else ""
            raise QueryError(f"unknown field '{name}:' in {text!r}{hint}; fields are {', '.join(shown)}")
