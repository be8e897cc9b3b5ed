"""The question and what comes with it: one `Query` from the CLI or the app to the engine.

The question is cleaned here and nowhere else (`clean_question`): control characters dropped,
right-to-left and mixed scripts kept as typed, HTML or Markdown treated as text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from assistant.errors import AssistantError
from assistant.search.filters import Filters

MAX_QUESTION_CHARS = 2000


def clean_question(raw: object) -> str:
    """The question as text, or one sentence saying why it cannot be asked.

    Control characters are dropped (newlines and tabs become spaces); right-to-left and
    mixed scripts are kept as typed; HTML or Markdown is just text here.
    """
    if not isinstance(raw, str):
        raise AssistantError("The question must be text.")
    text = "".join(
        " " if ch in "\t\n\r\x0b\x0c" else ch
        for ch in raw
        if ch in "\t\n\r\x0b\x0c" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
    )
    text = " ".join(text.split())
    if not any(unicodedata.category(ch) not in ("Zs", "Cf") for ch in text):  # nothing visible: spaces, zero-width marks
        raise AssistantError("The question is empty; type a question about the documents.")
    if len(text) > MAX_QUESTION_CHARS:
        raise AssistantError(
            f"The question is {len(text):,} characters long; keep it under {MAX_QUESTION_CHARS:,} characters."
        )
    return text


_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]{0,300})\]\([^)]{0,500}\)")


def without_markup(text: str) -> str:
    """The words of a question typed with HTML tags or Markdown links: what it asks, for searching and reading.

    The question itself is kept as typed (it is shown and echoed as text); only what is searched loses the markup.
    """
    stripped = _MARKDOWN_LINK.sub(r"\1", _TAG.sub(" ", text))
    stripped = " ".join(stripped.split())
    return stripped or text


@dataclass(frozen=True)
class Query:
    """One request to search or answer: the question and how to look for it.

    `None` means "as the settings say". `context` holds the earlier turns of a conversation,
    oldest first, for questions that lean on them ("and Greece?").
    """

    question: str
    filters: Filters = field(default_factory=Filters)
    mode: str | None = None  # dense, bm25 or hybrid
    passages: int | None = None  # retrieved units an answer may quote from
    k: int | None = None  # results a search returns
    context: tuple[str, ...] = ()
