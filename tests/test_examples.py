"""The programs in examples/ run as users run them: the web page as a server on a loopback port,
the saved query as a script on a corpus that grows."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.index.update import update_index

from .conftest import article_text, free_port, wait_until_answering

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# Never send the test's requests through a proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str) -> tuple[int, str, str]:
    """Status, content type and body, also for error statuses."""
    try:
        with OPENER.open(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode("utf-8")


@pytest.fixture
def web_index(tmp_path: Path, tiny_corpus: Path) -> Path:
    """The tiny corpus plus an article whose text holds HTML tags and whose link is javascript:."""
    (tiny_corpus / "xss.md").write_text(article_text(
        "Levee <b>hackers</b> & friends",
        "<p>He typed &lt;script&gt;alert(1)&lt;/script&gt; next to the levee.</p>",
        link="javascript:alert(2)", source="<img src=x onerror=alert(3)>"))
    update_index(tmp_path / "index", tiny_corpus)
    return tmp_path / "index"


@pytest.fixture
def server(web_index: Path, tmp_path: Path) -> Iterator[str]:
    """The web example serving ``web_index`` on a free loopback port; yields its base URL."""
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "web_search.py"), "--index", str(web_index), "--port", str(port)],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(process, base + "/", tmp_path / "server.log", 15, "the web example")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=5)
        log.close()


def test_web_example_json_endpoint(server: str) -> None:
    status, kind, body = fetch(server + "/search?q=levee")
    assert (status, kind) == (200, "application/json")
    data = json.loads(body)
    assert data["total"] == 2 and data["page"] == 1
    hits = {hit["path"]: hit for hit in data["hits"]}
    assert set(hits) == {"flood.md", "xss.md"}
    hit = hits["xss.md"]
    assert "<script>alert(1)</script>" in hit["snippets"][0]["text"]  # JSON carries the raw text
    assert hit["date"] == "2026-01-08T00:00:00Z"


def test_web_example_html_page_escapes_article_text(server: str) -> None:
    status, kind, page = fetch(server + "/?q=levee")
    assert (status, kind) == (200, "text/html; charset=utf-8")
    assert "<mark>levee</mark>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert "<mark>Levee</mark> &lt;b&gt;hackers&lt;/b&gt; &amp; friends" in page
    assert "&lt;img src=x onerror=alert(3)&gt;" in page and "<img" not in page
    assert "javascript:" not in page  # not a link: only http(s) links are
    assert "<a href='https://news.example.org/a/strike'>" not in page
    strike = fetch(server + "/?q=drivers")[2]
    assert "<a href='https://news.example.org/a/strike'>" in strike


def test_web_example_form_and_reflected_query_are_escaped(server: str) -> None:
    status, _, page = fetch(server + "/")
    assert status == 200 and "<form" in page and "<ol" not in page
    status, _, page = fetch(server + "/?" + urllib.parse.urlencode({"q": "levee' \"river burst\" a<script>b"}))
    assert status == 200 and "<mark>levee</mark>" in page
    assert "value='levee&#x27; &quot;river burst&quot; a&lt;script&gt;b'" in page
    assert "<title>levee&#x27; &quot;river burst&quot; a&lt;script&gt;b – newsearch</title>" in page
    assert "<script" not in page


def test_web_example_bad_requests_get_400(server: str) -> None:
    status, kind, body = fetch(server + "/search?q=%22levee")
    assert (status, kind) == (400, "application/json")
    assert "unbalanced" in json.loads(body)["error"]
    status, kind, page = fetch(server + "/?q=%3Cb%3E%20(levee")
    assert (status, kind) == (400, "text/html; charset=utf-8")
    assert "unbalanced &#x27;(&#x27;" in page and "<b>" not in page
    assert fetch(server + "/search?q=levee&page=two")[0] == 400
    assert fetch(server + "/search?q=")[0] == 400
    assert fetch(server + "/nowhere")[0] == 404


def test_web_example_reports_a_missing_index(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "web_search.py"), "--index", str(tmp_path / "none"),
         "--port", str(free_port())], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "no index here" in result.stderr


def run_saved_query(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLES / "saved_query.py"), *args],
                          cwd=cwd, capture_output=True, text=True, timeout=60)


def test_saved_query_indexes_new_articles_and_lists_newest_first(tmp_path: Path, tiny_corpus: Path) -> None:
    index = str(tmp_path / "index")
    first = run_saved_query("--index", index, "--corpus", str(tiny_corpus), "levee OR strike", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "6 added" in first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "3 matches for 'levee OR strike'"
    dates = [line.split()[0] for line in lines[1:] if line[:4].isdigit()]
    assert dates == ["2026-11-12", "2026-07-07", "2026-07-06"]

    (tiny_corpus / "levee-repair.md").write_text(article_text(
        "Crews begin levee repair in Millbrook", "<p>Engineers started rebuilding the levee.</p>", date="2026-11-20"))
    second = run_saved_query("--index", index, "levee OR strike", "--since", "2026-08", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "1 added" in second.stderr
    lines = second.stdout.splitlines()
    assert lines[0] == "2 matches for 'levee OR strike' since 2026-08"
    assert lines[1] == "2026-11-20  Crews begin levee repair in Millbrook"
    assert [line.split()[0] for line in lines[1:] if line[:4].isdigit()] == ["2026-11-20", "2026-11-12"]
    assert "Engineers started rebuilding the levee." in second.stdout
    assert "\x1b" not in second.stdout  # not a terminal: no colour


def test_saved_query_exit_status(tmp_path: Path, tiny_corpus: Path) -> None:
    update_index(tmp_path / "index", tiny_corpus)
    nothing = run_saved_query("--index", str(tmp_path / "index"), "volcano", cwd=tmp_path)
    assert (nothing.returncode, nothing.stdout) == (1, "0 matches for 'volcano'\n")
    bad = run_saved_query("--index", str(tmp_path / "index"), "levee", "--since", "2026-02-30", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.splitlines()[-1].startswith("saved_query: not a date: '2026-02-30'")
