"""`newsearch help TOPIC` and `newsearch completion SHELL`, through the real command line."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from search.interfaces.topics import TOPICS
from tests.interfaces.test_cli import newsearch

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_every_topic() -> None:
    listed = newsearch("help")
    assert listed.returncode == 0
    for name, (summary, _page) in TOPICS.items():
        assert f"{name}" in listed.stdout and summary in listed.stdout


@pytest.mark.parametrize("name", list(TOPICS))
def test_each_topic_prints_its_page(name: str) -> None:
    shown = newsearch("help", name[:3])  # a prefix names the topic
    assert shown.returncode == 0
    assert shown.stdout == TOPICS[name][1]


def test_an_unknown_topic_is_one_line_and_exit_2() -> None:
    shown = newsearch("help", "zebra")
    assert shown.returncode == 2
    assert shown.stderr.count("\n") == 1 and "query, dates" in shown.stderr


def test_the_query_page_has_every_form_of_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Query language", 1)[1].split("\n\n", 2)[1]
    forms = [form for row in table.splitlines()[2:] for form in re.findall(r"`([^`]+)`", row.split(" | ")[0])]
    assert len(forms) > 20
    page = TOPICS["query"][1]
    missing = [form for form in forms if form not in page]
    assert not missing


def test_the_completion_script_completes_in_a_real_bash() -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash here")
    script = newsearch("completion", "bash")
    assert script.returncode == 0 and "_NEWSEARCH_COMPLETE" in script.stdout
    shim = Path(sys.executable).parent / "newsearch"
    if not shim.exists():
        pytest.skip("the newsearch command is not installed beside this Python")
    run = subprocess.run([bash, "-c", script.stdout + '\nCOMP_WORDS=(newsearch search --sort n); COMP_CWORD=3;'
                          ' _newsearch_completion newsearch; echo "${COMPREPLY[@]}"'], capture_output=True, text=True,
                         env={**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}, timeout=60)
    assert run.stdout.split() == ["newest"], run.stderr


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_are_printed(shell: str) -> None:
    script = newsearch("completion", shell)
    assert script.returncode == 0 and "_NEWSEARCH_COMPLETE" in script.stdout and shell in script.stdout
