"""Schema: the fields exist with the roles the rest of newsearch relies on."""
from __future__ import annotations

from whoosh.fields import DATETIME

from search.index.schema import FIELD_ALIASES, FIELD_WEIGHTS, SEARCH_FIELDS, build_schema


def test_prose_fields_are_searchable_and_weighted() -> None:
    schema = build_schema()
    for field in SEARCH_FIELDS:
        assert schema[field].scorable
        assert FIELD_WEIGHTS[field] > 0
    # The weights themselves are chosen by measurement (benchmarks/relevance.py), not fixed here.
    assert set(FIELD_WEIGHTS) == set(SEARCH_FIELDS)


def test_display_and_filter_fields_are_kept() -> None:
    schema = build_schema()
    for stored in ("id", "path", "link", "title", "description", "body", "tag_list", "source_name", "date"):
        assert schema[stored].stored, stored
    for column in ("id", "path", "date", "month", "source_name", "mtime_ns", "size", "digest"):
        assert schema[column].column_type is not None, column
    assert isinstance(schema["date"], DATETIME)
    assert schema["id"].unique


def test_every_alias_names_a_real_field() -> None:
    schema = build_schema()
    assert set(FIELD_ALIASES.values()) <= set(schema.names())
    assert FIELD_ALIASES["tag"] == FIELD_ALIASES["tags"] == "tags"
