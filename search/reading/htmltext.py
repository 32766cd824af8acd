"""Untrusted markup to clean reader text: what an article's body and fields become.

- :func:`html_to_text`: an HTML (or plain text) body to paragraphs separated by blank lines;
  scripts, styles and the aggregator's promotional one-link paragraphs dropped.
- :func:`clean_inline`: a one-line field such as a title.
- :func:`plain` and :func:`strip_controls`: technical fields (links, slugs), no repair;
  :func:`strip_escapes`: front matter before YAML reads it.

Everything passes the same cleaning: terminal escape sequences and control characters go,
and mojibake is repaired with ftfy.
"""
from __future__ import annotations

import html as html_entities
import re
import threading
from collections.abc import Iterable
from typing import Any

import ftfy
from bs4 import BeautifulSoup
from bs4.builder._lxml import LXMLTreeBuilder
from bs4.element import NavigableString, PageElement, PreformattedString, Tag

__all__ = ["html_to_text", "clean_inline", "plain", "strip_controls", "strip_escapes"]

_DROPPED = frozenset({"script", "style", "iframe", "noscript", "template", "svg", "head"})
_BLOCKS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr",
    "section", "article", "header", "footer", "figure", "figcaption", "table", "ul", "ol",
    "dl", "dt", "dd", "main", "nav", "aside", "address", "caption", "details", "summary",
    "hr", "body"})
_SPACERS = frozenset({"br", "td", "th", "img"})  # words on either side must not run together
_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")
_BLANK_LINES = re.compile(r"\n[^\S\n]*\n\s*")
_TERMINAL = (r"\x1b(?:\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing the screen
             r"|[\]PX^_][^\x07\x1b\n]*(?:\x07|\x1b\\)?"  # OSC and others: window titles...
             r"|[ -/]*[0-~])")  # the short escapes
# Before ftfy C1 characters stay: they are usually mojibake that ftfy repairs.
_ESCAPES_AND_C0 = re.compile(_TERMINAL + r"|[\x00-\x08\x0e-\x1b\x7f]")
# Bidirectional controls too: they reorder what a terminal or page shows (a title could show a
# link or a file name backwards, issue 23 item 7).
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff" + BIDI_CONTROLS + "]")
_FTFY_CONFIG = ftfy.TextFixerConfig(  # repair only: leave quotes, widths, ligatures alone
    unescape_html=False, uncurl_quotes=False, fix_character_width=False,
    fix_latin_ligatures=False, explain=False)


def html_to_text(html: str) -> str:
    """Extract readable plain text from an article body, HTML or plain text.

    Paragraphs are separated by one blank line; scripts, styles and the aggregator's
    promotional one-link paragraphs are dropped; mojibake and control characters are fixed.
    """
    html = _ESCAPES_AND_C0.sub("", html)
    if not _TAG.search(html):
        return _repair(_BLANK_LINES.split(html_entities.unescape(html.strip())))
    if html.startswith("<?xml"):  # bs4 warns about XML when the markup starts so
        html = " " + html
    try:
        return _repair(_paragraphs(BeautifulSoup(html, builder=_builder())))
    except RecursionError:
        return html_to_text(_TAG.sub(" ", html))


class _ReusingLXMLBuilder(LXMLTreeBuilder):
    """bs4's "lxml" HTML builder, kept with its lxml parser from one document to the next.

    ``BeautifulSoup(html, "lxml")`` makes a builder and an lxml parser for every document, and
    lxml inspects the builder's ``start`` method (``inspect.getfullargspec``) whenever it gets a
    new target: about a tenth of bs4's time on a Reuters article. A closed lxml feed parser
    starts afresh on its next document, so reusing it builds the same tree.
    """

    def __init__(self) -> None:
        super().__init__()
        self._parsers: dict[Any, Any] = {}

    def parser_for(self, encoding: Any) -> Any:
        parser = self._parsers.get(encoding)
        if parser is None:
            parser = self._parsers[encoding] = super().parser_for(encoding)
        return parser

    def feed(self, markup: Any) -> None:
        # What __init__ sets up, for a fresh document (HTML brings no namespaces, but be sure).
        self.nsmaps = [self.DEFAULT_NSMAPS_INVERTED]
        self.active_namespace_prefixes = [dict(self.DEFAULT_NSMAPS)]
        try:
            super().feed(markup)
        except BaseException:
            self._parsers.clear()  # a parser stopped half-way is not trusted with another page
            raise


_BUILDERS = threading.local()  # a builder serves one document at a time: one per thread


def _builder() -> _ReusingLXMLBuilder:
    """This thread's reusable bs4 builder."""
    builder: _ReusingLXMLBuilder | None = getattr(_BUILDERS, "builder", None)
    if builder is None:
        builder = _BUILDERS.builder = _ReusingLXMLBuilder()
    return builder


def clean_inline(text: str) -> str:
    """Repair a one-line field such as a title: escapes, mojibake, controls, whitespace."""
    return " ".join(_repair([_ESCAPES_AND_C0.sub("", text)]).split())


def strip_escapes(text: str) -> str:
    """Remove terminal escape sequences and C0 controls, keeping C1 characters for ftfy's repair."""
    return _ESCAPES_AND_C0.sub("", text)


def strip_controls(text: str) -> str:
    """Remove terminal escape sequences and control characters, without ftfy's repairs."""
    return _CONTROLS.sub("", _ESCAPES_AND_C0.sub("", text))


def plain(text: str) -> str:
    """Strip control characters and extra whitespace from a short technical field."""
    return " ".join(strip_controls(text).split())


def _repair(paragraphs: Iterable[str]) -> str:
    """Fix mojibake and control characters in paragraphs and join them with blank lines."""
    lines: list[str] = []
    for paragraph in paragraphs:
        text = " ".join(paragraph.split())
        if not text.isascii():  # mojibake needs non-ASCII; ftfy is the slowest step here
            text = ftfy.fix_text(text, _FTFY_CONFIG)
        # ftfy may turn a fixed character into a line break: keep paragraphs one line each.
        lines.extend(" ".join(_CONTROLS.sub("", line).split()) for line in text.split("\n"))
    return "\n\n".join(line for line in lines if line)


def _paragraphs(soup: BeautifulSoup) -> list[str]:
    """Walk the tree into paragraphs without recursion: pages may nest 100,000 deep."""
    paragraphs: list[str] = []
    pieces: list[str] = []
    stack: list[PageElement | None] = [soup]  # None marks the end of a block
    while stack:
        node = stack.pop()
        if isinstance(node, Tag):
            if node.name in _DROPPED or node.name == "p" and _is_promotion(node):
                continue
            if node.name in _BLOCKS:
                _end_paragraph(pieces, paragraphs)
                stack.append(None)
            elif node.name in _SPACERS:
                pieces.append(" ")
            stack.extend(reversed(node.contents))
        elif node is None:
            _end_paragraph(pieces, paragraphs)
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            pieces.append(node)  # comments, doctypes and the like are not text
    _end_paragraph(pieces, paragraphs)
    return paragraphs


def _end_paragraph(pieces: list[str], paragraphs: list[str]) -> None:
    """Move the text gathered so far into a new paragraph."""
    if pieces:
        paragraphs.append("".join(pieces))
        pieces.clear()


def _is_promotion(paragraph: Tag) -> bool:
    """Tell whether a <p> is only one link: the aggregator's "related story" lines."""
    if any(type(child) is NavigableString and not child.isspace() for child in paragraph):
        return False  # the common case, decided without searching the subtree
    links = paragraph.find_all("a", limit=2)
    return len(links) == 1 and paragraph.get_text().split() == links[0].get_text().split()
