"""Related articles: what Whoosh's more-like-this expansion model needs of an index, answered from
the engine (term statistics from newsearch's columns, stored text and field lengths from the
searcher), so that ``Index.related`` is scored by the same engine as every search.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from whoosh.classify import Expander

from search.analysis.text import is_stop_word

if TYPE_CHECKING:
    from search.engine.evaluator import Evaluator


class ExpansionReader:
    """What Whoosh's ``Expander`` asks of an index reader, answered from the engine's columns
    (term statistics) and the searcher (stored text, field lengths)."""

    def __init__(self, evaluator: Evaluator) -> None:
        self._evaluator = evaluator
        self.schema = evaluator.searcher.schema

    def doc_count_all(self) -> int:
        return int(self._evaluator.stats.doc_count)

    def field_length(self, field: str) -> int:
        return int(self._evaluator.searcher.reader().field_length(field))

    def has_vector(self, _docnum: int, _field: str) -> bool:
        return False

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        return dict(self._evaluator.searcher.stored_fields(docnum))

    def __contains__(self, term: tuple[str, bytes]) -> bool:
        return self._evaluator.stats.doc_frequency(*term) > 0

    def frequency(self, field: str, text: bytes) -> float:
        return self._evaluator.stats.frequency(field, text)


class ContentExpander(Expander):  # type: ignore[misc]
    """Whoosh's ``Expander`` over an article's words but its stop words: they are indexed (for
    phrases and queries of stop words only) but say nothing of what an article is about, and
    the field lengths the model divides by leave them out too."""

    def add(self, vector: Iterable[tuple[str, float]]) -> None:
        super().add((word, weight) for word, weight in vector if not is_stop_word(word))
