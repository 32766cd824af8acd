"""Remote engines: the same newsearch with its index held by a search server.

The embedded index (``search.api.Index``) is the default. ``open_index("typesense://...")``
returns a ``RemoteIndex`` with the same methods, results and errors, its articles kept by a
Typesense cluster. The stages stay newsearch's own: articles are read and analysed here, the
query is parsed here, and only the matching and ranking happen on the server.

Parts, one per concern, so that another engine can follow behind the same interface:
- ``location``: ``typesense://host:port,host:port/collection`` and the API key from the
  environment, as an ``EngineLocation``.
- ``documents``: an article as the engine's document (its fields and the collection schema).
- ``translate``: a parsed query and the search options as one engine request, or a one-line
  ``UnsupportedQueryError`` naming the form the engine cannot express.
- ``transport``: the HTTP conversation with the cluster (Typesense's own client), its failures
  as one-line ``EngineError``s.
- ``index``: ``RemoteIndex``, the ``Index`` methods on top of those.
- ``update``: a corpus folder brought up to date in the engine (only new, changed and removed
  articles are sent).
"""
from __future__ import annotations

from search.remote.location import ENGINE_ENV, KEY_ENV, EngineLocation, is_remote, parse_location

__all__ = ["ENGINE_ENV", "KEY_ENV", "EngineLocation", "is_remote", "parse_location"]
