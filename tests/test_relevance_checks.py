"""benchmarks/relevance_checks.py: the Reuters and BBC checks, on a few made-up stories."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load() -> ModuleType:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("relevance_checks", ROOT / "benchmarks" / "relevance_checks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


checks = _load()

DESCRIPTIONS = """****Subject Codes (135)

Money/Foreign Exchange (MONEY-FX)
Crude Oil (CRUDE)
ALUM
________________________________________________________________
African Development Bank (ADB-AFRICA)@*
"""

STORIES = {
    1: ("Oil prices rise", "Crude oil prices rose on OPEC output cuts.", ["crude"]),
    2: ("Dollar falls", "The dollar fell against the yen in foreign exchange trading.", ["money-fx"]),
    3: ("Aluminium output", "Aluminium smelters cut output as oil costs rose.", ["alum", "crude"]),
}


def _story(title: str, body: str, tags: list[str]) -> str:
    tag_lines = "".join(f"- '{tag}'\n" for tag in tags)
    return (f'---\ntitle: "{title}"\ndate: 1987-03-01T10:00:00Z\ncategories:\n- \'usa\'\ntags:\n{tag_lines}'
            f"\ndraft: false\n---\n<p>{body}</p>")


@pytest.fixture
def reuters(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "reuters"
    corpus.mkdir()
    for newid, (title, body, tags) in STORIES.items():
        (corpus / f"reuters-{newid}.md").write_text(_story(title, body, tags), encoding="utf-8")
    descriptions = tmp_path / "cat-descriptions_120396.txt"
    descriptions.write_text(DESCRIPTIONS, encoding="latin-1")
    return corpus, descriptions


def test_topic_names_come_from_the_descriptions(reuters: tuple[Path, Path]) -> None:
    assert checks.topic_names(reuters[1]) == {"money-fx": "Money/Foreign Exchange", "crude": "Crude Oil"}


def test_reuters_copy_has_no_tags_and_topics_name_the_tagged_stories(reuters: tuple[Path, Path], tmp_path: Path) -> None:
    copy, topics, items = checks.reuters_setup(*reuters, tmp_path / "work", stories=3, topic_count=2, headline_count=2)
    assert topics["crude"] == ("Crude Oil", {"reuters-1", "reuters-3"})
    assert topics["alum"] == ("alum", {"reuters-3"})  # no description: the code itself
    assert "money-fx" not in topics  # only the two most tagged topics (ties by name)
    text = (copy / "reuters-3.md").read_text(encoding="utf-8")
    assert "tags: []\n" in text and "'crude'" not in text and "'usa'" in text
    assert len(items) == 2 and all(name.startswith("reuters-") for name, _title in items)


def test_reuters_check_runs_end_to_end(reuters: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert checks.main(["reuters", *map(str, reuters), "--work", str(tmp_path / "work"), "--stories", "3",
                        "--topics", "2", "--headlines", "3"]) == 0
    line = capsys.readouterr().out
    assert line.startswith("reuters topics MAP ") and "headlines MRR 1.0000" in line
