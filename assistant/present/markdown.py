"""Safe Markdown: document text and questions shown exactly as written, with our own markup around.

Document text and questions come from people we do not control, yet passages must show the
cited sentences highlighted, which needs Markdown. So every character of such text goes
through `escape_markdown`, and the only Markdown the app ever emits is the markup written in
this module around escaped text.
"""

from __future__ import annotations

import re
import string
from typing import Iterable

# CommonMark lets any ASCII punctuation character be backslash-escaped, and an escaped
# character is always literal text. Escaping all of them, instead of a hand-picked list,
# also covers Streamlit's own syntax: :color[...] directives, :emoji: and
# :material/icon: shortcodes, and $LaTeX$.
_MARKDOWN_SPECIALS = frozenset(string.punctuation)
# Streamlit turns bare URLs and e-mail addresses into links after parsing, so escaping
# does not stop them. An invisible word joiner breaks the pattern it looks for.
WORD_JOINER = "\u2060"
_AUTOLINK_START = re.compile(r"(https?(?=:)|www(?=\.)|@(?=[-\w]))", re.IGNORECASE)
_MARKER = re.compile(r"\[(\d{1,3})\]")
_LEADING_SPACE = re.compile(r"^[ \t]+")
# Field labels at the start of a passage line (see chunking), shown in bold.
_FIELD_LABEL = re.compile(
    r"^(Lead actor\(s\)|Status|Way ahead|Comments|State of Play[^:\n]{0,40}|Progress|Footnotes):"
)
HIGHLIGHT_COLOR = "orange"


def escape_markdown(text: str) -> str:
    """Text that Streamlit's Markdown shows exactly as written: no HTML, links, images or markup."""
    text = _AUTOLINK_START.sub(lambda m: m.group(1) + WORD_JOINER, str(text))
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in text)


def escape_inline(text: str) -> str:
    """One line of escaped text, for labels and captions where a line break would end the markup."""
    return escape_markdown(" ".join(str(text).split()))


def _marked(text: str, opening: str, closing: str) -> str:
    """Escaped text between markers, its surrounding spaces kept outside them so the markers still close."""
    core = text.strip()
    if not core:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    tail = text[len(text.rstrip()):]
    return f"{lead}{opening}{escape_markdown(core)}{closing}{tail}"


def _highlighted(text: str) -> str:
    """Escaped text inside a coloured background, in bold.

    The directive's brackets are punctuation, so the `**` inside always open and close
    whatever the sentence starts or ends with.
    """
    return _marked(text, f":{HIGHLIGHT_COLOR}-background[**", "**]")


def highlight_spans(text: str, sentences: Iterable[str]) -> tuple[list[tuple[int, int]], list[str]]:
    """Where the cited sentences occur in the text (merged spans), and those not found verbatim."""
    spans: list[tuple[int, int]] = []
    missing: list[str] = []
    for sentence in sentences:
        sentence = sentence.strip()
        if not sentence:
            continue
        start = text.find(sentence)
        if start < 0:
            missing.append(sentence)
        while start >= 0:
            spans.append((start, start + len(sentence)))
            start = text.find(sentence, start + len(sentence))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged, missing


def _bold(text: str) -> str:
    return _marked(text, "**", "**")


def passage_markdown(text: str, sentences: Iterable[str] = (), title_line: bool = False) -> str:
    """A passage as Markdown: line breaks kept, field labels bold, cited sentences highlighted.

    With `title_line` the first line (an action's or annex item's heading) is bold too.
    """
    spans, _ = highlight_spans(text, sentences)
    lines: list[str] = []
    offset = 0
    for number, line in enumerate(text.split("\n")):
        start, end = offset, offset + len(line)
        offset = end + 1
        cuts = sorted({start, end, *(p for span in spans for p in span if start < p < end)})
        pieces: list[str] = []
        for a, b in zip(cuts, cuts[1:]):
            piece = text[a:b]
            if any(s <= a and b <= e for s, e in spans):
                pieces.append(_highlighted(piece))
            elif title_line and number == 0:
                pieces.append(_bold(piece))
            else:
                label = _FIELD_LABEL.match(piece) if a == start else None
                if label:
                    pieces.append(f"**{escape_markdown(label.group(0))}**")
                    piece = piece[label.end():]
                pieces.append(escape_markdown(piece))
        rendered = "".join(pieces)
        indent = _LEADING_SPACE.match(rendered)  # four spaces would start a code block
        if indent:
            rendered = "\u00a0" * len(indent.group(0).expandtabs(2)) + rendered[indent.end():]
        lines.append(rendered)
    return "  \n".join(lines)


def _with_markers(text: str) -> str:
    """Escaped text whose [n] citation markers become small badges."""
    parts = _MARKER.split(text)
    out = []
    for position, part in enumerate(parts):
        out.append(f":blue-badge[{part}]" if position % 2 else escape_markdown(part))
    return "".join(out)


def answer_markdown(text: str) -> str:
    """An answer's text as Markdown: document headings in bold, its lines as a list, markers as badges."""
    blocks: list[str] = []
    items: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(("- ", "* ", "• ")):
            items.append("- " + _with_markers(stripped[2:].strip()))
            continue
        if items:
            blocks.append("\n".join(items))
            items = []
        if stripped.endswith(":") and not _MARKER.search(stripped):
            blocks.append(f"**{escape_markdown(stripped)}**")
        else:
            blocks.append(_with_markers(stripped))
    if items:
        blocks.append("\n".join(items))
    return "\n\n".join(blocks)
