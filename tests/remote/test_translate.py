"""newsearch's parsed queries as Typesense requests, without a server: what each form becomes,
and the forms refused with a line that names them."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from search.errors import QueryError, UnsupportedQueryError
from search.index.schema import SEARCH_FIELDS, build_schema
from search.pipeline import SearchOptions, date_filter
from search.query.language import parse_both
from search.remote.translate import ANY_WORDS, EngineRequest, translate

SCHEMA = build_schema()


def request(text: str, *, since: datetime | None = None, until: datetime | None = None, **options: Any) -> EngineRequest:
    parsed, _typed = parse_both(text, SCHEMA, None, SEARCH_FIELDS)
    restriction = date_filter(SearchOptions(since=since, until=until))
    return translate(parsed, restriction, text, **options)


def params(text: str, **options: Any) -> dict[str, Any]:
    return request(text, **options).params


def test_words_are_stemmed_as_the_index_holds_them_and_any_may_match() -> None:
    sent = params("Immigration policies")
    assert sent["q"] == "immigr polici"
    assert sent["query_by"] == "title_terms,description_terms,body_terms,tag_terms"
    assert sent["drop_tokens_threshold"] == ANY_WORDS  # newsearch ORs plain words


def test_and_requires_every_word() -> None:
    sent = params("fire AND evacuation")
    assert sent["q"] == "fire evacu"
    assert sent["drop_tokens_threshold"] == 0


def test_the_field_weights_follow_the_embedded_ranking() -> None:
    weights = dict(zip(params("fire")["query_by"].split(","), map(int, params("fire")["query_by_weights"].split(","))))
    assert weights["title_terms"] > weights["tag_terms"] > weights["body_terms"]


def test_a_phrase_is_quoted_and_an_exclusion_negated() -> None:
    assert params('"cinder ridge" -smoke')["q"] == '"cinder ridg" -smoke'


def test_a_field_narrows_query_by() -> None:
    sent = params("title:fire")
    assert sent["query_by"] == "title_terms"
    assert sent["q"] == "fire"


def test_a_prefix_goes_last_with_prefix_search_on() -> None:
    sent = params("immig* port")
    assert sent["q"] == "port immig"
    assert set(sent["prefix"].split(",")) == {"true"}


def test_typos_are_counted_from_the_stem() -> None:
    sent = params("vacine~1")
    assert sent["q"] == "vacin"
    assert set(sent["num_typos"].split(",")) == {"1"}
    assert sent["typo_tokens_threshold"] == ANY_WORDS


def test_source_tag_and_category_filters() -> None:
    assert params("fire source:valleycourier")["filter_by"] == "source_labels:=`valleycourier`"
    assert params("tag:wildfire")["query_by"] == "tag_terms"
    assert params("fire -source:globewire")["filter_by"] == "source_labels:!=`globewire`"
    assert params('fire AND (source:a OR source:b)')["filter_by"] == "source_labels:=[`a`,`b`]"


def test_a_word_required_in_a_field_of_its_own_is_a_filter_on_that_field() -> None:
    sent = params("fire AND tag:wildfire")
    assert (sent["q"], sent["filter_by"]) == ("fire", "tag_terms:wildfir")
    assert params("fire AND title:evacuation AND smoke")["filter_by"] == "title_terms:evacu"


def test_date_ranges_become_unix_seconds() -> None:
    assert params("fire date:2026-08")["filter_by"] == "date:>=1785542400 && date:<1788220800"
    since = params("fire", since=datetime(2026, 8, 17), until=datetime(2026, 8, 18, 23, 59, 59))["filter_by"]
    assert since.startswith("date:>=1786924800 && date:<")


def test_a_relative_date_is_a_range_too() -> None:
    assert "date:>=" in params('fire date:>="3 days ago"')["filter_by"]


def test_sorts_and_facets() -> None:
    assert params("fire", sort="newest")["sort_by"] == "date:desc,_text_match:desc"
    assert params("*", sort="oldest")["sort_by"] == "date:asc"
    assert params("fire", facets=True)["facet_by"] == "source,tags,month"
    assert params("*")["q"] == "*"


def test_paging_is_passed_on() -> None:
    sent = params("fire", page=3, limit=20)
    assert (sent["page"], sent["per_page"]) == (3, 20)


def test_the_terms_for_snippets_are_the_query_words_in_each_field() -> None:
    terms = request("title:fire").terms
    assert terms == frozenset({("title", "fire")})


@pytest.mark.parametrize("text, form", [
    ("fire^3", "a word's weight"),
    ('"cinder ridge"~3', "a phrase with slop"),
    ("+fire smoke", "required words beside optional ones"),
    ("fire AND (smoke OR ash)", "OR inside AND"),
    ("title:fire body:smoke", "words searched in different fields"),
    ("fire tag:wildfire", "words searched in different fields"),
    ("strike -title:strike", "words searched in different fields"),
    ('fire AND title:"cinder ridge"', "a phrase in fields of its own"),
    ("fire~1 smoke", "fuzzy words beside exact ones"),
    ("imm* por*", "more than one prefix word"),
    ("*ire", "a wildcard"),
    ("fire -date:2026-08", "an excluded date range"),
])
def test_a_form_typesense_cannot_express_is_refused_by_name(text: str, form: str) -> None:
    with pytest.raises(UnsupportedQueryError, match="Typesense 0.24 cannot express this") as raised:
        request(text)
    assert form in str(raised.value)
    assert text in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_refusal_is_a_query_error_for_callers() -> None:
    with pytest.raises(QueryError):
        request("fire^3")


def test_a_page_past_typesense_s_largest_is_refused() -> None:
    with pytest.raises(UnsupportedQueryError, match="at most 250"):
        request("fire", limit=500)
