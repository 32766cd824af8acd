"""The Typesense cluster the backend's tests run against: the one ``.ci/run`` starts with
``.ci/cluster.py`` (three nodes on 127.0.0.1), named by ``NEWSEARCH_TEST_ENGINE``,
``NEWSEARCH_TEST_API_KEY`` and ``NEWSEARCH_TEST_CLUSTER``. Without them the tests that need a
server skip, saying how to start one; every test gets a collection of its own, dropped after."""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

START_ONE = ("no Typesense cluster for the remote backend's tests: run `python .ci/cluster.py start DIR` "
             "and source DIR/env (`.ci/run` does both)")


@dataclass
class Cluster:
    """A running cluster: a URL for one test's own index, the key, and the nodes' records."""

    url: str
    api_key: str
    folder: Path

    def nodes(self) -> list[dict]:
        """Each node's command line, pid and API port, as ``.ci/cluster.py`` recorded them."""
        return list(json.loads((self.folder / "cluster.json").read_text())["nodes"])

    def save_nodes(self, nodes: list[dict]) -> None:
        record = json.loads((self.folder / "cluster.json").read_text())
        record["nodes"] = nodes
        (self.folder / "cluster.json").write_text(json.dumps(record, indent=1))


@contextmanager
def _fresh_index() -> Iterator[Cluster]:
    pytest.importorskip("typesense", reason="the Typesense client is not installed: pip install -e '.[typesense]'")
    base, key, folder = (os.environ.get(name) for name in
                         ("NEWSEARCH_TEST_ENGINE", "NEWSEARCH_TEST_API_KEY", "NEWSEARCH_TEST_CLUSTER"))
    if not (base and key and folder):
        pytest.skip(START_ONE)
    name = "t" + uuid.uuid4().hex[:12]
    url = base.rsplit("/", 1)[0] + "/" + name
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEWSEARCH_API_KEY", key)
        patch.delenv("NEWSEARCH_ENGINE", raising=False)
        yield Cluster(url, key, Path(folder))
        _drop(url, name)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """The test cluster with a fresh index name, and its key in ``NEWSEARCH_API_KEY``."""
    with _fresh_index() as fresh:
        yield fresh


@pytest.fixture(scope="module")
def module_cluster() -> Iterator[Cluster]:
    """As ``cluster``, one index for a module's tests that only read it."""
    with _fresh_index() as fresh:
        yield fresh


def _drop(url: str, name: str) -> None:
    """Delete a test's collections (its articles and its meta) and its alias."""
    from search.remote.location import parse_location
    from search.remote.transport import TypesenseTransport

    transport = TypesenseTransport(parse_location(url))
    try:
        collection = transport.resolve(name)
        if collection:
            transport.client.aliases[name].delete()
            transport.drop_collection(collection)
        transport.drop_collection(name + "__meta")
    except Exception:  # noqa: BLE001 - a test that broke the cluster must not hide its own failure
        pass
