"""Snippets: the best fragments of a matching article, with the matched terms located.

Parts:
- ``make_snippets``: up to N fragments of the body (or the description when the body has no
  match), each starting and ending at a word boundary, with "…" where the text was cut.
- ``title_spans``: where the query's terms occur in the title.
- ``lead_snippet``: the opening of an article, for hits that matched only on metadata.

Whoosh finds and scores the fragments; this module turns them into ``results.Snippet`` records
with offsets, so each interface decides how to show a match (bold, <mark>, or plain).
"""
from __future__ import annotations

import re
from collections import deque
from typing import Any, NamedTuple

from whoosh.highlight import (
    DEFAULT_CHARLIMIT,
    FIRST,
    BasicFragmentScorer,
    ContextFragmenter,
    Fragment,
    highlight,
    top_fragments,
)

from .analysis import ProseAnalyzer
from .results import Snippet, Span

FRAGMENT_CHARS = 220
CONTEXT_CHARS = 60
ELLIPSIS = "…"
CHAR_LIMIT = DEFAULT_CHARLIMIT  # Whoosh's fragmenter reads no further into a text

_SPACES = re.compile(r"\s+")


def matched_words(hit: Any, field: str) -> frozenset[str]:
    """The index terms of ``field`` that matched the query in this hit (expanded prefixes too)."""
    words = set()
    for name, term in hit.matched_terms():
        if name == field:
            words.add(term.decode("utf-8") if isinstance(term, bytes) else term)
    return frozenset(words)


def _locate(text: str, words: frozenset[str], analyzer: Any, top: int) -> list[Any]:
    if not words or not text:
        return []
    if isinstance(analyzer, ProseAnalyzer):
        fragments = _prose_fragments(text, words, analyzer)
        return list(top_fragments(fragments, top, BasicFragmentScorer(), FIRST))
    fragmenter = ContextFragmenter(maxchars=FRAGMENT_CHARS, surround=CONTEXT_CHARS)
    return list(highlight(text, words, analyzer, fragmenter, lambda _text, fragments: fragments,
                          top=top, scorer=BasicFragmentScorer()))


class _Match(NamedTuple):
    """A matched word of a fragment: what Whoosh's fragment scorer and ``_fragment_snippet`` read."""
    text: str
    startchar: int
    endchar: int
    boost: float = 1.0


def _prose_fragments(text: str, words: frozenset[str], analyzer: ProseAnalyzer) -> list[Fragment]:
    """The fragments Whoosh's ``ContextFragmenter`` cuts from ``text``, found in one loop.

    Whoosh analyses the text through a chain of generators and hands every token to the
    fragmenter; a page of hits spent a third of a query's time there. This is the same
    algorithm (the tests compare the two) over the tokenizer's matches, each distinct word
    analysed once.
    """
    maxchars, surround = FRAGMENT_CHARS, CONTEXT_CHARS
    word_term = analyzer.word_term
    # Which written forms match, decided once per distinct word of the text.
    hits = {word: term for word in set(analyzer.word_expression.findall(text))
            if (term := word_term(word)) in words}
    fragments: list[Fragment] = []
    first: int | None = None
    firsts: deque[int] = deque()  # start offsets of the words before a match: its front context
    countdown = -1  # >= 0 while inside a fragment: characters left before it ends
    matches: list[_Match] = []
    length = 0
    endchar = 0
    for found in analyzer.word_expression.finditer(text):
        startchar, endchar = found.span()
        if endchar > CHAR_LIMIT:
            break
        term = hits.get(found.group())
        matched = term is not None
        size = endchar - startchar
        if countdown < 0 and not matched:
            firsts.append(startchar)
            while firsts and endchar - firsts[0] > surround:
                firsts.popleft()
        elif length + size > maxchars:
            countdown = 0
        elif matched:
            countdown = surround
            if first is None:
                if firsts:
                    first = firsts[0]
                else:
                    first = startchar
                    countdown += surround
            matches.append(_Match(str(term), startchar, endchar))
        if countdown >= 0:
            length += size
            countdown -= size
            if countdown <= 0:
                fragments.append(_fragment(text, matches, first, endchar))
                matches, firsts, first, length = [], deque(), None, 0
    if matches:
        fragments.append(_fragment(text, matches, first, endchar))
    return fragments


def _fragment(text: str, matches: list[_Match], first: int | None, endchar: int) -> Fragment:
    start = first if first is not None else (matches[0].startchar if matches else 0)
    return Fragment(text, matches, max(0, start), min(len(text), endchar))


def make_snippets(hit: Any, stored: dict[str, Any], count: int) -> tuple[Snippet, ...]:
    """Up to ``count`` fragments showing where the query matched the body or description."""
    if count <= 0:
        return ()
    schema = hit.searcher.schema
    for field in ("body", "description"):
        text = stored.get(field) or ""
        fragments = _locate(text, matched_words(hit, field), schema[field].analyzer, count)
        if fragments:
            return tuple(_fragment_snippet(field, text, fragment) for fragment in fragments)
    return lead_snippet(stored)


def title_spans(hit: Any, title: str) -> tuple[Span, ...]:
    """Offsets of the query's terms in the title (empty when the title did not match)."""
    words = matched_words(hit, "title")
    if not words or not title:
        return ()
    analyzer = hit.searcher.schema["title"].analyzer
    return tuple((token.startchar, token.endchar)
                 for token in analyzer(title, chars=True, mode="query", removestops=False)
                 if token.text in words)


def lead_snippet(stored: dict[str, Any]) -> tuple[Snippet, ...]:
    """The opening words of the description or body, for a hit whose match is elsewhere."""
    for field in ("description", "body"):
        text = stored.get(field) or ""
        if text:
            end = _word_end(text, FRAGMENT_CHARS)
            piece = _SPACES.sub(" ", text[:end]).strip()
            return (Snippet(field, piece + (ELLIPSIS if end < len(text) else "")),)
    return ()


def _word_end(text: str, limit: int) -> int:
    if len(text) <= limit:
        return len(text)
    cut = text.rfind(" ", 0, limit)
    return cut if cut > limit // 2 else limit


def _fragment_snippet(field: str, text: str, fragment: Any) -> Snippet:
    """Copy a Whoosh fragment into a Snippet, collapsing whitespace while keeping offsets true."""
    pieces: list[str] = [ELLIPSIS] if fragment.startchar > 0 else []
    length = len(pieces[0]) if pieces else 0
    spans: list[Span] = []
    position = fragment.startchar
    for match in sorted(fragment.matches, key=lambda token: token.startchar):
        if match.startchar < position:
            continue
        between = _SPACES.sub(" ", text[position:match.startchar])
        word = text[match.startchar:match.endchar]
        pieces += [between, word]
        length += len(between)
        spans.append((length, length + len(word)))
        length += len(word)
        position = match.endchar
    end = _through_punctuation(text, fragment.endchar)
    pieces.append(_SPACES.sub(" ", text[position:end]))
    if end < len(text):
        pieces.append(ELLIPSIS)
    return Snippet(field, "".join(pieces), tuple(spans))


def _through_punctuation(text: str, end: int) -> int:
    """Extend a fragment's end over punctuation that closes its last word ('year.' not 'year')."""
    while end < len(text) and not text[end].isspace() and not text[end].isalnum():
        end += 1
    return end
