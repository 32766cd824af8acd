"""HTML and plain text bodies to reader text: paragraphs, promotions, repair, hostile markup."""
from __future__ import annotations

import pytest

from search.reading import htmltext
from search.reading.htmltext import clean_inline, html_to_text, plain


@pytest.mark.parametrize("html, expected", [
    ('<p>Before.</p><p><a class="zReHs" href="https://x"><strong>PROMO TEXT</strong></a></p>'
     "<p>After.</p>", "Before.\n\nAfter."),
    ("<p>Before.</p><p> <strong><a href='x'>PROMO</a></strong> </p>", "Before."),
    ('<p>Read <a href="x">this story</a> now.</p>', "Read this story now."),
    ("<p><a href='x'>One</a> and <a href='y'>two</a></p>", "One and two"),
    ("<p><a href='x'>One</a><a href='y'>Two</a></p>", "OneTwo"),
    ("<div><a href='x'>Link in a div stays</a></div>", "Link in a div stays"),
    ("<p>Keep</p><script>var x = 1;</script><style>p {}</style><iframe src=x>frame</iframe>"
     "<noscript>no</noscript><template>t</template><svg><text>s</text></svg>", "Keep"),
    ("<p>AT&amp;T &lt;b&gt; caf&eacute; &#8212; x&nbsp;y &quot;q&quot;</p>",
     'AT&T <b> café — x y "q"'),
    ("<p>one<br>two<br/>three</p>", "one two three"),
    ("<div>intro<p>para</p>tail<ul><li>a</li><li>b</li></ul></div>",
     "intro\n\npara\n\ntail\n\na\n\nb"),
    ("<h2>Head</h2><blockquote>Quote</blockquote><table><tr><td>a</td><td>b</td></tr></table>",
     "Head\n\nQuote\n\na b"),
    ("<p>  many\n\t spaces\u00a0 here </p>", "many spaces here"),
    ("<p></p><p> </p><div><span></span></div><p>x</p>", "x"),
    ("<p>a<!-- a comment --><b>b</b><i>c</i></p>", "abc"),
    ('<?xml version="1.0"?><p>xml declared</p>', "xml declared"),
    ("<?xml<p>broken declaration</p>", "broken declaration"),
    ("<p><em>Also:</em> <a href='x'>a story</a></p>", "Also: a story"),
    ("<html><head><title>T</title></head><body><p>Doc</p></body></html>", "Doc"),
])
def test_html_to_text(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


def test_plain_text_body_is_split_on_blank_lines() -> None:
    text = "First line\nstill first.\n\n\n  Second   para.  \n \nThird &amp; last"
    assert html_to_text(text) == "First line still first.\n\nSecond para.\n\nThird & last"
    assert html_to_text("a < b and c > d") == "a < b and c > d"
    assert html_to_text("") == ""


def test_legitimate_unicode_is_left_alone() -> None:
    text = "Ｆｕｌｌ，width ﬁne Ελληνικά 中文。 naïve"
    assert html_to_text(f"<p>{text}</p>") == text


def test_deeply_nested_inline_html_inside_a_paragraph_does_not_raise() -> None:
    depth = 100_000
    html = "<p>" + "<span>" * depth + "<a href='x'>promo</a>" + "</span>" * depth + "</p>"
    assert html_to_text(html + "<p>kept</p>") == "kept"


def test_recursion_error_falls_back_to_stripping_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    def overflow(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(htmltext, "BeautifulSoup", overflow)
    assert html_to_text("<div><p>a &amp; b</p>c</div>\n\n<p>d</p>") == "a & b c\n\nd"


def test_mojibake_is_repaired_and_curly_quotes_kept() -> None:
    assert html_to_text("<p>one â€” two, itâ€™s</p>") == "one — two, it’s"
    assert html_to_text("<p>“Quoted” and ‘single’</p>") == "“Quoted” and ‘single’"


def test_one_line_fields_lose_escapes_and_extra_space_and_get_repaired() -> None:
    assert clean_inline("  Itâ€™s\x1b[31m  red\n\tnow ") == "It’s red now"
    assert plain(" https://x.example/a\x1b[2J?b=1\x00 ") == "https://x.example/a?b=1"


def test_one_lxml_parser_serves_page_after_page_with_the_same_text() -> None:
    """The builder and its lxml parser are reused (lxml inspects a new one's methods each time)."""
    pages = ["<p>Unclosed <b>bold <i>and italic", "<table><tr><td>cell", "<p>one</p><p>two</p>",
             "<html><body><div>tail", "plain words, no tags"]
    alone = [html_to_text(page) for page in pages]
    parsers = list(htmltext._builder()._parsers.values())
    for _ in range(3):  # nothing a page leaves unclosed reaches the next one
        assert [html_to_text(page) for page in reversed(pages)] == list(reversed(alone))
    assert alone[:4] == ["Unclosed bold and italic", "cell", "one\n\ntwo", "tail"]
    assert list(htmltext._builder()._parsers.values()) == parsers and len(parsers) == 1


def test_a_page_that_fails_half_way_leaves_the_next_page_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fail_once(self: object, *args: object, **kwargs: object) -> None:
        calls.append(args)
        if len(calls) == 1:
            raise RecursionError("maximum recursion depth exceeded")
        original(self, *args, **kwargs)

    original = htmltext.BeautifulSoup.handle_starttag
    monkeypatch.setattr(htmltext.BeautifulSoup, "handle_starttag", fail_once)
    assert html_to_text("<div><p>first</p></div>") == "first"  # the tag-stripping fallback
    assert html_to_text("<p>second <b>page</b></p>") == "second page"
    assert len(calls) > 1
