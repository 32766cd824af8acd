"""The interactive prompt (issue 5): driven through a real pseudo-terminal with pexpect, through a
pipe as a script, and its parts (completion, history location, command dispatch) directly."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pexpect
import pytest

import search
from search.interfaces import repl
from search.index.update import update_index
from search.present.results import Results

from tests.conftest import article_text, write_tiny_corpus

TIMEOUT = 10
PROMPT = r"newsearch( \[[^\]]*\])?> "

# Eleven reports that all mention "flood", one a month from January, so that with the tiny
# corpus's own flood story "flood" finds 12 articles: two pages of 10, 6 of them from July on.
REPORTS = {f"report-{month:02d}.md": (f"Flood report {month:02d}", f"2026-{month:02d}-15") for month in range(1, 12)}

LONG_BODY = ("<p>Flood waters reached the old mill on Tuesday.</p>"
             + "".join(f"<p>Filler paragraph {n} about the weather and the roads in the valley.</p>" for n in range(12))
             + "<p>The closing paragraph mentions zebras grazing by the canal.</p>")


def build_index(folder: Path) -> Path:
    """An index of the tiny corpus plus the eleven flood reports (17 articles) in ``folder``."""
    corpus = write_tiny_corpus(folder / "corpus")
    for name, (title, date) in REPORTS.items():
        body = LONG_BODY if name == "report-03.md" else "<p>The flood waters rose again in the district.</p>"
        (corpus / name).write_text(article_text(title, body, date=date, tags=("flood",)), encoding="utf-8")
    update_index(folder / "index", corpus)
    return folder / "index"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index for the tests that only read it (built once: every test here spawns processes)."""
    return build_index(tmp_path_factory.mktemp("repl"))


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The child's environment: its own history file, no pager, no inputrc, no NO_COLOR."""
    env = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "PAGER")}
    env.update(NEWSEARCH_HISTORY=str(tmp_path / "history"), NEWSEARCH_PAGER="cat", INPUTRC="/dev/null",
               TERM="dumb", XDG_STATE_HOME=str(tmp_path / "state"))
    env.update(extra)
    return env


def spawn(index_dir: Path, tmp_path: Path, *args: str, **env: str) -> pexpect.spawn:
    """Start ``newsearch repl`` on a pseudo-terminal and wait for its first prompt."""
    child = pexpect.spawn(sys.executable, ["-m", "search", "repl", "--index", str(index_dir), *args],
                          env=environment(tmp_path, **env), encoding="utf-8", timeout=TIMEOUT,
                          dimensions=(50, 200))
    child.expect(PROMPT)
    return child


def run(child: pexpect.spawn, line: str) -> str:
    """Type a line and return everything printed up to the next prompt."""
    child.sendline(line)
    child.expect(PROMPT)
    return str(child.before)


def quit_cleanly(child: pexpect.spawn) -> None:
    """Ctrl-D, then check the exit status is 0."""
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def script(index_dir: Path, tmp_path: Path, text: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``newsearch repl`` with ``text`` on a pipe as its stdin."""
    return subprocess.run([sys.executable, "-m", "search", "repl", "--index", str(index_dir), *args], input=text,
                          capture_output=True, text=True, env=environment(tmp_path, **env), timeout=60)


# On a terminal -------------------------------------------------------------------------------

def test_banner_then_results_and_paging(index_dir: Path, tmp_path: Path) -> None:
    child = pexpect.spawn(sys.executable, ["-m", "search", "repl", "--index", str(index_dir)],
                          env=environment(tmp_path), encoding="utf-8", timeout=TIMEOUT)
    child.expect(PROMPT)
    assert "17 articles from 5 sources, 2026-01-15 to 2026-11-15" in str(child.before)
    first = run(child, "flood")
    assert "12 results for 'flood' (showing 1-10, page 1 of 2" in first
    assert "Enter or :next for page 2 of 2" in first
    second = run(child, "")  # Enter on an empty line: the next page
    assert "showing 11-12, page 2 of 2" in second
    assert "no more results" in run(child, ":next")
    assert "showing 1-10, page 1 of 2" in run(child, ":prev")
    assert "showing 11-12, page 2 of 2" in run(child, ":n")  # an unambiguous prefix
    quit_cleanly(child)


def test_enter_after_did_you_mean_searches_the_suggestion_once(index_dir: Path, tmp_path: Path) -> None:
    child = spawn(index_dir, tmp_path)
    typo = run(child, "harbuor")
    assert "no results for 'harbuor'" in typo
    assert "did you mean: harbour (Enter to search for it)" in typo
    fixed = run(child, "")
    assert "result for 'harbour'" in fixed or "results for 'harbour'" in fixed
    assert "did you mean" not in fixed
    # Offered for the next line only: after another line, Enter pages the query as before.
    run(child, "harbuor")
    run(child, ":help")
    assert "no more results" in run(child, "")
    quit_cleanly(child)
    # The history holds what was searched, not the empty line.
    assert (tmp_path / "history").read_text().splitlines() == ["harbuor", "harbour", "harbuor", ":help"]


def test_open_shows_the_full_text_and_related_lists_articles_like_a_hit(index_dir: Path, tmp_path: Path) -> None:
    child = spawn(index_dir, tmp_path)
    listing = run(child, "mill")
    assert "Flood report 03" in listing and "zebras" not in listing
    article = run(child, ":open 1")
    assert "Flood report 03\n" in article.replace("\r", "")
    assert "The closing paragraph mentions zebras grazing by the canal." in article
    assert "newsearch: no hit 7 here" in run(child, ":open 7")
    run(child, "harbour line drivers")
    related = run(child, ":related 1")
    assert "for 'related:https://news.example.org/a/strike'" in related
    assert "Commuters struggle on second day of strike" in related
    quit_cleanly(child)


def test_sort_and_date_filters_persist_until_cleared(index_dir: Path, tmp_path: Path) -> None:
    child = spawn(index_dir, tmp_path)
    run(child, "flood")
    newest = run(child, ":sort newest")
    assert "sorted by newest" in newest
    assert newest.index("1. Flood report 11") < newest.index("2. River floods town after levee breach")
    since = run(child, ":since 2026-07")
    assert "6 results for 'flood'" in since
    child.sendline("report")
    child.expect_exact("newsearch [newest, since 2026-07]> ")
    assert "5 results for 'report'" in str(child.before)
    assert "newsearch: not a date: 'someday'" in run(child, ":since someday")
    assert "5 results for 'report'" in run(child, "report")  # the bad date did not replace the filter
    # An until before the since is refused, and the filters stay as they were.
    refused = run(child, ":until 2026-06")
    assert "newsearch: :until 2026-06 leaves no date between since 2026-07 and until 2026-06; until stays unset" \
        in refused.replace("\r", "")
    assert "5 results for 'report'" in run(child, "report")
    cleared = run(child, ":since")
    assert "since cleared" in cleared and "11 results for 'report'" in cleared
    quit_cleanly(child)


def test_a_bad_query_is_one_line_and_the_prompt_stays(index_dir: Path, tmp_path: Path) -> None:
    child = spawn(index_dir, tmp_path)
    output = run(child, '"unclosed')
    errors = [line for line in output.replace("\r", "").splitlines() if line.startswith("newsearch:")]
    assert len(errors) == 1 and "unbalanced" in errors[0]
    assert "Traceback" not in output
    assert "unknown command :frobnicate" in run(child, ":frobnicate")
    assert "1 result for 'heatwave'" in run(child, "heatwave")
    quit_cleanly(child)


def test_ctrl_c_clears_the_line(index_dir: Path, tmp_path: Path) -> None:
    child = spawn(index_dir, tmp_path)
    child.send("half typed")
    child.expect_exact("half typed")
    child.sendintr()
    child.expect(PROMPT)
    assert "1 result for 'heatwave'" in run(child, "heatwave")
    quit_cleanly(child)


def test_bare_newsearch_on_a_terminal_opens_the_prompt(index_dir: Path, tmp_path: Path) -> None:
    child = pexpect.spawn(sys.executable, ["-m", "search"], env=environment(tmp_path, NEWSEARCH_INDEX=str(index_dir)),
                          encoding="utf-8", timeout=TIMEOUT, cwd=str(tmp_path))
    child.expect(PROMPT)
    assert "17 articles from 5 sources" in str(child.before)
    assert "1 result for 'heatwave'" in run(child, "heatwave")
    quit_cleanly(child)


def test_open_uses_the_pager_on_a_terminal(index_dir: Path, tmp_path: Path) -> None:
    child = spawn(index_dir, tmp_path, NEWSEARCH_PAGER="sed s/^/PAGED:/")
    run(child, "mill")
    assert "PAGED:The closing paragraph mentions zebras" in run(child, ":open 1")
    quit_cleanly(child)


def test_quit_exits_zero(index_dir: Path, tmp_path: Path) -> None:
    # Ctrl-D exiting 0 is checked at the end of every terminal test (quit_cleanly).
    child = spawn(index_dir, tmp_path)
    child.sendline(":quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_history_is_recalled_in_a_second_session(index_dir: Path, tmp_path: Path) -> None:
    first = spawn(index_dir, tmp_path)
    run(first, "levee")
    run(first, "heatwave")
    run(first, "heatwave")  # a repeat is kept once
    run(first, "")  # blank lines are not kept
    quit_cleanly(first)
    assert (tmp_path / "history").read_text().splitlines() == ["levee", "heatwave"]
    second = spawn(index_dir, tmp_path)
    second.send("\x1b[A")  # up arrow
    second.expect_exact("heatwave")
    second.send("\r")
    second.expect(PROMPT)
    assert "1 result for 'heatwave'" in str(second.before)
    quit_cleanly(second)


def test_tab_completes_commands_and_field_names(index_dir: Path, tmp_path: Path) -> None:
    child = spawn(index_dir, tmp_path)
    child.send("tit\t")
    child.expect_exact("title:")
    assert "1 result for 'title:heatwave'" in run(child, "heatwave")
    child.send(":so\t")
    child.expect_exact(":sort ")
    assert "sorted by oldest" in run(child, "oldest")
    quit_cleanly(child)


def test_colour_on_a_terminal_unless_no_color(index_dir: Path, tmp_path: Path) -> None:
    child = spawn(index_dir, tmp_path, TERM="xterm")
    assert "\x1b[1;31m" in run(child, "heatwave")  # matched words highlighted
    quit_cleanly(child)
    plain = spawn(index_dir, tmp_path, TERM="xterm", NO_COLOR="1")
    output = run(plain, "heatwave")
    assert "Heatwave" in output and "\x1b[1;31m" not in output and "\x1b[1;36m" not in output
    quit_cleanly(plain)


# Through a pipe ------------------------------------------------------------------------------

def test_scripted_queries_print_results_without_prompt(index_dir: Path, tmp_path: Path) -> None:
    result = script(index_dir, tmp_path, "flood\n:next\n\nheatwave\n")
    assert result.returncode == 0, result.stderr
    assert "newsearch>" not in result.stdout and "articles from" not in result.stdout
    headers = [line for line in result.stdout.splitlines() if " results for " in line or " result for " in line]
    assert [header.split(" (")[0] for header in headers] == [
        "12 results for 'flood'", "12 results for 'flood'", "1 result for 'heatwave'"]
    assert "page 2 of 2" in headers[1]
    assert "\x1b[" not in result.stdout


def test_scripted_bad_line_goes_to_stderr_and_the_rest_runs(index_dir: Path, tmp_path: Path) -> None:
    result = script(index_dir, tmp_path, 'heatwave\n"unclosed\n:since never-ever\nlevee\n')
    assert result.returncode == 0
    assert result.stderr.count("newsearch:") == 2 and "unbalanced" in result.stderr
    assert "1 result for 'heatwave'" in result.stdout and "1 result for 'levee'" in result.stdout


def test_scripted_no_results_and_did_you_mean(index_dir: Path, tmp_path: Path) -> None:
    result = script(index_dir, tmp_path, "harbuor\n")
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr.splitlines() == ["no results for 'harbuor'", "did you mean: harbour"]  # no Enter hint


def test_scripted_json_and_facets(index_dir: Path, tmp_path: Path) -> None:
    result = script(index_dir, tmp_path, ":json\nflood\n:facets\n:json\n:facets\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    page, facets = json.loads(lines[0]), json.loads(lines[1])
    assert page["total"] == 12 and len(page["hits"]) == 10 and page["hits"][0]["snippets"]
    assert facets["tag"]["flood"] == 12
    assert any(line.startswith("month: ") for line in lines[2:])


def test_missing_index_is_one_line_exit_two(tmp_path: Path) -> None:
    result = script(tmp_path / "nothing", tmp_path, "flood\n")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("newsearch: ")


@pytest.mark.parametrize("args, env, coloured", [
    (("--color", "always"), {}, True),
    (("--color", "never"), {}, False),
    (("--color", "always"), {"NO_COLOR": "1"}, True),  # an explicit --color always wins
])
def test_colour_options(index_dir: Path, tmp_path: Path, args: tuple[str, ...], env: dict[str, str],
                        coloured: bool) -> None:
    result = script(index_dir, tmp_path, "heatwave\n", *args, **env)
    assert ("\x1b[1;31m" in result.stdout) is coloured


def test_escape_sequences_in_articles_are_stripped(tmp_path: Path) -> None:
    # Index.add stores what it is given, so the escapes reach the index and display must strip them.
    index_dir = build_index(tmp_path)
    with search.open_index(index_dir) as ix:
        ix.add(search.Article(
            id="wicked-1", path="wicked.md", title="\x1b]0;evil\x07Wicked \x1b[2Jtitle", description="",
            body="Wicked body\x1b[2J text.\x07\n\nSecond \x1b]0;pwned\x07paragraph.", tags=(), categories=(),
            source="https://feeds.example.org/rss\x1b[31m", link="", slug="", image="",
            date=datetime(2026, 3, 1, tzinfo=timezone.utc), draft=False))
    result = script(index_dir, tmp_path, "wicked\n:open 1\n:related 1\n", "--color", "always")
    assert "Wicked title" in result.stdout.replace("\x1b[1;31m", "").replace("\x1b[0m", "").replace("\x1b[1;36m", "")
    assert "Second paragraph." in result.stdout
    for bad in ("\x1b]", "\x07", "\x1b[2J", "\x1b[31m", "pwned", "evil"):
        assert bad not in result.stdout


# The parts -----------------------------------------------------------------------------------

def test_field_names_match_the_schema() -> None:
    from search.index.schema import FIELD_ALIASES
    assert sorted(repl.FIELD_NAMES) == sorted(FIELD_ALIASES)


def test_completions() -> None:
    assert repl.completions(":n", 0, ":n") == [":next"]
    assert repl.completions(":s", 0, ":s") == [":sort ", ":since "]
    assert repl.completions(":sort n", 6, "n") == ["newest"]
    assert repl.completions(":rec o", 5, "o") == ["off"]
    assert repl.completions("flood ta", 6, "ta") == ["tag:", "tags:"]
    assert repl.completions(":open 1", 6, "1") == []


class SlowIndex:
    """An index whose searches are interrupted, as Ctrl-C interrupts a slow search."""

    def search(self, *_args: Any, **_kwargs: Any) -> Results:
        raise KeyboardInterrupt


def test_ctrl_c_interrupts_a_search_and_the_session_goes_on(capsys: pytest.CaptureFixture[str]) -> None:
    session = repl.Session(index=SlowIndex(), color=False, interactive=True)  # type: ignore[arg-type]
    assert repl.step(session, "anything") is True
    assert "interrupted" in capsys.readouterr().err
    assert session.query == ""
    scripted = repl.Session(index=SlowIndex(), color=False, interactive=False)  # type: ignore[arg-type]
    with pytest.raises(KeyboardInterrupt):
        repl.step(scripted, "anything")


def test_the_prompt_does_not_import_whoosh() -> None:
    code = "import sys, search.interfaces.repl; sys.exit(any(m.startswith('whoosh') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_a_query_of_stop_words_only_is_answered(index_dir: Path, tmp_path: Path) -> None:
    child = spawn(index_dir, tmp_path)
    output = run(child, "the who")
    assert "results for 'the who'" in output and "no searchable words" not in output
    assert "Traceback" not in output
    quit_cleanly(child)


# max_expansions (issue 22) --------------------------------------------------------------------

def test_expansions_shows_and_sets_the_cap_and_the_session_goes_on(index_dir: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with search.open_index(index_dir) as index:
        session = repl.Session(index=index, color=False, interactive=False)
        assert repl.step(session, ":expansions") is True
        assert "max_expansions 1,000" in capsys.readouterr().err
        assert repl.step(session, ":expansions 2") is True
        assert session.max_expansions == 2 and "expansions 2" in session.prompt()
        capsys.readouterr()
        assert repl.step(session, "r*") is True  # refused: one error line, the session goes on
        refused = capsys.readouterr()
        assert refused.out == "" and refused.err.count("\n") == 1
        assert "'r*' matches more than 2 indexed words" in refused.err and ":expansions" in refused.err
        assert repl.step(session, ":exp 1000") is True
        capsys.readouterr()
        assert repl.step(session, "r*") is True
        assert " for 'r*'" in capsys.readouterr().out
        for bad in ("0", "-1", "x", "1.5", str(repl.MAX_EXPANSIONS_CEILING + 1)):
            assert repl.step(session, f":expansions {bad}") is True
            assert "give a whole number of words from 1 to 100,000" in capsys.readouterr().err
        assert session.max_expansions == 1000  # a bad value leaves it as it was


def test_repl_takes_max_expansions_from_the_command_line(index_dir: Path, tmp_path: Path) -> None:
    result = script(index_dir, tmp_path, "r*\nflood\n", "--max-expansions", "2")
    assert result.returncode == 0
    assert "'r*' matches more than 2 indexed words" in result.stderr and "12 results for 'flood'" in result.stdout
    bad = script(index_dir, tmp_path, "flood\n", "--max-expansions", "0")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--max-expansions" in bad.stderr


def test_the_prompts_expansion_defaults_match_the_limits() -> None:
    from search.query import limits
    assert (repl.MAX_EXPANSIONS, repl.MAX_EXPANSIONS_CEILING) == (limits.MAX_EXPANSIONS, limits.MAX_EXPANSIONS_CEILING)
