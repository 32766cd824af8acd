"""Take the README's screenshots of ``newsearch serve`` with headless Chromium (Playwright).

    python docs/screenshots/take.py [INDEX]    # default: an index of the bundled corpus/ built in a temp folder

Writes results.png (a search with highlights and facets) and article.png (an article view)
beside this file. Needs the web and test extras and Debian's /usr/bin/chromium.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main() -> None:
    """Serve the index, open two pages, save their screenshots."""
    with tempfile.TemporaryDirectory() as scratch:
        index = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(scratch) / "index"
        if len(sys.argv) == 1:
            subprocess.run([sys.executable, "-m", "search", "index", str(ROOT / "corpus"), "--index", str(index), "-q"],
                           check=True, capture_output=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-m", "search", "serve", "--index", str(index), "--port", str(port)])
        base = f"http://127.0.0.1:{port}"
        try:
            for _attempt in range(200):
                try:
                    urllib.request.build_opener(urllib.request.ProxyHandler({})).open(base + "/", timeout=2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1060, "height": 700})
                page.goto(base + "/")
                page.fill("#q", "transit strike")  # typed: the results come from the JSON API
                page.wait_for_selector(".hit")
                page.screenshot(path=str(HERE / "results.png"))
                page.click(".hit a.title >> nth=0")
                page.wait_for_selector("article h1")
                page.screenshot(path=str(HERE / "article.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
