"""Robustness (issue 8): hostile articles through the real CLI, SIGKILL at random moments, a full
disk during a commit, damaged index files, and writers that die holding the lock.

Every hostile file is generated here (nothing binary is committed). Fuzzing lives in
``test_fuzz.py``; the basic lock and SIGKILL tests are in ``test_storage.py``.
"""
from __future__ import annotations

import codecs
import errno
import io
import json
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from whoosh import index as whoosh_index

import search
from search.index import storage
from search.present.display import BOLD, DIM, MATCH, RESET, TITLE
from search.index.update import update_index

from .conftest import ROOT, article_text, write_tiny_corpus
from tests.index.test_storage import synthetic_corpus

PYTHON = [sys.executable, "-m", "search"]


def newsearch(*args: str | os.PathLike[str], **options: Any) -> subprocess.CompletedProcess[bytes]:
    """Run the real program; output stays bytes so that nothing is hidden by decoding."""
    result: subprocess.CompletedProcess[bytes] = subprocess.run(
        [*PYTHON, *(os.fspath(arg) for arg in args)], capture_output=True, cwd=ROOT, **options)
    return result


def stored(index: Path) -> dict[str, str]:
    """Path -> title of every article the published index holds, read straight from Whoosh."""
    generation = storage.current_generation(index)
    with whoosh_index.open_dir(str(generation)).searcher() as searcher:
        return {fields["path"]: fields["title"] for fields in searcher.all_stored_fields()}


def assert_one_line_error(result: subprocess.CompletedProcess[bytes], *fragments: str) -> str:
    """Exit 2 with exactly one line on stderr, no traceback, naming each fragment."""
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, stderr
    assert stderr.count("\n") == 1 and stderr.startswith("newsearch: "), stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in stderr
    return stderr


# --- hostile articles --------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One file in the hostile corpus and the outcome it must have.

    ``expect``: "indexed" (warnings allowed), "warned" (indexed with a warning containing
    ``reason``), "skipped" (skipped, the reason containing ``reason``), "either" (indexed or
    skipped), "not a file" (neither: a folder or a symlinked folder, which the walk skips).
    ``word`` occurs in this article only and must be found when it is indexed.
    """

    label: str
    name: bytes
    content: bytes | None
    expect: str = "indexed"
    reason: str = ""
    word: str = ""
    title: str = ""  # when set, the title the index must hold

    @property
    def key(self) -> str:
        """The path as the index and the summary show it (undecodable bytes escaped)."""
        return self.name.decode("utf-8", "backslashreplace")


def _article(title: str, word: str, **fields: Any) -> bytes:
    return article_text(title, f"<p>The {word} report from the council.</p>", **fields).encode()


BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi"))
HUGE_BYTES = 50 * 1024 * 1024
ESCAPES_ARTICLE = (
    "---\n"
    'title: "Escape \\u001b[2J\\u001b]0;zqpwned\\u0007 title \\u0008\\u0007 zqescape"\n'
    "description: raw \x1b[31mred\x1b[0m description \x1b]8;;https://evil.example\x1b\\link\n"
    "date: 2026-01-08\n"
    "---\n"
    "<p>zqescape body \x1b[31mred\x1b[0m \x1b[6n \x1b[?1049h \x1bP+q\x1b\\ \x9b2J "
    "\x01\x02\x7f bell\x07 \x1b]52;c;aGVsbG8=\x07 end</p>\n")


def hostile_cases() -> list[Case]:
    """The hostile corpus, good articles included (files made by ``write_hostile_corpus``)."""
    huge_filler = b"filler words " * (HUGE_BYTES // 13)
    return [
        *[Case(f"good article {n}", f"good-{n}.md".encode(), _article(f"Good article {n}", word), word=word)
          for n, word in enumerate(["zqgoodone", "zqgoodtwo", "zqgoodthree", "zqgoodfour"])],
        Case("YAML that does not parse", b"bad-yaml.md",
             b"---\ntitle: [unclosed\ndate: 2026-01-08\n---\n<p>zqbadyaml</p>\n", "skipped", "yaml"),
        Case("YAML alias bomb (billion laughs)", b"billion-laughs.md",
             f"---\n{BILLION_LAUGHS}title: *i\ntags: *i\n---\n<p>zqlaughs</p>\n".encode(), "either", word="zqlaughs"),
        Case("front matter is a list", b"fm-list.md", b"---\n- one\n- two\n---\n<p>zqfmlist</p>\n",
             "skipped", "front matter"),
        Case("front matter is a scalar", b"fm-scalar.md", b"---\njust words\n---\n<p>zqfmscalar</p>\n",
             "skipped", "front matter"),
        Case("unterminated front matter", b"unterminated.md", b"---\ntitle: Open\n<p>zqopen</p>\n",
             "skipped", "front matter"),
        Case("no front matter", b"no-front-matter.md", b"<p>zqnofm plain page</p>\n", "skipped", "front matter"),
        Case("date 2026-13-45", b"date-impossible.md", _article("Impossible date", "zqdatebad", date="2026-13-45"),
             "warned", "date", "zqdatebad"),
        Case("date 'yesterday'", b"date-yesterday.md", _article("Relative date", "zqyesterday", date="yesterday"),
             "warned", "date", "zqyesterday"),
        Case("tags as a number", b"tags-number.md", b"---\ntitle: Numbered\ntags: 42\n---\n<p>zqtagsnumber</p>\n",
             word="zqtagsnumber"),
        Case("tags as nested maps", b"tags-map.md",
             b"---\ntitle: Mapped\ntags:\n  a:\n    b: {c: 1}\n---\n<p>zqtagsmap</p>\n", "warned", "tags", "zqtagsmap"),
        Case("tags as a list of nested maps", b"tags-list-of-maps.md",
             b"---\ntitle: Listed\ntags:\n- {a: {b: [1, 2]}}\n- fine\n---\n<p>zqtagslist</p>\n",
             "warned", "tags", "zqtagslist"),
        Case("UTF-8 with BOM", b"bom.md", codecs.BOM_UTF8 + _article("BOM article", "zqbom"),
             word="zqbom", title="BOM article"),
        Case("UTF-16", b"utf16.md", article_text("UTF-16 article", "<p>zqutfsixteen</p>").encode("utf-16"),
             word="zqutfsixteen", title="UTF-16 article"),
        Case("cp1252", b"cp1252.md",
             article_text("Café “quoted”", "<p>zqcpword café</p>").encode("cp1252"),
             "warned", "cp1252", "zqcpword", "Café “quoted”"),
        Case("invalid UTF-8 bytes", b"invalid-bytes.md",
             _article("Invalid bytes", "zqinvalid").replace(b"report", b"re\xff\xfe\x80port"),
             "warned", "utf-8", "zqinvalid"),
        Case("NUL bytes", b"nul.md", _article("Nul", "zqnul").replace(b"report", b"re\x00port"), "either",
             word="zqnul"),
        Case("binary file named .md", b"picture.md",
             b"\x89PNG\r\n\x1a\n" + random.Random(8).randbytes(8192), "skipped", "binary"),
        Case("empty file", b"empty.md", b"", "skipped", "empty"),
        Case("50 MB body", b"huge.md",
             article_text("Huge", "").encode() + b"<p>zqhugehead " + huge_filler + b" zqhugetail</p>\n",
             "warned", "truncated", "zqhugehead"),
        Case("HTML nested 100,000 deep", b"nested.md",
             _article("Nested", "") + b"<div>" * 100_000 + b"<p>zqnested</p>" + b"</div>" * 100_000,
             word="zqnested"),
        Case("a single 1 MB word", b"long-word.md",
             article_text("Long word", "<p>zqlongword " + "x" * 1_000_000 + " after</p>").encode(),
             word="zqlongword"),
        Case("<script> and <style> bodies", b"script.md",
             article_text("Scripted", "<p>zqscript visible</p><script>var zqscripthidden = 1;</script>"
                          "<style>.zqstylehidden { color: red }</style><p>more</p>").encode(), word="zqscript"),
        Case("escape sequences and controls in title and body", b"escapes.md", ESCAPES_ARTICLE.encode(),
             word="zqescape", title="Escape title zqescape"),
        Case("symlink loop", b"loop-a.md", None, "skipped", "symlink"),
        Case("symlink loop (other end)", b"loop-b.md", None, "skipped", "symlink"),
        Case("dangling symlink", b"dangling.md", None, "skipped", "symlink"),
        Case("folder symlink loop (sub/up -> ..)", b"sub/up", None, "not a file"),
        Case("article beside a folder loop", b"sub/inner.md", _article("Inner", "zqinner"), word="zqinner"),
        Case("folder named .md", b"folder.md", None, "not a file"),
        Case("article inside a folder named .md", b"folder.md/inside.md", _article("Inside", "zqinside"),
             word="zqinside"),
        Case("unreadable file (mode 000)", b"unreadable.md", _article("Unreadable", "zqunreadable"),
             "indexed" if os.geteuid() == 0 else "skipped", "" if os.geteuid() == 0 else "permission",
             word="zqunreadable"),
        Case("file name with spaces", b"name with spaces.md", _article("Spaces", "zqspaces"), word="zqspaces"),
        Case("file name with newlines", b"name\nwith\nnewline.md", _article("Newline", "zqnewline"),
             word="zqnewline"),
        Case("file name with an escape sequence", b"esc-\x1b[31m-name.md", _article("Escaped name", "zqescname"),
             word="zqescname"),
        Case("non-UTF-8 file name (article with a link)", b"caf\xe9-\xff.md",
             _article("Latin name", "zqlatinname", link="https://news.example.org/latin"), word="zqlatinname"),
    ]


def write_hostile_corpus(folder: Path, cases: list[Case]) -> None:
    """Write the cases into ``folder``, with bytes-level names, symlinks and modes."""
    base = os.fsencode(folder)
    os.makedirs(os.path.join(base, b"sub"))
    os.makedirs(os.path.join(base, b"folder.md"))
    for case in cases:
        if case.content is not None:
            with open(os.path.join(base, case.name), "wb") as handle:
                handle.write(case.content)
    os.symlink(b"loop-b.md", os.path.join(base, b"loop-a.md"))
    os.symlink(b"loop-a.md", os.path.join(base, b"loop-b.md"))
    os.symlink(b"missing.md", os.path.join(base, b"dangling.md"))
    os.symlink(b"..", os.path.join(base, b"sub/up"))
    os.chmod(os.path.join(base, b"unreadable.md"), 0)


@dataclass
class HostileRun:
    cases: list[Case]
    corpus: Path
    index: Path
    result: subprocess.CompletedProcess[bytes]
    summary: dict[str, Any]
    seconds: float

    def outcome(self, case: Case) -> str:
        """What happened to a case, as the report's table shows it."""
        skipped = [s["reason"] for s in self.summary["skipped"] if s["path"] == case.key]
        warned = [w["reason"] for w in self.summary["warnings"] if w["path"] == case.key]
        indexed = case.key in stored(self.index)
        if indexed and skipped:
            return f"BOTH indexed and skipped: {skipped}"
        if skipped:
            return "skipped: " + "; ".join(skipped)
        if indexed:
            return "indexed" + "".join(f"; warning: {w}" for w in warned)
        return "not a file (not indexed, not reported)"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> HostileRun:
    """The hostile corpus, indexed once through the real CLI with --json."""
    folder = tmp_path_factory.mktemp("hostile")
    cases = hostile_cases()
    write_hostile_corpus(folder / "corpus", cases)
    cases = [replace(case, content=None) for case in cases]  # let the 50 MB go
    started = time.perf_counter()
    result = newsearch("index", folder / "corpus", "--index", folder / "ix", "--json", timeout=300)
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    return HostileRun(cases, folder / "corpus", folder / "ix", result, json.loads(result.stdout), seconds)


def test_every_hostile_file_is_indexed_or_skipped_with_a_one_line_reason(hostile: HostileRun) -> None:
    summary = hostile.summary
    for problem in summary["skipped"] + summary["warnings"]:
        assert "\n" not in problem["reason"] and 0 < len(problem["reason"]) < 200, problem
    stderr = hostile.result.stderr.decode("utf-8")  # names with undecodable bytes come escaped
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == len(summary["skipped"]) + len(summary["warnings"])
    assert all(line.startswith(("newsearch: skipped ", "newsearch: warning: ")) for line in lines), lines
    held = stored(hostile.index)
    skipped = {s["path"]: s["reason"] for s in summary["skipped"]}
    for case in hostile.cases:
        outcome = hostile.outcome(case)
        if case.expect == "not a file":
            assert case.key not in held and case.key not in skipped, outcome
            continue
        allowed: dict[str, tuple[str, ...]] = {"indexed": ("indexed",), "warned": ("indexed",),
                                               "skipped": ("skipped",), "either": ("indexed", "skipped")}
        assert outcome.startswith(allowed[case.expect]), (case.label, outcome)
        if case.expect in ("warned", "skipped"):
            assert case.reason in outcome.lower(), (case.label, outcome)
        if case.title:
            assert held[case.key] == case.title, case.label
    assert summary["total"] == len(held)
    assert not {path for path in held if path.startswith(("sub/up/", "loop"))}  # no loop was followed


def test_strict_makes_the_skips_an_error(hostile: HostileRun) -> None:
    result = newsearch("index", hostile.corpus, "--index", hostile.index.parent / "strict", "--strict", "--json", "-q")
    assert result.returncode == 2
    assert json.loads(result.stdout)["total"] == hostile.summary["total"]
    assert result.stderr.decode().strip() == f"newsearch: {len(hostile.summary['skipped'])} file(s) skipped (--strict)"


def test_every_indexed_article_is_found_by_its_own_word(hostile: HostileRun) -> None:
    held = stored(hostile.index)
    with search.open_index(hostile.index) as ix:
        for case in hostile.cases:
            if case.word and case.key in held:
                assert [hit.path for hit in ix.search(case.word).hits] == [case.key], case.label
        # Nothing after the 50 MB file's cap is indexed; script and style text is not text.
        for hidden in ("zqhugetail", "zqscripthidden", "zqstylehidden", "zqpwned"):
            assert ix.search(hidden).total == 0, hidden
    assert {case.key for case in hostile.cases if case.label.startswith("good")} <= set(held)


def test_hostile_corpus_is_indexed_in_reasonable_time(hostile: HostileRun) -> None:
    # Measured about 4 s on 2 cores, most of it the 50 MB file; a quadratic step would show here.
    assert hostile.seconds < 60


_OWN_STYLES = re.compile("|".join(re.escape(code) for code in (BOLD, DIM, MATCH, TITLE, RESET)))
_FOREIGN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # C0 (but newline), DEL, C1 (\x9b is CSI)


def test_colour_output_has_no_escape_sequences_but_its_own(hostile: HostileRun) -> None:
    query = "zqescape OR zqescname OR zqnewline OR zqspaces OR zqlatinname"
    result = newsearch("search", query, "--index", hostile.index, "--color", "always")
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode("utf-8")
    assert MATCH in text  # styled: the check below is not vacuous
    bare = _OWN_STYLES.sub("", text)
    assert not _FOREIGN.search(bare), repr(_FOREIGN.search(bare))
    assert "\nwith\n" not in bare and "zqpwned" not in bare and "evil.example" not in bare
    assert "5 results" in bare


def test_json_output_carries_controls_only_escaped(hostile: HostileRun) -> None:
    query = "zqescape OR zqescname OR zqnewline OR zqlatinname"
    result = newsearch("search", query, "--index", hostile.index, "--json")
    raw = result.stdout.decode("utf-8")
    assert not _FOREIGN.search(raw) and raw.count("\n") == 1 and raw.endswith("\n")
    paths = {hit["path"] for hit in json.loads(raw)["hits"]}
    # Names survive exactly, as JSON escapes (\u001b, \n) or as backslash escapes of raw bytes.
    assert paths == {"escapes.md", "esc-\x1b[31m-name.md", "name\nwith\nnewline.md", "caf\\xe9-\\xff.md"}
    for hit in json.loads(raw)["hits"]:
        assert not _FOREIGN.search(hit["title"] + hit["description"] + "".join(s["text"] for s in hit["snippets"]))


def test_non_utf8_file_name_without_a_link_is_indexed(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.md").write_bytes(_article("Good", "zqgood"))
    with open(os.path.join(os.fsencode(corpus), b"caf\xe9-\xff.md"), "wb") as handle:
        handle.write(_article("No link", "zqnolink"))
    result = newsearch("index", corpus, "--index", tmp_path / "ix", "--json")
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr[-500:]
    assert set(stored(tmp_path / "ix")) == {"good.md", "caf\\xe9-\\xff.md"}
    shown = newsearch("search", "zqnolink", "--index", tmp_path / "ix", "--color", "never")
    assert shown.returncode == 0 and b"caf\\xe9-\\xff.md" in shown.stdout


def test_query_with_undecodable_bytes_is_a_query_error(tiny_index: search.Index) -> None:
    for query in ("x\udcff*", "harbour\udcff~", "title:\udcffa?"):
        with pytest.raises(search.QueryError):
            tiny_index.search(query)
    result = subprocess.run([*PYTHON, "search", os.fsencode("x\udcff*"), "--index", tiny_index.path],
                            capture_output=True, cwd=ROOT)
    assert_one_line_error(result)


def test_an_index_with_an_undated_article_can_be_updated_and_described(tmp_path: Path) -> None:
    corpus = write_tiny_corpus(tmp_path / "corpus")
    (corpus / "undated.md").write_text("---\ntitle: Undated\n---\n<p>zqundated</p>\n")
    update_index(tmp_path / "ix", corpus)
    (corpus / "later.md").write_bytes(_article("Later", "zqlater"))
    assert update_index(tmp_path / "ix", corpus).added == 1
    with search.open_index(tmp_path / "ix") as ix:
        assert ix.stats().articles == 8
        assert ix.search("zqundated").hits[0].date is None


# --- SIGKILL at random moments -----------------------------------------------------------

QUERIES = ['harbour', '"flood levee"', 'bank AND rates', '(storm OR rain) -school', 'title:story', 'mus*',
           'patiens~', 'date:2026-03', 'date:[2026-01-01 to 2026-06-30]', 'tag:court', 'source:feeds',
           'zeppelin', 'round0 OR round1 OR round2']


def check_index(index: Path) -> dict[str, str]:
    """Open the index as searches do, run every kind of query, and return what it holds."""
    held = stored(index)
    with search.open_index(index) as ix:
        for number, query in enumerate(QUERIES):
            ix.search(query, sort=("relevance", "newest", "oldest")[number % 3], facets=number == 0)
        assert ix.stats().articles == len(held)
        assert ix.get(sorted(held)[len(held) // 2]) is not None
    return held


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def end_orphans(pids: list[int]) -> int:
    """SIGKILL the processes a killed writer left behind (its pool workers); returns how many."""
    ended = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                ours = b"multiprocessing" in handle.read()
            if ours and _alive(pid):
                os.kill(pid, signal.SIGKILL)
                ended += 1
        except OSError:
            continue
    return ended


@dataclass
class Attempt:
    """One run of ``newsearch index`` that was SIGKILLed after ``delay`` seconds (or finished first)."""

    kind: str
    delay: float
    finished: bool
    returncode: int
    seconds: float
    children: list[int]
    stderr: str


def run_and_kill(corpus: Path, index: Path, kind: str, delay: float, *extra: str) -> Attempt:
    """Run the CLI writer; SIGKILL it after ``delay`` seconds unless it has finished by then.

    ``--wait 0``: a stale lock left by an earlier killed run would make this run fail at once.
    """
    log = index.parent / "stderr.log"
    with open(log, "wb") as stderr:
        started = time.monotonic()
        process = subprocess.Popen([*PYTHON, "index", str(corpus), "--index", str(index), "--wait", "0", "-q", *extra],
                                   stdout=subprocess.DEVNULL, stderr=stderr, cwd=ROOT)
        children: list[int] = []
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            children = _children(process.pid)
            process.send_signal(signal.SIGKILL)
            process.wait()
    finished = process.returncode >= 0
    return Attempt(kind, delay, finished, process.returncode, time.monotonic() - started, children,
                   log.read_text(errors="replace"))


class ChangeSet:
    """A batch of edits to the synthetic corpus and the index state they lead to."""

    def __init__(self, corpus: Path, committed: dict[str, str], round_number: int, rng: random.Random,
                 rewrites: int = 60, additions: int = 10, deletions: int = 10) -> None:
        paths = sorted(committed)
        rewrite = rng.sample(paths, rewrites)
        delete = rng.sample(sorted(set(paths) - set(rewrite)), deletions)
        self.expected = {path: title for path, title in committed.items() if path not in delete}
        for path in rewrite:
            title = f"Round{round_number} rewrite of {path}"
            (corpus / path).write_text(article_text(title, f"<p>round{round_number} zeppelin airship {path}</p>"))
            self.expected[path] = title
        for number in range(additions):
            path = f"new-{round_number}-{number:02d}.md"
            title = f"Round{round_number} new article {number}"
            (corpus / path).write_text(article_text(title, f"<p>round{round_number} blimp hangar news</p>"))
            self.expected[path] = title
        for path in delete:
            (corpus / path).unlink()


def wait_for_exit(pids: list[int], seconds: float) -> list[int]:
    """Wait until none of ``pids`` is alive (or ``seconds`` passed); return those still alive."""
    deadline = time.monotonic() + seconds
    while (alive := [pid for pid in pids if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


@pytest.mark.slow
def test_sigkill_at_random_points_of_builds_and_updates(tmp_path: Path) -> None:
    """At least 20 SIGKILLs (usually 22) at random moments of a first build, small incremental
    updates, big ones (written by worker processes) and rebuilds of 2,000 articles: the index
    always opens and answers every kind of query, always holds exactly the state of the last
    finished run (or of the killed run, when the kill came after its commit), and the next run,
    started with --wait 0, never meets a stale lock."""
    rng = random.Random(20260108)
    clock = time.monotonic()
    phases: dict[str, float] = {}

    def phase(name: str) -> None:
        nonlocal clock
        phases[name] = round(time.monotonic() - clock, 1)
        clock = time.monotonic()

    corpus = synthetic_corpus(tmp_path / "corpus", 2000)
    all_paths = {p.name for p in corpus.glob("*.md")}
    index = tmp_path / "ix"
    attempts: list[Attempt] = []
    lingering = 0
    committed: dict[str, str] = {}
    round_number = 0
    change = ChangeSet(corpus, committed, round_number, rng, rewrites=0, deletions=0, additions=0)
    phase("corpus")

    def attempt(kind: str, delay: float, *extra: str) -> Attempt:
        nonlocal lingering
        result = run_and_kill(corpus, index, kind, delay, *extra)
        assert result.returncode in (0, -signal.SIGKILL), (kind, result.returncode, result.stderr[-2000:])
        attempts.append(result)
        still = wait_for_exit(result.children, 5)  # worker processes end when they see EOF
        lingering += len(still)
        end_orphans(still)
        return result

    def kill_updates(kind: str, count: int, seconds: float, make: Callable[[int], ChangeSet], *extra: str) -> None:
        """Kill ``count`` runs at random fractions of ``seconds``; commit what a finished one did."""
        nonlocal committed, round_number, change
        kills = 0
        while kills < count:  # a run that finishes before its kill does not count
            assert len(attempts) < 80
            result = attempt(kind, rng.uniform(0.05, 1.1) * seconds, *extra)
            held = check_index(index)
            assert held in (committed, change.expected), "the index holds neither the old nor the new state"
            if result.finished:
                assert held == change.expected
                seconds = result.seconds
            else:
                kills += 1
            if held == change.expected:  # finished, or killed after its commit
                committed = held
                round_number += 1
                change = make(round_number)

    # A first build, killed early: no index yet, or (had it finished) all of it.
    for _ in range(2):
        attempt("first build", rng.uniform(0.3, 2.5))
        if (index / storage.CURRENT_FILE).exists():
            assert set(check_index(index)) == all_paths
    phase("first-build kills")
    baseline = run_and_kill(corpus, index, "first build, not killed", 600)
    assert baseline.returncode == 0, baseline.stderr
    build_seconds = baseline.seconds
    committed = check_index(index)
    assert set(committed) == all_paths
    phase("baseline build")

    # Small updates (60 rewritten, 10 added, 10 deleted), read and written by the main process.
    round_number = 0
    change = ChangeSet(corpus, committed, round_number, rng)
    kill_updates("update", 16, max(1.0, build_seconds * 0.15),
                 lambda number: ChangeSet(corpus, committed, number, rng))
    phase("small-update kills")
    # Big updates (1,100 rewritten): worker processes write segments into the live generation.
    finished = run_and_kill(corpus, index, "update, not killed", 600)
    assert finished.returncode == 0 and check_index(index) == change.expected
    committed, round_number = change.expected, round_number + 1

    def big(number: int) -> ChangeSet:
        return ChangeSet(corpus, committed, number, rng, rewrites=1100)

    change = big(round_number)
    kill_updates("big update", 2, build_seconds * 0.6, big)
    phase("big-update kills")

    # Rebuilds, killed midway and near the end (where the new generation is published).
    for low, high in ((0.4, 0.7), (0.75, 0.95)):
        attempt("rebuild", rng.uniform(low, high) * build_seconds, "--rebuild")
        held = check_index(index)
        assert held in (committed, change.expected)
        if held == change.expected:
            committed = held
            round_number += 1
            change = ChangeSet(corpus, committed, round_number, rng)
    phase("rebuild kills")

    # The next run completes and holds everything.
    final = run_and_kill(corpus, index, "final update", 600)
    assert final.returncode == 0, final.stderr
    assert check_index(index) == change.expected
    phase("final update")
    kills = [a for a in attempts if not a.finished]
    # A killed rebuild leaves its unpublished generation until the next rebuild publishes one.
    current = storage.current_generation(index).name
    leftovers = [p.name for p in index.glob("gen-*") if p.name > current]
    print(f"\n{len(kills)} kills, {round_number} rounds committed, build {build_seconds:.1f} s, "
          f"worker processes still alive 5 s after a kill: {lingering}, "
          f"unpublished generations left: {len(leftovers)}; phases (s): {phases}\n"
          + ", ".join(f"{a.kind}@{a.delay:.2f}s{' (finished)' if a.finished else ''}" for a in attempts))
    assert len(kills) >= 20


@pytest.mark.slow
def test_a_killed_writer_leaves_no_worker_processes(tmp_path: Path) -> None:
    from search.index.update import PARALLEL_THRESHOLD
    corpus = synthetic_corpus(tmp_path / "corpus", PARALLEL_THRESHOLD + 100)
    children: list[int] = []
    try:
        for number in range(2):
            process = subprocess.Popen([*PYTHON, "index", str(corpus), "--index", str(tmp_path / f"ix{number}"), "-q"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
            deadline = time.monotonic() + 30
            while not _children(process.pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.5 + 0.5 * number)  # the workers are busy with their chunks
            children += _children(process.pid)
            process.send_signal(signal.SIGKILL)
            process.wait()
        assert children, "no worker processes were started"
        assert wait_for_exit(children, 10) == []
    finally:
        end_orphans(children)


# --- disk full ---------------------------------------------------------------------------

class FullDisk:
    """Whoosh's files on a disk with ``free`` bytes left: the raw write that would pass the limit
    fails with ENOSPC, below Python's buffering, so the error surfaces where a real one would
    (in a write, a flush or a close). ``free=None`` means no limit; ``used`` counts bytes."""

    def __init__(self) -> None:
        self.free: int | None = None
        self.used = 0

    def install(self, setattr_: Callable[..., Any] | None = None) -> None:
        from whoosh.filedb import filestore
        if setattr_ is None:
            filestore.open = self.open  # shadows the builtin in that module only
        else:
            setattr_(filestore, "open", self.open, raising=False)

    def open(self, path: str, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if not set(mode) & set("wax+"):
            return io.open(path, mode, *args, **kwargs)
        raw = _LimitedFile(path, mode.replace("b", ""), self)
        return io.BufferedRandom(raw) if "+" in mode else io.BufferedWriter(raw)


class _LimitedFile(io.FileIO):
    def __init__(self, path: str, mode: str, disk: FullDisk) -> None:
        super().__init__(path, mode)
        self.disk = disk

    def write(self, data: Any) -> int:
        size = len(memoryview(data))
        if self.disk.free is not None:
            if size > self.disk.free:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.disk.free -= size
        self.disk.used += size
        return super().write(data)


@pytest.fixture
def grown_corpus(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A tiny index, then 60 new articles in its corpus: (corpus, index, what the index holds)."""
    corpus = write_tiny_corpus(tmp_path / "corpus")
    update_index(tmp_path / "ix", corpus)
    synthetic_corpus(corpus / "more", 60)
    return corpus, tmp_path / "ix", stored(tmp_path / "ix")


def test_disk_full_at_any_point_of_a_commit_keeps_the_previous_index(
        tmp_path: Path, grown_corpus: tuple[Path, Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, index, before = grown_corpus
    disk = FullDisk()
    disk.install(monkeypatch.setattr)
    pristine = tmp_path / "pristine"
    shutil.copytree(index, pristine)
    update_index(index, corpus)  # measure what a commit writes
    needed = disk.used
    assert len(stored(index)) == len(before) + 60
    # From the first posting block to the table of contents' last bytes.
    for free in (0, needed // 4, needed // 2, needed * 3 // 4, needed - 20_000, needed - 5_000, needed - 100):
        shutil.rmtree(index)
        shutil.copytree(pristine, index)
        disk.free = free
        try:
            update_index(index, corpus, wait=0)
            failure = 0
        except OSError as error:
            failure = error.errno or 0
        assert failure == errno.ENOSPC, f"{free} of {needed} bytes free"
        disk.free = None
        assert check_index(index) == before, f"{free} of {needed} bytes free"
        summary = update_index(index, corpus, wait=0)  # the same process can write again
        assert summary.added == 60 and len(check_index(index)) == len(before) + 60
        leftovers = [p.name for p in storage.current_generation(index).iterdir() if p.name.endswith(".tmp")]
        assert leftovers == []  # the failed commit's temporary files went with the next commit


def test_a_failed_commit_does_not_leave_the_whoosh_lock_held(
        grown_corpus: tuple[Path, Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, index, before = grown_corpus
    disk = FullDisk()
    disk.install(monkeypatch.setattr)
    disk.free = 0
    with pytest.raises(OSError) as kept:  # a program that logs or stores the error keeps it alive
        update_index(index, corpus, wait=0)
    disk.free = None
    assert kept.value.errno == errno.ENOSPC
    assert update_index(index, corpus, wait=0).added == 60


FULL_DISK_CLI = ("import sys\nfrom tests.test_robustness import FullDisk\ndisk = FullDisk()\n"
                 "disk.free = int(sys.argv.pop(1))\ndisk.install()\nfrom search.interfaces.cli import main\n"
                 "sys.argv[0] = 'newsearch'\nmain()\n")
FILE_SIZE_LIMIT_CLI = ("import resource, sys\nlimit = int(sys.argv.pop(1))\n"
                       "resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))\n"
                       "from search.interfaces.cli import main\nsys.argv[0] = 'newsearch'\nmain()\n")


@pytest.mark.parametrize("rebuild", [False, True], ids=["update", "rebuild"])
def test_disk_full_is_one_line_from_the_cli_and_the_index_stays(
        grown_corpus: tuple[Path, Path, dict[str, str]], rebuild: bool) -> None:
    corpus, index, before = grown_corpus
    generations = sorted(p.name for p in index.glob("gen-*"))
    extra = ["--rebuild"] if rebuild else []
    result = subprocess.run([sys.executable, "-c", FULL_DISK_CLI, "50000", "index", str(corpus), "--index", str(index),
                             *extra], capture_output=True, cwd=ROOT)
    assert_one_line_error(result, "No space left on device", "free some disk space", "newsearch index")
    assert check_index(index) == before
    assert sorted(p.name for p in index.glob("gen-*")) == generations  # a failed rebuild is removed
    # A real limit enforced by the kernel: writes past RLIMIT_FSIZE fail with EFBIG.
    result = subprocess.run([sys.executable, "-c", FILE_SIZE_LIMIT_CLI, "65536", "index", str(corpus),
                             "--index", str(index), *extra], capture_output=True, cwd=ROOT)
    assert_one_line_error(result, "File too large")
    assert check_index(index) == before
    assert newsearch("index", corpus, "--index", index, "-q", *extra).returncode == 0
    assert len(check_index(index)) == len(before) + 60


# --- damaged index files -----------------------------------------------------------------

def _damage(generation: Path, how: str) -> None:
    segment = max(generation.glob("*.seg"), key=lambda p: p.stat().st_size)
    toc = next(generation.glob("*.toc"))
    size = segment.stat().st_size
    target, keep = {"segment emptied": (segment, 0), "segment cut in half": (segment, size // 2),
                    "segment tail cut": (segment, size - 64), "toc cut": (toc, 40)}[how]
    os.truncate(target, keep)


DAMAGE = ["segment emptied", "segment cut in half", "segment tail cut", "toc cut"]


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_index_file_names_rebuild_and_rebuild_recovers(tiny_corpus: Path, tmp_path: Path, how: str) -> None:
    index = tmp_path / "ix"
    update_index(index, tiny_corpus)
    _damage(storage.current_generation(index), how)
    result = newsearch("search", "strike", "--index", index)
    assert_one_line_error(result, "damaged", "--rebuild")
    rebuilt = newsearch("index", tiny_corpus, "--index", index, "--rebuild", "-q")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert newsearch("search", "strike", "--index", index).returncode == 0
    assert len(check_index(index)) == 6


@pytest.mark.parametrize("how", DAMAGE)
def test_updating_a_damaged_index_names_rebuild(tiny_corpus: Path, tmp_path: Path, how: str) -> None:
    index = tmp_path / "ix"
    update_index(index, tiny_corpus)
    _damage(storage.current_generation(index), how)
    with pytest.raises(search.IndexDamagedError, match="--rebuild"):
        update_index(index, tiny_corpus)
    assert_one_line_error(newsearch("index", tiny_corpus, "--index", index), "damaged", "--rebuild")


# --- permissions -------------------------------------------------------------------------

def test_a_new_index_directory_is_private(tiny_corpus: Path, tmp_path: Path) -> None:
    result = newsearch("index", tiny_corpus, "--index", tmp_path / "new" / "ix", "-q")
    assert result.returncode == 0
    assert stat.S_IMODE((tmp_path / "new" / "ix").stat().st_mode) == 0o700
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    assert newsearch("index", tiny_corpus, "--index", shared, "-q").returncode == 0
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # an existing directory keeps its mode


def test_an_index_directory_that_cannot_be_created_is_one_line(tiny_corpus: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = newsearch("index", tiny_corpus, "--index", blocker / "ix")
    assert_one_line_error(result, "cannot write the index")


# --- incremental updates against a rebuild -----------------------------------------------
#
# Hypothesis changes a small corpus step by step (articles added, rewritten, touched, renamed,
# deleted, made unreadable; articles added and deleted through the API) and after each step
# updates an index incrementally; a rebuild of the same folder must hold the same articles and
# skip the same files. This is the test that would have caught the segment without a date column;
# it found more (each now has a regression test in test_whoosh_fixes.py or test_indexing.py):
# segments none of which had a date column, skips read again every other run, duplicates decided
# in local time, a rewritten copy judged by its indexed version, duplicates naming a copy that
# had lost in turn, and unreadable files kept at their last good version and their duplicates.

DIFF_WORDS = ("zebra", "walrus", "otter", "heron")
DIFF_NAMES = ("a.md", "b.md", "c.md", "sub/d.md", "e.txt")
# Two spellings of one canonical link, so that duplicates arrive under either.
DIFF_LINKS = ("", "", "https://news.example.org/s1", "https://NEWS.example.org/s1?utm_source=rss#top",
              "https://news.example.org/s2")
# Three hours apart on one day (and often equal), outside the range query, a bad date (undated).
DIFF_DATES = (None, "2019-12-31", "2026-01-02", "2026-01-02T03:00:00Z", "2026-13-45")
DIFF_SOURCES = ("", "https://feeds.one.example/rss", "https://feeds.two.example/rss")
UNREADABLE = (b"", b"---\ntitle: [unclosed\n---\n<p>zebra</p>\n", b"no front matter, zebra\n", b"---\n- a\n---\nx\n")
# Time zones west and east of UTC: the index stores naive UTC, the reader gives aware UTC.
DIFF_ZONES = ("UTC", "America/New_York", "Asia/Kolkata")
EVERYTHING = " OR ".join(DIFF_WORDS)
DIFF_QUERIES = (*DIFF_WORDS, EVERYTHING, "date:[2020-01-01 to 2030-12-31]", "tag:alpha", "category:local",
                "title:zebra", "description:short")
API_PREFIX = "api/"

diff_articles = st.fixed_dictionaries({
    "title": st.sampled_from(DIFF_WORDS).map(lambda word: f"News of the {word}"),
    "body": st.lists(st.sampled_from(DIFF_WORDS), min_size=1, max_size=3).map(
        lambda words: "".join(f"<p>The {word} came back.</p>" for word in words)),
    "date": st.sampled_from(DIFF_DATES),
    "link": st.sampled_from(DIFF_LINKS),
    "source": st.sampled_from(DIFF_SOURCES),
    "categories": st.sampled_from(((), ("world",), ("world", "local"))),
    "tags": st.sampled_from(((), ("alpha",), ("alpha", "beta"))),
    "description": st.sampled_from(("", "A short description.")),
    "draft": st.integers(0, 5).map(lambda n: n == 0),
})


def _answers(ix: search.Index, query: str, sort: str = "relevance") -> tuple[int, list[search.Hit]]:
    """The total and the hits of articles that have a file (those added through the API left out)."""
    results = ix.search(query, limit=1000, sort=sort, snippets=0, highlight=None)
    assert len(results.hits) == results.total, query
    hits = [hit for hit in results.hits if not hit.path.startswith(API_PREFIX)]
    return len(hits), hits


def _held_paths(ix: search.Index) -> dict[str, str]:
    """Path -> id of every article the index holds (each has a word of the vocabulary)."""
    return {hit.path: hit.id for hit in ix.search(EVERYTHING, limit=1000, snippets=0, highlight=None).hits}


class IncrementalMatchesRebuild(RuleBasedStateMachine):
    """An index updated after every change holds what a rebuild of the folder holds.

    One difference is by design (README, Indexing): a file that was indexed and then becomes
    unreadable keeps its last good version in the index until it is rewritten, deleted, loses to
    a duplicate or is deleted through the API. ``stale`` holds those versions, and the rebuild
    reads a copy of the folder with them in place (and the unreadable file's own mtime).
    """

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="newsearch-diff-"))
        self.corpus = self.root / "corpus"
        self.corpus.mkdir()
        self.incremental, self.rebuilt = self.root / "incremental", self.root / "rebuilt"
        self.clock = 1_767_225_600 * 10**9  # every write a second later than the last
        self.stale: dict[str, tuple[bytes, str]] = {}  # path -> (last good version, its id)
        self.api: set[str] = set()  # ids of the articles added through Index.add
        # Files given a later mtime but the same content: the index keeps the old mtime, so each
        # update reads them again (to compare digests) and the duplicates that lost to them too.
        self.dirty = True  # whether the folder (or a file's article) changed since the last update
        self.zone = os.environ.get("TZ")
        update_index(self.incremental, self.corpus)

    @initialize(zone=st.sampled_from(DIFF_ZONES))
    def in_time_zone(self, zone: str) -> None:
        os.environ["TZ"] = zone
        time.tzset()

    def teardown(self) -> None:
        if self.zone is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = self.zone
        time.tzset()
        shutil.rmtree(self.root, ignore_errors=True)

    # Changes ------------------------------------------------------------------------------

    def existing(self) -> list[str]:
        return [name for name in DIFF_NAMES if (self.corpus / name).exists()]

    def tick(self, path: Path) -> None:
        self.clock += 10**9
        os.utime(path, ns=(self.clock, self.clock))
        self.dirty = True

    def write(self, name: str, data: bytes, readable: bool) -> None:
        path = self.corpus / name
        if readable:
            self.stale.pop(name, None)
        elif name not in self.stale and path.exists():
            with search.open_index(self.incremental) as ix:
                held = _held_paths(ix)
            if name in held:
                self.stale[name] = (path.read_bytes(), held[name])
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        self.tick(path)

    @rule(name=st.sampled_from(DIFF_NAMES), fields=diff_articles)
    def write_article(self, name: str, fields: dict[str, Any]) -> None:
        """A new article, or a new version of one (new title, body, date, link...)."""
        self.write(name, article_text(**fields).encode(), readable=True)

    @precondition(lambda self: self.existing())
    @rule(fields=diff_articles, data=st.data())
    def write_duplicate(self, fields: dict[str, Any], data: st.DataObject) -> None:
        """Another file with an existing article's link: the same story again (or a new link)."""
        original = data.draw(st.sampled_from(self.existing()), label="original")
        name = data.draw(st.sampled_from([n for n in DIFF_NAMES if n != original]), label="copy")
        try:
            link = search.load_article(self.corpus / original).link or DIFF_LINKS[2]
        except search.ArticleError:
            link = DIFF_LINKS[3]
        self.write(name, article_text(**{**fields, "link": link}).encode(), readable=True)

    @rule(name=st.sampled_from(DIFF_NAMES), data=st.sampled_from(UNREADABLE))
    def write_unreadable(self, name: str, data: bytes) -> None:
        self.write(name, data, readable=False)

    @precondition(lambda self: self.existing())
    @rule(data=st.data())
    def touch(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(self.existing()), label="touched")
        self.tick(self.corpus / name)

    @precondition(lambda self: self.existing())
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(self.existing()), label="deleted")
        (self.corpus / name).unlink()
        self.stale.pop(name, None)
        self.dirty = True

    @precondition(lambda self: 0 < len(self.existing()) < len(DIFF_NAMES))
    @rule(data=st.data())
    def rename(self, data: st.DataObject) -> None:
        source = data.draw(st.sampled_from(self.existing()), label="from")
        target = data.draw(st.sampled_from([n for n in DIFF_NAMES if n not in self.existing()]), label="to")
        (self.corpus / target).parent.mkdir(exist_ok=True)
        os.rename(self.corpus / source, self.corpus / target)  # keeps the mtime
        self.stale.pop(source, None)
        self.dirty = True

    @rule(word=st.sampled_from(DIFF_WORDS))
    def api_add(self, word: str) -> None:
        """An article a program made: no file, so only the incremental index has it (undated and
        without a source, so that ``stats()`` compares but for the count)."""
        number = len(self.api) + 1
        while f"https://api.example.org/{number}" in self.api:
            number += 1
        link = f"https://api.example.org/{number}"
        article = search.Article(
            id=link, path=f"{API_PREFIX}{number}", title=f"Bot note on the {word}", description="",
            body=f"The {word} was seen by a bot.", tags=("alpha",), categories=(), source="", link=link,
            slug="", image="", date=None, draft=False)
        with search.open_index(self.incremental) as ix:
            ix.add(article)
        self.api.add(link)

    @rule(data=st.data())
    def api_delete(self, data: st.DataObject) -> None:
        """Delete an article by id: one added through the API, or one with a file (which the
        next update reads again, as the index no longer holds its path)."""
        with search.open_index(self.incremental) as ix:
            held = _held_paths(ix)
            if not held:
                return
            path = data.draw(st.sampled_from(sorted(held)), label="deleted id's path")
            assert ix.delete(held[path])
        self.api.discard(held[path])
        self.stale.pop(path, None)
        self.dirty = True

    @rule()
    def nothing(self) -> None:
        """No change: the next update must change nothing and read no skipped file again."""

    # The invariant -------------------------------------------------------------------------

    def reference_corpus(self) -> Path:
        """The folder, or a copy with each stale file's last good version in place."""
        if not self.stale:
            return self.corpus
        shadow = self.root / "shadow"
        shutil.rmtree(shadow, ignore_errors=True)
        shutil.copytree(self.corpus, shadow)  # copy2: mtimes kept to the nanosecond
        for name, (good, _) in self.stale.items():
            mtime = (shadow / name).stat().st_mtime_ns
            (shadow / name).write_bytes(good)
            os.utime(shadow / name, ns=(mtime, mtime))
        return shadow

    def file_id(self, name: str) -> str | None:
        """The id of the article a file holds now, or None if it is unreadable or a draft."""
        try:
            article = search.load_article(self.corpus / name, root=self.corpus)
        except search.ArticleError:
            return None
        return None if article.draft else article.id

    @invariant()
    def incremental_update_matches_a_rebuild(self) -> None:
        mine = update_index(self.incremental, self.corpus)
        theirs = update_index(self.rebuilt, self.reference_corpus(), rebuild=True)
        assert mine.total - len(self.api) == theirs.total
        # The same skipped files for the same reasons; a stale file is skipped as unreadable.
        skipped = {(skip.path, skip.reason) for skip in mine.skipped if skip.path not in self.stale}
        assert skipped == {(skip.path, skip.reason) for skip in theirs.skipped if skip.path not in self.stale}
        assert set(self.stale) <= {skip.path for skip in mine.skipped}
        if not self.dirty:
            assert not mine.changed, mine
            # Touched files and their losing duplicates included: read once, then remembered.
            again = [skip for skip in mine.skipped if not skip.repeated]
            assert again == [], "an unchanged skipped file was read again"
        self.dirty = False
        with search.open_index(self.incremental) as ix_mine, search.open_index(self.rebuilt) as ix_theirs:
            for query in DIFF_QUERIES:
                (total, hits), (their_total, their_hits) = _answers(ix_mine, query), _answers(ix_theirs, query)
                assert total == their_total, query
                assert {hit.id for hit in hits} == {hit.id for hit in their_hits}, query
            # Which file holds each story, and what the index says of it.
            def described(hits: list[search.Hit]) -> dict[str, tuple[Any, ...]]:
                return {hit.id: (hit.path, hit.title, hit.date, hit.source, hit.tags, hit.categories,
                                 hit.description) for hit in hits}
            assert described(_answers(ix_mine, EVERYTHING)[1]) == described(_answers(ix_theirs, EVERYTHING)[1])
            for sort in ("newest", "oldest"):  # the dates' order is determined, ties or not
                assert ([hit.date for hit in _answers(ix_mine, EVERYTHING, sort)[1]]
                        == [hit.date for hit in _answers(ix_theirs, EVERYTHING, sort)[1]]), sort
            stats, their_stats = ix_mine.stats(), ix_theirs.stats()
            assert stats.articles - len(self.api) == their_stats.articles
            assert (stats.first_date, stats.last_date, stats.sources) == (
                their_stats.first_date, their_stats.last_date, their_stats.sources)
            held = _held_paths(ix_mine)
        # A stale version leaves the index only for a duplicate with its id (checked above).
        for name, (_, article_id) in list(self.stale.items()):
            if name not in held:
                assert any(self.file_id(other) == article_id for other in self.existing() if other != name), name
                del self.stale[name]


# 10 sequences by default (about 40 s on a shared 2-core machine); for a longer run:
# NEWSEARCH_DIFF_EXAMPLES=500.
IncrementalMatchesRebuild.TestCase.settings = settings(
    max_examples=int(os.environ.get("NEWSEARCH_DIFF_EXAMPLES", "10")), stateful_step_count=8, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_incremental_updates_match_a_rebuild = IncrementalMatchesRebuild.TestCase
test_incremental_updates_match_a_rebuild.pytestmark = [pytest.mark.slow]


def test_a_worker_dies_with_its_killed_parent_even_while_busy(tmp_path: Path) -> None:
    """Issue 23 item 10: a worker asks the kernel to kill it with its parent (PR_SET_PDEATHSIG);
    the pipe's EOF alone let a worker busy with a chunk live on (up to 20 s). The worker here is
    busy for a minute: only the kernel's signal ends it."""
    script = ("import multiprocessing, time\n"
              "from search.index.workers import _die_with_parent\n"
              "def busy():\n    _die_with_parent()\n    time.sleep(60)\n"
              "if __name__ == '__main__':\n"
              "    worker = multiprocessing.get_context('spawn').Process(target=busy)\n"
              "    worker.start()\n    print(worker.pid, flush=True)\n    time.sleep(60)\n")
    (tmp_path / "parent.py").write_text(script)
    parent = subprocess.Popen([sys.executable, str(tmp_path / "parent.py")], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    children: list[int] = []
    try:
        assert parent.stdout is not None
        children = [int(parent.stdout.readline())]
        time.sleep(1.0)  # the worker has started and made its request
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert wait_for_exit(children, 2) == []
    finally:
        end_orphans(children)


def test_a_parallel_build_that_cannot_write_says_so_in_one_line(tmp_path: Path) -> None:
    """Issue 23 item 9: when the workers' writes fail half-way (here a file-size limit, as
    ``ulimit -f`` sets), the run ends with one line, exit 2, and no worker traceback."""
    import resource

    from search.index.update import PARALLEL_THRESHOLD
    corpus = synthetic_corpus(tmp_path / "corpus", PARALLEL_THRESHOLD + 200)

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    result = subprocess.run([*PYTHON, "index", str(corpus), "--index", str(tmp_path / "ix")], capture_output=True,
                            text=True, cwd=ROOT, preexec_fn=small_files, timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "cannot write the index" in result.stderr
