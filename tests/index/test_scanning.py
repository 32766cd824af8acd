"""Scanning: the corpus walk (hidden files, folder links, broken links, paths kept once)."""
from __future__ import annotations

from pathlib import Path

from search.index.scanning import scan_corpus

from tests.conftest import article_text


def test_scan_ignores_hidden_files_and_does_not_follow_folder_links(tmp_path: Path, tiny_corpus: Path) -> None:
    (tiny_corpus / ".hidden.md").write_text(article_text())
    (tiny_corpus / "sub").mkdir()
    (tiny_corpus / "sub" / "deep.md").write_text(article_text())
    (tiny_corpus / "sub" / "loop").symlink_to(tiny_corpus)
    (tiny_corpus / "dangling.md").symlink_to(tiny_corpus / "missing.md")
    problems: list = []
    found = scan_corpus(tiny_corpus, problems)
    assert "sub/deep.md" in found and ".hidden.md" not in found
    assert not any("loop" in key for key in found)
    assert [p.path for p in problems] == ["dangling.md"]


def test_scan_keeps_each_path_once(tiny_corpus: Path) -> None:
    (tiny_corpus / "sub").mkdir()
    (tiny_corpus / "sub" / "deep.md").write_text(article_text())
    found = scan_corpus(tiny_corpus, [])
    # A big corpus holds a state per file: its relative path is the key itself, not a copy.
    assert all(state.path is key for key, state in found.items())
    assert (tiny_corpus / found["sub/deep.md"].path).is_file()
