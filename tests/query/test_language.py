"""The query language on its own: syntax checks, parsing, filters made required, fuzzing."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import query as wq

import search
from search.query.language import check_syntax, lower_field_names, parse_query, require_filters
from search.index.schema import build_schema


@pytest.mark.parametrize("bad, where", [('"open', "column 1 .* close the phrase"), ("(a OR b", "column 1 .* add a"),
                                        ("a) b", r"unbalanced '\)' at column 2")])
def test_check_syntax_names_the_mistake(bad: str, where: str) -> None:
    with pytest.raises(search.QueryError, match=where):
        check_syntax(bad)


def test_check_syntax_accepts_balanced_text() -> None:
    check_syntax('(a OR "b (c")')  # a parenthesis inside a phrase does not count


@pytest.mark.parametrize("bad, where", [("title:", "'title:' at column 1 .* e.g. title:word"),
                                        ("fire tag: court", "'tag:' at column 6"),
                                        ("(fire OR DATE:)", "'date:' at column 10 .* e.g. date:2026-01"),
                                        ("-source:", "'source:' at column 2"),
                                        ("date:>", "'date:>' at column 1 .* e.g. date:>2026-01"),
                                        ("fire title:>= x", "'title:>=' at column 6 .* e.g. title:>=word")])
def test_a_field_with_nothing_after_its_colon_is_named(bad: str, where: str) -> None:
    """Whoosh searched ``title:`` as the word "title" (and ``tag: court`` as two words)."""
    with pytest.raises(search.QueryError, match=where):
        check_syntax(bad)


@pytest.mark.parametrize("good", ['"title:"', "title:fire", "http://example.org", "nofield: x", "a:b", "10:30",
                                  'date:"last week"', "title:(fire OR flood)", "date:>=2026-01", "date:<2026",
                                  "a:> b"])
def test_a_colon_that_ends_no_field_name_is_left_to_the_parser(good: str) -> None:
    check_syntax(good)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_parser_never_raises_anything_but_query_error(text: str) -> None:
    schema = build_schema()
    try:
        parse_query(text, schema)
    except search.QueryError as error:
        assert "\n" not in str(error)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(['"', "(", ")", "AND", "OR", "NOT", "-", "title:", "date:", "date:>",
                                 "[", "]", " to ", "~", "~2", "^2", "*", "word", "2026-01", "'", ":"]),
                max_size=12).map("".join))
def test_parser_survives_operator_soup(text: str) -> None:
    try:
        parse_query(text, build_schema())
    except search.QueryError:
        pass


def test_filters_and_exclusions_become_required_words_stay_optional() -> None:
    parsed = parse_query("ice protest source:foxnews -hockey", build_schema())
    assert isinstance(parsed, wq.AndNot)
    required = parsed.a
    assert isinstance(required, wq.And) and any(isinstance(q, wq.Or) for q in required.subqueries)
    assert "hockey" in repr(parsed.b)
    words_only = wq.Or([wq.Term("body", "ice"), wq.Term("body", "protest")])
    assert require_filters(words_only) == words_only


def test_filters_on_one_field_are_alternatives(sample_index: search.Index) -> None:
    either = sample_index.search("fire (source:valleycourier OR source:globewire)", limit=50)
    one = sample_index.search("fire source:valleycourier", limit=50).total
    other = sample_index.search("fire source:globewire", limit=50).total
    assert one and other and either.total == one + other
    assert sample_index.search("fire source:valleycourier source:globewire").total == either.total


@pytest.mark.parametrize(("typed", "read"), [
    ("Title:fire", "title:fire"), ("DATE:2026 TAG:strike", "date:2026 tag:strike"),
    ("(Source:x OR -Tags:y)", "(source:x OR -tags:y)"),
    ('"Title: fire"', '"Title: fire"'),  # in a phrase: words
    ("Hello:world xTitle:y", "Hello:world xTitle:y"),  # not field names
    ("title:Fire", "title:Fire"),  # the value keeps its case
])
def test_field_names_are_read_in_any_case(typed: str, read: str) -> None:
    assert lower_field_names(typed) == read and len(read) == len(typed)

