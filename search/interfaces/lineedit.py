"""Line editing for the prompt: readline with a history file and tab completion.

- ``history_path()``: where the history is kept ($NEWSEARCH_HISTORY, or the XDG state directory).
- ``LineEditor(path, completions)``: loads that history, appends each new line to it, and asks
  ``completions(line, begin, text)`` what the word under the cursor may become.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from search.present import display

if TYPE_CHECKING:
    from types import ModuleType

HISTORY_LENGTH = 1000

# What the word ``text``, starting at ``begin`` in ``line``, may complete to.
Completer = Callable[[str, int, str], list[str]]


def warn(message: str) -> None:
    """A problem with the history file: one line on stderr; the prompt goes on without it."""
    click.echo(display.error_line(message), err=True)


def history_path() -> Path:
    """$NEWSEARCH_HISTORY, else $XDG_STATE_HOME/newsearch/history (~/.local/state by default)."""
    override = os.environ.get("NEWSEARCH_HISTORY")
    if override:
        return Path(override).expanduser()
    state = os.environ.get("XDG_STATE_HOME", "")
    base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "newsearch" / "history"


class LineEditor:
    """Readline for the prompt: history loaded from and appended to a file, tab completion."""

    def __init__(self, path: Path, completions: Completer) -> None:
        import readline  # only on a terminal: importing it can write escape codes to stdout
        self.readline: ModuleType = readline
        self.path: Path | None = path
        self.last = ""  # the line added last, so a repeat is not added again
        self.completions = completions
        self._options: list[str] = []
        readline.set_history_length(HISTORY_LENGTH)
        readline.set_auto_history(False)  # remember() adds lines, so blanks and repeats stay out
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)  # append_history_file needs the file; queries are private
            readline.read_history_file(path)
            self.last = (path.read_text(errors="replace").splitlines() or [""])[-1]
        except OSError as problem:
            warn(f"history not loaded from {path} ({problem.strerror}); this session's is not kept")
            self.path = None
        readline.set_completer_delims(" \t\n\"'()+-")
        readline.set_completer(self.complete)
        binding = "bind ^I rl_complete" if "libedit" in (readline.__doc__ or "") else "tab: complete"
        readline.parse_and_bind(binding)

    def complete(self, text: str, state: int) -> str | None:
        """The readline completer: the ``state``-th completion of ``text``."""
        if state == 0:
            readline = self.readline
            self._options = self.completions(readline.get_line_buffer(), readline.get_begidx(), text)
        return self._options[state] if state < len(self._options) else None

    def remember(self, line: str) -> None:
        """Add a line to the history and its file, unless it is blank or repeats the one before."""
        if not line.strip() or line == self.last:
            return
        self.last = line
        self.readline.add_history(line)
        if self.path is not None:
            try:
                self.readline.append_history_file(1, self.path)
            except OSError as problem:
                warn(f"history not saved to {self.path} ({problem.strerror})")
                self.path = None


__all__ = ["history_path", "LineEditor", "Completer", "HISTORY_LENGTH"]
