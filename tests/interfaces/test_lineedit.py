"""Line editing: where the history lives and how the editor sets it up."""
from __future__ import annotations

from pathlib import Path

import pytest

from search.interfaces import lineedit
from search.interfaces import repl


def test_history_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NEWSEARCH_HISTORY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")
    assert lineedit.history_path() == tmp_path / ".local" / "state" / "newsearch" / "history"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    assert lineedit.history_path() == tmp_path / "st" / "newsearch" / "history"
    monkeypatch.setenv("NEWSEARCH_HISTORY", str(tmp_path / "h"))
    assert lineedit.history_path() == tmp_path / "h"


def test_line_editor_creates_the_history_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "newsearch" / "history"
    lineedit.LineEditor(path, repl.completions)
    assert path.is_file() and path.stat().st_mode & 0o777 == 0o600


def test_the_editor_asks_its_completer_and_hands_readline_one_option_at_a_time(tmp_path: Path) -> None:
    asked: list[tuple[str, int, str]] = []

    def complete(line: str, begin: int, text: str) -> list[str]:
        asked.append((line, begin, text))
        return [text + "a", text + "b"]

    editor = lineedit.LineEditor(tmp_path / "history", complete)
    assert [editor.complete("ti", state) for state in range(3)] == ["tia", "tib", None]
    assert len(asked) == 1 and asked[0][2] == "ti"


def test_remember_skips_blanks_and_repeats_and_appends_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "history"
    editor = lineedit.LineEditor(path, repl.completions)
    for line in ("flood", "flood", "  ", "levee"):
        editor.remember(line)
    assert path.read_text().split() == ["flood", "levee"]
