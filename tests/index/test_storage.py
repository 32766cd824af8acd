"""Storage: atomic publishing, the writer lock, and surviving SIGKILL at any moment."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import search
from search.index import storage
from search.index.update import update_index

from tests.conftest import article_text

WORDS = ("harbour strike pay drivers union council budget flood levee river power grid heat record "
         "bank rates inflation market shares election mayor vote court judge police fire crews "
         "storm rain school teachers hospital patients data breach museum painting theft launch").split()


def synthetic_corpus(folder: Path, count: int, seed: int = 7) -> Path:
    """``count`` articles of about 300 words each, written fast and deterministically."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        paragraphs = "".join(f"<p>{' '.join(rng.choices(WORDS, k=60))}.</p>" for _ in range(5))
        title = f"Story {number} " + " ".join(rng.choices(WORDS, k=5))
        (folder / f"story-{number:05d}.md").write_text(
            article_text(title, paragraphs, date=f"2026-{1 + number % 12:02d}-{1 + number % 28:02d}",
                         tags=tuple(rng.sample(WORDS, 3))))
    return folder


def run_index(corpus: Path, index: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "search", "index", str(corpus), "--index", str(index), "-q", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def assert_index_answers(index: Path) -> int:
    """The index opens and a query works; returns how many articles it holds."""
    with search.open_index(index) as ix:
        ix.search("harbour OR flood", limit=5)
        return ix.stats().articles


def test_publish_switches_generations_and_keeps_one_old(tmp_path: Path) -> None:
    root = tmp_path / "ix"
    first = storage.new_generation(root)
    storage.publish(root, first)
    second = storage.new_generation(root)
    storage.publish(root, second)
    third = storage.new_generation(root)
    storage.publish(root, third)
    assert storage.current_generation(root) == third
    assert sorted(p.name for p in root.glob("gen-*")) == [second.name, third.name]


def test_a_writer_removes_generations_that_killed_rebuilds_left(tmp_path: Path) -> None:
    root = tmp_path / "ix"
    for _ in range(2):
        storage.publish(root, storage.new_generation(root))
    leftover = storage.new_generation(root)  # a rebuild killed before it could publish
    (leftover / "_MAIN_1.toc").write_bytes(b"partial")
    with storage.writer_lock(root):
        pass
    assert sorted(p.name for p in root.glob("gen-*")) == ["gen-0001", "gen-0002"]
    assert storage.current_generation(root).name == "gen-0002"


def test_without_a_published_generation_every_generation_is_a_leftover(tmp_path: Path) -> None:
    root = tmp_path / "ix"
    storage.new_generation(root)
    with storage.writer_lock(root):
        assert not list(root.glob("gen-*"))


def test_damaged_current_file_names_the_fix(tmp_path: Path, tiny_corpus: Path) -> None:
    update_index(tmp_path / "ix", tiny_corpus)
    (tmp_path / "ix" / "CURRENT").write_text("../../etc")
    with pytest.raises(search.IndexDamagedError, match="newsearch index --rebuild"):
        search.open_index(tmp_path / "ix")


def test_incompatible_schema_version_names_the_fix(tmp_path: Path, tiny_corpus: Path) -> None:
    update_index(tmp_path / "ix", tiny_corpus)
    meta_file = storage.current_generation(tmp_path / "ix") / "meta.json"
    meta = json.loads(meta_file.read_text())
    meta["schema_version"] = 999
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(search.IndexDamagedError, match="rebuild"):
        search.open_index(tmp_path / "ix")
    summary = update_index(tmp_path / "ix", tiny_corpus, rebuild=True)
    assert summary.total == 6 and assert_index_answers(tmp_path / "ix") == 6


def test_damaged_whoosh_files_give_a_clear_error_and_rebuild_recovers(tmp_path: Path, tiny_corpus: Path) -> None:
    update_index(tmp_path / "ix", tiny_corpus)
    generation = storage.current_generation(tmp_path / "ix")
    for toc in generation.glob("*.toc"):
        toc.write_bytes(b"garbage")
    with pytest.raises(search.IndexDamagedError, match="rebuild"):
        search.open_index(tmp_path / "ix").search("strike")
    result = subprocess.run([sys.executable, "-m", "search", "search", "strike", "--index", str(tmp_path / "ix")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "--rebuild" in result.stderr and "Traceback" not in result.stderr
    update_index(tmp_path / "ix", tiny_corpus, rebuild=True)
    assert assert_index_answers(tmp_path / "ix") == 6


def test_second_writer_waits_then_fails_naming_the_pid(tmp_path: Path) -> None:
    root = tmp_path / "ix"
    with storage.writer_lock(root):
        started = time.monotonic()
        with pytest.raises(search.IndexLockedError, match=f"pid {os.getpid()}"):
            with storage.writer_lock(root, wait=0.3):
                pass
        assert time.monotonic() - started >= 0.3
    with storage.writer_lock(root, wait=0):  # released: free again
        pass


def test_concurrent_cli_writer_exits_two(tmp_path: Path, tiny_corpus: Path) -> None:
    root = tmp_path / "ix"
    with storage.writer_lock(root):
        result = subprocess.run([sys.executable, "-m", "search", "index", str(tiny_corpus), "--index", str(root),
                                 "--wait", "0.2"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "being updated by another process (pid" in result.stderr


def test_a_killed_writer_leaves_no_stale_lock(tmp_path: Path) -> None:
    root = tmp_path / "ix"
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys, time; from pathlib import Path; from search.index import storage\n"
                               "with storage.writer_lock(Path(sys.argv[1])):\n print('held', flush=True); time.sleep(60)",
                               str(root)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(search.IndexLockedError):
        with storage.writer_lock(root, wait=0.1):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with storage.writer_lock(root, wait=1):
        pass


@pytest.mark.slow
def test_sigkill_during_builds_and_updates_never_breaks_the_index(tmp_path: Path) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 1500)
    index = tmp_path / "ix"
    # Kill the first build at several moments: no index, or a complete one, never a broken one.
    for delay in (0.3, 1.0, 2.0):
        process = run_index(corpus, index, "--rebuild")
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        if (index / "CURRENT").exists():
            assert assert_index_answers(index) in (0, 1500)
    finished = run_index(corpus, index)
    assert finished.wait(timeout=300) == 0, finished.stderr.read() if finished.stderr else ""
    assert assert_index_answers(index) == 1500
    # Change 400 files and kill the update at several moments: the old state or the new one.
    for number in range(0, 400):
        path = corpus / f"story-{number:05d}.md"
        path.write_text(article_text(f"Rewritten {number}", "<p>zeppelin airship hangar</p>"))
    for delay in (0.2, 0.6, 1.2, 2.0):
        process = run_index(corpus, index)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert assert_index_answers(index) == 1500
        with search.open_index(index) as ix:
            assert ix.search("zeppelin").total in (0, 400)
    finished = run_index(corpus, index)
    assert finished.wait(timeout=300) == 0
    with search.open_index(index) as ix:
        assert ix.search("zeppelin").total == 400
        assert ix.stats().articles == 1500


def test_searches_during_an_update_see_a_committed_state(tmp_path: Path) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 600)
    index = tmp_path / "ix"
    update_index(index, corpus)
    for number in range(300):
        (corpus / f"new-{number}.md").write_text(article_text(f"New {number}", "<p>zeppelin news</p>"))
    errors: list[BaseException] = []
    seen: set[int] = set()
    stop = threading.Event()

    def keep_searching() -> None:
        try:
            with search.open_index(index) as ix:
                while not stop.is_set():
                    seen.add(ix.search("zeppelin").total)
        except BaseException as error:  # any failure at all is what this test looks for
            errors.append(error)

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        writer = run_index(corpus, index)
        assert writer.wait(timeout=300) == 0
        writer = run_index(corpus, index, "--rebuild")
        assert writer.wait(timeout=300) == 0
    finally:
        stop.set()
        searcher.join()
    assert errors == []
    assert seen <= {0, 300} and 300 in seen


def test_stems_are_kept_and_a_file_that_cannot_be_read_gives_none(tmp_path: Path) -> None:
    storage.write_stems(tmp_path, {"harbours": "harbour", "café": "café", "two words": "x", "y": "z z"})
    assert storage.read_stems(tmp_path) == {"harbours": "harbour", "café": "café"}  # whitespace left out
    for damaged in (b"", b"newsearch stems 1\nharbours", b"other header\nharbours harbour\n", b"\xff\xfe\x00"):
        (tmp_path / storage.STEMS_FILE).write_bytes(damaged)
        assert storage.read_stems(tmp_path) == {}
    assert storage.read_stems(tmp_path / "missing") == {}


def test_rechecked_files_are_kept_and_a_file_that_cannot_be_read_gives_none(tmp_path: Path) -> None:
    storage.write_rechecked(tmp_path, {"a.md": (120, 1_700_000_000_123_456_789), "dir/é.md": (0, -5)})
    assert storage.read_rechecked(tmp_path) == {"a.md": (120, 1_700_000_000_123_456_789), "dir/é.md": (0, -5)}
    for damaged in (b"", b"[1, 2]", b'{"a.md": 3}', b'{"a.md": [1]}', b'{"a.md": ["x", 2]}', b"\xff\xfe\x00"):
        (tmp_path / storage.RECHECKED_FILE).write_bytes(damaged)
        assert storage.read_rechecked(tmp_path) == {}, damaged
    assert storage.read_rechecked(tmp_path / "missing") == {}


def test_date_orders_are_kept_and_one_that_does_not_fit_its_segment_gives_none(tmp_path: Path) -> None:
    from array import array

    values, docnums = array("q", [5, 9, 9, 2**62]), array("q", [3, 0, 7, 1])
    storage.write_date_order(tmp_path, "MAIN_abc", 8, values, docnums)
    assert storage.read_date_order(tmp_path, "MAIN_abc", 8) == (values, docnums)
    assert storage.read_date_order(tmp_path, "MAIN_abc", 9) is None  # another segment's count
    assert storage.read_date_order(tmp_path, "MAIN_other", 8) is None
    path = tmp_path / "dates-MAIN_abc.bin"
    whole = path.read_bytes()
    for damaged in (b"", whole[:-1], whole + b"\0", b"other header" + whole[17:], whole[:20]):
        path.write_bytes(damaged)
        assert storage.read_date_order(tmp_path, "MAIN_abc", 8) is None, damaged
    storage.write_date_order(tmp_path, "MAIN_empty", 0, array("q"), array("q"))
    assert storage.read_date_order(tmp_path, "MAIN_empty", 0) == (array("q"), array("q"))


def test_date_orders_of_segments_gone_are_deleted_and_whoosh_files_left_alone(tmp_path: Path) -> None:
    from array import array

    for segment_id in ("MAIN_kept", "MAIN_gone"):
        storage.write_date_order(tmp_path, segment_id, 1, array("q", [1]), array("q", [0]))
    (tmp_path / "MAIN_gone.seg").write_bytes(b"whoosh's")
    storage.keep_date_orders(tmp_path, {"MAIN_kept"})
    assert sorted(path.name for path in tmp_path.iterdir()) == ["MAIN_gone.seg", "dates-MAIN_kept.bin"]


# --- hostile index folders (issue 23 items 3 and 8) -------------------------------------------

def built(tmp_path: Path, tiny_corpus: Path) -> tuple[Path, Path]:
    """A tiny index and its published generation."""
    update_index(tmp_path / "index", tiny_corpus)
    return tmp_path / "index", storage.current_generation(tmp_path / "index")


def toc_of(generation: Path) -> Path:
    return next(generation.glob("_MAIN_*.toc"))


def refused(index: Path) -> str:
    with pytest.raises(search.IndexUnsafeError) as caught:
        search.open_index(index).search("harbour")
    message = str(caught.value)
    assert "\n" not in message and "not opened" in message, message
    return message


@pytest.mark.parametrize("which", ["root", "generation", "toc", "meta", "current"])
def test_an_index_others_may_write_is_refused(tmp_path: Path, tiny_corpus: Path, which: str) -> None:
    index, generation = built(tmp_path, tiny_corpus)
    path = {"root": index, "generation": generation, "toc": toc_of(generation),
            "meta": generation / storage.META_FILE, "current": index / storage.CURRENT_FILE}[which]
    mode = path.stat().st_mode
    for bits in (0o020, 0o002):
        path.chmod(mode | bits)
        assert "may write it" in refused(index)
    path.chmod(mode)
    assert_index_answers(index)


def test_a_writer_refuses_an_index_others_may_write(tmp_path: Path, tiny_corpus: Path) -> None:
    index, _generation = built(tmp_path, tiny_corpus)
    index.chmod(0o777)
    with pytest.raises(search.IndexUnsafeError):
        update_index(index, tiny_corpus)
    result = subprocess.run([sys.executable, "-m", "search", "index", str(tiny_corpus), "--index", str(index)],
                            capture_output=True, text=True)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "not opened" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_an_index_of_another_user_is_refused(tmp_path: Path, tiny_corpus: Path) -> None:
    index, generation = built(tmp_path, tiny_corpus)
    for path in (toc_of(generation), generation, index):
        os.chown(path, 12345, 12345)
        assert "another user (uid 12345)" in refused(index)
        os.chown(path, 0, 0)
    assert_index_answers(index)


def test_a_planted_pickle_is_not_run(tmp_path: Path, tiny_corpus: Path) -> None:
    """A table of contents another user could have written is refused before it is unpickled."""
    import pickle
    index, generation = built(tmp_path, tiny_corpus)
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    toc = toc_of(generation)
    toc.write_bytes(pickle.dumps(Payload()))
    toc.chmod(0o666)
    refused(index)
    with pytest.raises(search.SearchError):
        update_index(index, tiny_corpus)
    assert not marker.exists()


def test_a_planted_lock_link_cannot_truncate_a_file(tmp_path: Path, tiny_corpus: Path) -> None:
    index, _generation = built(tmp_path, tiny_corpus)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (index / storage.LOCK_FILE).unlink()
    (index / storage.LOCK_FILE).symlink_to(victim)
    with pytest.raises(search.IndexUnsafeError, match="symbolic link"):
        update_index(index, tiny_corpus)
    assert victim.read_text() == "precious"


def test_a_planted_current_tmp_link_is_replaced_not_followed(tmp_path: Path, tiny_corpus: Path) -> None:
    index, _generation = built(tmp_path, tiny_corpus)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    planted = index / (storage.CURRENT_FILE + ".tmp")
    planted.symlink_to(victim)
    update_index(index, tiny_corpus, rebuild=True)  # a rebuild publishes through CURRENT.tmp
    assert victim.read_text() == "precious"
    assert not planted.exists() and assert_index_answers(index) == len(list(tiny_corpus.glob("*.md")))


def test_written_aside_files_never_follow_a_link(tmp_path: Path) -> None:
    generation = tmp_path / "gen-0001"
    generation.mkdir(mode=0o700)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    for name in (storage.META_FILE, storage.SKIPS_FILE, storage.STEMS_FILE, storage.RECHECKED_FILE):
        (generation / (name + ".tmp")).symlink_to(victim)
    storage.write_meta(generation, "/corpus")
    storage.write_skips(generation, {"a.md": storage.SkipMemory(1, 2, "empty")})
    storage.write_stems(generation, {"harbours": "harbour"})
    storage.write_rechecked(generation, {"b.md": (3, 4)})
    assert victim.read_text() == "precious"
    assert json.loads((generation / storage.META_FILE).read_text())["corpus"] == "/corpus"
    assert storage.read_stems(generation) == {"harbours": "harbour"}
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in generation.iterdir())


def test_new_generations_are_private_whatever_the_umask(tmp_path: Path, tiny_corpus: Path) -> None:
    previous = os.umask(0)
    try:
        index, generation = built(tmp_path, tiny_corpus)
        update_index(index, tiny_corpus)  # an update adds files to the generation
    finally:
        os.umask(previous)
    assert generation.stat().st_mode & 0o777 == 0o700
    files = [path for path in generation.iterdir()]
    # Whoosh's own empty lock file is created with mode 0o777 less the umask: 0o700.
    loose = {path.name: oct(path.stat().st_mode & 0o777) for path in files
             if path.stat().st_mode & 0o777 != (0o700 if path.name.endswith("WRITELOCK") else 0o600)}
    assert files and not loose
    for name in (storage.CURRENT_FILE, storage.LOCK_FILE):
        assert (index / name).stat().st_mode & 0o077 == 0, name
    assert os.umask(previous) == previous  # the umask is the caller's again
