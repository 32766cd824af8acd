"""End to end: the real ``newsearch`` program on real corpus folders, plus CliRunner checks."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import search
from search.interfaces.cli import cli

from tests.conftest import SAMPLE_CORPUS, article_text


def newsearch(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed program as a user would."""
    environment = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "search", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=environment, timeout=300)


def test_index_then_search_a_corpus_folder(tmp_path: Path, tiny_corpus: Path) -> None:
    index = tmp_path / "ix"
    built = newsearch("index", tiny_corpus, "--index", index)
    assert built.returncode == 0, built.stderr
    assert "6 added" in built.stdout and "6 articles" in built.stdout
    found = newsearch("search", "harbour", "strike", "--index", index)
    assert found.returncode == 0
    lines = found.stdout.splitlines()
    assert lines[0].startswith("2 results for 'harbour strike'")
    assert "Harbour Line drivers strike over pay" in lines[2]
    assert "\x1b[" not in found.stdout  # not a terminal: no colour


def test_exclusions_and_options_mix_without_quotes(tmp_path: Path, tiny_corpus: Path) -> None:
    """``-commuters`` is a query word, not an option (click read ``-hockey`` as -h, help)."""
    index = tmp_path / "ix"
    newsearch("index", tiny_corpus, "--index", index)
    found = newsearch("search", "strike", "-commuters", "-n", "5", "--json", "--index", index)
    assert found.returncode == 0, found.stderr
    page = json.loads(found.stdout)
    assert page["query"] == "strike -commuters" and page["limit"] == 5
    assert [hit["path"] for hit in page["hits"]] == ["transit-strike.md"]
    for args in (["-n2", "strike", "-harbour"], ["strike", "-harbour", "--limit=2"], ["--", "strike", "-harbour"]):
        same = newsearch("search", "--json", "--index", index, *args)  # after --, only query words
        assert json.loads(same.stdout)["query"] == "strike -harbour", args
    assert newsearch("search", "strike", "-hockey", "--index", index).stdout.startswith("2 results for 'strike -hockey'")
    assert "Usage:" in newsearch("search", "-h").stdout  # -h alone is still help
    unknown = newsearch("search", "strike", "--bogus", "--index", index)
    assert unknown.returncode == 2 and "No such option '--bogus'" in unknown.stderr


def test_exit_status_one_when_nothing_is_found(tmp_path: Path, tiny_corpus: Path) -> None:
    index = tmp_path / "ix"
    newsearch("index", tiny_corpus, "--index", index)
    missing = newsearch("search", "zeppelin", "--index", index)
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert "no results for 'zeppelin'" in missing.stderr


def test_since_after_until_is_one_line_exit_two(tmp_path: Path, tiny_corpus: Path) -> None:
    index = tmp_path / "ix"
    newsearch("index", tiny_corpus, "--index", index)
    empty = newsearch("search", "strike", "--since", "2026-10", "--until", "2026-08", "--index", index)
    assert empty.returncode == 2 and empty.stdout == ""
    assert empty.stderr == ("newsearch: since (from 2026-10-01 00:00) must be before until "
                            "(up to 2026-09-01 00:00): no article could match\n")


def test_a_misspelled_search_says_did_you_mean_on_stderr_and_in_json(tmp_path: Path, tiny_corpus: Path) -> None:
    index = tmp_path / "ix"
    newsearch("index", tiny_corpus, "--index", index)
    typo = newsearch("search", "Harbur", "--index", index)
    assert typo.returncode == 1 and typo.stdout == ""
    assert typo.stderr.splitlines() == ["no results for 'Harbur'", "did you mean: Harbour"]
    as_json = newsearch("search", "harbur strke", "--json", "--index", index)
    assert json.loads(as_json.stdout)["suggestion"] == "harbour strike"


def test_exit_status_two_for_a_bad_query_with_one_line(tmp_path: Path, tiny_corpus: Path) -> None:
    index = tmp_path / "ix"
    newsearch("index", tiny_corpus, "--index", index)
    bad = newsearch("search", '"unclosed', "--index", index)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "unbalanced" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    result = newsearch("search", "x", "--index", tmp_path / "nothing")
    assert result.returncode == 2
    assert "no index here" in result.stderr and "newsearch index" in result.stderr


def test_missing_corpus_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = newsearch("index", tmp_path / "nope", "--index", tmp_path / "ix")
    assert result.returncode == 2
    assert "no such folder" in result.stderr


def test_json_output_is_one_valid_document(tmp_path: Path, tiny_corpus: Path) -> None:
    index = tmp_path / "ix"
    summary = json.loads(newsearch("index", tiny_corpus, "--index", index, "--json").stdout)
    assert summary["added"] == 6 and summary["skipped"] == []
    result = newsearch("search", "rates", "--index", index, "--json", "--facets")
    data = json.loads(result.stdout)
    assert data["total"] == 1 and data["page"] == 1
    hit = data["hits"][0]
    assert hit["path"] == "bank-rates.md" and hit["date"] == "2026-09-17T00:00:00Z"
    assert set(hit) >= {"rank", "id", "title", "date", "source", "link", "path", "score", "snippets", "tags"}
    snippet = hit["snippets"][0]
    start, end = snippet["spans"][0]
    assert snippet["text"][start:end].lower().startswith("rate")
    assert data["facets"]["tag"] == {"economy": 1, "rates": 1}
    empty = json.loads(newsearch("search", "zeppelin", "--index", index, "--json").stdout)
    assert empty["total"] == 0 and empty["hits"] == []


def test_skipped_files_are_named_and_the_run_goes_on(tmp_path: Path, tiny_corpus: Path) -> None:
    (tiny_corpus / "broken.md").write_text("---\ntitle: [oops\n---\nbody\n")
    result = newsearch("index", tiny_corpus, "--index", tmp_path / "ix")
    assert result.returncode == 0
    assert "broken.md:" in result.stderr and "6 added" in result.stdout
    strict = newsearch("index", tiny_corpus, "--index", tmp_path / "ix2", "--strict")
    assert strict.returncode == 2


def test_index_is_incremental_and_remembers_its_corpus(tmp_path: Path, tiny_corpus: Path) -> None:
    index = tmp_path / "ix"
    newsearch("index", tiny_corpus, "--index", index)
    (tiny_corpus / "late.md").write_text(article_text("Late news", "<p>Breaking: a comet.</p>"))
    again = newsearch("index", "--index", index)
    assert again.returncode == 0
    assert "1 added" in again.stdout and "6 unchanged" in again.stdout


def test_colour_rules(tmp_path: Path, tiny_corpus: Path) -> None:
    index = tmp_path / "ix"
    newsearch("index", tiny_corpus, "--index", index)
    always = newsearch("search", "rates", "--index", index, "--color", "always")
    assert "\x1b[1;31m" in always.stdout
    never = newsearch("search", "rates", "--index", index, "--color", "always", env={"NO_COLOR": "1"})
    assert "\x1b[1;31m" in never.stdout  # an explicit --color always wins over NO_COLOR
    auto = newsearch("search", "rates", "--index", index, env={"NO_COLOR": "1"})
    assert "\x1b[" not in auto.stdout


def test_escape_sequences_in_articles_never_reach_the_terminal(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "evil.md").write_text(article_text("Evil \x1b]0;pwned\x07title \x1b[2J here",
                                                 "<p>Body with \x1b[31mred\x1b[0m and \x07bell words.</p>"))
    index = tmp_path / "ix"
    assert newsearch("index", corpus, "--index", index).returncode == 0
    result = newsearch("search", "evil OR body", "--index", index, "--color", "always")
    assert result.returncode == 0
    shown = result.stdout.replace("\x1b[1;31m", "").replace("\x1b[0m", "").replace("\x1b[1;36m", "") \
        .replace("\x1b[2m", "").replace("\x1b[1m", "")
    assert "\x1b" not in shown and "\x07" not in shown
    assert "Evil" in shown


def test_sample_corpus_demo_query(tmp_path: Path) -> None:
    index = tmp_path / "ix"
    built = newsearch("index", SAMPLE_CORPUS, "--index", index)
    assert built.returncode == 0, built.stderr
    result = newsearch("search", "levee breach Millbrook", "--index", index, "--json", "--limit", "3")
    top = json.loads(result.stdout)["hits"][0]
    assert "levee" in top["title"].lower()


def test_related_and_show_commands(tmp_path: Path, tiny_corpus: Path) -> None:
    index = tmp_path / "ix"
    newsearch("index", tiny_corpus, "--index", index)
    shown = newsearch("show", "transit-strike.md", "--index", index)
    assert shown.returncode == 0 and "walked out on Monday" in shown.stdout
    unknown = newsearch("show", "nope.md", "--index", index)
    assert unknown.returncode == 2
    related = newsearch("related", "https://news.example.org/a/strike", "--index", index, "--json")
    assert related.returncode == 0
    hits = json.loads(related.stdout)["hits"]
    assert hits[0]["path"] == "strike-day-two.md"
    assert all(hit["path"] != "transit-strike.md" for hit in hits)
    by_path = newsearch("related", "transit-strike.md", "--index", index, "--json")
    assert [hit["path"] for hit in json.loads(by_path.stdout)["hits"]] == [hit["path"] for hit in hits]
    missing = newsearch("related", "nope.md", "--index", index)
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr == "newsearch: no article with id or path 'nope.md' (each hit has both: `id`, `path`)\n"


def test_help_documents_every_command() -> None:
    runner = CliRunner()
    for command in cli.commands.values():
        assert command.help, f"{command.name} has no help"
        result = runner.invoke(cli, [command.name, "--help"])
        assert result.exit_code == 0


def test_usage_errors_exit_two() -> None:
    result = CliRunner().invoke(cli, ["search", "x", "--limit", "0"])
    assert result.exit_code == 2


@pytest.mark.parametrize("flag", ["--since", "--until"])
def test_bad_date_option_exits_two(tmp_path: Path, tiny_corpus: Path, flag: str) -> None:
    index = tmp_path / "ix"
    newsearch("index", tiny_corpus, "--index", index)
    result = newsearch("search", "strike", flag, "2026-02-30", "--index", index)
    assert result.returncode == 2 and "not a date" in result.stderr


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """``newsearch search ... | head -1`` with the reader gone before the output: no traceback,
    no message. (The process ends with ``os._exit`` once its output is flushed; a full read
    gets it all.)"""
    index = tmp_path / "ix"
    assert newsearch("index", SAMPLE_CORPUS, "--index", index, "-q").returncode == 0
    whole = newsearch("search", "fire OR strike OR harbour", "--index", index, "--limit", "50", "--json")
    assert whole.returncode == 0 and json.loads(whole.stdout)["hits"]  # flushed before the exit
    reader = subprocess.Popen([sys.executable, "-m", "search", "search", "fire OR strike OR harbour",
                               "--index", str(index), "--limit", "50"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None
    reader.stdout.close()  # before anything is written: the write fails with EPIPE
    errors = reader.stderr.read().decode() if reader.stderr else ""
    # Quiet, and status 0 (a closed pipe is not "nothing found").
    assert reader.wait(timeout=60) == 0
    assert errors == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device every write to fails)")
@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_output_that_cannot_be_written_is_one_line_not_a_traceback(tmp_path: Path, extra: list[str]) -> None:
    index = tmp_path / "ix"
    assert newsearch("index", SAMPLE_CORPUS, "--index", index, "-q").returncode == 0
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "search", "search", "fire", "--index", str(index), *extra],
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["newsearch: cannot write the output: No space left on device"]


def test_watch_indexes_new_articles_until_interrupted(tmp_path: Path, tiny_corpus: Path) -> None:
    index = tmp_path / "ix"
    watcher = subprocess.Popen([sys.executable, "-m", "search", "index", str(tiny_corpus), "--index", str(index),
                                "--watch", "--interval", "0.3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout is not None
        assert "6 added" in watcher.stdout.readline()
        # Written whole, then renamed into place (as an aggregator should): a scan between the
        # open and the write would see an empty file, skip it and print a line of its own.
        partial = tiny_corpus / "fresh.md.part"
        partial.write_text(article_text("Fresh story", "<p>A comet was seen.</p>"))
        partial.replace(tiny_corpus / "fresh.md")
        assert "1 added" in watcher.stdout.readline()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with search.open_index(index) as ix:
                if ix.search("comet").total == 1:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("the watched article never became searchable")
    finally:
        watcher.send_signal(signal.SIGINT)
        _, errors = watcher.communicate(timeout=30)
    assert watcher.returncode == 0
    assert "stopped" in errors and "Traceback" not in errors


def test_updates_after_adding_only_undated_articles_keep_working(tmp_path: Path, tiny_corpus: Path) -> None:
    """Regression: an update that added only undated articles wrote a segment without a date
    column, and every later ``newsearch index`` (and ``stats``) said the index was damaged."""
    index = tmp_path / "ix"
    assert newsearch("index", tiny_corpus, "--index", index, "-q").returncode == 0
    (tiny_corpus / "undated.md").write_text(article_text("Comet seen", "<p>A comet was seen.</p>", date=None))
    assert "1 added" in newsearch("index", tiny_corpus, "--index", index).stdout
    again = newsearch("index", tiny_corpus, "--index", index)
    assert again.returncode == 0 and "7 unchanged" in again.stdout, again.stderr
    stats = newsearch("stats", "--index", index, "--json")
    assert stats.returncode == 0 and json.loads(stats.stdout)["articles"] == 7, stats.stderr
    found = newsearch("search", "comet", "--index", index, "--json")
    assert [hit["date"] for hit in json.loads(found.stdout)["hits"]] == [None]


def test_watch_is_quiet_while_nothing_changes_even_with_a_draft(tmp_path: Path, tiny_corpus: Path) -> None:
    """A draft was reported as a new skip on every pass: a line every interval, forever."""
    (tiny_corpus / "draft.md").write_text(article_text("Draft", "<p>Not yet.</p>", draft=True))
    watcher = subprocess.Popen([sys.executable, "-m", "search", "index", str(tiny_corpus), "--index", str(tmp_path / "ix"),
                                "--watch", "--interval", "0.1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout is not None and "6 added" in watcher.stdout.readline()
        time.sleep(1.5)  # about a dozen passes with nothing new
    finally:
        watcher.send_signal(signal.SIGINT)
        rest, errors = watcher.communicate(timeout=30)
    assert watcher.returncode == 0
    assert rest == ""
    assert errors.count("draft.md") == 1  # the first run's report only


BIDI = "\u202e\u2066\u200f\u061c"


def test_bidi_controls_never_reach_the_output(tmp_path: Path) -> None:
    """Issue 23 item 7: bidirectional controls in an article (they make a terminal or a page show
    text reversed) are gone from the plain output and from --json."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text(article_text(f"Harbour {BIDI}gnissorc", f"<p>The harbour{BIDI} crossing.</p>",
                                              description=f"Quay{BIDI} works", tags=(f"port{BIDI}",)),
                                 encoding="utf-8")
    assert newsearch("index", corpus, "--index", tmp_path / "ix", "-q").returncode == 0
    for extra in ((), ("--json",)):
        result = newsearch("search", "harbour", "--index", tmp_path / "ix", *extra)
        assert result.returncode == 0, result.stderr
        assert "gnissorc" in result.stdout
        assert not any(char in result.stdout for char in BIDI), repr(result.stdout)
        assert "\\u202e" not in result.stdout.lower()  # not even escaped: stripped when read


def test_an_article_with_nothing_to_find_is_skipped_so_star_lists_every_article(tmp_path: Path) -> None:
    """Issue 23 item 11: an article with no title, description, text or tags was indexed but
    '*' could not find it (stats said one more than '*'); it is skipped with its reason."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.md").write_text(article_text("Harbour news", "<p>Harbour.</p>"), encoding="utf-8")
    (corpus / "hollow.md").write_text(article_text("", "", description=""), encoding="utf-8")
    built = newsearch("index", corpus, "--index", tmp_path / "ix")
    assert built.returncode == 0 and "hollow.md: no title, description, text or tags" in built.stderr, built.stderr
    stats = json.loads(newsearch("stats", "--index", tmp_path / "ix", "--json").stdout)
    listed = json.loads(newsearch("search", "*", "--index", tmp_path / "ix", "--json").stdout)
    assert stats["articles"] == listed["total"] == 1


def test_max_expansions_refuses_in_one_line_and_raising_it_answers(tmp_path: Path, tiny_corpus: Path) -> None:
    """Issue 22: a prefix past --max-expansions exits 2 with one line naming the word, the cap
    and the option; a higher cap answers; a bad value is a one-line usage error."""
    index = tmp_path / "ix"
    newsearch("index", tiny_corpus, "--index", index)
    refused = newsearch("search", "r*", "--max-expansions", "2", "--index", index)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "'r*' matches more than 2 indexed words" in refused.stderr
    assert "--max-expansions" in refused.stderr
    found = newsearch("search", "r*", "--max-expansions=50", "--index", index)
    assert found.returncode == 0 and " for 'r*'" in found.stdout
    for bad in ("0", "-1", "many", "1.5", "100001"):
        usage = newsearch("search", "r*", "--max-expansions", bad, "--index", index)
        assert usage.returncode == 2 and usage.stderr.count("\n") == 1, usage.stderr
        assert "--max-expansions takes a whole number of words from 1 to 100,000" in usage.stderr
