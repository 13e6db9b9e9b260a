"""Turning text plus parse_mode into Telegram's plain text and entities.

The parsers follow TDLib (the library behind the Bot API server) closely enough
that a message Telegram would refuse is refused here with the same wording, and
the entities a bot receives back have the same UTF-16 offsets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]

# TDLib treats exactly these as whitespace when scanning tags.
_TAG_SPACES = " \t\r\n\v\f"

_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip

_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}

_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

# Characters MarkdownV2 reserves; each must be escaped with a backslash outside entities.
_MARKDOWN_V2_RESERVED = "_*[]()~`>#+-=|{}.!"


class EntityParseError(ValueError):
    """The text does not parse in its parse_mode; str() is TDLib's reason."""


@dataclass
class FormattedText:
    """Text as Telegram stores it: plain characters plus entities with UTF-16 offsets."""

    text: str
    entities: list[JSONDict] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's length limits and offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_formatted(
    text: str, parse_mode: str | None, entities: list[JSONDict] | None = None
) -> FormattedText:
    """Parse text per parse_mode (explicit entities win, as in the Bot API) and trim it."""
    if entities is not None:
        parsed = FormattedText(text, [dict(e) for e in entities])
    elif parse_mode is None or parse_mode == "":
        parsed = FormattedText(text, [])
    else:
        mode = parse_mode.lower()
        if mode == "html":
            parsed = _HtmlParser(text).parse()
        elif mode == "markdownv2":
            parsed = _MarkdownV2Parser(text).parse()
        elif mode == "markdown":
            parsed = _parse_markdown_v1(text)
        else:
            raise EntityParseError(f"Unsupported parse_mode {parse_mode!r}")
    return _trim(parsed)


def _trim(parsed: FormattedText) -> FormattedText:
    """Drop leading/trailing whitespace as Telegram does, moving entities along."""
    stripped = parsed.text.strip()
    if stripped == parsed.text:
        return parsed
    lead = utf16_len(parsed.text[: len(parsed.text) - len(parsed.text.lstrip())])
    new_len = utf16_len(stripped)
    entities: list[JSONDict] = []
    for entity in parsed.entities:
        start = max(0, int(entity["offset"]) - lead)
        end = min(new_len, int(entity["offset"]) + int(entity["length"]) - lead)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(stripped, entities)


def _sorted(entities: list[JSONDict]) -> list[JSONDict]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _byte_offset(text: str, index: int) -> int:
    """TDLib reports positions in UTF-8 bytes of the original text."""
    return len(text[:index].encode("utf-8"))


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode &lt; &gt; &amp; &quot; &#N; &#xN; at pos; others stay literal like in TDLib."""
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        base = 10
        if end < n and text[end] == "x":
            base = 16
            end += 1
        digits = "0123456789abcdefABCDEF" if base == 16 else "0123456789"
        code = 0
        while end < n and text[end] in digits:
            code = code * base + int(text[end], base)
            end += 1
            if code >= 0x10FFFF:
                return None
        if code == 0 or 0xD800 <= code <= 0xDFFF:
            return None
        char = chr(code)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED_HTML_ENTITIES.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and text[end] == ";":
        end += 1
    return char, end


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int
    expandable: bool = False
    language: str = ""


class _HtmlParser:
    """A port of TDLib's parse_html: a small tag set, strict nesting, four named entities."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0
        self.out: list[str] = []
        self.offset = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JSONDict] = []

    def _at(self, index: int) -> str:
        return self.text[index] if index < self.n else ""

    def _error(self, reason: str, index: int) -> EntityParseError:
        return EntityParseError(f"{reason} at byte offset {_byte_offset(self.text, index)}")

    def _skip_spaces(self) -> None:
        while self.i < self.n and self.text[self.i] in _TAG_SPACES:
            self.i += 1

    def _emit(self, chars: str) -> None:
        self.out.append(chars)
        self.offset += utf16_len(chars)

    def parse(self) -> FormattedText:
        while self.i < self.n:
            char = self.text[self.i]
            if char == "&":
                decoded = _decode_html_entity(self.text, self.i)
                if decoded is not None:
                    self._emit(decoded[0])
                    self.i = decoded[1]
                    continue
            if char != "<":
                self._emit(char)
                self.i += 1
                continue
            begin = self.i
            self.i += 1
            if self._at(self.i) == "/":
                self._end_tag(begin)
            else:
                self._start_tag(begin)
        if self.stack:
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        return FormattedText("".join(self.out), _sorted(self.entities))

    def _start_tag(self, begin: int) -> None:
        text = self.text
        name_start = self.i
        while self.i < self.n and text[self.i] not in _TAG_SPACES and text[self.i] != ">":
            self.i += 1
        if self.i >= self.n:
            raise self._error("Unclosed start tag", begin)
        name = text[name_start : self.i].lower()
        if name not in _HTML_TAGS:
            raise self._error(f'Unsupported start tag "{name}"', begin)
        tag = _OpenTag(name, "", self.offset)
        while self._at(self.i) != ">":
            self._skip_spaces()
            if self.i >= self.n:
                raise self._error("Unclosed start tag", begin)
            if text[self.i] == ">":
                break
            attr_start = self.i
            while self.i < self.n and text[self.i] not in _TAG_SPACES and text[self.i] not in "=>":
                self.i += 1
            attribute = text[attr_start : self.i].lower()
            if not attribute:
                raise self._error(f'Empty attribute name in the tag "{name}"', begin)
            self._skip_spaces()
            if self._at(self.i) != "=":
                if self.i >= self.n:
                    raise self._error("Unclosed start tag", begin)
                if name == "blockquote" and attribute == "expandable":
                    tag.expandable = True
                continue
            self.i += 1
            self._skip_spaces()
            if self.i >= self.n:
                raise self._error("Unclosed start tag", begin)
            value = self._attribute_value(begin)
            if name == "a" and attribute == "href":
                tag.argument = value
            elif name == "code" and attribute == "class" and value.startswith("language-"):
                tag.argument = value.removeprefix("language-")
            elif name == "span" and attribute == "class" and value.startswith("tg-"):
                tag.argument = value.removeprefix("tg-")
            elif name == "tg-emoji" and attribute == "emoji-id":
                tag.argument = value
        if name == "span" and tag.argument != "spoiler":
            raise self._error('Tag "span" must have class "tg-spoiler"', begin)
        self.i += 1  # the closing ">"
        self.stack.append(tag)

    def _attribute_value(self, begin: int) -> str:
        text = self.text
        if text[self.i] not in "'\"":
            # An unquoted name token: letters, digits, periods and hyphens.
            token_start = self.i
            while self.i < self.n and (
                (text[self.i].isascii() and text[self.i].isalnum()) or text[self.i] in ".-"
            ):
                self.i += 1
            if self.i >= self.n:
                raise self._error("Unclosed start tag", begin)
            if text[self.i] not in _TAG_SPACES and text[self.i] != ">":
                raise self._error("Unexpected end of name token", token_start)
            return text[token_start : self.i].lower()
        quote = text[self.i]
        self.i += 1
        chars: list[str] = []
        while self.i < self.n and text[self.i] != quote:
            if text[self.i] == "&":
                decoded = _decode_html_entity(text, self.i)
                if decoded is not None:
                    chars.append(decoded[0])
                    self.i = decoded[1]
                    continue
            chars.append(text[self.i])
            self.i += 1
        if self._at(self.i) == quote:
            self.i += 1
        if self.i >= self.n:
            raise self._error("Unclosed start tag", begin)
        return "".join(chars)

    def _end_tag(self, begin: int) -> None:
        text = self.text
        if not self.stack:
            raise self._error("Unexpected end tag", begin)
        self.i += 1
        name_start = self.i
        while self.i < self.n and text[self.i] not in _TAG_SPACES and text[self.i] != ">":
            self.i += 1
        if self.i >= self.n:
            raise self._error("Unclosed end tag", begin)
        end_name = text[name_start : self.i].lower()
        self._skip_spaces()
        if self._at(self.i) != ">":
            raise self._error("Unclosed end tag", begin)
        self.i += 1
        tag = self.stack[-1]
        if end_name and end_name != tag.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{tag.name}>", found "</{end_name}>"'
            )
        self.stack.pop()
        self._close(tag)

    def _close(self, tag: _OpenTag) -> None:
        length = self.offset - tag.offset
        if tag.name == "code" and tag.argument and self.stack and self.stack[-1].name == "pre":
            # <pre><code class="language-x"> is one pre entity with a language.
            self.stack[-1].language = tag.argument
            return
        if length <= 0:
            return
        entity: JSONDict = {"offset": tag.offset, "length": length}
        if tag.name == "a":
            if not tag.argument:
                return
            entity.update(type="text_link", url=tag.argument)
        elif tag.name == "tg-emoji":
            if not tag.argument:
                return
            entity.update(type="custom_emoji", custom_emoji_id=tag.argument)
        elif tag.name == "blockquote" and tag.expandable:
            entity["type"] = "expandable_blockquote"
        else:
            entity["type"] = _HTML_ENTITY_TYPES[tag.name]
        if tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        self.entities.append(entity)


@dataclass
class _OpenMarkup:
    kind: str
    begin: int
    offset: int
    out_index: int
    language: str = ""


class _MarkdownV2Parser:
    """A port of TDLib's parse_markdown_v2: every reserved character must be escaped."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0
        self.out: list[str] = []
        self.offset = 0
        self.stack: list[_OpenMarkup] = []
        self.entities: list[JSONDict] = []
        self.quote_offset: int | None = None

    def _at(self, index: int) -> str:
        return self.text[index] if 0 <= index < self.n else ""

    def _emit(self, chars: str) -> None:
        self.out.append(chars)
        self.offset += utf16_len(chars)

    def _is_end(self, kind: str) -> bool:
        text, i = self.text, self.i
        char = text[i]
        return {
            "bold": char == "*",
            "italic": char == "_" and self._at(i + 1) != "_",
            "underline": text.startswith("__", i),
            "strikethrough": char == "~",
            "spoiler": text.startswith("||", i),
            "code": char == "`",
            "pre": text.startswith("```", i),
            "text_link": char == "]",
            "custom_emoji": char == "]",
        }[kind]

    def parse(self) -> FormattedText:
        text = self.text
        while self.i < self.n:
            char = text[self.i]
            if char == "\\" and 0 < ord(self._at(self.i + 1) or "\0") <= 126:
                self._emit(text[self.i + 1])
                self.i += 2
                continue
            in_code = bool(self.stack) and self.stack[-1].kind in ("code", "pre")
            if char == ">" and not in_code and (self.i == 0 or text[self.i - 1] == "\n"):
                if self.quote_offset is None:
                    self.quote_offset = self.offset
                self.i += 1
                continue
            if char not in ("`" if in_code else _MARKDOWN_V2_RESERVED):
                self._plain(char)
                continue
            if self.stack and self._is_end(self.stack[-1].kind):
                self._close(self.stack.pop())
            else:
                self._open(char)
        if self.stack:
            begin = _byte_offset(text, self.stack[-1].begin)
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
        self._close_quote(self.offset)
        return FormattedText("".join(self.out), _sorted(self.entities))

    def _plain(self, char: str) -> None:
        if char == "\n" and self.quote_offset is not None and self._at(self.i + 1) != ">":
            self._close_quote(self.offset)
        self._emit(char)
        self.i += 1

    def _close_quote(self, end: int) -> None:
        if self.quote_offset is not None and end > self.quote_offset:
            self.entities.append(
                {
                    "type": "blockquote",
                    "offset": self.quote_offset,
                    "length": end - self.quote_offset,
                }
            )
        self.quote_offset = None

    def _open(self, char: str) -> None:
        text, begin = self.text, self.i
        language = ""
        if char == "_" and self._at(begin + 1) == "_":
            kind, width = "underline", 2
        elif char == "_":
            kind, width = "italic", 1
        elif char == "*":
            kind, width = "bold", 1
        elif char == "~":
            kind, width = "strikethrough", 1
        elif char == "|" and self._at(begin + 1) == "|":
            kind, width = "spoiler", 2
        elif char == "[":
            kind, width = "text_link", 1
        elif char == "!" and self._at(begin + 1) == "[":
            kind, width = "custom_emoji", 2
        elif char == "`" and text.startswith("```", begin):
            kind, width = "pre", 3
            line_end = text.find("\n", begin + 3)
            first_line = text[begin + 3 : line_end] if line_end != -1 else ""
            if line_end != -1 and first_line and not any(c in first_line for c in " `\t"):
                language, width = first_line, line_end + 1 - begin
        elif char == "`":
            kind, width = "code", 1
        else:
            raise EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        self.i += width
        self.stack.append(_OpenMarkup(kind, begin, self.offset, len(self.out), language))

    def _close(self, markup: _OpenMarkup) -> None:
        entity: JSONDict = {"type": markup.kind, "offset": markup.offset}
        if markup.kind in ("text_link", "custom_emoji"):
            self.i += 1
            target = "".join(self.out[markup.out_index :])
            if self._at(self.i) == "(":
                target = self._url()
            if markup.kind == "text_link":
                entity["url"] = target
            else:
                entity["custom_emoji_id"] = target.removeprefix("tg://emoji?id=")
        else:
            self.i += {"pre": 3, "underline": 2, "spoiler": 2}.get(markup.kind, 1)
        if markup.language:
            entity["language"] = markup.language
        entity["length"] = self.offset - markup.offset
        if entity["length"] > 0:
            self.entities.append(entity)

    def _url(self) -> str:
        start = self.i
        self.i += 1
        chars: list[str] = []
        while self.i < self.n and self.text[self.i] != ")":
            if self.text[self.i] == "\\" and self.i + 1 < self.n:
                self.i += 1
            chars.append(self.text[self.i])
            self.i += 1
        if self.i >= self.n:
            begin = _byte_offset(self.text, start)
            raise EntityParseError(f"Can't find end of a url at byte offset {begin}")
        self.i += 1
        return "".join(chars)


def _parse_markdown_v1(text: str) -> FormattedText:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out: list[str] = []
    entities: list[JSONDict] = []
    offset = 0
    i, n = 0, len(text)
    markers = {"*": "bold", "_": "italic", "`": "code", "[": "text_link"}
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            offset += 1
            i += 2
            continue
        if char not in markers:
            out.append(char)
            offset += utf16_len(char)
            i += 1
            continue
        begin = i
        kind = markers[char]
        closer = "]" if char == "[" else char
        if text.startswith("```", i):
            kind, closer = "pre", "```"
        start = i + len(closer) if kind == "pre" else i + 1
        end = text.find(closer, start)
        if end == -1:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        inner = text[start:end]
        i = end + len(closer)
        entity: JSONDict = {"type": kind, "offset": offset, "length": utf16_len(inner)}
        if kind == "text_link":
            url_end = text.find(")", i) if text.startswith("(", i) else -1
            if url_end == -1:
                out.append(inner)
                offset += utf16_len(inner)
                continue
            entity["url"] = text[i + 1 : url_end]
            i = url_end + 1
        out.append(inner)
        offset += utf16_len(inner)
        if entity["length"] > 0:
            entities.append(entity)
    return FormattedText("".join(out), _sorted(entities))
