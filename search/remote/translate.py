"""A parsed query and the search options as one Typesense search request.

newsearch parses the query (``query.language``) as for the embedded engine, then this module
maps the parsed tree onto what Typesense 0.24 can express: the words of ``q`` (all required, or
with Typesense's token dropping for newsearch's ORed words), phrases, exclusions, one prefix, typo
tolerance, ``query_by`` with field weights, ``filter_by`` for sources, categories, ids, paths and
date ranges, ``sort_by`` and ``facet_by``. A form it cannot express is refused with an
``UnsupportedQueryError`` naming the form, never dropped; the README's table lists them.

Nothing here talks to a server: ``translate`` is pure, so every mapping is tested without one.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from whoosh import query as wq

from search.errors import UnsupportedQueryError
from search.index.schema import FIELD_WEIGHTS
from search.remote.documents import EXACT_FIELDS, FACET_FIELDS, LABEL_FIELDS, NOT_RETURNED, TERMS_FIELDS, terms

ENGINE = "Typesense 0.24"
# Typesense's largest page.
MAX_PER_PAGE = 250
# Facet values returned per facet.
FACET_VALUES = 100
# Token dropping: with fewer hits than this for all the words, Typesense searches again with
# fewer words; the largest value stands for newsearch's ORed words.
ANY_WORDS = 1_000_000


@dataclass(frozen=True)
class EngineRequest:
    """One search for the engine, and what the results need from the query."""

    params: dict[str, Any]
    # (newsearch field, index term) pairs the query looks for: snippets and title marks.
    terms: frozenset[tuple[str, str]] = frozenset()
    # (newsearch field, prefix) pairs of a prefix word, whose terms are found per hit.
    prefixes: frozenset[tuple[str, str]] = frozenset()


@dataclass
class _Word:
    """One word or phrase of the query, over the fields it is searched in."""

    kind: str  # "term", "prefix", "fuzzy" or "phrase"
    text: str  # the index term, or a phrase's terms joined by spaces
    fields: list[str] = field(default_factory=list)
    typos: int = 0

    def written(self) -> str:
        """As ``q`` takes it."""
        return f'"{self.text}"' if self.kind == "phrase" else self.text


def refuse(form: str, why: str = "") -> UnsupportedQueryError:
    """The error for a form the engine cannot express."""
    return UnsupportedQueryError(f"{form}: {ENGINE} cannot express this{': ' + why if why else ''}; "
                                 "drop it, or search the embedded index")


class _Translation:
    """The request being built while the parsed tree is walked."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.words: list[_Word] = []
        self.excluded: list[_Word] = []
        self.filters: list[str] = []
        self.all_required = False
        self.everything = False

    # The query's shape --------------------------------------------------------------------

    def top(self, node: wq.Query) -> None:
        if isinstance(node, wq.AndNot):
            self.top(node.a)
            clauses = _or_parts(node.b)
            self.filters.extend(self.filter(clause, negate=True) for clause in clauses if _is_filter(clause))
            # One excluded word is a clause per field: gathered again into one word.
            self.excluded.extend(self.words_of([clause for clause in clauses if not _is_filter(clause)]))
        elif isinstance(node, wq.AndMaybe):
            raise refuse(f"required words beside optional ones in {self.text!r}",
                         "it requires every word or none; write AND between all words, or drop the +")
        elif isinstance(node, wq.And):
            self.all_required = True
            for part in node.subqueries:
                if _is_filter(part):
                    self.filters.append(self.filter(part))
                else:
                    self.words.extend(self.word_group(part, inside_and=True))
        elif isinstance(node, wq.Not):
            raise refuse(f"a query of exclusions only ({self.text!r})", "add words or filters to exclude from")
        elif _is_every(node):
            self.everything = True
        elif _is_filter(node):
            self.filters.append(self.filter(node))
        else:
            self.words.extend(self.word_group(node, inside_and=False))

    def word_group(self, node: wq.Query, *, inside_and: bool) -> list[_Word]:
        """The words of an ORed group of leaves (a word over several fields is several leaves)."""
        if _is_every(node):
            self.everything = True
            return []
        words = self.words_of(_or_parts(node))
        if inside_and and len(words) > 1:
            raise refuse(f"OR inside AND in {self.text!r}", "its words are all required, or all optional")
        return words

    def words_of(self, leaves: list[wq.Query]) -> list[_Word]:
        """Leaves (a word in one field each) as words, one per word over all its fields."""
        if not all(leaf.is_leaf() for leaf in leaves):
            raise refuse(f"nested groups in {self.text!r}", "it has no OR or parentheses inside a query")
        words: dict[tuple[Any, ...], _Word] = {}
        for leaf in leaves:
            word = _word_of(leaf, self.text)
            key = (word.kind, word.text, word.typos)
            kept = words.setdefault(key, word)
            if kept is not word:
                kept.fields.extend(word.fields)
        return list(words.values())

    # Filters ------------------------------------------------------------------------------

    def filter(self, node: wq.Query, negate: bool = False) -> str:
        """A filter clause as ``filter_by`` takes it."""
        if isinstance(node, wq.DateRange):
            if negate:
                raise refuse(f"an excluded date range in {self.text!r}", "write the range you want instead")
            return _date_filter(node)
        if isinstance(node, wq.And) and not negate:
            return " && ".join(self.filter(part) for part in node.subqueries)
        if isinstance(node, (wq.Or, wq.And)):
            values = [self._filter_leaf(part) for part in node.subqueries]
            names = {name for name, _value in values}
            if len(names) > 1 or isinstance(node, wq.And):
                raise refuse(f"a group of filters on several fields in {self.text!r}",
                             "its filters are each on one field")
            name = names.pop()
            listed = "[" + ",".join(value for _name, value in values) + "]"
            return f"{name}:{'!=' if negate else '='}{listed}"
        name, value = self._filter_leaf(node)
        return f"{name}:{'!=' if negate else '='}{value}"

    def _filter_leaf(self, node: wq.Query) -> tuple[str, str]:
        fieldname = node.fieldname
        if isinstance(node, wq.Phrase) and fieldname in LABEL_FIELDS:
            # A label of several pieces ("fox news"): its pieces, in the order of the label.
            return LABEL_FIELDS[fieldname], _quoted(" ".join(node.words), self.text)
        if not isinstance(node, wq.Term):
            raise refuse(f"{type(node).__name__.lower()} on {fieldname}: in {self.text!r}",
                         "it filters on whole values")
        if fieldname in LABEL_FIELDS:
            return LABEL_FIELDS[fieldname], _quoted(str(node.text), self.text)
        return EXACT_FIELDS[fieldname], _quoted(str(node.text), self.text)

    # The request --------------------------------------------------------------------------

    def narrow_words_as_filters(self) -> None:
        """In an AND every word is required, so a word searched in fields of its own
        (``fire AND tag:wildfire``) is a filter on those fields: Typesense searches all of a
        query's words in one list of fields."""
        lists = [_field_list(word) for word in self.words]
        if not self.all_required or len(set(lists)) < 2:
            return
        main = max(set(lists), key=lambda fields: (lists.count(fields), len(fields)))
        kept = []
        for word, fields in zip(self.words, lists):
            if fields == main:
                kept.append(word)
            elif word.kind == "term":
                self.filters.append("(" + " || ".join(f"{TERMS_FIELDS[name]}:{word.text}" for name in fields) + ")"
                                    if len(fields) > 1 else f"{TERMS_FIELDS[fields[0]]}:{word.text}")
            else:
                raise refuse(f"a {word.kind} in fields of its own beside other words in {self.text!r}",
                             "it searches every word of a query in the same fields")
        self.words = kept

    def request(self, sort: str, page: int, limit: int, facets: bool) -> EngineRequest:
        self.narrow_words_as_filters()
        fields = self._fields()
        kinds = {word.kind for word in self.words}
        if "fuzzy" in kinds and kinds != {"fuzzy"}:
            raise refuse(f"fuzzy words beside exact ones in {self.text!r}",
                         "its typo tolerance is for every word of a query or none")
        prefixes = [word for word in self.words if word.kind == "prefix"]
        if len(prefixes) > 1:
            raise refuse(f"more than one prefix word in {self.text!r}", "only a query's last word is a prefix")
        words = [word for word in self.words if word.kind != "prefix"] + prefixes
        typed = " ".join([word.written() for word in words] + ["-" + word.written() for word in self.excluded])
        if self.excluded and not words:
            raise refuse(f"exclusions from everything in {self.text!r}", "it excludes words only from other words' matches")
        if limit > MAX_PER_PAGE:
            raise refuse(f"a page of {limit} hits", f"its pages hold at most {MAX_PER_PAGE}")
        typos = max((word.typos for word in words), default=0)
        params: dict[str, Any] = {
            "q": typed if words else "*",
            "query_by": ",".join(TERMS_FIELDS[name] for name in fields),
            "query_by_weights": ",".join(str(_weight(name)) for name in fields),
            "prefix": ",".join(["true" if prefixes else "false"] * len(fields)),
            "num_typos": ",".join([str(typos)] * len(fields)),
            "drop_tokens_threshold": 0 if self.all_required or len(words) < 2 else ANY_WORDS,
            # With typos asked for, every spelling within them, as newsearch's fuzzy words; the
            # word lengths below which Typesense allows no typo are newsearch's (none).
            "typo_tokens_threshold": ANY_WORDS if typos else 0,
            "min_len_1typo": 1,
            "min_len_2typo": 1,
            "sort_by": _sort(sort, bool(words)),
            "page": page,
            "per_page": limit,
            "exclude_fields": NOT_RETURNED,
            "highlight_fields": "none",
        }
        if self.filters:
            params["filter_by"] = " && ".join(self.filters)
        if facets:
            params["facet_by"] = ",".join(FACET_FIELDS.values())
            params["max_facet_values"] = FACET_VALUES
        terms = frozenset((name, term) for word in words if word.kind != "prefix"
                          for name in word.fields for term in word.text.split())
        return EngineRequest(params, terms, frozenset((name, word.text) for word in prefixes for name in word.fields))

    def _fields(self) -> list[str]:
        """The fields every word is searched in: one list for the whole query, in Typesense."""
        lists = {_field_list(word) for word in self.words + self.excluded}
        if len(lists) > 1:
            raise refuse(f"words searched in different fields in {self.text!r}",
                         "it searches every word of a query in the same fields")
        return list(lists.pop()) if lists else list(TERMS_FIELDS)


def translate(query: wq.Query, restriction: wq.Query | None, text: str, *, sort: str = "relevance",
              page: int = 1, limit: int = 10, facets: bool = False) -> EngineRequest:
    """The Typesense request for a parsed ``query`` (``query.language.parse_both``), ANDed with
    the date ``restriction`` of ``--since``/``--until``; ``UnsupportedQueryError`` for a form
    Typesense cannot express."""
    translation = _Translation(text)
    translation.top(query)
    if restriction is not None:
        translation.filters.append(translation.filter(restriction))
    return translation.request(sort, page, limit, facets)


def _word_of(leaf: wq.Query, text: str) -> _Word:
    """One leaf (a word in one field) as a ``_Word``; its boost must be the field's own."""
    name = getattr(leaf, "fieldname", None)
    if name not in TERMS_FIELDS:
        raise refuse(f"{type(leaf).__name__.lower()} on {name}: in {text!r}")
    if leaf.boost not in (1.0, FIELD_WEIGHTS.get(name, 1.0)):
        raise refuse(f"a word's weight (word^N) in {text!r}", "its weights are per field, not per word")
    if isinstance(leaf, wq.Phrase):
        if leaf.slop > 1:
            raise refuse(f'a phrase with slop ("..."~N) in {text!r}', "its phrases are exact")
        return _Word("phrase", " ".join(leaf.words), [name])
    if isinstance(leaf, wq.FuzzyTerm):
        if leaf.prefixlength:
            raise refuse(f"a fuzzy word with a fixed prefix in {text!r}")
        # The engine holds stems, not newsearch's unstemmed spelling lists: the typed word's
        # stem is what its typos are counted from ("vacine" -> "vacin", one from "vaccin").
        stem = terms(str(leaf.text)) or str(leaf.text)
        return _Word("fuzzy", stem.split()[0], [name], typos=min(int(leaf.maxdist), 2))
    if isinstance(leaf, wq.Prefix):
        return _Word("prefix", str(leaf.text), [name])
    if isinstance(leaf, wq.Term):
        return _Word("term", str(leaf.text), [name])
    if isinstance(leaf, (wq.Wildcard, wq.Regex)):
        raise refuse(f"a wildcard inside or before a word in {text!r}", "it matches whole words and prefixes only")
    if isinstance(leaf, (wq.TermRange, wq.NumericRange)):
        raise refuse(f"a range of words in {text!r}")
    raise refuse(f"{type(leaf).__name__} in {text!r}")


def _field_list(word: _Word) -> tuple[str, ...]:
    """The fields a word is searched in, in the schema's order."""
    return tuple(sorted(set(word.fields), key=list(TERMS_FIELDS).index))


def _or_parts(node: wq.Query) -> list[wq.Query]:
    """The clauses of an OR (nested ORs flattened), or the node itself."""
    if isinstance(node, wq.Or):
        return [part for child in node.subqueries for part in _or_parts(child)]
    return [node]


def _is_every(node: wq.Query) -> bool:
    return isinstance(node, wq.Every) or isinstance(node, wq.Or) and all(_is_every(p) for p in node.subqueries)


def _is_filter(node: wq.Query) -> bool:
    leaves = [node] if node.is_leaf() else list(node.leaves())
    return bool(leaves) and all(getattr(leaf, "fieldname", None) in (*LABEL_FIELDS, *EXACT_FIELDS, "date")
                                for leaf in leaves)


def _quoted(value: str, text: str) -> str:
    """A filter value in backticks, so commas and spaces in it stay part of it."""
    if "`" in value:
        raise refuse(f"a filter value with a backtick in {text!r}")
    return f"`{value}`"


def _seconds(moment: datetime) -> int:
    """A naive UTC datetime (as ``query.dates`` makes them) as Unix seconds."""
    return calendar.timegm(moment.utctimetuple())


def _date_filter(node: wq.DateRange) -> str:
    parts = []
    if node.startdate is not None:
        parts.append(f"date:{'>' if node.startexcl else '>='}{_seconds(node.startdate)}")
    if node.enddate is not None:
        parts.append(f"date:{'<' if node.endexcl else '<='}{_seconds(node.enddate)}")
    return " && ".join(parts) or "date:>=-9223372036854775807"


def _weight(name: str) -> int:
    """A field's BM25F weight as Typesense's whole-number ``query_by_weights``."""
    return max(1, round(FIELD_WEIGHTS.get(name, 1.0) * 2))


def _sort(sort: str, scored: bool) -> str:
    if sort == "newest":
        return "date:desc,_text_match:desc" if scored else "date:desc"
    if sort == "oldest":
        return "date:asc,_text_match:desc" if scored else "date:asc"
    return "_text_match:desc,date:desc"
