"""The routes of ``newsearch serve``: HTML pages rendered on the server, and the JSON API.

Parts:
- ``routes()``: every route of the app.
- Pages: ``search_page`` (``/``: the form, results, facets, pages), ``article_page``
  (``/article/ID``: the article and its related articles).
- API: ``api_search`` (exactly ``newsearch search --json --facets``), ``api_article``
  (``newsearch show --json``), ``api_related`` (``newsearch related --json``).
- ``hit_view``, ``facet_views``, ``page_links``: what the templates show, built here so the
  templates hold no logic; ``safe_link``: only http(s) links become hrefs.

Every route is a plain ``def``: Starlette runs it in its thread pool, so a slow search blocks
one worker thread, not the event loop. Errors: a parameter or query that cannot be used is
400 with its one-line reason, an unknown article 404, an index that cannot be searched 503.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

import search
from search.interfaces.web.params import FILTERS, SORTS, ParamError, SearchParams, query_text, source_label
from search.present import display

HERE = Path(__file__).parent
# autoescape=True for every template: article text is untrusted; only values built here from
# escaped text (highlighted snippets) are marked safe, with Markup.
# StrictUndefined: a name a template uses but a route forgot is an error in the tests, not a blank.
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True,
                        lstrip_blocks=True, undefined=StrictUndefined)
TEMPLATES.globals.update(source_label=source_label, sorts=SORTS)
RELATED_SHOWN = 5
# Values listed per facet (the most frequent; months newest first): Reuters has hundreds of tags.
FACET_VALUES_SHOWN = 10
JSON_TYPE = "application/json"


def routes() -> list[BaseRoute]:
    """The app's routes; ``/static`` serves the page's script and style sheet."""
    return [
        Route("/", search_page),
        Route("/article/{article_id:path}", article_page),
        Route("/api/search", api_search),
        Route("/api/article/{article_id:path}", api_article),
        Route("/api/related/{article_id:path}", api_related),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


# Pages -------------------------------------------------------------------------------------


def search_page(request: Request) -> Response:
    """``/?q=…``: the search form, and for a query its results, facets and page links."""
    try:
        params = SearchParams.from_query(request.query_params)
    except ParamError as error:
        return _page("search.html", 400, params=SearchParams(q=request.query_params.get("q", "")[:1000]),
                     error=str(error))
    if not params.searching:
        return _page("search.html", 200, params=params, results=None)
    try:
        results = _search(request, params, highlight="html")
    except search.QueryError as error:
        return _page("search.html", 400, params=params, error=str(error))
    except search.SearchError as error:
        return _page("search.html", 503, params=params, error=str(error))
    return _page("search.html", 200, params=params, results=results,
                 hits=[hit_view(hit, params) for hit in results.hits],
                 facets=facet_views(results.facets, params), pages=page_links(params, results.page_count),
                 chips=filter_chips(params),
                 suggestion_url=params.url(q=results.suggestion, page=1) if results.suggestion else None)


def article_page(request: Request) -> Response:
    """``/article/ID``: one article's title, date, source, link and text, and related articles."""
    article_id = request.path_params["article_id"]
    back = request.query_params.get("q", "")[:1000]
    try:
        article = request.app.state.index.get(article_id)
        if article is None:
            return _page("error.html", 404, message=f"no article with id {article_id!r}", params=SearchParams(q=back))
        related = request.app.state.index.related(article_id, limit=RELATED_SHOWN, highlight=None)
    except search.SearchError as error:
        return _page("error.html", 503, message=str(error), params=SearchParams(q=back))
    paragraphs = [part.strip() for part in article.body.split("\n\n") if part.strip()]
    searched = SearchParams(q=back)
    return _page("article.html", 200, params=searched, article=article, paragraphs=paragraphs,
                 link=safe_link(article.link), date=published(article.date), back=back,
                 back_url=searched.url() if back else "/", related=[hit_view(hit, searched) for hit in related.hits])


def _page(template: str, status: int, **context: Any) -> HTMLResponse:
    for name in ("error", "results", "suggestion_url"):
        context.setdefault(name, None)
    for name in ("facets", "hits", "pages", "chips"):
        context.setdefault(name, [])
    return HTMLResponse(TEMPLATES.get_template(template).render(**context), status_code=status)


# The JSON API ------------------------------------------------------------------------------


def api_search(request: Request) -> Response:
    """``/api/search?q=…``: one page of results, the object ``newsearch search --json --facets`` prints."""
    try:
        params = SearchParams.from_query(request.query_params)
        if not params.searching:
            raise ParamError("give a query: /api/search?q=words")
        return _json(_search(request, params, highlight=None))
    except (ParamError, search.QueryError) as error:
        return _json({"error": str(error)}, 400)
    except search.SearchError as error:
        return _json({"error": str(error)}, 503)


def api_article(request: Request) -> Response:
    """``/api/article/ID``: the stored article, as ``newsearch show --json`` prints it."""
    article_id = request.path_params["article_id"]
    try:
        article = request.app.state.index.get(article_id)
    except search.SearchError as error:
        return _json({"error": str(error)}, 503)
    if article is None:
        return _json({"error": f"no article with id {article_id!r}"}, 404)
    return _json(asdict(article))


def api_related(request: Request) -> Response:
    """``/api/related/ID?limit=N``: articles like this one, as ``newsearch related --json`` prints them."""
    article_id = request.path_params["article_id"]
    try:
        limit = SearchParams.from_query({"limit": request.query_params.get("limit", "")}).limit
        index = request.app.state.index
        if index.get(article_id) is None:
            return _json({"error": f"no article with id {article_id!r}"}, 404)
        return _json(index.related(article_id, limit=limit, highlight=None))
    except (ParamError, search.QueryError) as error:
        return _json({"error": str(error)}, 400)
    except search.SearchError as error:
        return _json({"error": str(error)}, 503)


def _search(request: Request, params: SearchParams, *, highlight: str | None) -> search.Results:
    results: search.Results = request.app.state.index.search(
        query_text(params), facets=True, highlight=highlight, **params.search_args())
    return results


def _json(data: Any, status: int = 200) -> Response:
    # display.to_json: the encoder the CLI's --json uses, so the two print the same text.
    return Response(display.to_json(data), status_code=status, media_type=JSON_TYPE)


# What the templates show -------------------------------------------------------------------


def article_url(article_id: str, query: str = "") -> str:
    """The article view's URL; ids are links or paths, so every character is quoted."""
    return f"/article/{quote(article_id, safe='')}" + (f"?q={quote(query, safe='')}" if query else "")


def safe_link(link: str) -> str | None:
    """``link`` when it is an http(s) URL, the only kind the page makes an href of."""
    return link if link.strip().lower().startswith(("https://", "http://")) else None


def join_fragments(fragments: list[str]) -> str:
    """Fragments in one line: an ellipsis between two, unless one already ends or starts with one."""
    joined = ""
    for fragment in fragments:
        if joined:
            joined += " " if joined.endswith("…") or fragment.startswith("…") else " … "
        joined += fragment
    return joined


def published(moment: datetime | None) -> str:
    """An article's date as the page shows it: the time too, unless it is midnight (a date only)."""
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d" if (moment.hour, moment.minute) == (0, 0) else "%Y-%m-%d %H:%M UTC")


def hit_view(hit: search.Hit, params: SearchParams) -> dict[str, Any]:
    """One result as the templates show it: escaped, highlighted title and snippet, links."""
    return {
        "url": article_url(hit.id, params.q),
        "title": Markup(search.Snippet("title", hit.title or hit.path, hit.title_spans).render("html")),
        "snippet": Markup(join_fragments([piece.render("html") for piece in hit.snippets])),
        "date": hit.date.strftime("%Y-%m-%d") if hit.date else "",
        "source": source_label(hit.source),
        "tags": hit.tags,
        "link": safe_link(hit.link),
    }


def facet_views(facets: dict[str, dict[str, int]], params: SearchParams) -> list[dict[str, Any]]:
    """Each facet's values with counts and the URL that filters on the value (or lifts the filter)."""
    views = []
    for name in FILTERS:
        active = getattr(params, name)
        counts = facets.get(name, {})
        shown = list(counts)[:FACET_VALUES_SHOWN]
        if active in counts and active not in shown:
            shown.append(active)  # the filter in force stays visible, to be lifted
        values = [{"value": value, "label": source_label(value) if name == "source" else value,
                   "count": counts[value], "active": value == active,
                   "url": params.url(page=1, **{name: "" if value == active else value})} for value in shown]
        if values:
            views.append({"name": name, "values": values})
    return views


def filter_chips(params: SearchParams) -> list[dict[str, str]]:
    """The active filters, each with the URL of the same search without it."""
    return [{"label": f"{name}: {source_label(value) if name == 'source' else value}",
             "url": params.url(page=1, **{name: ""})} for name, value in params.filters().items()]


def page_links(params: SearchParams, pages: int, around: int = 2) -> list[dict[str, Any]]:
    """Links to the first, last and nearby pages; None stands for a gap."""
    shown = sorted({1, pages, *range(max(1, params.page - around), min(pages, params.page + around) + 1)})
    links: list[dict[str, Any]] = []
    for number in shown if pages > 1 else []:
        if links and number - links[-1]["number"] > 1:
            links.append({"number": number - 1, "gap": True})
        links.append({"number": number, "url": params.url(page=number), "current": number == params.page,
                      "gap": False})
    return links
