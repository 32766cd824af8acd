"""Watching a corpus: file events wake the indexer, not a timer; polling where there are none."""
from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import search
from search.index.watching import corpus_changes, is_article_change, start_watching
from tests.conftest import article_text


@pytest.mark.parametrize("path, counts", [
    ("/c/story.md", True), ("/c/story.markdown", True), ("/c/story.txt", True), ("/c/2026/01", True),
    ("/c/story.md.part", False), ("/c/.story.md", False), ("/c/notes.json", False),
])
def test_which_changes_can_be_articles(path: str, counts: bool) -> None:
    assert is_article_change(path) is counts


def test_changes_inside_the_ignored_index_never_count() -> None:
    assert not is_article_change("/c/index/CURRENT", Path("/c/index"))
    assert is_article_change("/c/indexes.md", Path("/c/index"))


def collect(corpus: Path, **options: object) -> tuple[list[str], threading.Event, threading.Thread]:
    """Run ``corpus_changes`` in a thread; what it yields lands in the list."""
    seen: list[str] = []
    stop = threading.Event()

    def run() -> None:
        for how in corpus_changes(corpus, should_stop=stop.is_set, **options):  # type: ignore[arg-type]
            seen.append(how)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)  # the watch is set up
    return seen, stop, thread


def wait_for(condition: object, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_an_event_comes_for_a_new_article_long_before_the_interval(tmp_path: Path) -> None:
    seen, stop, thread = collect(tmp_path, interval=600.0)
    try:
        (tmp_path / "notes.json").write_text("{}")
        (tmp_path / "draft.md.part").write_text("x")
        time.sleep(1.0)
        assert seen == ["started"]  # neither can be an article
        (tmp_path / "new.md").write_text(article_text("New"))
        assert wait_for(lambda: seen == ["started", "events"])
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_burst_of_files_is_one_batch(tmp_path: Path) -> None:
    seen, stop, thread = collect(tmp_path, interval=600.0)
    try:
        for number in range(50):
            (tmp_path / f"story-{number}.md").write_text(article_text(f"Story {number}"))
        assert wait_for(lambda: bool(seen))
        time.sleep(1.5)
        assert len(seen) <= 3  # started, then at most BATCH_MS split it once
    finally:
        stop.set()
        thread.join(timeout=10)


def test_without_watchfiles_it_polls_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "watchfiles", None)  # as if it were not installed
    reasons: list[str] = []
    seen, stop, thread = collect(tmp_path, interval=0.2, on_fallback=reasons.append)
    try:
        assert wait_for(lambda: len(seen) >= 2)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert seen[0] == "started" and set(seen[1:]) == {"poll"}
    assert reasons and "watchfiles" in reasons[0]


def test_poll_asks_for_polling(tmp_path: Path) -> None:
    seen, stop, thread = collect(tmp_path, interval=0.2, events=False)
    try:
        assert wait_for(lambda: len(seen) >= 3)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert seen[0] == "started" and set(seen[1:]) == {"poll"}


def test_a_file_written_once_watching_started_is_the_next_change(tmp_path: Path) -> None:
    # The caller updates after start_watching returns; what lands meanwhile must not be lost.
    deadline = time.monotonic() + 20
    changes = start_watching(tmp_path, interval=600.0, should_stop=lambda: time.monotonic() > deadline)
    try:
        (tmp_path / "early.md").write_text(article_text("Early"))
        assert next(changes, "stopped: the change was missed") == "events"
    finally:
        changes.close()


def test_the_cli_watch_makes_a_new_article_searchable_without_waiting_for_the_interval(
        tmp_path: Path, tiny_corpus: Path) -> None:
    index = tmp_path / "ix"
    watcher = subprocess.Popen([sys.executable, "-m", "search", "index", str(tiny_corpus), "--index", str(index),
                                "--watch", "--interval", "600"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    assert watcher.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in watcher.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        assert "6 added" in lines.get(timeout=60)
        written = time.monotonic()
        (tiny_corpus / "fresh.md").write_text(article_text("Fresh story", "<p>A bolide was seen.</p>"))
        assert "1 added" in lines.get(timeout=60)  # an event: the 600 s interval is far off

        def found() -> bool:
            with search.open_index(index) as ix:
                return ix.search("bolide").total == 1
        assert wait_for(found)
        assert time.monotonic() - written < 60  # far below the 600 s interval: an event, not a scan
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(timeout=30)
    errors = watcher.stderr.read() if watcher.stderr else ""
    assert watcher.returncode == 0
    assert "for new and changed files" in errors and "Traceback" not in errors
