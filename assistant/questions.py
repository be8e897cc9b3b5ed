"""Question input rules shared by search, ask, the batch files and the app."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError

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


@dataclass
class BatchItem:
    line_no: int
    raw: object  # the question as found in the file, before cleaning


def read_batch(path: Path) -> list[BatchItem]:
    """One question per line, or JSON Lines with a "question" field; blank lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AssistantError(f"The batch file {path} does not exist.") from None
    except UnicodeDecodeError:
        raise AssistantError(f"The batch file {path} is not UTF-8 text.") from None
    except IsADirectoryError:
        raise AssistantError(f"The batch file {path} is a folder, not a file.") from None
    items: list[BatchItem] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        stripped = line.strip()
        if stripped.startswith("{"):
            try:
                record = json.loads(stripped)
            except json.JSONDecodeError:
                raise AssistantError(f"Line {line_no} of {path.name} starts like JSON but is not valid JSON.") from None
            if not isinstance(record, dict) or "question" not in record:
                raise AssistantError(f"Line {line_no} of {path.name} has no \"question\" field.")
            items.append(BatchItem(line_no, record["question"]))
        else:
            items.append(BatchItem(line_no, line))
    return items
