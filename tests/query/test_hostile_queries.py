"""Query strings that crashed "did you mean" (issue 23 item 2): a suggestion that cannot be made
is no suggestion, the search still answers, and nothing but QueryError reaches a caller."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import search
from search.index.schema import SEARCH_FIELDS
from search.query.language import parse_query
from search.query.spelling import suggest

from tests.conftest import ROOT
from tests.test_fuzz import TOKENS, WORDS as TINY_WORDS

# ZeroDivisionError in Whoosh's boosted matcher, IndexError in its codec: both came from the
# block-quality skipping of Whoosh's top-N collector, which suggest() used to count matches.
CRASHERS = ["ofp^0", 'explanatori~ engulf AND corros venezuala NOT a* -buit ahmanson "nobuyuki blister"~ -',
            # the same with a prefix under the expansion cap, so the search itself runs
            'explanatori~ engulf AND corros venezuala NOT ab* -buit ahmanson "nobuyuki blister"~ -']


@pytest.mark.slow
@pytest.mark.parametrize("text", CRASHERS)
def test_suggest_counts_a_correction_without_crashing(reuters_index: search.Index, text: str) -> None:
    searcher = reuters_index._searcher()
    try:
        parsed = parse_query(text, searcher.schema)
    except search.QueryError:
        pytest.fail(f"{text!r} should parse")
    from search.engine.evaluator import Evaluator
    evaluator = Evaluator(searcher)
    suggestion = suggest(searcher, text, parsed, 0, None, SEARCH_FIELDS, evaluator.count, evaluator.doc_frequency)
    assert suggestion is None or isinstance(suggestion, str)


@pytest.mark.slow
@pytest.mark.parametrize("text", CRASHERS)
def test_the_cli_prints_hits_or_one_line(reuters_index: search.Index, text: str) -> None:
    result = subprocess.run([sys.executable, "-m", "search", "search", text, "--index", str(reuters_index.path)],
                            capture_output=True, cwd=ROOT, timeout=60)
    assert b"Traceback" not in result.stderr, result.stderr[-500:]
    if result.returncode == 2:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    else:
        assert result.returncode == 0 and result.stdout.strip(), result.stderr


@pytest.mark.slow
def test_the_repl_goes_on_after_them(reuters_index: search.Index) -> None:
    lines = "\n".join([*CRASHERS, "oil"]) + "\n"
    result = subprocess.run([sys.executable, "-m", "search", "repl", "--index", str(reuters_index.path)],
                            input=lines.encode(), capture_output=True, cwd=ROOT, timeout=120,
                            env={**os.environ, "NO_COLOR": "1"})
    assert b"Traceback" not in result.stderr, result.stderr[-500:]
    assert result.returncode == 0
    assert b"oil" in result.stdout.lower().split(b"ofp")[-1]  # the last query was answered too


# --- thousands of generated queries over a real index ------------------------------------------

REUTERS_WORDS = ["oil", "said", "ofp", "crude", "opec", "venezuala", "explanatori", "engulf", "corros", "buit",
                 "ahmanson", "nobuyuki", "blister", "reagan", "yen", "dlrs", "pct", "shares", "the", "of"]
query_parts = st.one_of(st.sampled_from(REUTERS_WORDS + TINY_WORDS), st.sampled_from(TOKENS),
                        st.sampled_from(["^0", "^2", "~", "~2", "*", "NOT", "AND", "OR", "-", '"']))
generated = st.one_of(st.lists(query_parts, min_size=1, max_size=12).map(" ".join),
                      st.lists(query_parts, min_size=1, max_size=12).map("".join))
# 3,000 by default (the suite's budget); NEWSEARCH_QUERY_FUZZ=100000 for a long run.
FUZZ_QUERIES = int(os.environ.get("NEWSEARCH_QUERY_FUZZ", "3000"))


@pytest.mark.slow
@settings(max_examples=FUZZ_QUERIES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(text=generated)
def test_thousands_of_generated_queries_give_results_or_one_query_error(sample_index: search.Index, text: str) -> None:
    try:
        results = sample_index.search(text)
    except search.QueryError as error:
        assert "\n" not in str(error)
        return
    assert results.suggestion is None or isinstance(results.suggestion, str)
