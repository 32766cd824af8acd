"""Results: highlighting spans (plain, HTML, ANSI), snippets, and the JSON shapes of records."""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone

import pytest

from search import Hit, Results, Snippet
from search.present.results import ANSI_MATCH_OFF, ANSI_MATCH_ON, mark_spans

ON, OFF = ANSI_MATCH_ON, ANSI_MATCH_OFF


def make_hit(**changes: object) -> Hit:
    fields: dict[str, object] = dict(
        id="https://news.example.org/a/1", title="Levee <breach> & floods", title_spans=((0, 5),),
        date=datetime(2026, 11, 12, 6, 30, tzinfo=timezone.utc), source="https://feeds.example.org/rss",
        categories=("feeds.example.org",), tags=("flood", "weather"), link="https://news.example.org/a/1",
        path="flood.md", score=7.123456789, rank=1, description="A levee failed.",
        snippets=(Snippet("body", "The levee broke.", ((4, 9),)), Snippet("body", "…a second levee…", ((10, 15),))),
    )
    fields.update(changes)
    return Hit(**fields)  # type: ignore[arg-type]


# mark_spans ----------------------------------------------------------------------------------

def test_plain_modes_return_the_text_unchanged() -> None:
    text = "a <b>levee</b> & more"
    assert mark_spans(text, ((5, 10),), None) == text
    assert mark_spans(text, ((5, 10),), "text") == text


def test_html_escapes_everything_and_marks_only_the_spans() -> None:
    text = "<script>alert('x')</script> levee & \"dam\""
    start = text.index("levee")
    assert mark_spans(text, ((start, start + 5),), "html") == (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; <mark>levee</mark> &amp; &quot;dam&quot;")


def test_html_escapes_inside_a_marked_span() -> None:
    assert mark_spans("x <b> y", ((2, 5),), "html") == "x <mark>&lt;b&gt;</mark> y"


def test_html_with_no_spans_still_escapes() -> None:
    assert mark_spans("1 < 2 & 3 > 2", (), "html") == "1 &lt; 2 &amp; 3 &gt; 2"


def test_unsorted_spans_are_marked_in_text_order() -> None:
    text = "flood levee breach"
    assert mark_spans(text, ((12, 18), (0, 5)), "html") == "<mark>flood</mark> levee <mark>breach</mark>"


def test_overlapping_spans_are_marked_as_one() -> None:
    text = "levee breach"
    assert mark_spans(text, ((0, 12), (6, 12), (0, 5)), "html") == "<mark>levee breach</mark>"
    assert mark_spans(text, ((6, 12), (0, 8)), "html") == "<mark>levee breach</mark>"
    assert mark_spans(text, ((2, 4), (0, 5)), "ansi") == f"{ON}levee{OFF} breach"


def test_empty_spans_are_ignored() -> None:
    assert mark_spans("levee", ((2, 2),), "html") == "levee"


def test_adjacent_spans_are_both_marked() -> None:
    assert mark_spans("abcd", ((0, 2), (2, 4)), "html") == "<mark>ab</mark><mark>cd</mark>"


def test_ansi_wraps_spans_and_does_not_escape_html() -> None:
    assert mark_spans("a <b> levee", ((6, 11), (0, 1)), "ansi") == f"{ON}a{OFF} <b> {ON}levee{OFF}"


# Snippet and Hit -----------------------------------------------------------------------------

def test_snippet_render() -> None:
    piece = Snippet("body", "Tom & Jerry flee", ((12, 16),))
    assert piece.render() == "Tom & Jerry flee"
    assert piece.render(None) == "Tom & Jerry flee"
    assert piece.render("html") == "Tom &amp; Jerry <mark>flee</mark>"
    assert piece.render("ansi") == f"Tom & Jerry {ON}flee{OFF}"


def test_records_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_hit().score = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Snippet("body", "x").text = "y"  # type: ignore[misc]


def test_hit_snippet_joins_fragments_rendered_as_asked() -> None:
    assert make_hit().snippet == "The levee broke. … …a second levee…"
    assert make_hit(highlight=None).snippet == "The levee broke. … …a second levee…"
    assert make_hit(highlight="html").snippet == "The <mark>levee</mark> broke. … …a second <mark>levee</mark>…"
    assert make_hit(highlight="ansi").snippet == f"The {ON}levee{OFF} broke. … …a second {ON}levee{OFF}…"
    assert make_hit(snippets=()).snippet == ""


# JSON shapes ---------------------------------------------------------------------------------

def test_snippet_to_dict() -> None:
    assert Snippet("description", "a levee", ((2, 7),)).to_dict() == {
        "field": "description", "text": "a levee", "spans": [[2, 7]]}


def test_hit_to_dict() -> None:
    data = make_hit(highlight="html").to_dict()
    assert data == {
        "rank": 1, "id": "https://news.example.org/a/1", "title": "Levee <breach> & floods",
        "title_spans": [[0, 5]], "date": "2026-11-12T06:30:00Z", "source": "https://feeds.example.org/rss",
        "categories": ["feeds.example.org"], "tags": ["flood", "weather"], "link": "https://news.example.org/a/1",
        "path": "flood.md", "score": 7.1235, "description": "A levee failed.",
        "snippets": [{"field": "body", "text": "The levee broke.", "spans": [[4, 9]]},
                     {"field": "body", "text": "…a second levee…", "spans": [[10, 15]]}],
    }
    assert json.loads(json.dumps(data)) == data  # plain JSON types only; JSON text is never escaped
    assert make_hit(date=None).to_dict()["date"] is None


def test_results_to_dict_and_sequence_protocol() -> None:
    hits = (make_hit(), make_hit(id="b", rank=2, date=datetime(2026, 1, 8, tzinfo=timezone.utc)))
    results = Results(query="levee", total=13, page=2, page_count=7, limit=2, hits=hits, elapsed=0.0123456,
                      suggestion="levees", facets={"tag": {"flood": 2}})
    assert len(results) == 2 and list(results) == list(hits)
    data = results.to_dict()
    assert {k: v for k, v in data.items() if k != "hits"} == {
        "query": "levee", "total": 13, "page": 2, "pages": 7, "limit": 2, "elapsed": 0.0123,
        "suggestion": "levees", "facets": {"tag": {"flood": 2}}}
    assert [hit["date"] for hit in data["hits"]] == ["2026-11-12T06:30:00Z", "2026-01-08T00:00:00Z"]
    assert json.loads(json.dumps(data)) == data


def test_empty_results_are_valid_json() -> None:
    data = Results(query="nothing", total=0, page=1, page_count=1, limit=10, hits=(), elapsed=0.0).to_dict()
    assert json.loads(json.dumps(data)) == {
        "query": "nothing", "total": 0, "page": 1, "pages": 1, "limit": 10, "elapsed": 0.0,
        "suggestion": None, "facets": {}, "hits": []}
