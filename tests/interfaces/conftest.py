"""Fixtures of the web tests: one indexed corpus per test module, made to exercise the page."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import article_text, write_tiny_corpus

# An article whose title and body try to run script in the page: it must show as text.
HOSTILE_TITLE = "Levee <script>window.pwned=1</script> report"
HOSTILE_BODY = ("<p>Inspectors wrote &lt;script&gt;window.pwned=1&lt;/script&gt; and "
                "&lt;img src=x onerror=window.pwned=2&gt; beside the levee.</p>")
# Enough strike stories from two sources for two pages of ten and a facet that narrows them.
STRIKE_STORIES = 14


def write_web_corpus(folder: Path) -> Path:
    """The tiny corpus, strike stories from two feeds, and the hostile article."""
    write_tiny_corpus(folder)
    for number in range(STRIKE_STORIES):
        feed = "dockside" if number % 3 == 0 else "harbour"
        (folder / f"strike-{number:02}.md").write_text(article_text(
            f"Strike talks, round {number}", f"<p>Union and port meet again about the strike, day {number}.</p>",
            date=f"2026-05-{number + 1:02}", source=f"https://feeds.{feed}.example/rss",
            categories=(f"feeds.{feed}.example",), tags=("strike",),
            link=f"https://news.example.org/strike/{number}"), encoding="utf-8")
    (folder / "hostile.md").write_text(article_text(
        HOSTILE_TITLE, HOSTILE_BODY, link="javascript:window.pwned=3", tags=("levee",),
        source="https://feeds.valley.example/rss"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def web_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of ``write_web_corpus``, built once per module (do not modify)."""
    from search.index.update import update_index
    root = tmp_path_factory.mktemp("web")
    update_index(root / "index", write_web_corpus(root / "corpus"))
    return root / "index"
