"""The search page in a real browser: ``newsearch serve`` as a subprocess, driven by headless
Chromium (Debian's /usr/bin/chromium) through Playwright. Skipped when either is missing.

One server per module on the module's index; each test gets a fresh browser context.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, wait_until_answering

from .conftest import HOSTILE_TITLE

CHROMIUM = os.environ.get("NEWSEARCH_CHROMIUM", "/usr/bin/chromium")
if not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)):
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
pytest.importorskip("uvicorn", reason="the web extra (uvicorn) is not installed")

# Generous for a shared 2-core machine; each wait ends as soon as the page is ready.
WAIT_MS = 10_000
sync_api.expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def server(web_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m search serve`` on the module's index and a free port; yields its base URL."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("serve") / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "search", "serve", "--index", str(web_index),
                                    "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_answering(process, base + "/", log_path, 20, "newsearch serve")
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page with JavaScript on; console errors fail the test."""
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, errors


def titles(page: Any) -> list[str]:
    return [str(title) for title in page.locator(".hit a.title").all_inner_texts()]


def test_results_appear_as_you_type_then_a_facet_narrows_them_and_page_two(page: Any, server: str) -> None:
    page.goto(server + "/")
    page.keyboard.press("Escape")  # leaves the (autofocused) search box
    page.keyboard.press("/")  # focuses it again
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("strike", delay=20)  # no Enter
    page.wait_for_selector(".hit")
    assert page.url == server + "/?q=strike" and "page 1 of 2" in page.inner_text(".status")
    assert page.locator(".hit mark").first.inner_text().lower() == "strike"
    page.keyboard.press("ArrowDown")  # from the box to the first result, then the second
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent") == titles(page)[1]
    page.click("#facets a:has-text('dockside.example')")
    sync_api.expect(page.locator(".hit")).to_have_count(5)  # (wait_for_function is eval: the CSP forbids it)
    assert "source=https%3A%2F%2Ffeeds.dockside.example%2Frss" in page.url
    assert page.locator(".chip").inner_text().startswith("source: dockside.example")
    page.go_back()
    sync_api.expect(page.locator(".hit")).to_have_count(10)
    page.click("nav.pages a:has-text('2')")
    page.wait_for_selector(".pages .current:has-text('2')")
    assert page.url.endswith("page=2") and page.locator(".hits").get_attribute("start") == "11"


def test_open_an_article_and_its_related_articles(page: Any, server: str) -> None:
    page.goto(server + "/?q=harbour+drivers")
    page.click(".hit a.title >> nth=0")
    page.wait_for_selector("article h1")
    assert page.inner_text("article h1") == "Harbour Line drivers strike over pay"
    assert "The transit authority said talks would resume." in page.inner_text("article .body")
    assert page.locator("article .link a").get_attribute("href") == "https://news.example.org/a/strike"
    assert page.locator("#related li").count() > 0


def test_hostile_article_text_shows_as_text_and_never_runs(page: Any, server: str) -> None:
    page.goto(server + "/")
    page.fill("#q", "inspectors levee")  # typed: the script renders these results from the JSON API
    page.wait_for_selector(".hit")
    assert page.inner_text(".hit a.title") == HOSTILE_TITLE
    assert "<img src=x onerror=window.pwned=2>" in page.inner_text(".hit .snippet")
    page.click(".hit a.title")  # the article view, rendered on the server
    page.wait_for_selector("article h1")
    assert page.inner_text("article h1") == HOSTILE_TITLE
    assert "<script>window.pwned=1</script>" in page.inner_text("article .body")
    assert page.locator("article img, article script").count() == 0
    assert page.evaluate("typeof window.pwned") == "undefined"
    page.goto(server + "/?q=inspectors")  # and the server-rendered results page
    assert page.inner_text(".hit a.title") == HOSTILE_TITLE
    assert page.evaluate("typeof window.pwned") == "undefined"


def test_a_bad_query_shows_its_reason(page: Any, server: str) -> None:
    page.goto(server + "/")
    page.fill("#q", "(levee")
    page.wait_for_selector(".error")
    assert "unbalanced '('" in page.inner_text(".error")


def test_the_form_works_without_javascript(browser: Any, server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(server + "/")
        page.fill("#q", "strike")
        page.select_option("select[name=sort]", "newest")
        page.press("#q", "Enter")
        page.wait_for_selector(".hit")
        assert "q=strike" in page.url and "sort=newest" in page.url
        assert titles(page)[:2] == ["Commuters struggle on second day of strike",
                                    "Harbour Line drivers strike over pay"]
        page.click("#facets a:has-text('commuters')")
        page.wait_for_selector(".chip")
        assert titles(page) == ["Commuters struggle on second day of strike"]
    finally:
        context.close()
