"""The ``newsearch`` command: a thin click layer over the ``search`` API.

Commands: ``index``, ``search``, ``related``, ``show``, ``stats``, ``serve`` (the search page,
``search.interfaces.web``) and ``repl`` (also what a bare ``newsearch`` opens on a terminal).
Each opens the index, calls one library method, and prints with ``display``. Exit status,
decided in one place (``main``): 0 success, 1 a search found nothing, 2 a usage or input error.
Results go to stdout, diagnostics to stderr.
"""
from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import click

from search.present import display
from search.errors import SearchError
from search.query.limits import DEFAULT_TIMEOUT, MAX_EXPANSIONS, MAX_EXPANSIONS_CEILING, MAX_TIMEOUT

EXIT_OK, EXIT_NOTHING_FOUND, EXIT_ERROR = 0, 1, 2

F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """A user-facing error: one line on stderr, exit status 2 (1 means 'nothing found')."""

    exit_code = EXIT_ERROR

    def show(self, file: Any = None) -> None:
        click.echo(display.error_line(self.format_message()), err=True)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn library errors into one-line CLI errors."""
    try:
        yield
    except SearchError as error:
        raise CliError(str(error)) from None


# What to do about a write that failed, by errno; the default is to fix what the message names.
_WRITE_FIXES = {errno.ENOSPC: "free some disk space", errno.EDQUOT: "free some disk space",
                errno.EFBIG: "raise the file size limit (ulimit -f)", errno.EROFS: "use a writable disk",
                errno.EACCES: "check the folder's permissions", errno.EPERM: "check the folder's permissions"}


@contextmanager
def write_errors(index_dir: Path) -> Iterator[None]:
    """Turn a failed write (disk full, no permission) into one line; the index keeps its last commit."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        fix = _WRITE_FIXES.get(error.errno or 0, "fix that")
        raise CliError(f"{index_dir}: cannot write the index: {error.strerror or error}; searches keep "
                       f"the last complete index: {fix} and run `newsearch index` again") from None


def index_option(function: F) -> F:
    """The shared ``--index DIR`` and ``--engine URL`` options (a remote engine wins)."""
    function = click.option("--engine", metavar="URL", default=None, envvar="NEWSEARCH_ENGINE",
                            help="A remote engine instead of the index folder: typesense://HOST:PORT[,...]/NAME "
                                 "(or set NEWSEARCH_ENGINE; the API key comes from NEWSEARCH_API_KEY).")(function)
    return click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
                        default=Path(os.environ.get("NEWSEARCH_INDEX", "index")), show_default=True,
                        help="Index directory (or set NEWSEARCH_INDEX).")(function)


def location(index_dir: Path, engine: str | None) -> str | Path:
    """Where the index is: the remote engine when one is named, else the folder."""
    return engine.strip() if engine and engine.strip() else index_dir


def _expansions_value(_ctx: click.Context, _param: click.Parameter, value: str | int) -> int:
    """``--max-expansions``' value, or a one-line usage error (exit 2) for one that is not a
    whole number from 1 to ``MAX_EXPANSIONS_CEILING``."""
    text = str(value).strip().replace(",", "").replace("_", "")
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_EXPANSIONS_CEILING:
        raise CliError(f"--max-expansions takes a whole number of words from 1 to {MAX_EXPANSIONS_CEILING:,}, "
                       f"not {str(value)!r:.40}")
    return int(text)


def max_expansions_option(function: F) -> F:
    """``--max-expansions N``: how many indexed words a prefix, wildcard or fuzzy word may reach."""
    return click.option(
        "--max-expansions", "max_expansions", default=str(MAX_EXPANSIONS), show_default=True, metavar="N",
        callback=_expansions_value,
        help=f"Refuse a prefix, wildcard or fuzzy word matching more than N indexed words (exit 2); "
             f"all prefixes together 4 N; N at most {MAX_EXPANSIONS_CEILING:,}.")(function)


def output_options(function: F) -> F:
    """The shared ``--json`` and ``--color`` options."""
    function = click.option("--json", "as_json", is_flag=True, help="Print one JSON document (see README).")(function)
    return click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
                        show_default=True, help="Colour matches; auto means on a terminal without NO_COLOR.")(function)


def open_existing(where: str | Path) -> Any:
    """Open the index (a folder or an engine URL) for a command, as a friendly error when there is none."""
    import search
    with friendly_errors():
        return search.open_index(where)


class _Commands(click.Group):
    """The command group; a command whose output pipe closed (``newsearch search x | head``)
    ends quietly with status 0, as ripgrep's do, where click would exit 1 ("nothing found")."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _quiet_stdout()
            ctx.exit(EXIT_OK)


class _QueryCommand(click.Command):
    """A command whose arguments are query words: a word that starts with ``-`` and is not one
    of its options is an exclusion (``newsearch search ice -hockey``), where click read
    ``-hockey`` as ``-h``, help, and ``-storm`` as "no such option: -s"."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _words_after_options(self.get_params(ctx), args))


def _words_after_options(params: list[click.Parameter], args: list[str]) -> list[str]:
    """``args`` with the query words, in their order, after a ``--``; the options and their
    values (``-n 5``, ``-n5``, ``--since=x``, an unknown ``--long`` for click to refuse) first."""
    takes_value = {name: not (param.is_flag or param.count) for param in params if isinstance(param, click.Option)
                   for name in param.opts + param.secondary_opts}
    options: list[str] = []
    words: list[str] = []
    rest = iter(args)
    for arg in rest:
        name = arg.split("=", 1)[0]
        if arg == "--":
            words.extend(rest)
        elif name in takes_value:
            options.append(arg)
            if takes_value[name] and "=" not in arg:
                options.extend(islice(rest, 1))
        elif takes_value.get(arg[:2]) and arg[2:].isdigit() or arg.startswith("--") and len(arg) > 2:
            options.append(arg)
        else:
            words.append(arg)
    return options + ["--", *words] if words else options


@click.group(cls=_Commands, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsearch", prog_name="newsearch")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Full-text search for a folder of news articles.

    \b
    newsearch index corpus/          build or update the index
    newsearch search 'ice "new york"' search it
    newsearch                        open the interactive prompt (on a terminal)
    newsearch help query             the query language (help: all topics)
    """
    if ctx.invoked_subcommand is None:
        if sys.stdin.isatty() and sys.stdout.isatty():
            ctx.invoke(repl)
        else:
            click.echo(ctx.get_help())


@cli.command()
@click.argument("corpus", required=False, type=click.Path(file_okay=False, path_type=Path))
@index_option
@click.option("--rebuild", is_flag=True, help="Build from scratch instead of updating.")
@click.option("--drafts", is_flag=True, help="Index articles marked draft: true.")
@click.option("--wait", type=float, default=5.0, show_default=True, help="Seconds to wait for another writer.")
@click.option("--strict", is_flag=True, help="Exit 2 when any file was skipped.")
@click.option("--watch", is_flag=True, help="Keep running and index new articles as they land (Ctrl-C stops).")
@click.option("--interval", type=click.FloatRange(0.1), default=10.0, show_default=True,
              help="Seconds between scans with --watch when there are no file events (or with --poll).")
@click.option("--poll", is_flag=True, help="With --watch, scan every --interval seconds instead of using "
                                            "file events (network drives send none).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="Print no per-file warnings.")
def index(corpus: Path | None, index_dir: Path, engine: str | None, rebuild: bool, drafts: bool, wait: float,
          strict: bool, watch: bool, interval: float, poll: bool, as_json: bool, quiet: bool) -> None:
    """Index the articles in CORPUS (default: the folder the index was built from, or corpus/).

    Incremental: only new, changed and removed files are processed. Skipped files are listed
    on stderr as 'path: reason' and the run goes on.
    """
    if engine:
        _index_remote(corpus, location(index_dir, engine), rebuild=rebuild, drafts=drafts, strict=strict,
                      watch=watch, interval=interval, poll=poll, as_json=as_json, quiet=quiet)
        return
    from search.index.update import update_index
    folder = _corpus_folder(corpus, index_dir)

    def update(progress: Any = None, rebuild: bool = False) -> Any:
        with friendly_errors(), write_errors(index_dir):
            return update_index(index_dir, folder, rebuild=rebuild, include_drafts=drafts, wait=wait, progress=progress)
    _index_and_keep_up(folder, update, ignored=index_dir, rebuild=rebuild, strict=strict, watch=watch,
                       interval=interval, poll=poll, as_json=as_json, quiet=quiet,
                       stopped="stopped; the index holds the last committed batch")


def _index_and_keep_up(folder: Path, update: Callable[..., Any], *, ignored: Path | None, rebuild: bool,
                       strict: bool, watch: bool, interval: float, poll: bool, as_json: bool, quiet: bool,
                       stopped: str) -> None:
    """One update (with a progress bar) and its summary, then with ``watch`` one more update
    per batch of changes, the watch in place before the first so that nothing falls between.
    ``update(progress=, rebuild=)`` runs one update of the index or the engine."""
    with _watching(folder, interval, poll, ignored=ignored) if watch else nullcontext() as changes:
        with _progress_bar(as_json) as progress:
            summary = update(progress=progress, rebuild=rebuild)
        _report(summary, as_json=as_json, quiet=quiet)
        if strict and summary.skipped:
            raise CliError(f"{len(summary.skipped)} file(s) skipped (--strict)")
        if changes is None:
            return
        _say_watching(folder, interval, poll)
        try:
            for _how in changes:
                _report(update(), as_json=as_json, quiet=quiet, only_changes=True)
        except KeyboardInterrupt:
            click.echo(stopped, err=True)


@contextmanager
def _watching(folder: Path, interval: float, poll: bool, ignored: Path | None = None) -> Iterator[Iterator[str]]:
    """The corpus's changes, watched from before the first update so that none falls between."""
    from search.index.watching import start_watching
    changes = start_watching(folder, interval=interval, events=not poll, on_fallback=_say_fallback, ignored=ignored)
    try:
        yield changes
    finally:
        changes.close()


def _say_watching(folder: Path, interval: float, poll: bool) -> None:
    how = f"every {interval:g} s" if poll else "for new and changed files"
    click.echo(f"watching {display.clean(str(folder))} {how}; Ctrl-C stops", err=True)


def _say_fallback(reason: str) -> None:
    click.echo(f"newsearch: {display.clean(reason)}", err=True)


def _index_remote(corpus: Path | None, where: str | Path, *, rebuild: bool, drafts: bool, strict: bool,
                  watch: bool, interval: float, poll: bool, as_json: bool, quiet: bool) -> None:
    """``newsearch index --engine URL``: the same reading and summary, sent to the engine."""
    import search
    with friendly_errors():
        from search.remote.index import RemoteIndex
        ix = search.open_index(where, create=True)
        assert isinstance(ix, RemoteIndex)  # where is an engine URL
        remembered = ix.meta().get("corpus")
    folder = corpus or Path(remembered or "corpus")
    if not folder.is_dir():
        raise CliError(f"{folder}: no such folder; give the folder of article files to index")

    def update(progress: Any = None, rebuild: bool = False) -> Any:
        with friendly_errors():
            return ix.update(folder, rebuild=rebuild, include_drafts=drafts, progress=progress)
    _index_and_keep_up(folder, update, ignored=None, rebuild=rebuild, strict=strict, watch=watch,
                       interval=interval, poll=poll, as_json=as_json, quiet=quiet,
                       stopped="stopped; the engine holds every batch sent")


def _corpus_folder(corpus: Path | None, index_dir: Path) -> Path:
    """The folder to index: the one given, else the one the index was built from, else corpus/."""
    from search.index.storage import current_generation, read_meta
    folder = corpus
    if folder is None:
        try:
            folder = Path(read_meta(current_generation(index_dir)).corpus)
        except SearchError:
            folder = Path("corpus")
    if not folder.is_dir():
        raise CliError(f"{folder}: no such folder; give the folder of article files to index")
    return folder


def _report(summary: Any, *, as_json: bool, quiet: bool, only_changes: bool = False) -> None:
    """Print an indexing summary, with its skipped files and warnings on stderr."""
    if only_changes and not (summary.changed or any(not skip.repeated for skip in summary.skipped)):
        return
    if not quiet:
        for problem in summary.skipped:
            click.echo(f"newsearch: skipped {display.clean(str(problem))}", err=True)
        for problem in summary.warnings:
            click.echo(f"newsearch: warning: {display.clean(str(problem))}", err=True)
    click.echo(display.to_json(summary) if as_json else display.format_summary(summary))


@contextmanager
def _progress_bar(as_json: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for long runs on a terminal; nothing otherwise."""
    if as_json or not sys.stderr.isatty():
        yield None
        return
    state: dict[str, Any] = {}

    def advance(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = click.progressbar(length=total, label="indexing", file=sys.stderr).__enter__()
        state["bar"].update(done - state["bar"].pos)

    try:
        yield advance
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)


@cli.command("search", cls=_QueryCommand)
@click.argument("query", nargs=-1, required=True)
@index_option
@click.option("-n", "--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="Hits per page.")
@click.option("-p", "--page", type=click.IntRange(1), default=1, show_default=True, help="Page of results.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True)
@click.option("--since", help="Only articles from this date on (2026-01-08, 2026-01, 'last week', '3 days ago').")
@click.option("--until", help="Only articles up to this date (inclusive of the day or month named).")
@click.option("--recent", is_flag=True, help="Rank newer articles higher (relevance sort; half-life 14 days).")
@click.option("--half-life", "half_life", type=float, metavar="DAYS",
              help="Days after which the --recent bonus halves (implies --recent).")
@click.option("--facets", is_flag=True, help="Also print counts by source, tag and month.")
@click.option("--timeout", type=click.FloatRange(0, MAX_TIMEOUT, min_open=True), default=DEFAULT_TIMEOUT,
              show_default=True, metavar="SECONDS", help="Stop a search that runs longer than this (exit 2).")
@max_expansions_option
@output_options
def search_command(query: tuple[str, ...], index_dir: Path, engine: str | None, limit: int, page: int, sort: str,
                   since: str | None, until: str | None, recent: bool, half_life: float | None,
                   facets: bool, timeout: float, max_expansions: int, as_json: bool, color: str) -> None:
    """Search the index for QUERY and print ranked hits with highlighted fragments.

    \b
    Words are stemmed and ORed, documents with all of them first:  ice protest
    "exact phrase"  "phrase with slop"~3  AND OR NOT -word  (groups)  word^2
    prefix*  fuzzy~  title: body: description: tag: source: category: date:
    date:2026-01  date:[2026-01-01 to 2026-01-31]  date:>="3 days ago"

    A query is refused (exit 2, one line) past a cap of search/query/limits.py: 1,000
    characters, 64 words, 100 letters a word, a letter before each * or ?, --max-expansions
    words per prefix, wildcard or fuzzy word (4 times it for all prefixes), 5 fuzzy words;
    or when it runs longer than --timeout.
    """
    ix = open_existing(location(index_dir, engine))
    with friendly_errors():
        results = ix.search(" ".join(query), limit=limit, page=page, sort=sort, since=since, until=until,
                            facets=facets, highlight=None, recent=half_life if half_life is not None else recent,
                            timeout=timeout, max_expansions=max_expansions)
    show_results(results, as_json=as_json, color=display.want_color("never" if as_json else color, sys.stdout),
                 facets=facets)
    if not results.total:
        sys.exit(EXIT_NOTHING_FOUND)


def show_results(results: Any, *, as_json: bool, color: bool, facets: bool = False) -> None:
    """Print results as JSON or text; 'did you mean' and 'no results' go to stderr."""
    if as_json:
        click.echo(display.to_json(results))
        return
    if results.hits:
        # color=True: click would otherwise strip the styles whenever stdout is not a terminal,
        # and --color always must mean always.
        click.echo(display.format_results(results, color), color=color)
    elif results.total:
        click.echo(f"page {results.page} is past the last page ({results.page_count})", err=True)
    else:
        click.echo(f"no results for {display.clean(results.query)!r}", err=True)
    if results.suggestion:
        click.echo(f"did you mean: {display.clean(results.suggestion)}", err=True)
    if facets and results.facets:
        click.echo("\n" + display.format_facets(results.facets))


@cli.command()
@click.argument("article_id")
@index_option
@click.option("-n", "--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@output_options
def related(article_id: str, index_dir: Path, engine: str | None, limit: int, as_json: bool, color: str) -> None:
    """List articles like ARTICLE_ID (an id or path, as --json shows them)."""
    ix = open_existing(location(index_dir, engine))
    with friendly_errors():
        results = ix.related(article_id, limit=limit)
    show_results(results, as_json=as_json, color=display.want_color("never" if as_json else color, sys.stdout))
    if not results.total:
        sys.exit(EXIT_NOTHING_FOUND)


@cli.command()
@click.argument("article_id")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the article as JSON.")
def show(article_id: str, index_dir: Path, engine: str | None, as_json: bool) -> None:
    """Print the full text of one indexed article (by id or path)."""
    ix = open_existing(location(index_dir, engine))
    with friendly_errors():
        article = ix.get(article_id)
    if article is None:
        raise CliError(f"no article with id or path {article_id!r}")
    if as_json:
        from dataclasses import asdict
        click.echo(display.to_json(asdict(article)))
    else:
        click.echo(display.format_article(article))


@cli.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def stats(index_dir: Path, engine: str | None, as_json: bool) -> None:
    """Say how many articles the index holds and the dates they span."""
    ix = open_existing(location(index_dir, engine))
    with friendly_errors():
        figures = ix.stats()
    click.echo(display.to_json(figures) if as_json else display.format_stats(figures))


@cli.command()
@index_option
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
@max_expansions_option
def repl(index_dir: Path = Path("index"), engine: str | None = None, color: str = "auto",
         max_expansions: int = MAX_EXPANSIONS) -> None:
    """Open the interactive search prompt (reads one query per line when not on a terminal)."""
    from search.interfaces.repl import run_repl
    engine = engine or os.environ.get("NEWSEARCH_ENGINE")  # a bare `newsearch` invokes this without click's envvar
    with friendly_errors():
        # int(): a bare `newsearch` invokes this with the option's default uncast by its callback.
        run_repl(location(index_dir, engine), color=color, max_expansions=int(max_expansions))


@cli.command()
@index_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback lets others read the index (no authentication).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Server processes (each opens the index; more use more cores).")
@click.option("--threads", type=click.IntRange(1, 256), default=None, metavar="N",
              help="Searches at once per process (default 8).")
@click.option("--watch", is_flag=True, help="Also keep the index up to date with its corpus folder while serving.")
@click.option("--corpus", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="With --watch: the folder to watch (default: the one the index was built from).")
def serve(index_dir: Path, engine: str | None, host: str, port: int, workers: int, threads: int | None,
          watch: bool, corpus: Path | None) -> None:
    """Serve the search page and its JSON API at http://HOST:PORT/ (Ctrl-C stops).

    \b
    /?q=QUERY&page=N&sort=newest&since=2026-01&source=...   the page (works without JavaScript)
    /api/search?q=QUERY   the JSON of `newsearch search --json --facets`
    /api/article/ID  /api/related/ID   as `newsearch show --json`, `newsearch related --json`
    """
    uvicorn, web = _web_modules()
    where = location(index_dir, engine)
    ix = open_existing(where)
    if watch and engine:
        raise CliError("--watch keeps a local index folder up to date; with --engine run `newsearch index --watch`")
    _check_port(host, port)
    if not _loopback(host):
        click.echo(f"newsearch: listening on {display.clean(host)}: there is no authentication, anyone who can "
                   "reach it can read the index", err=True)
    if watch:
        _watch_in_background(index_dir, _corpus_folder(corpus, index_dir))
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"serving http://{display.clean(shown_host)}:{port}/ (Ctrl-C stops)", err=True)
    threads = threads or web.THREADS
    if workers == 1:
        uvicorn.run(web.create_app(ix, threads=threads), host=host, port=port, log_level="warning", access_log=False)
    else:
        # uvicorn starts each worker from an import string; the worker reads the index's place from the environment.
        os.environ[web.ENVIRONMENT_INDEX] = str(where)
        os.environ[web.ENVIRONMENT_THREADS] = str(threads)
        uvicorn.run("search.interfaces.web:app_from_environment", factory=True, workers=workers, host=host, port=port,
                    log_level="warning", access_log=False)


def _web_modules() -> tuple[Any, Any]:
    """uvicorn and the web package, or a one-line error naming the extra to install."""
    try:
        import uvicorn

        from search.interfaces import web
    except ImportError:
        raise CliError("newsearch serve needs the web extra: pip install 'newsearch[web]'") from None
    return uvicorn, web


def _loopback(host: str) -> bool:
    import ipaddress
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _check_port(host: str, port: int) -> None:
    """A port already in use as one line now, not uvicorn's log lines after start-up."""
    import socket
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as error:
            fix = "choose another --port" if error.errno == errno.EADDRINUSE else "check --host"
            raise CliError(f"cannot listen on {host}:{port}: {error.strerror or error}; {fix}") from None


# Seconds between scans where the folder sends no file events (``newsearch index``'s default).
WATCH_INTERVAL = 10.0


def _watch_in_background(index_dir: Path, folder: Path) -> None:
    """Keep the index up to date with ``folder`` from a daemon thread while the server runs.

    The watch starts before the first update, as ``newsearch index --watch`` does, so a file
    written during that update is the next change; searches pick up each commit by themselves.
    """
    import threading
    from search.index.update import update_index, watch_corpus
    from search.index.watching import start_watching
    changes = start_watching(folder, interval=WATCH_INTERVAL, on_fallback=_say_fallback, ignored=index_dir)

    def keep_up() -> None:
        try:
            _report(update_index(index_dir, folder), as_json=False, quiet=False, only_changes=True)
            watch_corpus(index_dir, folder, changes,
                         on_update=lambda s: _report(s, as_json=False, quiet=False, only_changes=True))
        except (SearchError, OSError) as error:
            click.echo(display.error_line(f"--watch stopped: {error}"), err=True)
        finally:
            changes.close()

    threading.Thread(target=keep_up, name="newsearch-watch", daemon=True).start()
    _say_watching(folder, WATCH_INTERVAL, False)


@cli.command("help")
@click.argument("topic", required=False)
def help_command(topic: str | None) -> None:
    """Show a help topic: query, dates, output, engine, completion (none: the list)."""
    from search.interfaces.topics import TOPICS, topic_list
    if topic is None:
        click.echo(topic_list())
        return
    matches = [name for name in TOPICS if name.startswith(topic.lower())]
    if len(matches) != 1:
        raise CliError(f"no help topic {topic!r}; topics are {', '.join(TOPICS)}")
    click.echo(TOPICS[matches[0]][1], nl=False)


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL (see `newsearch help completion`)."""
    from click.shell_completion import get_completion_class
    complete = get_completion_class(shell)
    assert complete is not None  # click has all three
    click.echo(complete(cli, {}, "newsearch", "_NEWSEARCH_COMPLETE").source())


def main() -> None:
    """Entry point: run the CLI, exiting quietly on a closed pipe (``newsearch search x | head``).

    Once a command has finished and its output is flushed, the process ends with ``os._exit``:
    tearing the interpreter down object by object took another tenth of a second after an
    update of Reuters (every file is written and closed by then, workers joined, and newsearch
    leaves no exit handler to run).
    """
    try:
        cli.main(prog_name="newsearch", standalone_mode=True)
        code: object = EXIT_OK
    except SystemExit as finished:
        code = finished.code
    except BrokenPipeError:
        _quiet_stdout()
        code = EXIT_OK
    except OSError as error:  # the output could not be written (a full disk, say)
        code = _output_failed(error)
    if code is not None and not isinstance(code, int):
        sys.exit(code)  # a message to print: the interpreter's own way
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        _quiet_stdout()
    except OSError as error:
        code = _output_failed(error)
    os._exit(code or EXIT_OK)


def _output_failed(error: OSError) -> int:
    """Say in one line that writing the output failed; the exit status for it."""
    _quiet_stdout()  # what is still buffered for it cannot be written either
    where = f" ({error.filename})" if error.filename else ""
    sys.stderr.write(display.error_line(f"cannot write the output{where}: {error.strerror or error}") + "\n")
    return EXIT_ERROR


def _quiet_stdout() -> None:
    # Python flushes stdout again at exit; point it at devnull so that cannot fail too.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    main()
