"""Shared fixtures: a tiny corpus written by the tests, the bundled sample corpus, and indexes
built from them in temporary folders (never in the project's own index/)."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

import search

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"


def article_text(
    title: str = "A title",
    body: str = "<p>Some body text.</p>",
    *,
    date: str | None = "2026-01-08",
    description: str = "",
    link: str = "",
    source: str = "https://feeds.example.org/rss",
    categories: tuple[str, ...] = ("feeds.example.org",),
    tags: tuple[str, ...] = (),
    draft: bool = False,
) -> str:
    """An article in the aggregator's format (see ../shared/seeds/000_*.txt)."""
    lines = ["---", f"title: {json.dumps(title)}"]
    if date is not None:
        lines.append(f"date: {date}")
    lines += [
        f"description: {json.dumps(description)}",
        f"summary: {json.dumps(description)}",
        f"slug: {json.dumps(title.lower().replace(' ', '-'))}",
        "image: ''",
        f"link: '{link}'",
        f"source: '{source}'",
        "categories:",
        *[f"- '{c}'" for c in categories],
        "tags:" if tags else "tags: []",
        *[f"- '{t}'" for t in tags],
        "",
        f"draft: {'true' if draft else 'false'}",
        "---",
        body,
    ]
    return "\n".join(lines) + "\n"


WriteArticle = Callable[..., Path]


@pytest.fixture
def write_article(tmp_path: Path) -> WriteArticle:
    """Write an article file into ``tmp_path/corpus`` and return its path."""
    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)

    def write(name: str, title: str = "A title", body: str = "<p>Some body text.</p>", **fields: object) -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article_text(title, body, **fields), encoding="utf-8")  # type: ignore[arg-type]
        return path

    return write


# A small corpus with known answers: each test that searches it can say what must come first.
TINY = {
    "transit-strike.md": dict(
        title="Harbour Line drivers strike over pay",
        body="<p>Drivers on the Harbour Line walked out on Monday in a dispute over pay.</p>"
             "<p>The transit authority said talks would resume.</p>",
        date="2026-07-06", tags=("transit", "strike"), link="https://news.example.org/a/strike",
        source="https://feeds.harbour.example/rss", categories=("feeds.harbour.example",),
        description="Drivers walk out in a pay dispute."),
    "strike-day-two.md": dict(
        title="Commuters struggle on second day of strike",
        body="<p>Commuters crowded ferries as the strike entered a second day. Buses on the harbour route were full.</p>",
        date="2026-07-07T09:30:00Z", tags=("transit", "commuters"), source="https://feeds.harbour.example/rss",
        categories=("feeds.harbour.example",)),
    "bank-rates.md": dict(
        title="Central bank raises interest rates",
        body="<p>The central bank raised interest rates to fight inflation, its third rise this year.</p>",
        date="2026-09-17", tags=("economy", "rates"), source="https://feeds.ledger.example/markets",
        categories=("feeds.ledger.example",)),
    "heatwave.md": dict(
        title="Heatwave pushes power grid to the limit",
        body="<p>Record temperatures forced rolling blackouts. Power demand hit a record.</p>",
        date="2026-08-02", tags=("weather", "power"), source="https://feeds.valley.example/rss",
        categories=("feeds.valley.example",)),
    "flood.md": dict(
        title="River floods town after levee breach",
        body="<p>The river burst through a levee overnight. Residents of Millbrook were evacuated.</p>"
             "<p><a href='https://x.example/v/1'><strong>WATCH: FLOOD FOOTAGE</strong></a></p>",
        date="2026-11-12", tags=("flood",), source="https://feeds.valley.example/rss",
        categories=("feeds.valley.example",)),
    "election.md": dict(
        title="Mayor candidates debate immigration",
        body="<p>The two candidates for mayor clashed over immigration and the welcome city ordinance.</p>",
        date="2026-10-01", tags=("election", "immigration"), source="https://feeds.civic.example/rss",
        categories=("feeds.civic.example",)),
}


def write_tiny_corpus(folder: Path) -> Path:
    """Write the TINY corpus into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, fields in TINY.items():
        fields = dict(fields)
        title = str(fields.pop("title"))
        body = str(fields.pop("body"))
        (folder / name).write_text(article_text(title, body, **fields), encoding="utf-8")  # type: ignore[arg-type]
    return folder


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A fresh copy of the tiny corpus, free to modify."""
    return write_tiny_corpus(tmp_path / "tiny")


@pytest.fixture
def tiny_index(tmp_path: Path, tiny_corpus: Path) -> search.Index:
    """An index of the tiny corpus in a temporary folder."""
    from search.index.update import update_index
    update_index(tmp_path / "index", tiny_corpus)
    return search.open_index(tmp_path / "index")


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> search.Index:
    """An index of the bundled sample corpus (built once per test session; do not modify).

    Whoosh writes its own postings of every field into it as well (newsearch reads only its
    columns), so that tests can compare the engine with Whoosh's matchers on the same index.
    """
    from search.index.update import update_index
    from search.whoosh_internals import writing
    folder = tmp_path_factory.mktemp("sample") / "index"
    writing.KEEP_WHOOSH_POSTINGS = True
    try:
        update_index(folder, SAMPLE_CORPUS)
    finally:
        writing.KEEP_WHOOSH_POSTINGS = False
    return search.open_index(folder)


@pytest.fixture
def whoosh_oracle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Indexes written in this test keep Whoosh's own postings of every field, for comparing
    the engine with Whoosh's matchers (in-process writes only)."""
    from search.whoosh_internals import writing
    monkeypatch.setattr(writing, "KEEP_WHOOSH_POSTINGS", True)


@pytest.fixture
def shared_dir() -> Path:
    """../shared, or skip the test when this clone has none beside it."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this clone")
    return SHARED


def copy_tree(source: Path, target: Path) -> Path:
    """Copy a corpus folder so a test may change it."""
    shutil.copytree(source, target)
    return target


@pytest.fixture(scope="session")
def reuters_index(tmp_path_factory: pytest.TempPathFactory) -> search.Index:
    """An index of Reuters-21578 made from ../shared (about 40 s, once per session; skipped when
    ../shared is not beside this clone). Some of Whoosh's failures show only on an index this
    size (several posting blocks per term)."""
    import subprocess
    import sys
    from search.index.update import update_index
    tool, archive = SHARED / "tools" / "make_corpus.py", SHARED / "corpora" / "reuters21578.tar.gz"
    if not (tool.is_file() and archive.is_file()):
        pytest.skip("../shared's Reuters corpus is not beside this clone")
    root = tmp_path_factory.mktemp("reuters")
    subprocess.run([sys.executable, str(tool), "reuters", str(archive), str(root / "corpus")], check=True,
                   capture_output=True)
    update_index(root / "index", root / "corpus")
    return search.open_index(root / "index")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_answering(process: subprocess.Popen[bytes], url: str, log: Path, within: float, what: str) -> None:
    """Return once ``url`` answers (no proxy); fail with the server's log if ``process`` ends, or
    naming ``what`` after ``within`` seconds."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + within
    while True:
        assert process.poll() is None, log.read_text()
        try:
            with opener.open(url, timeout=2):
                return
        except OSError:
            assert time.monotonic() < deadline, f"{what} did not answer within {within:g} s"
            time.sleep(0.05)
