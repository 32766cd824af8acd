"""The conversation with a Typesense cluster, through Typesense's own Python client.

Every node of the location is given to the client, which sends each request to a healthy one
and retries on another when a node does not answer; a follower hands writes to the leader.
Failures become one ``EngineError`` line that names the cluster and says what to do: a bad key,
nothing answering, no leader to take a write (an election under way), a request refused.
"""
from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from search.errors import EngineError
from search.remote.location import EngineLocation

_T = TypeVar("_T")

# Seconds a node may take to answer before the client tries the next one.
CONNECT_TIMEOUT = 5.0
# How long writes wait for a cluster to elect a leader again (a node lost, a restart).
LEADER_WAIT = 30.0
# Documents per import request.
IMPORT_BATCH = 500


class _Unanswered(EngineError):
    """No node gave an answer (down, unreachable, no leader to take a write): worth a retry."""


class _NotFound(EngineError):
    """A node does not have the collection: none made, or a node that just rejoined and is still
    loading (another node may have it: worth a retry on a read)."""


# How long a read tries the other nodes when one fails or lacks the collection.
READ_WAIT = 3.0


def _client_module() -> Any:
    try:
        import typesense
    except ImportError:
        raise EngineError("the Typesense backend needs its client: pip install 'newsearch[typesense]'") from None
    return typesense


class TypesenseTransport:
    """Requests to one cluster: collections, aliases, documents and searches."""

    def __init__(self, location: EngineLocation) -> None:
        typesense = _client_module()
        self.location = location
        self._module = typesense
        import httpx  # the client's HTTP library: its connection failures reach us unwrapped
        self._connection_errors: tuple[type[Exception], ...] = (OSError, httpx.HTTPError)
        self._errors = typesense.exceptions
        self.client = typesense.Client({
            "nodes": [{"host": node.host, "port": str(node.port), "protocol": node.protocol}
                      for node in location.nodes],
            "api_key": location.api_key,
            "connection_timeout_seconds": CONNECT_TIMEOUT,
            "num_retries": max(3, len(location.nodes) * 2),
            "retry_interval_seconds": 0.2,
            "healthcheck_interval_seconds": 2,
        })

    @contextlib.contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        """Client failures while ``doing`` something, as one ``EngineError`` line."""
        errors = self._errors
        try:
            yield
        except (errors.RequestUnauthorized, errors.RequestForbidden):
            raise EngineError(f"{self.location}: the cluster refused the API key while {doing}; "
                              "set NEWSEARCH_API_KEY to its key") from None
        except errors.ObjectNotFound as error:
            raise _NotFound(f"{self.location}: {doing}: not found ({_message(error)}); "
                              "index a corpus first: newsearch index CORPUS --engine URL") from None
        except (errors.RequestMalformed, errors.ObjectUnprocessable, errors.InvalidParameter) as error:
            raise EngineError(f"{self.location}: the cluster refused {doing}: {_message(error)}") from None
        except errors.TypesenseClientError as error:
            raise _Unanswered(f"{self.location}: no node answered {doing} ({_message(error)}); "
                              "check that the cluster is running and has a leader") from None
        except self._connection_errors as error:  # the client lets these through as they are
            raise _Unanswered(f"{self.location}: no node answered {doing} ({_message(error)}); "
                              "check that the cluster is running") from None

    # Reading ------------------------------------------------------------------------------

    def health(self) -> bool:
        """Whether some node says the cluster is healthy."""
        with self.errors("a health check"):
            return bool(self.client.operations.is_healthy())

    def resolve(self, name: str) -> str | None:
        """The collection the alias ``name`` points to, or None when no node has the alias (each
        is asked in turn: one that just rejoined may not have loaded it yet)."""
        with self.errors(f"looking up {name!r}"):
            for _node in self.location.nodes:
                try:
                    return str(self.client.aliases[name].retrieve()["collection_name"])
                except self._errors.ObjectNotFound:
                    continue
            return None

    def collection_info(self, collection: str) -> dict[str, Any]:
        """What the cluster says of a collection (its document count, its creation time)."""
        return self._read(f"reading collection {collection!r}",
                          lambda: dict(self.client.collections[collection].retrieve()))

    def search(self, collection: str, params: dict[str, Any]) -> dict[str, Any]:
        """One search request."""
        return self._read(f"a search of {collection!r}",
                          lambda: dict(self.client.collections[collection].documents.search(params)))

    def multi_search(self, collection: str, searches: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Several searches in one request; a failed one raises."""
        def perform() -> list[dict[str, Any]]:
            answer = self.client.multi_search.perform({"searches": searches}, {"collection": collection})
            results = [dict(result) for result in answer["results"]]
            for result in results:
                if "error" in result:
                    kind = _NotFound if int(result.get("code", 0)) == 404 else EngineError
                    raise kind(f"{self.location}: the cluster refused a search: {result['error']}")
            return results
        return self._read(f"a search of {collection!r}", perform)

    def _read(self, doing: str, request: Callable[[], _T]) -> _T:
        """Run a read; when a node fails or lacks the collection, the client's next node tries
        it again, for up to ``READ_WAIT`` seconds."""
        deadline = time.monotonic() + READ_WAIT
        while True:
            try:
                with self.errors(doing):
                    return request()
            except (_Unanswered, _NotFound):
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)

    def retrieve(self, collection: str, document_id: str) -> dict[str, Any] | None:
        """One document by the engine's id, or None."""
        with self.errors(f"reading a document of {collection!r}"):
            try:
                return dict(self.client.collections[collection].documents[document_id].retrieve())
            except self._errors.ObjectNotFound:
                return None

    def export(self, collection: str, fields: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Every document of a collection, with only ``fields``."""
        with self.errors(f"listing the documents of {collection!r}"):
            text = self.client.collections[collection].documents.export({"include_fields": ",".join(fields)})
        for line in text.splitlines():
            if line.strip():
                yield json.loads(line)

    # Writing ------------------------------------------------------------------------------

    def create_collection(self, schema: dict[str, Any]) -> None:
        """Make a collection (one a retried request made already is kept)."""
        def create() -> None:
            try:
                self.client.collections.create(schema)
            except self._errors.ObjectAlreadyExists:
                pass
        self._write(f"creating collection {schema['name']!r}", create)

    def drop_collection(self, collection: str) -> None:
        """Delete a collection, if it is there."""
        def drop() -> None:
            try:
                self.client.collections[collection].delete()
            except self._errors.ObjectNotFound:
                pass
        self._write(f"deleting collection {collection!r}", drop)

    def point_alias(self, name: str, collection: str) -> None:
        """Make the alias ``name`` point to ``collection`` (searches switch at once)."""
        self._write(f"pointing {name!r} at {collection!r}",
                    lambda: self.client.aliases.upsert(name, {"collection_name": collection}))
        self.wait_alias(name, collection)

    def upsert(self, collection: str, documents: list[dict[str, Any]]) -> None:
        """Add or replace documents, in batches; a document the cluster refuses raises."""
        for start in range(0, len(documents), IMPORT_BATCH):
            batch = documents[start:start + IMPORT_BATCH]
            answers = self._write(f"writing {len(batch)} articles to {collection!r}",
                                  lambda: self.client.collections[collection].documents.import_(batch, {"action": "upsert"}))
            refused = [answer for answer in answers if not answer.get("success")]
            if refused:
                raise EngineError(f"{self.location}: the cluster refused {len(refused)} article(s) of {collection!r}: "
                                  f"{refused[0].get('error', 'no reason given')}")

    def upsert_partial(self, collection: str, documents: list[dict[str, Any]]) -> None:
        """Change some fields of existing documents."""
        for start in range(0, len(documents), IMPORT_BATCH):
            batch = documents[start:start + IMPORT_BATCH]
            self._write(f"updating {len(batch)} articles of {collection!r}",
                        lambda: self.client.collections[collection].documents.import_(batch, {"action": "update"}))

    def has_collection(self, collection: str) -> bool:
        """Whether the collection exists."""
        with self.errors(f"looking up {collection!r}"):
            try:
                self.client.collections[collection].retrieve()
                return True
            except self._errors.ObjectNotFound:
                return False

    def delete(self, collection: str, document_ids: list[str]) -> int:
        """Delete documents by the engine's id; the number deleted."""
        deleted = 0
        for start in range(0, len(document_ids), 200):
            batch = document_ids[start:start + 200]
            where = "id:[" + ",".join(batch) + "]"
            answer = self._write(f"deleting articles of {collection!r}",
                                 lambda: self.client.collections[collection].documents.delete({"filter_by": where}))
            deleted += int(answer.get("num_deleted", 0))
        return deleted

    def wait_applied(self, collection: str, document_id: str, field: str, value: Any) -> None:
        """Until every node that answers holds ``value`` in ``field`` of a document written last.

        Followers apply the leader's log a moment after a write is acknowledged, and reads go
        to any node; the log is applied in order, so once a node has the last write it has
        every earlier one, and a search right after ``newsearch index`` sees the new articles.
        """
        self._until_every_node(lambda client: client.collections[collection].documents[document_id]
                               .retrieve().get(field) == value)

    def wait_alias(self, name: str, collection: str) -> None:
        """Until every node that answers has the alias ``name`` pointing to ``collection``."""
        self._until_every_node(lambda client: client.aliases[name].retrieve()["collection_name"] == collection)

    def _until_every_node(self, holds: Any, within: float = 5.0) -> None:
        deadline = time.monotonic() + within
        for node in self.location.nodes:
            single = self._module.Client({"nodes": [{"host": node.host, "port": str(node.port),
                                                      "protocol": node.protocol}],
                                          "api_key": self.location.api_key, "connection_timeout_seconds": 1,
                                          "num_retries": 0})
            while time.monotonic() < deadline:
                try:
                    if holds(single):
                        break
                except self._errors.ObjectNotFound:
                    pass
                except Exception:  # noqa: BLE001 - a node down answers nothing: the others are checked
                    break
                time.sleep(0.05)

    def _write(self, doing: str, request: Any) -> Any:
        """Run a write, again while no node takes it (a node lost, an election under way) for up
        to ``LEADER_WAIT`` seconds. Every write here is an upsert, a delete or a create whose
        second try finds the first's result, so running one twice does no harm."""
        deadline = time.monotonic() + LEADER_WAIT
        while True:
            try:
                with self.errors(doing):
                    return request()
            except _Unanswered:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)


def _message(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]
