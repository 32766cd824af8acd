"""The interactive prompt: type queries, page through hits, read articles, at a terminal or in a pipe.

Parts:
- ``run_repl(index_dir, color=...)``: open the index and loop: a prompt with line editing on a
  terminal, or one query (or command) per line when stdin is a pipe, so it can be scripted.
- ``Session``: what the prompt remembers between lines: query, page, sort, date filters, JSON
  mode and the list last shown (which ``:open N`` and ``:related N`` refer to).
- ``COMMANDS``: the ``:command`` handlers, one small function each, dispatched by name (any
  unambiguous prefix works: ``:n``, ``:o 3``); ``handle`` runs one line, ``step`` reports errors.
- ``completions``: what tab completes to (commands, field names, sort orders); the line editing
  itself (readline, the history file) is ``lineedit``.

No search logic lives here: it calls the ``search`` API (``Index`` methods, never Whoosh) and
prints with ``display``, which cleans every string that came from an article.
"""
from __future__ import annotations

import math
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

import search

from search.present import display
from search.query.dates import since_bound, until_bound
from search.errors import SearchError
from search.interfaces.lineedit import LineEditor, history_path
from search.present.results import Hit, Results

if TYPE_CHECKING:
    from search.api import Index
    from search.remote.index import RemoteIndex

PAGE_SIZE = 10
# search.query.limits.MAX_EXPANSIONS and MAX_EXPANSIONS_CEILING, repeated here because limits
# imports Whoosh, which this module must not load (tests/interfaces/test_repl.py keeps them equal).
MAX_EXPANSIONS = 1_000
MAX_EXPANSIONS_CEILING = 100_000
SORTS = ("relevance", "newest", "oldest")
# The names users may type before a colon: search.index.schema.FIELD_ALIASES, repeated here because
# schema imports Whoosh (tests/test_repl.py keeps the two lists equal).
FIELD_NAMES = ("title", "description", "desc", "body", "text", "tag", "tags", "source",
               "category", "categories", "date", "id", "link", "path")

HELP = """\
Type a query to search it (the query language is in the README); Enter on an empty line shows
the next page, or searches the spelling "did you mean" just offered.
Commands (any unambiguous prefix works, e.g. :n, :o 3):
  :next, :prev                    the next or previous page of results
  :open N                         read hit N in full (in a pager on a terminal)
  :related N                      articles like hit N
  :sort relevance|newest|oldest   the order of results
  :recent [DAYS|off]              newer articles first among the relevant (half-life 14 days)
  :since DATE, :until DATE        keep only articles from / up to DATE until cleared
                                  (2026-07, 'last week', '3 days ago'; no DATE clears)
  :facets                         counts by source, tag and month for the current query
  :expansions [N]                 show, or set, how many indexed words a prefix, wildcard
                                  or fuzzy word may match (max_expansions; 1,000 by default)
  :json                           switch JSON output on or off
  :help, :quit                    this help; leave (Ctrl-D also leaves)
Tab completes commands and field names (title:, tag:, source:, date:, ...). Ctrl-C clears
the line or stops a search. History is kept in {history}."""


class Quit(Exception):
    """Raised by ``:quit`` to leave the prompt."""


class UsageError(Exception):
    """A command typed wrongly (unknown, ambiguous, bad argument); the message says how to fix it."""


@dataclass
class Session:
    """What the prompt remembers between lines."""

    index: Index | RemoteIndex
    color: bool
    interactive: bool
    query: str = ""
    page: int = 1
    pages: int = 0
    sort: str = "relevance"
    since: str | None = None
    until: str | None = None
    recent: bool | float = False  # the API's ``recent``: off, on, or a half-life in days
    max_expansions: int = MAX_EXPANSIONS  # the API's ``max_expansions``
    json: bool = False
    shown: Results | None = None
    # The spelling shown under the last results, when Enter would search it (no next page).
    suggestion: str | None = None

    def search(self, query: str, page: int = 1, *, facets: bool = False) -> Results:
        """Run ``query`` with the session's sort and date filters."""
        return self.index.search(query, limit=PAGE_SIZE, page=page, sort=self.sort, since=self.since,
                                 until=self.until, highlight=None, facets=facets,
                                 recent=self.recent, max_expansions=self.max_expansions)

    def prompt(self) -> str:
        """The prompt, naming the sort order, filters and JSON mode when they are not the default."""
        state = [self.sort] if self.sort != "relevance" else []
        state += [f"{name} {value}" for name, value in (("since", self.since), ("until", self.until)) if value]
        state += ["recent"] if self.recent is True else [f"recent {self.recent:g}d"] if self.recent else []
        state += [f"expansions {self.max_expansions}"] if self.max_expansions != MAX_EXPANSIONS else []
        state += ["json"] if self.json else []
        return f"newsearch [{display.clean(', '.join(state))}]> " if state else "newsearch> "


# Output -----------------------------------------------------------------------------------

def say(session: Session, text: str) -> None:
    """Print results on stdout (styles kept when colouring, even when stdout is not a terminal)."""
    click.echo(text, color=session.color)


def note(text: str) -> None:
    """Print a message about the results (not results themselves) on stderr."""
    click.echo(text, err=True)


def error(message: str) -> None:
    """Print an error as one line on stderr."""
    click.echo(display.error_line(message), err=True)


def show(session: Session, results: Results) -> None:
    """Print a list of results (or its JSON), with 'no results', 'did you mean' and paging hints."""
    session.shown = results
    if session.json:
        say(session, display.to_json(results))
        return
    if results.hits:
        say(session, display.format_results(results, session.color))
    elif results.total:
        note(f"page {results.page} is past the last page ({results.page_count})")
    else:
        note(f"no results for {display.clean(results.query)!r}")
    more = results.page < results.page_count
    session.suggestion = results.suggestion if session.interactive and not more else None
    if results.suggestion:
        hint = " (Enter to search for it)" if session.suggestion else ""
        note(f"did you mean: {display.clean(results.suggestion)}{hint}")
    if session.interactive and more:
        note(f"(Enter or :next for page {results.page + 1} of {results.page_count})")


def page_text(session: Session, text: str) -> None:
    """Show long text in a pager on a terminal ($NEWSEARCH_PAGER, else $PAGER); print it otherwise."""
    pager = os.environ.get("NEWSEARCH_PAGER", "")
    if pager == "cat" or not (session.interactive and sys.stdout.isatty()):
        say(session, text)
    elif pager:
        try:
            subprocess.run(shlex.split(pager), input=text, text=True, check=False)
        except OSError as problem:
            error(f"cannot run NEWSEARCH_PAGER {pager!r} ({problem.strerror}); printing instead")
            say(session, text)
    else:
        click.echo_via_pager(text)


# Commands ---------------------------------------------------------------------------------

def run_query(session: Session, query: str, page: int = 1) -> None:
    """Search and show one page; the session's query and page change only when that works."""
    results = session.search(query, page)
    session.query, session.page, session.pages = query, page, results.page_count
    show(session, results)


def rerun(session: Session) -> None:
    """Show the first page of the current query again (after the sort or a filter changed)."""
    if session.query:
        run_query(session, session.query)


def need_query(session: Session) -> None:
    """Raise ``UsageError`` unless there is a query to page through."""
    if not session.query:
        raise UsageError("no query yet; type one first")


def cmd_next(session: Session, _arg: str) -> None:
    """:next: the next page of the current query."""
    need_query(session)
    if session.page >= session.pages:
        note(f"no more results (page {session.page} of {session.pages})")
    else:
        run_query(session, session.query, session.page + 1)


def cmd_prev(session: Session, _arg: str) -> None:
    """:prev: the previous page of the current query."""
    need_query(session)
    if session.page <= 1:
        note("already on the first page")
    else:
        run_query(session, session.query, session.page - 1)


def pick(session: Session, arg: str) -> Hit:
    """The hit numbered ``arg`` in the list last shown (its rank, or its position on the page)."""
    if session.shown is None or not session.shown.hits:
        raise UsageError("no results shown yet; search first")
    if not arg.strip().isdigit():
        raise UsageError(f"give the number of a hit, e.g. :open {session.shown.hits[0].rank}")
    number, hits = int(arg), session.shown.hits
    for hit in hits:
        if hit.rank == number:
            return hit
    if 1 <= number <= len(hits):
        return hits[number - 1]
    raise UsageError(f"no hit {number} here; the hits shown are {hits[0].rank}-{hits[-1].rank}")


def cmd_open(session: Session, arg: str) -> None:
    """:open N: the full text of hit N."""
    hit = pick(session, arg)
    article = session.index.get(hit.id)
    if article is None:
        raise UsageError("that article is no longer in the index; search again")
    page_text(session, display.to_json(asdict(article)) if session.json else display.format_article(article))


def cmd_related(session: Session, arg: str) -> None:
    """:related N: articles like hit N (``:open N`` then refers to this list)."""
    hit = pick(session, arg)
    show(session, session.index.related(hit.id, limit=PAGE_SIZE, highlight=None))


def cmd_sort(session: Session, arg: str) -> None:
    """:sort ORDER: relevance, newest or oldest; the current query is shown again."""
    order = arg.strip().lower()
    if order not in SORTS:
        raise UsageError(f"sort by {', '.join(SORTS)}, e.g. :sort newest")
    session.sort = order
    if order != "relevance" and session.recent:
        session.recent = False  # the boost reorders relevance; a date order replaces it
        note("recency boost off")
    note(f"sorted by {order}")
    rerun(session)


def cmd_recent(session: Session, arg: str) -> None:
    """:recent [DAYS|off]: rank newer articles higher (half-life DAYS, 14 by default), or stop."""
    value = arg.strip().lower()
    if value == "off":
        session.recent = False
        note("recency boost off")
        rerun(session)
        return
    try:
        days = float(value) if value else None
    except ValueError:
        raise UsageError(f"not a number of days: {display.clean(value)!r}; e.g. :recent 7, or :recent off") from None
    if days is not None and not 0 < days < math.inf:
        raise UsageError(f"the half-life must be a positive number of days, not {display.clean(value)}")
    session.recent = True if days is None else days
    if session.sort != "relevance":
        session.sort = "relevance"
        note("sorted by relevance")
    note(f"recency boost on{f', half-life {days:g} days' if days else ''} (:recent off stops it)")
    rerun(session)


def date_filter(name: str, check: Callable[[str], object]) -> Callable[[Session, str], None]:
    """The handler of ``:since`` or ``:until``: set (checked like the API does) or clear a filter."""
    def handler(session: Session, arg: str) -> None:
        value = arg.strip() or None
        if value is not None:
            check(value)  # QueryError, shown as one line, for a date the API would refuse
            refuse_an_empty_span(session, name, value)
        setattr(session, name, value)
        note(f"{name} {display.clean(value)} (:{name} alone clears it)" if value else f"{name} cleared")
        rerun(session)
    handler.__doc__ = f":{name} [DATE]: a date filter that stays until cleared."
    return handler


def refuse_an_empty_span(session: Session, name: str, value: str) -> None:
    """Raise ``UsageError`` when ``:since``/``:until`` set to ``value`` would leave no date between
    them, so the filter stays as it was instead of every later search failing."""
    since, until = (value, session.until) if name == "since" else (session.since, value)
    start, end = (since_bound(since) if since else None), (until_bound(until) if until else None)
    if start and end and start >= end:
        raise UsageError(f":{name} {display.clean(value)} leaves no date between since {display.clean(str(since))} "
                         f"and until {display.clean(str(until))}; {name} stays "
                         f"{display.clean(getattr(session, name) or 'unset')}")


def cmd_facets(session: Session, _arg: str) -> None:
    """:facets: counts by source, tag and month for the current query."""
    need_query(session)
    facets = session.search(session.query, session.page, facets=True).facets
    if session.json:
        say(session, display.to_json(facets))
    else:
        say(session, display.format_facets(facets) or "no facets")


def cmd_expansions(session: Session, arg: str) -> None:
    """:expansions [N]: show how many indexed words a prefix, wildcard or fuzzy word may match,
    or set it (1 to MAX_EXPANSIONS_CEILING); the current query is shown again after a change."""
    value = arg.strip().replace(",", "").replace("_", "")
    if not value:
        note(f"max_expansions {session.max_expansions:,} (a prefix, wildcard or fuzzy word may match that many "
             f"indexed words; :expansions N changes it, default {MAX_EXPANSIONS:,})")
        return
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_EXPANSIONS_CEILING:
        raise UsageError(f"give a whole number of words from 1 to {MAX_EXPANSIONS_CEILING:,}, not "
                         f"{display.clean(arg.strip())!r:.40}; e.g. :expansions 5000")
    session.max_expansions = int(value)
    note(f"max_expansions {session.max_expansions:,}")
    rerun(session)


def cmd_json(session: Session, _arg: str) -> None:
    """:json: switch JSON output on or off."""
    session.json = not session.json
    note(f"JSON output {'on' if session.json else 'off'}")


def cmd_help(session: Session, _arg: str) -> None:
    """:help: the commands."""
    say(session, HELP.format(history=history_path()))


def cmd_quit(_session: Session, _arg: str) -> None:
    """:quit: leave the prompt."""
    raise Quit


COMMANDS: dict[str, Callable[[Session, str], None]] = {
    "next": cmd_next, "prev": cmd_prev, "open": cmd_open, "related": cmd_related, "sort": cmd_sort, "recent": cmd_recent,
    "since": date_filter("since", since_bound), "until": date_filter("until", until_bound),
    "facets": cmd_facets, "expansions": cmd_expansions, "json": cmd_json, "help": cmd_help, "quit": cmd_quit,
}
TAKES_ARGUMENT = {"open", "related", "sort", "recent", "since", "until", "expansions"}


def matching(name: str) -> list[str]:
    """The commands ``name`` may mean: itself, or those it is a prefix of."""
    return [name] if name in COMMANDS else [known for known in COMMANDS if known.startswith(name)]


def command(name: str) -> Callable[[Session, str], None]:
    """The handler for a command name or an unambiguous prefix of one."""
    matches = matching(name) if name else []
    if len(matches) == 1:
        return COMMANDS[matches[0]]
    if matches:
        raise UsageError(f":{name} could be {', '.join(':' + m for m in matches)}; type more of it")
    raise UsageError(f"unknown command :{name}; type :help for the list")


def handle(session: Session, line: str) -> None:
    """Run one line: a ``:command``, a query, or (on a terminal) Enter: the spelling suggested
    just before, or else the next page."""
    text = line.strip()
    suggestion, session.suggestion = session.suggestion, None  # offered for the next line only
    if not text:
        if session.interactive and suggestion:
            run_query(session, suggestion)
        elif session.interactive and session.query:
            cmd_next(session, "")
    elif text.startswith(":"):
        name, _, arg = text[1:].replace("\t", " ").partition(" ")
        command(name.lower())(session, arg)
    else:
        run_query(session, text)


def step(session: Session, line: str) -> bool:
    """Run one line, printing errors as one line; False when the session should end."""
    try:
        handle(session, line)
    except Quit:
        return False
    except KeyboardInterrupt:
        if not session.interactive:
            raise  # a script is stopped, not just its current line
        note("interrupted")
    except (SearchError, UsageError) as problem:
        error(str(problem))
    except Exception as problem:  # noqa: BLE001 - a bug in one search must not end the session
        error(f"internal error on this line ({type(problem).__name__}: {problem!s:.80}); "
              "the session goes on: please report it")
    return True


# Completion -------------------------------------------------------------------------------

def completions(line: str, begin: int, text: str) -> list[str]:
    """What ``text`` (the word starting at ``begin`` in ``line``) may complete to."""
    before = line[:begin].split()
    if not before and text.startswith(":"):
        return [f":{name}{' ' if name in TAKES_ARGUMENT else ''}" for name in COMMANDS
                if f":{name}".startswith(text)]
    if before and before[0].startswith(":"):
        choices = {"sort": SORTS, "recent": ("off",)}.get("".join(matching(before[0][1:])), ())
        return [choice for choice in choices if choice.startswith(text)]
    return [f"{name}:" for name in FIELD_NAMES if f"{name}:".startswith(text.lower())]



# Loops ------------------------------------------------------------------------------------

def run_repl(index_dir: str | Path, *, color: str = "auto", max_expansions: int = MAX_EXPANSIONS) -> None:
    """Open the index at ``index_dir`` and read queries until EOF or ``:quit``.

    On a terminal: a banner, a prompt with history and completion, Ctrl-C clearing the line.
    Otherwise one query or command per line, results on stdout, errors on stderr. Raises
    ``SearchError`` (``IndexNotFoundError``...) when the index cannot be opened.
    ``max_expansions`` starts the session's ``:expansions`` setting.
    """
    with search.open_index(index_dir) as index:
        session = Session(index=index, color=display.want_color(color, sys.stdout), interactive=sys.stdin.isatty(),
                          max_expansions=max_expansions)
        if session.interactive:
            prompt_loop(session, LineEditor(history_path(), completions))
        else:
            script_loop(session)


def prompt_loop(session: Session, editor: LineEditor) -> None:
    """The terminal loop: a banner, then read, run and print until Ctrl-D or ``:quit``."""
    say(session, display.format_stats(session.index.stats()))
    say(session, "Type a query, :help for commands, Ctrl-D to leave.")
    while True:
        try:
            line = input(session.prompt())
        except KeyboardInterrupt:
            click.echo()  # Ctrl-C: drop the line, new prompt
            continue
        except EOFError:
            click.echo()
            return
        # Enter on a suggestion searches it: the history keeps what was searched.
        editor.remember(line if line.strip() or not session.suggestion else session.suggestion)
        if not step(session, line):
            return


def script_loop(session: Session) -> None:
    """The scripted loop: one query or command per line of stdin; blank lines are skipped."""
    for line in sys.stdin:
        if line.strip() and not step(session, line.rstrip("\n")):
            return


__all__ = ["run_repl", "Session", "COMMANDS", "handle", "step", "completions"]
