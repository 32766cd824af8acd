"""Expansion: the words of a segment's field that a prefix (``export*``), a wildcard (``w?eat``,
``s*e*``) or a term range stands for, looked up in the field's sorted term table.

The query language caps how many words an expansion may reach (``query.limits``); the engine
checks the cap again on what it finds (``Evaluator._expanded``).
"""
from __future__ import annotations

import fnmatch
import re
from itertools import islice
from typing import Any

from whoosh import query as wq

from search.engine.columns import FieldColumns
from search.errors import QueryError
from search.query import limits

# A wildcard's walk over the term table checks the deadline once per this many terms.
_TERMS_PER_CHECK = 512


def expansion(node: wq.MultiTerm, postings: FieldColumns, cap: int | None = None,
              deadline: limits.Deadline = limits.NO_DEADLINE) -> list[int]:
    """The numbers of the field's terms a prefix, wildcard or term range stands for (the first
    ``cap`` of them when given). A wildcard tests every term after its literal start (``c*n``
    every word in c), checking ``deadline`` as it goes; a prefix and a range are two binary
    searches."""
    terms = postings.terms
    found: Any
    if isinstance(node, wq.Prefix):
        found = terms.prefixed(node.text.encode("utf-8"))
    elif isinstance(node, wq.Wildcard):
        text = node.text
        cut = min([at for at in (text.find("*"), text.find("?")) if at >= 0], default=len(text))
        pattern = re.compile(fnmatch.translate(text).encode("utf-8"), re.DOTALL)
        found = (number for number in terms.matching(pattern, text[:cut].encode("utf-8"),
                                                     lambda: deadline.check(), _TERMS_PER_CHECK)
                 if _decodes(terms[number]))
    elif isinstance(node, wq.TermRange):
        low = None if node.start is None else node.start.encode("utf-8")
        high = None if node.end is None else node.end.encode("utf-8")
        found = terms.between(low, high, node.startexcl, node.endexcl)
    else:
        found = None
    if found is not None:
        return list(found if cap is None else islice(found, cap))
    raise QueryError(f"cannot evaluate this part of the query: {node!r:.80}")


def _decodes(text: bytes) -> bool:
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
