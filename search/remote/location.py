"""Where a remote engine is: ``typesense://HOST:PORT[,HOST:PORT...][/COLLECTION][?protocol=https]``.

Every node of a cluster is listed so that the client can go on when one is down. The API key
never travels in the URL or on a command line (where ``ps`` and shell histories show it): it
is read from ``NEWSEARCH_API_KEY`` (or Typesense's own ``TYPESENSE_API_KEY``).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from search.errors import EngineError

ENGINE_ENV = "NEWSEARCH_ENGINE"
KEY_ENV = "NEWSEARCH_API_KEY"
_KEY_ENVS = (KEY_ENV, "TYPESENSE_API_KEY")
SCHEMES = ("typesense",)
DEFAULT_COLLECTION = "newsearch"
DEFAULT_PORT = 8108
# Typesense collection names: what its API accepts in a URL path without escaping.
_COLLECTION = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class EngineNode:
    """One node of a cluster."""

    host: str
    port: int
    protocol: str = "http"

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class EngineLocation:
    """A remote engine: its kind, its nodes, the collection (the index's name) and the key."""

    engine: str
    nodes: tuple[EngineNode, ...]
    collection: str
    api_key: str

    def __str__(self) -> str:
        """The URL without the key, as messages name the engine."""
        return f"{self.engine}://{','.join(map(str, self.nodes))}/{self.collection}"


def is_remote(location: object) -> bool:
    """Whether ``location`` names a remote engine (a URL with a scheme) rather than a folder."""
    return isinstance(location, str) and "://" in location


def parse_location(url: str, api_key: str | None = None) -> EngineLocation:
    """Read an engine URL; the key is ``api_key`` or the environment's. ``EngineError`` when the
    URL cannot be used (unknown engine, bad port, no key)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise EngineError(f"{url!r}: unknown engine {parts.scheme!r}; use typesense://HOST:PORT[,HOST:PORT]/COLLECTION")
    if parts.username or parts.password:
        # The URL is not repeated: it holds the secret.
        raise EngineError(f"{parts.scheme}://{parts.hostname}: put no key in the engine URL (others can read it); "
                          f"set {KEY_ENV} instead")
    protocol = parse_qs(parts.query).get("protocol", ["http"])[0]
    if protocol not in ("http", "https"):
        raise EngineError(f"{url!r}: protocol must be http or https, not {protocol!r}")
    nodes = tuple(_node(piece, url, protocol) for piece in parts.netloc.split(",") if piece)
    if not nodes:
        raise EngineError(f"{url!r}: name at least one node, e.g. typesense://127.0.0.1:8108")
    collection = parts.path.strip("/") or DEFAULT_COLLECTION
    if not _COLLECTION.fullmatch(collection):
        raise EngineError(f"{url!r}: the collection name {collection!r} may only have letters, digits, '_' and '-'")
    key = api_key if api_key is not None else next((os.environ[name] for name in _KEY_ENVS if os.environ.get(name)), "")
    if not key:
        raise EngineError(f"{url}: no API key; set {KEY_ENV} to the cluster's key")
    return EngineLocation(parts.scheme, nodes, collection, key)


def _node(piece: str, url: str, protocol: str) -> EngineNode:
    """``host:port``, ``[v6 address]:port`` or a bare host (port 8108)."""
    bracketed = re.fullmatch(r"\[([^\]]+)\](?::(.*))?", piece)
    if bracketed:
        host, port_text = bracketed.group(1), bracketed.group(2) or ""
    else:
        host, _, port_text = piece.partition(":")
    try:
        port = int(port_text) if port_text else DEFAULT_PORT
    except ValueError:
        raise EngineError(f"{url!r}: {piece!r} has no valid port") from None
    if not 0 < port < 65536 or not host:
        raise EngineError(f"{url!r}: {piece!r} has no valid host and port")
    return EngineNode(host, port, protocol)
