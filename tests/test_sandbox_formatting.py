"""Telegram's parse modes as the sandbox parses them: plain text, entities and exact errors."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sandbox.formatting import EntityParseError, parse_formatted, utf16_len
from bot.sandbox.media import image_size, make_png


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        ("<b>bold</b> rest", "bold rest", [{"type": "bold", "offset": 0, "length": 4}]),
        ("a &lt;b&gt; &amp; &quot;c&quot; &#65;&#x42;", 'a <b> & "c" AB', []),
        # TDLib leaves an ampersand that starts no known entity as it is.
        ("fish & chips &nbsp;", "fish & chips &nbsp;", []),
        (
            '<a href="https://example.com/?a=1&amp;b=2">link</a>',
            "link",
            [
                {
                    "type": "text_link",
                    "offset": 0,
                    "length": 4,
                    "url": "https://example.com/?a=1&b=2",
                }
            ],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [{"type": "pre", "offset": 0, "length": 5, "language": "python"}],
        ),
        (
            '<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">t</span>',
            "st",
            [
                {"type": "spoiler", "offset": 0, "length": 1},
                {"type": "spoiler", "offset": 1, "length": 1},
            ],
        ),
        ("😀<i>x</i>", "😀x", [{"type": "italic", "offset": 2, "length": 1}]),
        ("  <b> hi </b>\n", "hi", [{"type": "bold", "offset": 0, "length": 2}]),
        ("<B>caps</B>", "caps", [{"type": "bold", "offset": 0, "length": 4}]),
    ],
)
def test_html_parses_like_telegram(source: str, text: str, entities: list[dict[str, Any]]) -> None:
    parsed = parse_formatted(source, "HTML")
    assert (parsed.text, parsed.entities) == (text, entities)


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<x>", 'Unsupported start tag "x" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x>', "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("é<x>", 'Unsupported start tag "x" at byte offset 2'),
    ],
)
def test_broken_html_is_refused_with_tdlibs_words(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_formatted(source, "HTML")
    assert str(caught.value) == error


@pytest.mark.parametrize(
    ("source", "text", "types"),
    [
        ("*b* _i_ __u__ ~s~ ||sp|| `c`", "b i u s sp c", ["bold", "italic", "underline",
                                                      "strikethrough", "spoiler", "code"]),
        ("Price: 5\\.00 \\- ok\\!", "Price: 5.00 - ok!", []),
        ("[site](https://example.com)", "site", ["text_link"]),
        ("```python\nprint(1)\n```", "print(1)", ["pre"]),
        (">quoted\n>lines\nafter", "quoted\nlines\nafter", ["blockquote"]),
    ],
)  # fmt: skip
def test_markdown_v2_parses_like_telegram(source: str, text: str, types: list[str]) -> None:
    parsed = parse_formatted(source, "MarkdownV2")
    assert parsed.text == text
    assert [e["type"] for e in parsed.entities] == types


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("Done.", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("a-b", "Character '-' is reserved and must be escaped with the preceding '\\'"),
        ("*open", "Can't find end of the entity starting at byte offset 0"),
        ("x [a](http://b", "Can't find end of a url at byte offset 5"),
    ],
)
def test_markdown_v2_refuses_unescaped_characters(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_formatted(source, "MarkdownV2")
    assert str(caught.value) == error


def test_legacy_markdown() -> None:
    parsed = parse_formatted("*bold* and [link](http://x.y)", "Markdown")
    assert parsed.text == "bold and link"
    assert [e["type"] for e in parsed.entities] == ["bold", "text_link"]
    with pytest.raises(EntityParseError, match="byte offset 0"):
        parse_formatted("_open", "Markdown")


def test_explicit_entities_win_over_parse_mode() -> None:
    entities = [{"type": "bold", "offset": 0, "length": 3}]
    parsed = parse_formatted("<b>", "HTML", entities)
    assert (parsed.text, parsed.entities) == ("<b>", entities)


@pytest.mark.parametrize(("text", "units"), [("abc", 3), ("😀", 2), ("é", 1), ("", 0)])
def test_length_counts_utf16_code_units(text: str, units: int) -> None:
    assert utf16_len(text) == units


def test_generated_png_reports_its_size() -> None:
    assert image_size(make_png(33, 21)) == (33, 21)
    assert image_size(b"not an image") is None


def test_jpeg_size_comes_from_the_frame_header() -> None:
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0\x00\x11\x08" + (240).to_bytes(2, "big") + (320).to_bytes(2, "big")
    assert image_size(b"\xff\xd8" + app0 + sof0 + bytes(12)) == (320, 240)
