"""Read a news article file, as the RSS aggregator writes it, into a clean :class:`Article`.

A file is YAML front matter between two ``---`` lines, then an HTML or plain text body. Parts,
in file order: :class:`Article` with :func:`load_article`, :func:`parse_article_bytes` (the
indexer, which has read the file for its digest) and :func:`parse_article`; decoding
(byte-order marks, binary files, cp1252 fallback); front matter (python-frontmatter's
``YAMLHandler``, a safe loader keeping dates as text and building plain key: value front
matter directly, checks for what it lets pass silently);
fields and :func:`parse_date`; ids from :func:`canonical_link`; body text from
:func:`html_to_text` (in :mod:`search.reading.htmltext`, with the repair it shares with titles:
terminal escapes, mojibake via ftfy, control characters). Unusable files raise
:class:`~search.errors.ArticleError`; problems that leave the article usable become entries in
``Article.warnings``.
"""
from __future__ import annotations

import codecs
import os
import re
import stat
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import PurePath
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import yaml
from frontmatter.default_handlers import YAMLHandler

from search.errors import ArticleError
from search.reading.htmltext import clean_inline, html_to_text, plain, strip_escapes

__all__ = ["Article", "load_article", "parse_article", "parse_article_bytes", "html_to_text",
           "canonical_link", "parse_date"]

MAX_FRONT_MATTER_CHARS = 64 * 1024
MAX_HTML_CHARS = 5_000_000
MAX_BODY_CHARS = 1_000_000
MAX_FILE_BYTES = 4 * MAX_HTML_CHARS + MAX_FRONT_MATTER_CHARS  # even at 4 bytes a character
TRUNCATED_WARNING = "body truncated to 1,000,000 characters for indexing"
TITLE_FROM_BODY_CHARS = 120


@dataclass(frozen=True)
class Article:
    """One news article, read and cleaned from a file."""

    id: str  # canonical link if any, else the path relative to the corpus root
    path: str  # the file's path as passed in
    title: str
    description: str
    body: str  # plain text; paragraphs separated by "\n\n"
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    source: str
    link: str  # as written in the file, stripped
    slug: str
    image: str
    date: datetime | None  # aware, in UTC
    draft: bool
    warnings: tuple[str, ...] = ()  # non-fatal problems, without the path


def load_article(path: str | os.PathLike[str],
                 root: str | os.PathLike[str] | None = None) -> Article:
    """Read the article file at ``path``; ids are made relative to the corpus folder ``root``.

    Raises :class:`ArticleError` when the file cannot become an article.
    """
    name = os.fspath(path)
    data, complete = _read_bytes(name)
    return _article_from_bytes(data, complete, name, root)


def parse_article_bytes(data: bytes, path: str | os.PathLike[str],
                        root: str | os.PathLike[str] | None = None) -> Article:
    """Like :func:`load_article`, for the whole content of the file at ``path``, already read.

    The indexer reads each file once, for its content digest and for this.
    """
    complete = len(data) <= MAX_FILE_BYTES
    return _article_from_bytes(data[:MAX_FILE_BYTES], complete, os.fspath(path), root)


def parse_article(text: str, path: str | os.PathLike[str],
                  root: str | os.PathLike[str] | None = None) -> Article:
    """Like :func:`load_article`, for text already read and decoded from ``path``."""
    return _build_article(text, os.fspath(path), root, [])


# --- decoding ----------------------------------------------------------------------------

def _read_bytes(path: str) -> tuple[bytes, bool]:
    """Return the file's bytes (at most MAX_FILE_BYTES) and whether that is all of them."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise ArticleError(path, "cannot read: Is a directory")
        if not stat.S_ISREG(mode):  # reading a FIFO or a device could block or never end
            raise ArticleError(path, "not a regular file")
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ArticleError(path, f"cannot read: {exc.strerror or exc}") from None
    except ValueError:  # a NUL character in the path
        raise ArticleError(path, "cannot read: invalid path") from None
    return data[:MAX_FILE_BYTES], len(data) <= MAX_FILE_BYTES


def _article_from_bytes(data: bytes, complete: bool, path: str,
                        root: str | os.PathLike[str] | None) -> Article:
    """Decode a file's bytes (``complete``: all of the file) and build its Article."""
    text, warnings = _decode(path, data, complete)
    return _build_article(text, path, root, warnings + ([] if complete else [TRUNCATED_WARNING]))


def _decode(path: str, data: bytes, complete: bool) -> tuple[str, list[str]]:
    """Decode bytes, honouring byte-order marks; fall back to cp1252, then latin-1."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _decode_as("utf-16", data, complete), []
        except UnicodeDecodeError:
            raise ArticleError(path, "not valid UTF-16") from None
    if data.startswith(codecs.BOM_UTF8):  # left in, the BOM hides the front matter
        data = data[len(codecs.BOM_UTF8):]
    try:
        return _decode_as("utf-8", data, complete), []
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), ["not UTF-8; decoded as cp1252"]
    except UnicodeDecodeError:  # cp1252 leaves five byte values undefined
        return data.decode("latin-1"), ["not UTF-8; decoded as latin-1"]


def _decode_as(encoding: str, data: bytes, complete: bool) -> str:
    """Decode ``data``; after a capped read, a character cut in two is dropped, not an error."""
    return str(codecs.getincrementaldecoder(encoding)().decode(data, final=complete))


# --- front matter ------------------------------------------------------------------------

class _TextDateLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML loader leaving timestamps as text, for :func:`parse_date` to read.

    PyYAML raises ValueError on impossible dates (2026-02-30), losing the whole front matter.
    """

    def construct_document(self, node: Any) -> Any:
        """Front matter of plain key: value lines built directly; anything else by PyYAML.

        PyYAML builds every document through generators and checks meant for nested, anchored
        and merged structures; an aggregator's front matter is text keys with scalar or
        list-of-scalar values, and each value here comes from the constructor PyYAML would use.
        """
        flat = _flat_mapping(self, node)
        return super().construct_document(node) if flat is None else flat


_TextDateLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def _int_or_text(loader: Any, node: Any) -> Any:
    """An integer, or its digits as text when Python refuses to convert that many (over 4,300:
    "Exceeds the limit"), so one huge number in any field no longer loses the article."""
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError:
        return str(node.value)


_TextDateLoader.add_constructor("tag:yaml.org,2002:int", _int_or_text)
_STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{kind}" for kind in ("str", "seq", "map"))
_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{kind}" for kind in ("null", "bool", "int", "float", "timestamp"))


def _flat_mapping(loader: Any, node: Any) -> dict[str, Any] | None:
    """A mapping of text keys to scalars or lists of scalars, as PyYAML builds it; else None."""
    if type(node) is not yaml.MappingNode or node.tag != _MAP:
        return None
    mapping: dict[str, Any] = {}
    for key, value in node.value:
        if type(key) is not yaml.ScalarNode or key.tag != _STR:
            return None  # merge keys ("<<") and other tags take PyYAML's path
        if type(value) is yaml.SequenceNode and value.tag == _SEQ:
            items = [_flat_scalar(loader, item) for item in value.value]
            if _NOT_FLAT in items:
                return None
            mapping[key.value] = items
        else:
            scalar = _flat_scalar(loader, value)
            if scalar is _NOT_FLAT:
                return None
            mapping[key.value] = scalar
    return mapping


_NOT_FLAT = object()


def _flat_scalar(loader: Any, node: Any) -> Any:
    """The value of a plain scalar node, from PyYAML's own constructor for its tag."""
    if type(node) is not yaml.ScalarNode:
        return _NOT_FLAT
    if node.tag == _STR:
        return node.value
    if node.tag in _SCALAR_TAGS:
        return loader.yaml_constructors[node.tag](loader, node)
    return _NOT_FLAT


_HANDLER = YAMLHandler()
_BOUNDARY = _HANDLER.FM_BOUNDARY or re.compile(r"^-{3,}\s*$", re.MULTILINE)
# libyaml's composer recurses in C: tens of thousands of levels crash the interpreter.
# Fewer than this many nesting characters cannot get near that, so the check is skipped.
_NESTING_CHARS, _NESTING_CHARS_CHECKED, _MAX_YAML_DEPTH = "[{-?", 1000, 100
# libyaml rejects control characters. C1 ones are usually mojibake (â€\x9d for ”) that
# ftfy repairs later, so they travel through YAML as private-use characters.
_HIDE_C1 = {code: 0xF780 + code - 0x80 for code in range(0x80, 0xA0)}
_SHOW_C1 = {hidden: code for code, hidden in _HIDE_C1.items()}
_YAML_REJECTS = re.compile(r"[\x0b\x0c\x1c-\x1f\ufffe\uffff]")


def _build_article(text: str, path: str, root: str | os.PathLike[str] | None,
                   warnings: list[str]) -> Article:
    """Check ``text``, split it and turn front matter and body into an Article."""
    if "\x00" in text:
        raise ArticleError(path, "binary file")
    if not text or text.isspace():
        raise ArticleError(path, "empty file")
    meta, content = _split_front_matter(text, path)
    body = _body_text(content, warnings)
    description = clean_inline(_text_field(meta, "description", warnings))
    link = plain(_text_field(meta, "link", warnings)).strip()
    title = clean_inline(_text_field(meta, "title", warnings)) or _first_sentence(body)
    description = description or clean_inline(_text_field(meta, "summary", warnings))
    tags = _terms(meta, "tags", warnings)
    if not (title or description or body or tags):
        # Nothing a search could find it by, not even "*" (issue 23 item 11): say so instead.
        raise ArticleError(path, "no title, description, text or tags")
    return Article(
        id=canonical_link(link) or _path_id(path, root), path=path,
        title=title, description=description, body=body, tags=tags,
        categories=_terms(meta, "categories", warnings),
        source=plain(_text_field(meta, "source", warnings)), link=link,
        slug=plain(_text_field(meta, "slug", warnings)),
        image=plain(_text_field(meta, "image", warnings)),
        date=_date_field(meta, warnings), draft=_draft_field(meta, warnings),
        warnings=tuple(dict.fromkeys(warnings)))


def _split_front_matter(text: str, path: str) -> tuple[dict[Any, Any], str]:
    """Return the front matter mapping and the body, or raise ArticleError."""
    stripped = text.lstrip()
    opening = _BOUNDARY.match(stripped)  # the test YAMLHandler.detect() makes
    if not opening:
        raise ArticleError(path, "no front matter: the file must start with a '---' line")
    try:
        front, content = _HANDLER.split(stripped)
    except ValueError:  # the boundary matched only once
        raise ArticleError(path, "front matter is not closed by a '---' line") from None
    if len(front) > MAX_FRONT_MATTER_CHARS:
        raise ArticleError(path, "front matter too large (over 64 KB)")
    # YAML counts lines from the end of the opening match; messages should give file lines.
    first_line = text[:len(text) - len(stripped)].count("\n") + opening.group().count("\n") + 1
    meta = _load_yaml(front, path, first_line)
    if meta is not None and not isinstance(meta, dict):
        kind = "a list" if isinstance(meta, list) else "a single value"
        raise ArticleError(path, f"front matter is {kind}, expected key: value pairs")
    return meta or {}, content.strip()


def _load_yaml(front: str, path: str, first_line: int) -> Any:
    """Parse front matter YAML; ``first_line`` is the file line where ``front`` starts."""
    front = _YAML_REJECTS.sub(" ", strip_escapes(front)).translate(_HIDE_C1)
    try:
        if sum(front.count(char) for char in _NESTING_CHARS) > _NESTING_CHARS_CHECKED:
            _check_yaml_depth(front, path)
        return _HANDLER.load(front, Loader=_TextDateLoader)
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in (exc.problem or ""):  # PyYAML 6.0.4 and later stop deep nesting too
            raise ArticleError(path, "front matter is nested too deeply") from None
        mark, problem = exc.problem_mark, exc.problem or exc.context or "cannot be parsed"
        where = f"line {mark.line + first_line}, column {mark.column + 1}: " if mark else ""
        raise ArticleError(path, f"front matter is not valid YAML ({where}{problem})") from None
    except yaml.YAMLError as exc:
        raise ArticleError(path, f"front matter is not valid YAML ({exc})") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # e.g. huge integers
        raise ArticleError(path, f"front matter cannot be read ({str(exc)[:80]})") from None


def _check_yaml_depth(front: str, path: str) -> None:
    """Refuse YAML nested deeper than _MAX_YAML_DEPTH, using the non-recursive event parser."""
    depth = 0
    for event in yaml.parse(front, Loader=_TextDateLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > _MAX_YAML_DEPTH:
                raise ArticleError(path, "front matter is nested too deeply")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


# --- fields ------------------------------------------------------------------------------

def _text_field(meta: dict[Any, Any], key: str, warnings: list[str]) -> str:
    """Return a text field; numbers become text, anything else is ignored with a warning."""
    value = meta.get(key)
    if value is None or isinstance(value, str):
        return _from_yaml(value or "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    warnings.append(f"{key} is not text; ignored")
    return ""


def _from_yaml(text: str) -> str:
    """Restore the C1 characters hidden from libyaml."""
    return text if text.isascii() else text.translate(_SHOW_C1)


def _terms(meta: dict[Any, Any], key: str, warnings: list[str]) -> tuple[str, ...]:
    """Return tags or categories: stripped, lower-cased, de-duplicated, in file order."""
    value = meta.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list):
        items = value  # never walked deeper: an alias bomb makes nested values enormous
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        items = [value]
    else:
        warnings.append(f"{key} is not a list or comma-separated text; ignored")
        return ()
    terms: dict[str, None] = {}
    for item in items:
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            terms.setdefault(plain(_from_yaml(str(item))).lower(), None)
        elif item is not None:  # repeats are merged when the Article is built
            warnings.append(f"{key} has items that are not text; ignored them")
    terms.pop("", None)
    return tuple(terms)


def _draft_field(meta: dict[Any, Any], warnings: list[str]) -> bool:
    """Return the draft flag: a YAML bool, a number, or text such as "yes"."""
    value = meta.get("draft")
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "y", "on", "1"}
    if isinstance(value, (int, float)):
        return value != 0
    warnings.append("draft is not true or false; taken as false")
    return False


_DATE_FORMATS = "YYYY-MM-DD, ISO 8601 or RFC 2822"


def _date_field(meta: dict[Any, Any], warnings: list[str]) -> datetime | None:
    """Return the article date in UTC, or None with a warning when it cannot be read."""
    try:
        return parse_date(meta.get("date"))
    except ValueError as exc:
        warnings.append(str(exc))
        return None


def parse_date(value: object) -> datetime | None:
    """Turn a front matter date into an aware UTC datetime (None for a missing date).

    Accepts date and datetime objects and text in ISO 8601 or RFC 2822 form; a date alone
    means midnight UTC and a naive time is taken as UTC. Raises ValueError otherwise.
    """
    if value is None or isinstance(value, (date, str, int, float)) and not isinstance(value, bool):
        text = value.isoformat() if isinstance(value, date) else str(value or "").strip()
    else:
        raise ValueError(f"bad date (a {type(value).__name__}): expected {_DATE_FORMATS}")
    if not text:
        return None
    for parser in (datetime.fromisoformat, parsedate_to_datetime):
        try:
            moment = parser(text)
            if moment.tzinfo is None or moment.utcoffset() is None:
                return moment.replace(tzinfo=timezone.utc)
            return moment.astimezone(timezone.utc)
        except (ValueError, TypeError, IndexError, OverflowError):
            continue
    shown = plain(text) if len(text) <= 40 else plain(text[:40]) + "…"
    raise ValueError(f"bad date '{shown}': expected {_DATE_FORMATS}")


_SENTENCE_END = re.compile(r"[.?!] ")


def _first_sentence(body: str) -> str:
    """Make a title from the body's first sentence, shortened at a word boundary."""
    paragraph = body.split("\n\n", 1)[0]
    end = _SENTENCE_END.search(paragraph, 0, TITLE_FROM_BODY_CHARS + 2)
    sentence = (paragraph[:end.start() + 1] if end else paragraph).rstrip(".")
    if len(sentence) <= TITLE_FROM_BODY_CHARS:
        return sentence
    cut = sentence.rfind(" ", 0, TITLE_FROM_BODY_CHARS)
    return sentence[:cut if cut > 0 else TITLE_FROM_BODY_CHARS - 1].rstrip(" ,;:-") + "…"


# --- links and ids -----------------------------------------------------------------------

_TRACKING_PARAMETERS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "ocid", "cmpid", "_ga",
    "ref", "ref_src", "smid", "cmp"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_link(link: str) -> str:
    """Normalise an http(s) link so that one story has one id; '' when it is unusable.

    Lower-cases scheme and host and drops the fragment, a default port and tracking
    parameters (utm_*, fbclid, ...); other parameters and the path are kept as written.
    """
    try:
        parts = urlsplit(link.strip())
        port = parts.port
    except ValueError:  # unbalanced IPv6 brackets, or a port that is not a number
        return ""
    scheme, host = parts.scheme.lower(), parts.hostname  # hostname is lower-cased
    if scheme not in _DEFAULT_PORTS or not host:
        return ""
    host = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    query = "&".join(p for p in parts.query.split("&") if p and not _is_tracking(p))
    return urlunsplit((scheme, f"{userinfo}@{host}" if userinfo else host, parts.path, query, ""))


def _is_tracking(parameter: str) -> bool:
    """Tell whether a ``name=value`` query parameter only tracks the reader."""
    name = unquote_plus(parameter.partition("=")[0]).lower()
    return name.startswith("utm_") or name in _TRACKING_PARAMETERS


def _path_id(path: str, root: str | os.PathLike[str] | None) -> str:
    """Return ``path`` relative to ``root`` with '/' separators, or as given if outside it."""
    if root is None:
        return path
    try:
        absolute, folder = os.path.abspath(path), os.path.abspath(os.fspath(root))
        prefix = folder if folder.endswith(os.sep) else folder + os.sep
        if os.sep == "/" and absolute.startswith(prefix) and absolute.isascii():
            return absolute[len(prefix):]  # what the lines below give, at a fraction of the cost
        relative = os.path.relpath(absolute, folder)
    except ValueError:  # another drive, on Windows
        return path
    parts = PurePath(relative).parts
    if not parts or parts[0] == os.pardir or relative == os.curdir:
        return path
    # Undecodable bytes of a file name shown as escapes, as the indexer shows paths: the index
    # can only store real text.
    return os.fsencode(PurePath(relative).as_posix()).decode("utf-8", "backslashreplace")


# --- body text ---------------------------------------------------------------------------

def _body_text(content: str, warnings: list[str]) -> str:
    """Return the body text, capped for indexing (with a warning when anything is cut)."""
    body = html_to_text(content[:MAX_HTML_CHARS])
    if len(body) > MAX_BODY_CHARS or len(content) > MAX_HTML_CHARS:
        warnings.append(TRUNCATED_WARNING)
        body = body[:MAX_BODY_CHARS].rstrip()
    return body
