"""An article as a remote engine's document, and back.

newsearch analyses the text itself (``analysis.text``: lower case, accents folded, Snowball
stems, stop words kept as they are) and sends the engine each prose field's index terms beside
the text shown to readers. The engine matches those terms, so a query means the same on every
engine: ``policies`` finds "policy", ``cafe`` finds "café", and "bank of japan" is a phrase of
three words on both.
Everything else (the text, dates, labels) is stored as read.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from search.analysis.text import label_analyzer, text_analyzer

if TYPE_CHECKING:
    from search.reading.articles import Article

# The engine's field holding each prose field's index terms.
TERMS_FIELDS: dict[str, str] = {"title": "title_terms", "description": "description_terms",
                                "body": "body_terms", "tags": "tag_terms"}
# The engine's fields holding each label field's pieces (lower case, no stemming).
LABEL_FIELDS: dict[str, str] = {"source": "source_labels", "categories": "category_labels"}
# The fields of newsearch's own query language the engine filters on exactly.
EXACT_FIELDS: dict[str, str] = {"id": "article_id", "path": "path", "link": "link"}
# Facets: the name results use and the engine's field.
FACET_FIELDS: dict[str, str] = {"source": "source", "tag": "tags", "month": "month"}
# Terms fields are for matching only: never sent back with hits.
NOT_RETURNED = ",".join(TERMS_FIELDS.values())


def collection_schema(name: str) -> dict[str, Any]:
    """The Typesense collection for articles. Fields not listed (the text shown, the file's
    size, time and digest) are stored and returned but not indexed."""
    fields: list[dict[str, Any]] = [{"name": field, "type": "string"} for field in TERMS_FIELDS.values()]
    fields += [{"name": field, "type": "string[]"} for field in LABEL_FIELDS.values()]
    fields += [{"name": field, "type": "string"} for field in EXACT_FIELDS.values()]
    fields += [
        {"name": "source", "type": "string", "facet": True},
        {"name": "tags", "type": "string[]", "facet": True},
        {"name": "month", "type": "string", "facet": True, "optional": True},
        {"name": "date", "type": "int64", "optional": True},
    ]
    return {"name": name, "fields": fields}


def document_id(article_id: str) -> str:
    """The engine's id of an article: a digest of newsearch's id, which is a URL or a path that
    engines restrict (length, characters) and that the id is unlike to survive unescaped."""
    return hashlib.blake2b(article_id.encode("utf-8"), digest_size=16).hexdigest()


def terms(text: str) -> str:
    """The index terms of prose ``text``, as the engine's tokenizer splits them (by spaces)."""
    return " ".join(token.text for token in text_analyzer()(text))


def labels(text: str) -> list[str]:
    """The pieces of a source or category label, as ``source:`` and ``category:`` match them."""
    return [token.text for token in label_analyzer()(text)]


def article_document(article: Article, key: str, size: int, mtime_ns: int, digest: str) -> dict[str, Any]:
    """The engine's document for an article read from the file ``key`` (``mtime_ns`` -1 for an
    article a program added, which has no file)."""
    document: dict[str, Any] = {
        "id": document_id(article.id), "article_id": article.id, "path": key, "link": article.link,
        "title": article.title, "description": article.description, "body": article.body,
        "tags": list(article.tags), "categories": list(article.categories), "source": article.source,
        "slug": article.slug, "image": article.image, "size": size, "mtime_ns": mtime_ns, "digest": digest,
        "title_terms": terms(article.title), "description_terms": terms(article.description),
        "body_terms": terms(article.body), "tag_terms": terms(", ".join(article.tags)),
        "source_labels": labels(article.source),
        "category_labels": [piece for category in article.categories for piece in labels(category)],
    }
    if article.date is not None:
        utc = article.date.astimezone(timezone.utc)
        document["date"] = int(utc.timestamp())
        document["month"] = utc.strftime("%Y-%m")
    return document


def document_date(document: dict[str, Any]) -> datetime | None:
    """A document's date, aware UTC, or None."""
    value = document.get("date")
    return datetime.fromtimestamp(value, timezone.utc) if isinstance(value, int) else None


def stored_article(document: dict[str, Any]) -> Article:
    """The ``Article`` a document was made from."""
    from search.reading.articles import Article

    return Article(
        id=document["article_id"], path=document.get("path", ""), title=document.get("title", ""),
        description=document.get("description", ""), body=document.get("body", ""),
        tags=tuple(document.get("tags", ())), categories=tuple(document.get("categories", ())),
        source=document.get("source", ""), link=document.get("link", ""), slug=document.get("slug", ""),
        image=document.get("image", ""), date=document_date(document), draft=False,
    )


def whoosh_stored(document: dict[str, Any]) -> dict[str, Any]:
    """A document's fields under the names the embedded index stores them with, which the
    snippet maker reads (``present.snippets``)."""
    return {"title": document.get("title", ""), "description": document.get("description", ""),
            "body": document.get("body", "")}
