"""Display: wrapping that keeps highlight offsets, colour decisions and escaping."""
from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest

from search.present.display import clean, format_hit, format_stats, want_color, wrap_ranges
from search.api import IndexStats
from search.present.results import Hit, Snippet


def test_wrap_ranges_cover_every_word_within_the_width() -> None:
    text = "alpha beta gamma  delta epsilon zeta eta theta"
    ranges = wrap_ranges(text, 12)
    assert all(end - start <= 12 for start, end in ranges)
    assert " ".join(text[a:b] for a, b in ranges).split() == text.split()


def test_a_word_longer_than_the_width_gets_its_own_line() -> None:
    assert wrap_ranges("a " + "x" * 30 + " b", 10) == [(0, 1), (2, 32), (33, 34)]


def test_highlights_survive_wrapping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("search.present.display.text_width", lambda: 45)
    text = "the levee broke and the levee was rebuilt after the levee inquiry"
    spans = tuple((i, i + 5) for i in range(len(text)) if text.startswith("levee", i))
    hit = Hit(id="x", title="T", date=None, source="", categories=(), tags=(), link="", path="p.md",
              score=1.0, rank=1, snippets=(Snippet("body", text, spans),))
    shown = format_hit(hit, color=True)
    assert shown.count("\x1b[1;31mlevee\x1b[0m") == 3
    assert len(format_hit(hit, color=False).splitlines()) > 4  # wrapped


@pytest.mark.parametrize("raw, expected", [
    ("a\x1b]0;evil title\x07b", "ab"),
    ("a\x1b[2Jb", "ab"),
    ("a\x9b31mb", "ab"),
    ("tab\tand\nnewline", "tab and newline"),
    ("nul\x00x", "nul x"),
])
def test_clean_strips_controls_and_escapes(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_colour_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert want_color("auto", Tty()) and not want_color("auto", io.StringIO())
    assert want_color("always", io.StringIO()) and not want_color("never", Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not want_color("auto", Tty())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not want_color("auto", Tty())


@pytest.mark.parametrize(("articles", "sources", "dated", "line"), [
    (1, 1, False, "1 article from 1 source, no dates (index ix)"),
    (21578, 0, True, "21,578 articles from 0 sources, 2026-01-02 to 2026-03-04 (index ix)"),
])
def test_stats_line_counts_in_words(articles: int, sources: int, dated: bool, line: str) -> None:
    first, last = (datetime(2026, 1, 2, tzinfo=timezone.utc), datetime(2026, 3, 4, tzinfo=timezone.utc)) if dated \
        else (None, None)
    stats = IndexStats("ix", "corpus", articles, first, last, sources, "gen-0001", datetime.now(timezone.utc))
    assert format_stats(stats) == line

