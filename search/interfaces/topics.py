"""``newsearch help TOPIC``: the reference a user needs at the prompt, without the README.

Each topic is a short page of plain text; ``TOPICS`` maps its name to a one-line summary and
the page. The README is the full guide; these pages say the same things more briefly, and
``tests/interfaces/test_topics.py`` checks that every form the README's query table lists is
on the ``query`` page.
"""
from __future__ import annotations

QUERY = """\
Query language (newsearch search QUERY, the prompt, Index.search)

  ice protest              either word; articles with both first; words are stemmed
  "new york"               the exact phrase
  "mayor immigration"~5    both words within 5 positions of each other
  ice AND protest          both words        ice OR snow      either word
  ice NOT hockey, ice -hockey    without hockey
  +ice protest             ice required, protest optional
  (flood OR storm) AND levee     grouping
  levee^3 breach           weigh a word (or a group) more
  immigr*, w?rd            prefix; ? and * inside a word are wildcards
  imigration~, imigraton~2 words within 1 (or 2) edits of the word as typed
  title:mamdani            one field: title: body: (text:) description: (desc:) tag: (tags:)
  source:foxnews           only that source; category:politics (categories:) likewise
  date:2026-01             dates and ranges: see `newsearch help dates`
  *, title:*               every article, or every one with something in that field

Plain words are ORed; filters (source:, category:, date:) and exclusions are always required;
two filters on one field are alternatives (source:a source:b). Field names may be typed in any
case. A query that cannot mean what was typed is refused with one line naming the place.
Stop words (the, of, who) are searched inside quotes ("bank of japan") and when they are all
the query has (the who); beside other words they are left out.

Caps (search/query/limits.py): 4,000 characters, 512 words, 100 letters a word, a letter before
each * or ?, 5 fuzzy words, and --timeout seconds (1 by default). A prefix, wildcard or fuzzy
word may match at most --max-expansions indexed words (1,000 by default, up to 100,000; the
prompt's :expansions N), and all the prefixes of a query together 4 times that.
"""

DATES = """\
Dates (date: in a query, --since and --until, the prompt's :since and :until); all UTC

  date:2026-01-08, date:2026-01, date:2026, date:march, date:"jan 2026"   that day, month, year
  date:[2026-01-01 to 2026-01-31]     a range, both ends included (whole days)
  date:[2026-01-01 to], date:>=2026-01-01, date:<2026-02, date:<=2026-01-31   open ranges
  date:today, date:yesterday, date:"this week", date:"last week", date:"last 3 months"
  date:"3 days ago" (that day), date:>"3 days ago", date:-2w (the past two weeks)
  --since 2026-01 --until 2026-02     from the start of January to the end of February

A timestamp with a zone (2026-01-08T10:00+02:00) is converted to UTC. An impossible date, or a
--since that is not before the end of --until, is refused with one line.
"""

OUTPUT = """\
Output, exit status and JSON

Exit status: 0 something found, 1 nothing found, 2 a usage error, a bad query, a missing or
damaged index, an unreachable engine, or output that cannot be written. Errors are one line on
stderr; "did you mean" and "no results" go to stderr too.

Colour only on a terminal, without NO_COLOR, with TERM not dumb; --color always|never overrides.
Text from articles has control characters and terminal escapes removed before it is printed.

--json prints one object: query, total, page, pages, limit, elapsed, suggestion, facets, and
hits, each with rank, id, title, title_spans, date, source, categories, tags, link, path,
score, description and snippets ({field, text, spans}); spans are [start, end) offsets.
Fields may be added: ignore those you do not know.
"""

ENGINE = """\
A remote engine: the index on a Typesense cluster

  pip install 'newsearch[typesense]'
  export NEWSEARCH_API_KEY=...       # the cluster's key: never on the command line
  newsearch index corpus --engine typesense://HOST:PORT[,HOST:PORT...]/NAME
  newsearch search 'levee breach' --engine typesense://...   (or set NEWSEARCH_ENGINE)

List every node of the cluster, so that a lost one is skipped. The same commands, prompt, API
and JSON work; the ranking is Typesense's own. Forms Typesense 0.24 cannot express are refused
with one line naming them: "phrase"~N, word^N, +word beside optional words, a AND (b OR c),
wildcards inside words, more than one prefix, fuzzy beside exact words, words in different
fields (in an AND, a word in a field of its own is a filter), --recent. Plain words ORed:
Typesense drops words from the end of the query while too few articles have all of them.
"""

COMPLETION = """\
Shell completion (commands, options and their choices)

  bash:  eval "$(newsearch completion bash)"        in ~/.bashrc
  zsh:   eval "$(newsearch completion zsh)"         in ~/.zshrc
  fish:  newsearch completion fish > ~/.config/fish/completions/newsearch.fish
"""

TOPICS: dict[str, tuple[str, str]] = {
    "query": ("the query language: words, phrases, operators, fields, prefixes, fuzzy words", QUERY),
    "dates": ("date: forms, ranges, relative dates, --since and --until", DATES),
    "output": ("exit status, colour, and the --json schema", OUTPUT),
    "engine": ("an index on a Typesense cluster: --engine and what it cannot express", ENGINE),
    "completion": ("shell completion for bash, zsh and fish", COMPLETION),
}


def topic_list() -> str:
    """The topics, one a line, with what each is about."""
    width = max(map(len, TOPICS))
    lines = [f"  {name:<{width}}  {summary}" for name, (summary, _page) in TOPICS.items()]
    return "Help topics (newsearch help TOPIC):\n" + "\n".join(lines) + "\n\nEach command's options: newsearch COMMAND --help"
