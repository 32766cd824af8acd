"""A tiny web search page for a newsearch index, on Python's http.server alone.

    python examples/web_search.py --index index [--host 127.0.0.1] [--port 8000]

The full search page (results as you type, facets, dates, article view, a JSON API) is
``newsearch serve`` (``search/interfaces/web``, the ``web`` extra); this example shows how
little the public API needs, with nothing but the standard library.

- ``GET /?q=QUERY&page=N``: an HTML page with a search form and highlighted results.
- ``GET /search?q=QUERY&page=N``: the same page of results as JSON (``Results.to_dict()``).

A query newsearch cannot understand gets HTTP 400 with the reason. Article text is untrusted:
results are highlighted with ``highlight="html"`` (text escaped, matches in ``<mark>``), every
other field goes through ``html.escape``, and only http(s) links become links. There is no
authentication, so the server listens on loopback unless ``--host`` says otherwise.

Uses only the public API. One ``search.Index`` is shared by all the server's threads.
"""
from __future__ import annotations

import argparse
import html
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import search

PAGE_SIZE = 10

STYLE = """body{font:16px/1.45 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}
input{width:70%;font-size:1rem}li{margin-bottom:1rem}small{color:#555}mark{background:#fe6}
.error{color:#a00}"""


JSON = "application/json"
HTML = "text/html; charset=utf-8"


class SearchHandler(BaseHTTPRequestHandler):
    """Answers ``/`` (HTML) and ``/search`` (JSON) from the server's shared index."""

    server: SearchServer

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        query = params.get("q", [""])[0]
        if url.path not in ("/", "/search"):
            self.reply(404, JSON, json.dumps({"error": f"no page {url.path}; try /?q=words"}))
        elif url.path == "/search":
            status, outcome = self.run_search(query, params)
            data = outcome.to_dict() if isinstance(outcome, search.Results) else {"error": outcome}
            self.reply(status, JSON, json.dumps(data))
        elif query.strip():
            status, outcome = self.run_search(query, params)
            self.reply(status, HTML, render_page(query, outcome))
        else:
            self.reply(200, HTML, render_page(query, None))

    def run_search(self, query: str, params: dict[str, list[str]]) -> tuple[int, search.Results | str]:
        """The HTTP status and the results, or the status and an error message."""
        try:
            page = int(params.get("page", ["1"])[0])
        except ValueError:
            return 400, "page must be a whole number"
        try:
            return 200, self.server.index.search(query, page=page, limit=PAGE_SIZE, highlight="html")
        except search.QueryError as error:
            return 400, str(error)
        except search.SearchError as error:  # a damaged index, for instance
            return 500, str(error)

    def reply(self, status: int, content_type: str, body: str) -> None:
        """Send one complete response."""
        payload = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.end_headers()
        self.wfile.write(payload)


def render_page(query: str, outcome: search.Results | str | None) -> str:
    """The HTML page: the form, then an error message or one page of hits."""
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>{html.escape(query) or 'Search'} – newsearch</title><style>{STYLE}</style></head><body>"
             f"<form action='/' method='get'><input name='q' value='{html.escape(query)}' autofocus> "
             f"<button>Search</button></form>"]
    if isinstance(outcome, str):
        parts.append(f"<p class='error'>{html.escape(outcome)}</p>")
    elif outcome is not None:
        parts.append(f"<p>{outcome.total} articles</p>")
        if outcome.suggestion:
            link = "/?" + urlencode({"q": outcome.suggestion})
            parts.append(f"<p>Did you mean <a href='{html.escape(link)}'>{html.escape(outcome.suggestion)}</a>?</p>")
        first = outcome.hits[0].rank if outcome.hits else 1
        parts.append(f"<ol start='{first}'>{''.join(render_hit(hit) for hit in outcome.hits)}</ol>")
        parts.append(render_pages(query, outcome.page, outcome.page_count))
    parts.append("</body></html>")
    return "".join(parts)


def render_hit(hit: search.Hit) -> str:
    """One result: the title (a link only for http(s) links), date, source and fragments."""
    title = search.Snippet("title", hit.title, hit.title_spans).render("html")
    if hit.link.lower().startswith(("https://", "http://")):
        title = f"<a href='{html.escape(hit.link)}'>{title}</a>"
    about = " · ".join(html.escape(part) for part in (
        hit.date.strftime("%Y-%m-%d") if hit.date else "", hit.source, hit.path) if part)
    return f"<li>{title}<br><small>{about}</small><p>{hit.snippet}</p></li>"


def render_pages(query: str, page: int, pages: int) -> str:
    """Links to the previous and next pages."""
    links = []
    if page > 1:
        links.append(f"<a href='/?{html.escape(urlencode({'q': query, 'page': page - 1}))}'>previous</a>")
    if page < pages:
        links.append(f"<a href='/?{html.escape(urlencode({'q': query, 'page': page + 1}))}'>next</a>")
    return f"<nav>page {page} of {pages} {' '.join(links)}</nav>"


class SearchServer(ThreadingHTTPServer):
    """A threading HTTP server holding the one shared index."""

    def __init__(self, address: tuple[str, int], index: search.Index) -> None:
        super().__init__(address, SearchHandler)
        self.index = index


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted; 2 when the index cannot be opened."""
    parser = argparse.ArgumentParser(description="A tiny web search page for a newsearch index.")
    parser.add_argument("--index", default="index", help="the index directory (default: index)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    args = parser.parse_args(argv)
    try:
        index = search.open_index(args.index)
    except search.SearchError as error:
        print(f"web_search: {error}", file=sys.stderr)
        return 2
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"web_search: listening on {args.host}: anyone who can reach it can read the index",
              file=sys.stderr)
    with index, SearchServer((args.host, args.port), index) as server:
        print(f"serving http://{args.host}:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
