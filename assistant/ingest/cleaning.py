"""Turn the documents' HTML fragments and Markdown into readable, quotable text.

The cleaned text is what users read, what answers quote verbatim and what gold
evidence is checked against, so every loader goes through these functions.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

REDACTED = "[REDACTED]"
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_LIST_MARKER = re.compile(r"^(?:[-•–](?:\s+|$)|•)")
_SPACES = re.compile(r"[ \t\u00a0\u2009\u202f]+")
_BLOCK_TAGS = {"p", "div", "br", "ul", "ol", "table", "tr", "td", "h1", "h2", "h3", "h4"}


def collapse_spaces(text: str) -> str:
    """Collapse runs of spaces and tabs into one space and strip the ends."""
    return _SPACES.sub(" ", text).strip()


class _FragmentToLines(HTMLParser):
    """Walks an HTML fragment and emits one line per paragraph or list item."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._buffer: list[str] = []
        self._prefix = ""
        self._list_depth = 0
        self._in_sup = False

    def _flush(self) -> None:
        text = collapse_spaces("".join(self._buffer))
        if self._prefix:
            text = collapse_spaces(_LIST_MARKER.sub("", text))
        if text:
            self.lines.append(self._prefix + text)
        self._buffer = []
        self._prefix = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("ul", "ol"):
            self._flush()
            self._list_depth += 1
        elif tag == "li":
            self._flush()
            self._prefix = "  " * max(self._list_depth - 1, 0) + "- "
        elif tag == "sup":
            self._in_sup = True
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol"):
            self._flush()
            self._list_depth = max(self._list_depth - 1, 0)
        elif tag == "li":
            self._flush()
        elif tag == "sup":
            self._in_sup = False
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_sup:
            data = data.strip().translate(_SUPERSCRIPT)
        # A bullet typed as text ("• item • item") inside a list item starts a new item.
        if self._list_depth and "•" in data:
            pieces = data.split("•")
            self._buffer.append(pieces[0])
            for piece in pieces[1:]:
                self._flush()
                self._prefix = "  " * max(self._list_depth - 1, 0) + "- "
                self._buffer.append(piece)
            return
        self._buffer.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_to_lines(fragment: str) -> list[str]:
    """Readable lines from an HTML fragment: list items as "- " lines, no tags."""
    parser = _FragmentToLines()
    parser.feed(fragment)
    parser.close()
    return parser.lines


def html_to_text(fragment: str) -> str:
    return "\n".join(html_to_lines(fragment))


_MD_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)")  # one level of parentheses in the target
_MD_EMPHASIS = re.compile(r"\*+")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")


def markdown_to_text(line: str) -> str:
    """Plain text of one Markdown line: links to their text, emphasis and escapes removed."""
    text = _MD_LINK.sub(r"\1", line)
    text = _MD_ESCAPE.sub(r"\1", text)
    text = _MD_EMPHASIS.sub("", text)
    return collapse_spaces(html.unescape(text))


def strip_list_marker(line: str) -> str:
    return _LIST_MARKER.sub("", line.strip())
