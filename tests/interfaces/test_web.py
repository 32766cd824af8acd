"""The web app's HTTP layer through Starlette's TestClient: the real app on a real index.

The browser drives the same app in test_web_browser.py; here each status, header and schema
is checked directly, and ``newsearch serve``'s own start-up (a missing index, a taken port).
"""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

import search

pytest.importorskip("starlette", reason="the web extra (starlette) is not installed")
pytest.importorskip("starlette.testclient", reason="Starlette's TestClient needs httpx2 (or httpx)")
from starlette.testclient import TestClient  # noqa: E402

from search.interfaces.web import CSP, create_app  # noqa: E402

from .conftest import HOSTILE_TITLE, STRIKE_STORIES  # noqa: E402


@pytest.fixture(scope="module")
def client(web_index: Path) -> Iterator[TestClient]:
    """The app over the module's index; server errors answer as they would to a browser."""
    with search.open_index(web_index) as ix, TestClient(create_app(ix), raise_server_exceptions=False) as test_client:
        yield test_client


def hostile_id(client: TestClient) -> str:
    hits = client.get("/api/search", params={"q": "inspectors"}).json()["hits"]
    assert [hit["title"] for hit in hits] == [HOSTILE_TITLE]
    return str(hits[0]["id"])


def test_api_search_is_the_json_of_newsearch_search(client: TestClient, web_index: Path) -> None:
    api = client.get("/api/search", params={"q": "strike pay"})
    assert api.status_code == 200 and api.headers["content-type"] == "application/json"
    cli = subprocess.run([sys.executable, "-m", "search", "search", "strike", "pay", "--index", str(web_index),
                          "--json", "--facets"], capture_output=True, text=True, check=True)
    ours, theirs = api.json(), json.loads(cli.stdout)
    ours.pop("elapsed"), theirs.pop("elapsed")
    assert ours == theirs
    assert ours["total"] > 10 and set(ours["facets"]) == {"source", "tag", "month"}


def test_api_search_pages_sorts_and_filters(client: TestClient) -> None:
    second = client.get("/api/search", params={"q": "strike", "page": 2, "sort": "newest"}).json()
    assert second["page"] == 2 and second["pages"] == 2 and second["hits"][0]["rank"] == 11
    narrowed = client.get("/api/search", params={"q": "strike", "source": "https://feeds.dockside.example/rss"}).json()
    assert narrowed["total"] == len(range(0, STRIKE_STORIES, 3))
    assert {hit["source"] for hit in narrowed["hits"]} == {"https://feeds.dockside.example/rss"}
    in_may = client.get("/api/search", params={"q": "strike", "since": "2026-05-03", "until": "2026-05-04"}).json()
    assert sorted(hit["date"][:10] for hit in in_may["hits"]) == ["2026-05-03", "2026-05-04"]
    by_month = client.get("/api/search", params={"month": "2026-07"}).json()
    assert by_month["total"] == 2 and by_month["query"] == "* AND date:2026-07"
    tagged = client.get("/api/search", params={"q": "strike", "tag": "commuters"}).json()
    assert [hit["title"] for hit in tagged["hits"]] == ["Commuters struggle on second day of strike"]


def test_a_bad_query_is_400_with_one_line_on_the_page_and_in_the_api(client: TestClient) -> None:
    api = client.get("/api/search", params={"q": "(levee"})
    assert api.status_code == 400 and "unbalanced" in api.json()["error"]
    page = client.get("/", params={"q": "(levee"})
    assert page.status_code == 400 and 'class="error"' in page.text and "Traceback" not in page.text
    for params in ({"q": "x", "page": "two"}, {"q": "x", "sort": "best"}, {"q": "x", "month": "May"},
                   {"q": "x", "since": "not a date"}, {"q": "x", "limit": "1000"}, {}):
        response = client.get("/api/search", params=params)
        assert response.status_code == 400 and "\n" not in response.json()["error"], params


def test_a_huge_query_is_refused_before_any_search(client: TestClient) -> None:
    from search.interfaces.web import MAX_QUERY_STRING
    from search.query.limits import MAX_QUERY_CHARS

    over_cap = client.get("/api/search", params={"q": "word " * (MAX_QUERY_CHARS // 5 + 1)})  # past the characters cap
    assert over_cap.status_code == 400 and f"{MAX_QUERY_CHARS:,}" in over_cap.json()["error"]
    huge = client.get("/?q=" + "x" * (MAX_QUERY_STRING + 1))
    assert huge.status_code == 414 and huge.text.count("\n") == 1
    body = client.request("GET", "/api/search?q=x", content=b"x" * 100)
    assert body.status_code == 413 and body.text.startswith("413: ")
    assert client.post("/api/search?q=x").status_code in (405, 413)


def test_unknown_articles_are_404(client: TestClient) -> None:
    assert client.get("/article/nope.md").status_code == 404
    assert client.get("/api/article/nope.md").json() == {"error": "no article with id 'nope.md'"}
    assert client.get("/api/related/nope.md").status_code == 404
    assert client.get("/no/such/page").status_code == 404


def test_article_text_is_escaped_everywhere(client: TestClient) -> None:
    article = client.get(f"/article/{quote(hostile_id(client), safe='')}")
    assert article.status_code == 200
    assert "<script>window" not in article.text and "<img src=x" not in article.text
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in article.text
    assert "&lt;img src=x onerror=window.pwned=2&gt;" in article.text
    assert "javascript:" not in article.text  # the link is not http(s): no href
    page = client.get("/", params={"q": "levee inspectors"})
    assert "<mark>Levee</mark> &lt;script&gt;" in page.text and "<script>window" not in page.text
    reflected = client.get("/", params={"q": '"><script>alert(1)</script>'})
    assert "<script>alert" not in reflected.text
    assert [tag for tag in re.findall(r"<script[^>]*>", article.text + page.text)] == [
        '<script src="/static/app.js" defer>'] * 2


def test_security_headers_on_every_response(client: TestClient) -> None:
    for path in ("/", "/?q=strike", "/api/search?q=strike", "/static/app.js", "/article/nope", "/?q=" + "x" * 5000):
        headers = client.get(path).headers
        assert headers["content-security-policy"] == CSP and "script-src 'self'" in CSP, path
        assert headers["x-content-type-options"] == "nosniff"
    assert "'unsafe-inline'" not in CSP


def test_article_page_and_api(client: TestClient) -> None:
    found = client.get("/api/search", params={"q": "harbour drivers pay"}).json()["hits"][0]
    assert found["id"] == "https://news.example.org/a/strike"
    page = client.get(f"/article/{quote(found['id'], safe='')}", params={"q": "pay"})
    assert page.status_code == 200
    for shown in ("Harbour Line drivers strike over pay", "2026-07-06", "harbour.example",
                  'href="https://news.example.org/a/strike"', "The transit authority said talks would resume.",
                  "Related articles", 'href="/?q=pay"'):
        assert shown in page.text
    assert client.get(f"/api/article/{quote(found['id'], safe='')}").json()["title"] == found["title"]
    related = client.get(f"/api/related/{quote(found['id'], safe='')}", params={"limit": 3}).json()
    assert related["query"] == f"related:{found['id']}" and 0 < len(related["hits"]) <= 3


def test_page_shows_facets_suggestion_and_pages(client: TestClient) -> None:
    page = client.get("/", params={"q": "strike"}).text
    assert 'href="/?q=strike&amp;source=https%3A%2F%2Ffeeds.dockside.example%2Frss"' in page
    assert 'href="/?q=strike&amp;page=2"' in page and "page 1 of 2" in page
    narrowed = client.get("/", params={"q": "strike", "tag": "commuters"}).text
    assert 'class="chip" href="/?q=strike"' in narrowed and 'name="tag" value="commuters"' in narrowed
    misspelled = client.get("/", params={"q": "levvee"}).text
    assert 'Did you mean <a href="/?q=levee" data-nav>levee</a>?' in misspelled
    assert client.get("/").status_code == 200


def test_an_unexpected_failure_is_a_plain_500(web_index: Path, tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(web_index, copy)
    with search.open_index(copy) as ix:
        app = create_app(ix)

        def boom(_request: object) -> None:
            raise RuntimeError("secret detail")

        app.router.add_route("/boom", boom)
        with TestClient(app, raise_server_exceptions=False) as local:
            failed = local.get("/boom")
            assert failed.status_code == 500 and "secret" not in failed.text and "Traceback" not in failed.text
            for generation in copy.glob("gen-*"):
                shutil.rmtree(generation)  # the index vanishes under the running server
            gone = local.get("/api/search", params={"q": "strike"})
            assert gone.status_code == 503 and "\n" not in gone.json()["error"]


def run_serve(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "search", "serve", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_serve_without_an_index_is_one_line_exit_two(tmp_path: Path) -> None:
    missing = run_serve("--index", str(tmp_path / "none"), "--port", "0")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "newsearch index" in missing.stderr


def test_serve_on_a_taken_port_is_one_line_exit_two(web_index: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_serve("--index", str(web_index), "--port", str(port))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "choose another --port" in result.stderr


def test_serve_watch_indexes_new_articles_and_warns_off_loopback(tmp_path: Path) -> None:
    """``--watch`` keeps the served index up to date; a non-loopback ``--host`` is warned about."""
    from search.index.update import update_index
    from tests.conftest import article_text, write_tiny_corpus
    corpus = write_tiny_corpus(tmp_path / "corpus")
    update_index(tmp_path / "index", corpus)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "search", "serve", "--index", str(tmp_path / "index"),
                                "--watch", "--host", "0.0.0.0", "--port", str(port)],
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        warning = process.stderr.readline()
        assert "no authentication" in warning and warning.startswith("newsearch: listening on 0.0.0.0")
        (corpus / "new.md").write_text(article_text("Zeppelin lands downtown", "<p>A zeppelin landed.</p>"))
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                        f"http://127.0.0.1:{port}/api/search?q=zeppelin", timeout=2) as response:
                    if json.load(response)["total"] == 1:
                        break
            except OSError:
                pass  # not listening yet
            assert process.poll() is None and time.monotonic() < deadline, "the new article was not served in 30 s"
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_without_the_web_extra_says_what_to_install(web_index: Path) -> None:
    blocked = ("import sys; sys.modules['uvicorn'] = None; sys.argv = ['newsearch', 'serve', '--index', sys.argv[1]]; "
               "from search.interfaces.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", blocked, str(web_index)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr == "newsearch: newsearch serve needs the web extra: pip install 'newsearch[web]'\n"
