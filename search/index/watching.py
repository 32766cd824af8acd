"""When a corpus folder may have changed: the kernel's file events, polling where there are none.

``corpus_changes`` yields ``"started"`` once the watch is in place, then once per batch of changes
to article files (``scanning.ARTICLE_SUFFIXES``, names not starting with a dot), and the caller
runs one incremental update for each. ``start_watching`` takes that first step, so that a caller
can put the watch in place *before* its first full update: a file written while that update
runs is then a change seen afterwards, not one that fell between the update and the watch. Events
come from ``watchfiles`` (inotify on Linux, FSEvents on macOS, its Rust core): a new article
is searchable a moment after it is written, and a burst of files (an aggregator's run) is one
batch. Where events are unavailable (``watchfiles`` missing, the kernel's watch limit reached)
or asked not to be used (``events=False``: network drives, which send none), the folder is
scanned every ``interval`` seconds instead, as before.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Generator
from pathlib import Path
from search.index.scanning import ARTICLE_SUFFIXES

# Milliseconds: a batch is yielded once no change came for QUIET_MS, or after at most BATCH_MS.
QUIET_MS = 100
BATCH_MS = 1000
# Milliseconds the Rust side waits before handing control back with no change; its first return
# is the sign that the watch is in place (watchfiles has no other).
STARTED_MS = 200


class _StopWhen:
    """``should_stop`` as the event object ``watchfiles`` polls between its steps."""

    def __init__(self, should_stop: Callable[[], bool]) -> None:
        self.should_stop = should_stop

    def is_set(self) -> bool:
        return self.should_stop()


def is_article_change(path: str, ignored: Path | None = None) -> bool:
    """Whether a changed path can be an article: not a temporary ``.part`` file, not a hidden
    one, not inside ``ignored`` (an index kept in the corpus folder, whose writes must never
    wake the watcher). A name without a suffix counts: it may be a folder of articles."""
    changed = Path(path)
    if ignored is not None and changed.is_relative_to(ignored):
        return False
    name = changed.name
    return not name.startswith(".") and (changed.suffix in ARTICLE_SUFFIXES or "." not in name)


def corpus_changes(corpus: Path, *, interval: float, should_stop: Callable[[], bool] = lambda: False,
                   events: bool = True, on_fallback: Callable[[str], None] | None = None,
                   ignored: Path | None = None) -> Generator[str, None, None]:
    """Yield ``"started"`` once changes from now on will be seen, then ``"events"`` (or
    ``"poll"``) each time the article files may have changed, until ``should_stop()``. A name
    without a suffix counts: it may be a folder of articles renamed or removed.
    ``on_fallback`` hears why events were not used, once."""
    started = False
    if events:
        stopped = yield from _event_batches(corpus, should_stop, ignored.resolve() if ignored else None)
        if stopped is None:
            return
        reason, started = stopped
        if on_fallback is not None:
            on_fallback(reason)
    if not started:
        yield "started"  # a scan from now on sees every file
    while not should_stop():
        deadline = time.monotonic() + interval
        while not should_stop() and time.monotonic() < deadline:
            time.sleep(min(0.2, interval))
        if not should_stop():
            yield "poll"


def start_watching(corpus: Path, *, interval: float, should_stop: Callable[[], bool] = lambda: False,
                   events: bool = True, on_fallback: Callable[[str], None] | None = None,
                   ignored: Path | None = None) -> Generator[str, None, None]:
    """``corpus_changes`` with the watch already in place: what it yields next is the first
    change after this call returned. Close it (``.close()``) when not iterating it to its end."""
    changes = corpus_changes(corpus, interval=interval, should_stop=should_stop, events=events,
                             on_fallback=on_fallback, ignored=ignored)
    next(changes, None)  # "started"; nothing when should_stop() was already true
    return changes


def _event_batches(corpus: Path, should_stop: Callable[[], bool],
                   ignored: Path | None) -> Generator[str, None, tuple[str, bool] | None]:
    """``"started"``, then batches from the kernel's events; returns None when stopped, or why
    there are no (more) events and whether ``"started"`` was yielded before they failed."""
    try:
        import watchfiles
    except ImportError:
        return "file events need watchfiles (pip install watchfiles); checking by polling", False
    started = False
    try:
        for batch in watchfiles.watch(corpus.resolve(), watch_filter=lambda _change, path: is_article_change(path, ignored),
                                      debounce=BATCH_MS, step=QUIET_MS, rust_timeout=STARTED_MS, yield_on_timeout=True,
                                      stop_event=_StopWhen(should_stop), raise_interrupt=True,
                                      ignore_permission_denied=True, force_polling=False):
            if not started:
                started = True
                yield "started"
            if batch:
                yield "events"
    except (OSError, RuntimeError) as error:  # e.g. the inotify watch limit (fs.inotify.max_user_watches)
        why = str(error).splitlines()[0] if str(error) else type(error).__name__
        if started:
            return f"file events stopped for {corpus} ({why}); checking by polling", True
        return f"no file events for {corpus} ({why}); checking by polling", False
    return None
