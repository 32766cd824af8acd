"""Snippets: the best fragments of a matching article, with the matched terms located.

Parts:
- ``make_snippets``: up to N fragments of the body (or the description when the body has no
  match), each starting and ending at a word boundary, with "…" where the text was cut.
- ``title_spans``: where the query's terms occur in the title.
- ``lead_snippet``: the opening of an article, for hits that matched only on metadata.

Fragments are cut as Whoosh's ``ContextFragmenter`` cuts them (for prose fields its steps run
here, only from each match: ``_prose_fragments``) and scored by Whoosh; this module turns them
into ``results.Snippet`` records with offsets, so each interface decides how to show a match
(bold, <mark>, or plain).
"""
from __future__ import annotations

import re
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

from search.analysis.text import ProseAnalyzer
from search.present.results import Snippet, Span

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
    """The fragments Whoosh's ``ContextFragmenter`` cuts from ``text``, found without its walk.

    Whoosh analyses the whole text through a chain of generators and hands every word to the
    fragmenter; a page of hits spent a third of a query's time there. The fragmenter only acts
    at matched words and inside fragments, so this finds the words and their offsets with the
    tokenizer's pattern (in C), decides which written forms match once per distinct word, and
    runs the fragmenter's own steps from each match on (the tests compare the two).
    """
    pattern = analyzer.word_expression
    tokens = pattern.findall(text)
    hits = analyzer.words_matching(set(tokens), words)
    if not hits:
        return []
    last = len(tokens) - 1
    while tokens[last] not in hits:
        last -= 1
    # A fragment closes within FRAGMENT_CHARS letters (a word has one at least) of its first
    # match, which is at or before the last one, then at most one word more is read (when
    # its countdown ends at exactly 0): no word further on is ever looked at.
    spans = _spans(text, tokens[:last + FRAGMENT_CHARS + 3])
    end = len(spans)  # the fragmenter stops at the first word ending past CHAR_LIMIT
    if spans and spans[-1][1] > CHAR_LIMIT:
        end = next(index for index, (_start, stop) in enumerate(spans) if stop > CHAR_LIMIT)
    fragments: list[Fragment] = []
    done = -1  # the last word the fragmenter has gone through
    for index, word in enumerate(tokens[:end]):
        if index > done and word in hits:
            done = _fragment_from(text, tokens, spans, hits, index, _front(spans, done, index), end, fragments)
    return fragments


def _spans(text: str, tokens: list[str]) -> list[tuple[int, int]]:
    """The (start, end) offsets of the pattern's matches ``tokens`` in ``text``.

    A word starts with a word character and the text between two matches holds none, so each
    word's first occurrence after the previous one's end is where the pattern found it (a
    search in C is cheaper than a match object per word).
    """
    spans = []
    end = 0
    find = text.find
    for token in tokens:
        start = find(token, end)
        end = start + len(token)
        spans.append((start, end))
    return spans


def _front(spans: list[tuple[int, int]], done: int, index: int) -> int | None:
    """Where the context before the match at ``index`` starts: the fragmenter's queue of the
    words since the last fragment that began within CONTEXT_CHARS of the previous word's end."""
    if index - 1 <= done:
        return None
    bound = spans[index - 1][1] - CONTEXT_CHARS
    earliest = index
    while earliest - 1 > done and spans[earliest - 1][0] >= bound:
        earliest -= 1
    return spans[earliest][0] if earliest < index else None


def _fragment_from(text: str, tokens: list[str], spans: list[tuple[int, int]], hits: dict[str, str],
                   index: int, front: int | None, end: int, fragments: list[Fragment]) -> int:
    """Run the fragmenter from the match at ``index`` until it is outside a fragment again;
    append what it cuts and return the index of the last word it read."""
    first: int | None = None
    countdown = -1  # >= 0 inside a fragment: characters left before it ends
    matches: list[_Match] = []
    length = 0
    for position in range(index, end):
        startchar, endchar = spans[position]
        term = hits.get(tokens[position])
        if countdown < 0 and term is None:
            return position - 1
        size = endchar - startchar
        if length + size > FRAGMENT_CHARS:
            countdown = 0
        elif term is not None:
            countdown = CONTEXT_CHARS
            if first is None:
                if front is not None:
                    first = front
                else:
                    first = startchar
                    countdown += CONTEXT_CHARS
            matches.append(_Match(term, startchar, endchar))
        length += size
        countdown -= size
        if countdown <= 0:
            if matches:  # Whoosh also cuts empty fragments; they score 0 and are never shown
                fragments.append(_fragment(text, matches, first, endchar))
            matches, first, front, length = [], None, None, 0
            if countdown < 0:
                return position
            # At exactly 0, Whoosh's fragmenter reads the next word as inside a fragment.
    if matches:  # the text (or the fragmenter's reach) ended inside the fragment
        fragments.append(_fragment(text, matches, first, spans[min(end, len(spans) - 1)][1]))
    return end


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
    return word_spans(title, words, hit.searcher.schema["title"].analyzer)


def word_spans(text: str, words: frozenset[str], analyzer: Any) -> tuple[Span, ...]:
    """Offsets of the words of ``text`` whose index terms are among ``words``."""
    if isinstance(analyzer, ProseAnalyzer):  # the tokenizer's pattern, no Token per word
        tokens = analyzer.word_expression.findall(text)
        found = analyzer.words_matching(set(tokens), words)
        return tuple(span for token, span in zip(tokens, _spans(text, tokens)) if token in found)
    return tuple((token.startchar, token.endchar)
                 for token in analyzer(text, chars=True, mode="query", removestops=False)
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
