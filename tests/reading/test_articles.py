"""Tests for search.reading.articles: reading article files into clean Article records."""
from __future__ import annotations

import os
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.reading import articles
from search.reading.articles import (
    Article,
    canonical_link,
    html_to_text,
    load_article,
    parse_article,
    parse_article_bytes,
    parse_date,
)
from search.errors import ArticleError

SHARED = Path(__file__).resolve().parents[3] / "shared"
SEED_ARTICLE = SHARED / "seeds" / "000_3ac00c13f6713cc9.txt"
SEED_BODY = SHARED / "seeds" / "001_7ff7452a8903a379.txt"
UTC = timezone.utc
BAD_DATE = "bad date '{}': expected YYYY-MM-DD, ISO 8601 or RFC 2822"
pytestmark = pytest.mark.filterwarnings("error")  # e.g. bs4's XMLParsedAsHTMLWarning


def article(front: str = "title: A title", body: str = "<p>Body text.</p>",
            path: str = "a.md", root: str | None = None) -> Article:
    """Parse an article made of the given front matter lines and body."""
    return parse_article(f"---\n{front}\n---\n{body}", path, root)


def write(tmp_path: Path, content: str | bytes, name: str = "article.md") -> Path:
    """Write a file (bytes as they are, text as UTF-8) and return its path."""
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def reason(path: Path) -> str:
    """Return the ArticleError reason load_article gives for ``path``."""
    with pytest.raises(ArticleError) as caught:
        load_article(path)
    assert caught.value.path == str(path)
    assert str(caught.value) == f"{path}: {caught.value.reason}"
    return caught.value.reason


# --- the seed article -----------------------------------------------------------------

@pytest.fixture
def seed() -> Article:
    if not SEED_ARTICLE.exists() or not SEED_BODY.exists():
        pytest.skip(f"seed files not found under {SHARED}")
    return load_article(SEED_ARTICLE)


def test_seed_body_matches_the_expected_text_byte_for_byte(seed: Article) -> None:
    assert seed.body.encode("utf-8") == SEED_BODY.read_bytes()


def test_seed_fields(seed: Article) -> None:
    link = ("https://www.foxnews.com/politics/noem-reports-mamdani-dhs-talks-have-not-been-"
            "productive-says-nyc-mayor-chose-stand-illegals")
    assert seed.title == ("Noem reports Mamdani, DHS talks have 'not been productive,' says "
                          "NYC mayor 'chose to stand with illegals'")
    assert seed.description.startswith("Talks between NYC Mayor Zohran Mamdani and Homeland")
    assert seed.tags == ("productive", "illegals", "reports", "mamdani", "talks")
    assert seed.categories == ("feeds.foxnews.com",)
    assert seed.date == datetime(2026, 1, 8, tzinfo=UTC)
    assert seed.link == link and seed.id == link
    assert seed.source == "https://feeds.foxnews.com/foxnews/latest"
    assert seed.image == "" and seed.draft is False and seed.warnings == ()
    assert seed.path == str(SEED_ARTICLE)
    assert "ICE-INVOLVED SHOOTING" not in seed.body  # the promotional paragraph


# --- dates ----------------------------------------------------------------------------

@pytest.mark.parametrize("written, expected", [
    ("2026-01-08", datetime(2026, 1, 8, tzinfo=UTC)),
    ("'2026-01-08'", datetime(2026, 1, 8, tzinfo=UTC)),
    ("2026-01-08T10:00:00Z", datetime(2026, 1, 8, 10, tzinfo=UTC)),
    ("2026-01-08T10:00:00+02:00", datetime(2026, 1, 8, 8, tzinfo=UTC)),
    ("2026-01-08T01:30:00-05:00", datetime(2026, 1, 8, 6, 30, tzinfo=UTC)),
    ("2026-01-08T10:00:00", datetime(2026, 1, 8, 10, tzinfo=UTC)),
    ("2026-01-08 10:00", datetime(2026, 1, 8, 10, tzinfo=UTC)),
    ("Thu, 08 Jan 2026 10:00:00 +0000", datetime(2026, 1, 8, 10, tzinfo=UTC)),
    ("Thu, 08 Jan 2026 10:00:00 GMT", datetime(2026, 1, 8, 10, tzinfo=UTC)),
    ("'Thu, 08 Jan 2026 12:00:00 +0200'", datetime(2026, 1, 8, 10, tzinfo=UTC)),
])
def test_front_matter_dates_become_utc(written: str, expected: datetime) -> None:
    result = article(f"title: T\ndate: {written}")
    assert result.date == expected
    assert result.date is not None and result.date.utcoffset() == timedelta(0)
    assert result.warnings == ()


@pytest.mark.parametrize("written, shown", [
    ("2026-13-45", "2026-13-45"), ("2026-02-30", "2026-02-30"), ("yesterday", "yesterday"),
    ("2026", "2026"), ("'2026-01-08 25:00'", "2026-01-08 25:00"),
])
def test_bad_dates_give_none_and_a_warning(written: str, shown: str) -> None:
    result = article(f"title: Still here\ndate: {written}")
    assert result.date is None
    assert result.warnings == (BAD_DATE.format(shown),)
    assert result.title == "Still here"


def test_date_that_is_a_list_is_ignored_with_a_warning() -> None:
    result = article("title: T\ndate: [2026, 1, 8]")
    assert result.date is None
    assert result.warnings == ("bad date (a list): expected YYYY-MM-DD, ISO 8601 or RFC 2822",)


def test_missing_or_empty_date_is_none_without_warning() -> None:
    assert article("title: T").date is None
    assert article("title: T\ndate:").date is None
    assert article("title: T\ndate: ''").warnings == ()


def test_parse_date_accepts_date_and_datetime_objects() -> None:
    est = timezone(timedelta(hours=-5))
    assert parse_date(date(2026, 1, 8)) == datetime(2026, 1, 8, tzinfo=UTC)
    assert parse_date(datetime(2026, 1, 8, 7, tzinfo=est)) == datetime(2026, 1, 8, 12, tzinfo=UTC)
    assert parse_date(datetime(2026, 1, 8, 7)) == datetime(2026, 1, 8, 7, tzinfo=UTC)
    assert parse_date(None) is None


@pytest.mark.parametrize("value", ["2026-13-45", "not a date", 2026, True, {"a": 1}])
def test_parse_date_raises_value_error_naming_the_formats(value: object) -> None:
    with pytest.raises(ValueError, match="expected YYYY-MM-DD, ISO 8601 or RFC 2822"):
        parse_date(value)


# --- tags and categories -----------------------------------------------------------------

@pytest.mark.parametrize("written, expected", [
    ("[politics, world]", ("politics", "world")),
    ("\n- politics\n- world", ("politics", "world")),
    ("'Politics, World ,  economy'", ("politics", "world", "economy")),
    ("[ICE, ice, ' Ice ', Mamdani]", ("ice", "mamdani")),
    ("[2026, 1.5, news]", ("2026", "1.5", "news")),
    ("',, a ,,'", ("a",)),
    ("['', null, b]", ("b",)),
    ("[]", ()),
])
def test_tags_are_cleaned(written: str, expected: tuple[str, ...]) -> None:
    result = article(f"title: T\ntags: {written}\ncategories: {written}")
    assert result.tags == expected
    assert result.categories == expected
    assert result.warnings == ()


def test_nested_tag_items_are_ignored_with_a_warning() -> None:
    result = article("title: T\ntags: [a, [b, c], {d: e}, f]")
    assert result.tags == ("a", "f")
    assert result.warnings == ("tags has items that are not text; ignored them",)


def test_tags_that_are_a_mapping_are_ignored_with_a_warning() -> None:
    result = article("title: T\ncategories: {a: b}")
    assert result.categories == ()
    assert result.warnings == ("categories is not a list or comma-separated text; ignored",)


def test_alias_bomb_in_tags_returns_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for name, previous in zip("bcdefghi", "abcdefgh"):
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
    path = write(tmp_path, "---\ntitle: Bomb\n" + "\n".join(lines) + "\ntags: *i\n---\nBody.")
    started = time.perf_counter()
    result = load_article(path)
    assert time.perf_counter() - started < 1.0
    assert result.tags == ()
    assert result.warnings == ("tags has items that are not text; ignored them",)


# --- other fields ----------------------------------------------------------------------

@pytest.mark.parametrize("written, expected", [
    ("true", True), ("false", False), ("yes", True), ("no", False), ("'True'", True),
    ("'yes'", True), ("'1'", True), ("1", True), ("0", False), ("'false'", False),
    ("'nope'", False), ("", False),
])
def test_draft_forms(written: str, expected: bool) -> None:
    assert article(f"title: T\ndraft: {written}").draft is expected


def test_draft_that_is_a_list_is_false_with_a_warning() -> None:
    result = article("title: T\ndraft: [true]")
    assert result.draft is False
    assert result.warnings == ("draft is not true or false; taken as false",)


def test_numbers_become_text_and_lists_are_ignored_with_a_warning() -> None:
    result = article("title: 2026\ndescription: 1.5\nslug: [a]\nsource: {a: b}")
    assert (result.title, result.description, result.slug, result.source) == ("2026", "1.5", "", "")
    assert set(result.warnings) == {"slug is not text; ignored", "source is not text; ignored"}


def test_missing_description_falls_back_to_summary() -> None:
    assert article("title: T\nsummary: The summary.").description == "The summary."
    assert article("title: T\ndescription: ''\nsummary: S").description == "S"
    assert article("title: T\ndescription: D\nsummary: S").description == "D"


def test_missing_title_is_the_first_sentence_of_the_body() -> None:
    result = article("description: D", "<p>Markets fell sharply. Then they rose.</p>")
    assert result.title == "Markets fell sharply"
    assert result.warnings == ()
    assert article("title: ''", "<p>Is it over? Maybe.</p>").title == "Is it over?"
    assert article("title:", "<p>No sentence end</p><p>Second.</p>").title == "No sentence end"


def test_long_first_sentence_is_cut_at_a_word_boundary() -> None:
    words = " ".join(["word"] * 60) + ". More."
    title = article("title: ''", f"<p>{words}</p>").title
    assert title.endswith("word…") and len(title) <= 121
    assert article("title: ''", "<p>" + "x" * 500 + "</p>").title == "x" * 119 + "…"


def test_title_whitespace_is_collapsed() -> None:
    assert article('title: "  Two\\n\\n lines\\t here "').title == "Two lines here"


# --- links and ids ---------------------------------------------------------------------

@pytest.mark.parametrize("link, expected", [
    ("HTTPS://WWW.Example.COM/Path/To?id=3#section", "https://www.example.com/Path/To?id=3"),
    ("https://example.com/a?utm_source=rss&id=7&utm_medium=feed&fbclid=x&b=2",
     "https://example.com/a?id=7&b=2"),
    ("https://example.com/a?gclid=1&ref=rss&ref_src=tw&smid=x&cmp=y&ocid=z&_ga=1",
     "https://example.com/a"),
    ("https://example.com/a?mc_cid=1&mc_eid=2&dclid=3&msclkid=4&cmpid=5&UTM_Campaign=6",
     "https://example.com/a"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("  https://example.com/a b  ", "https://example.com/a b"),
    ("https://example.com/A/%7Euser/", "https://example.com/A/%7Euser/"),
    ("https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"),
    ("ftp://example.com/file", ""), ("mailto:someone@example.com", ""),
    ("/relative/path", ""), ("https://", ""), ("", ""), ("https://[::1/x", ""),
    ("https://example.com:notaport/", ""),
])
def test_canonical_link(link: str, expected: str) -> None:
    assert canonical_link(link) == expected


def test_id_is_the_canonical_link_and_link_stays_as_written() -> None:
    result = article("title: T\nlink: ' HTTPS://Example.com/story?utm_source=x '")
    assert result.link == "HTTPS://Example.com/story?utm_source=x"
    assert result.id == "https://example.com/story"


def test_id_falls_back_to_the_path_relative_to_root(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = write(tmp_path, "---\ntitle: T\nlink: not a link\n---\nBody.", "sub/a.md")
    assert load_article(path, root=tmp_path).id == "sub/a.md"
    assert load_article(path).id == str(path)
    assert load_article(path, root=tmp_path / "elsewhere").id == str(path)
    assert parse_article("---\ntitle: T\n---\nB", "corpus/x/y.md", "corpus").id == "x/y.md"
    assert parse_article("---\ntitle: T\n---\nB", "corpus/x/y.md", "corpus/").id == "x/y.md"
    assert parse_article("---\ntitle: T\n---\nB", "corpus/x/ü.md", "corpus").id == "x/ü.md"
    assert parse_article("---\ntitle: T\n---\nB", "corpus/../y.md", "corpus").id == "corpus/../y.md"
    assert parse_article("---\ntitle: T\n---\nB", "corpus2/y.md", "corpus").id == "corpus2/y.md"
    assert parse_article("---\ntitle: T\n---\nB", "/x/y.md", "/").id == "x/y.md"


# --- body text -------------------------------------------------------------------------

def test_mojibake_in_fields_is_repaired_and_curly_quotes_kept() -> None:
    result = article("title: Itâ€™s “here”\ndescription: caf\u00c3\u00a9 â€” ok")
    assert result.title == "It’s “here”"
    assert result.description == "café — ok"


def test_control_characters_and_terminal_escapes_are_stripped(tmp_path: Path) -> None:
    raw = ("---\ntitle: \"Clear\x1b[2J screen\x1b]0;pwned\x07 now\x07\x7f\"\n---\n"
           "<p>Red\x1b[31m text\x1b[0m\x08 and \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"
           " done\x01</p><p>\x1b[1;31m\x1b[K</p>")
    result = load_article(write(tmp_path, raw))
    assert result.title == "Clear screen now"
    assert result.body == "Red text and link done"
    assert html_to_text("plain \x1b[2Jtext\x9b") == "plain text›"  # lone C1 is cp1252 to ftfy


def test_body_truncated_when_too_long(tmp_path: Path) -> None:
    word = "x" * (1 << 20)
    result = load_article(write(tmp_path, f"---\ntitle: Big\n---\n<p>{word}</p>"))
    assert result.body == "x" * 1_000_000
    assert result.warnings == ("body truncated to 1,000,000 characters for indexing",)
    assert result.title == "Big"
    untitled = article("title: ''", word)
    assert untitled.title == "x" * 119 + "…" and len(untitled.body) == 1_000_000


def test_huge_file_is_read_only_up_to_the_cap(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "---\ntitle: T\n---\n" + "é" * 50)
    monkeypatch.setattr(articles, "MAX_FILE_BYTES", 41)  # cuts an "é" in two
    result = load_article(path)
    assert result.body == "é" * 12
    assert result.warnings == ("body truncated to 1,000,000 characters for indexing",)


@pytest.mark.parametrize("content", [
    "---\ntitle: T\n---\n" + "é" * 50,  # the cap cuts an "é" in two
    b"\xef\xbb\xbf---\ntitle: Caf\xe9\n---\nBody.",  # a BOM, then cp1252
    "---\ntitle: UTF-16\n---\nB".encode("utf-16"),
    "---\ntitle: UTF-16, cut\n---\nBody.".encode("utf-16"),  # its front matter is cut off
    "---\ntitle: Short\n---\n<p>Whole</p>",
])
def test_bytes_already_read_make_the_article_load_article_makes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | bytes) -> None:
    path = write(tmp_path, content)
    monkeypatch.setattr(articles, "MAX_FILE_BYTES", 41)

    def outcome(read: object) -> object:
        try:
            return read(path, tmp_path)  # type: ignore[operator]
        except ArticleError as error:
            return error.reason
    assert outcome(lambda p, root: parse_article_bytes(p.read_bytes(), p, root)) == outcome(load_article)


def test_deeply_nested_html_does_not_raise() -> None:
    depth = 100_000
    result = article("title: Deep", "<div>" * depth + "deep text" + "</div>" * depth
                     + "<p>after</p>")
    assert result.body == "deep text\n\nafter"


# --- defective files -------------------------------------------------------------------

def test_cp1252_file_is_decoded_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "---\ntitle: Caf\u00e9 \u201cquoted\u201d\n---\n<p>na\u00efve \u2014 ok</p>"
                 .encode("cp1252"))
    result = load_article(path)
    assert result.title == "Café “quoted”"
    assert result.body == "naïve — ok"
    assert result.warnings == ("not UTF-8; decoded as cp1252",)


def test_latin1_fallback_when_cp1252_cannot_decode(tmp_path: Path) -> None:
    result = load_article(write(tmp_path, b"---\ntitle: A\x81B \xe9\n---\nBody"))
    assert result.warnings == ("not UTF-8; decoded as latin-1",)
    assert result.title == "AB é"


def test_utf8_bom_is_removed(tmp_path: Path) -> None:
    result = load_article(write(tmp_path, b"\xef\xbb\xbf---\ntitle: Bom\n---\nBody."))
    assert result.title == "Bom" and result.body == "Body." and result.warnings == ()


def test_utf8_bom_with_invalid_bytes_falls_back_to_cp1252(tmp_path: Path) -> None:
    result = load_article(write(tmp_path, b"\xef\xbb\xbf---\ntitle: Caf\xe9\n---\nBody."))
    assert (result.title, result.warnings) == ("Café", ("not UTF-8; decoded as cp1252",))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_bom(tmp_path: Path, encoding: str) -> None:
    data = "---\ntitle: Wide ü\n---\n<p>Body ü.</p>".encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    result = load_article(write(tmp_path, data))
    assert (result.title, result.body, result.warnings) == ("Wide ü", "Body ü.", ())


@pytest.mark.parametrize("content, expected", [
    (b"---\ntitle: T\n---\nbin\x00ary", "binary file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    (b"", "empty file"),
    (b" \n\t\r\n ", "empty file"),
    (b"\xef\xbb\xbf", "empty file"),
    (b"Just some text\nwithout front matter.",
     "no front matter: the file must start with a '---' line"),
    (b"title: T\n---\nbody", "no front matter: the file must start with a '---' line"),
    (b"---\ntitle: T\nbody without an end", "front matter is not closed by a '---' line"),
    (b"---\n- a\n- b\n---\nbody", "front matter is a list, expected key: value pairs"),
    (b"---\njust a string\n---\nbody", "front matter is a single value, expected key: value pairs"),
    (b"---\ntitle: T\nbad: x: y\n---\nbody", "front matter is not valid YAML "
     "(line 3, column 7: mapping values are not allowed in this context)"),
    (b"\n\n---\ntitle: \"open\ndate: x\n---\nbody",
     "front matter is not valid YAML (line 6, column 1: found unexpected end of stream)"),
    (b"---\ntitle: *nothing\n---\nbody",
     "front matter is not valid YAML (line 2, column 8: found undefined alias)"),
    (b"---\ntitle: !!python/object:os.system x\n---\nbody",
     "front matter is not valid YAML (line 2, column 8: could not determine a constructor "
     "for the tag 'tag:yaml.org,2002:python/object:os.system')"),
    (b"---\n" + b"k: " + b"[" * 30000 + b"]" * 30000 + b"\n---\nbody",
     "front matter is nested too deeply"),
    (b"---\n" + b"- " * 30000 + b"x\n---\nbody", "front matter is nested too deeply"),
    (b"---\nx: '" + b"a" * 70000 + b"'\n---\nbody", "front matter too large (over 64 KB)"),
    (b"\xff\xfe\x00\xd8", "not valid UTF-16"),
])
def test_defective_files_raise_article_error(tmp_path: Path, content: bytes,
                                             expected: str) -> None:
    assert reason(write(tmp_path, content)) == expected


def test_empty_front_matter_is_allowed() -> None:
    result = parse_article("---\n---\n<p>Only a body.</p>", "x.md")
    assert (result.title, result.body, result.tags, result.id) == (
        "Only a body", "Only a body.", (), "x.md")


def test_unreadable_file(tmp_path: Path) -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root can read any file")
    path = write(tmp_path, "---\ntitle: T\n---\nBody")
    path.chmod(0)
    try:
        assert reason(path) == "cannot read: Permission denied"
    finally:
        path.chmod(0o644)


def test_read_errors_are_reported_with_their_reason(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    path = write(tmp_path, "---\ntitle: T\n---\nBody")
    monkeypatch.setattr(articles, "open", refuse, raising=False)
    assert reason(path) == "cannot read: Permission denied"


def test_directory_and_missing_paths(tmp_path: Path) -> None:
    assert reason(tmp_path) == "cannot read: Is a directory"
    assert reason(tmp_path / "missing.md") == "cannot read: No such file or directory"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    assert reason(tmp_path / "pipe") == "not a regular file"


def test_impossible_date_does_not_lose_the_front_matter(tmp_path: Path) -> None:
    result = load_article(write(tmp_path, "---\ntitle: Kept\ndate: 2026-02-30\ntags: [a]\n---\nB"))
    assert (result.title, result.tags, result.date) == ("Kept", ("a",), None)


def test_c1_mojibake_in_front_matter_is_repaired_not_rejected(tmp_path: Path) -> None:
    # ” written through a cp1252 decoder that fell back to latin-1 for byte 0x9d
    result = load_article(write(tmp_path, "---\ntitle: “Quoteâ€\x9d\n---\nB"))
    assert result.title == "“Quote”"


class _PyYAMLBuilt(articles._TextDateLoader):  # type: ignore[misc]
    """The reader's YAML loader building every document PyYAML's own way."""

    construct_document = yaml.constructor.BaseConstructor.construct_document


@pytest.mark.parametrize("front", [
    "title: T\ndate: 2026-01-08T10:00:00Z\ndraft: false\ncount: 3\nratio: 0.5\nnone: ~\nimage: ''",
    "tags:\n- 'a'\n- 2\n- null\ncategories: [x, y]\ntitle: \"q\\u00e9\"\ntitle: again",
    "base: &b {title: Merged}\n<<: *b\nlink: x",  # a merge key
    "tags: &t [a, b]\ncategories: *t",  # an alias
    "title: {nested: map}\ntags: [[a], {b: c}]",
    "= : value key\ntitle: T",
    "title: !!str 2026-01-08\nslug: !!binary aGVsbG8=\ndate: 2026-02-30",
    "? [complex, key]\n: v",
    "- a list",
    "just text",
    "",
])
def test_front_matter_built_directly_is_what_pyyaml_builds(front: str) -> None:
    def load(loader: type) -> object:
        try:
            return yaml.load(front, Loader=loader)
        except (yaml.YAMLError, ValueError, TypeError) as error:
            return type(error)
    assert load(articles._TextDateLoader) == load(_PyYAMLBuilt)


# --- properties ------------------------------------------------------------------------

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(
    st.binary(max_size=2000),
    st.builds(lambda head, tail: b"---\n" + head + b"\n---\n" + tail,
              st.binary(max_size=500), st.binary(max_size=500)),
    st.text(max_size=1000).map(lambda text: ("---\n" + text).encode("utf-8", "surrogatepass")),
))
def test_any_bytes_give_an_article_or_an_article_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.md"
        path.write_bytes(data)
        try:
            result = load_article(path, root=folder)
        except ArticleError:
            return
        assert isinstance(result, Article)
        assert "\n\n\n" not in result.body and result.body == result.body.strip()
        assert "\x1b" not in result.title + result.body


yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30),
                         st.floats(allow_nan=False), st.dates().map(str))
yaml_values = st.recursive(yaml_scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=20)
field_names = st.sampled_from(["title", "description", "summary", "slug", "image", "link",
                               "source", "tags", "categories", "date", "draft", "other"])


@settings(max_examples=300, deadline=None)
@given(meta=st.dictionaries(field_names, yaml_values, max_size=8),
       body=st.text(st.characters(blacklist_characters="\x00"), max_size=300))
def test_any_front_matter_mapping_gives_an_article(meta: dict[str, object], body: str) -> None:
    text = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n" + body
    try:
        result = parse_article(text, "x.md")
    except ArticleError as error:  # the one refusal a mapping may get: nothing to find it by
        assert error.reason == "no title, description, text or tags"
        return
    assert isinstance(result.title, str) and isinstance(result.draft, bool)
    assert all(isinstance(tag, str) and tag == tag.strip().lower() and tag
               for tag in result.tags + result.categories)
    assert len(set(result.tags)) == len(result.tags)
    assert result.date is None or result.date.utcoffset() == timedelta(0)


@pytest.mark.parametrize("field", ["other", "title", "tags", "date"])
def test_a_huge_integer_in_the_front_matter_keeps_the_article(tmp_path: Path, field: str) -> None:
    """Issue 23 item 6: an integer of 5,000 digits ("Exceeds the limit (4300 digits)") lost the
    article; it is read as text."""
    huge = "1" + "0" * 5000
    lines = {"title": "title: Big number", "other": f"other: {huge}", "tags": "tags: [economy]",
             "date": "date: 2026-01-08"}
    lines[field] = f"{field}: {huge}" if field != "tags" else f"tags: [{huge}]"
    path = tmp_path / "big.md"
    path.write_text("---\n" + "\n".join(lines.values()) + "\n---\n<p>Body words.</p>\n", encoding="utf-8")
    article = load_article(path, root=tmp_path)
    assert article.body == "Body words."
