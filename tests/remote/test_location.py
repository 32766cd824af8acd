"""Engine URLs: nodes, collection, protocol, and the key from the environment only."""
from __future__ import annotations

import pytest

from search.errors import EngineError
from search.remote.location import EngineNode, is_remote, parse_location


def test_every_node_and_the_collection_are_read() -> None:
    location = parse_location("typesense://10.0.0.1:8108,10.0.0.2:9108,[::1]:7108/archive", api_key="k")
    assert location.nodes == (EngineNode("10.0.0.1", 8108), EngineNode("10.0.0.2", 9108), EngineNode("::1", 7108))
    assert location.collection == "archive"
    assert str(location) == "typesense://10.0.0.1:8108,10.0.0.2:9108,::1:7108/archive"


def test_a_bare_host_takes_the_default_port_and_collection() -> None:
    location = parse_location("typesense://search.example.org", api_key="k")
    assert location.nodes == (EngineNode("search.example.org", 8108),)
    assert location.collection == "newsearch"


def test_https_is_chosen_in_the_query_string() -> None:
    assert parse_location("typesense://h:443/c?protocol=https", api_key="k").nodes[0].protocol == "https"


def test_the_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TYPESENSE_API_KEY", raising=False)
    monkeypatch.setenv("NEWSEARCH_API_KEY", "from-env")
    assert parse_location("typesense://h:1/c").api_key == "from-env"
    monkeypatch.delenv("NEWSEARCH_API_KEY")
    monkeypatch.setenv("TYPESENSE_API_KEY", "typesense-own")
    assert parse_location("typesense://h:1/c").api_key == "typesense-own"


def test_no_key_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSEARCH_API_KEY", raising=False)
    monkeypatch.delenv("TYPESENSE_API_KEY", raising=False)
    with pytest.raises(EngineError, match="NEWSEARCH_API_KEY"):
        parse_location("typesense://h:1/c")


@pytest.mark.parametrize("url, reason", [
    ("elastic://h:9200/c", "unknown engine"),
    ("typesense://user:secret@h:8108/c", "no key in the engine URL"),
    ("typesense://h:port/c", "no valid port"),
    ("typesense://h:70000/c", "no valid host and port"),
    ("typesense:///c", "at least one node"),
    ("typesense://h:1/a/b", "may only have letters"),
    ("typesense://h:1/c?protocol=ftp", "http or https"),
])
def test_an_unusable_url_is_refused_with_its_reason(url: str, reason: str) -> None:
    with pytest.raises(EngineError, match=reason):
        parse_location(url, api_key="k")


def test_a_key_in_the_url_is_not_repeated_in_the_message() -> None:
    with pytest.raises(EngineError) as raised:
        parse_location("typesense://user:secret@h:8108/c", api_key="k")
    assert "secret" not in str(raised.value)


def test_folders_are_not_remote() -> None:
    assert is_remote("typesense://h:1/c")
    assert not is_remote("index")
    assert not is_remote(None)
